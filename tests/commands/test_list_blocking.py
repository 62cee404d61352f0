"""Blocking list commands: BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP, CLIENT UNBLOCK."""
from __future__ import annotations

import time

import pytest
import redis

from pykey.testing import EmbeddedServer
from pykey.testing.raw import redis_connections
from pykey.testing.waiting import wait_blocked


@pytest.fixture
def conn(pykey_server: EmbeddedServer):
    """Raw connections: send a blocking command now, read its reply later."""
    with redis_connections(pykey_server) as make:
        yield make


def test_immediate_pop(r):
    r.rpush("a", "x", "y")
    assert tuple(r.execute_command("BLPOP", "none", "a", 0)) == (b"a", b"x")
    assert tuple(r.execute_command("BRPOP", "a", 0)) == (b"a", b"y")
    assert r.exists("a") == 0


def test_served_on_push(r, conn):
    c = conn()
    c.send_command("BLPOP", "k1", "k2", 0)
    wait_blocked(r, 1)
    assert not c.can_read(0.05)
    assert r.rpush("k2", "a", "b") == 2
    assert c.read_response() == [b"k2", b"a"]
    assert r.lrange("k2", 0, -1) == [b"b"]
    assert int(r.info("clients")["blocked_clients"]) == 0


def test_timeout_replies(r, conn):
    t0 = time.time()
    assert r.execute_command("BLPOP", "nokey", "0.05") is None
    assert time.time() - t0 >= 0.04
    assert r.execute_command("BLMOVE", "s", "d", "LEFT", "RIGHT", "0.01") is None
    assert r.execute_command("BLMPOP", "0.01", 2, "a", "b", "LEFT") is None
    c = conn()
    c.send_command("BRPOP", "nokey", "0.05")
    assert c.read_response() is None


def test_timeout_errors(r):
    with pytest.raises(redis.ResponseError, match="timeout is negative"):
        r.execute_command("BLPOP", "k", "-1")
    with pytest.raises(redis.ResponseError, match="not a float"):
        r.execute_command("BLPOP", "k", "abc")
    with pytest.raises(redis.ResponseError, match="timeout is out of range"):
        r.execute_command("BLPOP", "k", "1e30")


def test_fifo_order(r, conn):
    a, b = conn(), conn()
    a.send_command("BLPOP", "q", 0)
    wait_blocked(r, 1)
    b.send_command("BLPOP", "q", 0)
    wait_blocked(r, 2)
    r.rpush("q", "1", "2")
    assert a.read_response() == [b"q", b"1"]
    assert b.read_response() == [b"q", b"2"]


def test_blmove_and_brpoplpush_served(r, conn):
    c = conn()
    c.send_command("BLMOVE", "src", "dst", "RIGHT", "LEFT", 0)
    wait_blocked(r, 1)
    r.rpush("src", "v")
    assert c.read_response() == b"v"
    assert r.lrange("dst", 0, -1) == [b"v"]
    c.send_command("BRPOPLPUSH", "src", "dst", 0)
    wait_blocked(r, 1)
    r.rpush("src", "w")
    assert c.read_response() == b"w"
    assert r.lrange("dst", 0, -1) == [b"w", b"v"]


def test_brpoplpush_wrong_destination(r, conn):
    c = conn()
    c.send_command("BRPOPLPUSH", "blist", "target", 0)
    wait_blocked(r, 1)
    r.set("target", "x")
    r.lpush("blist", "foo")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        c.read_response()
    assert r.lrange("blist", 0, -1) == [b"foo"]


def test_blmpop_served_with_count(r, conn):
    c = conn()
    c.send_command("BLMPOP", 0, 2, "a", "b", "RIGHT", "COUNT", 5)
    wait_blocked(r, 1)
    r.rpush("b", "1", "2", "3")
    assert c.read_response() == [b"b", [b"3", b"2", b"1"]]


def test_no_blocking_in_script_or_multi():
    """Inside a script or a transaction the command answers as if it timed out at once."""
    import pykey.commands  # noqa: F401
    from pykey.engine.client import Client
    from pykey.engine.server import Server
    from pykey.protocol.replies import NULL_ARRAY
    server = Server()
    c = Client(server, "127.0.0.1:1", "127.0.0.1:2", -1)
    c.in_script = True
    assert server.execute(c, [b"BLPOP", b"k", b"0"]) is NULL_ARRAY
    assert server.execute(c, [b"BLMPOP", b"0", b"1", b"k", b"LEFT"]) is NULL_ARRAY
    assert server.execute(c, [b"BLMOVE", b"k", b"d", b"LEFT", b"LEFT", b"0"]) is None
    assert server.execute(c, [b"BRPOPLPUSH", b"k", b"d", b"0"]) is None
    assert server.blocked_clients == 0


def test_disconnect_while_blocked(r, conn):
    c = conn()
    c.send_command("BLPOP", "gone", 0)
    wait_blocked(r, 1)
    c.disconnect()
    wait_blocked(r, 0)
    r.rpush("gone", "x")
    assert r.lrange("gone", 0, -1) == [b"x"]


def test_client_unblock(r, conn):
    c = conn()
    c.send_command("CLIENT", "ID")
    cid = c.read_response()
    c.send_command("BLPOP", "k", 0)
    wait_blocked(r, 1)
    assert r.execute_command("CLIENT", "UNBLOCK", cid) == 1
    assert c.read_response() is None
    c.send_command("BLMOVE", "k", "d", "LEFT", "LEFT", 0)
    wait_blocked(r, 1)
    assert r.execute_command("CLIENT", "UNBLOCK", cid, "ERROR") == 1
    with pytest.raises(redis.ResponseError, match="UNBLOCKED client unblocked via CLIENT UNBLOCK"):
        c.read_response()
    assert r.execute_command("CLIENT", "UNBLOCK", cid) == 0
    with pytest.raises(redis.ResponseError, match="TIMEOUT or ERROR"):
        r.execute_command("CLIENT", "UNBLOCK", cid, "foo")


def test_pipeline_after_block_runs_after_wakeup(r, conn):
    c = conn()
    c.send_packed_command(c.pack_commands([("BLPOP", "p", 0), ("PING",)]))
    wait_blocked(r, 1)
    assert not c.can_read(0.05)
    r.rpush("p", "v")
    assert c.read_response() == [b"p", b"v"]
    assert c.read_response() == b"PONG"


def test_push_mid_pipeline_serves_after_pushing_command(r, conn):
    c = conn()
    c.send_command("BLPOP", "m", 0)
    wait_blocked(r, 1)
    pipe = r.pipeline(transaction=False)
    pipe.rpush("m", "a")
    pipe.llen("m")
    assert pipe.execute() == [1, 0]
    assert c.read_response() == [b"m", b"a"]


def test_debug_packed_threshold(r):
    assert r.execute_command("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "1b") == b"OK"
    assert r.execute_command("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "0") == b"OK"
    with pytest.raises(redis.ResponseError, match="bigger than 1"):
        r.execute_command("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "5gb")


def test_ready_key_of_another_type_leaves_client_parked(r, conn):
    """As Valkey: a client waiting for a list is not woken by its key turning into a string
    (no WRONGTYPE for it); it is served once the key is a list again."""
    c = conn()
    c.send_command("BLPOP", "k", 0)
    wait_blocked(r, 1)
    r.set("src", "string")
    r.rename("src", "k")                    # RENAME signals k as ready
    assert not c.can_read(0.05)
    assert int(r.info("clients")["blocked_clients"]) == 1
    r.delete("k")
    r.rpush("k", "x")
    assert c.read_response() == [b"k", b"x"]


def test_blmove_chain_serves_in_order(r, conn):
    """A BLMOVE served by a push feeds the next waiter on its destination (nested ready
    keys), in the same round."""
    c1, c2 = conn(), conn()
    c1.send_command("BLMOVE", "a", "b", "LEFT", "RIGHT", 0)
    wait_blocked(r, 1)
    c2.send_command("BLPOP", "b", 0)
    wait_blocked(r, 2)
    r.rpush("a", "v")
    assert c1.read_response() == b"v"
    assert c2.read_response() == [b"b", b"v"]
    assert r.exists("a", "b") == 0
    assert r.info("clients")["total_blocking_keys"] == 0


def test_self_referential_brpoplpush(r, conn):
    c = conn()
    c.send_command("BRPOPLPUSH", "l", "l", 0)
    wait_blocked(r, 1)
    r.rpush("l", "foo")
    assert c.read_response() == b"foo"
    assert r.lrange("l", 0, -1) == [b"foo"]
