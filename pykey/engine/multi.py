"""MULTI/EXEC state and WATCH, kept as Valkey's multi.c keeps them.

A client in MULTI holds a :class:`MultiState` (its queued commands). A queuing error sets
``client.multi_error`` (Valkey's DIRTY_EXEC: EXEC answers EXECABORT); a change to a watched
key sets ``client.dirty_cas`` (EXEC answers a null array). Once either flag is set the queue
is dropped and later commands are acknowledged with QUEUED but not stored, as Valkey does.

Watched keys live in ``server.watched_keys``: ``(dbid, key) -> [WatchedKey, ...]``, keyed by
the database *number* (SWAPDB swaps contents, not the clients watching a number). The touch
hook is attached to ``server.key_watchers`` only while some key is watched, so FLUSHALL and
writes cost nothing extra when nobody watches.

A watched key remembers whether it was absent, live or already logically expired (stale)
when WATCH ran; the rules below follow Valkey's touchWatchedKey/touchAllWatchedKeysInDb:
deleting a key that was stale at WATCH time is no logical change, nor is SWAPDB bringing
in a key that is already expired where there was none.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..keyspace.database import Database
    from .client import Client
    from .registry import Command
    from .server import Server

ABSENT, LIVE, STALE = 0, 1, 2


class MultiState(list):
    """The commands a client queued after MULTI: ``(Command, argv)`` pairs, in order."""
    __slots__ = ()


class WatchedKey:
    __slots__ = ("client", "ident", "state")

    def __init__(self, client: Client, ident: tuple[int, bytes], state: int) -> None:
        self.client = client
        self.ident = ident
        self.state = state


def key_state(db: Database, key: bytes) -> int:
    """ABSENT, LIVE or STALE (present but past its expiry time, not yet deleted)."""
    if key not in db.data:
        return ABSENT
    when = db.expires.get(key)
    if when is not None and when <= db.server.now_ms:
        return STALE
    return LIVE


# ---------------------------------------------------------------------- WATCH / UNWATCH
def watch_key(c: Client, key: bytes) -> None:
    """Valkey's watchForKey: O(1); watching a key twice in one database is a no-op."""
    ident = (c.db.id, key)
    watched = c.watched
    if watched is None:
        watched = c.watched = {}
    elif ident in watched:
        return
    server = c.server
    table = server.watched_keys
    if not table and touch_watched_key not in server.key_watchers:
        server.key_watchers.append(touch_watched_key)
    wk = WatchedKey(c, ident, key_state(c.db, key))
    table.setdefault(ident, []).append(wk)
    watched[ident] = wk


def unwatch_all(c: Client) -> None:
    """Forget every key ``c`` watches (the dirty flag is the caller's business)."""
    watched = c.watched
    if not watched:
        c.watched = None
        return
    server = c.server
    table = server.watched_keys
    for ident, wk in watched.items():
        waiters = table.get(ident)
        if waiters is not None:
            waiters.remove(wk)
            if not waiters:
                del table[ident]
    c.watched = None
    if not table and touch_watched_key in server.key_watchers:
        server.key_watchers.remove(touch_watched_key)


def touch_watched_key(db: Database, key: bytes) -> None:
    """The ``key_watchers`` hook: ``key`` in ``db`` was written, deleted or flushed."""
    waiters = db.server.watched_keys.get((db.id, key))
    if not waiters:
        return
    now = key_state(db, key)
    for wk in list(waiters):
        if wk.state == STALE:
            if now == ABSENT:          # an already expired key got deleted: no logical change
                wk.state = ABSENT
                continue
            if now == STALE:           # SWAPDB replaced a stale key with another stale key
                continue
        elif wk.state == ABSENT and now == STALE:
            wk.state = STALE           # SWAPDB brought in a key that is already expired
            continue
        mark_dirty(wk.client)


def mark_dirty(c: Client) -> None:
    """A watched key changed: EXEC will fail; drop the queue and the watches right away."""
    c.dirty_cas = True
    if c.multi:
        c.multi.clear()
    unwatch_all(c)


def watched_key_expired(c: Client) -> bool:
    """Valkey's isWatchedKeyExpired: a key live at WATCH time has expired since."""
    watched = c.watched
    if not watched:
        return False
    server = c.server
    now = server.now_ms
    for (dbid, key), wk in watched.items():
        if wk.state == STALE or dbid >= len(server.dbs):
            continue
        when = server.dbs[dbid].expires.get(key)
        if when is not None and when <= now:
            return True
    return False


# ---------------------------------------------------------------------- MULTI state
def queue_command(c: Client, cmd: Command, argv: list[bytes]) -> None:
    """Valkey's queueMultiCommand: nothing is kept once the transaction is doomed."""
    if not c.multi_error and not c.dirty_cas:
        c.multi.append((cmd, argv))


def discard_transaction(c: Client) -> None:
    """Valkey's discardTransaction: leave MULTI, clear both dirty flags, unwatch."""
    c.multi = None
    c.multi_error = False
    c.dirty_cas = False
    unwatch_all(c)


def queued_flags(c: Client, server: Server) -> set[str]:
    """The union of the flags of the queued commands (EXEC is judged by what it will run)."""
    flags: set[str] = set()
    for cmd, argv in c.multi or ():
        flags |= server.command_flags(c, cmd, argv)
    return flags

