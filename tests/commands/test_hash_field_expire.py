"""Valkey 9 hash field expiration: HEXPIRE & co., HTTL & co., HPERSIST, HGETEX, HSETEX,
HGETDEL; lazy and active field expiry, events' effects, propagation, encodings.

Time is moved forward with the embedded server's clock, never slept on."""
from __future__ import annotations

import pytest
import redis
from hypothesis import given, settings
from hypothesis import strategies as st

from pykey.datatypes.hashtype import HashType

FAR = 4_000_000_000_000          # an absolute time in ms far in the future


@pytest.fixture
def srv(pykey_factory):
    """A private server: these tests move its clock and switch active expiry."""
    return pykey_factory("--enable-debug-command", "yes")


@pytest.fixture
def c(srv):
    client = redis.Redis(host=srv.host, port=srv.port, socket_timeout=10)
    yield client
    client.close()


def cmd(r, *args):
    return r.execute_command(*args)


def propagated(srv) -> list:
    """Start recording what the server propagates; returns the live list."""
    out: list = []
    srv.call(lambda: srv.engine.propagate_sinks.append(lambda dbid, argv: out.append(list(argv))))
    return out


def test_hexpire_codes_and_encoding(r):
    r.hset("h", mapping={"a": 1, "b": 2, "c": 3})
    assert r.object("encoding", "h") == b"listpack"
    # on a hash without volatile fields XX and GT fail, NX and LT pass
    assert cmd(r, "hexpire", "h", 100, "XX", "FIELDS", 1, "a") == [0]
    assert cmd(r, "hexpire", "h", 100, "GT", "FIELDS", 1, "a") == [0]
    assert r.object("encoding", "h") == b"listpack"
    assert cmd(r, "hexpire", "h", 100, "FIELDS", 3, "a", "b", "nosuch") == [1, 1, -2]
    assert r.object("encoding", "h") == b"hashtable"
    assert cmd(r, "hexpire", "h", 200, "NX", "FIELDS", 2, "a", "c") == [0, 1]
    assert cmd(r, "hexpire", "h", 50, "GT", "FIELDS", 1, "a") == [0]
    assert cmd(r, "hexpire", "h", 500, "GT", "FIELDS", 1, "a") == [1]
    assert cmd(r, "hexpire", "h", 600, "LT", "FIELDS", 1, "a") == [0]
    assert cmd(r, "hexpire", "h", 60, "LT", "FIELDS", 1, "a") == [1]
    assert cmd(r, "hexpire", "h", 60, "XX", "FIELDS", 1, "b") == [1]
    assert cmd(r, "hexpire", "nokey", 60, "FIELDS", 2, "a", "b") == [-2, -2]
    # a time already past deletes the field (code 2) and the key with its last field
    assert cmd(r, "hpexpire", "h", 0, "FIELDS", 2, "a", "b") == [2, 2]
    assert r.hkeys("h") == [b"c"]
    assert cmd(r, "hexpireat", "h", 1, "FIELDS", 1, "c") == [2]
    assert r.exists("h") == 0


def test_ttl_family(r):
    r.hset("h", mapping={"a": 1, "b": 2})
    assert cmd(r, "hpexpireat", "h", FAR + 499, "FIELDS", 1, "a") == [1]
    assert cmd(r, "hpexpiretime", "h", "FIELDS", 3, "a", "b", "zz") == [FAR + 499, -1, -2]
    assert cmd(r, "hexpiretime", "h", "FIELDS", 1, "a") == [FAR // 1000]       # rounds
    assert cmd(r, "hexpireat", "h", FAR // 1000, "FIELDS", 1, "b") == [1]
    assert cmd(r, "hexpiretime", "h", "FIELDS", 1, "b") == [FAR // 1000]
    assert cmd(r, "httl", "nokey", "FIELDS", 1, "a") == [-2]
    ttl = cmd(r, "httl", "h", "FIELDS", 1, "a")[0]
    pttl = cmd(r, "hpttl", "h", "FIELDS", 1, "a")[0]
    assert 0 < ttl and 0 < pttl and abs(ttl * 1000 - pttl) <= 1000
    # the FIELDS word itself is not checked, as in Valkey; a count mismatch is a syntax error
    assert cmd(r, "hexpiretime", "h", "XYZ", 1, "a") == [FAR // 1000]
    with pytest.raises(redis.ResponseError, match="^syntax error$"):
        cmd(r, "httl", "h", "FIELDS", 2, "a")
    with pytest.raises(redis.ResponseError, match="^value is not an integer or out of range$"):
        cmd(r, "hpttl", "h", "FIELDS", "x", "a")


def test_errors(r):
    r.hset("h", "a", 1)
    r.set("s", "x")
    numfields = "^numfields should be greater than 0 and match the provided number of fields$"
    for args in (("FIELDS", 2, "a"), ("FIELDS", 0, "a"), ("a", "b", "c"), ("FIELDS", -1, "a")):
        with pytest.raises(redis.ResponseError, match=numfields):
            cmd(r, "hexpire", "h", 10, *args)
    with pytest.raises(redis.ResponseError, match="^Unsupported option FOO$"):
        cmd(r, "hexpire", "h", 10, "FOO", "FIELDS", 1, "a")
    with pytest.raises(redis.ResponseError, match="NX and XX, GT or LT options at the same time"):
        cmd(r, "hexpire", "h", 10, "NX", "GT", "FIELDS", 1, "a")
    with pytest.raises(redis.ResponseError, match="^GT and LT options at the same time are not compatible$"):
        cmd(r, "hexpire", "h", 10, "GT", "LT", "FIELDS", 1, "a")
    with pytest.raises(redis.ResponseError, match="^invalid expire time in 'hexpire' command$"):
        cmd(r, "hexpire", "h", -1, "FIELDS", 1, "a")
    with pytest.raises(redis.ResponseError, match="^invalid expire time in 'hpexpireat' command$"):
        cmd(r, "hpexpireat", "h", -5, "FIELDS", 1, "a")
    with pytest.raises(redis.ResponseError, match="^invalid expire time in 'hexpireat' command$"):
        cmd(r, "hexpireat", "h", 2**62, "FIELDS", 1, "a")
    with pytest.raises(redis.ResponseError, match="^value is not an integer or out of range$"):
        cmd(r, "hexpire", "h", "abc", "FIELDS", 1, "a")
    with pytest.raises(redis.ResponseError, match="^WRONGTYPE"):
        cmd(r, "hexpire", "s", 10, "FIELDS", 1, "a")
    with pytest.raises(redis.ResponseError, match="^WRONGTYPE"):
        cmd(r, "httl", "s", "FIELDS", 1, "a")
    with pytest.raises(redis.ResponseError, match=numfields):
        cmd(r, "hpersist", "h", "FIELDS", 2, "a")
    with pytest.raises(redis.ResponseError, match=numfields):
        cmd(r, "hgetdel", "h", "FIELDS", 2, "a")
    with pytest.raises(redis.ResponseError, match="^syntax error$"):
        cmd(r, "hsetex", "h", "EX", 10, "KEEPTTL", "FIELDS", 1, "a", "b")
    with pytest.raises(redis.ResponseError, match="^syntax error$"):
        cmd(r, "hsetex", "h", "FNX", "FXX", "FIELDS", 1, "a", "b")
    with pytest.raises(redis.ResponseError, match="^syntax error$"):
        cmd(r, "hgetex", "h", "PERSIST", "EX", 10, "FIELDS", 1, "a")
    with pytest.raises(redis.ResponseError, match="^syntax error$"):
        cmd(r, "hgetex", "h", "KEEPTTL", "FIELDS", 1, "a")
    with pytest.raises(redis.ResponseError, match=numfields):
        cmd(r, "hsetex", "h", "FIELDS", 2, "a", "b")
    with pytest.raises(redis.ResponseError, match="^invalid expire time in 'hsetex' command$"):
        cmd(r, "hsetex", "h", "EX", -3, "FIELDS", 1, "a", "b")
    with pytest.raises(redis.ResponseError, match="wrong number of arguments for 'hexpire' command"):
        cmd(r, "hexpire", "h", 10, "FIELDS", 1)
    assert r.hgetall("h") == {b"a": b"1"}


def test_write_commands_and_ttls(r):
    r.hset("h", mapping={"a": 1, "b": 2, "c": 3})
    cmd(r, "hpexpireat", "h", FAR, "FIELDS", 3, "a", "b", "c")
    r.hset("h", "a", 10)                     # overwriting clears the TTL
    r.hincrby("h", "b", 5)                   # an increment keeps it
    r.hincrbyfloat("h", "c", 0.5)
    assert cmd(r, "hpexpiretime", "h", "FIELDS", 3, "a", "b", "c") == [-1, FAR, FAR]
    assert cmd(r, "hpersist", "h", "FIELDS", 4, "a", "b", "c", "zz") == [-1, 1, 1, -2]
    assert cmd(r, "hpersist", "nokey", "FIELDS", 1, "a") == [-2]
    assert r.hgetall("h") == {b"a": b"10", b"b": b"7", b"c": b"3.5"}
    r.hdel("h", "a")
    cmd(r, "hpexpireat", "h", FAR, "FIELDS", 1, "b")
    r.copy("h", "h2")
    assert cmd(r, "hpexpiretime", "h2", "FIELDS", 2, "b", "c") == [FAR, -1]
    r.rename("h2", "h3")
    assert cmd(r, "hpexpiretime", "h3", "FIELDS", 1, "b") == [FAR]


def test_hgetex(r):
    r.hset("h", mapping={"a": 1, "b": 2, "c": 3})
    assert cmd(r, "hgetex", "h", "FIELDS", 2, "a", "zz") == [b"1", None]
    assert cmd(r, "hgetex", "h", "PXAT", FAR, "FIELDS", 2, "a", "zz") == [b"1", None]
    assert cmd(r, "hpexpiretime", "h", "FIELDS", 2, "a", "b") == [FAR, -1]
    assert cmd(r, "hgetex", "h", "PERSIST", "FIELDS", 2, "a", "b") == [b"1", b"2"]
    assert cmd(r, "hpexpiretime", "h", "FIELDS", 1, "a") == [-1]
    assert cmd(r, "hgetex", "h", "EX", 100, "FIELDS", 1, "b") == [b"2"]
    assert 0 < cmd(r, "httl", "h", "FIELDS", 1, "b")[0] <= 100
    # a past time deletes after reading; a field named twice reads nil the second time
    assert cmd(r, "hgetex", "h", "EXAT", 1, "FIELDS", 3, "a", "a", "b") == [b"1", None, b"2"]
    assert cmd(r, "hgetex", "h", "PX", 0, "FIELDS", 1, "c") == [b"3"]
    assert r.exists("h") == 0
    assert cmd(r, "hgetex", "nokey", "EX", 10, "FIELDS", 1, "a") == [None]


def test_hsetex(r):
    assert cmd(r, "hsetex", "h", "FIELDS", 2, "a", 1, "b", 2) == 1
    assert r.object("encoding", "h") == b"listpack"
    assert cmd(r, "hsetex", "h", "FNX", "FIELDS", 2, "a", 9, "c", 3) == 0
    assert cmd(r, "hsetex", "h", "FXX", "FIELDS", 2, "a", 9, "c", 3) == 0
    assert cmd(r, "hsetex", "h", "FXX", "PXAT", FAR, "FIELDS", 1, "a", 5) == 1
    assert r.object("encoding", "h") == b"hashtable"
    assert cmd(r, "hsetex", "h", "KEEPTTL", "FIELDS", 1, "a", 6) == 1
    assert cmd(r, "hpexpiretime", "h", "FIELDS", 1, "a") == [FAR]
    assert cmd(r, "hsetex", "h", "FIELDS", 1, "a", 7) == 1            # no KEEPTTL: TTL gone
    assert cmd(r, "hpexpiretime", "h", "FIELDS", 1, "a") == [-1]
    assert cmd(r, "hsetex", "h", "NX", "FIELDS", 1, "z", 1) == 0
    assert cmd(r, "hsetex", "new", "XX", "FIELDS", 1, "z", 1) == 0
    assert cmd(r, "hsetex", "new", "FXX", "FIELDS", 1, "z", 1) == 0
    assert cmd(r, "hsetex", "new", "NX", "FNX", "EX", 100, "FIELDS", 1, "z", 1) == 1
    assert r.hgetall("h") == {b"a": b"7", b"b": b"2"}
    # a past time deletes the named fields (and the key with its last one)
    assert cmd(r, "hsetex", "h", "PX", 0, "FIELDS", 2, "a", 0, "b", 0) == 1
    assert r.exists("h") == 0
    assert cmd(r, "hsetex", "gone", "EXAT", 1, "FIELDS", 1, "a", 0) == 1
    assert r.exists("gone") == 0


def test_hgetdel(r):
    r.hset("h", mapping={"a": 1, "b": 2, "c": 3})
    assert cmd(r, "hgetdel", "h", "FIELDS", 2, "a", "zz") == [b"1", None]
    assert cmd(r, "hgetdel", "h", "FIELDS", 3, "b", "b", "c") == [b"2", None, b"3"]
    assert r.exists("h") == 0
    assert cmd(r, "hgetdel", "nokey", "FIELDS", 1, "a") == [None]


def test_lazy_expiry(srv, c):
    c.execute_command("debug", "set-active-expire", 0)
    c.hset("h", mapping={"a": 1, "b": 2, "c": 3})
    cmd(c, "hpexpire", "h", 1000, "FIELDS", 2, "a", "b")
    srv.advance(2000)
    assert c.hget("h", "a") is None
    assert c.hgetall("h") == {b"c": b"3"}
    assert c.hlen("h") == 1
    assert c.info("stats")["expired_fields"] == 2
    cmd(c, "hpexpire", "h", 1000, "FIELDS", 1, "c")
    c.hset("h2", mapping={"x": 1, "y": 2})
    cmd(c, "hpexpire", "h2", 1000, "FIELDS", 1, "x")
    srv.advance(2000)
    assert c.hlen("h") == 0
    assert c.exists("h") == 0
    assert c.hrandfield("h2", 10) == [b"y"]
    assert c.hscan("h2") == (0, {b"y": b"2"})
    assert c.hkeys("h2") == [b"y"]


def test_active_expiry(srv, c):
    c.hset("h", mapping={"a": 1, "b": 2})
    c.hset("keep", mapping={"a": 1, "b": 2})
    cmd(c, "hpexpire", "h", 1000, "FIELDS", 2, "a", "b")
    cmd(c, "hpexpire", "keep", 1000, "FIELDS", 1, "a")
    log = propagated(srv)
    srv.advance(2000)
    srv.call(srv.engine.cron)
    assert c.dbsize() == 1
    assert c.hgetall("keep") == {b"b": b"2"}
    hdels = sorted(argv for argv in log if argv[0] == b"HDEL")
    assert hdels == [[b"HDEL", b"h", b"a", b"b"], [b"HDEL", b"keep", b"a"]]


def test_propagation(srv, c):
    log = propagated(srv)
    c.hset("h", mapping={"a": 1, "b": 2})
    cmd(c, "hexpireat", "h", FAR // 1000, "NX", "FIELDS", 1, "a")
    cmd(c, "hpexpire", "h", 0, "FIELDS", 2, "b", "zz")
    c.hincrby("h", "a", 1)
    cmd(c, "hsetex", "h", "FNX", "EXAT", FAR // 1000, "FIELDS", 1, "n", "v")
    cmd(c, "hgetex", "h", "PERSIST", "FIELDS", 2, "n", "zz")
    cmd(c, "hgetdel", "h", "FIELDS", 1, "n")
    ms = b"%d" % (FAR // 1000 * 1000)
    assert log[1:] == [
        [b"HPEXPIREAT", b"h", ms, b"NX", b"FIELDS", b"1", b"a"],
        [b"HDEL", b"h", b"b"],
        [b"HSETEX", b"h", b"PXAT", ms, b"FIELDS", b"1", b"a", b"2"],
        [b"HSETEX", b"h", b"PXAT", ms, b"FIELDS", b"1", b"n", b"v"],
        [b"HPERSIST", b"h", b"FIELDS", b"1", b"n"],
        [b"HDEL", b"h", b"n"],
    ]


def test_command_facts(r):
    raw = cmd(r, "command", "info", "hexpire", "httl", "hsetex", "hgetdel")
    facts = {name: (e["arity"], e["flags"], e["acl_categories"]) for name, e in raw.items()}
    assert facts == {"hexpire": (-6, ["write", "fast"], ["@write", "@hash", "@fast"]),
                     "httl": (-5, ["readonly", "fast"], ["@read", "@hash", "@fast"]),
                     "hsetex": (-6, ["write", "denyoom", "fast"], ["@write", "@hash", "@fast"]),
                     "hgetdel": (-5, ["write", "fast"], ["@write", "@hash", "@fast"])}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("sedpx"), st.integers(0, 7), st.integers(0, 50)),
                max_size=60))
def test_hashtype_invariants(ops):
    """Random field writes, deletes, TTL changes and expiry passes keep the structure sound
    and agree with a plain model."""
    h = HashType()
    model: dict[bytes, tuple[bytes, int]] = {}
    cfg = {"hash-max-listpack-entries": 4, "hash-max-listpack-value": 64}
    now = 0
    for op, f, t in ops:
        field = b"f%d" % f
        if op == "s":
            h.set_field(field, b"v", cfg)
            model[field] = (b"v", -1)
        elif op == "d":
            assert h.delete_field(field) == (field in model)
            model.pop(field, None)
        elif op == "e" and field in h:
            h.set_expiry(field, now + t)
            model[field] = (model[field][0], now + t)
        elif op == "p" and field in h:
            assert h.persist(field) == (model[field][1] != -1)
            model[field] = (model[field][0], -1)
        elif op == "x":
            now += t
            gone = h.pop_expired(now)
            due = sorted(k for k, (_, w) in model.items() if w != -1 and w <= now)
            assert sorted(gone) == due
            for k in due:
                del model[k]
        h._check()
        assert set(h) == set(model)
        assert {k: h.get_expiry(k) for k in h} == {k: w for k, (_, w) in model.items()}
        nxt = h.next_expiry()
        live = [w for _, w in model.values() if w != -1]
        assert nxt == (min(live) if live else None)
