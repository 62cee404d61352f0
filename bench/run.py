"""Throughput, CPU cost and memory of pykey next to redis-server, in one command.

    python bench/run.py [--quick]

Each server is pinned to core 0 and redis-benchmark to core 1, so the numbers compare one
core of server work. See bench/README.md for what we aim at.
"""
from __future__ import annotations

import argparse
import csv
import io
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYKEY = ROOT / ".venv" / "bin" / "pykey-server"
REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"
BENCH = shutil.which("redis-benchmark") or "/usr/bin/redis-benchmark"
TESTS = ["ping", "set", "get", "incr", "mset"]
TICK = os.sysconf("SC_CLK_TCK")


@dataclass
class Mode:
    name: str
    args: list[str]
    requests: int


def modes(quick: bool) -> list[Mode]:
    """The three ways we run redis-benchmark: plain, modest and deep pipelining."""
    if quick:
        return [Mode("plain -c50", ["-c", "50"], 20_000),
                Mode("-c50 -P16", ["-c", "50", "-P", "16"], 200_000),
                Mode("-c50 -P64", ["-c", "50", "-P", "64"], 400_000)]
    return [Mode("plain -c50", ["-c", "50"], 200_000),
            Mode("-c50 -P16", ["-c", "50", "-P", "16"], 1_000_000),
            Mode("-c50 -P64", ["-c", "50", "-P", "64"], 2_000_000)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    """A server process pinned to core 0."""
    name: str
    argv: list[str]
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None

    def start(self) -> Server:
        cmd = ["taskset", "-c", "0", *self.argv, "--port", str(self.port), "--bind", "127.0.0.1",
               "--save", "", "--appendonly", "no", "--enable-debug-command", "yes"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while self.call("PING") != b"+PONG\r\n":
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} did not start")
            time.sleep(0.1)
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(15)

    def call(self, *args: str) -> bytes:
        """One command, its raw reply (enough for the small replies we need)."""
        req = b"*%d\r\n" % len(args) + b"".join(
            b"$%d\r\n%s\r\n" % (len(a.encode()), a.encode()) for a in args)
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=600) as s:
                s.sendall(req)
                data = b""
                while not data.endswith(b"\r\n") or (data[:1] == b"$" and data.count(b"\r\n") < 2):
                    chunk = s.recv(1 << 20)
                    if not chunk:
                        break
                    data += chunk
                return data
        except OSError:
            return b""

    def cpu_seconds(self) -> float:
        """utime + stime of the server process (taskset execs, so the pid is the server's)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK

    def rss_bytes(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0

    def dbsize(self) -> int:
        return int(self.call("DBSIZE")[1:])


def benchmark(server: Server, test: str, mode: Mode) -> tuple[float, float]:
    """Run one redis-benchmark test; return (requests/s, server CPU microseconds/request)."""
    cmd = ["taskset", "-c", "1", BENCH, "-p", str(server.port), "-r", "100000",
           "-n", str(mode.requests), "-t", test, "--csv", *mode.args]
    before = server.cpu_seconds()
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    cpu = server.cpu_seconds() - before
    rows = [r for r in csv.reader(io.StringIO(out)) if r and r[0] != "test"]
    if not rows:
        raise RuntimeError(f"no results from redis-benchmark: {out!r}")
    rps = sum(float(r[1]) for r in rows) / len(rows)   # -t ping runs PING_INLINE and PING_MBULK
    return rps, cpu / (mode.requests * len(rows)) * 1e6


def has_populate(server: Server) -> bool:
    return server.call("DEBUG", "POPULATE", "0").startswith(b"+OK")


def memory_per_key(server: Server, keys: int, populate: bool) -> tuple[int, float]:
    """Load small string keys and return (keys, RSS bytes per key above the empty server).

    Both servers are loaded the same way: DEBUG POPULATE when both have it, else SETs."""
    server.call("FLUSHALL")
    time.sleep(0.5)
    empty = server.rss_bytes()
    if populate:
        server.call("DEBUG", "POPULATE", str(keys), "key", "3")
    else:
        # No DEBUG POPULATE: random 3-byte SETs over `keys` names, pipelined.
        subprocess.run(["taskset", "-c", "1", BENCH, "-p", str(server.port), "-t", "set",
                        "-r", str(keys), "-n", str(keys * 3), "-d", "3", "-P", "64", "-c", "50",
                        "-q"], capture_output=True, check=True)
    time.sleep(0.5)
    n = server.dbsize()
    return n, (server.rss_bytes() - empty) / max(n, 1)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer requests, a fast sanity run")
    ap.add_argument("--keys", type=int, default=1_000_000, help="keys for the memory test")
    opts = ap.parse_args()
    for tool in (REDIS, BENCH, str(PYKEY)):
        if not os.path.exists(tool):
            print(f"missing {tool}", file=sys.stderr)
            return 1

    servers = [Server("pykey", [str(PYKEY)]), Server("redis", [REDIS])]
    results: dict[tuple[str, str, str], tuple[float, float]] = {}
    memory: dict[str, tuple[int, float]] = {}
    populate = True
    try:
        for srv in servers:
            srv.start()
            populate = populate and has_populate(srv)
            for mode in modes(opts.quick):
                for test in TESTS:
                    results[srv.name, mode.name, test] = benchmark(srv, test, mode)
                    rps, us = results[srv.name, mode.name, test]
                    print(f"  {srv.name:6} {mode.name:11} {test:5} {rps:>12,.0f} req/s "
                          f"{us:8.2f} us/req", file=sys.stderr)
            memory[srv.name] = memory_per_key(srv, opts.keys, populate)
            srv.stop()
    finally:
        for srv in servers:
            srv.stop()

    print()
    print(f"{'mode':11} {'test':5} {'pykey req/s':>12} {'redis req/s':>12} {'ratio':>6} "
          f"{'pykey us/req':>13} {'redis us/req':>13}")
    for mode in modes(opts.quick):
        for test in TESTS:
            p_rps, p_us = results["pykey", mode.name, test]
            r_rps, r_us = results["redis", mode.name, test]
            print(f"{mode.name:11} {test:5} {p_rps:>12,.0f} {r_rps:>12,.0f} {p_rps / r_rps:>6.2f} "
                  f"{p_us:>13.2f} {r_us:>13.2f}")
    print()
    (pn, pb), (rn, rb) = memory["pykey"], memory["redis"]
    print(f"memory ({'DEBUG POPULATE' if populate else 'redis-benchmark SETs'}, 3-byte values): "
          f"pykey {pb:.0f} B/key ({pn:,} keys), redis {rb:.0f} B/key ({rn:,} keys), "
          f"ratio {pb / rb:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
