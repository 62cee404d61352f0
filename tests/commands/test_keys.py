"""Generic key commands: DEL/EXISTS/TYPE, RENAME/MOVE/COPY/SWAPDB, KEYS/SCAN, FLUSH*, the EXPIRE
family and active expiry, OBJECT and MEMORY USAGE."""
from __future__ import annotations

import time

import pytest
import redis

from pykey.engine.client import Client
from pykey.testing.replies import error_text as err


@pytest.fixture
def events(pykey_server):
    """Capture keyspace events the engine emits (type flag, event, key, db)."""
    engine = pykey_server.engine
    seen: list[tuple[str, bytes, bytes, int]] = []
    old = engine.notify_sink

    def sink(flag, event, key, dbid):
        seen.append((flag, event, key, dbid))

    pykey_server.call(setattr, engine, "notify_sink", sink)
    yield seen
    pykey_server.call(setattr, engine, "notify_sink", old)


@pytest.fixture
def propagated(pykey_server):
    """Capture the propagation stream (AOF/replicas)."""
    engine = pykey_server.engine
    seen: list[list[bytes]] = []

    def sink(dbid, argv):
        seen.append(list(argv))

    pykey_server.call(engine.propagate_sinks.append, sink)
    yield seen
    pykey_server.call(engine.propagate_sinks.remove, sink)


def dirty(srv) -> int:
    return srv.engine.dirty


# ------------------------------------------------------------------ DEL / UNLINK / EXISTS / TYPE
def test_del_unlink_exists(r, events):
    r.mset({"a": 1, "b": 2, "c": 3})
    assert r.exists("a", "a", "b", "nope") == 3
    assert r.delete("a", "b", "nope") == 2
    assert r.unlink("c", "c") == 1
    assert r.exists("a", "b", "c") == 0
    assert [e for e in events if e[1] == b"del"] == [("g", b"del", b"a", 0), ("g", b"del", b"b", 0),
                                                     ("g", b"del", b"c", 0)]


def test_del_counts_dirty(r, pykey_server):
    r.set("a", 1)
    r.set("b", 1)
    before = dirty(pykey_server)
    assert r.delete("a", "b", "x") == 2
    assert dirty(pykey_server) - before == 2


def test_type_and_touch(r):
    r.set("s", "v")
    assert r.type("s") == b"string"
    assert r.type("missing") == b"none"
    assert r.touch("s", "s", "missing") == 2


def test_arity_errors(r):
    assert err(r, "del") == "wrong number of arguments for 'del' command"
    assert err(r, "type", "a", "b") == "wrong number of arguments for 'type' command"


# ------------------------------------------------------------------ RENAME / RENAMENX
def test_rename(r, events):
    r.set("a", "v")
    r.pexpire("a", 100_000)
    assert r.rename("a", "b") is True
    assert r.get("b") == b"v" and not r.exists("a")
    assert 0 < r.pttl("b") <= 100_000
    assert ("g", b"rename_from", b"a", 0) in events and ("g", b"rename_to", b"b", 0) in events


def test_rename_overwrites_and_drops_ttl_of_target(r):
    r.set("a", "1")
    r.set("b", "2", ex=100)
    r.rename("a", "b")
    assert r.get("b") == b"1" and r.ttl("b") == -1


def test_rename_errors_and_same_key(r):
    assert err(r, "rename", "nokey", "x") == "no such key"
    assert err(r, "renamenx", "nokey", "x") == "no such key"
    r.set("a", "v")
    assert r.rename("a", "a") is True
    assert r.renamenx("a", "a") is False
    assert r.get("a") == b"v"


def test_renamenx(r):
    r.set("a", "1")
    r.set("b", "2")
    assert r.renamenx("a", "b") is False
    assert r.get("a") == b"1"
    assert r.renamenx("a", "c") is True
    assert r.get("c") == b"1" and not r.exists("a")


# ------------------------------------------------------------------ MOVE / COPY / SWAPDB
def test_move(r, events, pykey_server):
    r.set("k", "v", px=100_000)
    assert r.move("k", 1) is True
    assert not r.exists("k")
    r1 = redis.Redis(port=pykey_server.port, db=1)
    assert r1.get("k") == b"v" and r1.pttl("k") > 0
    assert ("g", b"move_from", b"k", 0) in events and ("g", b"move_to", b"k", 1) in events
    r.set("k", "other")
    assert r.move("k", 1) is False           # exists in the target
    assert r.move("nope", 1) is False
    assert err(r, "move", "k", 0) == "source and destination objects are the same"
    assert err(r, "move", "k", 99) == "DB index is out of range"
    assert err(r, "move", "k", "x") == "value is not an integer or out of range"
    r1.close()


def test_copy(r, events, pykey_server):
    r.set("a", "v", ex=100)
    assert r.copy("a", "b") is True
    assert r.get("b") == b"v" and r.ttl("b") > 0
    assert r.copy("a", "b") is False
    r.set("a", "w")
    assert r.copy("a", "b", replace=True) is True
    assert r.get("b") == b"w"
    assert r.copy("a", "b", destination_db=2) is True
    r2 = redis.Redis(port=pykey_server.port, db=2)
    assert r2.get("b") == b"w"
    r2.close()
    assert ("g", b"copy_to", b"b", 2) in events
    assert r.copy("nope", "x") is False
    assert err(r, "copy", "a", "a") == "source and destination objects are the same"
    assert err(r, "copy", "a", "b", "bogus") == "syntax error"
    assert err(r, "copy", "a", "b", "db") == "syntax error"
    assert err(r, "copy", "a", "b", "db", "100") == "DB index is out of range"


def test_copy_bytearray_is_independent(r):
    r.set("a", "x")
    r.execute_command("append", "a", "y")        # may become a bytearray
    r.copy("a", "b")
    r.execute_command("append", "a", "z")
    assert r.get("b") == b"xy"


def test_swapdb(r, pykey_server):
    r.set("k0", "v0")
    r1 = redis.Redis(port=pykey_server.port, db=1)
    r1.set("k1", "v1", ex=100)
    assert r.swapdb(0, 1) is True
    assert r.get("k1") == b"v1" and r.ttl("k1") > 0 and r.get("k0") is None
    assert r1.get("k0") == b"v0"
    assert r.swapdb(0, 0) is True
    assert err(r, "swapdb", 44, 55) == "DB index is out of range"
    assert err(r, "swapdb", 44, "a") == "invalid second DB index"
    assert err(r, "swapdb", "a", 55) == "invalid first DB index"
    r1.close()


def test_swapdb_invalidates_watch(r, pykey_server):
    r.set("w", "1")
    p = r.pipeline()
    p.watch("w")
    other = redis.Redis(port=pykey_server.port)
    other.swapdb(0, 1)
    p.multi()
    p.set("w", "2")
    with pytest.raises(redis.WatchError):
        p.execute()
    other.close()


# ------------------------------------------------------------------ KEYS / SCAN / RANDOMKEY / DBSIZE
def test_keys(r):
    r.mset({"foo_a": 1, "foo_b": 1, "bar": 1})
    assert sorted(r.keys("foo*")) == [b"foo_a", b"foo_b"]
    assert sorted(r.keys()) == [b"bar", b"foo_a", b"foo_b"]
    assert r.keys("nomatch*") == []


def test_keys_hides_expired(r, pykey_server):
    r.set("a", 1)
    r.set("b", 1, px=1)
    time.sleep(0.01)
    assert r.keys("*") == [b"a"]


def test_keys_abusive_pattern_is_fast(r):
    r.set("a" * 40, 1)
    t = time.time()
    assert r.keys("a*" * 20 + "b") == []
    r.set("a" * 50000, 1)
    assert r.keys("*?" * 50000) == []
    assert time.time() - t < 5


def test_scan_full_iteration(r):
    r.mset({f"key:{i}": i for i in range(1000)})
    seen = set()
    cursor = 0
    while True:
        cursor, keys = r.scan(cursor, count=37)
        seen.update(keys)
        if cursor == 0:
            break
    assert len(seen) == 1000


def test_scan_match_type_count(r):
    r.mset({f"key:{i}": i for i in range(50)})
    r.set("other", 1)
    keys = set(r.scan_iter(match="key:1*", count=10))
    assert keys == {f"key:{i}".encode() for i in [1] + list(range(10, 20))}
    assert set(r.scan_iter(_type="string")) >= {b"other"}
    assert set(r.scan_iter(_type="list")) == set()
    assert err(r, "scan", 0, "type", "nosuch") == "unknown type name 'nosuch'"
    assert err(r, "scan", 0, "count", 0) == "syntax error"
    assert err(r, "scan", 0, "count", "x") == "value is not an integer or out of range"
    assert err(r, "scan", 0, "bogus") == "syntax error"
    assert err(r, "scan", 0, "match") == "syntax error"


def test_scan_cursor_parsing(r):
    r.set("a", 1)
    for bad in ("-1", "abc", "18446744073709551616", "1.5", ""):
        assert err(r, "scan", bad) == "invalid cursor"
    assert r.execute_command("scan", "18446744073709551615")[0] in (b"0", 0)
    cursor, keys = r.scan(0)
    assert cursor == 0 and keys == [b"a"]


def test_every_scan_reads_its_cursor_alike(r):
    """Valkey's parseScanCursorOrReply (string2ull) for SCAN, SSCAN, HSCAN and ZSCAN: a
    canonical integer, else whatever strtoull takes whole (a sign, leading blanks or zeros)."""
    r.sadd("s", "m")
    r.hset("h", "f", "v")
    r.zadd("z", {"m": 1})
    for scan in (["scan"], ["sscan", "s"], ["hscan", "h"], ["zscan", "z"]):
        for good in ("+0", " 0", "00", "0"):
            assert r.execute_command(*scan, good)[0] in (b"0", 0), (scan, good)
        for bad in ("-1", "abc", "18446744073709551616", "1.5", "", "0 "):
            assert err(r, *scan, bad) == "invalid cursor", (scan, bad)


def test_scan_expires_keys(r, pykey_server):
    pykey_server.call(setattr, pykey_server.engine, "active_expire_enabled", False)
    try:
        for i in range(10):
            r.set(f"e{i}", 1, px=1)
        r.set("keep", 1)
        time.sleep(0.01)
        assert r.dbsize() == 11
        assert sorted(r.scan_iter()) == [b"keep"]
        assert r.dbsize() == 1
    finally:
        pykey_server.call(setattr, pykey_server.engine, "active_expire_enabled", True)


def test_randomkey_and_dbsize(r):
    assert r.randomkey() is None
    assert r.dbsize() == 0
    r.mset({"a": 1, "b": 2})
    assert r.randomkey() in (b"a", b"b")
    assert r.dbsize() == 2


# ------------------------------------------------------------------ FLUSHDB / FLUSHALL
def test_flushdb_flushall(r, pykey_server):
    r1 = redis.Redis(port=pykey_server.port, db=1)
    r.set("a", 1)
    r1.set("b", 1)
    assert r.flushdb() is True
    assert r.dbsize() == 0 and r1.dbsize() == 1
    r.set("a", 1)
    before = dirty(pykey_server)
    assert r.flushall(asynchronous=True) is True
    assert dirty(pykey_server) - before == 3
    assert r.dbsize() == 0 and r1.dbsize() == 0
    assert r.execute_command("flushall", "sync") is True
    assert r.execute_command("flushdb", "SYNC") is True
    assert err(r, "flushall", "bogus") == "syntax error"
    assert err(r, "flushdb", "async", "sync") == "syntax error"
    r1.close()


def test_flushall_propagates_even_when_empty(r, propagated):
    r.flushall()
    assert [b"flushall"] in [[a.lower() for a in p] for p in propagated]


# ------------------------------------------------------------------ EXPIRE family
def test_expire_ttl_pttl(r):
    r.set("k", "v")
    assert r.ttl("k") == -1 and r.pttl("k") == -1
    assert r.ttl("missing") == -2 and r.pttl("missing") == -2
    assert r.expire("k", 100) is True
    assert 99 <= r.ttl("k") <= 100
    assert 99_000 < r.pttl("k") <= 100_000
    assert r.pexpire("k", 5000) is True
    assert 4 <= r.ttl("k") <= 5
    assert r.expire("missing", 10) is False


def test_expireat_expiretime(r):
    r.set("k", "v")
    at = int(time.time()) + 100
    assert r.expireat("k", at) is True
    assert r.expiretime("k") == at
    assert r.pexpiretime("k") == at * 1000
    assert r.pexpireat("k", at * 1000 + 123) is True
    assert r.pexpiretime("k") == at * 1000 + 123
    r.persist("k")
    assert r.expiretime("k") == -1 and r.pexpiretime("k") == -1
    assert r.expiretime("missing") == -2


def test_expire_options(r):
    r.set("k", "v")
    assert r.expire("k", 100, xx=True) is False
    assert r.expire("k", 100, gt=True) is False      # no TTL counts as infinite
    assert r.expire("k", 100, lt=True) is True
    assert r.expire("k", 200, nx=True) is False
    assert r.expire("k", 200, xx=True) is True
    assert r.expire("k", 100, gt=True) is False
    assert r.expire("k", 300, gt=True) is True
    assert r.expire("k", 400, lt=True) is False
    assert r.expire("k", 50, lt=True) is True
    assert r.execute_command("expire", "k", 60, "xx", "gt") == 1
    assert r.persist("k") is True
    assert r.expire("k", 100, nx=True) is True


def test_expire_option_errors(r):
    r.set("k", "v")
    nx_msg = "NX and XX, GT or LT options at the same time are not compatible"
    assert err(r, "expire", "k", 100, "nx", "xx") == nx_msg
    assert err(r, "expire", "k", 100, "nx", "gt") == nx_msg
    assert err(r, "expire", "k", 100, "nx", "lt") == nx_msg
    assert err(r, "expire", "k", 100, "gt", "lt") == "GT and LT options at the same time are not compatible"
    assert err(r, "expire", "k", 100, "bogus") == "Unsupported option bogus"
    assert err(r, "expire", "k", "") == "value is not an integer or out of range"
    assert err(r, "expire", "k", "1.5") == "value is not an integer or out of range"


def test_expire_overflow_errors(r):
    r.set("k", "v")
    big = 9223370399119966
    assert err(r, "expire", "k", big) == "invalid expire time in 'expire' command"
    assert err(r, "expireat", "k", 2**63 // 1000 + 1) == "invalid expire time in 'expireat' command"
    assert r.expireat("k", big) is True         # fits once multiplied, no base added
    assert err(r, "pexpire", "k", 2**63 - 1) == "invalid expire time in 'pexpire' command"
    assert err(r, "expire", "k", -(2**63 // 1000) - 1) == "invalid expire time in 'expire' command"
    assert r.pexpireat("k", 2**63 - 1) is True
    assert r.pexpiretime("k") == 2**63 - 1


def test_negative_expire_deletes(r, events, propagated, pykey_server):
    r.set("k", "v")
    before = dirty(pykey_server)
    assert r.expire("k", -1) is True
    assert not r.exists("k")
    assert dirty(pykey_server) - before == 1
    assert ("g", b"del", b"k", 0) in events
    assert [b"UNLINK", b"k"] in propagated      # lazyfree-lazy-expire is yes by default
    r.set("k", "v")
    assert r.pexpireat("k", 1) is True
    assert not r.exists("k")
    r.set("k", "v")
    assert r.expire("k", -10, nx=True) is True and not r.exists("k")


def test_expire_propagates_as_pexpireat(r, propagated, events):
    r.set("k", "v")
    r.expire("k", 100)
    p = propagated[-1]
    assert p[:2] == [b"PEXPIREAT", b"k"]
    assert abs(int(p[2]) - (time.time() * 1000 + 100_000)) < 5000
    r.pexpire("k", 100_000, xx=True)
    assert propagated[-1][0] == b"PEXPIREAT" and propagated[-1][3].lower() == b"xx"
    r.expireat("k", 2_000_000_000)
    assert propagated[-1] == [b"PEXPIREAT", b"k", b"2000000000000"]
    assert ("g", b"expire", b"k", 0) in events


def test_persist(r, events):
    r.set("k", "v", ex=100)
    assert r.persist("k") is True
    assert r.ttl("k") == -1
    assert r.persist("k") is False
    assert r.persist("missing") is False
    assert ("g", b"persist", b"k", 0) in events


def test_lazy_expire(r, pykey_server, events, propagated):
    pykey_server.call(setattr, pykey_server.engine, "active_expire_enabled", False)
    try:
        r.set("k", "v", px=10)
        time.sleep(0.03)
        assert r.dbsize() == 1            # not touched yet
        assert r.get("k") is None
        assert r.dbsize() == 0
        assert ("x", b"expired", b"k", 0) in events
        assert [b"UNLINK", b"k"] in propagated  # DEL when lazyfree-lazy-expire is no
    finally:
        pykey_server.call(setattr, pykey_server.engine, "active_expire_enabled", True)


def test_active_expire(r):
    for i in range(100):
        r.set(f"k{i}", "v", px=100)
    assert r.dbsize() == 100
    deadline = time.time() + 5
    while r.dbsize() and time.time() < deadline:
        time.sleep(0.05)
    assert r.dbsize() == 0


def test_active_expire_keeps_live_keys(r):
    for i in range(50):
        r.set(f"short{i}", "v", px=50)
        r.set(f"long{i}", "v", ex=100)
    deadline = time.time() + 5
    while r.dbsize() > 50 and time.time() < deadline:
        time.sleep(0.05)
    assert r.dbsize() == 50
    assert all(k.startswith(b"long") for k in r.keys())


def test_expire_write_after_expiry(r):
    r.set("k", "v", px=10)
    time.sleep(0.02)
    r.set("k", "new")
    assert r.get("k") == b"new" and r.ttl("k") == -1


# ------------------------------------------------------------------ OBJECT / MEMORY
def test_object_encoding_strings(r):
    r.set("i", "12345")
    r.set("e", "hello")
    r.set("raw", "x" * 100)
    assert r.object("encoding", "i") == b"int"
    assert r.object("encoding", "e") == b"embstr"
    assert r.object("encoding", "raw") == b"raw"
    assert r.object("encoding", "missing") is None


def test_object_refcount_idletime(r):
    r.set("big", "x" * 100)
    assert r.object("refcount", "big") == 1
    assert r.object("idletime", "big") >= 0
    assert r.object("refcount", "missing") is None
    assert r.object("idletime", "missing") is None


def test_object_freq_requires_lfu(r):
    r.set("k", "v")
    msg = err(r, "object", "freq", "k")
    assert msg.startswith("An LFU maxmemory policy is not selected")
    r.config_set("maxmemory-policy", "allkeys-lfu")
    try:
        assert isinstance(r.object("freq", "k"), int)
        assert err(r, "object", "idletime", "k").startswith("An LFU maxmemory policy is selected")
    finally:
        r.config_set("maxmemory-policy", "noeviction")


def test_object_help_and_errors(r):
    lines = r.execute_command("object", "help")
    assert lines[0] == b"OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    assert lines[-2:] == [b"HELP", b"    Print this help."]
    assert err(r, "object", "nosuch", "k") == "unknown subcommand 'nosuch'. Try OBJECT HELP."
    assert err(r, "object", "encoding") == "wrong number of arguments for 'object|encoding' command"


def test_memory_usage(r):
    r.set("small", "x")
    r.set("large", "x" * 10_000)
    small = r.memory_usage("small")
    large = r.memory_usage("large")
    assert 0 < small < large and large >= 10_000
    assert r.memory_usage("missing") is None
    assert r.execute_command("memory", "usage", "small", "samples", 0) == small
    assert err(r, "memory", "usage", "small", "samples", -1) == "syntax error"
    assert err(r, "memory", "usage", "small", "bogus") == "syntax error"
    assert r.execute_command("memory", "help")[0].startswith(b"MEMORY <subcommand>")


# ------------------------------------------------------------------ declarations
def test_command_facts(pykey_server):
    from pykey.engine import registry
    c = registry.COMMANDS
    assert c[b"del"].arity == -2 and c[b"del"].key_specs[0].flags == ("RM", "delete")
    assert c[b"rename"].key_specs[1].flags == ("OW", "update")
    assert c[b"renamenx"].key_specs[1].flags == ("OW", "insert")
    assert c[b"copy"].info_flags() == ["write", "denyoom"]
    assert c[b"swapdb"].acl_categories() == ["keyspace", "write", "fast", "dangerous"]
    assert c[b"keys"].acl_categories() == ["keyspace", "read", "slow", "dangerous"]
    assert c[b"flushall"].acl_categories() == ["keyspace", "write", "slow", "dangerous"]
    assert c[b"object"].subcommands[b"encoding"].first_key == 2
    assert c[b"memory"].subcommands[b"usage"].acl_categories() == ["read", "slow"]
    assert c[b"scan"].info_flags() == ["readonly"]


def test_engine_direct_expire_propagation(pykey_server):
    """EXPIRE through the engine: c.propagate_argv carries the PEXPIREAT rewrite."""
    engine = pykey_server.engine

    def run():
        c = Client(engine)
        c.db = engine.dbs[5]
        engine.execute(c, [b"SET", b"z", b"1"])
        engine.execute(c, [b"EXPIRE", b"z", b"10"])
        argv = c.propagate_argv
        engine.execute(c, [b"DEL", b"z"])
        return argv

    argv = pykey_server.call(run)
    assert argv[0] == b"PEXPIREAT" and argv[1] == b"z"


def test_copy_collections_are_deep(r):
    r.rpush("l", "a", "b")
    r.sadd("s", "x")
    r.hset("h", "f", "v")
    for k in ("l", "s", "h"):
        assert r.copy(k, k + "2") is True
        assert r.type(k + "2") == r.type(k)
        assert r.object("encoding", k + "2") == r.object("encoding", k)
    r.rpush("l2", "c")
    r.sadd("s2", "y")
    r.hset("h2", "g", "w")
    assert r.llen("l") == 2 and r.scard("s") == 1 and r.hlen("h") == 1
    assert r.memory_usage("l") > 0
