"""CLIENT PAUSE: delaying clients (not refusing them) until a pause ends.

As Valkey's pauseActions: each *purpose* (the CLIENT PAUSE command; later shutdown and
failover) pauses a set of *actions* until an end time; the server's paused actions are the
union of the purposes still running. WRITE mode pauses write and may-replicate commands
(plus expiry and eviction, so the data set does not change); ALL pauses every command.

A paused command is *postponed*: the client is parked (it counts in ``blocked_clients``
and shows flag ``b``), the transport keeps the command and whatever follows, and when the
pause ends or becomes less restrictive the command is run again from the top of
``execute``, where it may be postponed again.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING

from .blocking import MISS, Blocked, unblock
from .server import BLOCKED

if TYPE_CHECKING:
    from .client import Client
    from .server import Server

CLIENT_WRITE = 1 << 0
CLIENT_ALL = 1 << 1
EXPIRE = 1 << 2
EVICT = 1 << 3
REPLICA = 1 << 4
CLIENT_MASK = CLIENT_WRITE | CLIENT_ALL
WRITE_SET = CLIENT_WRITE | EXPIRE | EVICT | REPLICA
ALL_SET = CLIENT_ALL | EXPIRE | EVICT | REPLICA

BY_CLIENT_COMMAND = "client"


def _now_ms(server: Server) -> int:
    """The server's clock (``clock_offset_ms`` included), read fresh: a pause ends on time
    even when no command has run since."""
    return time.time_ns() // 1_000_000 + server.clock_offset_ms


def update(server: Server) -> None:
    """Recompute the paused actions; release postponed clients if the pause got lighter."""
    before = server.paused_actions
    now = _now_ms(server)
    actions = 0
    for purpose, (end, acts) in list(server.pause_purposes.items()):
        if end > now:
            actions |= acts
        else:
            del server.pause_purposes[purpose]
    server.paused_actions = actions
    if (actions & CLIENT_MASK) < (before & CLIENT_MASK):
        release_postponed(server)


def pause(server: Server, purpose: str, end_ms: int, actions: int) -> None:
    """Pause ``actions`` for ``purpose`` until ``end_ms`` (the later end time wins)."""
    old_end = server.pause_purposes.get(purpose, (0, 0))[0]
    end = max(old_end, end_ms)
    server.pause_purposes[purpose] = (end, actions)
    update(server)
    if server.paused_actions:
        delay = max(end - _now_ms(server), 0) / 1000 + 0.001
        try:
            server.schedule(delay, lambda: update(server))
        except RuntimeError:  # no event loop (a bare engine): the cron ends the pause
            pass


def unpause(server: Server, purpose: str) -> None:
    server.pause_purposes.pop(purpose, None)
    update(server)


def pause_by_client(server: Server, end_ms: int, pause_all: bool) -> None:
    """CLIENT PAUSE: ALL stays ALL until it ends, even if WRITE is asked meanwhile."""
    current = server.pause_purposes.get(BY_CLIENT_COMMAND, (0, 0))[1]
    actions = ALL_SET if pause_all or current & CLIENT_ALL else WRITE_SET
    pause(server, BY_CLIENT_COMMAND, end_ms, actions)


def must_postpone(server: Server, client: Client, cmd, argv: list[bytes]) -> bool:
    """processCommand's pause check; replicas (and monitors, which Valkey flags as replicas)
    are never paused."""
    update(server)
    actions = server.paused_actions
    if not actions & CLIENT_MASK or client.kind in ("replica", "monitor"):
        return False
    if actions & CLIENT_ALL:
        return True
    flags = server.command_flags(client, cmd, argv)
    if "write" in flags or "may_replicate" in flags:
        return True
    if cmd.name == "exec" and client.multi:
        from .multi import queued_flags
        queued = queued_flags(client, server)
        return "write" in queued or "may_replicate" in queued
    return False


def postpone(server: Server, client: Client) -> object:
    """Park ``client``; its transport keeps the command to run it again later."""
    b = Blocked(client, client.db, [], lambda: MISS, None, "postpone")
    client.blocked = b
    server.blocked_clients += 1
    server.postponed.append(b)
    return BLOCKED


def release_postponed(server: Server) -> None:
    """Let every postponed client run its command again (in the order they were paused)."""
    waiting = server.postponed
    server.postponed = []
    for b in waiting:
        if b.client.blocked is b:
            unblock(b, MISS)
