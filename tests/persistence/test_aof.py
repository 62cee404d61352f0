"""The multi-part AOF: turning it on at run time, incr files in RESP, BGREWRITEAOF with and
without the RDB preamble, DEBUG LOADAOF, loading at startup (dump.rdb ignored), truncated
tails, and the manifest."""
from __future__ import annotations

import os

import pytest
import redis

from pykey.persistence.aof import Manifest, parse_commands

from .test_commands import _start, _wait


@pytest.fixture
def rc(pykey_factory, tmp_path):
    srv = pykey_factory("--dir", str(tmp_path), "--enable-debug-command", "yes", "--save", "")
    client = redis.Redis(port=srv.port, socket_timeout=10)
    yield client
    client.config_set("appendonly", "no")
    client.close()


def _rewrite_done(rc):
    info = rc.info("persistence")
    return info["aof_rewrite_in_progress"] == 0 and info["aof_rewrite_scheduled"] == 0


def _manifest(tmp_path) -> Manifest:
    return Manifest.parse((tmp_path / "appendonlydir" / "appendonly.aof.manifest").read_text())


def test_enable_write_and_loadaof(rc, tmp_path):
    rc.set("before", "1")
    rc.config_set("appendonly", "yes")
    rc.set("foo", "bar", ex=100)
    rc.set("foo", "bar2", keepttl=True)
    rc.rpush("list", "a", "b")
    rc.execute_command("SELECT", 0)
    assert _wait(lambda: _rewrite_done(rc) and rc.info("persistence")["aof_rewrites"] == 1)
    m = _manifest(tmp_path)
    assert m.base == "appendonly.aof.1.base.rdb" and m.incrs == [("appendonly.aof.1.incr.aof", 1)]
    rc.set("after", "2")
    incr = (tmp_path / "appendonlydir" / "appendonly.aof.1.incr.aof").read_bytes()
    cmds, end, why = parse_commands(incr)
    assert why is None and end == len(incr)
    assert cmds[0] == [b"SELECT", b"0"] and cmds[1][:3] == [b"SET", b"foo", b"bar"]
    assert cmds[1][3] == b"PXAT" and [b"SET", b"after", b"2"] in cmds
    assert rc.execute_command("DEBUG", "LOADAOF") == b"OK"
    assert rc.get("before") == b"1" and rc.get("after") == b"2" and rc.get("foo") == b"bar2"
    assert 90 < rc.ttl("foo") <= 100
    assert rc.lrange("list", 0, -1) == [b"a", b"b"]
    assert rc.info("persistence")["rdb_changes_since_last_save"] == 0
    incr = (tmp_path / "appendonlydir" / "appendonly.aof.1.incr.aof").read_bytes()
    assert b"LOADAOF" not in incr                     # resetting the counter propagates nothing
    rc.save()
    assert b"SAVE" not in (tmp_path / "appendonlydir" / "appendonly.aof.1.incr.aof").read_bytes()


@pytest.mark.parametrize("preamble", ["yes", "no"])
def test_bgrewriteaof_rotates_files(rc, tmp_path, preamble):
    rc.config_set("aof-use-rdb-preamble", preamble)
    rc.config_set("appendonly", "yes")
    assert _wait(lambda: _rewrite_done(rc) and rc.info("persistence")["aof_rewrites"] == 1)
    rc.set("s", "v")
    rc.sadd("set", *range(200))
    rc.zadd("z", {"a": 1.5, "b": float("inf")})
    rc.hset("h", mapping={"f": "v", "g": "w"})
    rc.hpexpire("h", 100000, "f")
    rc.xadd("x", {"f": "v"}, id="1-1")
    rc.xgroup_create("x", "g", id="0")
    rc.xreadgroup("g", "c", {"x": ">"})
    rc.pexpire("s", 100000)
    rc.execute_command("SELECT", 0)
    r3 = redis.Redis(port=rc.connection_pool.connection_kwargs["port"], db=3)
    r3.rpush("l", *range(300))
    conn = redis.Connection(port=rc.connection_pool.connection_kwargs["port"])
    conn.send_command("BGREWRITEAOF")
    assert conn.read_response() == b"Background append only file rewriting started"
    conn.disconnect()
    assert _wait(lambda: _rewrite_done(rc) and rc.info("persistence")["aof_rewrites"] == 2)
    m = _manifest(tmp_path)
    ext = "rdb" if preamble == "yes" else "aof"
    assert m.base == f"appendonly.aof.2.base.{ext}" and m.incrs == [("appendonly.aof.2.incr.aof", 2)]
    assert sorted(os.listdir(tmp_path / "appendonlydir")) == sorted(
        [m.base, "appendonly.aof.2.incr.aof", "appendonly.aof.manifest"])
    before = {k: rc.type(k) for k in rc.keys("*")}
    rc.set("post", "rewrite")
    assert rc.execute_command("DEBUG", "LOADAOF") == b"OK"
    assert {k: rc.type(k) for k in rc.keys("*")} == {**before, b"post": b"string"}
    assert rc.scard("set") == 200 and rc.zscore("z", "b") == float("inf")
    assert rc.hgetall("h") == {b"f": b"v", b"g": b"w"} and 0 < rc.hpttl("h", "f")[0] <= 100000
    assert rc.xpending("x", "g")["pending"] == 1 and 0 < rc.pttl("s") <= 100000
    assert r3.lrange("l", 0, -1) == [b"%d" % i for i in range(300)]


def test_bgrewriteaof_replies(rc):
    conn = redis.Connection(port=rc.connection_pool.connection_kwargs["port"])
    try:
        rc.config_set("rdb-key-save-delay", 1000000)
        rc.set("k", "v")
        conn.send_command("BGSAVE")
        assert conn.read_response() == b"Background saving started"
        conn.send_command("BGREWRITEAOF")
        assert conn.read_response() == b"Background append only file rewriting scheduled"
        assert rc.info("persistence")["aof_rewrite_scheduled"] == 1
        rc.config_set("rdb-key-save-delay", 0)
        rc.flushall()                                     # stops the BGSAVE
        assert _wait(lambda: _rewrite_done(rc))
        rc.config_set("rdb-key-save-delay", 1000000)
        rc.set("k", "v")
        conn.send_command("BGREWRITEAOF")
        assert conn.read_response() == b"Background append only file rewriting started"
        conn.send_command("BGREWRITEAOF")
        with pytest.raises(redis.ResponseError, match="already in progress"):
            conn.read_response()
        conn.send_command("BGSAVE")
        with pytest.raises(redis.ResponseError, match="Another child process is active"):
            conn.read_response()
    finally:
        rc.config_set("rdb-key-save-delay", 0)
        conn.disconnect()
    assert _wait(lambda: _rewrite_done(rc))


def test_startup_loads_the_aof_and_repairs_a_truncated_tail(tmp_path):
    proc, port = _start(tmp_path, "--save", "", "--appendonly", "yes")
    try:
        r = redis.Redis(port=port)
        r.set("a", "1")
        r.execute_command("MULTI")
        r.execute_command("INCR", "n")
        r.execute_command("INCR", "n")
        r.execute_command("EXEC")
        r.shutdown()
    finally:
        proc.wait(10)
    (tmp_path / "dump.rdb").write_bytes(b"garbage: never read while appendonly is on")
    m = _manifest(tmp_path)
    incr = tmp_path / "appendonlydir" / m.incrs[-1][0]
    good = incr.read_bytes()
    assert b"MULTI" in good and b"EXEC" in good
    incr.write_bytes(good + b"*3\r\n$3\r\nSET\r\n$1\r\nb")     # a write cut short
    proc, port = _start(tmp_path, "--save", "", "--appendonly", "yes")
    try:
        r = redis.Redis(port=port)
        assert r.get("a") == b"1" and r.get("n") == b"2" and r.get("b") is None
        assert incr.read_bytes() == good                       # the tail was cut off
        r.shutdown(nosave=True)
    finally:
        proc.wait(10)
    incr.write_bytes(good + b"*3\r\n$3\r\nSET\r\n$1\r\nb")
    proc, _ = _start(tmp_path, "--save", "", "--appendonly", "yes", "--aof-load-truncated", "no")
    out, _ = proc.communicate(timeout=10)
    assert proc.returncode == 1 and "Fatal error loading the AOF" in out


def test_manifest_format():
    text = ("file appendonly.aof.3.base.rdb seq 3 type b\n"
            "file appendonly.aof.2.incr.aof seq 2 type h\n"
            "file appendonly.aof.5.incr.aof seq 5 type i\n"
            "file appendonly.aof.6.incr.aof seq 6 type i\n")
    m = Manifest.parse(text)
    assert m.base == "appendonly.aof.3.base.rdb" and m.base_seq == 3
    assert m.incrs == [("appendonly.aof.5.incr.aof", 5), ("appendonly.aof.6.incr.aof", 6)]
    assert Manifest.parse(m.text()) == m
    from pykey.persistence.aof import AofError
    for bad in ("file x seq 1 type z\n", "file x seq one type b\n", "file a seq 1 type b\nfile b seq 2 type b\n"):
        with pytest.raises(AofError):
            Manifest.parse(bad)


def test_automatic_rewrite_on_growth(rc, tmp_path):
    rc.config_set("appendonly", "yes")
    assert _wait(lambda: _rewrite_done(rc) and rc.info("persistence")["aof_rewrites"] == 1)
    rc.config_set("auto-aof-rewrite-min-size", 1000)
    rc.config_set("auto-aof-rewrite-percentage", 100)
    for i in range(100):
        rc.set(f"key{i}", "x" * 20)                         # the incr file outgrows the base
    assert _wait(lambda: rc.info("persistence")["aof_rewrites"] == 2 and _rewrite_done(rc))
    info = rc.info("persistence")
    assert info["aof_base_size"] > 0 and _manifest(tmp_path).base == "appendonly.aof.2.base.rdb"


def test_waitaof_local_fsync(rc):
    with pytest.raises(redis.ResponseError, match="numlocal is set but appendonly is disabled"):
        rc.execute_command("WAITAOF", 1, 0, 0)
    assert rc.execute_command("WAITAOF", 0, 0, 0) == [0, 0]
    with pytest.raises(redis.ResponseError, match="must between 0 and 1"):
        rc.execute_command("WAITAOF", 2, 0, 0)
    rc.config_set("appendonly", "yes")
    assert _wait(lambda: _rewrite_done(rc) and rc.info("persistence")["aof_enabled"] == 1
                 and rc.info("persistence")["aof_rewrites"] == 1)
    rc.set("k", "v")                                   # everysec: fsynced within a second
    assert rc.execute_command("WAITAOF", 1, 0, 5000) == [1, 0]
    assert rc.execute_command("WAITAOF", 1, 1, 50) == [1, 0]           # no replica: times out
    rc.config_set("appendfsync", "always")
    rc.set("k", "w")
    assert rc.execute_command("WAITAOF", 1, 0, 0) == [1, 0]
    rc.config_set("appendfsync", "everysec")
