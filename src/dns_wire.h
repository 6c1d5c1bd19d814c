/* dns_wire.h -- DNS messages (RFC 1035 4, EDNS0 RFC 6891): build queries,
 * decode answers.  Pure: no I/O, no allocation, no globals; every count
 * and offset is checked against the message (../shared/SECURITY.md G). */
#ifndef HF_DNS_WIRE_H
#define HF_DNS_WIRE_H
#include <stddef.h>
#include <stdint.h>

#define DNS_TYPE_A     1
#define DNS_TYPE_CNAME 5
#define DNS_TYPE_SOA   6
#define DNS_TYPE_AAAA  28
#define DNS_TYPE_OPT   41
#define DNS_CLASS_IN   1

#define DNS_RCODE_NOERROR  0
#define DNS_RCODE_FORMERR  1
#define DNS_RCODE_SERVFAIL 2
#define DNS_RCODE_NXDOMAIN 3
#define DNS_RCODE_REFUSED  5

#define DNS_EDNS_PAYLOAD 1232      /* DNS Flag Day 2020 */
#define DNS_MAX_NAME 255           /* wire length, RFC 1035 2.3.4 */
#define DNS_MAX_TEXT 254           /* dotted text, without the final dot */
#define DNS_MAX_RR 64              /* records kept from one answer */
#define DNS_MAX_PTR_HOPS 32        /* compression pointers in one name */

enum {
    DNS_ERR_SHORT = -1,     /* message ends inside a field */
    DNS_ERR_NAME = -2,      /* bad label length/type, name > 255, bad pointer
                             * (forward, self, loop, past the end), too many
                             * hops, or a byte unfit for a host name */
    DNS_ERR_FORMAT = -3,    /* header or record counts inconsistent, RDLENGTH
                             * past the end, A/AAAA with wrong RDLENGTH,
                             * not a response, more than one question */
    DNS_ERR_SPACE = -4,     /* output buffer too small (encoder) */
};

/* Encode a standard query (RD=1) for name (dotted text, trailing dot
 * optional, "" or "." not allowed, each label 1..63 bytes of letters,
 * digits, '-' or '_' -- the bytes dns_decode accepts in a question --,
 * total wire length <= 255) and qtype, with an EDNS0 OPT record advertising
 * DNS_EDNS_PAYLOAD when edns is non-zero.  Returns the length written to out
 * (<= cap), or DNS_ERR_NAME / DNS_ERR_SPACE.  Names are case-preserved. */
int dns_encode_query(uint8_t *out, size_t cap, uint16_t id, const char *name,
                     uint16_t qtype, int edns);

/* One decoded resource record of the answer section. */
typedef struct dns_rr {
    char name[DNS_MAX_TEXT + 1];   /* owner, dotted, lower-cased, no final dot */
    uint16_t type;                 /* DNS_TYPE_* */
    uint32_t ttl;                  /* a TTL above 2^31-1 is read as 0, as
                                    * RFC 2181 8 says ("treated as if the
                                    * entire value received was zero") */
    union {
        uint8_t a[4];
        uint8_t aaaa[16];
        char cname[DNS_MAX_TEXT + 1];  /* target, as name */
    } u;
} dns_rr;

typedef struct dns_msg {
    uint16_t id;
    int rcode;                     /* 0..15 */
    int tc;                        /* truncated: retry over TCP */
    int aa;
    char qname[DNS_MAX_TEXT + 1];  /* the question, lower-cased */
    uint16_t qtype;
    size_t nrr;                    /* answers kept: A, AAAA, CNAME of class IN */
    dns_rr rr[DNS_MAX_RR];         /* others (e.g. RRSIG) are skipped */
    uint32_t neg_ttl;              /* RFC 2308 5: min(SOA TTL, SOA MINIMUM)
                                    * of the first SOA (class IN) of the
                                    * authority section, or 0 when there is
                                    * no SOA (both read as RFC 2181 8) */
    int has_soa;
} dns_msg;

/* Decode a response.  Returns 0 or a DNS_ERR_* value.  Rejects: QR=0,
 * OPCODE != 0, QDCOUNT != 1, any name that breaks the rules above (labels
 * 1..63 bytes, no 0x40/0x80 label types, wire length <= 255, compression
 * pointers only backwards -- strictly before the start of the labels being
 * read, never into the header -- at most DNS_MAX_PTR_HOPS of them).  The
 * question name, the owner names of A, AAAA and CNAME records of class IN
 * and CNAME targets must also be made of letters, digits, '-', '_' ; any
 * other byte -- NUL, '.', '/', space, '\\', control bytes, non-ASCII -- is
 * DNS_ERR_NAME.  Names that never reach the caller (owners of skipped
 * records, the SOA's) are checked for structure only.  A CNAME's RDATA must
 * be exactly one name; A/AAAA RDLENGTH must be 4/16.  More than DNS_MAX_RR
 * answer records: the rest are skipped safely (still fully checked).  Walks
 * the answer and authority sections; additional (and so OPT) is ignored.
 * With TC=1 only the header and question are read (nrr 0, has_soa 0): the
 * caller retries over TCP.  On error, id/rcode/tc/aa hold the header's
 * values when there is a 12-byte header (0 otherwise), and qname is "",
 * qtype, nrr, neg_ttl and has_soa 0. */
int dns_decode(const uint8_t *msg, size_t len, dns_msg *out);

/* Case-insensitive comparison of two dotted names, ignoring one trailing
 * dot on either.  1 if equal. */
int dns_name_eq(const char *a, const char *b);
#endif
