"""String commands: SET family, GET family, counters, ranges, LCS, propagation and events."""
from __future__ import annotations

import time

import pytest
import redis

from pykey.commands.string import object_encoding


def _set(r, *args):
    """SET with its raw reply (redis-py turns SET replies into booleans unless told ``get``)."""
    return r.execute_command("SET", *args, get=True)


def _err(text: str) -> str:
    return "^" + text.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.") + "$"


@pytest.fixture
def capture(pykey_server):
    """Record what the server propagates and notifies while the test runs."""
    engine = pykey_server.engine
    propagated: list[list[bytes]] = []
    events: list[tuple[str, bytes, bytes]] = []

    def sink(dbid: int, argv: list[bytes]) -> None:
        propagated.append(list(argv))

    def notify(flag: str, event: bytes, key: bytes, dbid: int) -> None:
        events.append((flag, event, key))

    old_notify = engine.notify_sink
    pykey_server.call(engine.propagate_sinks.append, sink)
    engine.notify_sink = notify
    yield propagated, events
    engine.notify_sink = old_notify
    pykey_server.call(engine.propagate_sinks.remove, sink)


# ---------------------------------------------------------------- SET / GET

def test_set_get_basic(r):
    assert r.set("k", "v") is True
    assert r.get("k") == b"v"
    assert r.get("missing") is None


def _try(r, *args) -> None:
    """Run a command another module provides; skip the test while it is missing."""
    try:
        r.execute_command(*args)
    except redis.ResponseError as e:
        if "unknown command" in str(e):
            pytest.skip(f"{args[0]} not implemented yet")
        raise


def test_set_nx_xx(r):
    assert r.set("k", "1", nx=True) is True
    assert r.set("k", "2", nx=True) is None
    assert r.set("k", "3", xx=True) is True
    assert r.set("other", "3", xx=True) is None
    assert r.get("k") == b"3" and r.get("other") is None


def test_set_get_option(r):
    assert _set(r, "k", "a", "GET") is None
    assert _set(r, "k", "b", "GET") == b"a"
    # NX + GET: the old value comes back and nothing is set
    assert _set(r, "k", "c", "NX", "GET") == b"b"
    assert r.get("k") == b"b"
    assert _set(r, "new", "c", "XX", "GET") is None
    assert r.exists("new") == 0


def test_set_syntax_errors(r):
    for args in (["NX", "XX"], ["XX", "NX"], ["EX", "10", "PX", "100"], ["KEEPTTL", "EX", "10"],
                 ["EX"], ["PXAT"], ["PERSIST"], ["FOO"], ["EX", "10", "KEEPTTL"], ["IFEQ"],
                 ["IFEQ", "a", "NX"], ["NX", "IFEQ", "a"]):
        with pytest.raises(redis.ResponseError, match="^syntax error$"):
            _set(r, "k", "v", *args)


def test_set_invalid_expire(r):
    for opt, val in (("EX", "0"), ("EX", "-1"), ("PX", "0"), ("EXAT", "0"), ("PXAT", "-5"),
                     ("EX", str(2**63 // 1000 + 1)), ("PX", str(2**63 - 1))):
        with pytest.raises(redis.ResponseError, match=_err("invalid expire time in 'set' command")):
            _set(r, "k", "v", opt, val)
    with pytest.raises(redis.ResponseError, match="^value is not an integer or out of range$"):
        _set(r, "k", "v", "EX", "1.5")
    with pytest.raises(redis.ResponseError, match=_err("invalid expire time in 'setex' command")):
        r.execute_command("SETEX", "k", "0", "v")
    with pytest.raises(redis.ResponseError, match=_err("invalid expire time in 'psetex' command")):
        r.execute_command("PSETEX", "k", "-1", "v")
    assert r.exists("k") == 0


def test_set_expire_options(r):
    r.set("k", "v", ex=100)
    assert 99 <= r.ttl("k") <= 100
    r.set("k", "v", px=50_000)
    assert 49_000 < r.pttl("k") <= 50_000
    r.set("k", "v", exat=int(time.time()) + 200)
    assert 198 <= r.ttl("k") <= 200
    r.set("k", "v", pxat=int(time.time() * 1000) + 300_000)
    assert 298 <= r.ttl("k") <= 300
    r.set("k", "w", keepttl=True)
    assert 298 <= r.ttl("k") <= 300 and r.get("k") == b"w"
    r.set("k", "x")
    assert r.ttl("k") == -1


def test_set_past_expiry_deletes(r, capture):
    propagated, events = capture
    r.set("k", "v")
    propagated.clear()
    events.clear()
    assert _set(r, "k", "w", "PXAT", "1") == b"OK"
    assert r.exists("k") == 0
    assert propagated == [[b"UNLINK", b"k"]]  # lazyfree-lazy-expire defaults to yes in Valkey 8
    assert ("g", b"del", b"k") in events
    # an absent key with a past expiry: nothing at all happens
    propagated.clear()
    assert _set(r, "k", "w", "EXAT", "1", "GET") is None
    assert propagated == [] and r.exists("k") == 0


def test_set_get_wrongtype(r):
    _try(r, "SADD", "s", "x")
    with pytest.raises(redis.ResponseError, match="^WRONGTYPE"):
        _set(r, "s", "v", "GET")
    assert r.set("s", "v") is True  # plain SET overwrites any type


def test_set_ifeq(r):
    assert _set(r, "k", "new", "IFEQ", "x") is None
    assert r.exists("k") == 0
    r.set("k", "a")
    assert _set(r, "k", "b", "IFEQ", "zzz") is None
    assert r.get("k") == b"a"
    assert _set(r, "k", "b", "IFEQ", "a") == b"OK"
    assert _set(r, "k", "c", "ifeq", "b", "GET") == b"b"
    assert _set(r, "k", "d", "IFEQ", "nope", "GET") == b"c"
    assert r.get("k") == b"c"


def test_setnx_setex_psetex(r):
    assert r.setnx("k", "1") is True
    assert r.setnx("k", "2") is False
    assert r.get("k") == b"1"
    assert r.setex("e", 100, "v") is True
    assert 99 <= r.ttl("e") <= 100
    assert r.psetex("p", 100_000, "v") is True
    assert 99_000 < r.pttl("p") <= 100_000


def test_getset_getdel(r):
    assert r.getset("k", "a") is None
    r.expire("k", 100)
    assert r.getset("k", "b") == b"a"
    assert r.ttl("k") == -1
    assert r.getdel("k") == b"b"
    assert r.exists("k") == 0
    assert r.getdel("k") is None


def test_getex(r):
    assert r.getex("missing", ex=10) is None
    r.set("k", "v")
    assert r.getex("k") == b"v" and r.ttl("k") == -1
    assert r.getex("k", ex=100) == b"v"
    assert 99 <= r.ttl("k") <= 100
    assert r.getex("k", px=200_000) == b"v"
    assert 199 <= r.ttl("k") <= 200
    assert r.getex("k", persist=True) == b"v" and r.ttl("k") == -1
    assert r.getex("k", exat=int(time.time()) + 50) == b"v"
    assert 48 <= r.ttl("k") <= 50
    assert r.getex("k", pxat=1) == b"v"
    assert r.exists("k") == 0
    r.set("k", "v")
    for args in (["NX"], ["GET"], ["KEEPTTL"], ["EX", "1", "PERSIST"], ["PERSIST", "EX", "1"], ["EX"]):
        with pytest.raises(redis.ResponseError, match="^syntax error$"):
            r.execute_command("GETEX", "k", *args)
    with pytest.raises(redis.ResponseError, match=_err("invalid expire time in 'getex' command")):
        r.execute_command("GETEX", "k", "EX", "0")


def test_mget_mset_msetnx(r):
    assert r.mset({"a": "1", "b": "2"}) is True
    assert r.mget("a", "b", "c") == [b"1", b"2", None]
    with pytest.raises(redis.ResponseError, match=_err("wrong number of arguments for 'mset' command")):
        r.execute_command("MSET", "a", "1", "b")
    with pytest.raises(redis.ResponseError, match=_err("wrong number of arguments for 'msetnx' command")):
        r.execute_command("MSETNX", "a", "1", "b")
    assert r.msetnx({"c": "3", "a": "x"}) is False
    assert r.get("c") is None and r.get("a") == b"1"
    assert r.msetnx({"c": "3", "d": "4"}) is True
    assert r.mget("c", "d") == [b"3", b"4"]


def test_mget_non_string_is_nil(r):
    _try(r, "RPUSH", "l", "x")
    r.set("s", "v")
    assert r.mget("l", "s") == [None, b"v"]


# ---------------------------------------------------------------- APPEND / SETRANGE / GETRANGE

def test_append_strlen(r):
    assert r.append("k", "hello") == 5
    assert r.append("k", " world") == 11
    assert r.get("k") == b"hello world"
    assert r.strlen("k") == 11 and r.strlen("missing") == 0
    r.set("n", 1)
    r.append("n", 2)
    assert r.get("n") == b"12"


def test_append_keeps_ttl(r):
    r.set("k", "a", ex=100)
    r.append("k", "b")
    assert 99 <= r.ttl("k") <= 100


def test_setrange(r):
    assert r.setrange("k", 0, "") == 0 and r.exists("k") == 0
    assert r.setrange("k", 3, "ab") == 5
    assert r.get("k") == b"\x00\x00\x00ab"
    r.set("s", "hello world")
    assert r.setrange("s", 6, "Redis") == 11
    assert r.get("s") == b"hello Redis"
    assert r.setrange("s", 0, "") == 11
    assert r.setrange("s", 13, "!") == 14
    assert r.get("s") == b"hello Redis\x00\x00!"
    with pytest.raises(redis.ResponseError, match="^offset is out of range$"):
        r.setrange("s", -1, "x")
    with pytest.raises(redis.ResponseError, match="^value is not an integer or out of range$"):
        r.setrange("s", "x", "x")
    with pytest.raises(redis.ResponseError, match=_err("string exceeds maximum allowed size (proto-max-bulk-len)")):
        r.setrange("s", 512 * 1024 * 1024, "x")
    with pytest.raises(redis.ResponseError, match=_err("string exceeds maximum allowed size (proto-max-bulk-len)")):
        r.setrange("s", 2**63 - 1, "x")


def test_getrange(r):
    r.set("k", "This is a string")
    assert r.getrange("k", 0, 3) == b"This"
    assert r.getrange("k", -3, -1) == b"ing"
    assert r.getrange("k", 0, -1) == b"This is a string"
    assert r.getrange("k", 10, 100) == b"string"
    assert r.getrange("k", 5, 3) == b""
    assert r.getrange("k", -1, -5) == b""
    assert r.getrange("k", -100, 3) == b"This"
    assert r.getrange("missing", 0, -1) == b""
    assert r.execute_command("SUBSTR", "k", 0, 3) == b"This"
    r.set("n", 1234)
    assert r.getrange("n", 1, 2) == b"23"
    with pytest.raises(redis.ResponseError, match="^value is not an integer or out of range$"):
        r.getrange("k", "a", 1)


# ---------------------------------------------------------------- counters

def test_incr_decr(r):
    assert r.incr("k") == 1
    assert r.incrby("k", 10) == 11
    assert r.decr("k") == 10
    assert r.decrby("k", 20) == -10
    assert r.get("k") == b"-10"
    r.set("k", 2**63 - 1)
    with pytest.raises(redis.ResponseError, match="^increment or decrement would overflow$"):
        r.incr("k")
    r.set("k", -(2**63))
    with pytest.raises(redis.ResponseError, match="^increment or decrement would overflow$"):
        r.decr("k")
    with pytest.raises(redis.ResponseError, match="^decrement would overflow$"):
        r.decrby("x", -(2**63))
    for bad in ("abc", " 1", "1 ", "01", "-0", "1.5", "+1", str(2**63)):
        r.set("b", bad)
        with pytest.raises(redis.ResponseError, match="^value is not an integer or out of range$"):
            r.incr("b")
    with pytest.raises(redis.ResponseError, match="^value is not an integer or out of range$"):
        r.incrby("k", "1.5")


def test_incr_keeps_ttl(r):
    r.set("k", 5, ex=100)
    r.incr("k")
    assert 99 <= r.ttl("k") <= 100


def test_incrbyfloat(r):
    r.response_callbacks.pop("INCRBYFLOAT", None)   # the exact reply text, not a float
    assert r.incrbyfloat("f", 0.1) == b"0.1"
    assert r.execute_command("INCRBYFLOAT", "f", "0.2") == b"0.3"
    r.set("f", "10.5")
    assert r.execute_command("INCRBYFLOAT", "f", "0.1") == b"10.6"
    r.set("f", "5.0e3")
    assert r.execute_command("INCRBYFLOAT", "f", "2.0e2") == b"5200"
    r.set("f", 17179869184)
    assert r.execute_command("INCRBYFLOAT", "f", "1.5") == b"17179869185.5"
    r.set("f", 1)
    assert r.execute_command("INCRBYFLOAT", "f", "-1.1") == b"-0.1"
    r.delete("f")
    r.execute_command("INCRBYFLOAT", "f", repr(1 / 41))
    assert r.execute_command("INCRBYFLOAT", "f", repr(-1 / 41)) == b"0"
    assert r.execute_command("INCRBYFLOAT", "h", "0x10") == b"16"
    assert r.execute_command("INCRBYFLOAT", "t", "1e30") == b"1000000000000000000024696061952"


def test_incrbyfloat_errors(r):
    r.set("f", 0)
    with pytest.raises(redis.ResponseError, match="^increment would produce NaN or Infinity$"):
        r.execute_command("INCRBYFLOAT", "f", "+inf")
    for bad in (" 11", "11 ", "abc", "nan", "1e5000", ""):
        r.set("b", bad)
        with pytest.raises(redis.ResponseError, match="^value is not a valid float$"):
            r.execute_command("INCRBYFLOAT", "b", "1")
    r.set("f", 1)
    r.setrange("f", 2, "2")  # "1\x002": a NUL inside the number
    with pytest.raises(redis.ResponseError, match="^value is not a valid float$"):
        r.execute_command("INCRBYFLOAT", "f", "1")
    r.set("big", "1e4932")
    with pytest.raises(redis.ResponseError, match="^increment would produce NaN or Infinity$"):
        r.execute_command("INCRBYFLOAT", "big", "1e4932")


def test_incrbyfloat_long_double_precision():
    """Values and printing follow x87 long doubles, compared with redis-server 7.0 by hand."""
    from pykey.commands.string import _format_ld, _parse_ld, _round_ld

    def add(a: bytes, b: bytes) -> bytes:
        return _format_ld(_round_ld(_parse_ld(a) + _parse_ld(b)))

    assert add(b"0", b"0.000003814697265625") == b"0.00000381469726562"   # tie: half to even
    assert add(b"3", b"1.0000000000000000001") == b"4"
    assert add(b"0", b"-1e-20") == b"0"
    assert add(b"0.1", b"0.2") == b"0.3"
    assert add(b"0", b"1e300").startswith(b"10000000000000000000089973240795591938705239442732")


# ---------------------------------------------------------------- LCS

def test_lcs(r):
    r.mset({"a": "ohmytext", "b": "mynewtext"})
    assert r.execute_command("LCS", "a", "b") == b"mytext"
    assert r.execute_command("LCS", "a", "b", "LEN") == 6
    assert r.execute_command("LCS", "a", "b", "IDX") == [
        b"matches", [[[4, 7], [5, 8]], [[2, 3], [0, 1]]], b"len", 6]
    assert r.execute_command("LCS", "a", "b", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN") == [
        b"matches", [[[4, 7], [5, 8], 4]], b"len", 6]
    assert r.execute_command("LCS", "a", "missing") == b""
    with pytest.raises(redis.ResponseError, match=_err("If you want both the length and indexes, please just use IDX.")):
        r.execute_command("LCS", "a", "b", "LEN", "IDX")
    with pytest.raises(redis.ResponseError, match="^syntax error$"):
        r.execute_command("LCS", "a", "b", "MINMATCHLEN")


def test_lcs_resp3(pykey_server):
    c = redis.Redis(host=pykey_server.host, port=pykey_server.port, protocol=3)
    c.mset({"a": "ohmytext", "b": "mynewtext"})
    assert c.execute_command("LCS", "a", "b", "IDX") == {
        b"matches": [[[4, 7], [5, 8]], [[2, 3], [0, 1]]], b"len": 6}
    c.close()


# ---------------------------------------------------------------- encodings, propagation, events

def test_object_encoding_helper():
    assert object_encoding(b"123") == "int"
    assert object_encoding(b"-9223372036854775808") == "int"
    assert object_encoding(b"9223372036854775808") == "embstr"
    assert object_encoding(b"0123") == "embstr"
    assert object_encoding(b"x" * 44) == "embstr"
    assert object_encoding(b"x" * 45) == "raw"
    assert object_encoding(bytearray(b"1")) == "raw"


def test_propagation_rewrites(r, capture):
    propagated, _ = capture
    _set(r, "k", "v", "EX", "100")
    argv = propagated[-1]
    assert argv[:4] == [b"SET", b"k", b"v", b"PXAT"]
    assert abs(int(argv[4]) - (time.time() * 1000 + 100_000)) < 5000
    _set(r, "k", "w", "GET", "XX", "get")
    assert propagated[-1] == [b"SET", b"k", b"w", b"XX"]
    r.execute_command("SETEX", "k", "10", "v")
    assert propagated[-1][3] == b"PXAT"
    r.execute_command("GETEX", "k", "EX", "10")
    assert propagated[-1][:2] == [b"PEXPIREAT", b"k"]
    r.execute_command("GETEX", "k", "PERSIST")
    assert propagated[-1] == [b"PERSIST", b"k"]
    n = len(propagated)
    r.execute_command("GETEX", "k", "PERSIST")      # nothing to persist: nothing propagated
    assert len(propagated) == n
    r.execute_command("GETSET", "k", "z")
    assert propagated[-1] == [b"SET", b"k", b"z"]
    r.set("f", "1.5")
    r.execute_command("INCRBYFLOAT", "f", "1")
    assert propagated[-1] == [b"SET", b"f", b"2.5", b"KEEPTTL"]
    r.execute_command("GETDEL", "f")
    assert propagated[-1] == [b"DEL", b"f"]


def test_events(r, capture):
    _, events = capture
    r.set("k", "1", ex=10)
    r.incr("k")
    r.incrbyfloat("k", 1.5)
    r.append("k", "x")
    r.setrange("k", 0, "y")
    r.getdel("k")
    assert events == [("$", b"set", b"k"), ("g", b"expire", b"k"), ("$", b"incrby", b"k"),
                      ("$", b"incrbyfloat", b"k"), ("$", b"append", b"k"), ("$", b"setrange", b"k"),
                      ("g", b"del", b"k")]


def test_expired_key_is_absent(r, pykey_server):
    r.set("k", "v", px=100)
    pykey_server.advance(200)
    assert r.get("k") is None
    assert r.set("k", "w", xx=True) is None
