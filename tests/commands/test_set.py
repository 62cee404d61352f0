"""Set commands: replies, errors and encodings as Valkey 8.0 gives them."""
from __future__ import annotations

import pytest
import redis

from pykey.config import Config
from pykey.datatypes.settype import SetType


def test_sadd_srem_scard(r):
    assert r.sadd("s", "a", "b", "a") == 2
    assert r.scard("s") == 2
    assert r.sadd("s", "b", "c") == 1
    assert r.srem("s", "a", "zz") == 1
    assert r.smembers("s") == {b"b", b"c"}
    assert r.srem("s", "b", "c") == 2
    assert r.exists("s") == 0
    assert r.srem("nokey", "x") == 0
    assert r.scard("nokey") == 0


def test_wrongtype(r):
    r.set("str", "x")
    for args in (("sadd", "str", "a"), ("smembers", "str"), ("sinter", "str"), ("sscan", "str", "0"),
                 ("spop", "str"), ("srandmember", "str", "2")):
        with pytest.raises(redis.ResponseError, match="^WRONGTYPE"):
            r.execute_command(*args)


def test_ismember(r):
    r.sadd("s", 1, 2)
    assert r.sismember("s", 1) == 1
    assert r.sismember("s", 3) == 0
    assert r.smismember("s", [1, 3, 2]) == [1, 0, 1]
    assert r.smismember("nokey", [1, 2]) == [0, 0]


def test_smove(r):
    r.sadd("a", 1, 2)
    r.sadd("b", 3)
    assert r.smove("a", "b", 1) == 1
    assert r.smove("a", "b", 9) == 0
    assert r.smove("nokey", "b", 1) == 0
    assert r.smove("a", "a", 2) == 1
    assert r.smove("a", "c", 2) == 1
    assert r.exists("a") == 0
    assert r.smembers("c") == {b"2"}
    r.set("str", "x")
    with pytest.raises(redis.ResponseError, match="^WRONGTYPE"):
        r.smove("c", "str", 2)


def test_spop(r):
    r.sadd("s", *range(10))
    m = r.spop("s")
    assert r.scard("s") == 9 and r.sismember("s", m) == 0
    popped = r.spop("s", 3)
    assert len(popped) == 3 and r.scard("s") == 6
    assert r.spop("s", 0) == []
    assert len(r.spop("s", 100)) == 6
    assert r.exists("s") == 0
    assert r.spop("nokey") is None
    assert r.spop("nokey", 3) == []
    with pytest.raises(redis.ResponseError, match="value is out of range, must be positive"):
        r.spop("s", -1)
    with pytest.raises(redis.ResponseError, match="syntax error"):
        r.execute_command("spop", "s", 1, 2)


def test_srandmember(r):
    r.sadd("s", "a", "b", "c")
    assert r.srandmember("s") in (b"a", b"b", b"c")
    assert sorted(r.srandmember("s", 10)) == [b"a", b"b", b"c"]
    assert len(set(r.srandmember("s", 2))) == 2
    assert len(r.srandmember("s", -10)) == 10
    assert r.srandmember("s", 0) == []
    assert r.srandmember("nokey") is None
    assert r.srandmember("nokey", 5) == []
    with pytest.raises(redis.ResponseError,
                       match="value is out of range, value must between -9223372036854775807 and"):
        r.srandmember("s", -9223372036854775808)


def test_inter_union_diff(r):
    r.sadd("a", 1, 2, 3, 4)
    r.sadd("b", 2, 3, 5)
    r.sadd("c", 3, 4, 2)
    assert r.sinter("a", "b", "c") == {b"2", b"3"}
    assert r.sinter("a", "nokey") == set()
    assert r.sunion("a", "b") == {b"1", b"2", b"3", b"4", b"5"}
    assert r.sdiff("a", "b") == {b"1", b"4"}
    assert r.sdiff("a", "a") == set()
    assert r.sdiff("nokey", "a") == set()
    assert r.sinterstore("d", "a", "b") == 2
    assert r.smembers("d") == {b"2", b"3"}
    assert r.sunionstore("d", "b", "c") == 4
    assert r.sdiffstore("d", "a", "b", "c") == 1
    assert r.smembers("d") == {b"1"}
    r.expire("d", 100)
    assert r.sinterstore("d", "a", "nokey") == 0
    assert r.exists("d") == 0


def test_sintercard(r):
    r.sadd("a", 1, 2, 3, 4)
    r.sadd("b", 2, 3, 4, 5)
    assert r.sintercard(2, ["a", "b"]) == 3
    assert r.sintercard(2, ["a", "b"], limit=2) == 2
    assert r.sintercard(2, ["a", "nokey"]) == 0
    with pytest.raises(redis.ResponseError, match="numkeys should be greater than 0"):
        r.execute_command("sintercard", 0, "a")
    with pytest.raises(redis.ResponseError, match="numkeys should be greater than 0"):
        r.execute_command("sintercard", "a", "a")
    with pytest.raises(redis.ResponseError, match="Number of keys can't be greater than number of args"):
        r.execute_command("sintercard", 3, "a", "b")
    with pytest.raises(redis.ResponseError, match="LIMIT can't be negative"):
        r.execute_command("sintercard", 1, "a", "limit", -1)
    with pytest.raises(redis.ResponseError, match="syntax error"):
        r.execute_command("sintercard", 1, "a", "foo")


def test_sscan(r):
    r.sadd("small", *range(20))
    cur, items = r.sscan("small", 0, count=2)
    assert cur == 0 and len(items) == 20
    r.sadd("big", *[f"m{i}" for i in range(500)])
    seen, cur = set(), 0
    while True:
        cur, items = r.sscan("big", cur, count=50)
        seen.update(items)
        if cur == 0:
            break
    assert len(seen) == 500
    assert r.sscan("small", 0, match="1*")[1] and all(m.startswith(b"1") for m in r.sscan("small", 0, match="1*")[1])
    assert r.sscan("nokey", 0) == (0, [])
    with pytest.raises(redis.ResponseError, match="invalid cursor"):
        r.sscan("small", "x")
    with pytest.raises(redis.ResponseError, match="syntax error"):
        r.execute_command("sscan", "small", 0, "count", 0)
    with pytest.raises(redis.ResponseError, match="NOVALUES option can only be used in HSCAN"):
        r.execute_command("sscan", "small", 0, "novalues")


def test_encodings():
    cfg = Config()
    s = SetType.create(b"1", 1, cfg)
    s.add_member(b"1", cfg)
    assert s.encoding(cfg) == "intset"
    s.add_member(b"abc", cfg)
    assert s.encoding(cfg) == "listpack"
    for i in range(200):
        s.add_member(str(i).encode(), cfg)
    assert s.encoding(cfg) == "hashtable"
    s.clear()
    s.add_member(b"x", cfg)
    assert s.encoding(cfg) == "hashtable"
    big = SetType.create(b"1", 1, cfg)
    for i in range(513):
        big.add_member(str(i).encode(), cfg)
    assert big.encoding(cfg) == "hashtable"
    long_value = SetType.create(b"a" * 65, 1, cfg)
    long_value.add_member(b"a" * 65, cfg)
    assert long_value.encoding(cfg) == "hashtable"
