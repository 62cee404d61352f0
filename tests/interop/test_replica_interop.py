"""pykey as a replica of Debian's redis-server 7.0: it loads the snapshot redis sends (the
EOF-marked diskless form and the ``$<len>`` form from disk), applies its stream, answers
its GETACKs, and continues with a partial resync after the link drops. Then a redis-server
replicates from that pykey replica: it receives the stream of the redis primary unchanged."""
from __future__ import annotations

import os

import pytest
import redis
from test_rdb_interop import LIBRARY, fill, snapshot, start_redis  # the same directory (pytest puts it on sys.path)

from pykey.testing.waiting import link_up, wait_for

pytestmark = pytest.mark.skipif(not os.path.exists("/usr/bin/redis-server"), reason="redis-server not installed")


@pytest.fixture
def redis_primary(tmp_path, request):
    diskless = request.param
    (tmp_path / "redis").mkdir()
    proc, port = start_redis(str(tmp_path / "redis"), "--repl-diskless-sync", diskless,
                             "--repl-diskless-sync-delay", "0", "--repl-ping-replica-period", "1")
    client = redis.Redis(port=port, socket_timeout=10)
    yield client, port
    client.close()
    proc.terminate()
    proc.wait(10)


@pytest.mark.parametrize("redis_primary", ["yes", "no"], indirect=True, ids=["eof-marked", "sized"])
def test_pykey_replicates_from_redis(redis_primary, pykey_factory, tmp_path):
    primary, port = redis_primary
    fill(primary)
    primary.function_load(LIBRARY)
    srv = pykey_factory("--dir", str(tmp_path))
    replica = redis.Redis(port=srv.port, socket_timeout=10)
    assert replica.execute_command("REPLICAOF", "127.0.0.1", port) == b"OK"
    wait_for(lambda: link_up(replica), what="the link")
    assert snapshot(replica) == snapshot(primary)
    assert snapshot(replica, 9) == snapshot(primary, 9)
    assert "'answer'" in repr(replica.function_list())                  # the library came along
    # the stream: SELECTs, expirations as absolute times, MULTI blocks, scripts' effects
    primary.set("later", "x", ex=1000)
    primary.incrbyfloat("float", "2.5")
    with primary.pipeline(transaction=True) as tx:
        tx.lpush("small-list", "new")
        tx.hset("small-hash", "c", "3")
        tx.execute()
    primary.eval("redis.call('zincrby', KEYS[1], 10, 'a'); redis.call('srem', KEYS[2], 3)", 2,
                 "small-zset", "int-set")
    primary.delete("big-set")
    p3 = redis.Redis(port=port, db=3)
    p3.set("db3", "three")
    p3.close()
    assert primary.execute_command("WAIT", 1, 10000) == 1     # pykey answers GETACK with its offset
    wait_for(lambda: replica.info("replication")["slave_repl_offset"]
             == primary.info("replication")["master_repl_offset"], what="offsets")
    assert snapshot(replica) == snapshot(primary)
    assert snapshot(replica, 3) == snapshot(primary, 3)
    info = replica.info("replication")
    assert info["master_replid"] == primary.info("replication")["master_replid"]
    # the link drops: pykey comes back with PSYNC and continues from redis's backlog
    replica.client_kill_filter(_type="master")
    primary.set("while-away", "1")
    wait_for(lambda: replica.get("while-away") == b"1", what="the missed write")
    stats = primary.info("stats")
    assert stats["sync_full"] == 1 and stats["sync_partial_ok"] == 1
    replica.close()


@pytest.mark.parametrize("redis_primary", ["yes"], indirect=True)
def test_redis_replicates_from_a_pykey_replica(redis_primary, pykey_factory, tmp_path):
    """redis (primary) -> pykey -> redis: the last one gets the first one's stream."""
    primary, port = redis_primary
    fill(primary, streams=False, small_sets=False)      # data redis 7.0 can load back from pykey
    (tmp_path / "pykey").mkdir()
    (tmp_path / "last").mkdir()
    srv = pykey_factory("--dir", str(tmp_path / "pykey"))
    middle = redis.Redis(port=srv.port, socket_timeout=10)
    middle.execute_command("REPLICAOF", "127.0.0.1", port)
    wait_for(lambda: link_up(middle), what="pykey's link")
    proc, last_port = start_redis(str(tmp_path / "last"), "--replicaof", "127.0.0.1", str(srv.port))
    last = redis.Redis(port=last_port, socket_timeout=10)
    try:
        wait_for(lambda: link_up(last), what="the last replica's link")
        primary.set("through-the-chain", "yes")
        primary.hset("small-hash", "z", "26")
        p9 = redis.Redis(port=port, db=9)
        p9.incr("in-db-9-counter")
        p9.close()
        target = primary.info("replication")["master_repl_offset"]
        wait_for(lambda: last.info("replication")["slave_repl_offset"] == target, what="the end of the chain")
        assert snapshot(last) == snapshot(primary)
        assert snapshot(last, 9) == snapshot(primary, 9)
        # one history along the chain: same ID and offsets
        for r in (middle, last):
            assert r.info("replication")["master_replid"] == primary.info("replication")["master_replid"]
            assert r.info("replication")["master_repl_offset"] == target
        assert middle.info("replication")["connected_slaves"] == 1
    finally:
        last.close()
        proc.terminate()
        proc.wait(10)
        middle.close()
