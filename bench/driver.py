"""Load that redis-benchmark cannot generate: command sequences (MULTI/EXEC blocks,
XREADGROUP then XACK of the delivered ID), bulk loading, and pub/sub subscribers.

The driver pre-encodes everything and writes it pipelined over several connections, so
the server, not this Python client, is the busy side; the figure that matters is the
server's CPU time per operation, which the client's speed does not change.
"""
from __future__ import annotations

import selectors
import socket
import threading
import time
from collections.abc import Callable, Iterable

from servers import encode

Batch = Callable[[int, int], bytes]      # (connection index, op index) -> encoded commands


def run_pipelined(port: int, ops: int, make: Batch, conns: int = 8, depth: int = 64,
                  replies_per_op: int = 1) -> float:
    """Send ``ops`` operations spread over ``conns`` connections, ``depth`` ops per write,
    reading every reply; returns the wall time in seconds."""
    socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(conns)]
    per_conn = [ops // conns + (1 if i < ops % conns else 0) for i in range(conns)]
    state = []
    for i, s in enumerate(socks):
        s.setblocking(False)
        state.append({"sent": 0, "pending": 0, "buf": b"", "n": per_conn[i]})
    sel = selectors.DefaultSelector()
    for i, s in enumerate(socks):
        sel.register(s, selectors.EVENT_READ, i)
    t0 = time.perf_counter()

    def refill(i: int) -> None:
        st = state[i]
        if st["pending"] or st["sent"] >= st["n"]:
            return
        k = min(depth, st["n"] - st["sent"])
        data = b"".join(make(i, st["sent"] + j) for j in range(k))
        st["sent"] += k
        st["pending"] = k * replies_per_op
        socks[i].setblocking(True)
        socks[i].sendall(data)
        socks[i].setblocking(False)

    for i in range(conns):
        refill(i)
    remaining = sum(1 for st in state if st["n"])
    while remaining:
        for key, _ in sel.select():
            i = key.data
            st = state[i]
            chunk = socks[i].recv(1 << 20)
            if not chunk:
                raise ConnectionError("server closed the connection")
            st["buf"] += chunk
            got, st["buf"] = _count_replies(st["buf"])
            st["pending"] -= got
            if st["pending"] <= 0:
                st["pending"] = 0
                if st["sent"] >= st["n"]:
                    sel.unregister(socks[i])
                    remaining -= 1
                else:
                    refill(i)
    elapsed = time.perf_counter() - t0
    for s in socks:
        s.close()
    return elapsed


def _count_replies(buf: bytes) -> tuple[int, bytes]:
    """How many complete top-level replies ``buf`` starts with, and the rest."""
    n = 0
    pos = 0
    while True:
        end = _reply_end(buf, pos)
        if end is None:
            return n, buf[pos:]
        n += 1
        pos = end


def _reply_end(buf: bytes, pos: int) -> int | None:
    nl = buf.find(b"\r\n", pos)
    if nl < 0:
        return None
    kind = buf[pos:pos + 1]
    if kind in (b"+", b"-", b":", b",", b"#", b"_"):
        return nl + 2
    count = int(buf[pos + 1:nl])
    if kind in (b"$", b"=", b"!"):
        if count < 0:
            return nl + 2
        end = nl + 2 + count + 2
        return end if end <= len(buf) else None
    if kind in (b"*", b"~", b">", b"%"):
        if count < 0:
            return nl + 2
        if kind == b"%":
            count *= 2
        pos = nl + 2
        for _ in range(count):
            pos = _reply_end(buf, pos)
            if pos is None:
                return None
        return pos
    raise ValueError(f"unexpected reply type {kind!r}")


def load(port: int, commands: Iterable[bytes], batch: int = 1000) -> None:
    """Send pre-encoded commands on one connection, pipelined, and wait for every reply."""
    with socket.create_connection(("127.0.0.1", port)) as s:
        chunk: list[bytes] = []
        for cmd in commands:
            chunk.append(cmd)
            if len(chunk) == batch:
                _send_and_drain(s, chunk)
                chunk = []
        if chunk:
            _send_and_drain(s, chunk)


def _send_and_drain(s: socket.socket, chunk: list[bytes]) -> None:
    s.sendall(b"".join(chunk))
    want = len(chunk)
    buf = b""
    while want:
        data = s.recv(1 << 20)
        if not data:
            raise ConnectionError("server closed the connection")
        buf += data
        got, buf = _count_replies(buf)
        want -= got


class Subscribers:
    """``n`` connections subscribed to ``channel`` that read and discard in a thread, so
    that the publisher's cost includes delivering every message."""

    def __init__(self, port: int, channel: str, n: int) -> None:
        self.socks = []
        for _ in range(n):
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(encode("SUBSCRIBE", channel))
            buf = b""
            while not buf.endswith(b"\r\n") or buf.count(b"\r\n") < 6:
                buf += s.recv(4096)
            s.setblocking(False)
            self.socks.append(s)
        self.received = 0
        self._stop = False
        self.thread = threading.Thread(target=self._drain, daemon=True)
        self.thread.start()

    def _drain(self) -> None:
        sel = selectors.DefaultSelector()
        for s in self.socks:
            sel.register(s, selectors.EVENT_READ)
        while not self._stop:
            for key, _ in sel.select(0.2):
                try:
                    self.received += len(key.fileobj.recv(1 << 20))
                except BlockingIOError:
                    pass

    def close(self) -> None:
        self._stop = True
        self.thread.join()
        for s in self.socks:
            s.close()


