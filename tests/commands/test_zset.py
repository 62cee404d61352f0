"""Sorted set commands: replies (RESP2 and RESP3 bytes), errors, encodings, keyspace events,
propagation and blocking pops, as Valkey 8.0 gives them."""
from __future__ import annotations

import socket

import pytest

from pykey.testing import EmbeddedServer
from pykey.testing.raw import redis_connections
from pykey.testing.recording import record_events
from pykey.testing.replies import error_text as err
from pykey.testing.waiting import wait_blocked


# ---------------------------------------------------------------------- helpers
class Raw:
    """A raw RESP connection: each reply's exact bytes (RESP2, or RESP3 after HELLO 3)."""

    def __init__(self, port: int, resp3: bool = False) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.buf = b""
        if resp3:
            self.call("HELLO", "3")

    def call(self, *args) -> bytes:
        parts = [a if isinstance(a, bytes) else str(a).encode() for a in args]
        self.sock.sendall(b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts))
        return self.read()

    def read(self) -> bytes:
        while True:
            end = _end(self.buf, 0)
            if end is not None:
                out, self.buf = self.buf[:end], self.buf[end:]
                return out
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buf += chunk

    def close(self) -> None:
        self.sock.close()


def _end(buf: bytes, pos: int) -> int | None:
    nl = buf.find(b"\r\n", pos)
    if nl < 0:
        return None
    kind, head = buf[pos:pos + 1], buf[pos + 1:nl]
    pos = nl + 2
    if kind in b"+-:,_#(":
        return pos
    if kind in b"$=!":
        n = int(head)
        if n < 0:
            return pos
        return pos + n + 2 if len(buf) >= pos + n + 2 else None
    n = int(head)
    if kind == b"%":
        n *= 2
    for _ in range(max(n, 0)):
        pos = _end(buf, pos)
        if pos is None:
            return None
    return pos


@pytest.fixture
def raw(pykey_server: EmbeddedServer):
    made: list[Raw] = []

    def make(resp3: bool = False) -> Raw:
        c = Raw(pykey_server.port, resp3)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


@pytest.fixture
def events(pykey_server: EmbeddedServer):
    """Keyspace events and the propagated commands, as the engine emits them."""
    with record_events(pykey_server) as got:
        yield got


@pytest.fixture
def rc(r):
    """``r`` without redis-py's reply callbacks: replies as the server shaped them."""
    r.response_callbacks.clear()
    return r



# ---------------------------------------------------------------------- ZADD / ZINCRBY
def test_zadd_basics_and_options(r):
    assert r.execute_command("ZADD", "z", 1, "a", 2, "b") == 2
    assert r.execute_command("ZADD", "z", 3, "a", 4, "c") == 1
    assert r.execute_command("ZADD", "z", "CH", 5, "a", 5, "d", 2, "b") == 2
    assert r.execute_command("ZADD", "z", "NX", 9, "a", 1, "e") == 1
    assert r.zscore("z", "a") == 5
    assert r.execute_command("ZADD", "z", "XX", 9, "a", 1, "f") == 0
    assert r.zscore("z", "a") == 9 and r.zscore("z", "f") is None
    assert r.execute_command("ZADD", "z", "GT", "CH", 1, "a", 10, "b") == 1
    assert r.execute_command("ZADD", "z", "LT", "CH", 20, "a", 1, "c") == 1
    assert r.zscore("z", "a") == 9 and r.zscore("z", "b") == 10 and r.zscore("z", "c") == 1
    assert r.execute_command("ZADD", "z", "GT", 1, "new") == 1      # GT/LT only restrain updates
    assert r.execute_command("ZADD", "z", "XX", "GT", "CH", 100, "a", 100, "zz") == 1
    assert r.execute_command("ZADD", "nokey", "XX", 1, "a") == 0 and r.exists("nokey") == 0


def test_zadd_incr(r):
    assert r.execute_command("ZADD", "z", "INCR", 1.5, "a") == 1.5
    assert r.execute_command("ZADD", "z", "INCR", 1, "a") == 2.5
    assert r.execute_command("ZADD", "z", "INCR", "NX", 1, "a") is None
    assert r.execute_command("ZADD", "z", "INCR", "XX", 1, "b") is None
    assert r.execute_command("ZADD", "z", "INCR", "GT", -1, "a") is None
    assert r.execute_command("ZADD", "z", "INCR", "LT", -1, "a") == 1.5
    assert r.zincrby("z", 2, "b") == 2
    assert r.execute_command("ZADD", "z", "INCR", 0, "a") == 1.5


def test_zadd_errors(r):
    assert err(r, "ZADD", "z", "NX", 1) == "syntax error"
    assert err(r, "ZADD", "z", "NX", "1", "a", "2") == "syntax error"
    assert err(r, "ZADD", "z", "NX", "XX", 1, "a") == "XX and NX options at the same time are not compatible"
    assert err(r, "ZADD", "z", "GT", "LT", 1, "a") == "GT, LT, and/or NX options at the same time are not compatible"
    assert err(r, "ZADD", "z", "NX", "GT", 1, "a") == "GT, LT, and/or NX options at the same time are not compatible"
    assert err(r, "ZADD", "z", "INCR", 1, "a", 2, "b") == "INCR option supports a single increment-element pair"
    for bad in ("nan", "", " 1", "1 ", "abc", "1e400", "-1e400", "1e-400", "1_0", "0x"):
        assert err(r, "ZADD", "z", bad, "a") == "value is not a valid float", bad
    assert r.exists("z") == 0
    r.zadd("z", {"a": float("inf")})
    assert err(r, "ZINCRBY", "z", "-inf", "a") == "resulting score is not a number (NaN)"
    assert err(r, "ZINCRBY", "z", "one", "a") == "value is not a valid float"
    r.set("s", "x")
    assert err(r, "ZADD", "s", 1, "a").startswith("WRONGTYPE")
    assert err(r, "ZADD", "s", "x", "a") == "value is not a valid float"   # scores are read first


def test_zadd_accepts_strtod_forms(r):
    r.execute_command("ZADD", "z", "0x10", "hex", "inf", "i", "-Infinity", "ni", "+1.5e2", "e", ".5", "d",
                      "5.", "t", "4.9e-324", "tiny")
    assert r.zscore("z", "hex") == 16 and r.zscore("z", "e") == 150 and r.zscore("z", "d") == 0.5
    assert r.zscore("z", "i") == float("inf") and r.zscore("z", "ni") == float("-inf")
    assert r.zscore("z", "tiny") == 5e-324


def test_score_text_resp2_and_resp3(raw):
    c2, c3 = raw(), raw(resp3=True)
    c2.call("ZADD", "z", "1", "one", "-0", "nz", "0.1", "tenth", "inf", "big", "1e17", "e17",
            "-169.33887", "g", "123456789.125", "p")
    for member, text in ((b"one", b"1"), (b"nz", b"0"), (b"tenth", b"0.1"), (b"big", b"inf"),
                         (b"e17", b"100000000000000000"), (b"g", b"-169.33886999999999"),
                         (b"p", b"123456789.125")):
        assert c2.call("ZSCORE", "z", member) == b"$%d\r\n%s\r\n" % (len(text), text)
        assert c3.call("ZSCORE", "z", member) == b",%s\r\n" % text
    assert c2.call("ZINCRBY", "z", "0.2", "tenth") == b"$19\r\n0.30000000000000004\r\n"
    # -0: the reply keeps the sign; a listpack stores it as the integer 0, a skiplist keeps it
    assert c2.call("ZINCRBY", "y", "-0", "m") == b"$2\r\n-0\r\n"
    assert c2.call("ZSCORE", "y", "m") == b"$1\r\n0\r\n"
    c2.call("ZADD", "big", *[x for i in range(200) for x in ("1", f"m{i}")])
    c2.call("ZADD", "big", "-0", "neg")
    assert c2.call("ZSCORE", "big", "neg") == b"$2\r\n-0\r\n"
    assert c2.call("ZSCORE", "z", "missing") == b"$-1\r\n"
    assert c3.call("ZSCORE", "z", "missing") == b"_\r\n"


# ---------------------------------------------------------------------- reads
def test_zcard_zscore_zmscore_zrank(r, raw):
    r.zadd("z", {"a": 1, "b": 2, "c": 3})
    assert r.zcard("z") == 3 and r.zcard("none") == 0
    assert r.zmscore("z", ["a", "x", "c"]) == [1, None, 3]
    assert r.zmscore("none", ["a"]) == [None]
    assert r.zrank("z", "a") == 0 and r.zrevrank("z", "a") == 2 and r.zrank("z", "x") is None
    c2, c3 = raw(), raw(resp3=True)
    assert c2.call("ZRANK", "z", "b", "WITHSCORE") == b"*2\r\n:1\r\n$1\r\n2\r\n"
    assert c3.call("ZREVRANK", "z", "b", "withscore") == b"*2\r\n:1\r\n,2\r\n"
    assert c2.call("ZRANK", "z", "x", "WITHSCORE") == b"*-1\r\n"
    assert c2.call("ZRANK", "none", "x") == b"$-1\r\n"
    assert c3.call("ZRANK", "none", "x", "WITHSCORE") == b"_\r\n"
    assert c2.call("ZRANK", "z", "a", "foo") == b"-ERR syntax error\r\n"
    assert c2.call("ZRANK", "z", "a", "withscore", "x") == b"-ERR wrong number of arguments for 'zrank' command\r\n"


def test_zcount_and_lexcount(r):
    r.zadd("z", {"a": 1, "b": 2, "c": 3, "d": 4})
    assert r.zcount("z", "-inf", "+inf") == 4
    assert r.zcount("z", "(1", "(4") == 2
    assert r.zcount("z", 2, 2) == 1
    assert r.zcount("z", 3, 1) == 0
    assert r.zcount("none", 0, 1) == 0
    assert err(r, "ZCOUNT", "z", "x", 1) == "min or max is not a float"
    assert err(r, "ZCOUNT", "z", 1, "nan") == "min or max is not a float"
    assert r.zcount("z", "", 10) == 4      # strtod reads "" as 0, as Valkey's range parser does
    r.zadd("l", {m: 0 for m in "abcde"})
    assert r.zlexcount("l", "-", "+") == 5
    assert r.zlexcount("l", "[b", "(d") == 2
    assert r.zlexcount("l", "+", "-") == 0
    for bad in (("a", "+"), ("[a", "b"), ("+x", "+"), ("-", "")):
        assert err(r, "ZLEXCOUNT", "l", *bad) == "min or max not valid string range item"


def test_zrange_variants(r):
    r.zadd("z", {"a": 1, "b": 2, "c": 3, "d": 4, "e": 5})
    assert r.zrange("z", 0, -1) == [b"a", b"b", b"c", b"d", b"e"]
    assert r.zrange("z", -2, 100) == [b"d", b"e"]
    assert r.zrange("z", 3, 1) == []
    assert r.execute_command("ZRANGE", "z", 0, 1, "REV") == [b"e", b"d"]
    assert r.execute_command("ZREVRANGE", "z", 0, 1, "WITHSCORES") == [[b"e", 5.0], [b"d", 4.0]]   # RESP3
    assert r.execute_command("ZRANGE", "z", "(1", 4, "BYSCORE", "LIMIT", 1, 2) == [b"c", b"d"]
    assert r.execute_command("ZRANGE", "z", 4, "(1", "BYSCORE", "REV") == [b"d", b"c", b"b"]
    assert r.execute_command("ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", 2, -1) == [b"c", b"d", b"e"]
    assert r.execute_command("ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", -1, 2) == []
    assert r.execute_command("ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", 0, 0) == []
    assert r.execute_command("ZREVRANGEBYSCORE", "z", 5, 2, "LIMIT", 1, 2) == [b"d", b"c"]
    r.zadd("l", {m: 0 for m in "abcdefg"})
    assert r.execute_command("ZRANGEBYLEX", "l", "[c", "(f") == [b"c", b"d", b"e"]
    assert r.execute_command("ZREVRANGEBYLEX", "l", "+", "[e", "LIMIT", 1, 2) == [b"f", b"e"]
    assert r.execute_command("ZRANGE", "l", "-", "(c", "BYLEX") == [b"a", b"b"]
    assert r.execute_command("ZRANGE", "none", 0, -1) == []


def test_zrange_errors(r):
    r.zadd("z", {"a": 1})
    assert err(r, "ZRANGE", "z", 0, 1, "LIMIT", 0, 1) == \
        "syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
    assert r.execute_command("ZRANGE", "z", 0, 1, "LIMIT", 0, -1) == [b"a"]   # -1 means no LIMIT
    assert err(r, "ZRANGE", "z", "-", "+", "BYLEX", "WITHSCORES") == \
        "syntax error, WITHSCORES not supported in combination with BYLEX"
    assert err(r, "ZRANGE", "z", 0, 1, "BYSCORE", "BYLEX") == "syntax error"
    assert err(r, "ZRANGEBYSCORE", "z", 0, 1, "REV") == "syntax error"
    assert err(r, "ZRANGE", "z", 0, 1, "LIMIT", 0) == "syntax error"
    assert err(r, "ZRANGE", "z", "a", 1) == "value is not an integer or out of range"
    assert err(r, "ZRANGE", "z", 0, 1, "BYSCORE", "LIMIT", "x", 1) == "value is not an integer or out of range"
    assert err(r, "ZRANGEBYLEX", "z", "a", "b") == "min or max not valid string range item"
    r.set("s", "x")
    assert err(r, "ZRANGE", "s", 0, 1).startswith("WRONGTYPE")


def test_withscores_shapes(raw):
    c2, c3 = raw(), raw(resp3=True)
    c2.call("ZADD", "z", "1", "a", "2.5", "b")
    assert c2.call("ZRANGE", "z", "0", "-1", "WITHSCORES") == b"*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$3\r\n2.5\r\n"
    assert c3.call("ZRANGE", "z", "0", "-1", "WITHSCORES") == b"*2\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2.5\r\n"
    assert c3.call("ZUNION", "1", "z", "WITHSCORES") == b"*2\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2.5\r\n"
    assert c3.call("ZRANDMEMBER", "z", "-1", "WITHSCORES").startswith(b"*1\r\n*2\r\n")


def test_zrangestore(r):
    r.zadd("src", {"a": 1, "b": 2, "c": 3})
    r.set("dst", "old", ex=100)
    assert r.execute_command("ZRANGESTORE", "dst", "src", 1, -1) == 2
    assert r.zrange("dst", 0, -1, withscores=True) == [(b"b", 2), (b"c", 3)]
    assert r.ttl("dst") == -1
    assert r.object("encoding", "dst") == b"listpack"
    assert r.execute_command("ZRANGESTORE", "dst", "src", "(1", "+inf", "BYSCORE", "LIMIT", 1, 1) == 1
    assert r.zrange("dst", 0, -1) == [b"c"]
    assert r.execute_command("ZRANGESTORE", "dst", "src", "[c", "-", "BYLEX", "REV") == 3
    assert r.execute_command("ZRANGESTORE", "dst", "src", 5, 10) == 0
    assert r.exists("dst") == 0
    r.zadd("src", {"d": 4})
    assert r.execute_command("ZRANGESTORE", "dst", "none", 0, -1) == 0
    assert err(r, "ZRANGESTORE", "dst", "src", 0, -1, "WITHSCORES") == "syntax error"


# ---------------------------------------------------------------------- removals
def test_zrem_and_remrange(r, events):
    r.zadd("z", {"a": 1, "b": 2, "c": 3, "d": 4, "e": 5})
    assert r.zrem("z", "a", "x") == 1
    assert r.zremrangebyrank("z", 0, 0) == 1
    assert r.zremrangebyrank("z", 5, 10) == 0
    assert r.zremrangebyscore("z", "(3", "+inf") == 2
    assert r.zrange("z", 0, -1) == [b"c"]
    r.zadd("l", {m: 0 for m in "abcd"})
    assert r.zremrangebylex("l", "(a", "[c") == 2
    assert r.zrange("l", 0, -1) == [b"a", b"d"]
    assert r.zrem("l", "a", "d", "x") == 2 and r.exists("l") == 0
    assert r.zremrangebyscore("none", 0, 1) == 0
    assert err(r, "ZREMRANGEBYSCORE", "z", "x", 1) == "min or max is not a float"
    assert err(r, "ZREMRANGEBYLEX", "z", "x", "+") == "min or max not valid string range item"
    assert err(r, "ZREMRANGEBYRANK", "z", "x", 1) == "value is not an integer or out of range"
    names = [e for e, _ in events["notify"]]
    assert names == ["zadd", "zrem", "zremrangebyrank", "zremrangebyscore", "zadd", "zremrangebylex",
                     "zrem", "del"]


# ---------------------------------------------------------------------- pops
def test_zpop_shapes(raw):
    c2, c3 = raw(), raw(resp3=True)
    c2.call("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d")
    assert c2.call("ZPOPMIN", "z") == b"*2\r\n$1\r\na\r\n$1\r\n1\r\n"
    assert c3.call("ZPOPMAX", "z") == b"*2\r\n$1\r\nd\r\n,4\r\n"              # no count: flat
    assert c3.call("ZPOPMIN", "z", "1") == b"*1\r\n*2\r\n$1\r\nb\r\n,2\r\n"   # count: nested
    assert c2.call("ZPOPMIN", "z", "0") == b"*0\r\n"
    assert c2.call("ZPOPMAX", "z", "10") == b"*2\r\n$1\r\nc\r\n$1\r\n3\r\n"
    assert c2.call("EXISTS", "z") == b":0\r\n"
    assert c2.call("ZPOPMIN", "z") == b"*0\r\n"
    assert c2.call("ZPOPMIN", "z", "-1") == b"-ERR value is out of range, must be positive\r\n"
    assert c2.call("ZPOPMIN", "z", "1", "2") == b"-ERR syntax error\r\n"


def test_zmpop(r, raw, events):
    r.zadd("b", {"x": 1, "y": 2, "z": 3})
    assert r.execute_command("ZMPOP", 2, "a", "b", "MAX", "COUNT", 2) == [b"b", [[b"z", b"3"], [b"y", b"2"]]]
    assert r.execute_command("ZMPOP", 2, "a", "b", "MIN") == [b"b", [[b"x", b"1"]]]
    assert r.execute_command("ZMPOP", 2, "a", "b", "MIN") is None
    assert events["propagate"][-2:] == [[b"zpopmax", b"b", b"2"], [b"zpopmin", b"b", b"1"]]
    assert raw().call("ZMPOP", "1", "a", "MIN") == b"*-1\r\n"
    assert err(r, "ZMPOP", 0, "a", "MIN") == "numkeys should be greater than 0"
    assert err(r, "ZMPOP", 1, "a", "MIN", "COUNT", 0) == "count should be greater than 0"
    assert err(r, "ZMPOP", 1, "a", "MIN", "COUNT", 1, "COUNT", 1) == "syntax error"
    assert err(r, "ZMPOP", 3, "a", "MIN") == "syntax error"
    r.set("s", "x")
    assert err(r, "ZMPOP", 2, "none", "s", "MIN").startswith("WRONGTYPE")


# ---------------------------------------------------------------------- blocking pops
@pytest.fixture
def conn(pykey_server: EmbeddedServer):
    with redis_connections(pykey_server) as make:
        yield make


def test_bzpop_immediate_and_timeout(rc, events):
    r = rc
    r.zadd("z", {"a": 1, "b": 2})
    assert r.execute_command("BZPOPMIN", "none", "z", 0) == [b"z", b"a", 1.0]
    assert r.execute_command("BZPOPMAX", "z", 0) == [b"z", b"b", 2.0]
    assert r.execute_command("BZPOPMIN", "z", "0.01") is None
    assert r.execute_command("BZMPOP", "0.01", 1, "z", "MIN") is None
    assert events["propagate"][-2:] == [[b"zpopmin", b"z"], [b"zpopmax", b"z"]]
    assert err(r, "BZPOPMIN", "z", "-1") == "timeout is negative"
    assert err(r, "BZPOPMIN", "z", "x") == "timeout is not a float or out of range"
    assert err(r, "BZMPOP", "x", 1, "z", "BAD") == "syntax error"     # arguments before the timeout


def test_bzpop_served_by_zadd(r, conn, events):
    c = conn()
    c.send_command("BZPOPMAX", "k1", "k2", 0)
    wait_blocked(r, 1)
    r.zadd("k2", {"a": 1, "b": 2})
    assert c.read_response() == [b"k2", b"b", 2.0]
    assert r.zrange("k2", 0, -1) == [b"a"]
    assert [b"zpopmax", b"k2"] in events["propagate"]
    c.send_command("BZMPOP", 0, 2, "k3", "k4", "MIN", "COUNT", 5)
    wait_blocked(r, 1)
    r.zadd("k4", {"x": 1, "y": 2})
    assert c.read_response() == [b"k4", [[b"x", 1.0], [b"y", 2.0]]]
    assert events["propagate"][-1] == [b"zpopmin", b"k4", b"2"]
    assert r.exists("k4") == 0


def test_bzpop_served_by_store_and_fifo(r, conn):
    c1, c2 = conn(), conn()
    c1.send_command("BZPOPMIN", "dst", 0)
    wait_blocked(r, 1)
    c2.send_command("BZPOPMIN", "dst", 0)
    wait_blocked(r, 2)
    r.zadd("src", {"a": 1, "b": 2})
    assert r.execute_command("ZUNIONSTORE", "dst", 1, "src") == 2
    assert c1.read_response() == [b"dst", b"a", 1.0]
    assert c2.read_response() == [b"dst", b"b", 2.0]


def test_bzpop_ignores_key_of_other_type(r, conn):
    c = conn()
    c.send_command("BZPOPMIN", "k", 0)
    wait_blocked(r, 1)
    r.rpush("k", "x")
    assert not c.can_read(0.05)
    r.delete("k")
    r.zadd("k", {"m": 5})
    assert c.read_response() == [b"k", b"m", 5.0]


def test_bzpop_in_multi_does_not_block(r):
    p = r.pipeline(transaction=True)
    p.execute_command("BZPOPMIN", "none", 0)
    assert p.execute() == [None]


# ---------------------------------------------------------------------- set operations
def test_union_inter_diff(rc):
    r = rc
    r.zadd("a", {"x": 1, "y": 2, "z": 3})
    r.zadd("b", {"y": 10, "z": 20, "w": 30})
    r.sadd("s", "z", "w", "v")
    assert r.execute_command("ZUNION", 2, "a", "b", "WITHSCORES") == \
        [[b"x", 1], [b"y", 12], [b"z", 23], [b"w", 30]]
    assert r.execute_command("ZINTER", 2, "a", "b", "WEIGHTS", 2, 0.5, "AGGREGATE", "MAX") == [b"y", b"z"]
    assert r.execute_command("ZINTER", 2, "a", "b", "AGGREGATE", "MIN", "WITHSCORES") == [[b"y", 2], [b"z", 3]]
    assert r.execute_command("ZINTER", 3, "a", "b", "s", "WITHSCORES") == [[b"z", 24]]
    assert r.execute_command("ZUNION", 2, "s", "none", "WITHSCORES") == [[b"v", 1], [b"w", 1], [b"z", 1]]
    assert r.execute_command("ZDIFF", 2, "a", "b", "WITHSCORES") == [[b"x", 1]]
    assert r.execute_command("ZDIFF", 2, "a", "none") == [b"x", b"y", b"z"]
    assert r.execute_command("ZINTERCARD", 2, "a", "b") == 2
    assert r.execute_command("ZINTERCARD", 2, "a", "b", "LIMIT", 1) == 1
    assert r.execute_command("ZINTERCARD", 2, "a", "none") == 0
    assert r.execute_command("ZUNIONSTORE", "d", 2, "a", "b", "WEIGHTS", 1, -1) == 4
    assert r.execute_command("ZRANGE", "d", 0, -1, "WITHSCORES") == [[b"w", -30], [b"z", -17], [b"y", -8], [b"x", 1]]
    assert r.execute_command("ZINTERSTORE", "d", 2, "a", "none") == 0 and r.exists("d") == 0
    assert r.execute_command("ZDIFFSTORE", "d", 1, "a") == 3


def test_union_inf_and_nan_rules(rc):
    r = rc
    r.zadd("p", {"m": float("inf")})
    r.zadd("n", {"m": float("-inf")})
    assert r.execute_command("ZUNION", 2, "p", "n", "WITHSCORES") == [[b"m", 0]]
    assert r.execute_command("ZUNION", 1, "p", "WEIGHTS", 0, "WITHSCORES") == [[b"m", 0]]


def test_setop_errors(r):
    r.zadd("a", {"x": 1})
    for name in ("zunion", "zinter", "zdiff", "zintercard"):
        assert err(r, name, 0, "a") == f"at least 1 input key is needed for '{name}' command"
    for name in ("zunionstore", "zinterstore", "zdiffstore"):
        assert err(r, name, "d", 0, "a") == f"at least 1 input key is needed for '{name}' command"
        assert err(r, name, "d", 1, "a", "WITHSCORES") == "syntax error"
    assert err(r, "ZUNION", 3, "a") == "syntax error"
    assert err(r, "ZUNION", "x", "a") == "value is not an integer or out of range"
    assert err(r, "ZUNION", 1, "a", "WEIGHTS", "x") == "weight value is not a float"
    assert err(r, "ZUNION", 1, "a", "AGGREGATE", "avg") == "syntax error"
    assert err(r, "ZDIFF", 1, "a", "WEIGHTS", 1) == "syntax error"
    assert err(r, "ZINTERCARD", 1, "a", "WITHSCORES") == "syntax error"
    assert err(r, "ZINTERCARD", 1, "a", "LIMIT", -1) == "LIMIT can't be negative"
    assert err(r, "ZINTERCARD", 1, "a", "LIMIT", "x") == "LIMIT can't be negative"
    r.set("str", "x")
    assert err(r, "ZUNION", 2, "a", "str").startswith("WRONGTYPE")


# ---------------------------------------------------------------------- ZRANDMEMBER / ZSCAN
def test_zrandmember(rc):
    r = rc
    assert r.execute_command("ZRANDMEMBER", "none") is None
    assert r.execute_command("ZRANDMEMBER", "none", 3) == []
    members = {f"m{i}".encode(): i for i in range(20)}
    r.zadd("z", members)
    assert r.execute_command("ZRANDMEMBER", "z") in members
    got = r.execute_command("ZRANDMEMBER", "z", 5)
    assert len(got) == 5 and len(set(got)) == 5
    assert len(r.execute_command("ZRANDMEMBER", "z", -50)) == 50
    assert sorted(r.execute_command("ZRANDMEMBER", "z", 100)) == sorted(members)
    pairs = r.execute_command("ZRANDMEMBER", "z", 3, "WITHSCORES")
    assert len(pairs) == 3 and all(members[m] == s for m, s in pairs)
    assert len({m for m, _ in pairs}) == 3
    assert r.execute_command("ZRANDMEMBER", "z", 0) == []
    assert err(r, "ZRANDMEMBER", "z", -2**63) == \
        "value is out of range, value must between -9223372036854775807 and 9223372036854775807"
    assert err(r, "ZRANDMEMBER", "z", -2**62, "WITHSCORES") == "value is out of range"
    assert err(r, "ZRANDMEMBER", "z", 1, "FOO") == "syntax error"


def test_zscan(rc):
    r = rc
    r.zadd("small", {"a": 1, "b": 0.5, "c": 3})
    assert r.execute_command("ZSCAN", "small", 0) == [b"0", [b"b", b"0.5", b"a", b"1", b"c", b"3"]]
    assert r.execute_command("ZSCAN", "small", 0, "MATCH", "[ab]", "NOSCORES") == [b"0", [b"b", b"a"]]
    big = {f"m{i}": i + 0.1 for i in range(300)}
    r.zadd("big", big)
    seen: dict[bytes, bytes] = {}
    cursor = 0
    while True:
        cursor, items = r.execute_command("ZSCAN", "big", cursor, "COUNT", 50)
        seen.update(zip(items[::2], items[1::2], strict=True))
        if cursor == b"0":
            break
    assert len(seen) == 300
    assert seen[b"m0"] == b"0.10000000000000001"      # skiplist scans print %.17g
    assert err(r, "ZSCAN", "small", 0, "NOVALUES") == "NOVALUES option can only be used in HSCAN"
    assert err(r, "ZSCAN", "small", 0, "COUNT", 0) == "syntax error"
    assert err(r, "HSCAN", "small", 0) .startswith("WRONGTYPE")
    assert r.execute_command("ZSCAN", "none", 0) == [b"0", []]


# ---------------------------------------------------------------------- encodings and generic commands
def test_encoding_conversions(r):
    r.config_set("zset-max-ziplist-entries", 4)            # the old alias still works
    assert r.config_get("zset-max-listpack-entries") == {"zset-max-listpack-entries": "4"}
    r.zadd("z", {"a": 1, "b": 2, "c": 3, "d": 4})
    assert r.object("encoding", "z") == b"listpack"
    r.zadd("z", {"e": 5})
    assert r.object("encoding", "z") == b"skiplist"
    r.zrem("z", "e", "d")
    assert r.object("encoding", "z") == b"skiplist"           # never converts back by itself
    r.execute_command("ZUNIONSTORE", "u", 1, "z")
    assert r.object("encoding", "u") == b"listpack"           # a small result is built small
    r.zadd("many", {f"m{i}": i for i in range(5)})             # created straight as a skiplist
    assert r.object("encoding", "many") == b"skiplist"
    r.config_set("zset-max-listpack-value", 3)
    r.zadd("v", {"abc": 1})
    assert r.object("encoding", "v") == b"listpack"
    r.zadd("v", {"abcd": 1})
    assert r.object("encoding", "v") == b"skiplist"
    r.config_set("zset-max-listpack-entries", 128)
    r.config_set("zset-max-listpack-value", 64)


def test_generic_commands_on_zsets(r):
    r.zadd("z", {"a": 1, "b": 2})
    assert r.type("z") == b"zset"
    assert r.copy("z", "c") == 1
    r.zadd("c", {"x": 9})
    assert r.zcard("z") == 2 and r.zcard("c") == 3
    assert r.object("encoding", "c") == b"listpack"
    r.rename("c", "d")
    assert r.zrange("d", 0, -1) == [b"a", b"b", b"x"]
    assert r.memory_usage("z") > 0
    r.zadd("e", {"b": 2, "a": 1})
    d1, d2 = r.execute_command("DEBUG", "DIGEST-VALUE", "z", "e")
    assert d1 == d2
    r.zadd("e", {"a": 1.5})
    assert r.execute_command("DEBUG", "DIGEST-VALUE", "e")[0] != d1
    assert r.execute_command("SCAN", 0, "TYPE", "zset")[1] != []


def test_write_events_and_propagation(r, events):
    r.zadd("z", {"a": 1})
    r.execute_command("ZADD", "z", "XX", 5, "none")     # no change: no event, not propagated
    r.zincrby("z", 1, "a")
    r.zpopmin("z")
    r.zadd("y", {"a": 1})
    r.execute_command("ZINTERSTORE", "d", 1, "y")
    r.execute_command("ZRANGESTORE", "d2", "y", 0, -1)
    r.execute_command("ZDIFFSTORE", "d", 1, "none")
    names = [e for e, _ in events["notify"]]
    assert names == ["zadd", "zincr", "zpopmin", "del", "zadd", "zinterstore", "zrangestore", "del"]
    verbs = [argv[0] for argv in events["propagate"]]
    assert verbs == [b"zadd", b"zincrby", b"zpopmin", b"zadd", b"zinterstore", b"zrangestore", b"zdiffstore"]


def test_command_getkeys(rc):
    r = rc
    assert r.execute_command("COMMAND", "GETKEYS", "ZUNIONSTORE", "d", 2, "a", "b") == [b"d", b"a", b"b"]
    assert r.execute_command("COMMAND", "GETKEYS", "ZINTER", 2, "a", "b", "WEIGHTS", 1, 2) == [b"a", b"b"]
    assert r.execute_command("COMMAND", "GETKEYS", "ZMPOP", 2, "a", "b", "MIN") == [b"a", b"b"]
    assert r.execute_command("COMMAND", "GETKEYS", "BZMPOP", 0, 1, "a", "MIN") == [b"a"]
    assert r.execute_command("COMMAND", "GETKEYS", "BZPOPMIN", "a", "b", 0) == [b"a", b"b"]
    assert r.execute_command("COMMAND", "GETKEYS", "ZRANGESTORE", "d", "s", 0, 1) == [b"d", b"s"]
