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
        assert primary.execute_command("WAIT", 1, 10000) == 1     # the replica answers GETACK
        assert replica.get("marker") == b"done"
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


# Commands whose replication form is fixed by Valkey: TTLs become absolute, GETEX becomes
# PERSIST/PEXPIREAT or nothing, a TTL in the past becomes UNLINK, INCRBYFLOAT a SET ...
STREAM_CORPUS = [
    ["SET", "a", "1"], ["SET", "b", "2", "EX", "100"], ["SETEX", "c", "100", "v"], ["PSETEX", "d", "100000", "v"],
    ["SET", "e", "v", "PX", "100000"], ["SET", "f", "v", "KEEPTTL"], ["GETEX", "b", "PERSIST"],
    ["GETEX", "e", "EX", "50"], ["GETEX", "a"], ["GETDEL", "a"], ["INCR", "n"], ["INCRBYFLOAT", "fl", "1.5"],
    ["APPEND", "s", "x"], ["SETRANGE", "s", "3", "y"], ["MSET", "m1", "1", "m2", "2"], ["MSETNX", "m3", "3"],
    ["SETNX", "m4", "4"], ["EXPIRE", "m1", "100"], ["PEXPIRE", "m2", "100000"], ["EXPIREAT", "m3", "9999999999"],
    ["PERSIST", "m1"], ["DEL", "m4"], ["UNLINK", "m3"], ["RENAME", "m2", "m5"], ["COPY", "m5", "m6"],
    ["MOVE", "m6", "2"], ["GETSET", "g", "v"], ["SET", "h", "v", "GET"], ["EXPIRE", "h", "0"],
    ["SET", "k", "v", "PXAT", "9999999999999"], ["LPUSH", "l", "1", "2", "3"], ["RPOP", "l"],
    ["LMOVE", "l", "l2", "LEFT", "RIGHT"], ["SADD", "st", "1", "2", "3"], ["SMOVE", "st", "st2", "1"],
    ["HSET", "hh", "f", "v"], ["HINCRBYFLOAT", "hh", "n", "1.5"], ["ZADD", "z", "1", "a", "2", "b"],
    ["ZINCRBY", "z", "1", "a"], ["ZPOPMIN", "z"], ["FLUSHDB"], ["SET", "after", "1"], ["SELECT", "3"],
    ["SET", "in3", "v"], ["SWAPDB", "3", "4"], ["FLUSHALL"],
]


def _stream_of(port: int) -> list[list[bytes]]:
    """Attach as a replica (SYNC), run the corpus, return the commands the primary sent."""
    import re
    import sys
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "replication"))
    from test_primary import Replica
    rep = Replica(port)
    rep.send("SYNC")
    rep.payload()
    client = redis.Redis(port=port, socket_timeout=10)
    for cmd in STREAM_CORPUS:
        if cmd[0] == "SELECT":
            client = redis.Redis(port=port, db=int(cmd[1]), socket_timeout=10)
        else:
            client.execute_command(*cmd)
    client.set("__end__", "1")
    got = []
    while True:
        cmd = rep.command()
        if cmd != [b"PING"]:
            got.append([re.sub(rb"^1[6-9]\d{8,11}$", b"<time>", a) for a in cmd])
        if cmd[:2] == [b"SET", b"__end__"]:
            rep.close()
            return got


def test_replication_stream_matches_redis(pykey_factory, tmp_path):
    srv = pykey_factory("--dir", str(tmp_path), "--repl-ping-replica-period", "3600")
    proc, port = start_redis(str(tmp_path), "--repl-ping-replica-period", "3600",
                             "--lazyfree-lazy-expire", "yes", "--lazyfree-lazy-server-del", "yes")
    try:
        assert _stream_of(srv.port) == _stream_of(port)
    finally:
        proc.terminate()
        proc.wait(10)
