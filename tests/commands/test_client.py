"""CLIENT subcommands."""
from __future__ import annotations

import socket
import time

import pytest
import redis

from pykey.testing import EmbeddedServer


def _raw(r: redis.Redis, *args):
    """Send a command and return the parsed RESP reply, without redis-py's callbacks."""
    conn = r.connection
    if conn is None:
        conn = r.connection_pool.get_connection()
        r.connection_pool.release(conn)
    conn.send_command(*args)
    return conn.read_response()


@pytest.fixture
def c2(pykey_server: EmbeddedServer):
    client = redis.Redis(host=pykey_server.host, port=pykey_server.port, protocol=2, socket_timeout=10,
                         single_connection_client=True)
    yield client
    client.close()


def _fields(line: str) -> dict[str, str]:
    return dict(kv.split("=", 1) for kv in line.strip().split(" "))


def test_id_and_names(c2):
    cid = _raw(c2, "CLIENT", "ID")
    assert isinstance(cid, int) and cid > 0
    assert _raw(c2, "CLIENT", "GETNAME") is None
    assert _raw(c2, "CLIENT", "SETNAME", "worker-1") == b"OK"
    assert _raw(c2, "CLIENT", "GETNAME") == b"worker-1"
    with pytest.raises(redis.ResponseError,
                       match="^Client names cannot contain spaces, newlines or special characters.$"):
        _raw(c2, "CLIENT", "SETNAME", "bad name")
    assert _raw(c2, "CLIENT", "SETNAME", "") == b"OK"
    assert _raw(c2, "CLIENT", "GETNAME") is None


def test_setinfo(c2):
    assert _raw(c2, "CLIENT", "SETINFO", "LIB-NAME", "mylib") == b"OK"
    assert _raw(c2, "CLIENT", "SETINFO", "lib-ver", "1.2") == b"OK"
    info = _fields(_raw(c2, "CLIENT", "INFO").decode())
    assert info["lib-name"] == "mylib" and info["lib-ver"] == "1.2"
    with pytest.raises(redis.ResponseError, match="^Unrecognized option 'foo'$"):
        _raw(c2, "CLIENT", "SETINFO", "foo", "x")
    with pytest.raises(redis.ResponseError, match="cannot contain spaces"):
        _raw(c2, "CLIENT", "SETINFO", "lib-name", "a b")


FIELDS = ["id", "addr", "laddr", "fd", "name", "age", "idle", "flags", "db", "sub", "psub", "ssub",
          "multi", "watch", "qbuf", "qbuf-free", "argv-mem", "multi-mem", "rbs", "rbp", "obl", "oll",
          "omem", "tot-mem", "events", "cmd", "user", "redir", "resp", "lib-name", "lib-ver",
          "tot-net-in", "tot-net-out", "tot-cmds"]


def test_info_line_format(c2):
    text = _raw(c2, "CLIENT", "INFO").decode()
    assert text.endswith("\n")
    keys = [kv.split("=", 1)[0] for kv in text.strip().split(" ")]
    assert keys == FIELDS
    f = _fields(text)
    assert f["cmd"] == "client|info" and f["flags"] == "N" and f["multi"] == "-1"
    assert f["user"] == "default" and f["redir"] == "-1" and f["events"] == "r"


def test_list_filters(c2, pykey_server):
    cid = _raw(c2, "CLIENT", "ID")
    lines = _raw(c2, "CLIENT", "LIST").decode().strip().split("\n")
    mine = [line for line in lines if line.startswith(f"id={cid} ")]
    assert len(mine) == 1 and "cmd=client|list" in mine[0]
    by_id = _raw(c2, "CLIENT", "LIST", "ID", str(cid), "999999").decode().strip().split("\n")
    assert len(by_id) == 1 and by_id[0].startswith(f"id={cid} ")
    normal = _raw(c2, "CLIENT", "LIST", "TYPE", "normal").decode()
    assert f"id={cid} " in normal
    assert _raw(c2, "CLIENT", "LIST", "TYPE", "pubsub") == b""
    with pytest.raises(redis.ResponseError, match="^Unknown client type 'bogus'$"):
        _raw(c2, "CLIENT", "LIST", "TYPE", "bogus")
    with pytest.raises(redis.ResponseError, match="^Invalid client ID$"):
        _raw(c2, "CLIENT", "LIST", "ID", "abc")
    with pytest.raises(redis.ResponseError, match="syntax error"):
        _raw(c2, "CLIENT", "LIST", "foo")


def _connect(srv: EmbeddedServer) -> redis.Redis:
    c = redis.Redis(host=srv.host, port=srv.port, protocol=2, single_connection_client=True,
                    socket_timeout=5)
    _raw(c, "PING")
    return c


def test_kill_by_id_and_addr(c2, pykey_server):
    victim = _connect(pykey_server)
    vid = _raw(victim, "CLIENT", "ID")
    assert _raw(c2, "CLIENT", "KILL", "ID", str(vid)) == 1
    time.sleep(0.1)
    with pytest.raises(redis.ConnectionError):
        victim.connection.send_command("PING")
        victim.connection.read_response()
    victim2 = _connect(pykey_server)
    addr = _fields(_raw(victim2, "CLIENT", "INFO").decode())["addr"]
    assert _raw(c2, "CLIENT", "KILL", addr) == b"OK"
    with pytest.raises(redis.ResponseError, match="^No such client$"):
        _raw(c2, "CLIENT", "KILL", "127.0.0.1:1")


def test_kill_errors_and_skipme(c2):
    cid = _raw(c2, "CLIENT", "ID")
    assert _raw(c2, "CLIENT", "KILL", "ID", str(cid)) == 0           # SKIPME yes by default
    for args, msg in [(("ID", "str"), "client-id should be greater than 0"),
                      (("ID", "-1"), "client-id should be greater than 0"),
                      (("MAXAGE", "0"), "maxage should be greater than 0"),
                      (("TYPE", "foo"), "Unknown client type 'foo'"),
                      (("USER", "nobody"), "No such user 'nobody'"),
                      (("SKIPME", "maybe"), "syntax error"),
                      (("ID", "10", "wrong_arg"), "syntax error")]:
        with pytest.raises(redis.ResponseError, match=msg):
            _raw(c2, "CLIENT", "KILL", *args)


def test_kill_self_with_skipme_no(pykey_server):
    c = _connect(pykey_server)
    cid = _raw(c, "CLIENT", "ID")
    assert _raw(c, "CLIENT", "KILL", "ID", str(cid), "SKIPME", "no") == 1
    with pytest.raises(redis.ConnectionError):
        c.connection.send_command("PING")
        c.connection.read_response()


def test_no_evict_no_touch(c2):
    assert _raw(c2, "CLIENT", "NO-EVICT", "on") == b"OK"
    assert _raw(c2, "CLIENT", "NO-TOUCH", "on") == b"OK"
    assert _fields(_raw(c2, "CLIENT", "INFO").decode())["flags"] == "eT"
    assert _raw(c2, "CLIENT", "NO-EVICT", "off") == b"OK"
    assert _raw(c2, "CLIENT", "NO-TOUCH", "off") == b"OK"
    with pytest.raises(redis.ResponseError, match="syntax error"):
        _raw(c2, "CLIENT", "NO-EVICT", "maybe")


def _sock_cmd(s: socket.socket, line: bytes, expect: bool = True) -> bytes:
    s.sendall(line + b"\r\n")
    if not expect:
        return b""
    time.sleep(0.1)
    return s.recv(65536)


def test_reply_off_skip_on(pykey_server):
    s = socket.create_connection((pykey_server.host, pykey_server.port))
    s.settimeout(2)
    try:
        _sock_cmd(s, b"CLIENT REPLY SKIP", expect=False)
        _sock_cmd(s, b"PING", expect=False)
        assert _sock_cmd(s, b"ECHO one") == b"$3\r\none\r\n"
        _sock_cmd(s, b"CLIENT REPLY OFF", expect=False)
        _sock_cmd(s, b"ECHO two", expect=False)
        assert _sock_cmd(s, b"CLIENT REPLY ON") == b"+OK\r\n"
        assert _sock_cmd(s, b"CLIENT REPLY maybe") == b"-ERR syntax error\r\n"
    finally:
        s.close()


def test_help_and_unknown(c2):
    lines = _raw(c2, "CLIENT", "HELP")
    assert lines[0].startswith(b"CLIENT <subcommand>")
    with pytest.raises(redis.ResponseError, match="unknown subcommand 'BOGUS'. Try CLIENT HELP."):
        _raw(c2, "CLIENT", "BOGUS")
