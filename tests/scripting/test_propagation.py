"""What a script sends to the AOF and replicas: the writes it made (never the EVAL itself),
wrapped in MULTI/EXEC when more than one, with set_repl's choices."""
from __future__ import annotations

import time

import pytest
import redis

from pykey.testing import EmbeddedServer


@pytest.fixture
def stream(pykey_server: EmbeddedServer, r):
    """The propagated commands, as (dbid, argv) pairs, from the server's engine."""
    seen: list[tuple[int, list[bytes]]] = []

    def sink(dbid: int, argv: list[bytes]) -> None:
        seen.append((dbid, list(argv), getattr(argv, "target", 3)))

    sinks = pykey_server.engine.propagate_sinks
    pykey_server.call(sinks.append, sink)
    yield seen
    pykey_server.call(sinks.remove, sink)


def test_writes_are_wrapped_in_multi_exec(r, stream):
    r.eval("redis.call('set', 'a', 1) redis.call('incr', 'a') redis.call('get', 'a')", 0)
    assert stream == [(-1, [b"MULTI"], 3), (0, [b"set", b"a", b"1"], 3), (0, [b"incr", b"a"], 3),
                      (-1, [b"EXEC"], 3)]


def test_a_single_write_is_sent_alone_and_reads_not_at_all(r, stream):
    r.eval("redis.call('get', 'x') return redis.call('set', 'x', 1)", 0)
    r.eval("return redis.call('get', 'x')", 0)
    assert stream == [(0, [b"set", b"x", b"1"], 3)]


def test_effects_not_scripts(r, stream):
    r.sadd("s", "m")
    stream.clear()
    r.eval("return redis.call('spop', 's')", 0)
    r.eval("return redis.call('expire', 'nokey', 10)", 0)
    assert stream == [(0, [b"SREM", b"s", b"m"], 3)]


def test_select_inside_a_script(r, stream):
    r.eval("redis.call('set', 'k', 0) redis.call('select', 9) redis.call('set', 'k', 9)", 0)
    assert stream == [(-1, [b"MULTI"], 3), (0, [b"set", b"k", b"0"], 3), (9, [b"set", b"k", b"9"], 3),
                      (-1, [b"EXEC"], 3)]
    assert r.get("k") == b"0"


def test_set_repl(r, stream):
    r.eval("redis.call('set', 'a', 1) redis.set_repl(redis.REPL_NONE) redis.call('set', 'b', 2) "
           "redis.set_repl(redis.REPL_AOF) redis.call('set', 'c', 3) "
           "redis.set_repl(redis.REPL_ALL) redis.call('set', 'd', 4)", 0)
    assert stream == [(-1, [b"MULTI"], 3), (0, [b"set", b"a", b"1"], 3), (0, [b"set", b"c", b"3"], 1),
                      (0, [b"set", b"d", b"4"], 3), (-1, [b"EXEC"], 3)]
    assert r.mget("a", "b", "c", "d") == [b"1", b"2", b"3", b"4"]


def test_functions_propagate_their_effects(r, stream):
    r.function_load("#!lua name=p\nserver.register_function('w', function(k) redis.call('set', k[1], 1) "
                    "redis.call('set', k[2], 2) end)", replace=True)
    r.fcall("w", 2, "x", "y")
    assert stream[0][1][:2] == [b"FUNCTION", b"LOAD"] or stream[0][1][:2] == [b"function", b"load"]
    assert stream[1:] == [(-1, [b"MULTI"], 3), (0, [b"set", b"x", b"1"], 3), (0, [b"set", b"y", b"2"], 3),
                          (-1, [b"EXEC"], 3)]
    r.function_flush()


def test_script_inside_a_transaction_is_one_unit(r, stream):
    with r.pipeline() as p:
        p.set("t", 1)
        p.eval("redis.call('incr', 't') redis.call('incr', 't')", 0)
        p.execute()
    assert stream[0] == (-1, [b"MULTI"], 3) and stream[-1] == (-1, [b"EXEC"], 3)
    assert [argv for _, argv, _ in stream].count([b"MULTI"]) == 1
    assert [argv for _, argv, _ in stream[1:-1]] == [[b"SET", b"t", b"1"], [b"incr", b"t"], [b"incr", b"t"]]


def test_set_repl_targets_reach_only_their_sink(pykey_factory, tmp_path):
    """REPL_AOF writes reach the AOF and not the replicas, REPL_REPLICA ones the reverse."""
    (tmp_path / "p").mkdir()
    (tmp_path / "r").mkdir()
    p = pykey_factory("--dir", str(tmp_path / "p"))
    rep = pykey_factory("--dir", str(tmp_path / "r"))
    pc, rc = redis.Redis(port=p.port, socket_timeout=10), redis.Redis(port=rep.port, socket_timeout=10)
    try:
        pc.config_set("appendonly", "yes")
        _wait(lambda: pc.info("persistence")["aof_rewrites"] == 1
              and not pc.info("persistence")["aof_rewrite_in_progress"])
        rc.replicaof("127.0.0.1", p.port)
        _wait(lambda: rc.info("replication").get("master_link_status") == "up")
        pc.eval("redis.set_repl(redis.REPL_AOF) redis.call('set', 'k-aof', 1) "
                "redis.set_repl(redis.REPL_REPLICA) redis.call('set', 'k-replica', 1) "
                "redis.set_repl(redis.REPL_ALL) redis.call('set', 'k-all', 1)", 0)
        pc.set("k-marker", 1)
        _wait(lambda: rc.exists("k-marker"))
        assert [rc.exists(k) for k in ("k-aof", "k-replica", "k-all")] == [0, 1, 1]
        assert pc.mget("k-aof", "k-replica", "k-all") == [b"1", b"1", b"1"]
        aof = b"".join(f.read_bytes() for f in (tmp_path / "p" / "appendonlydir").glob("*.incr.aof"))
        assert b"k-aof" in aof and b"k-all" in aof and b"k-replica" not in aof
    finally:
        pc.close()
        rc.close()


def _wait(pred, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.02)
