"""Clients parked on keys (BLPOP, BLMOVE, BZPOPMIN, XREAD BLOCK...), served as Valkey's
"ready keys" are: a write marks a key ready, and after the command that wrote it the engine
retries the clients waiting on that key in the order they blocked.

A blocking command calls :func:`block` with a ``retry`` function that either produces the
reply (the command's non-blocking form succeeded) or returns ``MISS`` to keep waiting.
"""
from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .. import errors
from .server import BLOCKED

if TYPE_CHECKING:
    from ..keyspace.database import Database
    from .client import Client
    from .server import Server

MISS = object()


class Blocked:
    __slots__ = ("client", "db", "keys", "retry", "timeout_reply", "timer", "kind")

    def __init__(self, client: Client, db: Database, keys: list[bytes],
                 retry: Callable[[], Any], timeout_reply: Any, kind: str) -> None:
        self.client = client
        self.db = db
        self.keys = keys
        self.retry = retry
        self.timeout_reply = timeout_reply
        self.timer: Any = None
        self.kind = kind


def parse_timeout(arg: bytes) -> float:
    """Seconds, fractional allowed; Valkey's errors for junk and negative values."""
    try:
        value = float(arg)
    except ValueError:
        try:  # strtold also reads hexadecimal (0x1p3, 0x7FFF...), but only with its 0x prefix
            if not arg.lstrip(b"+-")[:2].lower() == b"0x":
                raise ValueError
            value = float.fromhex(arg.decode("latin-1"))
        except ValueError:
            raise errors.TIMEOUT_NOT_FLOAT from None
    if math.isnan(value) or math.isinf(value) or b"_" in arg or arg != arg.strip():
        raise errors.TIMEOUT_NOT_FLOAT
    if value * 1000 > 2**63 - 1:
        raise errors.TIMEOUT_OUT_OF_RANGE
    if value < 0:
        raise errors.TIMEOUT_NEGATIVE
    return value


def block(client: Client, keys: list[bytes], timeout: float, retry: Callable[[], Any],
          timeout_reply: Any, kind: str = "list") -> object:
    """Park ``client`` on ``keys`` until ``retry`` succeeds or ``timeout`` seconds pass (0: never)."""
    server = client.server
    db = client.db
    b = Blocked(client, db, list(dict.fromkeys(keys)), retry, timeout_reply, kind)
    client.blocked = b
    server.blocked_clients += 1
    for key in b.keys:
        server.blocking_keys.setdefault((db.id, key), deque()).append(b)
    if timeout > 0:
        b.timer = server.schedule(timeout, lambda: unblock(b, b.timeout_reply, timed_out=True))
    return BLOCKED


def unblock(b: Blocked, reply: Any, timed_out: bool = False) -> None:
    """Release a parked client with ``reply`` and let it run what it queued meanwhile."""
    client = b.client
    if client.blocked is not b:
        return
    server = client.server
    client.blocked = None
    server.blocked_clients -= 1
    for key in b.keys:
        waiters = server.blocking_keys.get((b.db.id, key))
        if waiters is not None:
            try:
                waiters.remove(b)
            except ValueError:
                pass
            if not waiters:
                del server.blocking_keys[(b.db.id, key)]
    if b.timer is not None and not timed_out:
        b.timer.cancel()
    if reply is not MISS:
        client.send_reply(reply)
    if client.resume is not None:
        client.resume()


def serve_ready(server: Server) -> None:
    """Retry the clients waiting on keys that were written, first blocked first served."""
    while server.ready_keys:
        ready = server.ready_keys
        server.ready_keys = []
        seen: set[tuple[int, bytes]] = set()
        for db, key in ready:
            ident = (db.id, key)
            if ident in seen:
                continue
            seen.add(ident)
            waiters = server.blocking_keys.get(ident)
            if not waiters:
                continue
            for b in list(waiters):
                if b.client.blocked is not b:
                    continue
                server.update_clock()
                server.executing = b.client
                try:
                    reply = b.retry()
                except errors.CommandError as e:
                    reply = e
                finally:
                    server.executing = None
                if reply is not MISS:
                    unblock(b, reply)
                if db.lookup(key) is None:
                    break


def forget_client(client: Client) -> None:
    """A blocked client disconnected: drop it from every queue."""
    b = client.blocked
    if b is not None:
        unblock(b, MISS)
