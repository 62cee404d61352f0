"""Random sequences of hash, list and set commands replayed against pykey and Debian's
redis-server 7.0: every reply must match.

Hypothesis draws short scripts over a handful of keys (so commands meet each other's keys,
wrong types included), small alphabets of fields and members (so they collide), integers
(intsets, HINCRBY) and long values (encoding conversions). Replies are compared byte for
byte, except where the order is legitimately unspecified (set members, hash-table order):
those are compared as sorted lists. Commands whose result is random (SPOP, SRANDMEMBER,
HRANDFIELD) and cursors (SSCAN, HSCAN) are left out; so are Valkey-only commands.
"""
from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

KEYS = ["k1", "k2", "k3", "s"]
WORDS = ["a", "b", "c", "1", "2", "-7", "10", "x" * 70]
NUMS = ["0", "1", "-1", "2", "-2", "3", "5", "-100", "abc"]

# commands whose reply order is unspecified: compare sorted (flat, or as pairs for HGETALL)
UNORDERED = {"SMEMBERS", "SINTER", "SUNION", "SDIFF", "HKEYS", "HVALS"}
PAIRS = {"HGETALL"}

key = st.sampled_from(KEYS)
word = st.sampled_from(WORDS)
num = st.sampled_from(NUMS)
words = st.lists(word, min_size=1, max_size=4)
side = st.sampled_from(["LEFT", "RIGHT"])


def _cmd(name: str, *parts: Any) -> st.SearchStrategy[list[str]]:
    return st.tuples(*parts).map(lambda t: [name, *[x for p in t for x in (p if isinstance(p, list) else [p])]])


def _pairs() -> st.SearchStrategy[list[str]]:
    return st.lists(st.tuples(word, st.one_of(word, num)), min_size=1, max_size=3).map(
        lambda ps: [x for p in ps for x in p])


HASH = [
    _cmd("HSET", key, _pairs()), _cmd("HSETNX", key, word, word), _cmd("HGET", key, word),
    _cmd("HMGET", key, words), _cmd("HMSET", key, _pairs()), _cmd("HDEL", key, words),
    _cmd("HEXISTS", key, word), _cmd("HLEN", key), _cmd("HSTRLEN", key, word),
    _cmd("HKEYS", key), _cmd("HVALS", key), _cmd("HGETALL", key),
    _cmd("HINCRBY", key, word, num), _cmd("HINCRBYFLOAT", key, word, st.sampled_from(["1.5", "0.1", "-2", "x", "1e3"])),
]
LIST = [
    _cmd("LPUSH", key, words), _cmd("RPUSH", key, words), _cmd("LPUSHX", key, words),
    _cmd("RPUSHX", key, words), _cmd("LPOP", key), _cmd("RPOP", key), _cmd("LPOP", key, num),
    _cmd("RPOP", key, num), _cmd("LLEN", key), _cmd("LRANGE", key, num, num),
    _cmd("LINDEX", key, num), _cmd("LSET", key, num, word),
    _cmd("LINSERT", key, st.sampled_from(["BEFORE", "AFTER", "MIDDLE"]), word, word),
    _cmd("LREM", key, num, word), _cmd("LTRIM", key, num, num), _cmd("LPOS", key, word),
    _cmd("LPOS", key, word, st.sampled_from(["RANK", "COUNT", "MAXLEN"]), num),
    _cmd("LMOVE", key, key, side, side), _cmd("RPOPLPUSH", key, key),
    st.tuples(st.lists(key, min_size=1, max_size=3), side, st.sampled_from([[], ["COUNT", "2"], ["COUNT", "0"]])).map(
        lambda t: ["LMPOP", str(len(t[0])), *t[0], t[1], *t[2]]),
]
SET = [
    _cmd("SADD", key, words), _cmd("SREM", key, words), _cmd("SISMEMBER", key, word),
    _cmd("SMISMEMBER", key, words), _cmd("SMEMBERS", key), _cmd("SCARD", key),
    _cmd("SMOVE", key, key, word), _cmd("SINTER", st.lists(key, min_size=1, max_size=3)),
    _cmd("SUNION", st.lists(key, min_size=1, max_size=3)), _cmd("SDIFF", st.lists(key, min_size=1, max_size=3)),
    _cmd("SINTERSTORE", key, st.lists(key, min_size=1, max_size=3)),
    _cmd("SUNIONSTORE", key, st.lists(key, min_size=1, max_size=3)),
    _cmd("SDIFFSTORE", key, st.lists(key, min_size=1, max_size=3)),
    st.tuples(st.lists(key, min_size=1, max_size=3), st.sampled_from([[], ["LIMIT", "1"], ["LIMIT", "0"]])).map(
        lambda t: ["SINTERCARD", str(len(t[0])), *t[0], *t[1]]),
]
GENERIC = [_cmd("DEL", key), _cmd("TYPE", key), _cmd("EXISTS", key)]

COMMAND = st.one_of(*HASH, *LIST, *SET, *GENERIC)


def parse(reply: bytes) -> Any:
    """A RESP2 reply as nested Python values (bytes stay bytes, errors keep their '-')."""
    value, _ = _parse(reply, 0)
    return value


def _parse(buf: bytes, pos: int) -> tuple[Any, int]:
    nl = buf.index(b"\r\n", pos)
    kind, head = buf[pos:pos + 1], buf[pos + 1:nl]
    pos = nl + 2
    if kind in (b"+", b"-"):
        return kind + head, pos
    if kind == b":":
        return int(head), pos
    if kind == b"$":
        n = int(head)
        return (None, pos) if n < 0 else (buf[pos:pos + n], pos + n + 2)
    n = int(head)
    if n < 0:
        return None, pos
    out = []
    for _ in range(n):
        item, pos = _parse(buf, pos)
        out.append(item)
    return out, pos


def normalise(name: str, reply: bytes) -> Any:
    value = parse(reply)
    if isinstance(value, list):
        if name in UNORDERED:
            return sorted(value)
        if name in PAIRS:
            return sorted(zip(value[0::2], value[1::2], strict=True))
    return value


@pytest.mark.parametrize("seed_group", ["hash", "list", "set", "mixed"])
def test_random_sequences_agree(seed_group, redis_port, pykey_server, raw_client):
    ours = raw_client(pykey_server.port)
    theirs = raw_client(redis_port)
    pools = {"hash": HASH + GENERIC, "list": LIST + GENERIC, "set": SET + GENERIC}
    strategy = st.one_of(*pools[seed_group]) if seed_group in pools else COMMAND
    sent = [0]

    @settings(max_examples=200, deadline=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(strategy, min_size=1, max_size=25))
    def run(script: list[list[str]]) -> None:
        ours.call("FLUSHALL")
        theirs.call("FLUSHALL")
        for argv in script:
            sent[0] += 1
            a = normalise(argv[0], ours.call(*argv))
            b = normalise(argv[0], theirs.call(*argv))
            assert a == b, f"{argv}: pykey {a!r} != redis {b!r} after {script}"

    try:
        run()
        assert sent[0] >= 100, "hypothesis ran too few commands to mean anything"
    finally:
        ours.close()
        theirs.close()
