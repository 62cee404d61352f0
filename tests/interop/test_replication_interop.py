"""A real replica: Debian's redis-server 7.0 started with ``--replicaof`` pykey receives
the snapshot and every later write, across databases, and resumes with a partial resync
(PSYNC +CONTINUE) after its link is cut."""
from __future__ import annotations

import os
import time

import pytest
import redis
from test_rdb_interop import fill, snapshot, start_redis  # the same directory (pytest puts it on sys.path)

pytestmark = pytest.mark.skipif(not os.path.exists("/usr/bin/redis-server"), reason="redis-server not installed")


def wait_for(pred, timeout: float = 20.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for the replica")


def test_redis_replicates_from_pykey(pykey_factory, tmp_path):
    (tmp_path / "primary").mkdir()
    srv = pykey_factory("--dir", str(tmp_path / "primary"))
    primary = redis.Redis(port=srv.port, socket_timeout=10)
    fill(primary, streams=False, small_sets=False)
    replica_dir = tmp_path / "replica"
    replica_dir.mkdir()
    proc, port = start_redis(str(replica_dir), "--replicaof", "127.0.0.1", str(srv.port))
    replica = redis.Redis(port=port, socket_timeout=10)
    try:
        wait_for(lambda: replica.info("replication")["master_link_status"] == "up")
        wait_for(lambda: replica.dbsize() == primary.dbsize())
        assert snapshot(replica) == snapshot(primary)
        assert snapshot(replica, 9) == snapshot(primary, 9)
        # later writes, in several databases, with TTLs turned absolute
        primary.set("later", "x")
        primary.execute_command("INCR", "int")
        primary.lpush("small-list", "new")
        primary.hset("small-hash", "c", "3")
        primary.zincrby("small-zset", 10, "a")
        primary.srem("int-set", 3)
        primary.delete("big-set")
        primary.expire("later", 1000)
        p3 = redis.Redis(port=srv.port, db=3)
        p3.set("db3", "three")
        p3.execute_command("SET", "tmp", "v", "EX", "100")
        primary.set("marker", "done")
        wait_for(lambda: replica.get("marker") == b"done")
        assert snapshot(replica) == snapshot(primary)
        assert snapshot(replica, 3) == snapshot(primary, 3)
        info = primary.info("replication")
        assert info["connected_slaves"] == 1 and info["slave0"]["state"] == "online"
        wait_for(lambda: primary.info("replication")["slave0"]["offset"] == info["master_repl_offset"])
        # cut the link: the replica comes back with PSYNC and continues from the backlog
        primary.client_kill_filter(_type="replica")
        primary.set("while-away", "1")
        wait_for(lambda: replica.get("while-away") == b"1")
        wait_for(lambda: replica.info("replication")["master_link_status"] == "up")
        stats = primary.info("stats")
        assert stats["sync_full"] == 1 and stats["sync_partial_ok"] == 1
        assert replica.info("replication")["master_replid"] == info["master_replid"]
    finally:
        replica.close()
        proc.terminate()
        proc.wait(10)
