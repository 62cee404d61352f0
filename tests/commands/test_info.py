"""INFO: section selection rules, latencystats, errorstats (with its overflow entry),
commandstats counters and the lazyfree counters."""
from __future__ import annotations

import re

import pytest
import redis


@pytest.fixture
def r(pykey_server):
    """A RESP2 client with raw replies."""
    client = redis.Redis(host=pykey_server.host, port=pykey_server.port, protocol=2, socket_timeout=10)
    pykey_server.reset_clock()
    client.flushall()
    client.config_resetstat()
    yield client
    client.config_set("latency-tracking", "yes")
    client.config_set("latency-tracking-info-percentiles", "50 99 99.9")
    client.close()


def _info(r: redis.Redis, *sections: str) -> str:
    """INFO's text as sent (redis-py's INFO callback would parse it)."""
    conn = r.connection_pool.get_connection()
    try:
        conn.send_command("INFO", *sections)
        return conn.read_response().decode()
    finally:
        r.connection_pool.release(conn)


def _field(r: redis.Redis, section: str, name: str) -> str | None:
    m = re.search(rf"^{re.escape(name)}:(.*)\r$", _info(r, section), re.M)
    return m.group(1) if m else None


def _titles(text: str) -> list[str]:
    return re.findall(r"^# (\w+)\r$", text, re.M)


# ------------------------------------------------------------------ section rules
_DEFAULT = ["Server", "Clients", "Memory", "Persistence", "Stats", "Replication", "CPU", "Modules",
            "Errorstats", "Cluster", "Keyspace"]
_ALL = ["Server", "Clients", "Memory", "Persistence", "Stats", "Replication", "CPU", "Modules",
        "Commandstats", "Errorstats", "Latencystats", "Cluster", "Keyspace"]


def test_default_all_everything(r):
    assert _titles(_info(r)) == _DEFAULT
    assert _titles(_info(r, "default")) == _DEFAULT
    assert _titles(_info(r, "all")) == _ALL
    assert _titles(_info(r, "everything")) == _ALL


def test_several_sections_in_valkeys_order_once_each(r):
    assert _titles(_info(r, "keyspace", "CPU", "cpu", "server")) == ["Server", "CPU", "Keyspace"]
    assert _titles(_info(r, "cpu", "all")) == _ALL
    assert _titles(_info(r, "cpu", "default")) == _DEFAULT
    assert _titles(_info(r, "commandSTATS", "latencystats")) == ["Commandstats", "Latencystats"]
    assert _titles(_info(r, "modules")) == ["Modules"]
    assert _info(r, "sentinel") == "" and _info(r, "nosuch", "debug-nope") == ""


def test_sections_are_separated_by_one_empty_line(r):
    text = _info(r, "cpu", "cluster")
    assert re.fullmatch(r"# CPU\r\n(\w+:[^\r]*\r\n)+\r\n# Cluster\r\ncluster_enabled:0\r\n", text)


# ------------------------------------------------------------------ latencystats
def _pcts(r: redis.Redis, cmd: str) -> str | None:
    return _field(r, "latencystats", f"latency_percentiles_usec_{cmd}")


def test_latencystats_lines(r):
    r.set("a", "b")
    r.execute_command("CLIENT", "ID")
    line = _pcts(r, "set")
    assert re.fullmatch(r"p50=\d+\.\d{3},p99=\d+\.\d{3},p99\.9=\d+\.\d{3}", line)
    assert _pcts(r, "client|id") is not None and _pcts(r, "client") is None
    assert _pcts(r, "get") is None


def test_latencystats_percentile_config(r):
    r.set("a", "b")
    r.config_set("latency-tracking-info-percentiles", "0.0 50.0 100.0")
    assert r.config_get("latency-tracking-info-percentiles") == {"latency-tracking-info-percentiles": "0 50 100"}
    assert re.fullmatch(r"p0=[\d.]+,p50=[\d.]+,p100=[\d.]+", _pcts(r, "set"))
    r.config_set("latency-tracking-info-percentiles", "99.99")
    assert re.fullmatch(r"p99\.99=[\d.]+", _pcts(r, "set"))
    r.config_set("latency-tracking-info-percentiles", "")
    assert r.config_get("latency-tracking-info-percentiles") == {"latency-tracking-info-percentiles": ""}
    assert _pcts(r, "set") == ""


@pytest.mark.parametrize("value, why", [
    ("10.0 50.0 a", "Invalid latency-tracking-info-percentiles parameters"),
    ("10.0 50.0 101.0", "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"),
    ("-1", "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"),
])
def test_latencystats_bad_percentiles(r, value, why):
    with pytest.raises(redis.ResponseError) as e:
        r.config_set("latency-tracking-info-percentiles", value)
    assert str(e.value) == ("CONFIG SET failed (possibly related to argument "
                            f"'latency-tracking-info-percentiles') - {why}")
    assert r.config_get("latency-tracking-info-percentiles") == {"latency-tracking-info-percentiles": "50 99 99.9"}
    assert _field(r, "stats", "total_error_replies") == "1"


def test_latencystats_tracking_off_and_resetstat(r):
    r.config_set("latency-tracking", "no")
    r.set("a", "b")
    assert _info(r, "latencystats") == "# Latencystats\r\n"
    r.config_set("latency-tracking", "yes")
    r.set("a", "b")
    assert _pcts(r, "set") is not None
    r.config_resetstat()
    assert _pcts(r, "set") is None
    assert _pcts(r, "config|resetstat") is not None


def test_latencystats_measure(r):
    r.execute_command("DEBUG", "SLEEP", "0.05")
    r.config_set("latency-tracking-info-percentiles", "50")
    p50 = float(_pcts(r, "debug").split("=")[1])
    assert p50 >= 50000


# ------------------------------------------------------------------ errorstats, commandstats
def _cmdstat(r: redis.Redis, cmd: str) -> str | None:
    return _field(r, "commandstats", f"cmdstat_{cmd}")


def test_errorstats_rejected_and_failed(r):
    with pytest.raises(redis.ResponseError):
        r.execute_command("SET", "k")                       # arity: rejected
    with pytest.raises(redis.ResponseError):
        r.execute_command("INCR", "k", "x")
    r.set("s", "x")
    with pytest.raises(redis.ResponseError):
        r.execute_command("INCR", "s")                      # failed
    with pytest.raises(redis.ResponseError):
        r.execute_command("LPUSH", "s", "x")                # WRONGTYPE
    assert re.fullmatch(r"calls=1,usec=\d+,usec_per_call=[\d.]+,rejected_calls=1,failed_calls=0",
                        _cmdstat(r, "set"))
    assert _cmdstat(r, "incr").endswith(",rejected_calls=1,failed_calls=1")
    assert _field(r, "errorstats", "errorstat_ERR") == "count=3"
    assert _field(r, "errorstats", "errorstat_WRONGTYPE") == "count=1"
    assert _field(r, "stats", "total_error_replies") == "4"
    r.config_resetstat()
    assert _info(r, "errorstats") == "# Errorstats\r\n"


def test_errorstats_overflow_of_script_error_codes(r):
    for j in range(1, 131):
        with pytest.raises(redis.ResponseError):
            r.eval(f"return redis.error_reply('E{j} my error')", 0)
    assert _field(r, "errorstats", "errorstat_ERRORSTATS_OVERFLOW") == "count=2"
    assert _field(r, "errorstats", "errorstat_E128") == "count=1"
    assert _field(r, "errorstats", "errorstat_E129") is None
    with pytest.raises(redis.ResponseError):
        r.eval("return redis.error_reply('E1 again')", 0)       # a code already counted goes on
    assert _field(r, "errorstats", "errorstat_E1") == "count=2"
    with pytest.raises(redis.ResponseError):
        r.execute_command("SET", "a", "b", "c", "d", "e")       # the server's own codes always count
    assert _field(r, "errorstats", "errorstat_ERR") == "count=1"
    assert len(re.findall(r"^errorstat_", _info(r, "errorstats"), re.M)) == 130


# ------------------------------------------------------------------ other stats
def test_expire_cycle_time_is_reported(r):
    assert re.fullmatch(r"\d+", _field(r, "stats", "expire_cycle_cpu_milliseconds"))


# ------------------------------------------------------------------ lazyfree counters
def _lazy(r: redis.Redis) -> tuple[int, int]:
    return (int(_field(r, "memory", "lazyfree_pending_objects")),
            int(_field(r, "memory", "lazyfreed_objects")))


def test_unlink_of_big_values_counts(r):
    r.hset("big", mapping={f"f{i}": "v" for i in range(200)})       # a hash table: 200 allocations
    r.hset("small", mapping={f"f{i}": "v" for i in range(10)})       # a listpack: one
    r.sadd("bigset", *range(500))                                   # an intset: one
    r.zadd("bigz", {f"m{i}": i for i in range(100)})                # a listpack (128 at most): one
    r.set("str", "x" * 100000)
    assert r.unlink("big", "small", "bigset", "bigz", "str") == 5
    assert _lazy(r) == (0, 1)
    r.config_set("zset-max-listpack-entries", 16)
    try:
        r.zadd("bigz", {f"m{i}": i for i in range(100)})
        r.unlink("bigz")
        assert _lazy(r) == (0, 2)
    finally:
        r.config_set("zset-max-listpack-entries", 128)


def test_del_follows_lazyfree_lazy_user_del(r):
    r.sadd("s", *(f"m{i}" for i in range(200)))
    r.config_set("lazyfree-lazy-user-del", "no")
    try:
        r.delete("s")
        assert _lazy(r) == (0, 0)
        r.sadd("s", *(f"m{i}" for i in range(200)))
        r.unlink("s")                                   # UNLINK is always lazy
        assert _lazy(r) == (0, 1)
    finally:
        r.config_set("lazyfree-lazy-user-del", "yes")
    r.sadd("s", *(f"m{i}" for i in range(200)))
    r.delete("s")
    assert _lazy(r) == (0, 2)


def test_flush_async_counts_every_key(r):
    for i in range(5):
        r.set(f"k{i}", "v")
    r.execute_command("SELECT", 1)
    r.set("other", "v")
    r.execute_command("SELECT", 0)
    r.execute_command("FLUSHDB", "SYNC")
    assert _lazy(r) == (0, 0)
    r.set("a", "1")
    r.execute_command("FLUSHDB", "ASYNC")
    assert _lazy(r) == (0, 1)
    r.set("a", "1")
    r.execute_command("FLUSHALL")           # lazyfree-lazy-user-flush yes: asynchronous
    assert _lazy(r) == (0, 3)
    r.config_resetstat()
    assert _lazy(r) == (0, 0)


def test_stream_free_effort(r):
    r.config_set("stream-node-max-entries", 5)
    try:
        for j in range(400):
            r.xadd("stream", {"foo": j})
        r.xadd("tiny", {"a": "b"})
        r.xgroup_create("tiny", "g", "$")
        r.xgroup_destroy("tiny", "g")
        r.unlink("tiny")
        assert _lazy(r) == (0, 0)
        r.xgroup_create("stream", "mygroup", "0")
        r.xreadgroup("mygroup", "Alice", {"stream": ">"}, count=2)
        r.unlink("stream")
        assert _lazy(r) == (0, 1)
    finally:
        r.config_set("stream-node-max-entries", 100)


def test_big_quicklist_counts_small_list_does_not(r):
    r.rpush("big", *(b"x" * 1000 for _ in range(600)))     # ~75 nodes of 8 KB
    r.rpush("mid", *(b"x" * 1000 for _ in range(100)))     # ~13 nodes
    assert r.object("encoding", "big") == b"quicklist"
    r.unlink("mid")
    assert _lazy(r) == (0, 0)
    r.unlink("big")
    assert _lazy(r) == (0, 1)


def test_expired_big_value_counts(pykey_server, r):
    r.hset("h", mapping={f"f{i}": "v" for i in range(200)})
    r.pexpire("h", 10)
    pykey_server.advance(50)
    assert r.exists("h") == 0
    assert _lazy(r) == (0, 1)
