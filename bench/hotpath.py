"""CPU cost of the request path alone, without sockets: a pipelined batch of commands is
fed to a Connection with a fake transport, as uvloop would deliver it, and the time per
command is reported (the minimum over several rounds, so that a busy machine disturbs it
less). Use it before and after an optimisation of the hot path:

    .venv/bin/python bench/hotpath.py [--batch 64] [--rounds 20] [set get incr ping mset]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pykey.commands  # noqa: E402,F401  (registers every command)
from pykey.config import load  # noqa: E402
from pykey.engine.server import Server  # noqa: E402
from pykey.log import Log  # noqa: E402
from pykey.net.connection import Connection  # noqa: E402
from pykey.net.listener import NetServer  # noqa: E402


class FakeSocket:
    family = 0

    def fileno(self) -> int:
        return -1


class FakeTransport:
    """Enough of an asyncio transport for a Connection; keeps only the byte count."""

    def __init__(self) -> None:
        self.written = 0

    def get_extra_info(self, name: str, default=None):
        return {"peername": ("127.0.0.1", 40000), "sockname": ("127.0.0.1", 6379)}.get(name, default)

    def write(self, data: bytes) -> None:
        self.written += len(data)

    def close(self) -> None:
        pass

    def get_write_buffer_size(self) -> int:
        return 0

    def is_closing(self) -> bool:
        return False


def enc(*args: bytes) -> bytes:
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)


WORKLOADS = {
    "ping": lambda i: enc(b"PING"),
    "set": lambda i: enc(b"SET", b"key:%012d" % (i * 7919 % 100000), b"xxx"),
    "get": lambda i: enc(b"GET", b"key:%012d" % (i * 7919 % 100000)),
    "incr": lambda i: enc(b"INCR", b"counter:%012d" % (i * 7919 % 100000)),
    "mset": lambda i: b"".join([enc(b"MSET", *[x for k in range(10) for x in (b"key:%012d" % ((i + k) % 100000), b"xxx")])]),
    # each member comes twice a round with two scores: updates move it, as in redis-benchmark
    "zadd": lambda i: enc(b"ZADD", b"myzset", b"%d" % (i * 7919 % 100000), b"element:%012d" % (i * 104729 % 16000)),
    "hset": lambda i: enc(b"HSET", b"myhash", b"element:%012d" % (i * 7919 % 100000), b"xxx"),
    "sadd": lambda i: enc(b"SADD", b"myset", b"element:%012d" % (i * 7919 % 100000)),
    "lpush": lambda i: enc(b"LPUSH", b"mylist", b"xxx"),
}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--batches", type=int, default=500, help="batches per round")
    ap.add_argument("tests", nargs="*", default=list(WORKLOADS))
    opts = ap.parse_args()
    engine = Server(load(["--save", ""]))
    net = NetServer(engine, Log("warning"))
    conn = Connection(net)
    conn.connection_made(FakeTransport())
    for name in opts.tests:
        make = WORKLOADS[name]
        chunks = [b"".join(make(b * opts.batch + i) for i in range(opts.batch)) for b in range(opts.batches)]
        best = float("inf")
        for _ in range(opts.rounds):
            t0 = time.perf_counter_ns()
            for chunk in chunks:
                conn.data_received(chunk)
            best = min(best, (time.perf_counter_ns() - t0) / (len(chunks) * opts.batch))
        print(f"{name:6} {best:8.0f} ns/command (batch {opts.batch}, best of {opts.rounds})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
