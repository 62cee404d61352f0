"""used_memory (engine/memory.py): an allocator reading that follows the data both ways,
which the resident size (what pykey reported before) does not."""
from __future__ import annotations

import time

import redis

from pykey.engine.client import Client
from pykey.engine.memory import key_size, malloc_stats, pymalloc_stats

VALUE = b"v" * 10_000


def _client(srv) -> redis.Redis:
    return redis.Redis(host=srv.host, port=srv.port, socket_timeout=10)


def test_used_memory_follows_writes_and_deletes(pr):
    before = pr.info("memory")["used_memory"]
    for start in range(0, 500, 10):
        pipe = pr.pipeline(transaction=False)
        for i in range(start, start + 10):
            pipe.set(f"k:{i}", VALUE)
        pipe.execute()
    grown = pr.info("memory")["used_memory"]
    assert 4_500_000 < grown - before < 6_000_000            # 500 x 10 KB
    time.sleep(0.01)
    pr.delete(*[f"k:{i}" for i in range(500)])
    after = pr.info("memory")["used_memory"]
    assert grown - after > 4_500_000                         # RSS would not move
    assert pr.info("memory")["used_memory_peak"] >= grown


def test_estimate_between_readings_tracks_small_keys(pykey_factory):
    """With maxmemory set, the figure eviction compares is estimated between exact readings:
    it stays close to a fresh reading, for 20,000 small keys written, then half deleted
    (all in the server's thread: nothing the test allocates counts)."""
    srv = pykey_factory("--maxmemory", "4gb")

    def run() -> tuple[int, int, int, int, int]:
        e = srv.engine
        c = Client(e)
        meter = e.memory
        start = meter.refresh()
        for i in range(20_000):
            e.execute(c, [b"SET", b"key:%012d" % i, b"value-%04d" % i])
        estimate = meter.used()
        exact = meter.refresh()
        for i in range(10_000):
            e.execute(c, [b"DEL", b"key:%012d" % i])
        return start, estimate, exact, meter.used(), meter.refresh()

    start, estimate, exact, estimate2, exact2 = srv.call(run)
    assert abs(estimate - exact) < 0.1 * (exact - start)
    assert abs(estimate2 - exact2) < 0.2 * (exact - exact2)
    assert exact - exact2 > 0.25 * (exact - start)           # deleting half gives memory back


def test_info_memory_fields(pykey_factory):
    # an embedded server's used_memory is the whole test process's: leave it room
    srv = pykey_factory("--maxmemory", "100gb", "--maxmemory-policy", "allkeys-lfu")
    r = _client(srv)
    r.set("k", VALUE)
    m = r.info("memory")
    for field in ("used_memory", "used_memory_rss", "used_memory_peak", "used_memory_overhead",
                  "used_memory_startup", "used_memory_dataset", "allocator_allocated",
                  "allocator_active", "allocator_resident", "mem_not_counted_for_evict",
                  "mem_clients_normal", "mem_fragmentation_bytes"):
        assert isinstance(m[field], int), field
    assert m["used_memory_human"].endswith(("K", "M", "G"))
    assert m["maxmemory"] == 100 * 1024**3 and m["maxmemory_human"] == "100.00G"
    assert m["maxmemory_policy"] == "allkeys-lfu"
    assert m["used_memory_peak"] >= m["used_memory"] > m["used_memory_startup"] > 0
    assert m["used_memory_dataset"] + m["used_memory_overhead"] == m["used_memory"]
    assert m["allocator_allocated"] <= m["allocator_active"]
    assert m["mem_not_counted_for_evict"] == 0


def test_allocator_readings_and_key_size():
    pym, mal = pymalloc_stats(), malloc_stats()
    assert pym is not None and mal is not None               # CPython with pymalloc, glibc
    assert 0 < pym[0] <= pym[1] and 0 < mal[0] <= mal[1]
    assert key_size(b"k", b"x" * 1000) >= 1000
    assert key_size(b"k", {b"f%d" % i: b"v" for i in range(100)}) > key_size(b"k", {b"f": b"v"})
