"""DUMP/RESTORE, SAVE/BGSAVE/LASTSAVE, DEBUG RELOAD, save points, FLUSHALL and SHUTDOWN
saves and loading at startup, over TCP with redis-py."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import pytest
import redis

from pykey.testing.embedded import free_port


@pytest.fixture
def srv(pykey_factory, tmp_path):
    return pykey_factory("--dir", str(tmp_path), "--enable-debug-command", "yes", "--save", "",
                         "--enable-protected-configs", "yes")


@pytest.fixture
def rc(srv):
    client = redis.Redis(port=srv.port, socket_timeout=10)
    yield client
    client.close()


def _wait(pred, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.02)
    return False


def _raw(rc, *args):
    """One command's reply as the server sent it (no redis-py response callbacks)."""
    conn = redis.Connection(port=rc.connection_pool.connection_kwargs["port"])
    try:
        conn.send_command(*args)
        return conn.read_response()
    finally:
        conn.disconnect()


def _info(rc, section):
    return rc.info(section)


# ---------------------------------------------------------------------- DUMP / RESTORE
def test_dump_restore_every_type(rc):
    rc.set("s", "value")
    rc.rpush("l", *range(200))
    rc.sadd("set", "a", "b")
    rc.hset("h", mapping={"f": "v"})
    rc.zadd("z", {"a": 1.5, "b": -2})
    rc.xadd("x", {"f": "v"}, id="1-1")
    for key in ("s", "l", "set", "h", "z", "x"):
        payload = rc.dump(key)
        enc = rc.object("encoding", key)
        assert rc.restore(key + "_copy", 0, payload) == b"OK"
        assert rc.object("encoding", key + "_copy") == enc
        assert rc.type(key + "_copy") == rc.type(key)
        assert rc.dump(key + "_copy") == payload
    assert rc.lrange("l_copy", 0, -1) == rc.lrange("l", 0, -1)
    assert rc.zrange("z_copy", 0, -1, withscores=True) == [(b"b", -2.0), (b"a", 1.5)]
    assert rc.xrange("x_copy") == [(b"1-1", {b"f": b"v"})]
    assert rc.dump("missing") is None


def test_restore_ttl_absttl_and_replace(rc):
    rc.set("k", "v1")
    p1 = rc.dump("k")
    rc.set("k", "v2")
    p2 = rc.dump("k")
    with pytest.raises(redis.ResponseError, match="^BUSYKEY Target key name already exists.$"):
        rc.restore("k", 0, p1)
    assert rc.restore("k", 0, p1, replace=True) and rc.get("k") == b"v1"
    assert rc.restore("t", 5000, p2)
    assert 3000 < rc.pttl("t") <= 5000
    when = int(time.time() * 1000) + 60000
    assert rc.restore("a", when, p2, absttl=True)
    assert 50000 < rc.pttl("a") <= 60000
    # already expired: not stored, and an existing key goes away with REPLACE
    assert rc.restore("k", int(time.time() * 1000) - 5000, p2, replace=True, absttl=True)
    assert rc.exists("k") == 0
    assert rc.restore("big", 2569591501, p2) and rc.pttl("big") > 2569591501 - 5000


@pytest.mark.parametrize("args, error", [
    (("k", -1, "PAYLOAD"), "ERR Invalid TTL value, must be >= 0"),
    (("k", "x", "PAYLOAD"), "ERR value is not an integer or out of range"),
    (("k", 0, "PAYLOAD", "foo"), "ERR syntax error"),
    (("k", 0, "PAYLOAD", "idletime", -1), "ERR Invalid IDLETIME value, must be >= 0"),
    (("k", 0, "PAYLOAD", "freq", 256), "ERR Invalid FREQ value, must be >= 0 and <= 255"),
    (("k", 0, "PAYLOAD", "freq", 1, "idletime", 1), "ERR syntax error"),
    (("k", 0, "garbage"), "ERR DUMP payload version or checksum are wrong"),
])
def test_restore_errors(rc, args, error):
    rc.set("src", "v")
    payload = rc.dump("src")
    args = tuple(payload if a == "PAYLOAD" else a for a in args)
    with pytest.raises(redis.ResponseError) as e:
        rc.execute_command("RESTORE", *args)
    assert "ERR " + str(e.value) == error          # redis-py drops the ERR prefix


def test_restore_bad_data_format_keeps_connection_and_data(rc):
    from pykey.persistence.crc64 import crc64
    rc.set("keep", "me")
    body = b"\x0e\x05hello\x0a\x00"                  # a ziplist-list type with a bogus blob
    with pytest.raises(redis.ResponseError, match="^Bad data format$"):
        rc.restore("k", 0, body + crc64(body).to_bytes(8, "little"))
    newer = b"\x00\x01v\x0c\x00"                     # RDB version 12: refused
    with pytest.raises(redis.ResponseError, match="version or checksum"):
        rc.restore("k", 0, newer + crc64(newer).to_bytes(8, "little"))
    assert rc.get("keep") == b"me" and rc.exists("k") == 0


def test_restore_idletime_and_freq(rc):
    rc.set("k", "v")
    payload = rc.dump("k")
    rc.config_set("maxmemory-policy", "allkeys-lru")
    try:
        rc.restore("lru", 0, payload, idletime=1000)
        assert 1000 <= rc.object("idletime", "lru") <= 1010
        rc.config_set("maxmemory-policy", "allkeys-lfu")
        rc.restore("lfu", 0, payload, frequency=100)
        assert rc.object("freq", "lfu") == 100
    finally:
        rc.config_set("maxmemory-policy", "noeviction")


# ---------------------------------------------------------------------- SAVE / BGSAVE / RELOAD
def test_save_bgsave_lastsave_and_info(rc, tmp_path):
    rc.set("k", "v")
    assert _info(rc, "persistence")["rdb_changes_since_last_save"] >= 1
    before = rc.lastsave()
    assert rc.save() is True
    assert (tmp_path / "dump.rdb").read_bytes().startswith(b"REDIS0010")
    info = _info(rc, "persistence")
    assert info["rdb_changes_since_last_save"] == 0 and info["rdb_last_bgsave_status"] == "ok"
    assert rc.lastsave() >= before
    rc.set("k2", "v2")
    assert rc.bgsave() is True
    assert _wait(lambda: _info(rc, "persistence")["rdb_bgsave_in_progress"] == 0)
    info = _info(rc, "persistence")
    assert info["rdb_last_bgsave_status"] == "ok" and info["rdb_changes_since_last_save"] == 0
    assert info["rdb_saves"] >= 2
    assert not [p for p in os.listdir(tmp_path) if p.startswith("temp-")]


def test_bgsave_while_one_runs(rc):
    rc.config_set("rdb-key-save-delay", 200000)         # 0.2 s a key keeps the child busy
    try:
        rc.set("a", 1)
        rc.set("b", 2)
        assert _raw(rc, "BGSAVE") == b"Background saving started"
        assert _info(rc, "persistence")["rdb_bgsave_in_progress"] == 1
        for cmd in (("BGSAVE",), ("BGSAVE", "SCHEDULE"), ("SAVE",)):
            with pytest.raises(redis.ResponseError, match="^Background save already in progress$"):
                rc.execute_command(*cmd)
        with pytest.raises(redis.ResponseError, match="^syntax error$"):
            rc.execute_command("BGSAVE", "LATER")
    finally:
        rc.config_set("rdb-key-save-delay", 0)
    assert _wait(lambda: _info(rc, "persistence")["rdb_bgsave_in_progress"] == 0)
    assert _info(rc, "persistence")["rdb_last_bgsave_status"] == "ok"


def test_flushall_stops_a_running_bgsave(rc, tmp_path):
    rc.config_set("rdb-key-save-delay", 1000000)
    try:
        rc.set("a", 1)
        rc.execute_command("BGSAVE")
        rc.flushall()
        assert _info(rc, "persistence")["rdb_bgsave_in_progress"] == 0
        assert _info(rc, "persistence")["rdb_last_bgsave_status"] == "ok"     # SIGUSR1 is no failure
        assert not [p for p in os.listdir(tmp_path) if p.startswith("temp-")]
    finally:
        rc.config_set("rdb-key-save-delay", 0)


def test_bgsave_in_multi_is_scheduled(rc):
    rc.set("k", "v")
    conn = redis.Connection(port=rc.connection_pool.connection_kwargs["port"])
    try:
        for cmd in (("MULTI",), ("BGSAVE",)):
            conn.send_command(*cmd)
            conn.read_response()
        conn.send_command("EXEC")
        assert conn.read_response() == [b"Background saving scheduled"]
    finally:
        conn.disconnect()
    assert _wait(lambda: _info(rc, "persistence")["rdb_changes_since_last_save"] == 0)


def test_debug_reload_keeps_everything(rc):
    rc.set("s", "v")
    rc.set("n", "42")
    rc.rpush("l", "a", "b")
    rc.sadd("ints", 1, 2, 3)
    rc.hset("h", "f", "v")
    rc.zadd("z", {"m": 3})
    rc.xadd("x", {"f": "v"}, id="5-5")
    rc.expire("s", 1000)
    digest = rc.execute_command("DEBUG", "DIGEST")
    encodings = {k: rc.object("encoding", k) for k in ("s", "n", "l", "ints", "h", "z", "x")}
    assert rc.execute_command("DEBUG", "RELOAD") in (b"OK", "OK", True)
    assert rc.execute_command("DEBUG", "DIGEST") == digest
    assert {k: rc.object("encoding", k) for k in encodings} == encodings
    assert 900 < rc.ttl("s") <= 1000
    with pytest.raises(redis.ResponseError, match="only supports the MERGE, NOFLUSH and NOSAVE"):
        rc.execute_command("DEBUG", "RELOAD", "BOGUS")


def test_debug_reload_nosave_noflush_merge(rc, tmp_path):
    rc.set("a", "old")
    rc.save()
    rc.set("a", "new")
    rc.set("b", "only-in-memory")
    assert rc.execute_command("DEBUG", "RELOAD", "NOSAVE", "NOFLUSH", "MERGE")
    assert rc.get("a") == b"old" and rc.get("b") == b"only-in-memory"
    (tmp_path / "dump.rdb").write_bytes(b"REDIS0011garbage")
    with pytest.raises(redis.ResponseError, match="Error trying to load the RDB dump"):
        rc.execute_command("DEBUG", "RELOAD", "NOSAVE")
    assert rc.get("b") == b"only-in-memory"           # nothing was flushed


def test_flushall_with_save_points_writes_an_empty_rdb(rc, tmp_path):
    rc.set("k", "v")
    rc.flushall()
    assert _info(rc, "persistence")["rdb_changes_since_last_save"] > 0
    rc.config_set("save", "3600 1 300 100 60 10000")
    try:
        rc.set("k", "v")
        rc.flushall()
        assert _info(rc, "persistence")["rdb_changes_since_last_save"] == 0
        data = (tmp_path / "dump.rdb").read_bytes()
        assert b"\xfe" not in data[9:-9] or data.count(b"\x00\x01k") == 0
    finally:
        rc.config_set("save", "")


def test_save_point_starts_a_bgsave_from_cron(srv, rc):
    rc.set("k", "v")
    rc.config_set("save", "1 1")
    try:
        def age_lastsave():
            srv.engine.lastsave -= 5
        srv.call(age_lastsave)
        assert _wait(lambda: _info(rc, "persistence")["rdb_changes_since_last_save"] == 0)
        assert _info(rc, "persistence")["rdb_last_bgsave_status"] == "ok"
    finally:
        rc.config_set("save", "")


def test_config_checks(rc):
    with pytest.raises(redis.ResponseError, match="dbfilename can't be a path, just a filename"):
        rc.config_set("dbfilename", "a/b.rdb")
    with pytest.raises(redis.ResponseError, match="No such file or directory"):
        rc.config_set("dir", "/nonexistent/dir/for/pykey")


# ---------------------------------------------------------------------- the server process
def _start(tmp_path, *extra):
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "pykey", "--port", str(port), "--bind", "127.0.0.1",
                             "--dir", str(tmp_path), *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    end = time.monotonic() + 15
    while time.monotonic() < end:
        if proc.poll() is not None:
            return proc, port
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("server did not start")


def test_startup_load_shutdown_save_and_corrupt_file(tmp_path):
    proc, port = _start(tmp_path, "--save", "3600 1")
    try:
        r = redis.Redis(port=port)
        r.set("persisted", "yes")
        r.rpush("list", *range(50))
        r.expire("persisted", 5000)
        r.shutdown()                                     # saves: save points are configured
    finally:
        proc.wait(10)
    assert (tmp_path / "dump.rdb").exists()
    proc, port = _start(tmp_path, "--save", "")
    try:
        r = redis.Redis(port=port)
        assert r.get("persisted") == b"yes" and r.llen("list") == 50
        assert 4900 < r.ttl("persisted") <= 5000
        assert r.info("persistence")["rdb_last_load_keys_loaded"] == 2
        proc.send_signal(15)                             # no save points: nothing written
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    data = (tmp_path / "dump.rdb").read_bytes()
    (tmp_path / "dump.rdb").write_bytes(data[:-20])     # truncated: refuse to start
    proc, _ = _start(tmp_path, "--save", "")
    out, _ = proc.communicate(timeout=10)
    assert proc.returncode == 1
    assert "Fatal error loading the DB" in out


def test_a_killed_client_is_closed_at_once_during_bgsave(rc):
    victim = socket.create_connection(("127.0.0.1", rc.connection_pool.connection_kwargs["port"]), timeout=5)
    victim.sendall(b"CLIENT ID\r\n")
    cid = int(victim.recv(100)[1:-2])
    rc.config_set("rdb-key-save-delay", 10000000)
    try:
        rc.set("k", "v")
        rc.execute_command("BGSAVE")                      # the child is forked with the socket open
        assert _wait(lambda: _info(rc, "persistence")["rdb_bgsave_in_progress"] == 1)
        assert rc.client_kill_filter(_id=cid) == 1
        assert victim.recv(100) == b""                    # EOF now, not when the child ends
        victim.close()
        assert _info(rc, "persistence")["rdb_bgsave_in_progress"] == 1
    finally:
        rc.config_set("rdb-key-save-delay", 0)
        rc.flushall()
    assert _wait(lambda: _info(rc, "persistence")["rdb_bgsave_in_progress"] == 0)
