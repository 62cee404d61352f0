"""SORT and SORT_RO: numeric and ALPHA order, BY (patterns, hash fields, nosort), LIMIT,
GET (#, ->), STORE, errors, events and propagation, as Valkey 8.0 gives them."""
from __future__ import annotations

import pytest

from pykey.testing import EmbeddedServer
from pykey.testing.recording import record_events
from pykey.testing.replies import error_text as err


@pytest.fixture
def rc(r):
    """``r`` without redis-py's reply callbacks."""
    r.response_callbacks.clear()
    return r


@pytest.fixture
def events(pykey_server: EmbeddedServer):
    with record_events(pykey_server) as got:
        yield got



def test_numeric_and_alpha(rc):
    r = rc
    r.rpush("l", 3, 1, 2, "10", "1.5")
    assert r.execute_command("SORT", "l") == [b"1", b"1.5", b"2", b"3", b"10"]
    assert r.execute_command("SORT", "l", "DESC") == [b"10", b"3", b"2", b"1.5", b"1"]
    assert r.execute_command("SORT", "l", "ALPHA") == [b"1", b"1.5", b"10", b"2", b"3"]
    assert r.execute_command("SORT", "l", "ALPHA", "DESC", "LIMIT", 1, 2) == [b"2", b"10"]
    r.rpush("w", "b", "a")
    assert err(r, "SORT", "w") == "One or more scores can't be converted into double"
    assert r.execute_command("SORT", "w", "ALPHA") == [b"a", b"b"]
    r.rpush("x", "inf", "-inf", "0x10", "1e2", " 5")
    assert r.execute_command("SORT", "x") == [b"-inf", b" 5", b"0x10", b"1e2", b"inf"]
    r.rpush("bad", "1e400")
    assert err(r, "SORT", "bad") == "One or more scores can't be converted into double"
    r.rpush("eq", "01", "1", "1.0")          # equal scores: ties broken by the bytes
    assert r.execute_command("SORT", "eq") == [b"01", b"1", b"1.0"]


def test_sets_and_zsets(rc):
    r = rc
    r.sadd("s", 5, 3, 9)
    assert r.execute_command("SORT", "s") == [b"3", b"5", b"9"]
    r.zadd("z", {"c": 1, "a": 2, "b": 3})
    assert r.execute_command("SORT", "z", "ALPHA") == [b"a", b"b", b"c"]
    assert r.execute_command("SORT", "z", "BY", "nosort") == [b"c", b"a", b"b"]
    assert r.execute_command("SORT", "z", "BY", "nosort", "DESC", "LIMIT", 1, 5) == [b"a", b"c"]
    assert r.execute_command("SORT", "none") == []
    r.set("str", "x")
    assert err(r, "SORT", "str").startswith("WRONGTYPE")


def test_sort_converts_zset_to_skiplist(r):
    r.zadd("z", {"a": 1})
    assert r.object("encoding", "z") == b"listpack"
    r.sort("z", alpha=True)
    assert r.object("encoding", "z") == b"skiplist"


def test_by_and_get(rc):
    r = rc
    r.rpush("l", 1, 2, 3)
    r.mset({"w_1": 30, "w_2": 10, "w_3": 20, "o_1": "one", "o_3": "three"})
    r.hset("h_1", "f", "b")
    r.hset("h_2", "f", "a")
    assert r.execute_command("SORT", "l", "BY", "w_*") == [b"2", b"3", b"1"]
    assert r.execute_command("SORT", "l", "BY", "w_*", "GET", "o_*", "GET", "#") == \
        [None, b"2", b"three", b"3", b"one", b"1"]
    assert r.execute_command("SORT", "l", "BY", "h_*->f", "ALPHA") == [b"3", b"2", b"1"]  # missing first
    assert r.execute_command("SORT", "l", "GET", "h_*->f") == [b"b", b"a", None]
    assert r.execute_command("SORT", "l", "GET", "h_*->") == [None, None, None]   # no field: a plain key
    assert r.execute_command("SORT", "l", "GET", "nostar") == [None, None, None]
    assert r.execute_command("SORT", "l", "BY", "missing_*") == [b"1", b"2", b"3"]   # all score 0
    r.lpush("l", 4)
    assert r.execute_command("SORT", "l", "BY", "nosort") == [b"4", b"1", b"2", b"3"]
    assert r.execute_command("SORT", "l", "BY", "nosort", "DESC", "LIMIT", 0, 2) == [b"3", b"2"]
    r.set("w_4", "notanumber")
    assert err(r, "SORT", "l", "BY", "w_*") == "One or more scores can't be converted into double"


def test_limit_edges(rc):
    r = rc
    r.rpush("l", 5, 4, 3, 2, 1)
    assert r.execute_command("SORT", "l", "LIMIT", 2, 2) == [b"3", b"4"]
    assert r.execute_command("SORT", "l", "LIMIT", -5, 2) == [b"1", b"2"]
    assert r.execute_command("SORT", "l", "LIMIT", 3, -1) == [b"4", b"5"]
    assert r.execute_command("SORT", "l", "LIMIT", 10, 2) == []
    assert r.execute_command("SORT", "l", "LIMIT", 0, 0) == []
    assert err(r, "SORT", "l", "LIMIT", "x", 1) == "value is not an integer or out of range"
    assert err(r, "SORT", "l", "LIMIT", 1) == "syntax error"


def test_store(rc, events):
    r = rc
    r.rpush("l", 3, 1, 2)
    r.set("dst", "x")
    assert r.execute_command("SORT", "l", "STORE", "dst") == 3
    assert r.execute_command("LRANGE", "dst", 0, -1) == [b"1", b"2", b"3"]
    assert r.execute_command("OBJECT", "ENCODING", "dst") == b"listpack"
    assert r.execute_command("SORT", "l", "GET", "nokey_*", "GET", "#", "STORE", "dst") == 6
    assert r.execute_command("LRANGE", "dst", 0, -1) == [b"", b"1", b"", b"2", b"", b"3"]
    assert r.execute_command("SORT", "none", "STORE", "dst") == 0
    assert r.exists("dst") == 0
    assert [e for e, _ in events["notify"]][-3:] == ["sortstore", "sortstore", "del"]
    r.sadd("s", "b", "c", "a")
    # a set sorted BY nosort into a key is sorted ALPHA, so that replicas agree
    assert r.execute_command("SORT", "s", "BY", "nosort", "STORE", "dst") == 3
    assert r.execute_command("LRANGE", "dst", 0, -1) == [b"a", b"b", b"c"]
    assert [argv[0].lower() for argv in events["propagate"]].count(b"sort") == 4


def test_sort_ro(rc):
    r = rc
    r.rpush("l", 2, 1)
    assert r.execute_command("SORT_RO", "l") == [b"1", b"2"]
    assert err(r, "SORT_RO", "l", "STORE", "d") == "syntax error"
    assert r.execute_command("COMMAND", "GETKEYS", "SORT", "l", "STORE", "a", "BY", "x", "STORE", "b") == [b"l", b"b"]
    assert r.execute_command("COMMAND", "GETKEYS", "SORT_RO", "l", "BY", "x") == [b"l"]


def test_syntax_errors(r):
    r.rpush("l", 1)
    assert err(r, "SORT", "l", "FOO") == "syntax error"
    assert err(r, "SORT", "l", "BY") == "syntax error"
    assert err(r, "SORT", "l", "GET") == "syntax error"
    assert err(r, "SORT", "l", "STORE") == "syntax error"
