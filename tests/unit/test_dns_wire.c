/* test_dns_wire.c -- DNS query encoder and response decoder (src/dns_wire.c):
 * good answers, then every attack of SECURITY.md G.37-G.39 and RFC 9267.
 * Every decode runs on an exact-size heap copy of the message, so ASan sees
 * a read one byte past the end. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns_wire.h"
#include "t.h"

/* ---- a message builder ---- */

static uint8_t M[70000];
static size_t ML;

static void b_reset(void) { ML = 0; }
static void b_u8(unsigned v) { M[ML++] = (uint8_t)v; }
static void b_u16(unsigned v) { b_u8(v >> 8); b_u8(v & 0xff); }
static void b_u32(uint32_t v) { b_u16(v >> 16); b_u16(v & 0xffff); }
static void b_raw(const void *p, size_t n) { memcpy(M + ML, p, n); ML += n; }

static void b_hdr(unsigned id, unsigned flags, unsigned qd, unsigned an,
                  unsigned ns, unsigned ar)
{
    b_u16(id); b_u16(flags); b_u16(qd); b_u16(an); b_u16(ns); b_u16(ar);
}

/* Labels of a dotted name; when term, the root byte follows. */
static void b_labels(const char *s, int term)
{
    while (*s) {
        const char *d = strchr(s, '.');
        size_t n = d ? (size_t)(d - s) : strlen(s);
        b_u8((unsigned)n);
        b_raw(s, n);
        s += n;
        if (*s == '.') s++;
    }
    if (term) b_u8(0);
}
static void b_name(const char *s) { b_labels(s, 1); }
static void b_ptr(unsigned off) { b_u16(0xc000 | off); }

/* Header of a response (QR=1 RD=1 RA=1) + question; the question name is
 * at offset 12. */
#define RESP 0x8180
static void b_start(unsigned flags, unsigned an, unsigned ns,
                    const char *q, unsigned qtype)
{
    b_reset();
    b_hdr(0x1234, flags, 1, an, ns, 0);
    b_name(q);
    b_u16(qtype);
    b_u16(1);
}

/* type, class IN, ttl, rdlength (after the owner) */
static void b_rrh(unsigned type, uint32_t ttl, unsigned rdlen)
{
    b_u16(type); b_u16(1); b_u32(ttl); b_u16(rdlen);
}
static void b_a(unsigned owner, uint32_t ttl, unsigned a, unsigned b,
                unsigned c, unsigned d)
{
    b_ptr(owner); b_rrh(1, ttl, 4); b_u8(a); b_u8(b); b_u8(c); b_u8(d);
}
static void b_soa(unsigned owner, uint32_t ttl, uint32_t minimum)
{
    b_ptr(owner);
    size_t at = ML;
    b_rrh(6, ttl, 0);
    size_t rd = ML;
    b_labels("ns1", 0); b_ptr(owner);
    b_labels("hostmaster", 0); b_ptr(owner);
    b_u32(2024010101); b_u32(7200); b_u32(3600); b_u32(1209600);
    b_u32(minimum);
    M[at + 8] = (uint8_t)((ML - rd) >> 8);
    M[at + 9] = (uint8_t)(ML - rd);
}
static void b_set16(size_t at, unsigned v)
{
    M[at] = (uint8_t)(v >> 8); M[at + 1] = (uint8_t)v;
}

/* ---- decoding on exact-size copies ---- */

static dns_msg D;

static int dec(const uint8_t *p, size_t n)
{
    uint8_t *c = malloc(n ? n : 1);
    if (n) memcpy(c, p, n);
    int rc = dns_decode(c, n, &D);
    free(c);
    return rc;
}
static int decM(void) { return dec(M, ML); }

/* Every proper prefix of a good message, cut anywhere before `upto`, must
 * fail; the whole must succeed. */
static void check_truncations(const char *what, size_t upto)
{
    static uint8_t copy[70000];
    size_t n = ML, bad = 0;
    memcpy(copy, M, n);
    for (size_t cut = 0; cut < upto && cut < n; cut++) {
        int rc = dec(copy, cut);
        if (rc == 0 || D.nrr != 0) bad++;
    }
    CHECK_MSG(bad == 0, "%s: %zu truncations accepted", what, bad);
    CHECK_MSG(dec(copy, n) == 0, "%s: whole message refused", what);
}

/* ---- encoder ---- */

static void test_encode(void)
{
    uint8_t q[600];
    static const uint8_t want[] = {
        0xbe, 0xef, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 1,
        7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0,
        0, 1, 0, 1,
        0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0 };
    int n = dns_encode_query(q, sizeof q, 0xbeef, "example.com", 1, 1);
    CHECK(n == (int)sizeof want);
    CHECK(n > 0 && memcmp(q, want, sizeof want) == 0);

    /* Without EDNS: ARCOUNT 0, no OPT; trailing dot the same bytes. */
    n = dns_encode_query(q, sizeof q, 0xbeef, "example.com.", 28, 0);
    CHECK(n == 29);
    CHECK(q[11] == 0 && q[26] == 28 && q[25] == 0);
    CHECK(memcmp(q + 12, want + 12, 13) == 0);

    /* Case is preserved (0x20 randomisation is the caller's). */
    n = dns_encode_query(q, sizeof q, 1, "ExAmPle.COM", 1, 0);
    CHECK(n == 29 && memcmp(q + 13, "ExAmPle", 7) == 0);

    /* '_' and '-' are host bytes; one-letter labels. */
    CHECK(dns_encode_query(q, sizeof q, 1, "_sip._tcp.a-b.c", 33, 1) > 0);
    CHECK(dns_encode_query(q, sizeof q, 1, "a", 1, 0) == 12 + 3 + 4);

    /* Bad names. */
    const char *bad[] = { "", ".", "..", "a..b", ".a", "a.b..", "a b",
                          "a/b", "a\\.b", "a\nb", "caf\xc3\xa9", "a*b",
                          "a\001b", "a\x7f" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK_MSG(dns_encode_query(q, sizeof q, 1, bad[i], 1, 1) ==
                  DNS_ERR_NAME, "name #%zu", i);
    CHECK(dns_encode_query(q, sizeof q, 1, NULL, 1, 1) == DNS_ERR_NAME);

    /* Label lengths: 63 is fine, 64 is not. */
    char lab[80];
    memset(lab, 'x', 63); lab[63] = '\0';
    CHECK(dns_encode_query(q, sizeof q, 1, lab, 1, 0) == 12 + 65 + 4);
    memset(lab, 'x', 64); lab[64] = '\0';
    CHECK(dns_encode_query(q, sizeof q, 1, lab, 1, 0) == DNS_ERR_NAME);

    /* Total wire length: 255 fits (253 text bytes), 256 does not. */
    char nm[300];
    memset(nm, 'a', sizeof nm);
    nm[63] = nm[127] = nm[191] = '.';
    nm[253] = '\0';                          /* 63.63.63.61 -> wire 255 */
    n = dns_encode_query(q, sizeof q, 1, nm, 1, 0);
    CHECK(n == 12 + 255 + 4);
    nm[253] = '.'; nm[254] = '\0';           /* same with a final dot */
    CHECK(dns_encode_query(q, sizeof q, 1, nm, 1, 0) == 12 + 255 + 4);
    nm[253] = 'a'; nm[254] = '\0';           /* 63.63.63.62 -> wire 256 */
    CHECK(dns_encode_query(q, sizeof q, 1, nm, 1, 0) == DNS_ERR_NAME);

    /* Space: every cap below the need fails, the exact need works. */
    int need = dns_encode_query(q, sizeof q, 7, "www.example.org", 1, 1);
    int bad_space = 0;
    for (int cap = 0; cap < need; cap++)
        if (dns_encode_query(q, (size_t)cap, 7, "www.example.org", 1, 1) !=
            DNS_ERR_SPACE)
            bad_space++;
    CHECK(bad_space == 0);
    CHECK(dns_encode_query(q, (size_t)need, 7, "www.example.org", 1, 1) ==
          need);
    CHECK(dns_encode_query(NULL, 0, 7, "a", 1, 1) == DNS_ERR_SPACE);

    /* The query read back as if it were an answer (QR set). */
    q[2] |= 0x80;
    CHECK(dec(q, (size_t)need) == 0);
    CHECK_STR(D.qname, "www.example.org");
    CHECK(D.id == 7 && D.qtype == 1 && D.nrr == 0);
}

/* ---- good answers ---- */

static void test_good_a(void)
{
    /* A real exchange: the encoded query, turned into its answer. */
    uint8_t q[512];
    int n = dns_encode_query(q, sizeof q, 0xa1b2, "Www.Example.COM", 1, 0);
    CHECK(n > 0);
    b_reset();
    b_raw(q, (size_t)n);
    M[2] = 0x81; M[3] = 0x80;              /* QR RD RA */
    b_set16(6, 1);
    b_a(12, 300, 93, 184, 216, 34);
    CHECK(decM() == 0);
    CHECK(D.id == 0xa1b2 && D.rcode == 0 && D.tc == 0 && D.aa == 0);
    CHECK_STR(D.qname, "www.example.com");
    CHECK(D.qtype == DNS_TYPE_A);
    CHECK(D.nrr == 1);
    CHECK(D.rr[0].type == DNS_TYPE_A && D.rr[0].ttl == 300);
    CHECK_STR(D.rr[0].name, "www.example.com");
    CHECK(memcmp(D.rr[0].u.a, "\x5d\xb8\xd8\x22", 4) == 0);
    CHECK(D.has_soa == 0 && D.neg_ttl == 0);
    check_truncations("A", ML);

    /* AA flag, and an owner written out in full (no compression). */
    b_start(0x8580, 1, 0, "host.example", 1);
    b_name("HOST.example"); b_rrh(1, 5, 4); b_u32(0x0a000001);
    CHECK(decM() == 0);
    CHECK(D.aa == 1 && D.nrr == 1);
    CHECK_STR(D.rr[0].name, "host.example");
    check_truncations("A uncompressed", ML);

    /* Two A records, kept in order. */
    b_start(RESP, 2, 0, "two.example", 1);
    b_a(12, 60, 10, 0, 0, 1);
    b_a(12, 30, 10, 0, 0, 2);
    CHECK(decM() == 0 && D.nrr == 2);
    CHECK(D.rr[0].u.a[3] == 1 && D.rr[1].u.a[3] == 2);
    CHECK(D.rr[1].ttl == 30);
}

static void test_aaaa(void)
{
    static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                                    0, 0, 0, 0, 0, 0, 0, 1 };
    b_start(RESP, 1, 0, "v6.example.net", 28);
    b_ptr(12); b_rrh(28, 3600, 16); b_raw(v6, 16);
    CHECK(decM() == 0);
    CHECK(D.qtype == DNS_TYPE_AAAA && D.nrr == 1);
    CHECK(D.rr[0].type == DNS_TYPE_AAAA && D.rr[0].ttl == 3600);
    CHECK(memcmp(D.rr[0].u.aaaa, v6, 16) == 0);
    CHECK_STR(D.rr[0].name, "v6.example.net");
    check_truncations("AAAA", ML);
}

static void test_cname_chain(void)
{
    /* www.example.com CNAME web.example.net
     * web.example.net CNAME edge.cdn.example.net   (suffix compression)
     * edge.cdn.example.net A x2, plus an RRSIG that is skipped. */
    b_start(RESP, 5, 0, "www.example.com", 1);
    size_t o1 = ML;
    b_ptr(12);
    size_t h1 = ML;
    b_rrh(5, 100, 0);
    size_t t1 = ML;
    b_name("web.example.net");
    b_set16(h1 + 8, (unsigned)(ML - t1));

    size_t o2 = ML;
    b_ptr((unsigned)t1);
    size_t h2 = ML;
    b_rrh(5, 200, 0);
    size_t t2 = ML;
    b_labels("edge.cdn", 0); b_ptr((unsigned)(t1 + 4));   /* "example.net" */
    b_set16(h2 + 8, (unsigned)(ML - t2));

    b_ptr((unsigned)t2); b_rrh(1, 20, 4); b_u32(0xc0000201);
    b_ptr((unsigned)t2); b_u16(46); b_u16(1); b_u32(20); b_u16(3);
    b_raw("sig", 3);
    b_ptr((unsigned)t2); b_rrh(1, 20, 4); b_u32(0xc0000202);
    (void)o1; (void)o2;

    CHECK(decM() == 0);
    CHECK(D.nrr == 4);
    CHECK(D.rr[0].type == DNS_TYPE_CNAME);
    CHECK_STR(D.rr[0].name, "www.example.com");
    CHECK_STR(D.rr[0].u.cname, "web.example.net");
    CHECK(D.rr[0].ttl == 100);
    CHECK(D.rr[1].type == DNS_TYPE_CNAME);
    CHECK_STR(D.rr[1].name, "web.example.net");
    CHECK_STR(D.rr[1].u.cname, "edge.cdn.example.net");
    CHECK(D.rr[2].type == DNS_TYPE_A && D.rr[3].type == DNS_TYPE_A);
    CHECK_STR(D.rr[2].name, "edge.cdn.example.net");
    CHECK(D.rr[3].u.a[3] == 2);
    check_truncations("CNAME chain", ML);

    /* A CNAME whose name runs past its RDLENGTH, one with bytes after the
     * name, and one with RDLENGTH 0. */
    M[h1 + 9] -= 1;
    CHECK(decM() != 0);
    M[h1 + 9] += 1;
    CHECK(decM() == 0);

    b_start(RESP, 1, 0, "c.example", 5);
    b_ptr(12); b_rrh(5, 1, 5); b_labels("x", 0); b_ptr(12); b_u8(0);
    CHECK(decM() == DNS_ERR_FORMAT);
    b_start(RESP, 1, 0, "c.example", 5);
    b_ptr(12); b_rrh(5, 1, 0);
    CHECK(decM() == DNS_ERR_FORMAT);
    /* CNAME target through a pointer that leaves the RDATA: fine. */
    b_start(RESP, 1, 0, "c.example", 5);
    b_ptr(12); b_rrh(5, 1, 4); b_labels("x", 0); b_ptr(12);
    CHECK(decM() == 0 && D.nrr == 1);
    CHECK_STR(D.rr[0].u.cname, "x.c.example");
}

static void test_negative(void)
{
    /* NXDOMAIN, SOA TTL 3600 and MINIMUM 300: neg_ttl 300. */
    b_start(0x8183, 0, 1, "nope.example.org", 1);
    b_soa(12 + 5, 3600, 300);
    CHECK(decM() == 0);
    CHECK(D.rcode == DNS_RCODE_NXDOMAIN && D.nrr == 0);
    CHECK(D.has_soa == 1 && D.neg_ttl == 300);
    check_truncations("NXDOMAIN", ML);

    /* SOA TTL below MINIMUM: the TTL. */
    b_start(0x8183, 0, 1, "nope.example.org", 1);
    b_soa(12 + 5, 60, 300);
    CHECK(decM() == 0 && D.neg_ttl == 60);

    /* NODATA: NOERROR, no answer, SOA. */
    b_start(RESP, 0, 1, "v4only.example.org", 28);
    b_soa(12 + 7, 900, 120);
    CHECK(decM() == 0);
    CHECK(D.rcode == 0 && D.nrr == 0 && D.has_soa && D.neg_ttl == 120);
    check_truncations("NODATA", ML);

    /* An NS record before the SOA is skipped; the root as SOA owner. */
    b_start(0x8183, 0, 2, "nope", 1);
    b_ptr(12); b_u16(2); b_u16(1); b_u32(10); b_u16(2); b_ptr(12);
    b_u8(0); b_rrh(6, 86400, 0);
    {
        size_t rd = ML;
        b_labels("a.root-servers", 0); b_u8(0);
        b_labels("nstld", 0); b_u8(0);
        b_u32(1); b_u32(2); b_u32(3); b_u32(4); b_u32(86400);
        b_set16(rd - 2, (unsigned)(ML - rd));
    }
    CHECK(decM() == 0 && D.has_soa && D.neg_ttl == 86400);
    check_truncations("root SOA", ML);

    /* SOA with a short fixed part, with extra bytes, with an RNAME past
     * the RDATA. */
    b_start(0x8183, 0, 1, "x.example", 1);
    b_soa(12 + 2, 100, 50);
    CHECK(decM() == 0 && D.neg_ttl == 50);
    size_t at = 12 + 11 + 4 + 2 + 8;           /* RDLENGTH of the SOA */
    unsigned rl = (unsigned)(M[at] << 8 | M[at + 1]);
    b_set16(at, rl - 1); ML -= 1;               /* MINIMUM of 3 bytes */
    CHECK(decM() == DNS_ERR_FORMAT);
    b_set16(at, rl + 1); b_u8(0); b_u8(0);      /* one byte too many */
    CHECK(decM() == DNS_ERR_FORMAT);
    b_start(0x8183, 0, 1, "x.example", 1);     /* RNAME past the RDATA */
    b_ptr(14); b_rrh(6, 1, 4); b_ptr(14); b_labels("hostmaster", 0);
    b_ptr(14); for (int i = 0; i < 20; i++) b_u8(0);
    CHECK(decM() == DNS_ERR_FORMAT);
    /* An RNAME with a mailbox's escaped dot is fine (not a host name). */
    b_start(0x8183, 0, 1, "x.example", 1);
    b_ptr(14); b_rrh(6, 1, 2 + 9 + 2 + 20); b_ptr(14);
    b_labels("john.doe", 0);
    M[ML - 4] = '.'; M[ML - 9] = 8;             /* one label "john.doe" */
    b_ptr(14); for (int i = 0; i < 20; i++) b_u8(1);
    CHECK(decM() == 0 && D.has_soa && D.neg_ttl == 1);

    /* SERVFAIL and REFUSED come through as rcodes. */
    b_start(0x8182, 0, 0, "x.example", 1);
    CHECK(decM() == 0 && D.rcode == DNS_RCODE_SERVFAIL && !D.has_soa);
    b_start(0x8185, 0, 0, "x.example", 1);
    CHECK(decM() == 0 && D.rcode == DNS_RCODE_REFUSED);
}

static void test_ttl(void)
{
    /* RFC 2181 8: a TTL with the top bit set is zero. */
    b_start(RESP, 3, 1, "t.example", 1);
    b_a(12, 0x7fffffffu, 1, 2, 3, 4);
    b_a(12, 0x80000000u, 1, 2, 3, 4);
    b_a(12, 0xffffffffu, 1, 2, 3, 4);
    b_soa(12, 0x90000000u, 100);
    CHECK(decM() == 0 && D.nrr == 3);
    CHECK(D.rr[0].ttl == 0x7fffffffu);
    CHECK(D.rr[1].ttl == 0 && D.rr[2].ttl == 0);
    CHECK(D.has_soa && D.neg_ttl == 0);
    b_start(RESP, 0, 1, "t.example", 1);
    b_soa(12, 500, 0xfffffff0u);
    CHECK(decM() == 0 && D.neg_ttl == 0);
}

static void test_tc_and_sections(void)
{
    /* TC=1: header and question only; the caller goes to TCP.  The record
     * count promises more than is there. */
    b_start(0x8380, 5, 0, "big.example", 1);
    b_a(12, 1, 1, 1, 1, 1);
    b_u8(0xc0);                         /* cut mid-record */
    CHECK(decM() == 0);
    CHECK(D.tc == 1 && D.nrr == 0);
    CHECK_STR(D.qname, "big.example");
    /* ... but the question must still be whole and clean. */
    b_reset(); b_hdr(1, 0x8380, 1, 0, 0, 0); b_labels("big", 0);
    CHECK(decM() == DNS_ERR_SHORT && D.tc == 1);
    b_reset(); b_hdr(1, 0x8380, 1, 0, 0, 0); b_name("b g"); b_u32(0x10001);
    CHECK(decM() == DNS_ERR_NAME);

    /* OPT and anything else in the additional section: not read. */
    b_start(RESP, 1, 0, "o.example", 1);
    b_set16(10, 3);
    b_a(12, 1, 1, 1, 1, 1);
    b_u8(0); b_u16(41); b_u16(1232); b_u32(0); b_u16(0);
    b_u8(0xc0); b_u8(0xff); b_u8(0x55);        /* junk */
    size_t additional = ML - 14;
    CHECK(decM() == 0 && D.nrr == 1);
    check_truncations("with OPT", additional);

    /* Records of other classes or types in the answer are skipped, even
     * with odd RDATA sizes and odd owner names. */
    b_start(RESP, 4, 0, "s.example", 1);
    b_ptr(12); b_u16(1); b_u16(3); b_u32(1); b_u16(5); b_raw("chaos", 5);
    b_ptr(12); b_u16(16); b_u16(1); b_u32(1); b_u16(3); b_raw("\x02hi", 3);
    b_name("*.s example"); b_u16(99); b_u16(1); b_u32(1); b_u16(0);
    b_a(12, 9, 9, 9, 9, 9);
    CHECK(decM() == 0 && D.nrr == 1 && D.rr[0].ttl == 9);
    check_truncations("skipped types", ML);

    /* Answers that are not for the question are still returned (the
     * resolver decides); the question's type is reported. */
    b_start(RESP, 1, 0, "q.example", 28);
    b_name("other.example"); b_rrh(1, 1, 4); b_u32(1);
    CHECK(decM() == 0 && D.qtype == 28 && D.nrr == 1);
    CHECK_STR(D.rr[0].name, "other.example");

    /* Underscore and hyphen survive, upper case is folded. */
    b_start(RESP, 0, 0, "_Dmarc.My-Host.Example", 16);
    CHECK(decM() == 0);
    CHECK_STR(D.qname, "_dmarc.my-host.example");
}

static void test_header(void)
{
    /* Empty and 1..11-byte messages. */
    uint8_t z[12] = { 0x12, 0x34, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0 };
    for (size_t n = 0; n < 12; n++)
        CHECK_MSG(dec(z, n) == DNS_ERR_SHORT, "%zu bytes", n);
    CHECK(dns_decode(NULL, 0, &D) == DNS_ERR_SHORT);
    /* A header whose question is missing. */
    CHECK(dec(z, 12) == DNS_ERR_SHORT);

    /* QR=0: a query, not an answer. */
    b_start(0x0100, 0, 0, "a.example", 1);
    CHECK(decM() == DNS_ERR_FORMAT);
    /* OPCODE 2 (STATUS) and 4 (NOTIFY). */
    b_start(0x9180, 0, 0, "a.example", 1);
    CHECK(decM() == DNS_ERR_FORMAT);
    b_start(0xa180, 0, 0, "a.example", 1);
    CHECK(decM() == DNS_ERR_FORMAT);

    /* QDCOUNT 0 and 2; the header fields are still reported. */
    b_reset(); b_hdr(0x4242, 0x8181, 0, 0, 0, 0);
    CHECK(decM() == DNS_ERR_FORMAT);
    CHECK(D.id == 0x4242 && D.rcode == DNS_RCODE_FORMERR && D.nrr == 0);
    CHECK(D.qname[0] == '\0');
    b_reset(); b_hdr(1, RESP, 2, 0, 0, 0);
    b_name("a.example"); b_u32(0x10001); b_ptr(12); b_u32(0x10001);
    CHECK(decM() == DNS_ERR_FORMAT);
    b_reset(); b_hdr(1, RESP, 0xffff, 0, 0, 0);
    b_name("a.example"); b_u32(0x10001);
    CHECK(decM() == DNS_ERR_FORMAT);

    /* Question without its type and class. */
    b_reset(); b_hdr(1, RESP, 1, 0, 0, 0); b_name("a.example"); b_u16(1);
    CHECK(decM() == DNS_ERR_SHORT);

    /* A root question is well-formed. */
    b_reset(); b_hdr(1, RESP, 1, 0, 0, 0); b_u8(0); b_u32(0x20001);
    CHECK(decM() == 0 && D.qname[0] == '\0' && D.qtype == 2);
}

/* ---- RFC 9267 and SECURITY.md G.37-G.39 ---- */

static void test_pointers(void)
{
    /* Compression done right: pointer to a pointer, to a suffix. */
    b_start(RESP, 2, 0, "a.b.example", 1);
    size_t o = ML;
    b_labels("x", 0); b_ptr(14);               /* x.b.example */
    b_rrh(1, 1, 4); b_u32(1);
    b_labels("y", 0); b_ptr((unsigned)o);      /* y.x.b.example */
    b_rrh(1, 1, 4); b_u32(2);
    CHECK(decM() == 0 && D.nrr == 2);
    CHECK_STR(D.rr[0].name, "x.b.example");
    CHECK_STR(D.rr[1].name, "y.x.b.example");
    check_truncations("pointer chain", ML);

    /* Self-loop: the owner is a pointer to itself. */
    b_start(RESP, 1, 0, "a.example", 1);
    o = ML;
    b_ptr((unsigned)o); b_rrh(1, 1, 4); b_u32(1);
    CHECK(decM() == DNS_ERR_NAME);
    /* Self-loop in the question. */
    b_reset(); b_hdr(1, RESP, 1, 0, 0, 0); b_ptr(12); b_u32(0x10001);
    CHECK(decM() == DNS_ERR_NAME);
    /* A label, then a pointer back to the name's own start. */
    b_start(RESP, 1, 0, "a.example", 1);
    o = ML;
    b_labels("loop", 0); b_ptr((unsigned)o); b_rrh(1, 1, 4); b_u32(1);
    CHECK(decM() == DNS_ERR_NAME);

    /* Forward: the owner points at a good name further on. */
    b_start(RESP, 2, 0, "a.example", 1);
    o = ML;
    b_ptr((unsigned)(o + 16)); b_rrh(1, 1, 4); b_u32(1);
    CHECK(ML == o + 16);
    b_name("fwd.example"); b_rrh(1, 1, 4); b_u32(2);
    CHECK(decM() == DNS_ERR_NAME);
    /* Forward inside the question, into its own type field. */
    b_reset(); b_hdr(1, RESP, 1, 0, 0, 0); b_labels("a", 0); b_ptr(16);
    b_u32(0x10001);
    CHECK(decM() == DNS_ERR_NAME);

    /* Loop between two names: N1 = "a" -> N2, N2 = "b" -> N1.  N1 sits in
     * a skipped record's RDATA, the owner of the A points to N2. */
    b_start(RESP, 2, 0, "q.example", 1);
    b_ptr(12); b_u16(99); b_u16(1); b_u32(1); b_u16(4);
    size_t n1 = ML;
    b_labels("a", 0); b_ptr(0);                 /* patched below */
    size_t n2 = ML;
    b_labels("b", 0); b_ptr((unsigned)n1);
    b_rrh(1, 1, 4); b_u32(1);
    b_set16(n1 + 2, 0xc000 | (unsigned)n2);
    /* The A owner is N2 itself, inline: "b", -> N1 (backwards, fine),
     * "a", -> N2 (not before N1: refused). */
    CHECK(decM() == DNS_ERR_NAME);
    /* The same with the second pointer going back to a name that holds
     * the pointer itself: a -> b -> a with both at earlier offsets. */
    b_start(RESP, 1, 0, "q.example", 1);
    b_ptr(12); b_u16(99); b_u16(1); b_u32(1); b_u16(8);
    n1 = ML;
    b_labels("a", 0); b_ptr(0);
    n2 = ML;
    b_labels("b", 0); b_ptr((unsigned)n1);
    b_set16(n1 + 2, 0xc000 | (unsigned)n2);
    b_set16(6, 2);
    b_ptr((unsigned)n2); b_rrh(1, 1, 4); b_u32(1);
    CHECK(decM() == DNS_ERR_NAME);

    /* Past the end: to offset 0x3fff, and to just past the last byte. */
    b_start(RESP, 1, 0, "a.example", 1);
    b_u16(0xffff); b_rrh(1, 1, 4); b_u32(1);
    CHECK(decM() == DNS_ERR_NAME);
    b_start(RESP, 1, 0, "a.example", 1);
    b_ptr(0); b_rrh(1, 1, 4); b_u32(1);
    b_set16(ML - 16, 0xc000 | (unsigned)ML);
    CHECK(decM() == DNS_ERR_NAME);
    /* A pointer cut in half at the end of the message. */
    b_start(RESP, 1, 0, "a.example", 1);
    b_u8(0xc0);
    CHECK(decM() == DNS_ERR_SHORT);
    /* Into the header (offsets 0..11). */
    for (unsigned off = 0; off < 12; off++) {
        b_start(RESP, 1, 0, "a.example", 1);
        b_ptr(off); b_rrh(1, 1, 4); b_u32(1);
        CHECK_MSG(decM() == DNS_ERR_NAME, "pointer to %u", off);
    }

    /* Too many hops: 40 one-label names, each pointing to the previous.
     * Every hop is backwards, but 40 > DNS_MAX_PTR_HOPS... and the name
     * would also pass 255 bytes; use one-byte labels to stay below. */
    b_start(RESP, 2, 0, "h.example", 1);
    b_ptr(12); b_u16(99); b_u16(1); b_u32(1); b_u16(0);
    size_t rd = ML, prev = 12;
    for (int i = 0; i < 40; i++) {
        size_t here = ML;
        b_labels("h", 0); b_ptr((unsigned)prev);
        prev = here;
    }
    b_set16(rd - 2, (unsigned)(ML - rd));
    b_ptr((unsigned)prev); b_rrh(1, 1, 4); b_u32(1);
    CHECK(decM() == DNS_ERR_NAME);
    /* 31 hops (32 with the owner's pointer) is allowed. */
    b_start(RESP, 2, 0, "h.example", 1);
    b_ptr(12); b_u16(99); b_u16(1); b_u32(1); b_u16(0);
    rd = ML; prev = 12;
    for (int i = 0; i < 31; i++) {
        size_t here = ML;
        b_labels("h", 0); b_ptr((unsigned)prev);
        prev = here;
    }
    b_set16(rd - 2, (unsigned)(ML - rd));
    b_ptr((unsigned)prev); b_rrh(1, 1, 4); b_u32(1);
    CHECK(decM() == 0 && D.nrr == 1 && strlen(D.rr[0].name) == 62 + 9);
}

static void test_labels(void)
{
    /* Label length bytes 64..191: the 0x40 and 0x80 types, refused. */
    unsigned types[] = { 0x40, 0x41, 0x7f, 0x80, 0xbf };
    for (size_t i = 0; i < 5; i++) {
        b_start(RESP, 1, 0, "a.example", 1);
        b_u8(types[i]);
        for (int k = 0; k < 200; k++) b_u8('a');
        b_u8(0); b_rrh(1, 1, 4); b_u32(1);
        CHECK_MSG(decM() == DNS_ERR_NAME, "label byte 0x%x", types[i]);
        b_reset(); b_hdr(1, RESP, 1, 0, 0, 0); b_u8(types[i]);
        for (int k = 0; k < 200; k++) b_u8('a');
        b_u8(0); b_u32(0x10001);
        CHECK_MSG(decM() == DNS_ERR_NAME, "qname label 0x%x", types[i]);
    }
    /* 63 is the longest label. */
    char l63[64];
    memset(l63, 'q', 63); l63[63] = '\0';
    b_start(RESP, 0, 0, l63, 1);
    CHECK(decM() == 0 && strlen(D.qname) == 63);

    /* Name > 255 inline: 63.63.63.63 */
    char big[300];
    snprintf(big, sizeof big, "%s.%s.%s.%s", l63, l63, l63, l63);
    b_start(RESP, 0, 0, big, 1);
    CHECK(decM() == DNS_ERR_NAME);
    /* Exactly 255: 63.63.63.61 */
    big[253] = '\0';
    b_start(RESP, 0, 0, big, 1);
    CHECK(decM() == 0 && strlen(D.qname) == 253);
    /* 256: 63.63.63.62 */
    snprintf(big, sizeof big, "%s.%s.%s.%.62s", l63, l63, l63, l63);
    b_start(RESP, 0, 0, big, 1);
    CHECK(decM() == DNS_ERR_NAME);

    /* Name > 255 via pointers: four 63-byte labels, each name pointing to
     * the one before, in a skipped record; the A owner points to the
     * last.  And the same at exactly 255 (the last label 61 bytes). */
    for (int over = 0; over < 2; over++) {
        b_start(RESP, 2, 0, "p.example", 1);
        b_ptr(12); b_u16(99); b_u16(1); b_u32(1); b_u16(0);
        size_t rd = ML, n0 = ML;
        b_labels(l63, 1);
        size_t n1 = ML;
        b_labels(l63, 0); b_ptr((unsigned)n0);
        size_t n2 = ML;
        b_labels(l63, 0); b_ptr((unsigned)n1);
        size_t n3 = ML;
        b_u8(over ? 63 : 61);
        for (int k = 0; k < (over ? 63 : 61); k++) b_u8('z');
        b_ptr((unsigned)n2);
        b_set16(rd - 2, (unsigned)(ML - rd));
        size_t aown = ML;
        b_ptr((unsigned)n3); b_rrh(1, 1, 4); b_u32(1);
        int rc = decM();
        if (over) {
            CHECK(rc == DNS_ERR_NAME);
        } else {
            CHECK(rc == 0 && D.nrr == 1 && strlen(D.rr[0].name) == 253);
        }
        /* And as a CNAME target (the A owner now a plain one). */
        b_set16(aown, 0xc000 | 12);
        b_set16(6, 3);
        b_ptr(12); b_rrh(5, 1, 2); b_ptr((unsigned)n3);
        rc = decM();
        if (over) {
            CHECK(rc == DNS_ERR_NAME);
        } else {
            CHECK(rc == 0 && D.nrr == 2 && strlen(D.rr[1].u.cname) == 253);
            CHECK(strncmp(D.rr[1].u.cname, "zzz", 3) == 0);
        }
    }

    /* Missing terminator at the very end of the message. */
    b_reset(); b_hdr(1, RESP, 1, 0, 0, 0); b_labels("no.end", 0);
    CHECK(decM() == DNS_ERR_SHORT);
    b_start(RESP, 1, 0, "a.example", 1);
    b_labels("owner.without.end", 0);
    CHECK(decM() == DNS_ERR_SHORT);
    /* A label that claims more bytes than are left. */
    b_start(RESP, 1, 0, "a.example", 1);
    b_u8(30); b_raw("short", 5);
    CHECK(decM() == DNS_ERR_SHORT);
}

/* Names with bytes unfit for a host name, in the question, an owner, a
 * CNAME target (CVE-2021-3672, CVE-2016-5180). */
static void test_charset(void)
{
    static const struct { const char *lab; size_t n; } bad[] = {
        { "a\0b", 3 }, { "a b", 3 }, { "a/b", 3 }, { "a\nb", 3 },
        { "a\rb", 3 }, { "hello.", 6 }, { "a\\.b", 4 }, { "a\\", 2 },
        { "\x7f", 1 }, { "\x01", 1 }, { "caf\xc3\xa9", 5 }, { "\x80x", 2 },
        { "a*", 2 }, { "a@b", 3 }, { "a\tb", 3 }, { "$(id)", 5 },
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        /* question */
        b_reset(); b_hdr(1, RESP, 1, 0, 0, 0);
        b_u8((unsigned)bad[i].n); b_raw(bad[i].lab, bad[i].n);
        b_name("example"); b_u32(0x10001);
        CHECK_MSG(decM() == DNS_ERR_NAME, "question #%zu", i);
        CHECK(D.qname[0] == '\0');
        /* owner of an A, of an AAAA, of a CNAME */
        unsigned ty[] = { 1, 28, 5 };
        for (int t = 0; t < 3; t++) {
            b_start(RESP, 1, 0, "ok.example", ty[t]);
            b_u8((unsigned)bad[i].n); b_raw(bad[i].lab, bad[i].n); b_ptr(12);
            unsigned rl = ty[t] == 1 ? 4 : ty[t] == 28 ? 16 : 2;
            b_rrh(ty[t], 1, rl);
            if (ty[t] == 5) b_ptr(12);
            else for (unsigned k = 0; k < rl; k++) b_u8(k);
            CHECK_MSG(decM() == DNS_ERR_NAME, "owner #%zu type %u", i, ty[t]);
            CHECK(D.nrr == 0);
        }
        /* CNAME target */
        b_start(RESP, 1, 0, "ok.example", 1);
        b_ptr(12); b_rrh(5, 1, (unsigned)(1 + bad[i].n + 2));
        b_u8((unsigned)bad[i].n); b_raw(bad[i].lab, bad[i].n); b_ptr(12);
        CHECK_MSG(decM() == DNS_ERR_NAME, "target #%zu", i);
        /* Reached through a pointer: the bad label sits in a skipped
         * record's RDATA; the A owner points at it. */
        b_start(RESP, 2, 0, "ok.example", 1);
        b_ptr(12); b_u16(99); b_u16(1); b_u32(1);
        b_u16((unsigned)(1 + bad[i].n + 2));
        size_t at = ML;
        b_u8((unsigned)bad[i].n); b_raw(bad[i].lab, bad[i].n); b_ptr(12);
        b_ptr((unsigned)at); b_rrh(1, 1, 4); b_u32(1);
        CHECK_MSG(decM() == DNS_ERR_NAME, "via pointer #%zu", i);
    }
}

static void test_counts(void)
{
    /* ANCOUNT past the data. */
    b_start(RESP, 3, 0, "c.example", 1);
    b_a(12, 1, 1, 1, 1, 1);
    int rc = decM();
    CHECK(rc == DNS_ERR_SHORT || rc == DNS_ERR_FORMAT);
    CHECK(D.nrr == 0);
    b_start(RESP, 0xffff, 0, "c.example", 1);
    b_a(12, 1, 1, 1, 1, 1);
    rc = decM();
    CHECK(rc == DNS_ERR_SHORT || rc == DNS_ERR_FORMAT);
    /* NSCOUNT past the data. */
    b_start(0x8183, 0, 2, "c.example", 1);
    b_soa(12, 10, 10);
    rc = decM();
    CHECK(rc == DNS_ERR_SHORT || rc == DNS_ERR_FORMAT);
    CHECK(D.has_soa == 0 && D.neg_ttl == 0);

    /* RDLENGTH past the end. */
    b_start(RESP, 1, 0, "c.example", 1);
    b_ptr(12); b_u16(99); b_u16(1); b_u32(1); b_u16(100); b_u32(0);
    CHECK(decM() == DNS_ERR_FORMAT);
    b_start(RESP, 1, 0, "c.example", 1);
    b_ptr(12); b_rrh(1, 1, 0xffff); b_u32(0);
    CHECK(decM() == DNS_ERR_FORMAT);
    /* Truncated RDATA: an A whose 4 bytes are cut at 2. */
    b_start(RESP, 1, 0, "c.example", 1);
    b_ptr(12); b_rrh(1, 1, 4); b_u16(0x0102);
    CHECK(decM() == DNS_ERR_FORMAT);
    /* Record header cut short. */
    b_start(RESP, 1, 0, "c.example", 1);
    b_ptr(12); b_u16(1); b_u16(1); b_u16(0);
    CHECK(decM() == DNS_ERR_SHORT);

    /* Wrong RDLENGTH for A and AAAA. */
    unsigned lens[] = { 0, 3, 5, 16 };
    for (int i = 0; i < 4; i++) {
        b_start(RESP, 1, 0, "c.example", 1);
        b_ptr(12); b_rrh(1, 1, lens[i]);
        for (unsigned k = 0; k < lens[i]; k++) b_u8(k);
        CHECK_MSG(decM() == DNS_ERR_FORMAT, "A rdlength %u", lens[i]);
    }
    unsigned lens6[] = { 0, 4, 15, 17 };
    for (int i = 0; i < 4; i++) {
        b_start(RESP, 1, 0, "c.example", 28);
        b_ptr(12); b_rrh(28, 1, lens6[i]);
        for (unsigned k = 0; k < lens6[i]; k++) b_u8(k);
        CHECK_MSG(decM() == DNS_ERR_FORMAT, "AAAA rdlength %u", lens6[i]);
    }
}

/* CVE-2015-7547: answers above 2048 bytes, and a full TCP-size answer
 * with far more than DNS_MAX_RR records. */
static void fill_answer(size_t total, int bad_last)
{
    /* header 12 + question ("big.example" 13 + 4) = 29; A records of 16;
     * a final type-99 record pads to the exact size. */
    b_reset();
    b_hdr(0x7777, RESP, 1, 0, 0, 0);
    b_name("big.example"); b_u16(1); b_u16(1);
    unsigned n = 0;
    while (ML + 16 + 12 + 16 <= total) {
        b_a(12, n, 10, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff);
        n++;
    }
    size_t pad = total - ML - 12;
    b_ptr(12); b_u16(99); b_u16(1); b_u32(1); b_u16((unsigned)pad);
    memset(M + ML, 'p', pad);
    ML += pad;
    n++;
    if (bad_last) {
        /* The last A record before the pad claims RDLENGTH 5. */
        b_set16(ML - pad - 12 - 16 + 10, 5);
    }
    b_set16(6, n);
}

static void test_big(void)
{
    fill_answer(2049, 0);
    CHECK(ML == 2049);
    CHECK(decM() == 0);
    CHECK(D.id == 0x7777 && D.nrr == DNS_MAX_RR);
    CHECK(D.rr[63].ttl == 63 && D.rr[63].u.a[3] == 63);
    check_truncations("2049 bytes", ML);

    fill_answer(65535, 0);
    CHECK(ML == 65535);
    CHECK(decM() == 0);
    CHECK(D.nrr == DNS_MAX_RR);
    CHECK(D.rr[0].ttl == 0 && D.rr[63].ttl == 63);
    CHECK_STR(D.rr[63].name, "big.example");
    /* Every record past the 64th is still checked. */
    fill_answer(65535, 1);
    CHECK(decM() == DNS_ERR_FORMAT && D.nrr == 0);
    fill_answer(65535, 0);
    /* A bad owner in record 3000 (far past the kept ones). */
    size_t r3000 = 29 + 3000 * 16;
    b_set16(r3000, 0xc000 | (unsigned)(r3000 + 1));
    CHECK(decM() == DNS_ERR_NAME);
    /* Cutting the 64 KiB answer at some places. */
    fill_answer(65535, 0);
    size_t cuts[] = { 29, 30, 31, 45, 1025, 2048, 2049, 4096, 32768,
                      65534 - 100, 65534 - 12, 65534 };
    int bad = 0;
    for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++)
        if (dec(M, cuts[i]) == 0) bad++;
    CHECK(bad == 0);

    /* A bomb of tiny records in 64 KiB: 0-length type-99 records with a
     * pointer owner, ANCOUNT 65535 but only ~6500 present. */
    b_start(RESP, 0xffff, 0, "z", 1);
    while (ML + 12 <= 65535) {
        b_ptr(12); b_u16(99); b_u16(1); b_u32(1); b_u16(0);
    }
    int rc = decM();
    CHECK(rc == DNS_ERR_SHORT || rc == DNS_ERR_FORMAT);
}

/* A benchmark-sized loop: the decoder is used 10,000 times a run. */
static void test_speed(void)
{
    b_start(RESP, 4, 0, "www.example.com", 1);
    b_ptr(12); b_rrh(5, 1, 6);
    unsigned cdn = (unsigned)ML;
    b_labels("cdn", 0); b_ptr(16);
    b_a(cdn, 1, 1, 2, 3, 4);
    b_a(cdn, 1, 1, 2, 3, 5);
    b_a(cdn, 1, 1, 2, 3, 6);
    int ok = 1;
    for (int i = 0; i < 10000; i++)
        if (dns_decode(M, ML, &D) != 0 || D.nrr != 4) ok = 0;
    CHECK(ok);
    CHECK_STR(D.rr[1].name, "cdn.example.com");
}

static void test_name_eq(void)
{
    CHECK(dns_name_eq("example.com", "EXAMPLE.COM."));
    CHECK(dns_name_eq("Example.Com.", "example.com"));
    CHECK(dns_name_eq("a.", "a."));
    CHECK(dns_name_eq("", "."));
    CHECK(!dns_name_eq("a..", "a"));
    CHECK(!dns_name_eq("example.com", "example.co"));
    CHECK(!dns_name_eq("example.com", "example.com.."));
    CHECK(!dns_name_eq("a-b", "a_b"));
    CHECK(!dns_name_eq(NULL, "a"));
    CHECK(!dns_name_eq("a", NULL));
}

int main(void)
{
    test_encode();
    test_good_a();
    test_aaaa();
    test_cname_chain();
    test_negative();
    test_ttl();
    test_tc_and_sections();
    test_header();
    test_pointers();
    test_labels();
    test_charset();
    test_counts();
    test_big();
    test_speed();
    test_name_eq();
    return T_END();
}
