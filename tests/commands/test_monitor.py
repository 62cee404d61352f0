"""MONITOR: Valkey's line format, quoting, redaction, what is shown and what is not."""
from __future__ import annotations

import re

import pytest
import redis

from pykey.engine.monitor import format_line, repr_arg, shown_argv
from pykey.testing import EmbeddedServer
from pykey.testing.raw import RawConnection

LINE = re.compile(rb"^\+(\d+)\.(\d{6}) \[(\d+) ([^\]]+)\] (.*)\r\n$")


class Monitor(RawConnection):
    """A raw connection in MONITOR mode, read line by line (lines keep their CRLF)."""

    def __init__(self, srv: EmbeddedServer, path: str | None = None) -> None:
        super().__init__(srv.port, unix_path=path)

    def line(self) -> bytes:
        return super().line() + b"\r\n"

    def command(self) -> tuple[int, bytes, bytes]:
        """(db, origin, quoted arguments) of the next monitored command."""
        m = LINE.match(self.line())
        assert m is not None
        return int(m.group(3)), m.group(4), m.group(5)


@pytest.fixture
def mon(pykey_server, r, c):
    """A monitor started after ``c`` connected (its handshake is not in the stream)."""
    m = Monitor(pykey_server)
    m.send("MONITOR")
    assert m.line() == b"+OK\r\n"
    yield m
    m.close()


@pytest.fixture
def c(pykey_server):
    client = redis.Redis(host=pykey_server.host, port=pykey_server.port, socket_timeout=10,
                         single_connection_client=True)
    client.ping()
    yield client
    client.close()


def _addr(client: redis.Redis) -> bytes:
    info = client.client_info()
    return info["addr"].encode()


def test_monitor_logs_other_clients_commands(mon, c):
    c.set("foo", "bar")
    c.get("foo")
    db, origin, args = mon.command()
    assert (db, origin, args) == (0, _addr(c), b'"SET" "foo" "bar"')
    assert mon.command()[2] == b'"GET" "foo"'


def test_line_format_and_timestamp(mon, c):
    c.execute_command("ECHO", "x")
    line = mon.line()
    m = LINE.match(line)
    assert m is not None and line.startswith(b"+") and line.endswith(b'] "ECHO" "x"\r\n')
    import time
    assert abs(int(m.group(1)) - time.time()) < 60


def test_db_is_the_one_after_the_command(mon, c):
    c.execute_command("SELECT", "3")
    assert mon.command()[:1] == (3,)
    c.set("k", "v")
    assert mon.command()[0] == 3


def test_quoting_follows_sdscatrepr(mon, c):
    c.execute_command("ECHO", b'a"b\\c\n\r\t\x07\x08\x00\x7f\xff ~')
    assert mon.command()[2] == b'"ECHO" "a\\"b\\\\c\\n\\r\\t\\a\\b\\x00\\x7f\\xff ~"'


def test_repr_arg_unit():
    assert repr_arg(b"") == b'""'
    assert repr_arg(b"plain text") == b'"plain text"'
    assert repr_arg(bytes(range(0, 4))) == b'"\\x00\\x01\\x02\\x03"'
    assert repr_arg("é".encode()) == b'"\\xc3\\xa9"'


def test_auth_and_hello_are_redacted(mon, pykey_server):
    plain = Monitor(pykey_server)             # raw: redis-py reconnects after an auth error
    try:
        for args in (("AUTH", "secret"), ("AUTH", "user", "secret"), ("HELLO", "2", "AUTH", "u", "p"),
                     ("HELLO", "3", "SETNAME", "n", "AUTH", "u", "p")):
            plain.send(*args)
            assert plain.line().startswith(b"-")
    finally:
        plain.close()
    assert mon.command()[2] == b'"AUTH" "(redacted)"'
    assert mon.command()[2] == b'"AUTH" "(redacted)" "(redacted)"'
    assert mon.command()[2] == b'"HELLO" "2" "AUTH" "(redacted)" "(redacted)"'
    assert mon.command()[2] == b'"HELLO" "3" "SETNAME" "n" "AUTH" "(redacted)" "(redacted)"'


def test_redaction_rules():
    assert shown_argv("auth", [b"AUTH", b"a", b"b", b"c"]) == [b"AUTH", b"a", b"b", b"c"]   # syntax error
    assert shown_argv("hello", [b"HELLO", b"4", b"AUTH", b"u", b"p"]) == [b"HELLO", b"4", b"AUTH", b"u", b"p"]
    assert shown_argv("hello", [b"HELLO", b"3", b"AUTH", b"u"]) == [b"HELLO", b"3", b"AUTH", b"u"]
    assert shown_argv("migrate", [b"MIGRATE", b"h", b"1", b"", b"0", b"5", b"COPY", b"AUTH2", b"u", b"p",
                                  b"KEYS", b"a"]) == \
        [b"MIGRATE", b"h", b"1", b"", b"0", b"5", b"COPY", b"AUTH2", b"(redacted)", b"(redacted)", b"KEYS", b"a"]
    assert shown_argv("migrate", [b"MIGRATE", b"h", b"1", b"k", b"0", b"5", b"AUTH", b"pw"])[-1] == b"(redacted)"
    assert shown_argv("get", [b"GET", b"k"]) == [b"GET", b"k"]


def test_admin_commands_and_rejected_commands_are_not_shown(mon, c):
    c.config_get("maxmemory")
    c.client_list()
    with pytest.raises(redis.ResponseError):
        c.execute_command("NOSUCHCOMMAND")
    with pytest.raises(redis.ResponseError):
        c.execute_command("GET")
    c.execute_command("ECHO", "last")
    assert mon.command()[2] == b'"ECHO" "last"'


def test_multi_exec_order_and_aborted_transactions(mon, c):
    c.execute_command("MULTI")
    c.execute_command("SET", "foo", "bar")
    c.execute_command("EXEC")
    assert mon.command()[2] == b'"MULTI"'
    assert mon.command()[2] == b'"SET" "foo" "bar"'
    assert mon.command()[2] == b'"EXEC"'
    c.execute_command("MULTI")
    with pytest.raises(redis.ResponseError):
        c.execute_command("SYNTAX", "ERROR")
    with pytest.raises(redis.ResponseError):
        c.execute_command("EXEC")
    assert mon.command()[2] == b'"MULTI"'
    assert mon.command()[2] == b'"EXEC"'


def test_blocked_command_is_shown_once(mon, pykey_server, c):
    blocker = Monitor(pykey_server)          # a plain connection that blocks
    try:
        blocker.send("BLPOP", "mylist", "0")
        assert mon.command()[2] == b'"BLPOP" "mylist" "0"'
        c.lpush("mylist", "1")
        assert blocker.line() == b"*2\r\n"               # woken up
        c.lpush("mylist", "2")
        assert mon.command()[2] == b'"LPUSH" "mylist" "1"'
        assert mon.command()[2] == b'"LPUSH" "mylist" "2"'
    finally:
        blocker.close()


def test_monitor_client_state(mon, c):
    mon.send("PING")
    assert mon.line() == b"+PONG\r\n"
    assert mon.command()[2] == b'"PING"'               # a monitor sees its own commands too
    mon.send("GET", "x")                               # a monitor may not touch the keyspace
    assert mon.line() == b"-ERR Replica can't interact with the keyspace\r\n"
    mon.send("MONITOR")                                # already monitoring: no reply at all
    mon.send("ECHO", "after")
    assert mon.line() == b"$5\r\n"
    assert mon.line() == b"after\r\n"
    assert mon.command()[2] == b'"ECHO" "after"'
    lines = c.execute_command("CLIENT", "LIST").decode().splitlines()
    assert any(" flags=O " in line for line in lines)
    assert any(" flags=O " in line for line in c.execute_command("CLIENT", "LIST", "TYPE", "normal")
               .decode().splitlines())
    mon.send("RESET")
    assert mon.line() == b"+RESET\r\n"
    c.execute_command("ECHO", "not-shown")
    mon.send("GET", "x")                               # a plain client again
    assert mon.line() == b"$-1\r\n"


def test_monitor_output_in_resp3(pykey_server, c):
    m = Monitor(pykey_server)
    try:
        m.send("HELLO", "3")
        while m.line() != b"*0\r\n":                     # the HELLO map ends with modules: []
            pass
        m.send("MONITOR")
        assert m.line() == b"+OK\r\n"
        c.set("a", "b")
        assert m.command()[2] == b'"SET" "a" "b"'           # still a simple string
    finally:
        m.close()


def test_unix_socket_origin(pykey_factory, tmp_path):
    path = str(tmp_path / "pk.sock")
    srv = pykey_factory("--unixsocket", path)
    m = Monitor(srv, path)
    other = Monitor(srv, path)
    try:
        m.send("MONITOR")
        assert m.line() == b"+OK\r\n"
        other.send("PING")
        assert other.line() == b"+PONG\r\n"
        assert m.command() == (0, b"unix:" + path.encode(), b'"PING"')
    finally:
        m.close()
        other.close()


def test_format_line_for_scripts(pykey_server):
    from pykey.engine.client import Client
    engine = pykey_server.engine
    client = Client(engine, "127.0.0.1:5", "127.0.0.1:6379")
    engine.clients.pop(client.id, None)
    client.in_script = True
    assert format_line(client, 2, [b"set", b"k"], now=1339518083.107412) == \
        b'+1339518083.107412 [2 lua] "set" "k"\r\n'
    client.in_script = False
    assert format_line(client, 0, [b"keys", b"*"], now=1339518083.5) == \
        b'+1339518083.500000 [0 127.0.0.1:5] "keys" "*"\r\n'


def test_disconnected_monitor_is_forgotten(pykey_server, c):
    m = Monitor(pykey_server)
    m.send("MONITOR")
    assert m.line() == b"+OK\r\n"
    m.close()
    engine = pykey_server.engine
    import time
    for _ in range(200):
        c.ping()
        if pykey_server.call(lambda: len(engine.monitors)) == 0:
            break
        time.sleep(0.01)
    assert pykey_server.call(lambda: len(engine.monitors)) == 0


def test_config_set_redaction_and_slowlog(r):
    assert shown_argv("config|set", [b"CONFIG", b"SET", b"requirepass", b"pw", b"maxmemory", b"1"]) == \
        [b"CONFIG", b"SET", b"requirepass", b"(redacted)", b"maxmemory", b"1"]
    assert shown_argv("config|set", [b"CONFIG", b"SET", b"requirepass"]) == [b"CONFIG", b"SET", b"requirepass"]
    r.config_set("slowlog-log-slower-than", 0)
    try:
        r.slowlog_reset()
        with pytest.raises(redis.RedisError):
            r.execute_command("AUTH", "user", "secret-password")
        r.config_set("slowlog-log-slower-than", -1)
        logged = [entry["command"] for entry in r.slowlog_get(10)]
        assert b"AUTH (redacted) (redacted)" in logged or "AUTH (redacted) (redacted)" in logged
        assert not any(b"secret" in (x if isinstance(x, bytes) else x.encode()) for x in logged)
    finally:
        r.config_set("slowlog-log-slower-than", 10000)
