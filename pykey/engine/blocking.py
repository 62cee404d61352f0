"""Clients parked on keys (BLPOP, BLMOVE, BZPOPMIN, XREAD BLOCK...), served as Valkey's
"ready keys" are: a write marks a key ready, and after the command that wrote it the engine
retries the clients waiting on that key in the order they blocked.

A blocking command calls :func:`block` with a ``retry`` function that either produces the
reply (the command's non-blocking form succeeded) or returns ``MISS`` to keep waiting.

As in Valkey's handleClientsBlockedOnKey, a parked client is retried only when the ready key
exists and holds the type it waits for (``kind`` names it: "list", "zset", "stream", the
values' ``type_name``), so a key deleted, or overwritten with another type, leaves it parked;
``unblock_on_nokey`` (XREADGROUP) retries it anyway. Serving is not re-entered: keys made
ready while serving (a BLMOVE feeding another waiter) are served by the same outer loop, in
order, which keeps Valkey's fairness.
"""
from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from .. import errors
from ..keyspace.database import type_name
from .server import BLOCKED

if TYPE_CHECKING:
    from ..keyspace.database import Database
    from .client import Client
    from .server import Server

MISS = object()


class Blocked:
    __slots__ = ("client", "db", "keys", "retry", "timeout_reply", "timer", "kind", "unblock_on_nokey",
                 "cmd", "argv", "usec")

    def __init__(self, client: Client, db: Database, keys: list[bytes],
                 retry: Callable[[], Any], timeout_reply: Any, kind: str,
                 unblock_on_nokey: bool = False) -> None:
        self.client = client
        self.db = db
        self.keys = keys
        self.retry = retry
        self.timeout_reply = timeout_reply
        self.timer: Any = None
        self.kind = kind
        self.unblock_on_nokey = unblock_on_nokey
        self.cmd: Any = None             # the blocked command, counted in stats when served
        self.argv: list[bytes] = []      # ...and slow-logged then, with the time it ran
        self.usec = 0


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


def deny_blocking(client: Client) -> bool:
    """Valkey's CLIENT_DENY_BLOCKING: inside MULTI/EXEC and scripts a blocking command acts
    as its non-blocking form (it answers its timeout reply at once)."""
    return client.multi is not None or client.in_script


def parse_pop_timeout(arg: bytes) -> float:
    """The timeout of BLPOP, BZPOPMIN & co.: seconds, rounded up to whole milliseconds as
    Valkey does."""
    return math.ceil(parse_timeout(arg) * 1000) / 1000


def pop_or_block(client: Client, keys: Iterable[bytes], attempt: Callable[[], Any], timeout: float,
                 timeout_reply: Any, kind: str = "list",
                 precheck: Callable[[], bool] | None = None) -> object:
    """Valkey's blocking pops and moves (BLPOP, BLMOVE, BZPOPMIN...): ``attempt()`` gives
    ``(reply, argv to propagate)`` or MISS. Served at once, the command propagates as that
    argv; else the client parks on ``keys`` and a pop served later propagates itself
    (Server.call already ran for the command that fed it). ``precheck``, when given, must
    pass before a parked client's attempt is retried."""
    got = attempt()
    if got is not MISS:
        client.propagate_argv = got[1]
        return got[0]

    def retry() -> Any:
        if precheck is not None and not precheck():
            return MISS
        got = attempt()
        if got is MISS:
            return MISS
        client.server.propagate(client.db.id, got[1])
        return got[0]

    return block(client, list(keys), timeout, retry, timeout_reply, kind)


def block(client: Client, keys: list[bytes], timeout: float, retry: Callable[[], Any],
          timeout_reply: Any, kind: str = "list", unblock_on_nokey: bool = False) -> object:
    """Park ``client`` on ``keys`` until ``retry`` succeeds or ``timeout`` seconds pass (0: never).
    ``kind`` is the type name a ready key must hold for ``retry`` to run. A client that may
    not block (:func:`deny_blocking`) gets ``timeout_reply`` right away."""
    if deny_blocking(client):
        return timeout_reply
    server = client.server
    db = client.db
    b = Blocked(client, db, list(dict.fromkeys(keys)), retry, timeout_reply, kind, unblock_on_nokey)
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
        cmd = b.cmd
        if cmd is not None:      # the command completes now: Valkey's updateStatsOnUnblock
            cmd.calls += 1
            if server.latency_tracking:
                from .latency import record
                record(cmd, b.usec)
            if isinstance(reply, errors.CommandError):
                cmd.failed_calls += 1
        if isinstance(reply, errors.CommandError):
            server.count_error(reply)   # errorstats and total_error_replies, as any error reply
        server.stat_numcommands += 1
        client.tot_cmds += 1
        if cmd is not None and b.usec >= server.slowlog_threshold >= 0 and "skip_slowlog" not in cmd.flags:
            from .monitor import shown_argv
            server.slowlog_add(client, shown_argv(cmd.name, b.argv), b.usec)
        client.send_reply(reply)
    if client.resume is not None:
        client.resume()


def serve_ready(server: Server) -> None:
    """Retry the clients waiting on keys that were written, first blocked first served."""
    if getattr(server, "serving_blocked", False):
        return                    # a nested call: the outer loop serves the new ready keys
    server.serving_blocked = True  # type: ignore[attr-defined]
    try:
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
                if waiters:
                    _serve_key(server, db, key, list(waiters))
    finally:
        server.serving_blocked = False  # type: ignore[attr-defined]


def _serve_key(server: Server, db: Database, key: bytes, waiters: list[Blocked]) -> None:
    """The clients parked on one ready key, in the order they blocked (those that were
    parked when the key became ready: a client parking again waits for the next write)."""
    for b in waiters:
        if b.client.blocked is not b:
            continue
        server.update_clock()
        value = db.data.get(key)
        if value is not None and db.is_expired(key):
            value = None
        if value is None or type_name(value) != b.kind:
            if not b.unblock_on_nokey:
                continue
        outer = server.executing
        server.executing = b.client
        try:
            reply = b.retry()
        except errors.CommandError as e:
            reply = e
        finally:
            server.executing = outer
        if reply is not MISS:
            unblock(b, reply)


def forget_client(client: Client) -> None:
    """A blocked client disconnected: drop it from every queue."""
    b = client.blocked
    if b is not None:
        unblock(b, MISS)
