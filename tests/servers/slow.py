#!/usr/bin/python3
"""slow.py -- an HTTP/1.1 server on loopback whose every answer takes its
time: for benchmarks and tests of many open transfers at once.

    /usr/bin/python3 tests/servers/slow.py --port 0 --portfile FILE \
        [--host 127.0.0.1] [--delay 3] [--size 1024] [--lifetime 600]

Each request is answered after --delay seconds (or ?delay=S in its query)
with 200 and --size bytes ('s' repeated; ?size=N overrides), keep-alive.
One asyncio loop holds every connection, so thousands can wait at once.
GET /stats answers at once with JSON: {"requests", "open", "peak_open",
"peak_waiting", "connections"}; GET /stats/reset zeroes it.

Loopback only; standard library only.  It exits by itself when its parent
dies or after --lifetime seconds.
"""

import argparse
import asyncio
import json
import os
import resource
import socket
import sys
import time
import urllib.parse

MAX_HEAD = 64 << 10


class Stats:
    def __init__(self):
        self.reset()

    def reset(self):
        self.requests = 0
        self.connections = 0
        self.open = 0
        self.peak_open = 0
        self.waiting = 0
        self.peak_waiting = 0

    def as_json(self):
        return json.dumps({"requests": self.requests, "open": self.open,
                           "peak_open": self.peak_open,
                           "peak_waiting": self.peak_waiting,
                           "connections": self.connections}).encode() + b"\n"


STATS = Stats()


def response(status, body, keep):
    head = ("HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\n"
            "Content-Length: %d\r\n%s\r\n"
            % (status, "OK" if status == 200 else "Bad Request", len(body),
               "" if keep else "Connection: close\r\n"))
    return head.encode() + body


async def handle(reader, writer, opts):
    STATS.connections += 1
    STATS.open += 1
    STATS.peak_open = max(STATS.peak_open, STATS.open)
    try:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                    ConnectionError):
                return
            lines = head.decode("latin-1").split("\r\n")
            parts = lines[0].split(" ")
            if len(parts) != 3:
                writer.write(response(400, b"bad request line\n", False))
                await writer.drain()
                return
            method, target = parts[0], parts[1]
            keep = not any(l.lower().startswith("connection:") and
                           "close" in l.lower() for l in lines[1:])
            url = urllib.parse.urlsplit(target)
            if url.path in ("/stats", "/stats/reset"):
                if url.path == "/stats/reset":
                    STATS.reset()
                writer.write(response(200, STATS.as_json(), keep))
                await writer.drain()
                if not keep:
                    return
                continue
            STATS.requests += 1
            q = dict(urllib.parse.parse_qsl(url.query))
            delay = float(q.get("delay", opts.delay))
            size = int(q.get("size", opts.size))
            STATS.waiting += 1
            STATS.peak_waiting = max(STATS.peak_waiting, STATS.waiting)
            try:
                await asyncio.sleep(delay)
            finally:
                STATS.waiting -= 1
            body = b"" if method == "HEAD" else b"s" * size
            writer.write(response(200, body, keep))
            await writer.drain()
            if not keep:
                return
    except ConnectionError:
        return
    finally:
        STATS.open -= 1
        try:
            writer.close()
        except Exception:
            pass


async def watchdog(parent, lifetime):
    end = time.monotonic() + lifetime
    while time.monotonic() < end and os.getppid() == parent:
        await asyncio.sleep(0.5)
    os._exit(0)


async def main_async(opts):
    family = socket.AF_INET6 if ":" in opts.host else socket.AF_INET
    srv = await asyncio.start_server(
        lambda r, w: handle(r, w, opts), opts.host, opts.port, family=family,
        backlog=8192, limit=MAX_HEAD, reuse_address=True)
    port = srv.sockets[0].getsockname()[1]
    if opts.portfile:
        tmp = opts.portfile + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.rename(tmp, opts.portfile)
    else:
        print(port, flush=True)
    asyncio.ensure_future(watchdog(os.getppid(), opts.lifetime))
    async with srv:
        await srv.serve_forever()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--portfile")
    ap.add_argument("--delay", type=float, default=3.0)
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--lifetime", type=float, default=600.0)
    opts = ap.parse_args()
    if opts.host not in ("127.0.0.1", "::1"):
        sys.exit("slow.py: loopback only (127.0.0.1 or ::1)")
    # one descriptor a connection: take what the hard limit allows
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    try:
        asyncio.run(main_async(opts))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
