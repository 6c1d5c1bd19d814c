"""hflow's stub resolver (src/resolver.c) through build/tools/dnsq, against
dnsmasq and tests/servers/dns_hostile.py on loopback.  Every test writes its
own resolv.conf and hosts file and names its server with --servers (a
resolv.conf cannot hold a port): the machine's nameservers are never asked.

dnsq prints one line per address ("NAME A 127.0.0.1 ttl=300 source=dns
server=127.0.0.1:5353 tcp=0 ms=0.41 cname=..."), "NAME error 6: why" per
failure, and with --stats the resolver's counters."""

import os
import re
import shutil
import socket
import subprocess
import time

from harness import (PY, SAN_RE, SERVERS, Result, _stop_proc, _wait_for,
                     free_port, have_ipv6, port_open, start_proc, test)

DNSMASQ_RECORDS = [
    "--host-record=a.test,127.0.0.7",
    "--host-record=six.test,::7",
    "--host-record=both.test,127.0.0.8,::8",
    "--host-record=multi.test,127.0.0.1",
    "--host-record=multi.test,127.0.0.2",
    "--host-record=multi.test,127.0.0.3",
    "--host-record=www.sub.test,127.0.0.21",
    "--host-record=cache1.test,127.0.0.31",
    "--host-record=cache2.test,127.0.0.32",
    "--host-record=hostsonly.test,127.0.0.50",
    "--cname=c1.test,c2.test",
    "--cname=c2.test,a.test",
]


# ------------------------------------------------------------------ servers

class Dnsmasq:
    """dnsmasq on 127.0.0.1 (UDP and TCP) answering from its own records
    only (--local=/#/: any other name is NXDOMAIN, nothing is forwarded),
    logging every query to a file."""

    def __init__(self, tmp):
        self.bin = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
        if not os.access(self.bin, os.X_OK):
            raise FileNotFoundError("dnsmasq not installed (make deps)")
        self.dir = os.path.join(tmp, "dnsmasq")
        os.makedirs(self.dir, exist_ok=True)
        self.log = os.path.join(self.dir, "queries.log")
        last = None
        for _ in range(3):
            self.port = free_port()
            cmd = [self.bin, "--keep-in-foreground", "--no-resolv", "--no-hosts",
                   "--port=%d" % self.port, "--listen-address=127.0.0.1",
                   "--bind-interfaces",
                   "--pid-file=" + os.path.join(self.dir, "dnsmasq.pid"),
                   "--log-queries", "--log-facility=" + self.log,
                   "--local=/#/", "--local-ttl=300", "--cache-size=1000"]
            if os.geteuid() == 0:
                cmd.append("--user=root")   # else it drops to nobody
            self.proc = start_proc(cmd + DNSMASQ_RECORDS,
                                   os.path.join(self.dir, "stderr.log"))
            try:
                _wait_for(lambda: port_open("127.0.0.1", self.port), 10,
                          self.proc, "dnsmasq")
                return
            except RuntimeError as e:
                last = e
                _stop_proc(self.proc)
        raise RuntimeError("dnsmasq: %s" % last)

    @property
    def server(self):
        return "127.0.0.1:%d" % self.port

    def mark(self):
        return os.path.getsize(self.log) if os.path.exists(self.log) else 0

    def queries(self, mark=0, settle=0.1):
        """[(type, name)] asked since mark, from the query log."""
        time.sleep(settle)
        with open(self.log, "rb") as f:
            f.seek(mark)
            text = f.read().decode("latin-1")
        return re.findall(r"query\[(\w+)\] (\S+) from", text)

    def stop(self):
        _stop_proc(self.proc)


class DnsHostile:
    """tests/servers/dns_hostile.py; fail=True: the instance whose
    servfail/refused/noanswer names misbehave."""

    def __init__(self, tmp, tag, host="127.0.0.1", fail=False, port=0):
        self.dir = os.path.join(tmp, "dns-hostile-" + tag)
        os.makedirs(self.dir, exist_ok=True)
        self.log = os.path.join(self.dir, "queries.log")
        open(self.log, "a").close()
        portfile = os.path.join(self.dir, "port")
        self.host = host
        cmd = [PY, os.path.join(SERVERS, "dns_hostile.py"), "--host", host,
               "--port", str(port), "--portfile", portfile, "--log", self.log]
        if fail:
            cmd.append("--fail")
        self.proc = start_proc(cmd, os.path.join(self.dir, "server.log"))
        _wait_for(lambda: os.path.exists(portfile), 10, self.proc, "dns_hostile.py")
        with open(portfile) as f:
            self.port = int(f.read())

    @property
    def server(self):
        h = "[%s]" % self.host if ":" in self.host else self.host
        return "%s:%d" % (h, self.port)

    def mark(self):
        return os.path.getsize(self.log)

    def queries(self, mark=0, settle=0.1):
        """[dict(proto, ip, port, id, name, qtype, edns)] since mark."""
        time.sleep(settle)
        with open(self.log) as f:
            f.seek(mark)
            out = []
            for line in f.read().splitlines():
                p = line.split()
                if len(p) == 7:
                    out.append(dict(proto=p[0], ip=p[1], port=int(p[2]), id=int(p[3]),
                                    name=p[4], qtype=int(p[5]), edns=p[6] == "1"))
            return out

    def stop(self):
        _stop_proc(self.proc)


def _dnsmasq(t):
    try:
        return t.env.server("dnsmasq", lambda: Dnsmasq(t.env.tmp))
    except FileNotFoundError as e:
        t.skip(str(e))


def _hostile(t):
    """The misbehaving instance (--fail)."""
    return t.env.server("dns_hostile", lambda: DnsHostile(t.env.tmp, "a", fail=True))


def _hostile_ok(t):
    """A second instance where servfail/refused/noanswer answer well."""
    return t.env.server("dns_hostile_ok", lambda: DnsHostile(t.env.tmp, "b"))


# ----------------------------------------------------------------- the tool

class Out:
    LINE = re.compile(r"^(\S+) (A|AAAA) (\S+) ttl=(\d+) source=(\w+) server=(\S+) "
                      r"tcp=(\d) ms=(\S+) cname=(.*)$")

    def __init__(self, r):
        self.r = r
        self.answers = []
        self.errors = {}
        self.stats = {}
        for line in r.out.decode("utf-8", "replace").splitlines():
            m = self.LINE.match(line)
            if m:
                self.answers.append(dict(
                    name=m.group(1), type=m.group(2), addr=m.group(3),
                    ttl=int(m.group(4)), source=m.group(5), server=m.group(6),
                    tcp=int(m.group(7)), ms=float(m.group(8)), cname=m.group(9)))
                continue
            m = re.match(r"^(\S+) error (\d+): (.*)$", line)
            if m:
                self.errors[m.group(1)] = (int(m.group(2)), m.group(3))
                continue
            if line.startswith(("stats: ", "time: ")):
                for k, v in re.findall(r"(\w+)=(\S+)", line):
                    self.stats[k] = float(v) if "." in v else int(v)

    def addrs(self, name=None, typ=None, source=None):
        return [a["addr"] for a in self.answers
                if (name is None or a["name"] == name) and
                (typ is None or a["type"] == typ) and
                (source is None or a["source"] == source) and a["addr"] != "-"]

    def get(self, name, typ):
        return [a for a in self.answers if a["name"] == name and a["type"] == typ]


def _dnsq_bin(t):
    t.hflow_only("dnsq drives hflow's resolver")
    p = os.path.join(os.path.dirname(t.client.bin), "tools", "dnsq")
    if not os.access(p, os.X_OK):
        t.skip("no %s (make builds tests/tools/dnsq.c)" % p)
    return p


def _conf(t, text="", servers=None):
    """A resolv.conf for this test: short timeouts, and a nameserver line
    that --servers replaces (the real port is not expressible in it)."""
    body = "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n" + text
    return t.write("resolv.conf", body.encode())


def dnsq(t, server, args, conf=None, hosts=b"", timeout=25):
    """Run dnsq against server ("127.0.0.1:PORT[,...]") with this test's
    resolv.conf and hosts file; returns Out (its .r is the Result)."""
    binary = _dnsq_bin(t)
    if conf is None:
        conf = _conf(t)
    hp = t.write("hosts", hosts)
    cmd = list(t.client.wrap) + [binary, "--resolv-conf", conf, "--hosts", hp]
    if server is not None:
        cmd += ["--servers", server]
    cmd += list(args)
    timeout = min(30.0, timeout + t.slack * 2)
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=timeout, env=t.client.env)
        r = Result(cmd, p.returncode, p.stdout, p.stderr.decode("utf-8", "replace"),
                   time.monotonic() - t0)
    except subprocess.TimeoutExpired as ex:
        r = Result(cmd, None, ex.stdout or b"",
                   (ex.stderr or b"").decode("utf-8", "replace"),
                   time.monotonic() - t0, timed_out=True)
    t.runs.append(r)
    if SAN_RE.search(r.err):
        t.fail("sanitizer/valgrind report: %s" % r.brief())
    if t.env.valgrind and r.rc == 99:
        t.fail("valgrind error exit 99: %s" % r.brief())
    return Out(r)


def _ok(t, o):
    t.check(o.r.rc == 0, "dnsq exit 0: %s" % o.r.brief())


def _fails(t, o, name, *patterns):
    t.check(o.r.rc == 6, "dnsq exit 6: %s" % o.r.brief())
    err = o.errors.get(name)
    if not t.check(err is not None, "an error line for %s: %s" % (name, o.r.brief())):
        return
    t.eq(err[0], 6, "error code")
    t.check(err[1].startswith(name.rstrip(".") + ":"),
            "the why names the name: %r" % err[1])
    for p in patterns:
        t.match(p, err[1], "why")


# ------------------------------------------------------------------ dnsmasq

@test(tags=("fast",))
def dnsmasq_a_only(t):
    d = _dnsmasq(t)
    m = d.mark()
    o = dnsq(t, d.server, ["-4", "a.test"])
    _ok(t, o)
    t.eq(o.addrs("a.test", "A"), ["127.0.0.7"], "A")
    a = o.get("a.test", "A")
    t.eq([(x["source"], x["server"], x["ttl"], x["tcp"]) for x in a],
         [("dns", d.server, 300, 0)], "source, server, ttl, tcp")
    t.eq(o.get("a.test", "AAAA"), [], "no AAAA answer with -4")
    t.eq(d.queries(m), [("A", "a.test")], "dnsmasq saw one A query")


@test(tags=("fast",))
def dnsmasq_aaaa_only(t):
    d = _dnsmasq(t)
    m = d.mark()
    o = dnsq(t, d.server, ["-6", "six.test"])
    _ok(t, o)
    t.eq(o.addrs("six.test", "AAAA"), ["::7"], "AAAA")
    t.eq(o.get("six.test", "A"), [], "no A answer with -6")
    t.eq(d.queries(m), [("AAAA", "six.test")], "dnsmasq saw one AAAA query")


@test(tags=("fast",))
def dnsmasq_both_families_in_parallel(t):
    d = _dnsmasq(t)
    m = d.mark()
    o = dnsq(t, d.server, ["-v", "both.test"])
    _ok(t, o)
    t.eq(o.addrs("both.test", "A"), ["127.0.0.8"], "A")
    t.eq(o.addrs("both.test", "AAAA"), ["::8"], "AAAA")
    t.eq(sorted(d.queries(m)), [("A", "both.test"), ("AAAA", "both.test")],
         "dnsmasq queries")
    # both asked before either answer came back
    err = o.r.err
    asks = [m_.start() for m_ in re.finditer(r"DNS: asking \S+ over UDP", err)]
    first_answer = err.find("DNS: answer from")
    t.check(len(asks) == 2 and first_answer > max(asks or [0]),
            "A and AAAA asked in parallel: %r" % err[:600])
    t.match(r"DNS: asking 127\.0\.0\.1:%d over UDP: A\? both\.test \(id 0x[0-9a-f]{4}\)"
            % d.port, err, "-v asking line")
    t.match(r"DNS: answer from 127\.0\.0\.1:%d in \d+\.\d+ ms: both\.test AAAA 300 ::8"
            % d.port, err, "-v answer line")


@test(tags=("fast",))
def dnsmasq_several_addresses(t):
    d = _dnsmasq(t)
    o = dnsq(t, d.server, ["-4", "multi.test"])
    _ok(t, o)
    t.eq(sorted(o.addrs("multi.test", "A")), ["127.0.0.1", "127.0.0.2", "127.0.0.3"],
         "three A records")


@test(tags=("fast",))
def dnsmasq_cname_chain(t):
    d = _dnsmasq(t)
    o = dnsq(t, d.server, ["-4", "-v", "c1.test"])
    _ok(t, o)
    t.eq(o.addrs("c1.test", "A"), ["127.0.0.7"], "address at the end of the chain")
    a = o.get("c1.test", "A")
    t.eq([x["cname"] for x in a], ["c1.test -> c2.test -> a.test"], "chain kept")
    t.contains(o.r.err, "DNS: CNAME chain c1.test -> c2.test -> a.test", "-v chain line")
    t.match(r"c1\.test CNAME 300 c2\.test", o.r.err, "-v CNAME record")


@test(tags=("fast",))
def dnsmasq_nxdomain(t):
    d = _dnsmasq(t)
    o = dnsq(t, d.server, ["nosuch.test"])
    _fails(t, o, "nosuch.test", r"NXDOMAIN", re.escape(d.server))
    t.eq(o.answers, [], "no answers")


@test(tags=("fast",))
def dnsmasq_search_list_short_name(t):
    d = _dnsmasq(t)
    conf = _conf(t, "search nope.test sub.test\noptions ndots:2\n")
    m = d.mark()
    o = dnsq(t, d.server, ["-4", "www"], conf=conf)
    _ok(t, o)
    t.eq(o.addrs("www", "A"), ["127.0.0.21"], "found through the search list")
    t.eq(d.queries(m), [("A", "www.nope.test"), ("A", "www.sub.test")],
         "search domains in order, stopping at the first answer")


@test()
def dnsmasq_search_list_ndots_as_is_first(t):
    d = _dnsmasq(t)
    conf = _conf(t, "search nope.test\noptions ndots:2\n")
    m = d.mark()
    o = dnsq(t, d.server, ["-4", "www.sub.test"], conf=conf)
    _ok(t, o)
    t.eq(d.queries(m), [("A", "www.sub.test")], "2 dots >= ndots 2: as is, first")
    m = d.mark()
    o = dnsq(t, d.server, ["-4", "nothere.x"], conf=conf)
    _fails(t, o, "nothere.x", r"NXDOMAIN", r"tried nothere\.x\.nope\.test, nothere\.x")
    t.eq(d.queries(m), [("A", "nothere.x.nope.test"), ("A", "nothere.x")],
         "1 dot < ndots 2: search domains first, then as is")


@test()
def dnsmasq_absolute_name_skips_search(t):
    d = _dnsmasq(t)
    conf = _conf(t, "search sub.test\n")
    m = d.mark()
    o = dnsq(t, d.server, ["-4", "www."], conf=conf)
    _fails(t, o, "www.", r"NXDOMAIN")
    t.not_contains(o.errors.get("www.", (0, ""))[1], "tried", "one candidate only")
    t.eq(d.queries(m), [("A", "www")], "a trailing dot: only the name itself")


@test(tags=("fast",))
def dnsmasq_cache_second_round(t):
    d = _dnsmasq(t)
    m = d.mark()
    o = dnsq(t, d.server, ["-4", "-v", "--repeat", "3", "--stats", "cache1.test"])
    _ok(t, o)
    src = [a["source"] for a in o.get("cache1.test", "A")]
    t.eq(src, ["dns", "cache", "cache"], "sources of the three rounds")
    t.eq(d.queries(m), [("A", "cache1.test")], "dnsmasq asked once")
    t.eq(o.stats.get("queries_sent"), 1, "queries_sent")
    t.eq(o.stats.get("cache_hits"), 2, "cache_hits")
    t.match(r"DNS: cache1\.test from cache \(A, 1 address, ttl (29\d|300)\)", o.r.err,
            "-v cache line")
    ttls = [a["ttl"] for a in o.get("cache1.test", "A")]
    t.check(all(0 < x <= 300 for x in ttls), "ttl left: %s" % ttls)


@test()
def dnsmasq_cache_many_names(t):
    d = _dnsmasq(t)
    names = ["cache2.test", "a.test", "multi.test", "both.test", "c1.test"]
    m = d.mark()
    o = dnsq(t, d.server, ["--repeat", "2", "--stats", "--bench-cached", "1000"] + names)
    _ok(t, o)
    q = d.queries(m)
    t.check(len(q) >= 2 * len(names), "first round asked: %s" % q)
    for n in names:
        srcs = {a["source"] for a in o.get(n, "A")}
        t.check("cache" in srcs, "%s: second round from the cache: %s" % (n, srcs))
    t.match(r"cached: 1000 lookups in \S+ ms: \S+ ns per lookup \(1000 hits\)",
            o.r.out.decode(), "--bench-cached line")


@test(tags=("fast",))
def hosts_file_before_dns(t):
    d = _dnsmasq(t)
    m = d.mark()
    o = dnsq(t, d.server, ["-v", "hostsonly.test", "HostsOnly.Test."],
             hosts=b"# test hosts\n127.0.0.99 hostsonly.test alias\n::99 hostsonly.test\n")
    _ok(t, o)
    t.eq(o.addrs("hostsonly.test", "A", "hosts"), ["127.0.0.99"], "A from hosts")
    t.eq(o.addrs("hostsonly.test", "AAAA", "hosts"), ["::99"], "AAAA from hosts")
    t.eq(o.addrs("HostsOnly.Test.", "A", "hosts"), ["127.0.0.99"],
         "case and final dot ignored")
    t.eq(d.queries(m), [], "no DNS query for a name in the hosts file")
    t.contains(o.r.err, "DNS: hostsonly.test from hosts file", "-v hosts line")


@test()
def system_resolver_localhost(t):
    _dnsq_bin(t)
    o = dnsq(t, None, ["-4", "--system", "-v", "localhost"])
    _ok(t, o)
    t.eq(o.addrs("localhost", "A", "system"), ["127.0.0.1"], "getaddrinfo answer")
    t.contains(o.r.err, "system resolver", "-v line")


@test()
def system_resolver_when_no_nameserver(t):
    _dnsq_bin(t)
    conf = t.write("noserver.conf", b"# no nameserver line\noptions timeout:1\n")
    o = dnsq(t, None, ["-4", "localhost"], conf=conf)
    _ok(t, o)
    t.eq(o.addrs("localhost", "A", "system"), ["127.0.0.1"],
         "resolv.conf without nameserver: the system resolver")


@test()
def bad_servers_spec(t):
    for spec in ("127.0.0.1:0", "127.0.0.1:65536", "[::1", "nothost", "1.2.3.4:x", ""):
        o = dnsq(t, spec, ["a.test"])
        t.eq(o.r.rc, 2, "--servers %r refused" % spec)


# ---------------------------------------------------------- hostile server

def _one(t, name, fam="-4", server=None, args=(), conf=None):
    h = _hostile(t)
    return h, dnsq(t, server or h.server, [fam, "--stats", "-v"] + list(args) + [name],
                   conf=conf)


def _good(t, name, addr="127.0.0.1", tcp=0, ignored=None, fam="-4"):
    h, o = _one(t, name, fam)
    _ok(t, o)
    typ = "A" if fam == "-4" else "AAAA"
    t.eq(o.addrs(name, typ), [addr], "the right answer")
    t.eq([a["tcp"] for a in o.get(name, typ)], [tcp], "tcp")
    if ignored is not None:
        t.eq(o.stats.get("ignored"), ignored, "datagrams ignored")
    return h, o


@test(tags=("fast", "vg"))
def hostile_good(t):
    h = _hostile(t)
    m = h.mark()
    o = dnsq(t, h.server, ["--stats", "good.test"])
    _ok(t, o)
    t.eq(o.addrs("good.test", "A"), ["127.0.0.1"], "A")
    t.eq(o.addrs("good.test", "AAAA"), ["::1"], "AAAA")
    q = h.queries(m)
    t.eq(sorted(x["qtype"] for x in q), [1, 28], "A and AAAA asked")
    t.check(all(x["edns"] for x in q), "EDNS0 on every query")
    # A and AAAA of one lookup share its socket (as glibc's do), each with
    # its own random ID
    t.check(len({x["port"] for x in q}) == 1, "one port per lookup: %s" % q)
    t.check(len({x["id"] for x in q}) == 2, "one ID per query: %s" % q)


@test(tags=("fast",))
def hostile_new_port_per_lookup(t):
    # sockets are kept between lookups, but each lookup gets a new random
    # port (disconnect, then sendto binds a new one) and the stray second
    # copy of an answer never reaches the next lookup
    h = _hostile(t)
    m = h.mark()
    names = ["dup.test"] + ["p%d.good.test" % i for i in range(49)]
    o = dnsq(t, h.server, ["-4", "--inflight", "1", "--stats"] + names)
    _ok(t, o)
    t.eq(len(o.addrs(typ="A")), 50, "all answered")
    t.eq(o.stats.get("ignored"), 0, "no stale datagram seen by a later lookup")
    ports = [x["port"] for x in h.queries(m)]
    t.eq(len(ports), 50, "queries")
    t.check(len(set(ports)) >= 45, "distinct ports over 50 lookups one after "
            "the other: %d" % len(set(ports)))


@test(tags=("fast",))
def hostile_wrong_id_ignored(t):
    _, o = _good(t, "wrongid.test", ignored=1)
    t.match(r"ignored a datagram .*wrong id", o.r.err, "-v line")


@test(tags=("fast",))
def hostile_wrong_question_ignored(t):
    _, o = _good(t, "wrongq.test", ignored=1)
    t.match(r"ignored a datagram .*wrong question", o.r.err, "-v line")


@test(tags=("fast",))
def hostile_other_port_ignored(t):
    # an answer counts only from the server's address and port (the query
    # socket is not connect()ed: the resolver checks the source itself)
    h, o = _good(t, "otherport.test", ignored=1)
    t.not_contains(o.r.out.decode(), "6.6.6.6", "the spoofed address")
    t.match(r"ignored a datagram from 127\.0\.0\.1:\d+ \(\d+ bytes\): not %s"
            % re.escape(h.server), o.r.err, "-v line")


@test(tags=("fast",))
def hostile_icmp_error_about_another_address_ignored(t):
    # an ICMP port unreachable naming the lookup's port reaches its socket
    # whatever datagram it is about; only one about the server counts
    h = _hostile(t)
    m = h.mark()
    _, o = _good(t, "icmpother.test", ignored=1)
    t.eq([x["proto"] for x in h.queries(m)], ["udp", "icmp"],
         "the forged ICMP error was sent (raw socket) before the answer")
    t.contains(o.r.err, "ignored an ICMP error about another address", "-v line")


@test(tags=("fast",))
def refused_server_then_second_server(t):
    # nothing listens on the first server's port: the kernel's ICMP port
    # unreachable moves the lookup to the second at once, not after the
    # 5 s timeout
    h = _hostile(t)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    dead = "127.0.0.1:%d" % s.getsockname()[1]
    s.close()
    o = dnsq(t, "%s,%s" % (dead, h.server), ["-4", "-v", "good.test"],
             conf=_conf(t, "options timeout:5\n"))
    _ok(t, o)
    t.eq([x["server"] for x in o.get("good.test", "A")], [h.server], "from the second")
    t.contains(o.r.err, "connection refused (ICMP) from %s" % dead, "-v line")
    t.check(o.r.elapsed < 4, "no timeout waited: %.2f s" % o.r.elapsed)


@test(tags=("fast",))
def hostile_truncated_datagram_ignored(t):
    _good(t, "truncated.test", ignored=1)


@test(tags=("fast",))
def hostile_empty_datagram_first(t):
    _, o = _good(t, "empty.test", ignored=1)
    t.match(r"ignored a datagram .*\(0 bytes\): empty", o.r.err, "-v line")


@test(tags=("fast", "vg"))
def hostile_tc_then_tcp(t):
    h = _hostile(t)
    m = h.mark()
    _, o = _good(t, "tc.test", addr="127.0.0.9", tcp=1)
    t.eq([x["proto"] for x in h.queries(m)], ["udp", "tcp"], "UDP, then TCP")
    t.match(r"truncated answer .*over TCP", o.r.err, "-v line")
    t.match(r"asking \S+ over TCP: A\? tc\.test", o.r.err, "-v TCP line")
    t.eq(o.stats.get("queries_sent"), 2, "queries_sent")


@test(tags=("fast",))
def hostile_big_answer_over_tcp(t):
    h, o = _one(t, "big.test")
    _ok(t, o)
    got = o.addrs("big.test", "A")
    t.eq(got, ["10.0.0.%d" % i for i in range(16)], "the first 16 of 200 records")
    t.eq({a["tcp"] for a in o.get("big.test", "A")}, {1}, "over TCP")
    o6 = dnsq(t, h.server, ["-6", "big.test"])
    _ok(t, o6)
    t.eq(len(o6.addrs("big.test", "AAAA")), 16, "AAAA over TCP (> 2048 bytes)")


@test()
def hostile_tcp_closed_without_answer(t):
    h, o = _one(t, "tcpclose.test")
    _fails(t, o, "tcpclose.test", r"closed", re.escape(h.server))


def _malformed(t, name):
    h, o = _one(t, name)
    _fails(t, o, name, r"malformed", re.escape(h.server))
    t.eq(o.stats.get("ignored"), 1, "the datagram was ignored, not fatal")
    t.not_contains(o.r.out.decode(), "6.6.6.6", "nothing from the bad answer")


@test(tags=("fast",))
def hostile_compression_loop(t):
    _malformed(t, "loop.test")


@test(tags=("fast",))
def hostile_pointer_past_end(t):
    _malformed(t, "pastend.test")


@test(tags=("fast",))
def hostile_label_64(t):
    _malformed(t, "longlabel.test")


@test(tags=("fast",))
def hostile_counts_beyond_data(t):
    _malformed(t, "counts.test")


@test(tags=("fast",))
def hostile_nul_in_name(t):
    _malformed(t, "nul.test")


@test(tags=("fast", "vg"))
def hostile_cname_loop(t):
    _, o = _one(t, "cnameloop.test")
    _fails(t, o, "cnameloop.test", r"CNAME loop")


@test(tags=("fast",))
def hostile_self_cname(t):
    _, o = _one(t, "selfcname.test")
    _fails(t, o, "selfcname.test", r"CNAME loop")


@test(tags=("fast",))
def hostile_cname_hop_limit(t):
    h = _hostile(t)
    m = h.mark()
    _, o = _one(t, "h0.hops.test")
    _fails(t, o, "h0.hops.test", r"too many CNAMEs")
    n = len(h.queries(m))
    t.check(8 <= n <= 17, "stopped within 8-16 hops: %d queries" % n)
    _, o = _one(t, "h6.hops.test")
    _ok(t, o)
    a = o.get("h6.hops.test", "A")
    t.check(a and a[0]["cname"].count(" -> ") == 14, "14 hops followed: %s" % a)


@test(tags=("fast",))
def hostile_formerr_retries_without_edns(t):
    h = _hostile(t)
    m = h.mark()
    _good(t, "formerr.test")
    t.eq([x["edns"] for x in h.queries(m)], [True, False], "EDNS, then plain")


@test()
def hostile_nodata(t):
    _, o = _one(t, "nodata.test")
    _fails(t, o, "nodata.test", r"NODATA")


@test(tags=("fast",))
def hostile_negative_cache_with_soa(t):
    h = _hostile(t)
    m = h.mark()
    _, o = _one(t, "nxdomain.test", args=["--repeat", "2"])
    t.eq(o.r.rc, 6, "exit 6")
    t.eq(len(h.queries(m)), 1, "the second round came from the negative cache")
    t.eq(o.stats.get("cache_hits"), 1, "cache_hits")
    t.match(r"nxdomain\.test from cache \(A, NXDOMAIN, ttl (29|30)\)", o.r.err,
            "-v line (SOA MINIMUM 30)")


@test()
def hostile_no_negative_cache_without_soa(t):
    h = _hostile(t)
    m = h.mark()
    _, o = _one(t, "nxnosoa.test", args=["--repeat", "2"])
    t.eq(o.r.rc, 6, "exit 6")
    t.eq(len(h.queries(m)), 2, "asked again: NXDOMAIN without an SOA is not cached")


@test()
def hostile_ttl_expiry(t):
    h = _hostile(t)
    m = h.mark()
    _, o = _one(t, "shortttl.test", args=["--repeat", "2", "--pause-ms", "1300"])
    _ok(t, o)
    t.eq([a["source"] for a in o.get("shortttl.test", "A")], ["dns", "dns"],
         "TTL 1: asked again after 1.3 s")
    t.eq(len(h.queries(m)), 2, "queries")


def _two(t, name, conf_extra=""):
    a, b = _hostile(t), _hostile_ok(t)
    ma, mb = a.mark(), b.mark()
    o = dnsq(t, "%s,%s" % (a.server, b.server), ["-4", "-v", name],
             conf=_conf(t, conf_extra))
    return a, b, ma, mb, o


@test(tags=("fast",))
def hostile_servfail_then_second_server(t):
    a, b, ma, mb, o = _two(t, "servfail.test")
    _ok(t, o)
    t.eq(o.addrs("servfail.test", "A"), ["127.0.0.1"], "answer")
    t.eq([x["server"] for x in o.get("servfail.test", "A")], [b.server], "from the second")
    t.eq(len(a.queries(ma, settle=0)), 1, "one query to the first")
    t.contains(o.r.err, "SERVFAIL from %s" % a.server, "-v line")


@test()
def hostile_refused_then_second_server(t):
    a, b, ma, mb, o = _two(t, "refused.test")
    _ok(t, o)
    t.eq([x["server"] for x in o.get("refused.test", "A")], [b.server], "from the second")


@test(tags=("fast",))
def hostile_no_answer_then_second_server(t):
    a, b, ma, mb, o = _two(t, "noanswer.test")
    _ok(t, o)
    t.eq([x["server"] for x in o.get("noanswer.test", "A")], [b.server], "from the second")
    t.check(0.9 < o.r.elapsed < 5, "after one 1 s timeout: %.2f s" % o.r.elapsed)


@test()
def hostile_no_answer_all_servers_failed(t):
    h = _hostile(t)
    m = h.mark()
    o = dnsq(t, h.server, ["-4", "noanswer.test"],
             conf=_conf(t, "options attempts:2\n"))
    _fails(t, o, "noanswer.test", r"all servers failed", r"timeout", re.escape(h.server))
    t.eq(len(h.queries(m)), 2, "attempts:2 -> two tries")
    t.check(1.8 < o.r.elapsed < 6, "two 1 s timeouts: %.2f s" % o.r.elapsed)


@test()
def hostile_servfail_only(t):
    h = _hostile(t)
    o = dnsq(t, h.server, ["-4", "servfail.test"])
    _fails(t, o, "servfail.test", r"SERVFAIL", re.escape(h.server))


@test()
def hostile_rotate(t):
    a, b = _hostile(t), _hostile_ok(t)
    ma, mb = a.mark(), b.mark()
    names = ["r%d.good.test" % i for i in range(8)]
    o = dnsq(t, "%s,%s" % (a.server, b.server), ["-4"] + names,
             conf=_conf(t, "options rotate\n"))
    _ok(t, o)
    na, nb = len(a.queries(ma)), len(b.queries(mb, settle=0))
    t.check(na >= 2 and nb >= 2 and na + nb == 8, "rotate spreads: %d / %d" % (na, nb))


@test()
def hostile_random_ids_and_ports(t):
    h = _hostile(t)
    m = h.mark()
    tag = "x%d" % (time.monotonic_ns() % 100000)
    names = ["%s%d.good.test" % (tag, i) for i in range(2000)]
    nf = t.write("names", ("\n".join(names) + "\n").encode())
    # attempts:2: a datagram lost to a full socket buffer is asked again
    o = dnsq(t, h.server, ["-4", "-q", "--stats", "--inflight", "100",
                           "--names-file", nf], conf=_conf(t, "options attempts:2\n"))
    _ok(t, o)
    q = [x for x in h.queries(m, settle=0.3) if x["name"].startswith(tag)]
    t.check(2000 <= len(q) <= 2020, "queries logged: %d" % len(q))
    q = q[:2000]
    ids = [x["id"] for x in q]
    ports = [x["port"] for x in q]
    t.check(len(set(ids)) > 1900, "distinct IDs: %d of 2000" % len(set(ids)))
    t.check(len(set(ports)) > 100, "distinct source ports: %d" % len(set(ports)))
    seq = sum(1 for a, b in zip(ids, ids[1:]) if (b - a) % 65536 in (1, 65535))
    t.check(seq < 20, "IDs are not sequential: %d neighbours differ by 1" % seq)
    pseq = sum(1 for a, b in zip(ports, ports[1:]) if abs(b - a) == 1)
    t.check(pseq < 100, "ports are not sequential: %d neighbours differ by 1" % pseq)


@test(tags=("fast",))
def hostile_burst_waits_its_turn(t):
    # 1000 lookups started at once, one try each: without the per-server
    # limit on queries in flight, the server's socket buffer overflows and
    # the lost queries time out
    h = _hostile(t)
    m = h.mark()
    tag = "b%d" % (time.monotonic_ns() % 100000)
    names = ["%s%d.good.test" % (tag, i) for i in range(1000)]
    nf = t.write("names", ("\n".join(names) + "\n").encode())
    o = dnsq(t, h.server, ["-4", "-q", "--stats", "--names-file", nf])
    _ok(t, o)
    t.eq(o.stats.get("queries_sent"), 1000, "no query sent twice")
    q = [x for x in h.queries(m, settle=0.2) if x["name"].startswith(tag)]
    t.eq(len(q), 1000, "queries logged")
    t.check(o.r.elapsed < 0.9 + t.slack, "no timeout: %.2f s" % o.r.elapsed)


@test()
def hostile_server_ipv6(t):
    if not have_ipv6():
        t.skip("no IPv6 loopback")
    h = t.env.server("dns_hostile6", lambda: DnsHostile(t.env.tmp, "v6", host="::1"))
    o = dnsq(t, h.server, ["good.test", "tc.test"])
    _ok(t, o)
    t.eq(o.addrs("good.test", "AAAA"), ["::1"], "AAAA over IPv6")
    t.eq(o.addrs("tc.test", "A"), ["127.0.0.9"], "TCP over IPv6")
    t.eq([a["server"] for a in o.get("good.test", "A")], ["[::1]:%d" % h.port], "server")


@test()
def resolv_conf_nameserver_port_53(t):
    """The server from resolv.conf itself (port 53: root only, on a loopback
    address of its own)."""
    _dnsq_bin(t)
    if os.geteuid() != 0:
        t.skip("port 53 needs root")
    addr = "127.53.0.1"
    for proto in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        s = socket.socket(socket.AF_INET, proto)
        try:
            s.bind((addr, 53))
        except OSError as e:
            t.skip("cannot bind %s:53: %s" % (addr, e))
        finally:
            s.close()
    h = t.env.server("dns_hostile53", lambda: DnsHostile(t.env.tmp, "53", host=addr,
                                                          port=53))
    conf = t.write("resolv53.conf", ("nameserver %s\noptions timeout:1 attempts:1\n"
                                     % addr).encode())
    o = dnsq(t, None, ["-4", "good.test"], conf=conf)
    _ok(t, o)
    t.eq([a["server"] for a in o.get("good.test", "A")], ["%s:53" % addr],
         "the nameserver of resolv.conf")


# ------------------------------------------------------------- life cycle
# (run under ASan in the --fast subset: cancelled lookups must leave no
# socket, timer or memory behind, and no callback may run after them)

@test(tags=("fast",))
def lifecycle_cancel_in_flight(t):
    h = _hostile(t)
    o = dnsq(t, h.server, ["--cancel-ms", "300", "noanswer.test", "good.test",
                           "tc.test"])
    t.eq(o.r.rc, 0, "exit: %s" % o.r.brief())
    out = o.r.out.decode()
    t.contains(out, "noanswer.test cancelled", "the waiting lookup cancelled")
    t.eq(sorted(o.addrs("good.test")), ["127.0.0.1", "::1"], "the others answered")
    t.check(o.r.elapsed < 0.9 + t.slack, "no wait for the 1 s timeout: %.2f s"
            % o.r.elapsed)


@test(tags=("fast",))
def lifecycle_cancel_while_waiting_for_room(t):
    h = _hostile(t)
    names = ["w%d.good.test" % i for i in range(600)]
    nf = t.write("names", ("\n".join(names) + "\n").encode())
    o = dnsq(t, h.server, ["--cancel-ms", "2", "-q", "--names-file", nf])
    t.eq(o.r.rc, 0, "exit: %s" % o.r.brief())
    t.check(o.r.out.decode().count(" cancelled") > 0, "some were cancelled")


@test(tags=("fast",))
def lifecycle_cancel_during_tcp(t):
    h = _hostile(t)
    o = dnsq(t, h.server, ["-4", "--cancel-ms", "20", "big.test", "big.test"])
    t.eq(o.r.rc, 0, "exit: %s" % o.r.brief())
    t.eq(o.r.out.decode().count("big.test cancelled"), 2, "both cancelled")


@test(tags=("fast",))
def lifecycle_cancel_system_thread(t):
    _dnsq_bin(t)
    for ms in ("0", "1"):
        o = dnsq(t, None, ["--system", "--cancel-ms", ms] + ["localhost"] * 20)
        t.eq(o.r.rc, 0, "exit: %s" % o.r.brief())
        lines = o.r.out.decode().splitlines()
        t.check(len(lines) >= 20 and all(
            l.startswith("localhost A") or l == "localhost cancelled" or
            l.startswith("localhost AAAA") for l in lines),
            "every lookup answered or cancelled: %s" % lines[:5])


@test(tags=("fast",))
def lifecycle_free_in_callback(t):
    h = _hostile(t)
    o = dnsq(t, h.server, ["--free-in-answer", "good.test", "tc.test",
                           "noanswer.test", "loop.test"])
    t.eq(o.r.rc, 0, "exit: %s" % o.r.brief())
    t.eq(o.r.out.decode().count(" freed"), 4, "all ended by the free")
    t.check(o.r.elapsed < 0.9 + t.slack, "nothing waited for: %.2f s" % o.r.elapsed)
    o = dnsq(t, None, ["--system", "--free-in-answer", "localhost", "localhost"])
    t.eq(o.r.rc, 0, "system path: %s" % o.r.brief())
