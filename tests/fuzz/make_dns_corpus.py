#!/usr/bin/env python3
"""make_dns_corpus.py -- write the seed corpora of fuzz_dns and fuzz_dns_conf
(tests/fuzz/corpus/dns/, tests/fuzz/corpus/dns_conf/).  Run from anywhere;
the files are rewritten in place."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def name(s):
    out = b""
    for lab in s.split(".") if s else []:
        out += bytes([len(lab)]) + lab.encode()
    return out + b"\0"


def ptr(off):
    return struct.pack(">H", 0xC000 | off)


def hdr(id_, flags, qd, an, ns, ar):
    return struct.pack(">6H", id_, flags, qd, an, ns, ar)


def q(qname, qtype=1):
    return name(qname) + struct.pack(">HH", qtype, 1)


def rr(owner, type_, ttl, rdata, class_=1):
    return owner + struct.pack(">HHIH", type_, class_, ttl, len(rdata)) + rdata


def soa(owner, ttl, minimum):
    rd = name("ns1.example") + name("hostmaster.example") + \
        struct.pack(">5I", 2024010101, 7200, 3600, 1209600, minimum)
    return rr(owner, 6, ttl, rd)


OPT = b"\0" + struct.pack(">HHIH", 41, 1232, 0, 0)
R = 0x8180


def dns_seeds():
    s = {}
    s["a.bin"] = hdr(0x1234, R, 1, 1, 0, 0) + q("www.example.com") + \
        rr(ptr(12), 1, 300, bytes([93, 184, 216, 34]))
    s["a_opt.bin"] = hdr(0x1234, R, 1, 2, 0, 1) + q("example.org") + \
        rr(ptr(12), 1, 60, b"\x0a\0\0\x01") + \
        rr(ptr(12), 1, 60, b"\x0a\0\0\x02") + OPT
    s["aaaa.bin"] = hdr(7, R, 1, 1, 0, 0) + q("v6.example.net", 28) + \
        rr(ptr(12), 28, 3600, bytes.fromhex("20010db8" + "0" * 22 + "01"))
    # www.example.com CNAME web.example.net CNAME edge.cdn.example.net, A
    m = hdr(9, R, 1, 4, 0, 0) + q("www.example.com")
    t1 = len(m) + 12
    m += rr(ptr(12), 5, 100, name("web.example.net"))
    t2 = len(m) + 12
    m += rr(ptr(t1), 5, 200, b"\x04edge\x03cdn" + ptr(t1 + 4))
    m += rr(ptr(t2), 1, 20, b"\xc0\0\2\1") + rr(ptr(t2), 1, 20, b"\xc0\0\2\2")
    s["cname_chain.bin"] = m
    s["nxdomain.bin"] = hdr(3, 0x8183, 1, 0, 1, 0) + q("nope.example") + \
        soa(ptr(17), 3600, 300)
    s["nodata.bin"] = hdr(4, R, 1, 0, 1, 1) + q("v4.example", 28) + \
        soa(ptr(15), 900, 60) + OPT
    s["servfail.bin"] = hdr(5, 0x8182, 1, 0, 0, 0) + q("x.example")
    s["tc.bin"] = hdr(6, 0x8380, 1, 9, 0, 0) + q("big.example") + \
        rr(ptr(12), 1, 1, b"\1\2\3\4")[:9]
    s["skipped.bin"] = hdr(8, R, 1, 3, 0, 0) + q("s.example") + \
        rr(ptr(12), 46, 1, b"signature") + \
        rr(ptr(12), 1, 1, b"chaos", class_=3) + rr(ptr(12), 1, 1, b"\1\1\1\1")
    s["underscore.bin"] = hdr(10, R, 1, 0, 0, 0) + q("_dmarc.Example.COM", 16)
    s["ttl_high.bin"] = hdr(11, R, 1, 1, 1, 0) + q("t.example") + \
        rr(ptr(12), 1, 0x80000000, b"\1\2\3\4") + soa(ptr(14), 0xffffffff, 5)
    m = hdr(12, R, 1, 0, 0, 0) + q("big.example")
    n = 0
    while len(m) + 16 <= 2049 - 12:
        m += rr(ptr(12), 1, n, struct.pack(">I", n))
        n += 1
    m += rr(ptr(12), 99, 1, b"p" * (2049 - len(m) - 12))
    s["big_2049.bin"] = m[:6] + struct.pack(">H", n + 1) + m[8:]
    # attacks (RFC 9267, SECURITY.md G.37-G.39)
    base = hdr(13, R, 1, 1, 0, 0) + q("a.example")
    s["ptr_self.bin"] = base + rr(ptr(len(base)), 1, 1, b"\1\1\1\1")
    s["ptr_forward.bin"] = base + rr(ptr(len(base) + 16), 1, 1, b"\1\1\1\1") \
        + rr(name("f.example"), 1, 1, b"\2\2\2\2")
    s["ptr_past_end.bin"] = base + rr(b"\xff\xff", 1, 1, b"\1\1\1\1")
    s["label_0x40.bin"] = base + rr(b"\x40" + b"a" * 64 + b"\0", 1, 1,
                                    b"\1\1\1\1")
    s["no_terminator.bin"] = base + b"\x05owner"
    s["ancount_past.bin"] = hdr(14, R, 1, 50, 0, 0) + q("c.example") + \
        rr(ptr(12), 1, 1, b"\1\1\1\1")
    s["rdlen_past.bin"] = base + ptr(12) + struct.pack(">HHIH", 1, 1, 1, 400)
    s["a_rdlen5.bin"] = base + rr(ptr(12), 1, 1, b"\1\1\1\1\1")
    s["escaped_dot.bin"] = hdr(15, R, 1, 0, 0, 0) + b"\x06hello." + \
        name("example") + b"\0\1\0\1"
    s["nul_in_name.bin"] = base + rr(b"\x03a\0b" + ptr(12), 1, 1, b"\1\1\1\1")
    s["qdcount2.bin"] = hdr(16, R, 2, 0, 0, 0) + q("a") + ptr(12) + b"\0\1\0\1"
    s["query.bin"] = hdr(17, 0x0100, 1, 0, 0, 1) + q("a.example") + OPT
    s["header_only.bin"] = hdr(18, R, 1, 0, 0, 0)
    return s


def conf_seeds():
    s = {}
    s["resolv.txt"] = (b"# resolv.conf\nnameserver 10.0.0.1\n"
                       b"nameserver 2001:db8::53\nnameserver fe80::1%2\n"
                       b"nameserver 9.9.9.9\nsearch Corp.Example. example\n"
                       b"options ndots:2 timeout:3 attempts:4 rotate\n")
    s["domain.txt"] = b"search a b c d e f g\ndomain home.arpa ; comment\n"
    s["options_caps.txt"] = (b"options ndots:99 timeout:0 "
                             b"attempts:99999999999999999999 edns0\n")
    s["crlf_nul.txt"] = (b"nameserver 1.1.1.1\r\nname\0server 2.2.2.2\r\n"
                         b"search x\0y\r\nnameserver 3.3.3.3")
    s["zones.txt"] = b"nameserver fe80::1%lo\nnameserver ::1%\nnameserver ::2%4294967296\n"
    s["hosts_web.txt"] = (b"web\n127.0.0.1 localhost\n::1 localhost\n"
                          b"10.0.0.1\tweb web.local # c\n10.0.0.2 WEB.\r\n"
                          b"2001:db8::1 web\nfe80::1%1 web\n")
    s["hosts_alias.txt"] = (b"alias2.\n# x\n192.168.0.1 host alias1 ALIAS2"
                            b"\n10.0.0.3 a#alias2\n")
    s["hosts_nul.txt"] = b"n\n1.1.1.1 m\0n\n\0" b"2.2.2.2 n\n3.3.3.3\tn"
    s["hosts_localhost.txt"] = b"localhost\n127.0.0.1 localhost\n::1 localhost ip6-localhost\n"
    s["long_line.txt"] = b"t\nsearch " + b"x" * 3000 + b"\n1.2.3.4 t\n"
    return s


def write(dirname, seeds):
    d = os.path.join(HERE, "corpus", dirname)
    os.makedirs(d, exist_ok=True)
    for k, v in seeds.items():
        with open(os.path.join(d, k), "wb") as f:
            f.write(v)


if __name__ == "__main__":
    write("dns", dns_seeds())
    write("dns_conf", conf_seeds())
