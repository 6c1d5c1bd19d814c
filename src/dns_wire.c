/* dns_wire.c -- DNS query encoder and response decoder (RFC 1035 4,
 * RFC 6891 for the OPT record, RFC 9267 for what a decoder must refuse).
 *
 * The decoder reads through one cursor and checks every read against the
 * message length before it happens.  Names are followed through compression
 * pointers that may only go backwards: each pointer must land strictly
 * before the start of the stretch of labels being read (the name itself, or
 * the place the previous pointer led to), and never inside the 12-byte
 * header.  The positions visited therefore strictly decrease, so no loop is
 * possible; DNS_MAX_PTR_HOPS is a second, cheaper bound.  Nothing is
 * allocated: everything lands in the caller's dns_msg. */
#include "dns_wire.h"

#include <string.h>

#define HDR_LEN 12
#define TTL_MAX 0x7fffffffu

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
           (uint32_t)p[2] << 8 | p[3];
}

/* RFC 2181 8: a TTL with the top bit set is "treated as if the entire
 * value received was zero". */
static uint32_t fix_ttl(uint32_t t)
{
    return t > TTL_MAX ? 0 : t;
}

/* Letters, digits, '-' and '_': the only bytes a host-name label may hold
 * here (SECURITY.md G.39). */
static int host_byte(unsigned c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '_';
}

static char lower(unsigned c)
{
    return (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
}

/* Read the name at *pos.  Its inline labels (before any pointer) must end
 * at or before lim (<= len); bytes reached through pointers must lie in the
 * message.  On success *pos is just past the name's last inline byte.
 * When text is non-NULL the name is written there, dotted, lower-cased, no
 * final dot ("" for the root); it holds at most DNS_MAX_TEXT + 1 bytes.
 * When strict, a byte that is not host_byte() is DNS_ERR_NAME. */
static int read_name(const uint8_t *msg, size_t len, size_t lim, size_t *pos,
                     char *text, int strict)
{
    size_t p = *pos, seg = p, end = 0, wire = 0, t = 0;
    int jumped = 0, hops = 0;

    for (;;) {
        size_t cap = jumped ? len : lim;
        if (p >= cap)
            return DNS_ERR_SHORT;
        unsigned b = msg[p];
        if ((b & 0xc0) == 0xc0) {
            if (p + 1 >= cap)
                return DNS_ERR_SHORT;
            size_t to = (size_t)(b & 0x3f) << 8 | msg[p + 1];
            /* Backwards only, out of the header, and a bounded number of
             * hops: this refuses self-loops, forward jumps, loops and
             * targets past the end alike. */
            if (to >= seg || to < HDR_LEN || ++hops > DNS_MAX_PTR_HOPS)
                return DNS_ERR_NAME;
            if (!jumped) {
                end = p + 2;
                jumped = 1;
            }
            p = seg = to;
            continue;
        }
        if (b & 0xc0)               /* 0x40 and 0x80: no such label types */
            return DNS_ERR_NAME;
        wire += 1 + b;
        if (wire > DNS_MAX_NAME)
            return DNS_ERR_NAME;
        if (b == 0) {
            if (!jumped)
                end = p + 1;
            break;
        }
        if (b > cap - p - 1)        /* label runs past the end */
            return DNS_ERR_SHORT;
        const uint8_t *l = msg + p + 1;
        if (strict)
            for (unsigned i = 0; i < b; i++)
                if (!host_byte(l[i]))
                    return DNS_ERR_NAME;
        if (text) {
            /* wire <= 255 keeps t + b + 1 <= 254: see DNS_MAX_TEXT. */
            if (t)
                text[t++] = '.';
            for (unsigned i = 0; i < b; i++)
                text[t++] = lower(l[i]);
        }
        p += 1 + (size_t)b;
    }
    if (text)
        text[t] = '\0';
    *pos = end;
    return 0;
}

/* The fixed part of a resource record, after its owner name. */
typedef struct rr_head {
    uint16_t type, class_;
    uint32_t ttl;
    size_t rdata, rdend;
} rr_head;

static int read_rr_head(const uint8_t *msg, size_t len, size_t *pos,
                        rr_head *h)
{
    size_t p = *pos;
    if (len - p < 10)
        return DNS_ERR_SHORT;
    h->type = get16(msg + p);
    h->class_ = get16(msg + p + 2);
    h->ttl = fix_ttl(get32(msg + p + 4));
    size_t rdlen = get16(msg + p + 8);
    p += 10;
    if (rdlen > len - p)
        return DNS_ERR_FORMAT;
    h->rdata = p;
    h->rdend = p + rdlen;
    *pos = h->rdend;
    return 0;
}

/* One record of the answer section: A, AAAA and CNAME of class IN are
 * checked strictly and kept while there is room; others are skipped. */
static int answer_rr(const uint8_t *msg, size_t len, size_t *pos,
                     dns_msg *out)
{
    size_t owner = *pos, p = *pos;
    rr_head h;
    int rc = read_name(msg, len, len, &p, NULL, 0);
    if (rc)
        return rc;
    if ((rc = read_rr_head(msg, len, &p, &h)))
        return rc;
    *pos = p;
    if (h.class_ != DNS_CLASS_IN ||
        (h.type != DNS_TYPE_A && h.type != DNS_TYPE_AAAA &&
         h.type != DNS_TYPE_CNAME))
        return 0;

    size_t rdlen = h.rdend - h.rdata;
    if ((h.type == DNS_TYPE_A && rdlen != 4) ||
        (h.type == DNS_TYPE_AAAA && rdlen != 16))
        return DNS_ERR_FORMAT;

    dns_rr *rr = out->nrr < DNS_MAX_RR ? &out->rr[out->nrr] : NULL;
    if ((rc = read_name(msg, len, len, &owner, rr ? rr->name : NULL, 1)))
        return rc;
    if (h.type == DNS_TYPE_CNAME) {
        size_t q = h.rdata;
        if ((rc = read_name(msg, len, h.rdend, &q, rr ? rr->u.cname : NULL,
                            1)))
            return rc == DNS_ERR_SHORT ? DNS_ERR_FORMAT : rc;
        if (q != h.rdend)           /* bytes after the target */
            return DNS_ERR_FORMAT;
    }
    if (!rr)
        return 0;
    rr->type = h.type;
    rr->ttl = h.ttl;
    if (h.type == DNS_TYPE_A)
        memcpy(rr->u.a, msg + h.rdata, 4);
    else if (h.type == DNS_TYPE_AAAA)
        memcpy(rr->u.aaaa, msg + h.rdata, 16);
    out->nrr++;
    return 0;
}

/* One record of the authority section: only an SOA of class IN is looked
 * into, for the negative-caching TTL (RFC 2308 5); the first one counts. */
static int authority_rr(const uint8_t *msg, size_t len, size_t *pos,
                        dns_msg *out)
{
    size_t p = *pos;
    rr_head h;
    int rc = read_name(msg, len, len, &p, NULL, 0);
    if (rc)
        return rc;
    if ((rc = read_rr_head(msg, len, &p, &h)))
        return rc;
    *pos = p;
    if (h.type != DNS_TYPE_SOA || h.class_ != DNS_CLASS_IN)
        return 0;

    /* MNAME and RNAME (a mailbox: any byte may appear), then SERIAL,
     * REFRESH, RETRY, EXPIRE, MINIMUM: exactly 20 bytes. */
    size_t q = h.rdata;
    for (int i = 0; i < 2; i++)
        if ((rc = read_name(msg, len, h.rdend, &q, NULL, 0)))
            return rc == DNS_ERR_SHORT ? DNS_ERR_FORMAT : rc;
    if (h.rdend - q != 20)
        return DNS_ERR_FORMAT;
    if (!out->has_soa) {
        uint32_t min = fix_ttl(get32(msg + q + 16));
        out->neg_ttl = h.ttl < min ? h.ttl : min;
        out->has_soa = 1;
    }
    return 0;
}

static int decode(const uint8_t *msg, size_t len, dns_msg *out)
{
    if (!msg || len < HDR_LEN)
        return DNS_ERR_SHORT;
    out->id = get16(msg);
    out->tc = (msg[2] >> 1) & 1;
    out->aa = (msg[2] >> 2) & 1;
    out->rcode = msg[3] & 0x0f;
    if (!(msg[2] & 0x80) || (msg[2] & 0x78))    /* QR=0, or OPCODE != 0 */
        return DNS_ERR_FORMAT;
    if (get16(msg + 4) != 1)
        return DNS_ERR_FORMAT;
    unsigned an = get16(msg + 6), ns = get16(msg + 8);

    size_t p = HDR_LEN;
    int rc = read_name(msg, len, len, &p, out->qname, 1);
    if (rc)
        return rc;
    if (len - p < 4)
        return DNS_ERR_SHORT;
    out->qtype = get16(msg + p);
    p += 4;

    /* A truncated answer is only good for its header and question: the
     * caller retries over TCP.  Its records are not trusted, not read. */
    if (out->tc)
        return 0;

    for (unsigned i = 0; i < an; i++)
        if ((rc = answer_rr(msg, len, &p, out)))
            return rc;
    for (unsigned i = 0; i < ns; i++)
        if ((rc = authority_rr(msg, len, &p, out)))
            return rc;
    return 0;
}

int dns_decode(const uint8_t *msg, size_t len, dns_msg *out)
{
    out->id = 0;
    out->rcode = out->tc = out->aa = 0;
    out->qname[0] = '\0';
    out->qtype = 0;
    out->nrr = 0;
    out->neg_ttl = 0;
    out->has_soa = 0;
    int rc = decode(msg, len, out);
    if (rc) {
        /* Nothing half-decoded reaches the caller (the header fields stay:
         * see dns_wire.h). */
        out->qname[0] = '\0';
        out->qtype = 0;
        out->nrr = 0;
        out->neg_ttl = 0;
        out->has_soa = 0;
    }
    return rc;
}

static void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

int dns_encode_query(uint8_t *out, size_t cap, uint16_t id, const char *name,
                     uint16_t qtype, int edns)
{
    if (!name)
        return DNS_ERR_NAME;
    /* Check the name and measure it: labels 1..63 host bytes, one optional
     * trailing dot, wire length (labels + root) <= 255. */
    size_t n = 0, lab = 0, wire = 1;
    for (;; n++) {
        unsigned c = (unsigned char)name[n];
        if (c == '.' || c == '\0') {
            if (lab == 0) {
                /* An empty label is only allowed as the end of a non-empty
                 * name written with its final dot. */
                if (c == '\0' && n > 1 && name[n - 1] == '.')
                    break;
                return DNS_ERR_NAME;
            }
            wire += 1 + lab;
            if (wire > DNS_MAX_NAME)
                return DNS_ERR_NAME;
            lab = 0;
            if (c == '\0')
                break;
            continue;
        }
        if (!host_byte(c) || ++lab > 63)
            return DNS_ERR_NAME;
    }

    size_t need = HDR_LEN + wire + 4 + (edns ? 11 : 0);
    if (!out || cap < need)
        return DNS_ERR_SPACE;

    memset(out, 0, HDR_LEN);
    put16(out, id);
    out[2] = 0x01;                  /* RD */
    put16(out + 4, 1);              /* QDCOUNT */
    put16(out + 10, edns ? 1 : 0);  /* ARCOUNT */

    uint8_t *w = out + HDR_LEN;
    const char *s = name;
    while (*s) {
        const char *d = s;
        while (*d && *d != '.')
            d++;
        *w++ = (uint8_t)(d - s);
        memcpy(w, s, (size_t)(d - s));
        w += d - s;
        s = *d ? d + 1 : d;
    }
    *w++ = 0;
    put16(w, qtype);
    put16(w + 2, DNS_CLASS_IN);
    w += 4;
    if (edns) {
        /* OPT: root owner, TYPE 41, CLASS = UDP payload size, TTL 0
         * (extended RCODE 0, version 0, DO 0), RDLENGTH 0. */
        w[0] = 0;
        put16(w + 1, DNS_TYPE_OPT);
        put16(w + 3, DNS_EDNS_PAYLOAD);
        memset(w + 5, 0, 6);
        w += 11;
    }
    return (int)(w - out);
}

int dns_name_eq(const char *a, const char *b)
{
    if (!a || !b)
        return 0;
    size_t la = strlen(a), lb = strlen(b);
    if (la && a[la - 1] == '.')
        la--;
    if (lb && b[lb - 1] == '.')
        lb--;
    if (la != lb)
        return 0;
    for (size_t i = 0; i < la; i++)
        if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
            return 0;
    return 1;
}
