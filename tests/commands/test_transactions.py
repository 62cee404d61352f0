"""MULTI / EXEC / DISCARD / WATCH / UNWATCH, with Valkey's exact replies and WATCH rules."""
from __future__ import annotations

import socket

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pykey.testing import EmbeddedServer


def _client(srv: EmbeddedServer, **kw) -> redis.Redis:
    return redis.Redis(host=srv.host, port=srv.port, socket_timeout=10, single_connection_client=True, **kw)


@pytest.fixture
def c(r, pykey_server):
    """One connection (MULTI state lives on a connection), databases flushed by ``r``."""
    client = _client(pykey_server)
    yield client
    client.close()


@pytest.fixture
def other(pykey_server):
    client = _client(pykey_server)
    yield client
    client.close()


def raw(client: redis.Redis, *args):
    """The parsed reply without redis-py's per-command callbacks (errors returned, not raised)."""
    conn = client.connection
    conn.send_command(*args)
    try:
        return conn.read_response(disable_decoding=True)
    except redis.ResponseError as e:
        return e


def err(reply) -> str:
    """The error text as sent (redis-py strips the EXECABORT code: put it back)."""
    assert isinstance(reply, redis.ResponseError), reply
    if isinstance(reply, redis.exceptions.ExecAbortError):
        return "EXECABORT " + str(reply)
    return str(reply)


def _info_field(client: redis.Redis, field: str) -> str:
    line = raw(client, "CLIENT", "INFO").decode()
    return dict(kv.split("=", 1) for kv in line.split())[field]


# ------------------------------------------------------------------ MULTI / EXEC / DISCARD
def test_multi_exec_basics(c):
    c.rpush("l", "a", "b", "c")
    assert raw(c, "MULTI") == b"OK"
    assert raw(c, "LRANGE", "l", "0", "-1") == b"QUEUED"
    assert raw(c, "PING") == b"QUEUED"
    assert raw(c, "EXEC") == [[b"a", b"b", b"c"], b"PONG"]


def test_runtime_errors_do_not_stop_the_rest(c):
    raw(c, "MULTI")
    raw(c, "SET", "a", "1")
    raw(c, "LPUSH", "a", "x")          # WRONGTYPE at run time, not at queue time
    raw(c, "INCR", "a")
    out = raw(c, "EXEC")
    assert out[0] == b"OK"
    assert err(out[1]) == "WRONGTYPE Operation against a key holding the wrong kind of value"
    assert out[2] == 2
    assert c.get("a") == b"2"


def test_empty_transaction(c):
    raw(c, "MULTI")
    assert raw(c, "EXEC") == []


@pytest.mark.parametrize("bad", [("NOSUCHCMD", "x"), ("GET",), ("SET", "k"), ("CLIENT", "NOSUCH")])
def test_queueing_error_aborts_exec(c, bad):
    raw(c, "MULTI")
    assert raw(c, "SET", "a", "1") == b"QUEUED"
    assert isinstance(raw(c, *bad), redis.ResponseError)
    assert raw(c, "SET", "b", "2") == b"QUEUED"
    assert err(raw(c, "EXEC")) == "EXECABORT Transaction discarded because of previous errors."
    assert c.exists("a", "b") == 0
    assert raw(c, "PING") == b"PONG"                     # the MULTI state is gone


def test_nested_multi_and_watch_inside_multi(c):
    raw(c, "MULTI")
    assert err(raw(c, "MULTI")) == "Command not allowed inside a transaction"
    assert err(raw(c, "EXEC")).startswith("EXECABORT")
    raw(c, "MULTI")
    assert err(raw(c, "WATCH", "x")) == "Command not allowed inside a transaction"
    assert err(raw(c, "EXEC")).startswith("EXECABORT")


def test_exec_and_discard_without_multi(c):
    assert err(raw(c, "EXEC")) == "EXEC without MULTI"
    assert err(raw(c, "DISCARD")) == "DISCARD without MULTI"


def test_exec_with_arguments_aborts_the_transaction(c):
    raw(c, "MULTI")
    raw(c, "SET", "a", "1")
    assert err(raw(c, "EXEC", "extra")) == ("EXECABORT Transaction discarded because of: "
                                            "wrong number of arguments for 'exec' command")
    assert err(raw(c, "EXEC")) == "EXEC without MULTI"
    assert not c.exists("a")


def test_discard(c):
    c.rpush("l", "a")
    raw(c, "MULTI")
    assert raw(c, "DEL", "l") == b"QUEUED"
    assert raw(c, "DISCARD") == b"OK"
    assert c.lrange("l", 0, -1) == [b"a"]


def test_no_multi_commands_are_refused_while_queueing(c):
    raw(c, "MULTI")
    assert err(raw(c, "SHUTDOWN")) == "Command not allowed inside a transaction"
    assert err(raw(c, "EXEC")).startswith("EXECABORT")


def test_commands_that_run_at_once_inside_multi(c):
    raw(c, "MULTI")
    raw(c, "SET", "a", "1")
    assert raw(c, "RESET") == b"RESET"                  # leaves MULTI
    assert err(raw(c, "EXEC")) == "EXEC without MULTI"
    assert not c.exists("a")


def _wire(srv: EmbeddedServer):
    s = socket.create_connection((srv.host, srv.port), timeout=10)

    def send(*args: bytes) -> bytes:
        s.sendall(b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args))
        return s.recv(65536)
    return s, send


def test_exec_wire_replies(pykey_server, r):
    """The exact bytes: +QUEUED, the array, *-1 for a failed WATCH in RESP2."""
    s, send = _wire(pykey_server)
    try:
        assert send(b"WATCH", b"k") == b"+OK\r\n"
        assert send(b"MULTI") == b"+OK\r\n"
        assert send(b"SET", b"k", b"v") == b"+QUEUED\r\n"
        assert send(b"GET", b"k") == b"+QUEUED\r\n"
        assert send(b"EXEC") == b"*2\r\n+OK\r\n$1\r\nv\r\n"
        send(b"WATCH", b"k")
        r.set("k", "other")
        send(b"MULTI")
        send(b"GET", b"k")
        assert send(b"EXEC") == b"*-1\r\n"
    finally:
        s.close()


def test_exec_wire_replies_resp3(pykey_server, r):
    """RESP3: the array holds RESP3 types (map, set, null); a failed WATCH is a null."""
    s, send = _wire(pykey_server)
    try:
        assert send(b"HELLO", b"3").startswith(b"%7\r\n")
        send(b"MULTI")
        send(b"HSET", b"h", b"f", b"v")
        send(b"HGETALL", b"h")
        send(b"SMEMBERS", b"nosuch")
        send(b"GET", b"nosuch")
        assert send(b"EXEC") == b"*4\r\n:1\r\n%1\r\n$1\r\nf\r\n$1\r\nv\r\n~0\r\n_\r\n"
        send(b"WATCH", b"w")
        r.set("w", "1")
        send(b"MULTI")
        send(b"PING")
        assert send(b"EXEC") == b"_\r\n"
    finally:
        s.close()


def test_multi_flag_and_counts_in_client_list(c, other):
    assert _info_field(c, "flags") == "N"
    raw(c, "WATCH", "a", "b", "a")
    assert _info_field(c, "watch") == "2"
    raw(c, "MULTI")
    raw(c, "SET", "x", "1")
    raw(c, "SET", "y", "1")
    # CLIENT INFO is queued too: look from another connection
    cid = raw(c, "CLIENT", "ID")
    assert cid == b"QUEUED"
    lines = raw(other, "CLIENT", "LIST").decode().splitlines()
    mine = [line for line in lines if " flags=x " in line]
    assert len(mine) == 1 and " multi=3 " in mine[0] and " watch=2 " in mine[0]
    other.set("a", "changed")                            # dirty: the queue is dropped
    mine = [line for line in raw(other, "CLIENT", "LIST").decode().splitlines() if " flags=xd " in line]
    assert len(mine) == 1 and " multi=0 " in mine[0] and " watch=0 " in mine[0]
    assert raw(c, "EXEC") is None


def test_commandstats_count_executed_commands(c):
    c.config_resetstat()
    raw(c, "MULTI")
    raw(c, "SET", "a", "1")
    raw(c, "INCR", "a")
    raw(c, "LPUSH", "a", "x")
    raw(c, "EXEC")
    stats = c.info("commandstats")
    assert stats["cmdstat_set"]["calls"] == 1
    assert stats["cmdstat_incr"]["calls"] == 1
    assert stats["cmdstat_lpush"]["calls"] == 1 and stats["cmdstat_lpush"]["failed_calls"] == 1
    assert stats["cmdstat_exec"]["calls"] == 1
    assert stats["cmdstat_multi"]["calls"] == 1
    raw(c, "MULTI")
    raw(c, "NOSUCH")
    raw(c, "GET")
    raw(c, "EXEC")
    stats = c.info("commandstats")
    assert stats["cmdstat_get"]["rejected_calls"] == 1
    assert c.info("errorstats")["errorstat_EXECABORT"]["count"] == 1


def test_blocking_commands_act_non_blocking_inside_multi(c):
    raw(c, "MULTI")
    raw(c, "BLPOP", "empty", "0")
    raw(c, "BRPOP", "empty", "0")
    raw(c, "BRPOPLPUSH", "empty", "dst", "0")
    raw(c, "BLMOVE", "empty", "dst", "LEFT", "LEFT", "0")
    raw(c, "BLMPOP", "0", "1", "empty", "LEFT")
    raw(c, "RPUSH", "full", "a")
    raw(c, "BLPOP", "full", "0")
    assert raw(c, "EXEC") == [None, None, None, None, None, 1, [b"full", b"a"]]
    assert _info_field(c, "flags") == "N"


def test_monitor_is_refused_inside_exec(c):
    raw(c, "MULTI")
    raw(c, "MONITOR")
    out = raw(c, "EXEC")
    assert err(out[0]) == "MONITOR isn't allowed for DENY BLOCKING client"
    assert raw(c, "PING") == b"PONG"


def test_select_inside_exec(c):
    raw(c, "MULTI")
    raw(c, "SELECT", "3")
    raw(c, "SET", "k", "v")
    raw(c, "EXEC")
    assert c.get("k") == b"v"                           # the connection stays on db 3
    raw(c, "SELECT", "0")
    assert c.get("k") is None


# ------------------------------------------------------------------ WATCH
def test_watch_unmodified_key_lets_exec_run(c):
    raw(c, "WATCH", "x", "y", "z")
    raw(c, "WATCH", "k")
    raw(c, "MULTI")
    raw(c, "PING")
    assert raw(c, "EXEC") == [b"PONG"]


@pytest.mark.parametrize("change", [
    ("SET", "x", "40"), ("DEL", "x"), ("EXPIRE", "x", "100"), ("APPEND", "x", "1"),
    ("INCR", "x"), ("RENAME", "src", "x"), ("COPY", "src", "x", "REPLACE"), ("UNLINK", "x"),
    ("GETDEL", "x"), ("PERSIST", "x"),
])
def test_watch_is_broken_by_any_change(c, other, change):
    c.set("x", "30")
    c.expire("x", 1000)
    c.set("src", "1")
    raw(c, "WATCH", "x")
    assert isinstance(raw(other, *change), (bytes, int))
    raw(c, "MULTI")
    raw(c, "PING")
    assert raw(c, "EXEC") is None
    assert _info_field(c, "flags") == "N"               # out of MULTI, not dirty any more


def test_watch_is_broken_by_move_into_the_key(c, other):
    raw(other, "SELECT", "1")
    other.set("x", "from-db1")
    raw(c, "WATCH", "x")
    assert raw(other, "MOVE", "x", "0") == 1
    raw(c, "MULTI")
    raw(c, "PING")
    assert raw(c, "EXEC") is None


def test_own_change_before_multi_breaks_watch(c):
    c.set("x", "30")
    raw(c, "WATCH", "a", "b", "x", "k", "z")
    c.set("x", "40")
    raw(c, "MULTI")
    raw(c, "PING")
    assert raw(c, "EXEC") is None


def test_unwatch_and_after_exec_keys_are_no_longer_watched(c, other):
    c.set("x", "30")
    raw(c, "WATCH", "x")
    other.set("x", "40")
    assert raw(c, "UNWATCH") == b"OK"
    raw(c, "MULTI")
    raw(c, "PING")
    assert raw(c, "EXEC") == [b"PONG"]
    raw(c, "WATCH", "x")
    raw(c, "MULTI")
    raw(c, "PING")
    assert raw(c, "EXEC") == [b"PONG"]
    other.set("x", "50")                                 # EXEC unwatched everything
    raw(c, "MULTI")
    raw(c, "PING")
    assert raw(c, "EXEC") == [b"PONG"]
    assert raw(c, "UNWATCH") == b"OK"                    # nothing watched: still OK


def test_discard_clears_dirty_flag_and_unwatches(c, other):
    raw(c, "WATCH", "x")
    other.set("x", "10")
    raw(c, "MULTI")
    raw(c, "DISCARD")
    raw(c, "MULTI")
    raw(c, "INCR", "x")
    assert raw(c, "EXEC") == [11]
    raw(c, "WATCH", "x")
    raw(c, "MULTI")
    raw(c, "DISCARD")
    other.set("x", "10")
    raw(c, "MULTI")
    raw(c, "INCR", "x")
    assert raw(c, "EXEC") == [11]


def test_watch_remembers_the_database(c, other):
    raw(c, "SELECT", "5")
    c.set("x", "30")
    raw(c, "WATCH", "x")
    raw(other, "SELECT", "1")
    other.set("x", "10")                                 # same name, other database
    raw(c, "MULTI")
    raw(c, "PING")
    assert raw(c, "EXEC") == [b"PONG"]
    raw(c, "WATCH", "x")
    raw(c, "SELECT", "1")                                # the watch stays on db 5
    raw(other, "SELECT", "5")
    other.set("x", "changed")
    raw(c, "MULTI")
    raw(c, "PING")
    assert raw(c, "EXEC") is None


@pytest.mark.parametrize("flush", [("FLUSHALL",), ("FLUSHDB",), ("FLUSHALL", "ASYNC")])
def test_flush_touches_watched_keys_that_exist(c, other, flush):
    c.set("x", "30")
    raw(c, "WATCH", "x", "absent")
    raw(other, *flush)
    raw(c, "MULTI")
    raw(c, "PING")
    assert raw(c, "EXEC") is None
    raw(c, "WATCH", "absent")
    raw(other, *flush)
    raw(c, "MULTI")
    raw(c, "PING")
    assert raw(c, "EXEC") == [b"PONG"]


def test_flushall_while_watching_several_keys(c):
    c.mset({"a": "a", "b": "b"})
    raw(c, "WATCH", "b", "a")
    raw(c, "FLUSHALL")
    assert raw(c, "PING") == b"PONG"


def test_swapdb_touches_watched_keys(c, other):
    c.set("x", "30")
    raw(c, "WATCH", "x")                                 # x will vanish from db 0
    raw(other, "SWAPDB", "0", "1")
    raw(c, "MULTI")
    raw(c, "PING")
    assert raw(c, "EXEC") is None
    c.flushall()
    raw(other, "SELECT", "1")
    other.set("x", "30")
    raw(c, "WATCH", "x")                                 # x will appear in db 0
    raw(other, "SWAPDB", "0", "1")
    raw(c, "MULTI")
    raw(c, "PING")
    assert raw(c, "EXEC") is None


# ------------------------------------------------------------------ WATCH and expiry
def _no_active_expire(c: redis.Redis):
    assert raw(c, "DEBUG", "SET-ACTIVE-EXPIRE", "0") == b"OK"


@pytest.fixture
def frozen(c, pykey_server):
    """Active expiry off: keys expire only when read (and time moves through srv.advance)."""
    _no_active_expire(c)
    yield pykey_server
    raw(c, "DEBUG", "SET-ACTIVE-EXPIRE", "1")


def test_watched_key_expiring_before_exec_aborts(c, frozen):
    c.set("key", "1", px=100)
    raw(c, "WATCH", "key")
    frozen.advance(200)
    raw(c, "MULTI")
    raw(c, "INCR", "key")
    assert raw(c, "EXEC") is None


def test_watched_key_lazily_expired_by_another_client_aborts(c, other, frozen):
    c.set("key", "1", px=100)
    raw(c, "WATCH", "key")
    frozen.advance(200)
    assert other.get("key") is None                     # deletes it: a change
    raw(c, "MULTI")
    raw(c, "PING")
    assert raw(c, "EXEC") is None


def test_watched_key_removed_by_active_expiry_aborts(c, pykey_server):
    c.set("key", "1", px=100)
    raw(c, "WATCH", "key")
    pykey_server.advance(200)
    pykey_server.call(lambda: pykey_server.engine.active_expire_cycle())
    assert pykey_server.call(lambda: b"key" in pykey_server.engine.dbs[0].data) is False
    raw(c, "MULTI")
    raw(c, "PING")
    assert raw(c, "EXEC") is None


def test_stale_key_at_watch_time_does_not_fail_exec(c, frozen):
    c.set("x", "foo", px=1)
    frozen.advance(10)
    raw(c, "WATCH", "x")                                # already expired, not yet deleted
    raw(c, "MULTI")
    raw(c, "PING")
    assert raw(c, "EXEC") == [b"PONG"]


def test_deleting_a_stale_watched_key_does_not_fail_exec(c, frozen):
    c.set("x", "foo", px=1)
    frozen.advance(10)
    raw(c, "WATCH", "x")
    assert c.exists("x") == 0                           # lazy expiry deletes it
    raw(c, "MULTI")
    raw(c, "PING")
    assert raw(c, "EXEC") == [b"PONG"]


def test_flushdb_while_watching_stale_key_does_not_fail_exec(c, frozen):
    c.set("x", "foo", px=1)
    frozen.advance(10)
    raw(c, "WATCH", "x")
    c.flushdb()
    raw(c, "MULTI")
    raw(c, "PING")
    assert raw(c, "EXEC") == [b"PONG"]


def test_stale_key_then_rewritten_fails_exec(c, other, frozen):
    c.set("x", "foo", px=1)
    frozen.advance(10)
    raw(c, "WATCH", "x")
    other.set("x", "new")
    raw(c, "MULTI")
    raw(c, "PING")
    assert raw(c, "EXEC") is None


@pytest.mark.parametrize("case", ["stale-replaced-by-nothing", "nothing-replaced-by-stale",
                                  "stale-replaced-by-stale"])
def test_swapdb_and_stale_keys(c, frozen, case):
    if case in ("stale-replaced-by-nothing", "stale-replaced-by-stale"):
        raw(c, "SELECT", "1")
        c.set("x", "foo", px=1)
    if case in ("nothing-replaced-by-stale", "stale-replaced-by-stale"):
        raw(c, "SELECT", "0")
        c.set("x", "bar", px=1)
    frozen.advance(10)
    raw(c, "SELECT", "1")
    raw(c, "WATCH", "x")
    raw(c, "SWAPDB", "0", "1")
    raw(c, "MULTI")
    raw(c, "PING")
    assert raw(c, "EXEC") == [b"PONG"]


def test_live_key_replaced_by_stale_key_fails_exec(c, frozen):
    raw(c, "SELECT", "1")
    c.set("x", "live")
    raw(c, "SELECT", "0")
    c.set("x", "bar", px=100_000)
    frozen.advance(200_000)
    raw(c, "SELECT", "1")
    raw(c, "WATCH", "x")
    raw(c, "SWAPDB", "0", "1")
    raw(c, "MULTI")
    raw(c, "PING")
    assert raw(c, "EXEC") is None


# ------------------------------------------------------------------ lifecycle
def test_watches_are_released_on_disconnect_and_reset(pykey_server, r):
    engine = pykey_server.engine
    tmp = _client(pykey_server)
    raw(tmp, "WATCH", "a", "b")
    assert pykey_server.call(lambda: len(engine.watched_keys)) == 2
    tmp.close()
    for _ in range(100):
        if pykey_server.call(lambda: len(engine.watched_keys)) == 0:
            break
        import time
        time.sleep(0.01)
    assert pykey_server.call(lambda: len(engine.watched_keys)) == 0
    tmp = _client(pykey_server)
    raw(tmp, "WATCH", "a")
    raw(tmp, "RESET")
    assert pykey_server.call(lambda: (len(engine.watched_keys), engine.key_watchers.count(
        __import__("pykey.engine.multi", fromlist=["x"]).touch_watched_key))) == (0, 0)
    tmp.close()


def test_watch_after_dirty_is_a_no_op(c, other):
    raw(c, "WATCH", "x")
    other.set("x", "1")
    assert raw(c, "WATCH", "y") == b"OK"
    assert _info_field(c, "watch") == "0"
    assert _info_field(c, "flags") == "d"


# ------------------------------------------------------------------ propagation
@pytest.fixture
def stream(pykey_server):
    """What the server propagates (AOF/replicas), captured through a sink."""
    engine = pykey_server.engine
    seen: list[tuple[int, list[bytes]]] = []

    def sink(dbid: int, argv: list[bytes]) -> None:
        seen.append((dbid, [bytes(a) for a in argv]))

    pykey_server.call(lambda: engine.propagate_sinks.append(sink))
    yield seen
    pykey_server.call(lambda: engine.propagate_sinks.remove(sink))


def test_exec_propagates_writes_wrapped_in_multi_exec(c, stream):
    raw(c, "MULTI")
    raw(c, "SET", "a", "1")
    raw(c, "GET", "a")
    raw(c, "SELECT", "2")
    raw(c, "SET", "b", "2")
    raw(c, "EXEC")
    assert stream == [(-1, [b"MULTI"]), (0, [b"SET", b"a", b"1"]), (2, [b"SET", b"b", b"2"]),
                      (-1, [b"EXEC"])]


def test_exec_with_one_write_is_not_wrapped(c, stream):
    raw(c, "MULTI")
    raw(c, "SET", "a", "1")
    raw(c, "GET", "a")
    raw(c, "EXEC")
    raw(c, "MULTI")
    raw(c, "GET", "a")
    raw(c, "DEL", "nosuch")                             # a write command that wrote nothing
    raw(c, "EXEC")
    raw(c, "MULTI")
    raw(c, "EXEC")
    assert stream == [(0, [b"SET", b"a", b"1"])]


def test_exec_propagates_effects_of_rewritten_commands(c, stream):
    c.sadd("s", "only")
    stream.clear()
    raw(c, "MULTI")
    raw(c, "SPOP", "s")
    raw(c, "EXPIRE", "k", "100")                        # no key: no write
    raw(c, "INCR", "n")
    raw(c, "EXEC")
    assert stream[0] == (-1, [b"MULTI"]) and stream[-1] == (-1, [b"EXEC"])
    assert stream[2] == (0, [b"INCR", b"n"])
    assert stream[1][1][0] in (b"SREM", b"SPOP", b"DEL", b"UNLINK")


# ------------------------------------------------------------------ property: EXEC == one by one
_KEYS = ["a", "b", "l"]
_VALS = ["1", "x", "-2", "10"]
_CMDS = st.one_of(
    st.tuples(st.just("SET"), st.sampled_from(_KEYS), st.sampled_from(_VALS)),
    st.tuples(st.just("GET"), st.sampled_from(_KEYS)),
    st.tuples(st.just("INCR"), st.sampled_from(_KEYS)),
    st.tuples(st.just("APPEND"), st.sampled_from(_KEYS), st.sampled_from(_VALS)),
    st.tuples(st.just("RPUSH"), st.sampled_from(_KEYS), st.sampled_from(_VALS)),
    st.tuples(st.just("LPOP"), st.sampled_from(_KEYS)),
    st.tuples(st.just("DEL"), st.sampled_from(_KEYS)),
    st.tuples(st.just("EXISTS"), st.sampled_from(_KEYS)),
    st.tuples(st.just("LRANGE"), st.sampled_from(_KEYS), st.just("0"), st.just("-1")),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_CMDS, min_size=1, max_size=12))
def test_exec_replies_equal_running_the_commands_one_by_one(c, script):
    def norm(reply):
        return ("ERR", str(reply)) if isinstance(reply, redis.ResponseError) else reply

    raw(c, "FLUSHALL")
    expected = [norm(raw(c, *cmd)) for cmd in script]
    raw(c, "FLUSHALL")
    raw(c, "MULTI")
    for cmd in script:
        assert raw(c, *cmd) == b"QUEUED"
    assert [norm(x) for x in raw(c, "EXEC")] == expected


# ------------------------------------------------------------------ maxmemory
@pytest.fixture
def oom(c, other):
    """maxmemory 1: every deny-oom command is over the limit (set from another connection)."""
    def on(flag: bool) -> None:
        other.config_set("maxmemory", 1 if flag else 0)
    yield on
    other.config_set("maxmemory", 0)


def test_oom_while_queueing_aborts_exec(c, oom):
    raw(c, "MULTI")
    raw(c, "SET", "foo1", "bar1")
    oom(True)
    assert err(raw(c, "LPUSH", "l", "v")) == "command not allowed when used memory > 'maxmemory'."
    oom(False)
    raw(c, "SET", "foo2", "bar2")
    assert err(raw(c, "EXEC")) == "EXECABORT Transaction discarded because of previous errors."
    assert c.exists("foo1", "foo2") == 0


def test_discard_works_under_oom(c, oom):
    oom(True)
    raw(c, "MULTI")
    assert isinstance(raw(c, "SET", "x", "1"), redis.ResponseError)
    assert raw(c, "DISCARD") == b"OK"
    assert raw(c, "PING") == b"PONG"


def test_exec_under_oom_depends_on_what_was_queued(c, oom):
    c.set("x", "value")
    raw(c, "MULTI")
    raw(c, "GET", "x")
    raw(c, "PING")
    oom(True)
    assert raw(c, "EXEC") == [b"value", b"PONG"]          # read-only: allowed
    oom(False)
    raw(c, "MULTI")
    raw(c, "SET", "x", "1")
    raw(c, "GET", "x")
    oom(True)
    assert err(raw(c, "EXEC")) == ("EXECABORT Transaction discarded because of: "
                                   "OOM command not allowed when used memory > 'maxmemory'.")
    oom(False)
    assert c.get("x") == b"value"
    assert err(raw(c, "EXEC")) == "EXEC without MULTI"


# ------------------------------------------------------------------ min-replicas-to-write
def test_noreplicas_refuses_writes_and_write_transactions(c, other):
    c.set("xx", "1")
    raw(c, "MULTI")
    raw(c, "INCR", "xx")
    other.config_set("min-replicas-to-write", 2)
    try:
        assert err(raw(c, "EXEC")) == ("EXECABORT Transaction discarded because of: "
                                       "NOREPLICAS Not enough good replicas to write.")
        assert err(raw(c, "SET", "a", "1")) == "NOREPLICAS Not enough good replicas to write."
        raw(c, "MULTI")
        raw(c, "GET", "xx")
        assert raw(c, "EXEC") == [b"1"]                  # read-only: allowed
    finally:
        other.config_set("min-replicas-to-write", 0)
    assert c.get("xx") == b"1"


def test_info_counts_watching_clients_and_distinct_watched_keys(c, other):
    raw(c, "WATCH", "a", "b")
    raw(other, "WATCH", "a")
    info = c.info("clients")
    assert info["watching_clients"] == 2
    assert info["total_watched_keys"] == 2              # a and b, however many clients watch them
    raw(c, "UNWATCH")
    raw(other, "UNWATCH")
    assert c.info("clients")["total_watched_keys"] == 0
