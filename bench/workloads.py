"""What the benchmark runs: one entry per workload, grouped by the issue that asked for it."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from servers import encode

SCRIPT = "redis.call('GET', KEYS[1]) return redis.call('INCR', KEYS[1])"
STREAM_BATCH = ("for k = tonumber(ARGV[1]), tonumber(ARGV[2]) - 1 do "
                "redis.call('XADD', KEYS[1], '*', 'field', k) end return 0")


@dataclass
class Mode:
    name: str
    args: list[str]
    requests: int


def modes(quick: bool) -> dict[str, Mode]:
    """The three ways we run redis-benchmark: plain, modest and deep pipelining."""
    scale = 10 if quick else 1
    return {"plain": Mode("plain -c50", ["-c", "50"], 200_000 // scale),
            "P16": Mode("-c50 -P16", ["-c", "50", "-P", "16"], 1_000_000 // scale),
            "P64": Mode("-c50 -P64", ["-c", "50", "-P", "64"], 2_000_000 // scale)}


@dataclass
class Driven:
    """A workload sent by bench/driver.py: ``make(conn, i)`` encodes operation ``i``."""
    ops: int
    make: Callable[[int, int], bytes]
    replies_per_op: int = 1
    conns: int = 8
    depth: int = 64


@dataclass
class Workload:
    name: str
    group: str
    needs: tuple[str, ...]                   # commands both servers must have
    modes: tuple[str, ...] = ("plain", "P16", "P64")
    test: str | None = None                  # redis-benchmark -t <test>
    command: list[str] | None = None         # or a custom redis-benchmark command
    setup: list[list[str]] = field(default_factory=list)
    subscribers: int = 0                     # pub/sub readers attached during the run
    driven: Callable[[bool], Driven] | None = None
    ops_per_request: int = 1                 # commands one reported "request" stands for


def _multi_exec(quick: bool) -> Driven:
    def make(conn: int, i: int) -> bytes:
        sets = b"".join(encode("SET", f"tx:{conn}:{j}", str(i)) for j in range(10))
        return encode("MULTI") + sets + encode("EXEC")
    return Driven(ops=20_000 if quick else 200_000, make=make, replies_per_op=12, depth=16)


def _xreadgroup_xack(quick: bool) -> Driven:
    def make(conn: int, i: int) -> bytes:
        key = f"bench:xs:{conn}"
        return (encode("XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", key, ">")
                + encode("XACK", key, "g", f"{i + 1}-1"))
    return Driven(ops=20_000 if quick else 200_000, make=make, replies_per_op=2, depth=32)


def _xreadgroup_setup(quick: bool) -> list[list[str]]:
    return [["XGROUP", "CREATE", f"bench:xs:{c}", "g", "0", "MKSTREAM"] for c in range(8)]


def _xreadgroup_fill(quick: bool) -> list[bytes]:
    per = (20_000 if quick else 200_000) // 8 + 1
    return [encode("XADD", f"bench:xs:{c}", f"{i + 1}-1", "f", "v") for c in range(8) for i in range(per)]


WORKLOADS: list[Workload] = [
    # issue 2: the foundation
    *[Workload(t, "core", (t if t != "ping" else "ping",), test=t) for t in ("ping", "set", "get", "incr", "mset")],
    # issue 3: collections
    *[Workload(t, "collections", (n,), test=t) for t, n in
      (("lpush", "lpush"), ("lpop", "lpop"), ("sadd", "sadd"), ("hset", "hset"), ("zadd", "zadd"),
       ("lrange_100", "lrange"))],
    # issue 4: streams, HyperLogLog, bitmaps, geo
    Workload("xadd", "types", ("xadd",), ("plain", "P16"),
             command=["XADD", "bench:stream", "*", "field", "__rand_int__"]),
    Workload("xreadgroup+xack", "types", ("xreadgroup", "xack"), ("P64",), driven=_xreadgroup_xack,
             ops_per_request=2),
    Workload("pfadd", "types", ("pfadd",), ("plain", "P16"), command=["PFADD", "bench:hll", "__rand_int__"]),
    Workload("setbit", "types", ("setbit",), ("plain", "P16"), command=["SETBIT", "bench:bits:__rand_int__", "7", "1"]),
    Workload("geoadd", "types", ("geoadd",), ("plain", "P16"),
             command=["GEOADD", "bench:geo", "13.361389", "38.115556", "__rand_int__"]),
    # issue 5: pub/sub and transactions
    *[Workload(f"publish->{n}", "pubsub", ("publish",), ("plain", "P16"), subscribers=n,
               command=["PUBLISH", "bench:chan", "hello"]) for n in (1, 10, 100)],
    Workload("multi+10set+exec", "multi", ("multi", "exec"), ("P16",), driven=_multi_exec, ops_per_request=12),
    # issue 6: scripting
    Workload("evalsha", "script", ("evalsha",), ("plain", "P16"),
             setup=[["SCRIPT", "LOAD", SCRIPT]], command=["EVALSHA", "{sha}", "1", "bench:counter"]),
]

PREFILL = {"xreadgroup+xack": (_xreadgroup_setup, _xreadgroup_fill)}

# Memory: (name, command that adds a batch of elements, how many elements a batch holds)
MEMORY = {
    "string": None,     # DEBUG POPULATE (or SETs): one key per element
    "hash": lambda i, n: encode("HSET", "bench:h", *[x for k in range(i, i + n) for x in (f"field:{k}", "val")]),
    "set": lambda i, n: encode("SADD", "bench:s", *[f"member:{k}" for k in range(i, i + n)]),
    "zset": lambda i, n: encode("ZADD", "bench:z", *[x for k in range(i, i + n) for x in (str(k), f"member:{k}")]),
    # XADD adds one entry, and load() wants one reply per batch: a script adds the batch
    "stream": lambda i, n: encode("EVAL", STREAM_BATCH, "1", "bench:x", str(i), str(i + n)),
}
