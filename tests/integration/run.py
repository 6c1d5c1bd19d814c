#!/usr/bin/python3
"""run.py -- hflow's integration suite against real servers on loopback.

    /usr/bin/python3 tests/integration/run.py --bin build/hflow
        [--filter SUBSTR]... [--fast] [--wrap "valgrind ..."] [--valgrind]
        [--prefix curl] [--list] [--keep] [-v]

Prints "PASS name", "FAIL name: reason" or "SKIP name: reason" per test and
ends with exactly one line "N passed, N failed"; exits non-zero on any
failure.  --fast picks the quick subset (for sanitizer builds), --valgrind
runs the tests tagged for valgrind under
  valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect
           --error-exitcode=99 -q
and --bin /usr/bin/curl validates the suite against curl (expected prefix
"curl:", hflow-only expectations skipped).
"""

import argparse
import glob
import importlib
import os
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True          # no __pycache__ in the work tree

import harness  # noqa: E402

VALGRIND = ("valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect "
            "--error-exitcode=99 -q")


def main():
    ap = argparse.ArgumentParser(description="hflow integration tests")
    ap.add_argument("--bin", default=os.path.join(harness.ROOT, "build", "hflow"))
    ap.add_argument("--filter", action="append", default=[],
                    help="run tests whose name contains SUBSTR (repeatable)")
    ap.add_argument("--fast", action="store_true", help="quick subset")
    ap.add_argument("--wrap", help="prefix for the client command")
    ap.add_argument("--valgrind", action="store_true",
                    help="the valgrind subset, under valgrind")
    ap.add_argument("--prefix", help='expected error prefix (default "hflow", '
                    'or "curl" when --bin is curl)')
    ap.add_argument("--list", action="store_true", help="list tests and exit")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()

    for path in sorted(glob.glob(os.path.join(HERE, "test_*.py"))):
        importlib.import_module(os.path.basename(path)[:-3])

    tests = harness.TESTS
    if a.valgrind:
        tests = [t for t in tests if "vg" in t["tags"]]
    if a.fast:
        tests = [t for t in tests if "fast" in t["tags"]]
    if a.filter:
        tests = [t for t in tests if any(f in t["name"] for f in a.filter)]
    if a.list:
        for t in tests:
            print("%s  [%s]" % (t["name"], ",".join(sorted(t["tags"]))))
        return 0
    if not tests:
        print("no test selected")
        print("0 passed, 1 failed")
        return 1

    binary = a.bin
    if os.sep not in binary:
        binary = shutil.which(binary) or binary
    binary = os.path.abspath(binary)
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        print("FAIL setup: no executable client at %s" % binary)
        print("0 passed, 1 failed")
        return 1

    wrap = a.wrap or (VALGRIND if a.valgrind else None)
    tmp = tempfile.mkdtemp(prefix="hflow-it-")
    harness.install_signal_handlers()
    env = None
    t0 = time.monotonic()
    counts = {"passed": 0, "failed": 0, "skipped": 0}
    try:
        client = harness.Client(binary, wrap=wrap, prefix=a.prefix, tmp=tmp)
        env = harness.Env(client, tmp, valgrind=bool(a.valgrind or
                                                       (wrap and "valgrind" in wrap)))
        harness.run_tests(tests, env, counts, verbose=a.verbose)
    except KeyboardInterrupt:
        print("interrupted")
        counts["failed"] += 1
    except Exception as e:          # a server that would not start, say
        print("FAIL setup: %s: %s" % (type(e).__name__, e))
        counts["failed"] += 1
    finally:
        if env:
            env.stop()
        harness.stop_all()
        if a.keep:
            print("kept %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    if counts["skipped"]:
        print("skipped: %d" % counts["skipped"])
    print("time: %.1f s" % (time.monotonic() - t0))
    print("%d passed, %d failed" % (counts["passed"], counts["failed"]))
    return 1 if counts["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
