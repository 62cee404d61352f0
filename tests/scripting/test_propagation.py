"""What a script sends to the AOF and replicas: the writes it made (never the EVAL itself),
wrapped in MULTI/EXEC when more than one, with set_repl's choices."""
from __future__ import annotations

import pytest

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
