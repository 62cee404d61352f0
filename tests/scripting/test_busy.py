"""Scripts past busy-reply-threshold: BUSY for the others, SCRIPT KILL / FUNCTION KILL,
UNKILLABLE after a write, the script's own pipelined commands, SHUTDOWN NOSAVE."""
from __future__ import annotations

import time

import pytest
import redis

from pykey.testing import EmbeddedServer


@pytest.fixture
def srv(pykey_factory) -> EmbeddedServer:
    return pykey_factory(busy_reply_threshold=10)


def client(srv: EmbeddedServer) -> redis.Redis:
    return redis.Redis(host=srv.host, port=srv.port, protocol=2, socket_timeout=10)


def connection(srv: EmbeddedServer) -> redis.Connection:
    c = redis.Connection(host=srv.host, port=srv.port, socket_timeout=10, protocol=2)
    c.connect()
    return c


def wait_busy(r: redis.Redis) -> str:
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            r.ping()
        except redis.exceptions.BusyLoadingError as e:      # redis-py maps -BUSY here
            return str(e)
        except redis.ResponseError as e:
            if str(e).startswith("BUSY") or "busy" in str(e):
                return str(e)
            raise
        time.sleep(0.01)
    raise AssertionError("the script never became busy")


def wait_free(r: redis.Redis) -> None:
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            if r.ping():
                return
        except (redis.ResponseError, redis.exceptions.BusyLoadingError):
            time.sleep(0.01)
    raise AssertionError("the server stayed busy")


def test_script_kill(srv):
    r = client(srv)
    c = connection(srv)
    c.send_command("EVAL", "while true do end", 0)
    err = wait_busy(r)
    assert "SCRIPT KILL" in err
    with pytest.raises(redis.ResponseError, match="^BUSY .*SCRIPT KILL"):
        r.execute_command("FUNCTION", "KILL")          # the wrong kind of kill
    assert r.script_kill() is True
    with pytest.raises(redis.ResponseError, match="Script killed by user with SCRIPT KILL"):
        c.read_response()
    wait_free(r)
    assert r.ping() is True
    with pytest.raises(redis.ResponseError, match="^NOTBUSY No scripts in execution right now.$"):
        r.script_kill()


def test_kill_reaches_through_pcall(srv):
    r = client(srv)
    c = connection(srv)
    c.send_command("EVAL", "local f = function() while 1 do redis.call('ping') end end while 1 do pcall(f) end", 0)
    wait_busy(r)
    assert r.script_kill() is True
    with pytest.raises(redis.ResponseError, match="killed by user"):
        c.read_response()
    wait_free(r)


def test_the_scripts_own_pipeline_waits(srv):
    r = client(srv)
    c = connection(srv)
    c.send_packed_command(c.pack_commands([("EVAL", "while 1 do redis.call('ping') end", 0), ("PING",)]))
    wait_busy(r)
    r.script_kill()
    with pytest.raises(redis.ResponseError, match="killed by user"):
        c.read_response()
    assert c.read_response() == b"PONG"


def test_function_kill_and_stats(srv):
    r = client(srv)
    r.function_load("#!lua name=t\nserver.register_function('spin', function() local a = 1 while true do a = a + 1 end end)")
    c = connection(srv)
    c.send_command("FCALL", "spin", 0)
    assert "FUNCTION KILL" in wait_busy(r)
    stats = r.execute_command("FUNCTION", "STATS")
    running = stats[1]
    assert running[0:2] == [b"name", b"spin"] and running[2:4] == [b"command", [b"FCALL", b"spin", b"0"]]
    with pytest.raises(redis.ResponseError, match="^BUSY .*FUNCTION KILL"):
        r.script_kill()
    assert r.execute_command("FUNCTION", "KILL") == b"OK"
    with pytest.raises(redis.ResponseError, match="killed by user"):
        c.read_response()
    wait_free(r)


def test_a_script_that_wrote_cannot_be_killed(srv):
    r = client(srv)
    r.set("stop", "0")
    c = connection(srv)
    c.send_command("EVAL", "redis.call('set', 'x', 1) while redis.call('get', 'stop') ~= '1' do end "
                   "return 'done'", 0)
    wait_busy(r)
    with pytest.raises(redis.ResponseError, match="^UNKILLABLE Sorry the script already executed write commands"):
        r.script_kill()
    # the script cannot be stopped from outside; let a new connection see it is still busy
    r2 = client(srv)
    assert "BUSY" in wait_busy(r2)
    srv.engine.script_busy.killed = True     # end the test's script (as SHUTDOWN NOSAVE would)
    with pytest.raises(redis.ResponseError, match="killed"):
        c.read_response()
    wait_free(r)


def test_new_connections_are_served_while_busy(srv):
    r = client(srv)
    c = connection(srv)
    c.send_command("EVAL", "while true do end", 0)
    wait_busy(r)
    late = client(srv)                    # connects while the script runs
    with pytest.raises(redis.ResponseError, match="^BUSY"):
        late.get("x")
    assert late.script_kill() is True
    with pytest.raises(redis.ResponseError, match="killed by user"):
        c.read_response()
    wait_free(late)
    assert late.set("x", "1") is True


def test_slow_script_that_ends_on_its_own(srv):
    r = client(srv)
    assert r.eval("for i = 1, 50000 do redis.call('ping') end return 'ok'", 0) == b"ok"
    assert r.ping() is True


def test_shutdown_needs_nosave_while_busy(srv):
    r = client(srv)
    c = connection(srv)
    c.send_command("EVAL", "while true do end", 0)
    wait_busy(r)
    with pytest.raises(redis.ResponseError, match="^BUSY"):
        r.execute_command("SHUTDOWN")
    try:
        r.execute_command("SHUTDOWN", "NOSAVE")
    except redis.ConnectionError:
        pass
    r.close()
    c.disconnect()
    srv.thread.join(10)
    assert not srv.thread.is_alive()
