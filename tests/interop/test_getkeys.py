"""COMMAND GETKEYS and GETKEYSANDFLAGS agree with redis-server, movable keys and variable
key flags (SET with GET, BITFIELD with writes) included."""
from __future__ import annotations

import shlex

import pytest

CASES = [
    "SET k v", "SET k v GET", "SET k v EX 10 get", "GET k", "MSET a 1 b 2", "MGET a b c",
    "BITFIELD k GET u8 0", "BITFIELD k SET u8 0 1", "BITFIELD k GET u8", "BITFIELD k OVERFLOW SAT GET u8 0",
    "BITFIELD_RO k GET u8 0", "DEL a b c", "RENAME a b", "COPY a b", "LMOVE a b LEFT RIGHT",
    "BLMPOP 0 2 a b LEFT", "LMPOP 2 a b LEFT", "SINTERCARD 2 a b", "ZUNIONSTORE d 2 a b",
    "ZINTER 2 a b WEIGHTS 1 2", "ZDIFF 2 a b", "SORT k BY w GET x STORE d", "SORT_RO k",
    "XREAD COUNT 2 STREAMS s1 s2 0 0", "XREADGROUP GROUP g c STREAMS s >", "EVAL return 2 a b x",
    "EVAL return 0", "GEORADIUS k 0 0 10 m STORE d", "GEORADIUS k 0 0 10 m STORE", "HSET h f v", "OBJECT ENCODING k",
    "MEMORY USAGE k", "XGROUP CREATE s g $", "ZINTER x a", "XREAD STREAMS a", "PING x", "GET k x",
]


@pytest.mark.parametrize("case", CASES)
def test_getkeys_like_redis(case, pykey_raw, redis_raw):
    argv = shlex.split(case)
    for sub in ("GETKEYS", "GETKEYSANDFLAGS"):
        mine, theirs = pykey_raw.call("COMMAND", sub, *argv), redis_raw.call("COMMAND", sub, *argv)
        assert mine == theirs, f"COMMAND {sub} {case}: pykey {mine!r} redis {theirs!r}"
