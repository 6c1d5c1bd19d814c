#!/usr/bin/python3
"""dns_hostile.py -- a scripted DNS server for hflow's resolver tests.

    dns_hostile.py [--host 127.0.0.1] [--port 0] [--portfile F] [--log F] [--fail]

Listens on UDP and TCP on the same port (port 0: any free one, written to
--portfile once both are bound).  Every query received is appended to --log
as one line:

    PROTO SRC_IP SRC_PORT ID QNAME QTYPE EDNS

How it answers is chosen by the query name: the first label (from the left)
that is one of the keywords below; no keyword -> NXDOMAIN with an SOA.
Addresses: 127.0.0.1 / ::1 unless said otherwise; a "bad" answer carries
6.6.6.6 / ::6:6:6:6 so a test can tell it was not taken.

  good       A / AAAA, TTL 300
  shortttl   A / AAAA, TTL 1
  dup        the answer twice
  wrongid    a bad answer with the wrong ID first, then the right one
  wrongq     the right ID but another question (evil.test) first, then right
  otherport  a bad answer from another socket (other source port) first
  icmpother  UDP over IPv4: first a forged ICMP port unreachable to the
             client's port, about a datagram to 127.0.0.2:53 (not this
             server; logged as proto "icmp"; needs a raw socket: root), then
             the answer
  truncated  the answer cut in half first, then the whole one
  empty      an empty datagram first, then the answer
  tc         UDP: TC=1, header and question only; TCP: the answer, 127.0.0.9
  big        UDP: TC=1; TCP: 200 A records 10.0.i.j (> 2048 bytes), sent in
             pieces (the length prefix split too)
  tcpclose   UDP: TC=1; TCP: the connection closed without an answer
  loop       an answer whose owner name is a compression pointer to itself
  pastend    an owner name pointer past the end of the message
  longlabel  an owner name with a 64-byte label
  counts     ANCOUNT 5 with one record in the message
  nul        a CNAME whose target has a NUL byte in a label
  cnameloop  X CNAME b.cnameloop.test, b.cnameloop.test CNAME cnameloop.test
  selfcname  X CNAME X
  hops       hK.hops.test CNAME h(K+1).hops.test (one per answer) up to
             h20.hops.test, which has the address
  servfail   with --fail SERVFAIL, else the answer
  refused    with --fail REFUSED, else the answer
  noanswer   with --fail no reply at all, else the answer
  formerr    FORMERR to a query with EDNS, the answer to one without
  nodata     NOERROR, no records, an SOA (TTL 60, MINIMUM 30)
  nxdomain   NXDOMAIN with an SOA (TTL 60, MINIMUM 30)
  nxnosoa    NXDOMAIN without an SOA
"""

import argparse
import os
import select
import socket
import struct
import sys
import threading
import time

KEYWORDS = {
    "good", "wrongid", "wrongq", "otherport", "icmpother", "truncated", "empty", "tc",
    "big", "tcpclose", "loop", "pastend", "longlabel", "counts", "nul",
    "cnameloop", "selfcname", "hops", "servfail", "refused", "noanswer",
    "formerr", "nodata", "nxdomain", "nxnosoa", "shortttl", "dup",
}

T_A, T_CNAME, T_SOA, T_AAAA, T_OPT = 1, 5, 6, 28, 41
LOG_LOCK = threading.Lock()
ARGS = None


def enc_name(name):
    out = b""
    for lab in name.rstrip(".").split("."):
        if lab:
            b = lab.encode("latin-1")
            out += bytes([len(b)]) + b
    return out + b"\0"


def rr(owner, rtype, ttl, rdata):
    return owner + struct.pack(">HHIH", rtype, 1, ttl, len(rdata)) + rdata


def addr_rdata(qtype, v4, v6):
    if qtype == T_A:
        return socket.inet_pton(socket.AF_INET, v4)
    return socket.inet_pton(socket.AF_INET6, v6)


def soa(zone="test"):
    rdata = (enc_name("ns." + zone) + enc_name("admin." + zone) +
             struct.pack(">IIIII", 1, 3600, 600, 86400, 30))
    return rr(enc_name(zone), T_SOA, 60, rdata)


class Query:
    def __init__(self, data):
        if len(data) < 12:
            raise ValueError("short")
        self.id, self.flags, qd, an, ns, ar = struct.unpack(">HHHHHH", data[:12])
        if qd != 1:
            raise ValueError("qdcount")
        p, labels = 12, []
        while True:
            n = data[p]
            if n == 0:
                p += 1
                break
            if n & 0xC0:
                raise ValueError("compressed question")
            labels.append(data[p + 1:p + 1 + n].decode("latin-1"))
            p += 1 + n
        self.labels = labels
        self.name = ".".join(labels)
        self.qtype, self.qclass = struct.unpack(">HH", data[p:p + 4])
        p += 4
        self.question = data[12:p]
        self.edns = False
        if ar:
            # the OPT record: root name, type 41
            if data[p:p + 3] == b"\0\0\x29":
                self.edns = True
        self.behaviour = "nxdomain"
        for lab in labels:
            if lab.lower() in KEYWORDS:
                self.behaviour = lab.lower()
                break


def header(qid, an=0, ns=0, rcode=0, tc=False, qd=1, ar=0):
    flags = 0x8000 | 0x0400 | 0x0100 | 0x0080 | rcode   # QR AA RD RA
    if tc:
        flags |= 0x0200
    return struct.pack(">HHHHHH", qid, flags, qd, an, ns, ar)


def answer(q, records, rcode=0, auth=b"", nauth=0, qid=None, question=None):
    return (header(q.id if qid is None else qid, an=len(records), ns=nauth,
                   rcode=rcode) +
            (q.question if question is None else question) +
            b"".join(records) + auth)


def addr_answer(q, v4="127.0.0.1", v6="::1", qid=None, question=None, ttl=300):
    if q.qtype not in (T_A, T_AAAA):
        return answer(q, [], auth=soa(), nauth=1)
    own = enc_name(q.name)
    return answer(q, [rr(own, q.qtype, ttl, addr_rdata(q.qtype, v4, v6))],
                  qid=qid, question=question)


def tc_only(q):
    return header(q.id, tc=True) + q.question


def big_answer(q):
    own = enc_name(q.name)
    recs = []
    for i in range(200):
        if q.qtype == T_A:
            rd = bytes([10, 0, i // 256, i % 256])
        elif q.qtype == T_AAAA:
            rd = socket.inet_pton(socket.AF_INET6, "fd00::%x" % (i + 1))
        else:
            break
        recs.append(rr(own, q.qtype, 300, rd))
    return answer(q, recs)


def malformed(q, kind):
    hq = header(q.id, an=1) + q.question
    tail = struct.pack(">HHIH", q.qtype, 1, 300, 4 if q.qtype == T_A else 16) + \
        addr_rdata(q.qtype if q.qtype in (T_A, T_AAAA) else T_A, "6.6.6.6",
                   "::6:6:6:6")
    if kind == "loop":
        off = len(hq)
        return hq + struct.pack(">H", 0xC000 | off) + tail
    if kind == "pastend":
        return hq + struct.pack(">H", 0xC000 | 0x3FF0) + tail
    if kind == "longlabel":
        return hq + bytes([64]) + b"a" * 64 + b"\0" + tail
    if kind == "counts":
        own = enc_name(q.name)
        return header(q.id, an=5) + q.question + own + tail
    if kind == "nul":
        target = b"\x03x\x00y" + enc_name("test")
        return hq + rr(enc_name(q.name), T_CNAME, 300, target)
    raise ValueError(kind)


def respond(q, proto):
    """The messages to send for q: a list of (bytes, via) where via is
    "main" or "other" (another socket); [] for no reply; None to close (TCP)."""
    b = q.behaviour
    good = addr_answer(q)
    own = enc_name(q.name)
    if b == "good":
        return [(good, "main")]
    if b == "dup":
        return [(good, "main"), (good, "main")]
    if b == "shortttl":
        return [(addr_answer(q, ttl=1), "main")]
    if b == "wrongid":
        return [(addr_answer(q, "6.6.6.6", "::6:6:6:6", qid=q.id ^ 0x5a5a), "main"),
                (good, "main")]
    if b == "wrongq":
        evil = enc_name("evil.test") + struct.pack(">HH", q.qtype, 1)
        bad = header(q.id, an=1) + evil + rr(
            enc_name("evil.test"), q.qtype if q.qtype in (T_A, T_AAAA) else T_A, 300,
            addr_rdata(q.qtype if q.qtype in (T_A, T_AAAA) else T_A, "6.6.6.6",
                       "::6:6:6:6"))
        return [(bad, "main"), (good, "main")]
    if b == "otherport":
        return [(addr_answer(q, "6.6.6.6", "::6:6:6:6"), "other"), (good, "main")]
    if b == "icmpother" and proto == "udp":
        return [(b"", "icmp"), (good, "main")]
    if b == "truncated":
        return [(good[:len(good) // 2], "main"), (good, "main")]
    if b == "empty":
        return [(b"", "main"), (good, "main")]
    if b in ("tc", "big", "tcpclose"):
        if proto == "udp":
            return [(tc_only(q), "main")]
        if b == "tc":
            return [(addr_answer(q, "127.0.0.9", "::9"), "main")]
        if b == "big":
            return [(big_answer(q), "main")]
        return None
    if b in ("loop", "pastend", "longlabel", "counts", "nul"):
        return [(malformed(q, b), "main")]
    if b == "cnameloop":
        a, c = enc_name("cnameloop.test"), enc_name("b.cnameloop.test")
        return [(answer(q, [rr(a, T_CNAME, 300, c), rr(c, T_CNAME, 300, a)]), "main")]
    if b == "selfcname":
        return [(answer(q, [rr(own, T_CNAME, 300, own)]), "main")]
    if b == "hops":
        first = q.labels[0].lower()
        k = int(first[1:]) if first.startswith("h") and first[1:].isdigit() else 0
        if k >= 20:
            return [(good, "main")]
        nxt = enc_name("h%d.hops.test" % (k + 1))
        return [(answer(q, [rr(own, T_CNAME, 300, nxt)]), "main")]
    if b in ("servfail", "refused"):
        if ARGS.fail:
            return [(answer(q, [], rcode=2 if b == "servfail" else 5), "main")]
        return [(good, "main")]
    if b == "noanswer":
        return [] if ARGS.fail else [(good, "main")]
    if b == "formerr":
        if q.edns:
            return [(answer(q, [], rcode=1), "main")]
        return [(good, "main")]
    if b == "nodata":
        return [(answer(q, [], auth=soa(), nauth=1), "main")]
    if b == "nxnosoa":
        return [(answer(q, [], rcode=3), "main")]
    return [(answer(q, [], rcode=3, auth=soa(), nauth=1), "main")]


def log_query(proto, src, q):
    if not ARGS.log:
        return
    line = "%s %s %d %d %s %d %d\n" % (proto, src[0], src[1], q.id, q.name or ".",
                                       q.qtype, 1 if q.edns else 0)
    with LOG_LOCK:
        with open(ARGS.log, "a") as f:
            f.write(line)


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(">%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def forge_icmp(src, about):
    """An ICMP port unreachable (RFC 792) to src = (ip, port), about a UDP
    datagram src would have sent to about = (ip, port)."""
    udp = struct.pack(">HHHH", src[1], about[1], 8 + 12, 0)
    iph = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + 8 + 12, 0, 0, 64, 17, 0,
                      socket.inet_aton(src[0]), socket.inet_aton(about[0]))
    iph = iph[:10] + struct.pack(">H", csum(iph)) + iph[12:]
    msg = struct.pack(">BBHI", 3, 3, 0, 0) + iph + udp
    msg = msg[:2] + struct.pack(">H", csum(msg)) + msg[4:]
    r = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    try:
        r.sendto(msg, (src[0], 0))
    finally:
        r.close()


def handle_udp(sock, data, src):
    try:
        q = Query(data)
    except (ValueError, IndexError, struct.error):
        return
    log_query("udp", src, q)
    for msg, via in respond(q, "udp") or []:
        if via == "icmp":
            forge_icmp(src, ("127.0.0.2", 53))
            log_query("icmp", src, q)
        elif via == "other":
            fam = socket.AF_INET6 if ":" in ARGS.host else socket.AF_INET
            o = socket.socket(fam, socket.SOCK_DGRAM)
            o.bind((ARGS.host, 0))
            o.sendto(msg, src)
            o.close()
        else:
            sock.sendto(msg, src)


def recv_exact(c, n):
    buf = b""
    while len(buf) < n:
        d = c.recv(n - len(buf))
        if not d:
            return None
        buf += d
    return buf


def handle_tcp(c, src):
    c.settimeout(10)
    try:
        while True:
            hdr = recv_exact(c, 2)
            if hdr is None:
                return
            data = recv_exact(c, struct.unpack(">H", hdr)[0])
            if data is None:
                return
            try:
                q = Query(data)
            except (ValueError, IndexError, struct.error):
                return
            log_query("tcp", src, q)
            out = respond(q, "tcp")
            if out is None:
                return
            for msg, _ in out:
                framed = struct.pack(">H", len(msg)) + msg
                if q.behaviour == "big":
                    # any split: one byte of the prefix, then pieces
                    c.sendall(framed[:1])
                    time.sleep(0.02)
                    for i in range(1, len(framed), 1000):
                        c.sendall(framed[i:i + 1000])
                        time.sleep(0.005)
                else:
                    c.sendall(framed)
    except OSError:
        pass
    finally:
        c.close()


def bind_both(host, port):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    for _ in range(50):
        t = socket.socket(fam, socket.SOCK_STREAM)
        t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        t.bind((host, port))
        p = t.getsockname()[1]
        u = socket.socket(fam, socket.SOCK_DGRAM)
        try:
            u.bind((host, p))
        except OSError:
            t.close()
            u.close()
            if port:
                raise
            continue
        t.listen(64)
        return t, u, p
    raise RuntimeError("no port free for both UDP and TCP")


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--portfile")
    ap.add_argument("--log")
    ap.add_argument("--fail", action="store_true",
                    help="servfail/refused/noanswer misbehave on this instance")
    ARGS = ap.parse_args()
    tcp, udp, port = bind_both(ARGS.host, ARGS.port)
    if ARGS.portfile:
        tmp = ARGS.portfile + ".tmp"
        with open(tmp, "w") as f:
            f.write(str(port))
        os.rename(tmp, ARGS.portfile)
    print("dns_hostile on %s:%d" % (ARGS.host, port), flush=True)
    while True:
        r, _, _ = select.select([udp, tcp], [], [])
        if udp in r:
            # drain what is there: many queries may be in flight
            udp.setblocking(False)
            while True:
                try:
                    data, src = udp.recvfrom(65535)
                except BlockingIOError:
                    break
                handle_udp(udp, data, src)
            udp.setblocking(True)
        if tcp in r:
            c, src = tcp.accept()
            threading.Thread(target=handle_tcp, args=(c, src), daemon=True).start()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
