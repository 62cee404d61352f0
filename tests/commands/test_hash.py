"""Hash commands: replies, errors and encodings as Valkey 8.0 gives them."""
from __future__ import annotations

import pytest
import redis

from pykey.commands.hash import format_long_double, parse_long_double
from pykey.config import Config
from pykey.datatypes.hashtype import HashType


def test_hset_hget(r):
    assert r.hset("h", mapping={"a": 1, "b": 2}) == 2
    assert r.hset("h", mapping={"a": 3, "c": 4}) == 1
    assert r.hget("h", "a") == b"3"
    assert r.hget("h", "zz") is None
    assert r.hget("nokey", "a") is None
    assert r.hmget("h", "a", "zz", "c") == [b"3", None, b"4"]
    assert r.hmget("nokey", "a", "b") == [None, None]
    assert r.execute_command("hmset", "h", "d", 5) is True
    assert r.hlen("h") == 4
    with pytest.raises(redis.ResponseError, match="wrong number of arguments for 'hset' command"):
        r.execute_command("hset", "h", "a", 1, "b")
    with pytest.raises(redis.ResponseError, match="wrong number of arguments for 'hmset' command"):
        r.execute_command("hmset", "h", "a", 1, "b")


def test_hsetnx_hdel_hexists(r):
    assert r.hsetnx("h", "a", 1) == 1
    assert r.hsetnx("h", "a", 2) == 0
    assert r.hget("h", "a") == b"1"
    assert r.hexists("h", "a") == 1
    assert r.hexists("h", "b") == 0
    r.hset("h", "b", 2)
    assert r.hdel("h", "a", "zz") == 1
    assert r.hdel("h", "b") == 1
    assert r.exists("h") == 0
    assert r.hdel("nokey", "a") == 0


def test_getall_keys_vals_strlen(r):
    r.hset("h", mapping={"a": "hello", "b": "x"})
    assert r.hgetall("h") == {b"a": b"hello", b"b": b"x"}
    assert r.hkeys("h") == [b"a", b"b"]
    assert r.hvals("h") == [b"hello", b"x"]
    assert r.hstrlen("h", "a") == 5
    assert r.hstrlen("h", "zz") == 0
    assert r.hgetall("nokey") == {}
    assert r.hkeys("nokey") == []


def test_wrongtype(r):
    r.set("str", "x")
    for args in (("hset", "str", "a", 1), ("hget", "str", "a"), ("hgetall", "str"),
                 ("hincrby", "str", "a", 1), ("hscan", "str", "0")):
        with pytest.raises(redis.ResponseError, match="^WRONGTYPE"):
            r.execute_command(*args)


def test_hincrby(r):
    assert r.hincrby("h", "n", 5) == 5
    assert r.hincrby("h", "n", -7) == -2
    r.hset("h", "s", "abc")
    with pytest.raises(redis.ResponseError, match="^hash value is not an integer$"):
        r.hincrby("h", "s", 1)
    with pytest.raises(redis.ResponseError, match="value is not an integer or out of range"):
        r.hincrby("h", "n", "x")
    r.hset("h", "big", 2**63 - 1)
    with pytest.raises(redis.ResponseError, match="increment or decrement would overflow"):
        r.hincrby("h", "big", 1)


def test_hincrbyfloat(r):
    r.hincrbyfloat("h", "f", "10.5")
    r.hincrbyfloat("h", "f", "0.1")
    r.hincrbyfloat("h", "g", "1234.1")
    r.hincrbyfloat("h", "e", "5e3")
    assert r.hmget("h", "f", "g", "e") == [b"10.6", b"1234.09999999999999998", b"5000"]
    r.hset("h", "s", "abc")
    with pytest.raises(redis.ResponseError, match="^hash value is not a float$"):
        r.hincrbyfloat("h", "s", 1)
    with pytest.raises(redis.ResponseError, match="^value is not a valid float$"):
        r.hincrbyfloat("h", "f", "x")
    with pytest.raises(redis.ResponseError, match="^value is NaN or Infinity$"):
        r.hincrbyfloat("h", "f", "inf")


def test_long_double_format():
    assert format_long_double(parse_long_double(b"1e30")) == b"1000000000000000000024696061952"
    assert format_long_double(parse_long_double(b"-0.0")) == b"0"
    assert parse_long_double(b" 1") is None
    assert parse_long_double(b"nan") is None


def test_hrandfield(r):
    r.hset("h", mapping={"a": 1, "b": 2, "c": 3})
    assert r.hrandfield("h") in (b"a", b"b", b"c")
    assert sorted(r.hrandfield("h", 5)) == [b"a", b"b", b"c"]
    assert len(r.hrandfield("h", -5)) == 5
    pairs = r.hrandfield("h", 2, withvalues=True)
    assert len(pairs) == 4
    assert r.hrandfield("nokey") is None
    assert r.hrandfield("nokey", 2) == []
    with pytest.raises(redis.ResponseError, match="syntax error"):
        r.execute_command("hrandfield", "h", 1, "foo")
    with pytest.raises(redis.ResponseError, match="^value is out of range$"):
        r.execute_command("hrandfield", "h", -9223372036854775807, "withvalues")


def test_hscan(r):
    r.hset("h", mapping={f"f{i}": i for i in range(10)})
    cur, data = r.hscan("h", 0)
    assert cur == 0 and len(data) == 10
    assert r.hscan("h", 0, match="f1", no_values=True) == (0, [b"f1"])
    r.hset("big", mapping={f"f{i}": i for i in range(300)})
    seen, cur = {}, 0
    while True:
        cur, data = r.hscan("big", cur, count=40)
        seen.update(data)
        if cur == 0:
            break
    assert len(seen) == 300
    assert r.hscan("nokey", 0) == (0, {})


def test_encodings():
    cfg = Config()
    h = HashType()
    h.try_conversion([b"a", b"1"], cfg)
    h.set_field(b"a", b"1", cfg)
    assert h.encoding(cfg) == "listpack"
    for i in range(128):
        h.set_field(str(i).encode(), b"x", cfg)
    assert h.encoding(cfg) == "hashtable"
    h2 = HashType()
    h2.try_conversion([b"a", b"x" * 65], cfg)
    assert h2.encoding(cfg) == "hashtable"


def test_hincrbyfloat_spaces(r):
    r.hset("h", mapping={"l": " 11", "r": "11 "})
    for f in ("l", "r"):
        with pytest.raises(redis.ResponseError, match="^hash value is not a float$"):
            r.hincrbyfloat("h", f, 1)
