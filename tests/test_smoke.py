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
