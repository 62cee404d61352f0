"""MEMORY STATS, DOCTOR, MALLOC-STATS and PURGE, as redis-py and monitoring tools read them
(MEMORY HELP lists them; redis-py has memory_stats() and memory_purge())."""
from __future__ import annotations

import pytest
import redis


def test_memory_stats_through_redis_py(rp):
    assert rp.memory_purge() is True
    stats = rp.memory_stats()
    assert stats["keys.count"] == 0 and stats["total.allocated"] > 0
    assert 0 < float(stats["dataset.percentage"]) <= 100     # a double: bulk string in RESP2
    rp.set("k", "v")
    assert rp.memory_stats()["keys.count"] == 1 and "db.0" in rp.memory_stats()
    assert b"Sam" in rp.execute_command("MEMORY", "DOCTOR")


def test_memory_subcommands(r):
    r.set("k", "v", ex=100)
    stats = r.memory_stats()
    keys = list(stats)
    assert keys[:10] == ["peak.allocated", "total.allocated", "startup.allocated", "replication.backlog",
                         "clients.slaves", "clients.normal", "cluster.links", "aof.buffer", "lua.caches",
                         "functions.caches"]
    assert keys[10] == "db.0" and set(stats["db.0"]) == {"overhead.hashtable.main", "overhead.hashtable.expires"}
    assert keys[-4:] == ["rss-overhead.ratio", "rss-overhead.bytes", "fragmentation", "fragmentation.bytes"]
    assert len(keys) == 32 and stats["keys.count"] == 1
    assert stats["peak.allocated"] >= stats["total.allocated"] > 0
    assert r.execute_command("MEMORY", "MALLOC-STATS") == b"Stats not supported for the current allocator"
    assert r.execute_command("MEMORY", "PURGE") == b"OK"
    report = r.execute_command("MEMORY", "DOCTOR")
    assert report.startswith((b"Hi Sam, ", b"Sam, I detected a few issues")) and report.endswith(b"\n")
    with pytest.raises(redis.ResponseError, match="^unknown subcommand 'NOPE'. Try MEMORY HELP.$"):
        r.execute_command("MEMORY", "NOPE")
    with pytest.raises(redis.ResponseError, match="^wrong number of arguments for 'memory|stats' command$"):
        r.execute_command("MEMORY", "STATS", "x")
