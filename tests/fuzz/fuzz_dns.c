/* FUZZ_SRC: src/dns_wire.c */
/* fuzz_dns.c -- libFuzzer target for src/dns_wire.c.
 * The input is decoded as a DNS response.  When that succeeds, every name
 * handed out must be bounded, lower-case host-name text, the record count
 * at most DNS_MAX_RR, A/AAAA/CNAME only; and the question name must encode
 * again as a query which, read back as an answer, gives the same name.
 * The input is also tried, as a C string, as a name to encode. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns_wire.h"

static void check_text(const char *s, int may_be_empty)
{
    size_t n = strnlen(s, DNS_MAX_TEXT + 1);
    if (n > DNS_MAX_TEXT - 1) abort();          /* wire <= 255: text <= 253 */
    if (n == 0 && !may_be_empty) abort();
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '_' || c == '.'))
            abort();
        if (c == '.' && (i == 0 || i == n - 1 || s[i + 1] == '.')) abort();
    }
}

/* Encode name as a query, turn it into an answer, decode: same name. */
static void round_trip(const char *name, uint16_t qtype)
{
    uint8_t q[512];
    dns_msg m;
    int n = dns_encode_query(q, sizeof q, 0x5a5a, name, qtype, 1);
    if (n < 0) {
        if (n != DNS_ERR_NAME) abort();
        return;
    }
    if (n > (int)sizeof q) abort();
    q[2] |= 0x80;
    if (dns_decode(q, (size_t)n, &m) != 0) abort();
    if (m.id != 0x5a5a || m.qtype != qtype || m.nrr != 0) abort();
    if (!dns_name_eq(m.qname, name)) abort();
    /* Every smaller buffer is refused cleanly. */
    if (dns_encode_query(q, (size_t)n - 1, 1, name, qtype, 1) !=
        DNS_ERR_SPACE)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static dns_msg m;
    int rc = dns_decode(data, size, &m);
    if (rc != 0) {
        if (rc != DNS_ERR_SHORT && rc != DNS_ERR_NAME && rc != DNS_ERR_FORMAT)
            abort();
        if (m.nrr != 0 || m.has_soa || m.qname[0]) abort();
    } else {
        if (m.rcode < 0 || m.rcode > 15 || m.nrr > DNS_MAX_RR) abort();
        check_text(m.qname, 1);
        if (m.tc && m.nrr) abort();
        for (size_t i = 0; i < m.nrr; i++) {
            const dns_rr *r = &m.rr[i];
            check_text(r->name, 1);
            if (r->ttl > 0x7fffffffu) abort();
            if (r->type == DNS_TYPE_CNAME)
                check_text(r->u.cname, 1);
            else if (r->type != DNS_TYPE_A && r->type != DNS_TYPE_AAAA)
                abort();
        }
        if (m.neg_ttl > 0x7fffffffu || (!m.has_soa && m.neg_ttl)) abort();
        /* The question encodes again (the root, "", is a question the
         * encoder refuses by contract). */
        if (m.qname[0]) {
            char name[DNS_MAX_TEXT + 1];
            memcpy(name, m.qname, sizeof name);
            uint8_t q[512];
            if (dns_encode_query(q, sizeof q, m.id, name, m.qtype, 1) <= 0)
                abort();
            round_trip(name, m.qtype);
        }
    }

    /* The input as a name to encode. */
    if (size <= 300) {
        char name[301];
        memcpy(name, data, size);
        name[size] = '\0';
        round_trip(name, DNS_TYPE_AAAA);
    }
    return 0;
}
