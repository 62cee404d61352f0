"""LATENCY (monitor events, GRAPH, DOCTOR, HISTOGRAM), latency-tracking and the monitor's
event hooks (engine/latency.py, commands/latency.py)."""
from __future__ import annotations

import itertools
import time

import pytest
import redis

from pykey.engine import latency, registry
from pykey.engine.latency import TS_LEN, sparkline
from pykey.testing.raw import raw_reply


@pytest.fixture
def r(pykey_server):
    """A RESP2 client (flat replies whatever redis-py's default protocol is)."""
    client = redis.Redis(host=pykey_server.host, port=pykey_server.port, protocol=2, socket_timeout=10)
    pykey_server.reset_clock()
    client.flushall()
    yield client
    client.close()


@pytest.fixture
def mon(pykey_server, r):
    """The monitor of the session server, on, empty, with a clock the test sets."""
    srv = pykey_server
    clock = {"now": 1_700_000_000}
    r.config_set("latency-monitor-threshold", 100)
    r.execute_command("LATENCY", "RESET")
    srv.engine.latency.now = lambda: clock["now"]
    yield srv, clock
    del srv.engine.latency.now
    r.config_set("latency-monitor-threshold", 0)
    r.execute_command("LATENCY", "RESET")


def _add(srv, event: str, ms: int) -> None:
    srv.call(lambda: srv.engine.latency_add(event, ms))


# ------------------------------------------------------------------ the monitor's events
def test_samples_below_threshold_or_while_off_are_not_recorded(mon, r):
    srv, _ = mon
    _add(srv, "command", 99)
    assert raw_reply(r, "LATENCY", "LATEST") == []
    r.config_set("latency-monitor-threshold", 0)
    _add(srv, "command", 10_000)
    assert raw_reply(r, "LATENCY", "LATEST") == []


def test_latest_history_and_one_sample_a_second(mon, r):
    srv, clock = mon
    _add(srv, "command", 150)
    _add(srv, "command", 300)          # same second: the larger one stays
    _add(srv, "command", 200)
    clock["now"] += 1
    _add(srv, "command", 120)
    _add(srv, "fork", 500)
    t = clock["now"]
    assert raw_reply(r, "LATENCY", "HISTORY", "command") == [[t - 1, 300], [t, 120]]
    assert raw_reply(r, "LATENCY", "LATEST") == [[b"command", t, 120, 300], [b"fork", t, 500, 500]]
    assert raw_reply(r, "LATENCY", "HISTORY", "nosuch") == []
    assert raw_reply(r, "LATENCY", "HISTORY", "COMMAND") == []       # event names are case-sensitive here


def test_history_keeps_the_last_160_seconds(mon, r):
    srv, clock = mon
    start = clock["now"]
    for i in range(TS_LEN + 40):
        clock["now"] = start + i
        _add(srv, "expire-cycle", 100 + i)
    hist = raw_reply(r, "LATENCY", "HISTORY", "expire-cycle")
    assert len(hist) == TS_LEN
    assert hist[0] == [start + 40, 140] and hist[-1] == [start + TS_LEN + 39, 100 + TS_LEN + 39]
    assert raw_reply(r, "LATENCY", "LATEST")[0][3] == 100 + TS_LEN + 39
    srv.call(lambda: srv.engine.latency.events["expire-cycle"].check())


def test_reset_counts_events_and_ignores_case(mon, r):
    srv, _ = mon
    for event in ("command", "fork", "aof-write"):
        _add(srv, event, 100)
    assert raw_reply(r, "LATENCY", "RESET", "FORK", "nosuch") == 1
    assert [e[0] for e in raw_reply(r, "LATENCY", "LATEST")] == [b"command", b"aof-write"]
    assert raw_reply(r, "LATENCY", "RESET") == 2
    assert raw_reply(r, "LATENCY", "LATEST") == []


def test_slow_command_is_a_command_event(mon, r):
    r.config_set("latency-monitor-threshold", 10)
    r.execute_command("DEBUG", "SLEEP", "0.05")
    latest = raw_reply(r, "LATENCY", "LATEST")
    assert latest[0][0] == b"command" and latest[0][2] >= 50


def test_fast_commands_have_their_own_event(mon, r):
    srv, _ = mon
    srv.call(lambda: latency.command_event(srv.engine, registry.COMMANDS[b"get"], 250_000))
    srv.call(lambda: latency.command_event(srv.engine, registry.COMMANDS[b"keys"], 300_000))
    assert [(e[0], e[2]) for e in raw_reply(r, "LATENCY", "LATEST")] == [(b"fast-command", 250), (b"command", 300)]


# ------------------------------------------------------------------ GRAPH
def test_graph_renders_valkeys_sparkline(mon, r):
    srv, clock = mon
    for ms in (110, 120, 140):
        _add(srv, "fork", ms)
        clock["now"] += 1
    graph = raw_reply(r, "LATENCY", "GRAPH", "fork").decode()
    assert graph == ("fork - high 140 ms, low 110 ms (all time high 140 ms)\n" + "-" * 80 + "\n"
                     "  #\n  |\n o|\n_||\n   \n321\nsss\n")


def test_graph_of_unknown_event_is_an_error(mon, r):
    with pytest.raises(redis.ResponseError, match="^No samples available for event 'nosuch'$"):
        raw_reply(r, "LATENCY", "GRAPH", "nosuch")


def test_graph_labels_minutes_hours_days(mon, r):
    srv, clock = mon
    for back in (86400 * 2, 7200, 120, 5):
        clock["now"] -= back
        _add(srv, "aof-fstat", 100)
        clock["now"] += back
    lines = raw_reply(r, "LATENCY", "GRAPH", "aof-fstat").decode().split("\n")
    assert lines[2:6] == ["    "] * 3 + ["____"]           # equal values: the lowest level
    assert lines[7:9] == ["2225", "dhms"]


def test_sparkline_wraps_every_80_samples():
    samples = [(float(i % 7), None) for i in range(81)]
    out = sparkline(samples, 80, 4)
    blocks = out.split("\n\n")
    assert len(blocks) == 2
    assert [len(line) for line in blocks[0].split("\n")] == [80] * 4
    assert blocks[1].rstrip("\n").split("\n") == [" ", "_", "|", "|"]    # 80 % 7 == 3: step 6 of 12


def test_sparkline_without_fill_uses_the_plain_charset():
    assert sparkline([(0.0, None), (5.0, None), (11.0, None)], 80, 1, fill=False) == "_-`\n"


# ------------------------------------------------------------------ DOCTOR
def test_doctor_when_disabled_and_when_quiet(pykey_server, r):
    r.config_set("latency-monitor-threshold", 0)
    r.execute_command("LATENCY", "RESET")
    text = raw_reply(r, "LATENCY", "DOCTOR").decode()
    assert text.startswith("I'm sorry, Dave, I can't do that. Latency monitoring is disabled")
    r.config_set("latency-monitor-threshold", 100)
    try:
        text = raw_reply(r, "LATENCY", "DOCTOR").decode()
        assert "No latency spike was observed" in text or "Here is some advice for you" in text
    finally:
        r.config_set("latency-monitor-threshold", 0)


def test_doctor_reports_events_and_advice(mon, r):
    srv, clock = mon
    _add(srv, "command", 200)
    clock["now"] += 2
    _add(srv, "command", 400)
    _add(srv, "fork", 150)
    srv.call(lambda: setattr(srv.engine.latency, "fork_rate", 12.5))
    text = raw_reply(r, "LATENCY", "DOCTOR").decode()
    assert text.startswith("Latency spikes are observed in this Valkey instance.\n\n")
    assert ("1. command: 2 latency spikes (average 300ms, mean deviation 100ms, period 1.00 sec). "
            "Worst all time event 400ms.\n") in text
    assert ("2. fork: 1 latency spikes (average 150ms, mean deviation 0ms, period 1.00 sec). "
            "Worst all time event 150ms. Fork rate is 12.50 GB/sec (poor).\n") in text
    assert "\nHere is some advice for you:\n\n- If you are using a virtual machine" in text
    assert "- Check your Slow Log" in text and "fragment those objects" in text
    assert text.index("virtual machine") < text.index("Check your Slow Log") < text.index("fragment")


def test_doctor_asks_for_the_slowlog(mon, r):
    srv, _ = mon
    _add(srv, "command", 200)
    old = r.config_get("slowlog-log-slower-than")["slowlog-log-slower-than"]
    try:
        r.config_set("slowlog-log-slower-than", -1)
        assert "'CONFIG SET slowlog-log-slower-than 100000'" in raw_reply(r, "LATENCY", "DOCTOR").decode()
        r.config_set("slowlog-log-slower-than", 500_000)
        text = raw_reply(r, "LATENCY", "DOCTOR").decode()
        assert "only logs events that are slower than your configured latency monitor threshold" in text
    finally:
        r.config_set("slowlog-log-slower-than", old)


# ------------------------------------------------------------------ HELP and command facts
def test_help_and_arity(r):
    lines = raw_reply(r, "LATENCY", "HELP")
    assert lines[0] == b"LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    assert b"HISTOGRAM [COMMAND ...]" in lines and lines[-2:] == [b"HELP", b"    Print this help."]
    with pytest.raises(redis.ResponseError) as e:
        raw_reply(r, "LATENCY", "HELP", "x")
    assert str(e.value) == "wrong number of arguments for 'latency|help' command"
    with pytest.raises(redis.ResponseError) as e:
        raw_reply(r, "LATENCY", "NOPE")
    assert str(e.value) == "unknown subcommand 'NOPE'. Try LATENCY HELP."
    info = raw_reply(r, "COMMAND", "INFO", "latency|histogram")[0]
    assert info[:2] == [b"latency|histogram", -2]


# ------------------------------------------------------------------ HISTOGRAM
def test_histogram_shapes(r):
    r.config_resetstat()
    assert raw_reply(r, "LATENCY", "HISTOGRAM", "set") == []
    r.set("a", "b")
    r.set("c", "d")
    r.execute_command("CLIENT", "ID")
    reply = raw_reply(r, "LATENCY", "HISTOGRAM", "set", "nosuch", "client", "set")
    assert reply[0] == reply[-2] == b"set" and b"client|id" in reply[2:-2:2]   # a repeated name twice
    entry = reply[1]
    assert entry[:3] == [b"calls", 2, b"histogram_usec"]
    buckets = entry[3]
    assert buckets[-1] == 2 and buckets[-2] in _LABELS
    everything = raw_reply(r, "LATENCY", "HISTOGRAM")
    names = everything[::2]
    assert {b"set", b"client|id", b"config|resetstat"} <= set(names) and b"client" not in names


def test_histogram_resp3_is_a_map(pykey_server):
    r3 = redis.Redis(host=pykey_server.host, port=pykey_server.port, protocol=3, socket_timeout=10)
    try:
        r3.config_resetstat()
        r3.ping()
        reply = raw_reply(r3, "LATENCY", "HISTOGRAM", "ping")
        assert list(reply) == [b"ping"]
        assert reply[b"ping"][b"calls"] == 1 and len(reply[b"ping"][b"histogram_usec"]) == 1
    finally:
        r3.close()


def test_histogram_off_while_tracking_is_disabled(r):
    r.config_resetstat()
    r.config_set("latency-tracking", "no")
    try:
        r.set("a", "b")
        assert raw_reply(r, "LATENCY", "HISTOGRAM", "set") == []
    finally:
        r.config_set("latency-tracking", "yes")
    r.set("a", "b")
    assert raw_reply(r, "LATENCY", "HISTOGRAM", "set")[1][1] == 1


def test_blocked_command_is_counted_when_served(pykey_server, r):
    r.config_resetstat()
    r.delete("q")
    r.lpush("q", "x")
    assert r.blpop(["q"], timeout=1) == (b"q", b"x")
    assert r.blpop(["q"], timeout=0.05) is None           # timed out: counted too
    assert raw_reply(r, "LATENCY", "HISTOGRAM", "blpop")[1][1] == 2


# the bucket labels Valkey shows (µs): each power of two from 1024 ns, its hdr bucket's top
_LABELS = [1, 2, 4, 8, 16, 33, 66, 132, 264, 528, 1056, 2113, 4227, 8454, 16908, 33816, 67633,
           135266, 270532, 541065, 1073741]


def _cmd_with(durations: list[int]) -> registry.Command:
    cmd = registry.Command(name="x", func=None, arity=1, flags=frozenset())
    for dt in durations:
        latency.record(cmd, dt)
    return cmd


def test_hdr_bucket_labels_and_cumulative_counts():
    cmd = _cmd_with([0, 1, 2, 3, 32, 33, 34, 5000, 2_000_000])
    total, buckets = latency.cumulative(cmd)
    assert total == 9
    assert buckets == {1: 2, 2: 3, 4: 4, 33: 6, 66: 7, 8454: 8, 1073741: 9}
    assert all(label in _LABELS for label in buckets)
    every = _cmd_with([2 ** k for k in range(21)])          # 1 µs .. ~1 s
    assert set(latency.cumulative(every)[1]) <= set(_LABELS)


def test_hdr_percentiles_match_valkeys_figures():
    # single durations, as Valkey 8 / Redis 7 print them (2 significant digits of the ns value)
    for dt, shown in ((0, "0.001"), (1, "1.003"), (5, "5.023"), (18, "18.047"), (35, "35.071"),
                      (50, "50.175"), (2_000_000, "1002438.655")):
        assert f"{latency.percentile_usec(_cmd_with([dt]), 50):.3f}" == shown
    cmd = _cmd_with(list(range(1, 101)))
    got = {p: f"{latency.percentile_usec(cmd, p):.3f}" for p in (0, 50, 99, 99.9, 100)}
    assert got == {0: "1.000", 50: "50.175", 99: "99.327", 99.9: "100.351", 100: "100.351"}
    assert latency.info_line("get", cmd, [50.0, 99.0, 99.9]) == \
        "latency_percentiles_usec_get:p50=50.175,p99=99.327,p99.9=100.351\r\n"


def test_slow_and_fast_paths_agree():
    """A duration counted by the call path's inline increment and one counted by record_slow
    land in the same hdr counter."""
    for dt in itertools.chain(range(0, 40), range(1000, 1100), (4096, 65536, 10**6, 10**7)):
        a = _cmd_with([dt])
        b = registry.Command(name="y", func=None, arity=1, flags=frozenset())
        latency.record_slow(b, dt)
        assert latency.cumulative(a) == latency.cumulative(b)


def test_hdr_index_roundtrip():
    for v in itertools.chain(range(1, 3000), (10**6, 10**9, 2 ** 29, 2 ** 30 - 1)):
        i = latency.hdr_index(v)
        lo = latency.hdr_value_at_index(i)
        assert lo <= v <= latency.hdr_highest_equivalent(v)
        assert latency.hdr_highest_equivalent(lo) == latency.hdr_highest_equivalent(v)
        assert latency.hdr_index(latency.hdr_highest_equivalent(v)) == i


# ------------------------------------------------------------------ events from persistence
@pytest.fixture
def slow_clock(monkeypatch):
    """Every reading of the monitor's clock is 10 ms after the previous one."""
    from pykey.keyspace import database
    ticks = itertools.count(10_000_000, 10_000_000)
    monkeypatch.setattr(latency, "_perf_ns", lambda: next(ticks))
    monkeypatch.setattr(database, "_perf_ns", lambda: next(ticks))


def test_aof_events(pykey_factory, tmp_path, slow_clock):
    srv = pykey_factory("--dir", str(tmp_path), "--appendfsync", "always", "--latency-monitor-threshold", "5")
    c = redis.Redis(host=srv.host, port=srv.port, protocol=2, socket_timeout=10)
    try:
        c.config_set("appendonly", "yes")              # a rewrite makes the first base
        for _ in range(500):                             # the parent renames it when the child is done
            if any(e[0] == b"aof-rename" for e in raw_reply(c, "LATENCY", "LATEST")):
                break
            time.sleep(0.02)
        assert b"aof-rename" in {e[0] for e in raw_reply(c, "LATENCY", "LATEST")}
        c.execute_command("LATENCY", "RESET")
        c.set("a", "b")
        events = {e[0] for e in raw_reply(c, "LATENCY", "LATEST")}
        assert {b"aof-write", b"aof-write-alone", b"aof-fsync-always"} <= events
        c.execute_command("LATENCY", "RESET")
        srv.call(srv.engine.aof.sizes)
        assert {e[0] for e in raw_reply(c, "LATENCY", "LATEST")} == {b"aof-fstat"}
    finally:
        c.close()


def test_expire_events(pykey_server, r, slow_clock):
    r.config_set("latency-monitor-threshold", 5)
    r.execute_command("LATENCY", "RESET")
    try:
        r.set("k", "v", px=1)
        pykey_server.advance(10)
        assert r.get("k") is None                        # lazy expiry: "expire-del"
        assert raw_reply(r, "LATENCY", "LATEST")[0][0] == b"expire-del"
    finally:
        r.config_set("latency-monitor-threshold", 0)
        r.execute_command("LATENCY", "RESET")


def test_eviction_events_and_lazy_free(pykey_factory, monkeypatch):
    from pykey.keyspace import eviction
    ticks = itertools.count(10_000_000, 10_000_000)
    monkeypatch.setattr(eviction, "_perf_ns", lambda: next(ticks))
    srv = pykey_factory("--maxmemory-policy", "allkeys-random", "--latency-monitor-threshold", "5")
    c = redis.Redis(host=srv.host, port=srv.port, protocol=2, socket_timeout=10)
    try:
        for i in range(3):
            c.hset(f"h{i}", mapping={f"f{j}": "v" for j in range(200)})
        c.config_set("maxmemory", 1)
        for _ in range(100):
            if c.dbsize() == 0:
                break
            time.sleep(0.01)
        c.config_set("maxmemory", 0)
        events = {e[0] for e in raw_reply(c, "LATENCY", "LATEST")}
        assert {b"eviction-del", b"eviction-cycle"} <= events
        assert c.info("memory")["lazyfreed_objects"] == 3          # lazyfree-lazy-eviction yes
    finally:
        c.close()
