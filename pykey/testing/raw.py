"""Below redis-py's conveniences: a raw RESP connection (exact bytes out; parsed replies,
lines or exact bytes in), replies without redis-py's callbacks, and RESP2 bytes as values.
For tests that check what redis-py hides: framing, pushes between replies, replies not
read yet, the shape a command's reply has on the wire."""
from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import hiredis
import redis

from .embedded import EmbeddedServer


class RawConnection:
    """A connection to ``port`` (or to the unix socket ``unix_path``); ``rcvbuf`` shrinks the
    receive buffer (set before connecting) to make a slow reader."""

    def __init__(self, port: int = 0, *, unix_path: str | None = None, rcvbuf: int | None = None,
                 timeout: float = 10) -> None:
        self.sock = socket.socket(socket.AF_UNIX if unix_path else socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect(unix_path or ("127.0.0.1", port))
        self.reader = hiredis.Reader()
        self.buf = b""              # bytes received but not handed to the reader yet

    def send(self, *args: bytes | str | int) -> None:
        parts = [a if isinstance(a, bytes) else str(a).encode() for a in args]
        self.sock.sendall(b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts))

    def read(self) -> Any:
        """The next reply, parsed (errors come back as hiredis.ReplyError values)."""
        if self.buf:
            self.reader.feed(self.buf)
            self.buf = b""
        while True:
            item = self.reader.gets()
            if item is not False:
                return item
            self.reader.feed(self._recv())

    def call(self, *args: bytes | str | int) -> Any:
        self.send(*args)
        return self.read()

    def read_bytes(self, n: int) -> bytes:
        """The next ``n`` bytes exactly as sent."""
        while len(self.buf) < n:
            self.buf += self._recv()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def expect(self, data: bytes) -> None:
        """The next bytes are exactly ``data`` (checks the framing itself)."""
        assert self.read_bytes(len(data)) == data

    def line(self) -> bytes:
        """The next line, without its CRLF."""
        while b"\r\n" not in self.buf:
            self.buf += self._recv()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def close(self) -> None:
        self.sock.close()

    def _recv(self) -> bytes:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        return chunk


@contextmanager
def redis_connections(srv: EmbeddedServer, timeout: float = 5) -> Iterator[Callable[[], redis.Connection]]:
    """Yield a maker of redis-py connections to ``srv`` (send a blocking command now, read its
    reply later); every connection made is closed on exit."""
    made: list[redis.Connection] = []

    def make() -> redis.Connection:
        c = redis.Connection(host=srv.host, port=srv.port, socket_timeout=timeout)
        c.connect()
        made.append(c)
        return c

    try:
        yield make
    finally:
        for c in made:
            c.disconnect()


def raw_reply(r: redis.Redis, *args: Any) -> Any:
    """A command's reply as the server shaped it (redis-py's reply callbacks not applied);
    an error reply raises redis.ResponseError."""
    conn = r.connection_pool.get_connection()
    try:
        conn.send_command(*args)
        data = conn.read_response()
    finally:
        r.connection_pool.release(conn)
    if isinstance(data, redis.ResponseError):
        raise data
    return data


def parse_resp2(buf: bytes, pos: int = 0, top: bool = True) -> Any:
    """A RESP2 reply's bytes as nested Python values (errors keep their '-')."""
    nl = buf.index(b"\r\n", pos)
    kind, head = buf[pos:pos + 1], buf[pos + 1:nl]
    pos = nl + 2
    if kind in (b"+", b"-"):
        value: Any = kind + head
    elif kind == b":":
        value = int(head)
    elif kind == b"$":
        n = int(head)
        value, pos = (None, pos) if n < 0 else (buf[pos:pos + n], pos + n + 2)
    else:
        n = int(head)
        value = None if n < 0 else []
        for _ in range(max(n, 0)):
            item, pos = parse_resp2(buf, pos, False)
            value.append(item)
    return value if top else (value, pos)
