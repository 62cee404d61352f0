"""The protocol over real TCP: raw sockets against the embedded server."""
from __future__ import annotations

import socket

import pytest


@pytest.fixture
def connect(pykey_server):
    socks: list[socket.socket] = []

    def make() -> socket.socket:
        s = socket.create_connection((pykey_server.host, pykey_server.port), timeout=10)
        socks.append(s)
        return s

    yield make
    for s in socks:
        s.close()


def read_until_closed(s: socket.socket) -> bytes:
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            return data
        data += chunk


def read_exactly(s: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = s.recv(65536)
        assert chunk, f"connection closed after {data!r}"
        data += chunk
    return data


@pytest.mark.parametrize("garbage,error", [
    (b"*abc\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
    (b"*1\r\nfoo\r\n", b"-ERR Protocol error: expected '$', got 'f'\r\n"),
    (b"*1\r\n$-5\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
    (b"*1\r\n$2000000000\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
    (b"*1\r\n:1\r\n", b"-ERR Protocol error: expected '$', got ':'\r\n"),
    (b"SET k \"v\r\n", b"-ERR Protocol error: unbalanced quotes in request\r\n"),
])
def test_garbage_closes_only_that_connection(connect, garbage, error):
    bad, good = connect(), connect()
    good.sendall(b"PING\r\n")
    assert read_exactly(good, 7) == b"+PONG\r\n"
    bad.sendall(b"*1\r\n$4\r\nPING\r\n" + garbage)
    assert read_until_closed(bad) == b"+PONG\r\n" + error
    good.sendall(b"*2\r\n$4\r\nECHO\r\n$2\r\nok\r\n")
    assert read_exactly(good, 8) == b"$2\r\nok\r\n"


def test_too_big_inline_request(connect):
    s = connect()
    s.sendall(b"x" * (64 * 1024 + 100))
    assert read_until_closed(s) == b"-ERR Protocol error: too big inline request\r\n"


def test_inline_ping_and_quoting(connect):
    s = connect()
    s.sendall(b"PING\r\n")
    assert read_exactly(s, 7) == b"+PONG\r\n"
    s.sendall(b'ECHO "a\\x41 b"\n')
    assert read_exactly(s, 10) == b"$4\r\naA b\r\n"
    s.sendall(b"\r\n   \r\nPING\r\n")      # empty lines are ignored
    assert read_exactly(s, 7) == b"+PONG\r\n"


def test_pipeline_of_1000_in_one_write(connect):
    s = connect()
    req = b"".join(b"*2\r\n$4\r\nECHO\r\n$%d\r\n%d\r\n" % (len(b"%d" % i), i) for i in range(1000))
    expected = b"".join(b"$%d\r\n%d\r\n" % (len(b"%d" % i), i) for i in range(1000))
    s.sendall(req)
    assert read_exactly(s, len(expected)) == expected


def test_pipeline_split_byte_by_byte(connect):
    s = connect()
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    req = b"*2\r\n$4\r\nECHO\r\n$5\r\nhello\r\nPING\r\n"
    for i in range(len(req)):
        s.sendall(req[i:i + 1])
    assert read_exactly(s, 18) == b"$5\r\nhello\r\n+PONG\r\n"
