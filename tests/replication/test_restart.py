"""A restart keeps partial resync possible (Valkey's loadDataFromDisk): the snapshot carries
the replication ID and offset, so a restarted primary continues its replicas' streams and a
restarted replica continues from its primary's backlog, instead of a full sync."""
from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from pykey.testing.embedded import free_port
from pykey.testing.processes import pykey_in
from pykey.testing.waiting import link_up, wait_for


@contextmanager
def pykey_at(directory: Path, port: int, *args: str) -> Iterator[redis.Redis]:
    """A pykey process with its data in ``directory``, and a client on it."""
    with pykey_in(directory, port, *args):
        client = redis.Redis(port=port, socket_timeout=10)
        try:
            yield client
        finally:
            client.close()


def in_sync(primary: redis.Redis, replica: redis.Redis) -> bool:
    return replica.info("replication").get("slave_repl_offset") == primary.info("replication")["master_repl_offset"]


def test_restarted_primary_continues_its_replica(pykey_factory, tmp_path):
    port = free_port()
    rep_srv = pykey_factory("--repl-timeout", "60")
    rep = redis.Redis(port=rep_srv.port, socket_timeout=10)
    with pykey_at(tmp_path, port) as p:
        rep.replicaof("127.0.0.1", port)
        wait_for(lambda: link_up(rep), what="the link")
        p.mset({"a": 1, "b": 2})
        p.set("short", "lived", px=300)
        wait_for(lambda: in_sync(p, rep), what="the replica to catch up")
        before = p.info("replication")
        assert p.save()
        after = p.info("replication")             # (a PING to the replica may fall between)
    time.sleep(0.4)                                   # "short" is expired when the file loads
    with pykey_at(tmp_path, port) as p:
        info = p.info("replication")
        assert info["master_replid2"] == before["master_replid"]
        assert before["master_repl_offset"] < info["second_repl_offset"] <= after["master_repl_offset"] + 1
        assert info["master_replid"] != before["master_replid"]
        wait_for(lambda: link_up(rep), what="the link after the restart")
        p.set("c", 3)
        wait_for(lambda: rep.get("c") == b"3", what="a write after the restart")
        stats = p.info("stats")
        assert stats["sync_partial_ok"] == 1 and stats["sync_full"] == 0
        assert rep.dbsize() == 3                      # the DEL of the expired key arrived
        assert rep.mget("a", "b", "c") == [b"1", b"2", b"3"]
        assert rep.info("replication")["master_replid"] == p.info("replication")["master_replid"]
    rep.replicaof("no", "one")
    rep.close()


def test_restarted_replica_continues_from_the_backlog(pykey_factory, tmp_path):
    """The stream was in database 2 when the replica saved (repl-stream-db): what the
    primary sends next carries no SELECT, and must still land in database 2."""
    prim_srv = pykey_factory()
    p = redis.Redis(port=prim_srv.port, socket_timeout=10, db=2)
    port = free_port()
    replicaof = ("--replicaof", "127.0.0.1", str(prim_srv.port))
    with pykey_at(tmp_path, port, *replicaof) as rep:
        wait_for(lambda: link_up(rep), what="the link")
        p.set("a", 1)
        wait_for(lambda: in_sync(p, rep), what="the replica to catch up")
        assert rep.save()
    p.set("missed", "while down")                     # only in the primary's backlog
    with pykey_at(tmp_path, port, *replicaof) as rep:
        rep2 = redis.Redis(port=port, socket_timeout=10, db=2)
        wait_for(lambda: link_up(rep), what="the link after the restart")
        wait_for(lambda: rep2.get("missed") == b"while down", what="the missed write")
        stats = p.info("stats")
        assert stats["sync_full"] == 1 and stats["sync_partial_ok"] == 1
        assert rep2.get("a") == b"1" and rep.dbsize() == 0
        rep2.close()
    p.close()


def test_no_replication_info_without_a_replication_chain(pykey_factory, tmp_path):
    """A primary that never had a replica saves no repl-id (rdbPopulateSaveInfo), so a
    restart does not pretend to continue a stream nobody has."""
    port = free_port()
    with pykey_at(tmp_path, port) as p:
        p.set("k", "v")
        assert p.save()
    assert b"repl-id" not in (tmp_path / "dump.rdb").read_bytes()
    with pykey_at(tmp_path, port) as p:
        info = p.info("replication")
        assert info["second_repl_offset"] == -1 and info["repl_backlog_active"] == 0
        assert p.get("k") == b"v"
