"""maxmemory and eviction (keyspace/eviction.py): every policy, OOM, the signals an evicted
key sends (keyspace events, WATCH, client-side caching, propagation), LRU/LFU data."""
from __future__ import annotations

import socket
import time

import pytest
import redis

from pykey.keyspace.eviction import EVICT_FAIL, _Sampler

OOM = "command not allowed when used memory > 'maxmemory'."     # redis-py drops the "OOM "
VALUE = b"v" * 10_000           # big enough that every key is well above the measure's noise
# For the tests that count evictions: memory the test process allocates elsewhere meanwhile
# (other threads, the collector) must stay a small fraction of one key.
BIG = b"v" * 100_000


def _client(srv, **kw) -> redis.Redis:
    return redis.Redis(host=srv.host, port=srv.port, socket_timeout=10, **kw)


def _used(r: redis.Redis) -> int:
    info = r.info("memory")
    return info["used_memory"] - info["mem_not_counted_for_evict"]


def _fill(r: redis.Redis, prefix: str, n: int, ttl: int | None = None) -> list[str]:
    keys = [f"{prefix}:{i}" for i in range(n)]
    for start in range(0, n, 10):            # small batches: a big query buffer counts too
        pipe = r.pipeline(transaction=False)
        for k in keys[start:start + 10]:
            if ttl is None:
                pipe.set(k, VALUE)
            else:
                pipe.set(k, VALUE, ex=ttl)
        pipe.execute()
    return keys


def _limit(r: redis.Redis, policy: str, headroom: int, **config: object) -> int:
    """Set ``policy`` and maxmemory = what the server uses now + ``headroom``."""
    for name, value in config.items():
        r.config_set(name.replace("_", "-"), value)
    r.config_set("maxmemory-policy", policy)
    limit = _used(r) + headroom
    r.config_set("maxmemory", limit)
    return limit


def _squeeze(srv, by: int) -> int:
    """In the embedded server's own thread (so nothing the test allocates meanwhile counts):
    set maxmemory ``by`` bytes under the current reading, evict down to it, lift the limit.
    Returns how many keys were evicted."""
    def run() -> int:
        e = srv.engine
        before = e.stat_evictedkeys
        target = e.memory.refresh() - by
        e.config.set_many([(b"maxmemory", b"%d" % target)], True)
        while e.memory.used() > target and e.evictor.perform() != EVICT_FAIL:
            pass
        e.config.set_many([(b"maxmemory", b"0")], True)
        return e.stat_evictedkeys - before
    return srv.call(run)


# ---------------------------------------------------------------------- OOM
def test_noeviction_refuses_denyoom_commands_but_serves_reads(pykey_factory):
    srv = pykey_factory()
    r = _client(srv)
    r.set("k", "v")
    r.rpush("l", "a")
    r.config_set("maxmemory", 1)
    try:
        with pytest.raises(redis.exceptions.OutOfMemoryError) as e:
            r.set("k2", "v")
        assert str(e.value) == OOM
        with socket.create_connection((srv.host, srv.port), timeout=5) as s:
            s.sendall(b"RPUSH l b\r\n")
            assert _read_until(s, b"\r\n") == b"-OOM " + OOM.encode() + b"\r\n"
        assert r.get("k") == b"v" and r.lrange("l", 0, -1) == [b"a"]
        assert r.lpop("l") == b"a"              # not deny-oom: memory only shrinks
        assert r.delete("k") == 1
        assert r.info("stats")["evicted_keys"] == 0
        assert r.info("errorstats")["errorstat_OOM"]["count"] == 2
    finally:
        r.config_set("maxmemory", 0)
    assert r.set("k2", "v")


def test_exec_with_a_denyoom_command_is_aborted_read_only_exec_runs(pykey_factory):
    srv = pykey_factory()
    r, other = _client(srv), _client(srv)
    r.set("x", "value")
    try:
        with socket.create_connection((srv.host, srv.port), timeout=5) as s:
            s.sendall(b"MULTI\r\nSET x 1\r\nGET x\r\n")
            _read_until(s, b"+QUEUED\r\n+QUEUED\r\n")
            other.config_set("maxmemory", 1)    # over the limit once queued: EXEC decides
            s.sendall(b"EXEC\r\nMULTI\r\nGET x\r\nPING\r\nEXEC\r\n")
            got = _read_until(s, b"+PONG\r\n")
        assert got == (b"-EXECABORT Transaction discarded because of: OOM " + OOM.encode() + b"\r\n"
                       b"+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n$5\r\nvalue\r\n+PONG\r\n")
        assert r.get("x") == b"value"
    finally:
        other.config_set("maxmemory", 0)


def test_scripts_obey_oom_by_their_flags(pykey_factory):
    srv = pykey_factory()
    r = _client(srv)
    r.set("k", "v")
    r.config_set("maxmemory", 1)
    try:
        with pytest.raises(redis.exceptions.OutOfMemoryError, match="^" + OOM):
            r.eval("return redis.call('set', KEYS[1], 'x')", 1, "k")      # the first write
        assert r.eval("return redis.call('get', KEYS[1])", 1, "k") == b"v"
        with pytest.raises(redis.exceptions.OutOfMemoryError, match="^" + OOM):
            r.eval("#!lua\nreturn redis.call('get', KEYS[1])", 1, "k")     # may write: denied
        assert r.eval("#!lua flags=no-writes\nreturn redis.call('get', KEYS[1])", 1, "k") == b"v"
        assert r.eval("#!lua flags=allow-oom\nreturn redis.call('set', KEYS[1], 'y')", 1, "k") == b"OK"
    finally:
        r.config_set("maxmemory", 0)


# ---------------------------------------------------------------------- policies
@pytest.mark.parametrize("policy", ["allkeys-lru", "allkeys-lfu", "allkeys-random"])
def test_allkeys_policies_keep_memory_under_the_limit(pr, policy):
    limit = _limit(pr, policy, 1_000_000)
    _fill(pr, "k", 300)                                  # ~3.3 MB into ~1 MB of room
    assert pr.dbsize() < 150
    assert pr.info("stats")["evicted_keys"] == 300 - pr.dbsize()
    assert _used(pr) <= limit + 100_000
    assert pr.set("one-more", VALUE)                     # never OOM while keys can go


@pytest.mark.parametrize("policy", ["volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"])
def test_volatile_policies_evict_only_keys_with_a_ttl(pr, policy):
    _limit(pr, policy, 2_000_000)
    persistent = _fill(pr, "keep", 60)
    _fill(pr, "vol", 300, ttl=1000)
    assert pr.exists(*persistent) == 60
    assert 0 < pr.info("keyspace")["db0"]["expires"] < 300
    # once no key with a TTL is left, nothing can be evicted: deny-oom commands fail
    with pytest.raises(redis.exceptions.OutOfMemoryError):
        _fill(pr, "more", 300)
    assert pr.exists(*persistent) == 60
    assert pr.info("keyspace")["db0"].get("expires", 0) == 0
    assert pr.get("keep:0") == VALUE


def test_volatile_ttl_evicts_the_soonest_to_expire(pykey_factory):
    srv = pykey_factory("--maxmemory-policy", "volatile-ttl", "--maxmemory-samples", "64")
    r = _client(srv)
    for i in range(60):
        r.set(f"k:{i}", VALUE, ex=1000 + i * 10)        # k:0 expires first
    evicted = _squeeze(srv, 200_000)
    left = sorted(int(k.split(b":")[1]) for k in r.keys("k:*"))
    assert 10 <= evicted == 60 - len(left) <= 40
    # 64 samples see all 60 keys: exactly the soonest ones went
    assert left == list(range(evicted, 60))


def test_lru_keeps_recently_used_keys(pykey_factory):
    srv = pykey_factory("--maxmemory-policy", "allkeys-lru", "--maxmemory-samples", "10")
    r = _client(srv)
    old = [f"old:{i}" for i in range(100)]
    new = [f"new:{i}" for i in range(100)]
    for k in old:
        r.set(k, BIG)
    srv.advance(60_000)                                  # a minute later
    for k in new:
        r.set(k, BIG)
    srv.advance(30_000)
    for k in new:
        r.strlen(k)                                      # and used again
    evicted = _squeeze(srv, 10_000_000)                   # about 100 keys must go
    assert 80 <= evicted <= 105, evicted
    # Valkey's approximation (10 samples, a pool of 16): the old keys go first; the last
    # few old keys may be missed by the samples (0-5 new keys evicted in 25 runs, 6 once)
    assert r.exists(*new) >= 90
    assert r.exists(*old) <= 100 - (evicted - 10)


def test_lfu_keeps_frequently_used_keys(pykey_factory):
    srv = pykey_factory("--maxmemory-policy", "allkeys-lfu", "--lfu-log-factor", "0",
                        "--maxmemory-samples", "10")
    r = _client(srv)
    cold = [f"cold:{i}" for i in range(100)]
    hot = [f"hot:{i}" for i in range(100)]
    for k in cold + hot:
        r.set(k, BIG)
    for _ in range(20):
        for k in hot:
            r.strlen(k)
    assert r.object("freq", "hot:0") == 25 and r.object("freq", "cold:0") == 5
    evicted = _squeeze(srv, 6_000_000)                     # about 60 keys must go
    assert 40 <= evicted <= 80, evicted
    assert r.exists(*hot) == 100
    assert r.exists(*cold) == 100 - evicted


def test_random_policy_visits_every_database(pr, process_port):
    _limit(pr, "allkeys-random", 1_000_000)
    r1 = redis.Redis(host="127.0.0.1", port=process_port, db=1, socket_timeout=10)
    _fill(pr, "a", 60)
    _fill(r1, "b", 120)
    assert pr.dbsize() < 60 and r1.dbsize() < 120
    r1.flushdb()


# ---------------------------------------------------------------------- LRU / LFU data
def test_object_freq_is_valkeys_logarithmic_counter(pykey_factory):
    srv = pykey_factory("--maxmemory-policy", "allkeys-lfu")
    r = _client(srv)
    r.set("k", "v")
    assert r.object("freq", "k") == 5                    # LFU_INIT_VAL for a new key
    for _ in range(200):
        r.get("k")
    freq = r.object("freq", "k")
    assert 8 <= freq <= 30                               # log factor 10: slow growth
    r.config_set("lfu-log-factor", 0)
    r.get("k")
    assert r.object("freq", "k") == freq + 1             # factor 0: every access counts
    srv.advance(3 * 60_000)                              # lfu-decay-time 1: -1 a minute
    assert r.object("freq", "k") == freq + 1 - 3
    r.config_set("lfu-decay-time", 0)
    assert r.object("freq", "k") == freq + 1             # no decay at all
    r.restore("r", 0, r.dump("k"), replace=True, frequency=100)
    assert r.object("freq", "r") == 100
    with pytest.raises(redis.ResponseError, match="An LFU maxmemory policy is selected"):
        r.object("idletime", "k")


def test_object_idletime_under_lru(pykey_factory):
    srv = pykey_factory("--maxmemory-policy", "volatile-lru")
    r = _client(srv)
    r.set("k", "v")
    srv.advance(5000)
    assert r.object("idletime", "k") == 5
    r.ttl("k")                                           # TTL does not touch the key
    assert r.object("idletime", "k") == 5
    r.get("k")
    assert r.object("idletime", "k") == 0
    srv.advance(3000)
    r.execute_command("CLIENT", "NO-TOUCH", "on")
    r.get("k")
    assert r.object("idletime", "k") == 3                # a no-touch client leaves it
    r.touch("k")                                         # except for TOUCH itself
    assert r.object("idletime", "k") == 0
    with pytest.raises(redis.ResponseError, match="An LFU maxmemory policy is not selected"):
        r.object("freq", "k")


def test_shared_integers_only_without_maxmemory_and_lru(pykey_factory):
    srv = pykey_factory("--maxmemory-policy", "allkeys-lru")
    r = _client(srv)
    r.set("a", 1)
    assert r.object("refcount", "a") > 1                 # maxmemory 0: shared
    r.config_set("maxmemory", 1 << 30)
    assert r.object("refcount", "a") == 1
    r.config_set("maxmemory-policy", "allkeys-random")
    assert r.object("refcount", "a") > 1


def test_policy_switch_keeps_access_data_only_while_needed(pykey_factory):
    srv = pykey_factory()
    r = _client(srv)
    r.set("k", "v")
    r.get("k")
    assert srv.engine.dbs[0].access == {}               # noeviction: no per-key data
    r.config_set("maxmemory-policy", "allkeys-lru")
    r.get("k")
    assert list(srv.engine.dbs[0].access) == [b"k"]
    r.config_set("maxmemory-policy", "allkeys-random")
    assert srv.engine.dbs[0].access == {}


# ---------------------------------------------------------------------- what an eviction signals
def test_evicted_keyspace_events(pykey_factory):
    srv = pykey_factory("--maxmemory-policy", "allkeys-lru", "--notify-keyspace-events", "KEe")
    r = _client(srv)
    p = r.pubsub()
    p.psubscribe("*")
    assert p.get_message(timeout=1)["type"] == "psubscribe"
    r.set("foo", "bar")
    r.config_set("maxmemory", 1)
    try:
        got = [p.get_message(timeout=2) for _ in range(2)]
        assert [(m["channel"], m["data"]) for m in got] == [
            (b"__keyspace@0__:foo", b"evicted"), (b"__keyevent@0__:evicted", b"foo")]
        assert r.dbsize() == 0 and r.info("stats")["evicted_keys"] == 1
    finally:
        r.config_set("maxmemory", 0)
        p.close()


def test_watch_is_broken_by_eviction(pykey_factory):
    srv = pykey_factory("--maxmemory-policy", "allkeys-random")
    r, other = _client(srv), _client(srv)
    r.set("watched", "v")
    with r.pipeline() as pipe:
        pipe.watch("watched")
        other.config_set("maxmemory", 1)
        deadline = time.time() + 5
        while other.dbsize() and time.time() < deadline:
            time.sleep(0.01)
        other.config_set("maxmemory", 0)
        pipe.multi()
        pipe.get("watched")
        with pytest.raises(redis.WatchError):
            pipe.execute()


def _resp3(host: str, port: int) -> socket.socket:
    s = socket.create_connection((host, port), timeout=5)
    s.sendall(b"HELLO 3\r\nCLIENT TRACKING on\r\n")
    _read_until(s, b"+OK\r\n")
    return s


def _read_until(s: socket.socket, end: bytes) -> bytes:
    buf = b""
    while not buf.endswith(end):
        chunk = s.recv(65536)
        assert chunk, "connection closed"
        buf += chunk
    return buf


def test_tracking_invalidation_precedes_the_reply_of_the_command_that_evicted(pr, process_port):
    r = pr
    s = _resp3("127.0.0.1", process_port)
    r.set("cached", "x", ex=1000)
    s.sendall(b"GET cached\r\n")
    assert _read_until(s, b"x\r\n") == b"$1\r\nx\r\n"
    r.config_set("maxmemory-policy", "volatile-random")
    r.config_set("maxmemory", _used(r) + 100_000)
    r.setrange("big", 400_000, "x")          # a small command making a big string: over
    s.sendall(b"GETBIT big 0\r\n")           # the eviction before it invalidates "cached"
    assert _read_until(s, b":0\r\n") == b">2\r\n$10\r\ninvalidate\r\n*1\r\n$6\r\ncached\r\n:0\r\n"
    r.config_set("maxmemory", 0)
    s.close()


def test_evictions_propagate_as_unlink_or_del(pykey_factory):
    srv = pykey_factory("--maxmemory-policy", "allkeys-lru")
    r = _client(srv)
    seen: list[list[bytes]] = []
    srv.call(lambda: srv.engine.propagate_sinks.append(lambda dbid, argv: seen.append(argv)))
    r.set("a", "1")
    r.config_set("maxmemory", 1)
    r.config_set("maxmemory", 0)
    r.config_set("lazyfree-lazy-eviction", "no")
    r.set("b", "2")
    r.config_set("maxmemory", 1)
    r.config_set("maxmemory", 0)
    assert [x for x in seen if x[0] in (b"UNLINK", b"DEL")] == [[b"UNLINK", b"a"], [b"DEL", b"b"]]


# ---------------------------------------------------------------------- CONFIG SET, INFO, tenacity
def test_config_set_maxmemory_below_usage_evicts_at_once(pr):
    pr.config_set("maxmemory-policy", "allkeys-lru")
    _fill(pr, "k", 200)
    target = _used(pr) - 1_000_000
    pr.config_set("maxmemory", target)                   # evicts right after its reply
    deadline = time.time() + 5
    while _used(pr) > target and time.time() < deadline:
        time.sleep(0.01)
    assert 80 <= pr.info("stats")["evicted_keys"] <= 140


def test_config_set_maxmemory_below_usage_logs_valkeys_warning(pykey_factory, capfd):
    srv = pykey_factory("--maxmemory-policy", "allkeys-lru")
    r = _client(srv)
    r.set("k", "v")
    r.config_set("maxmemory", 1)
    r.config_set("maxmemory", 0)
    out = capfd.readouterr().out
    assert "# WARNING: the new maxmemory value set via CONFIG SET (1) is smaller than the current memory usage (" in out
    assert "This will result in key eviction and/or the inability to accept new write commands depending " \
           "on the maxmemory-policy." in out


def test_zero_tenacity_keeps_evicting_from_a_timer(pr):
    pr.config_set("maxmemory-policy", "allkeys-random")
    pr.config_set("maxmemory-eviction-tenacity", 0)
    try:
        _fill(pr, "k", 200)
        pr.config_set("maxmemory", _used(pr) - 1_500_000)    # 16 keys a run, then the timer
        deadline = time.time() + 5
        while pr.dbsize() > 100 and time.time() < deadline:
            time.sleep(0.01)
        assert pr.dbsize() <= 100
    finally:
        pr.config_set("maxmemory-eviction-tenacity", 10)


def test_info_eviction_fields_and_resetstat(pr):
    _limit(pr, "allkeys-lru", 500_000)
    _fill(pr, "k", 100)
    mem = pr.info("memory")
    assert mem["maxmemory_policy"] == "allkeys-lru" and mem["maxmemory"] > 0
    assert mem["maxmemory_human"].endswith("M")
    stats = pr.info("stats")
    assert stats["evicted_keys"] > 0
    assert stats["total_eviction_exceeded_time"] >= stats["current_eviction_exceeded_time"] >= 0
    pr.config_resetstat()
    assert pr.info("stats")["evicted_keys"] == 0


def test_pause_write_stops_evictions(pykey_factory):
    srv = pykey_factory("--maxmemory-policy", "allkeys-lru")
    r = _client(srv)
    r.set("k", "v")
    r.client_pause(10_000, all=False)
    try:
        r.config_set("maxmemory", 1)
        time.sleep(0.05)
        assert r.dbsize() == 1                      # eviction is paused with writes
    finally:
        r.client_unpause()
    deadline = time.time() + 5
    while r.dbsize() and time.time() < deadline:
        r.ping()                                    # the next command evicts
    assert r.dbsize() == 0
    r.config_set("maxmemory", 0)


# ---------------------------------------------------------------------- the sampler
def test_sampler_returns_live_keys_and_forgets_evicted_ones():
    d = {b"k%d" % i: i for i in range(1000)}
    s = _Sampler()
    got = s.sample(d, 5)
    assert len(got) == 5 and len({k for k, _ in got}) == 5
    key, i = got[0]
    del d[key]
    s.forget(key, i)
    assert s.keys[i] is None                         # the snapshot no longer holds it
    for k in list(d)[:300]:
        del d[k]
    for _ in range(40):                              # misses make it take a new snapshot
        for k, _ in s.sample(d, 5):
            assert k in d
    assert len(s.keys) == len(d)
    small = {b"a": 1, b"b": 2}
    assert sorted(k for k, _ in s.sample(small, 5)) == [b"a", b"b"]
