"""Throughput, CPU cost and memory of pykey next to redis-server, in one command.

    python bench/run.py [--quick] [--group core collections ...] [--memory string hash ...]

Each server is pinned to core 0 and the load (redis-benchmark, or bench/driver.py for what
it cannot send) to core 1, so the numbers compare one core of server work. See
bench/README.md for what we aim at.
"""
from __future__ import annotations

import argparse
import csv
import io
import os
import shutil
import subprocess
import sys
import time

from driver import Subscribers, load, run_pipelined
from servers import PYKEY, REDIS, Server
from workloads import MEMORY, PREFILL, WORKLOADS, Mode, Workload, modes

BENCH = shutil.which("redis-benchmark") or "/usr/bin/redis-benchmark"
GROUPS = sorted({w.group for w in WORKLOADS})


def has_command(server: Server, name: str) -> bool:
    return server.call("COMMAND", "INFO", name).startswith(b"*1\r\n*")


def redis_benchmark(server: Server, w: Workload, mode: Mode, sha: str) -> float:
    """Run redis-benchmark once; requests per second."""
    cmd = ["taskset", "-c", "1", BENCH, "-p", str(server.port), "-r", "100000",
           "-n", str(mode.requests), "--csv", *mode.args]
    if w.test:
        cmd += ["-t", w.test]
    else:
        cmd += [a.replace("{sha}", sha) for a in w.command]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rows = [r for r in csv.reader(io.StringIO(out)) if r and r[0] != "test"]
    if not rows:
        raise RuntimeError(f"no results from redis-benchmark: {out!r}")
    if w.test == "lrange_100":
        rows = [r for r in rows if r[0].startswith("LRANGE")]
    return sum(float(r[1]) for r in rows) / len(rows)   # -t ping runs PING_INLINE and PING_MBULK


def measure(server: Server, w: Workload, mode: Mode | None, quick: bool) -> tuple[float, float]:
    """(operations per second, server CPU microseconds per operation) for one run."""
    sha = ""
    for argv in w.setup:
        reply = server.call(*argv)
        if argv[:2] == ["SCRIPT", "LOAD"]:
            sha = reply.split(b"\r\n")[1].decode()
    subs = Subscribers(server.port, "bench:chan", w.subscribers) if w.subscribers else None
    try:
        before = server.cpu_seconds()
        if w.driven is not None:
            d = w.driven(quick)
            os.sched_setaffinity(0, {1})
            elapsed = run_pipelined(server.port, d.ops, d.make, d.conns, d.depth, d.replies_per_op)
            ops = d.ops
            rps = ops / elapsed
        else:
            rps = redis_benchmark(server, w, mode, sha)
            ops = mode.requests * (2 if w.test == "ping" else 1)
        cpu = server.cpu_seconds() - before
    finally:
        if subs is not None:
            subs.close()
    return rps, cpu / ops * 1e6


def memory_per_element(server: Server, kind: str, n: int, populate: bool) -> float:
    """RSS bytes per element above the empty server, after loading ``n`` elements."""
    server.call("FLUSHALL")
    time.sleep(0.5)
    empty = server.rss_bytes()
    if kind == "string":
        if populate:
            server.call("DEBUG", "POPULATE", str(n), "key", "3")
        else:
            load(server.port, (b"*3\r\n$3\r\nSET\r\n$%d\r\nkey:%d\r\n$3\r\nval\r\n" % (len(str(i)) + 4, i)
                               for i in range(n)))
        count = server.dbsize()
    else:
        batch = 1000
        load(server.port, (MEMORY[kind](i, min(batch, n - i)) for i in range(0, n, batch)), batch=16)
        count = n
    time.sleep(0.5)
    rss = server.rss_bytes() - empty
    server.call("FLUSHALL")
    return rss / max(count, 1)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="a tenth of the requests: a fast sanity run")
    ap.add_argument("--group", nargs="*", default=GROUPS, choices=GROUPS, help="workload groups to run")
    ap.add_argument("--only", nargs="*", default=None, help="workload names to run")
    ap.add_argument("--memory", nargs="*", default=list(MEMORY), choices=list(MEMORY),
                    help="data structures to measure memory for (none: --memory)")
    ap.add_argument("--elements", type=int, default=1_000_000, help="elements for the memory test")
    opts = ap.parse_args()
    for tool in (REDIS, BENCH, str(PYKEY)):
        if not os.path.exists(tool):
            print(f"missing {tool}", file=sys.stderr)
            return 1
    all_modes = modes(opts.quick)
    chosen = [w for w in WORKLOADS if w.group in opts.group and (opts.only is None or w.name in opts.only)]
    servers = [Server("pykey", [str(PYKEY)]), Server("redis", [REDIS])]
    results: dict[tuple[str, str, str], tuple[float, float]] = {}
    memory: dict[tuple[str, str], float] = {}
    skipped: set[str] = set()
    populate = True
    try:
        for srv in servers:
            srv.start()
            populate = populate and srv.call("DEBUG", "POPULATE", "0").startswith(b"+OK")
            for w in chosen:
                if not all(has_command(srv, c) for c in w.needs):
                    skipped.add(w.name)
                    continue
                if w.name in PREFILL:
                    setup, fill = PREFILL[w.name]
                    for argv in setup(opts.quick):
                        srv.call(*argv)
                    load(srv.port, fill(opts.quick))
                for m in ([None] if w.driven else [all_modes[k] for k in w.modes]):
                    label = m.name if m else "driver"
                    results[srv.name, w.name, label] = r = measure(srv, w, m, opts.quick)
                    print(f"  {srv.name:6} {w.name:17} {label:11} {r[0]:>12,.0f} ops/s {r[1]:8.2f} us/op",
                          file=sys.stderr)
                srv.call("FLUSHALL")
            for kind in opts.memory:
                # A fresh process per structure: memory freed by FLUSHALL stays in the
                # allocator's arenas and would hide the next structure's cost.
                srv.stop()
                srv.start()
                memory[srv.name, kind] = memory_per_element(srv, kind, opts.elements, populate)
                print(f"  {srv.name:6} memory {kind:6} {memory[srv.name, kind]:8.1f} B/element", file=sys.stderr)
            srv.stop()
    finally:
        for srv in servers:
            srv.stop()

    print()
    print(f"{'group':11} {'workload':17} {'mode':11} {'pykey ops/s':>12} {'redis ops/s':>12} {'ratio':>6} "
          f"{'pykey us/op':>12} {'redis us/op':>12} {'cpu ratio':>9}")
    for w in chosen:
        for label in (["driver"] if w.driven else [all_modes[k].name for k in w.modes]):
            if ("pykey", w.name, label) not in results or ("redis", w.name, label) not in results:
                continue
            p_rps, p_us = results["pykey", w.name, label]
            r_rps, r_us = results["redis", w.name, label]
            print(f"{w.group:11} {w.name:17} {label:11} {p_rps:>12,.0f} {r_rps:>12,.0f} {p_rps / r_rps:>6.2f} "
                  f"{p_us:>12.2f} {r_us:>12.2f} {p_us / r_us:>9.2f}")
    if skipped:
        print(f"\nskipped (a server lacks the command): {', '.join(sorted(skipped))}")
    if memory:
        print(f"\nmemory, {opts.elements:,} elements ({'DEBUG POPULATE' if populate else 'SET'} for strings, "
              "3-byte values):")
        for kind in opts.memory:
            p, r = memory["pykey", kind], memory["redis", kind]
            print(f"  {kind:6}  pykey {p:7.1f} B/element  redis {r:7.1f} B/element  ratio {p / r:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
