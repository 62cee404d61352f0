"""The server answers a real client over TCP, in RESP2 and RESP3."""
import redis


def test_ping_set_get(r):
    assert r.ping() is True
    assert r.set("k", "v") is True
    assert r.get("k") == b"v"


def test_unknown_command_error(r):
    try:
        r.execute_command("NOSUCH", "a", "b")
    except redis.ResponseError as e:
        assert str(e) == "unknown command 'NOSUCH', with args beginning with: 'a' 'b' "
    else:
        raise AssertionError("no error")


def test_resp3_hello(pykey_server):
    c = redis.Redis(port=pykey_server.port, protocol=3)
    assert c.get("missing") is None
    info = c.execute_command("HELLO", "3")
    assert info[b"proto"] == 3 and info[b"version"] == b"7.2.4"


def test_extended_redis_compatibility_off_reports_valkey(pykey_factory):
    """pykey defaults extended-redis-compatibility to yes (Redis 7.2.4 in HELLO); with no,
    HELLO and INFO answer exactly as a default Valkey 8.0.1."""
    srv = pykey_factory("--extended-redis-compatibility", "no")
    c = redis.Redis(port=srv.port, protocol=3)
    info = c.execute_command("HELLO", "3")
    assert info[b"server"] == b"valkey" and info[b"version"] == b"8.0.1"
    server = c.info("server")
    assert server["redis_version"] == "7.2.4" and server["server_mode"] == "standalone"
    c.config_set("extended-redis-compatibility", "yes")
    assert c.execute_command("HELLO", "3")[b"server"] == b"redis"
    assert "redis_mode" in c.info("server")
