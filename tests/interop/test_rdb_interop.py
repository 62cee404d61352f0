"""RDB files and DUMP payloads between pykey and Debian's redis-server 7.0: pykey loads a
file redis-server wrote with every type (stream groups, functions, TTLs, several
databases, every small and large encoding), redis-server loads the file pykey writes, and
DUMP payloads restore both ways. Values are compared by reading them back."""
from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest
import redis

from pykey.testing.embedded import free_port

REDIS_SERVER = "/usr/bin/redis-server"
pytestmark = pytest.mark.skipif(not os.path.exists(REDIS_SERVER), reason="redis-server not installed")

LIBRARY = "#!lua name=interlib\nredis.register_function('answer', function() return 42 end)"


def start_redis(directory: str, *extra: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = subprocess.Popen([REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", directory, *extra],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 15
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc, port
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("redis-server did not start") from None
            time.sleep(0.05)


@pytest.fixture
def redis_dir(tmp_path) -> Iterator[tuple[redis.Redis, str]]:
    proc, port = start_redis(str(tmp_path))
    client = redis.Redis(port=port, socket_timeout=10)
    yield client, str(tmp_path)
    client.close()
    proc.terminate()
    proc.wait(10)


def fill(r: redis.Redis, streams: bool = True, small_sets: bool = True) -> None:
    r.set("str", "hello")
    r.set("int", "-12345")
    r.set("long", "abc" * 400)                        # LZF
    r.set("ttl", "soon")
    r.pexpire("ttl", 500000)
    r.rpush("small-list", *range(10), "text")
    r.rpush("big-list", *[f"element-{i}" for i in range(3000)])
    r.sadd("int-set", *range(-5, 20))
    r.sadd("big-set", *[f"m{i}" for i in range(700)])
    if small_sets:
        r.sadd("small-set", "a", "b", "c")
    r.hset("small-hash", mapping={"a": "1", "b": "two"})
    r.hset("big-hash", mapping={f"f{i}": "v" * (i % 90) for i in range(300)})
    r.zadd("small-zset", {"a": 1, "b": 2.5, "c": float("-inf"), "d": 1e-300})
    r.zadd("big-zset", {f"m{i}": i / 3 for i in range(400)})
    if streams:
        for i in range(150):
            r.xadd("stream", {"f": i, "g": "x" * (i % 5)}, id=f"{i + 1}-0")
        r.xadd("stream", {"other": "shape"}, id="500-1")
        r.xdel("stream", "3-0")
        r.xgroup_create("stream", "g1", id="0")
        r.xgroup_create("stream", "g2", id="$")
        r.xreadgroup("g1", "alice", {"stream": ">"}, count=3)
        r.xreadgroup("g1", "bob", {"stream": ">"}, count=2)
        r.xack("stream", "g1", "1-0")
    r9 = redis.Redis(port=r.connection_pool.connection_kwargs["port"], db=9)
    r9.set("in-db-9", "nine")
    r9.close()


def snapshot(r: redis.Redis, db: int = 0) -> dict:
    """Every key's type, encoding, value and (rounded) TTL, read through commands."""
    c = redis.Redis(port=r.connection_pool.connection_kwargs["port"], db=db)
    out = {}
    for key in sorted(c.keys("*")):
        t = c.type(key)
        if t == b"string":
            v = c.get(key)
        elif t == b"list":
            v = c.lrange(key, 0, -1)
        elif t == b"set":
            v = sorted(c.smembers(key))
        elif t == b"hash":
            v = sorted(c.hgetall(key).items())
        elif t == b"zset":
            v = c.zrange(key, 0, -1, withscores=True)
        else:
            info = c.xinfo_stream(key)
            groups = [(g["name"], g["last-delivered-id"], g["pending"], g["entries-read"], g["lag"])
                      for g in c.xinfo_groups(key)]
            pending = c.xpending_range(key, "g1", "-", "+", 100)
            v = (c.xrange(key), info["length"], info["last-generated-id"], info["max-deleted-entry-id"],
                 info["entries-added"], groups, [(p["message_id"], p["consumer"], p["times_delivered"])
                                                 for p in pending])
        ttl = c.pttl(key)
        # Redis 7.0 has no listpack lists or sets (7.2 added them): those encodings differ
        enc = None if t in (b"list", b"set") else c.object("encoding", key)
        out[key] = (t, enc, v, -1 if ttl < 0 else round(ttl / 10000))
    c.close()
    return out


def test_pykey_loads_an_rdb_written_by_redis(redis_dir, pykey_factory):
    r, directory = redis_dir
    fill(r)
    r.function_load(LIBRARY)
    r.save()
    data = open(os.path.join(directory, "dump.rdb"), "rb").read()
    assert data.startswith(b"REDIS0010")
    srv = pykey_factory("--dir", directory, "--enable-debug-command", "yes")
    p = redis.Redis(port=srv.port, socket_timeout=10)
    assert p.execute_command("DEBUG", "RELOAD", "NOSAVE") == b"OK"
    assert snapshot(p) == snapshot(r)
    assert snapshot(p, 9) == snapshot(r, 9)
    assert p.fcall("answer", 0) == 42


def test_redis_loads_an_rdb_written_by_pykey(tmp_path, pykey_factory):
    srv = pykey_factory("--dir", str(tmp_path), "--enable-debug-command", "yes")
    p = redis.Redis(port=srv.port, socket_timeout=10)
    fill(p, streams=False, small_sets=False)          # what RDB version 10 holds
    p.function_load(LIBRARY)
    assert p.save()
    assert (tmp_path / "dump.rdb").read_bytes().startswith(b"REDIS0010")
    proc, port = start_redis(str(tmp_path))
    try:
        r = redis.Redis(port=port, socket_timeout=10)
        assert snapshot(r) == snapshot(p)
        assert snapshot(r, 9) == snapshot(p, 9)
        assert r.fcall("answer", 0) == 42
        r.close()
    finally:
        proc.terminate()
        proc.wait(10)


def test_dump_payloads_restore_both_ways(redis_dir, pykey_factory, tmp_path):
    r, _ = redis_dir
    srv = pykey_factory("--dir", str(tmp_path))
    p = redis.Redis(port=srv.port, socket_timeout=10)
    fill(r)
    for key in r.keys("*"):
        assert p.restore(key, max(r.pttl(key), 0), r.dump(key)) == b"OK"
    assert snapshot(p) == snapshot(r)
    p.flushall()
    r.flushall()
    fill(p, streams=False, small_sets=False)
    for key in p.keys("*"):
        assert r.restore(key, max(p.pttl(key), 0), p.dump(key)) == b"OK"
    assert snapshot(r) == snapshot(p)
    # a listpack set needs RDB 11, which redis-server 7.0 refuses, as it refuses Valkey 8's
    p.sadd("small-set", "a", "b")
    with pytest.raises(redis.ResponseError, match="DUMP payload version or checksum are wrong"):
        r.restore("small-set", 0, p.dump("small-set"))


def test_migrate_to_redis_and_between_pykeys(redis_dir, pykey_factory, tmp_path):
    r, _ = redis_dir
    rport = r.connection_pool.connection_kwargs["port"]
    src = redis.Redis(port=pykey_factory("--dir", str(tmp_path)).port, socket_timeout=10)
    other = pykey_factory("--dir", str(tmp_path))
    dst = redis.Redis(port=other.port, socket_timeout=10)
    src.set("k", "v")
    src.pexpire("k", 100000)
    src.rpush("l", *range(100))
    assert src.migrate("127.0.0.1", rport, "k", 0, 1000) == b"OK"
    assert r.get("k") == b"v" and 90000 < r.pttl("k") <= 100000 and src.exists("k") == 0
    assert src.migrate("127.0.0.1", rport, ["l", "missing"], 2, 1000, copy=True) == b"OK"
    assert redis.Redis(port=rport, db=2).lrange("l", 0, -1) == src.lrange("l", 0, -1)
    assert src.migrate("127.0.0.1", rport, "missing", 0, 1000) == b"NOKEY"
    src.set("k", "mine")
    r.set("k", "theirs")
    with pytest.raises(redis.ResponseError, match="Target instance replied with error: BUSYKEY"):
        src.migrate("127.0.0.1", rport, "k", 0, 1000)
    assert src.get("k") == b"mine"                                  # not deleted on failure
    assert src.migrate("127.0.0.1", other.port, "k", 0, 1000, replace=True) == b"OK"
    assert dst.get("k") == b"mine" and src.exists("k") == 0
    assert src.info("stats")["migrate_cached_sockets"] == 2
    with pytest.raises(redis.ResponseError, match="^IOERR error or timeout connecting to the client$"):
        src.migrate("127.0.0.1", 1, "l", 0, 100)
    with pytest.raises(redis.ResponseError, match="must be set to the empty string"):
        src.execute_command("MIGRATE", "127.0.0.1", rport, "l", 0, 1000, "KEYS", "l")
