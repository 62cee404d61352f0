"""Partial resync across a restart, with Debian's redis-server 7.0 on the other side: the
replication ID and offset pykey saves in its RDB, and those redis-server saves, are read
back so that the stream continues (+CONTINUE) instead of a full resync."""
from __future__ import annotations

import os

import pytest
import redis
from test_rdb_interop import start_redis  # the same directory (pytest puts it on sys.path)

from pykey.testing.embedded import free_port
from pykey.testing.processes import pykey_in
from pykey.testing.waiting import link_up, wait_for

pytestmark = pytest.mark.skipif(not os.path.exists("/usr/bin/redis-server"), reason="redis-server not installed")


def in_sync(primary: redis.Redis, replica: redis.Redis) -> bool:
    return replica.info("replication").get("slave_repl_offset") == primary.info("replication")["master_repl_offset"]


def test_redis_replica_continues_after_pykey_restarts(tmp_path):
    (tmp_path / "pykey").mkdir()
    (tmp_path / "redis").mkdir()
    port = free_port()
    proc, rport = start_redis(str(tmp_path / "redis"))
    rep = redis.Redis(port=rport, socket_timeout=10)
    try:
        with pykey_in(tmp_path / "pykey", port):
            p = redis.Redis(port=port, socket_timeout=10)
            rep.replicaof("127.0.0.1", port)
            wait_for(lambda: link_up(rep), what="the link")
            p.mset({"a": 1, "b": 2})
            wait_for(lambda: in_sync(p, rep), what="redis to catch up")
            assert p.save()
            p.close()
        with pykey_in(tmp_path / "pykey", port):
            p = redis.Redis(port=port, socket_timeout=10)
            wait_for(lambda: link_up(rep), what="the link after the restart")
            p.set("c", 3)
            wait_for(lambda: rep.get("c") == b"3", what="a write after the restart")
            stats = p.info("stats")
            assert stats["sync_partial_ok"] == 1 and stats["sync_full"] == 0
            assert rep.mget("a", "b", "c") == [b"1", b"2", b"3"]
            p.close()
    finally:
        rep.close()
        proc.terminate()
        proc.wait(10)


def test_pykey_replica_continues_from_redis_after_it_restarts(tmp_path):
    (tmp_path / "pykey").mkdir()
    (tmp_path / "redis").mkdir()
    proc, rport = start_redis(str(tmp_path / "redis"))
    p = redis.Redis(port=rport, socket_timeout=10, db=4)
    port = free_port()
    replicaof = ("--replicaof", "127.0.0.1", str(rport))
    try:
        with pykey_in(tmp_path / "pykey", port, *replicaof):
            rep = redis.Redis(port=port, socket_timeout=10, db=4)
            wait_for(lambda: link_up(rep), what="the link")
            p.set("a", 1)
            wait_for(lambda: in_sync(p, rep), what="pykey to catch up")
            assert rep.save()
            rep.close()
        p.set("missed", "while down")
        with pykey_in(tmp_path / "pykey", port, *replicaof):
            rep = redis.Redis(port=port, socket_timeout=10, db=4)
            wait_for(lambda: link_up(rep), what="the link after the restart")
            wait_for(lambda: rep.get("missed") == b"while down", what="the missed write")
            stats = p.info("stats")
            assert stats["sync_full"] == 1 and stats["sync_partial_ok"] == 1
            assert rep.get("a") == b"1"
            rep.close()
    finally:
        p.close()
        proc.terminate()
        proc.wait(10)
