"""Fixtures that put pykey beside a real server: Debian's redis-server 7.0 (the closest
relative installed on CI), on a free port, with persistence off."""
from __future__ import annotations

import socket
from collections.abc import Callable, Iterator

import pytest

from pykey.testing.processes import redis_server


class RawClient:
    """A RESP2 client that returns each reply's exact bytes, so that replies from two servers
    are compared byte for byte (type, error text and all)."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""

    def call(self, *args: bytes | str | int) -> bytes:
        parts = [a if isinstance(a, bytes) else str(a).encode() for a in args]
        self.sock.sendall(b"*%d\r\n" % len(parts)
                          + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts))
        while True:
            end = _reply_end(self.buf, 0)
            if end is not None:
                reply, self.buf = self.buf[:end], self.buf[end:]
                return reply
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("server closed the connection")
            self.buf += chunk

    def close(self) -> None:
        self.sock.close()


def _reply_end(buf: bytes, pos: int) -> int | None:
    """Where the reply starting at ``pos`` ends, or None if it is incomplete."""
    nl = buf.find(b"\r\n", pos)
    if nl < 0:
        return None
    kind, head = buf[pos:pos + 1], buf[pos + 1:nl]
    pos = nl + 2
    if kind in (b"+", b"-", b":"):
        return pos
    if kind == b"$":
        n = int(head)
        if n < 0:
            return pos
        return pos + n + 2 if len(buf) >= pos + n + 2 else None
    if kind == b"*":
        for _ in range(max(int(head), 0)):
            pos = _reply_end(buf, pos)
            if pos is None:
                return None
        return pos
    raise ValueError(f"unexpected reply type {kind!r}")


@pytest.fixture(scope="session")
def redis_port() -> Iterator[int]:
    with redis_server("redis-interop-") as port:
        yield port


@pytest.fixture
def redis_raw(redis_port: int) -> Iterator[RawClient]:
    c = RawClient(redis_port)
    c.call("FLUSHALL")
    yield c
    c.close()


@pytest.fixture
def pykey_raw(pykey_server) -> Iterator[RawClient]:
    c = RawClient(pykey_server.port)
    c.call("FLUSHALL")
    yield c
    c.close()


@pytest.fixture
def both(pykey_raw: RawClient, redis_raw: RawClient) -> Callable[..., bytes]:
    """Send one command to pykey and to redis-server (both flushed first): the same reply
    bytes from each, returned."""
    def call(*cmd: bytes | str | int) -> bytes:
        ours, theirs = pykey_raw.call(*cmd), redis_raw.call(*cmd)
        assert ours == theirs, cmd
        return ours
    return call


@pytest.fixture(scope="session")
def raw_client() -> type[RawClient]:
    """The RawClient class, for tests that open their own connections."""
    return RawClient
