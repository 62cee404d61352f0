"""DEBUG DIGEST and DIGEST-VALUE compute Valkey's exact bytes, so the digest of a dataset
is the same here and in redis-server for every type (scores are integral so that Redis
7.0's "%.17g" and Valkey 8's fpconv_dtoa print them alike)."""
from __future__ import annotations

import pytest

SETUP = [
    ["SET", "s", "hello"], ["SET", "n", "12345"], ["SET", "ttl", "v", "EX", "1000"],
    ["RPUSH", "l", "a", "b", "c", "1"],
    ["SADD", "si", "1", "2", "3"], ["SADD", "ss", "x", "y", "z"],
    ["ZADD", "z", "1", "a", "2", "b", "-3", "c"],
    ["HSET", "h", "f1", "v1", "f2", "2"],
    ["XADD", "x", "1-1", "f", "v"], ["XADD", "x", "2-5", "a", "b", "c", "d"],
]
KEYS = ["s", "n", "ttl", "l", "si", "ss", "z", "h", "x", "missing"]


@pytest.mark.parametrize("db", [0, 3])
def test_digests_match_redis(pykey_raw, redis_raw, db):
    for conn in (pykey_raw, redis_raw):
        assert conn.call("SELECT", db) == b"+OK\r\n"
        for argv in SETUP:
            conn.call(*argv)
    assert pykey_raw.call("DEBUG", "DIGEST-VALUE", *KEYS) == redis_raw.call("DEBUG", "DIGEST-VALUE", *KEYS)
    assert pykey_raw.call("DEBUG", "DIGEST") == redis_raw.call("DEBUG", "DIGEST")


def test_empty_dataset_digest_is_zero(pykey_raw, redis_raw):
    assert pykey_raw.call("DEBUG", "DIGEST") == redis_raw.call("DEBUG", "DIGEST") == b"+" + b"0" * 40 + b"\r\n"


def _fields(reply: bytes) -> dict[str, str]:
    """DEBUG OBJECT's fields, without those that differ between any two servers."""
    pairs = dict(f.split(":", 1) for f in reply.decode().strip("+\r\n").split(" ")[1:])
    for name in ("at", "lru", "lru_seconds_idle", "lfu_freq", "lfu_access_time_minutes"):
        pairs.pop(name, None)
    return pairs


def test_debug_object_like_redis(pykey_raw, redis_raw):
    """serializedlength is the RDB size; a quicklist shows its nodes as Valkey fills them."""
    for conn in (pykey_raw, redis_raw):
        conn.call("CONFIG", "SET", "list-max-listpack-size", "4")
        conn.call("RPUSH", "l", *"abcdefghij")
        conn.call("SET", "s", "hello world this is a string")
        conn.call("SET", "i", "12345")
        conn.call("SET", "big", "x" * 300)
        conn.call("SADD", "set", "1", "2", "3")
        conn.call("HSET", "h", "f", "v")
    try:
        for key in ("l", "s", "i", "big", "set", "h"):
            assert _fields(pykey_raw.call("DEBUG", "OBJECT", key)) == _fields(redis_raw.call("DEBUG", "OBJECT", key))
    finally:
        for conn in (pykey_raw, redis_raw):
            conn.call("CONFIG", "SET", "list-max-listpack-size", "-2")
