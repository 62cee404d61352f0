"""CONFIG SET port / bind: the server moves its TCP listeners at run time (Valkey's
changeListener), refuses an address it cannot bind with Valkey's error, and rolls back."""
from __future__ import annotations

import socket

import pytest
import redis

from pykey.testing.embedded import free_port


@pytest.fixture
def srv(pykey_factory):
    return pykey_factory()


def _ping(port: int) -> bool:
    try:
        with redis.Redis(port=port, socket_timeout=5, socket_connect_timeout=2) as c:
            return c.ping()
    except redis.ConnectionError:
        return False


def test_config_set_port_moves_the_listener(srv):
    old = srv.port
    c = redis.Redis(port=old, socket_timeout=5, single_connection_client=True)
    assert c.config_set("port", old) is True           # the same value: nothing moves
    new = free_port()
    assert c.config_set("port", new) is True
    assert c.ping() is True                            # existing connections stay
    assert _ping(new)
    assert not _ping(old)
    assert c.config_get("port") == {"port": str(new)}
    assert c.info("server")["tcp_port"] == new
    c.close()


def test_config_set_port_in_use_fails_and_rolls_back(srv):
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    c = redis.Redis(port=srv.port, socket_timeout=5, single_connection_client=True)
    try:
        before = c.config_get("maxmemory")["maxmemory"]
        with pytest.raises(redis.ResponseError) as e:
            c.execute_command("CONFIG", "SET", "maxmemory", "10000001", "port", str(busy.getsockname()[1]),
                              "client-query-buffer-limit", "10mb")
        assert str(e.value).startswith("CONFIG SET failed (possibly related to argument 'port') - "
                                       "Unable to listen on this port")
        assert c.config_get("maxmemory")["maxmemory"] == before
        assert c.config_get("port")["port"] == str(srv.port)
        assert _ping(srv.port)
        c.set("k", "v")                                   # no stale maxmemory after the rollback
    finally:
        busy.close()
        c.close()


def test_config_set_bind(srv):
    c = redis.Redis(port=srv.port, socket_timeout=5, single_connection_client=True)
    assert c.config_set("bind", "127.0.0.1") is True
    assert _ping(srv.port)
    with pytest.raises(redis.ResponseError) as e:
        c.config_set("bind", "192.0.2.1")               # TEST-NET-1: not an address of ours
    assert str(e.value) == ("CONFIG SET failed (possibly related to argument 'bind') - "
                            "Failed to bind to specified addresses.")
    assert c.config_get("bind") == {"bind": "127.0.0.1"}
    assert c.config_set("bind", "-192.0.2.1 127.0.0.1") is True     # '-': optional address
    assert _ping(srv.port)
    c.close()
