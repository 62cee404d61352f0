"""Client-side caching (CLIENT TRACKING): which clients may hold which keys, and the
invalidation messages sent when those keys change.

Two modes, as in Valkey's ``tracking.c``:

- default: after a read-only command, the keys it read are remembered with the reader's
  client id (``table``: key -> ids). When a key is modified, every remembered client gets
  one invalidation for it and the entry is dropped (it is re-created by the next read).
  The table is keyed by key name only (not by database), like Valkey's; it is bounded by
  ``tracking-table-max-keys``: past it, the oldest keys are invalidated early.
- BCAST: nothing is remembered per client. A modified key that starts with a registered
  prefix is collected for that prefix, and the collected keys are sent, once per event loop
  iteration, to every client registered on the prefix.

Invalidations go to the client itself (a RESP3 push) or to the client it redirects to (a
push if that client speaks RESP3, else a Pub/Sub message on ``__redis__:invalidate`` when it
is subscribed). A message for the client that is running the command arrives after that
command's reply, which the network layer guarantees (see ``net.connection``).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..protocol.encoder import encode_command

if TYPE_CHECKING:
    from ..keyspace.database import Database
    from .client import Client
    from .registry import Command
    from .server import Server

CHANNEL = b"__redis__:invalidate"
_INVALIDATE = b">2\r\n$10\r\ninvalidate\r\n"
_VIA_PUBSUB = b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n"
# read-only scripts are not tracked as a whole: the commands they run are
_NOT_REMEMBERED = frozenset({"eval_ro", "evalsha_ro", "fcall_ro"})
_BASE_EFFORT = 100            # keys invalidated per call once over tracking-table-max-keys


class ClientTracking:
    """One client's tracking options (Valkey keeps them as client flags)."""
    __slots__ = ("redirect", "bcast", "optin", "optout", "noloop", "caching", "broken", "prefixes")

    def __init__(self) -> None:
        self.redirect = 0
        self.bcast = False
        self.optin = False
        self.optout = False
        self.noloop = False
        self.caching = False
        self.broken = False
        self.prefixes: dict[bytes, None] = {}


class Bcast:
    """A BCAST prefix: its clients and the keys modified since the last broadcast (with the
    client that modified each last, so NOLOOP clients can skip their own changes)."""
    __slots__ = ("clients", "keys")

    def __init__(self) -> None:
        self.clients: dict[Client, None] = {}
        self.keys: dict[bytes, Client | None] = {}


class Tracking:
    """The server's tracking table and BCAST prefix table."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.table: dict[bytes, dict[int, None]] = {}
        self.total_items = 0
        self.prefixes: dict[bytes, Bcast] = {}
        self.clients = 0
        self.over_limit_calls = 0
        self.broadcast_scheduled = False
        self.expiring: set[bytes] = set()
        server.tracking_clients = 0
        server.client_close_hooks.append(self.disable)
        server.reset_hooks.append(self.disable)
        server.flush_hooks.append(self.on_flush)
        server.cron_hooks.append(self.limit_table)

    # ------------------------------------------------------------ on / off
    def enable(self, c: Client, redirect: int, bcast: bool, optin: bool, optout: bool,
               noloop: bool, prefixes: list[bytes]) -> None:
        t = c.tracking
        if t is None:
            t = c.tracking = ClientTracking()
            self._count(1)
        t.redirect = redirect
        t.broken = False
        t.bcast = bcast
        t.optin = optin
        t.optout = optout
        t.noloop = noloop
        if bcast:
            for prefix in prefixes or [b""]:
                state = self.prefixes.get(prefix)
                if state is None:
                    state = self.prefixes[prefix] = Bcast()
                if c not in state.clients:
                    state.clients[c] = None
                    t.prefixes[prefix] = None
            self._observe_expiry()

    def disable(self, c: Client) -> None:
        t = c.tracking
        if t is None:
            return
        for prefix in t.prefixes:
            state = self.prefixes.get(prefix)
            if state is not None:
                state.clients.pop(c, None)
                if not state.clients:
                    del self.prefixes[prefix]
        c.tracking = None
        self._count(-1)
        self._observe_expiry()

    def _count(self, delta: int) -> None:
        server = self.server
        self.clients += delta
        server.tracking_clients = self.clients
        if self.clients and self.on_key_modified not in server.key_watchers:
            server.key_watchers.append(self.on_key_modified)
        elif not self.clients:
            if self.on_key_modified in server.key_watchers:
                server.key_watchers.remove(self.on_key_modified)
            # nobody can be invalidated any more: forget what was remembered
            self.table.clear()
            self.total_items = 0

    def _observe_expiry(self) -> None:
        """BCAST needs to know which changes were expirations/evictions (made by no client),
        so it watches keyspace events while prefixes exist."""
        notifier = self.server.notifier
        watching = self._expiry_event in notifier.observers
        if self.prefixes and not watching:
            notifier.observers.append(self._expiry_event)
        elif not self.prefixes and watching:
            notifier.observers.remove(self._expiry_event)
        else:
            return
        notifier.refresh()

    def _expiry_event(self, type_flag: str, event: bytes, key: bytes, dbid: int) -> None:
        if event == b"expired" or event == b"evicted":
            for prefix, state in self.prefixes.items():
                if key.startswith(prefix) and key in state.keys:
                    state.keys[key] = None

    # ------------------------------------------------------------ remembering reads
    def after_call(self, c: Client, cmd: Command, argv: list[bytes], top: bool) -> None:
        """Called by the engine after every command while some client tracks keys."""
        if "readonly" in cmd.flags and cmd.name not in _NOT_REMEMBERED and "pubsub" not in cmd.flags:
            current = self.server.executing or c
            if current.kind == "script":
                current = self.server.current_client or c
            t = current.tracking
            if t is not None and not t.bcast and not ((t.optin and not t.caching) or (t.optout and t.caching)):
                self.remember(current.id, cmd.keys(argv))
        if top:
            t = c.tracking
            if t is not None and t.caching and c.multi is None and not cmd.name.startswith("client|"):
                t.caching = False
            self.limit_table()

    def remember(self, cid: int, keys: list[bytes]) -> None:
        table = self.table
        for key in keys:
            ids = table.get(key)
            if ids is None:
                ids = table[key] = {}
            if cid not in ids:
                ids[cid] = None
                self.total_items += 1

    # ------------------------------------------------------------ invalidation
    def on_key_modified(self, db: Database, key: bytes) -> None:
        server = self.server
        if server.flushing:          # FLUSHDB/FLUSHALL/SWAPDB: handled as a whole by on_flush
            return
        current = server.executing
        if current is not None and current.kind == "script":
            current = server.current_client      # a script's writes are its caller's
        if self.prefixes:
            self._remember_for_broadcast(key, current)
        ids = self.table.pop(key, None)
        if ids is None:
            return
        self.total_items -= len(ids)
        clients = server.clients
        frame = None
        for cid in ids:
            target = clients.get(cid)
            if target is None:
                continue
            t = target.tracking
            if t is None or t.bcast or (t.noloop and target is current):
                continue
            if frame is None:
                frame = encode_command([key])
            self.send(target, frame)

    def _remember_for_broadcast(self, key: bytes, who: Client | None) -> None:
        added = False
        for prefix, state in self.prefixes.items():
            if key.startswith(prefix):
                state.keys[key] = who
                added = True
        if added and not self.broadcast_scheduled:
            self.broadcast_scheduled = True
            try:
                self.server.schedule(0, self.broadcast)
            except RuntimeError:     # no event loop (engine used alone): send right away
                self.broadcast()

    def broadcast(self) -> None:
        """Send every prefix's collected keys to its clients (Valkey does it before sleeping)."""
        self.broadcast_scheduled = False
        for state in list(self.prefixes.values()):
            if not state.keys:
                continue
            keys = sorted(state.keys)        # Valkey walks a radix tree: sorted order
            common = encode_command(keys)
            for c in list(state.clients):
                t = c.tracking
                if t is not None and t.noloop:
                    own = [k for k in keys if state.keys[k] is not c]
                    if own:
                        self.send(c, encode_command(own))
                else:
                    self.send(c, common)
            state.keys = {}

    def send(self, c: Client, payload: bytes | None) -> None:
        """One invalidation message for tracking client ``c`` (payload: encoded key array,
        None for "everything", after a flush)."""
        t = c.tracking
        target = c
        redirected = False
        if t is not None and t.redirect:
            target = self.server.clients.get(t.redirect)
            if target is None:
                t.broken = True
                if c.resp > 2:
                    c.send(b">2\r\n$21\r\ntracking-redir-broken\r\n:%d\r\n" % t.redirect)
                return
            redirected = True
        if payload is None:
            payload = b"_\r\n" if target.resp > 2 else b"$-1\r\n"
        if target.resp > 2:
            target.send(_INVALIDATE + payload)
        elif redirected and target.pubsub:
            target.send(_VIA_PUBSUB + payload)

    def on_flush(self, dbid: int) -> None:
        """FLUSHDB/FLUSHALL: every tracking client gets a null invalidation; the table empties."""
        if self.clients:
            for c in list(self.server.clients.values()):
                if c.tracking is not None:
                    self.send(c, None)
        self.table.clear()
        self.total_items = 0

    def limit_table(self) -> None:
        """Over ``tracking-table-max-keys``: invalidate keys early, oldest first, with an
        effort that grows while the table stays over the limit (as Valkey's cron does)."""
        limit = self.server.config["tracking-table-max-keys"]
        table = self.table
        if not limit or len(table) <= limit:
            self.over_limit_calls = 0
            return
        effort = _BASE_EFFORT * (self.over_limit_calls + 1)
        clients = self.server.clients
        while effort > 0 and table and len(table) > limit:
            effort -= 1
            key = next(iter(table))
            ids = table.pop(key)
            self.total_items -= len(ids)
            frame = encode_command([key])
            for cid in ids:
                target = clients.get(cid)
                if target is not None and target.tracking is not None and not target.tracking.bcast:
                    self.send(target, frame)
        if len(table) <= limit:
            self.over_limit_calls = 0
        else:
            self.over_limit_calls += 1

    # ------------------------------------------------------------ introspection
    def info(self) -> dict[str, Any]:
        return {"tracking_total_keys": len(self.table), "tracking_total_items": self.total_items,
                "tracking_total_prefixes": len(self.prefixes)}

    def _check(self) -> None:
        assert self.total_items == sum(len(ids) for ids in self.table.values())
        assert all(self.table.values()), "empty id set left in the table"
        for prefix, state in self.prefixes.items():
            assert state.clients
            for c in state.clients:
                assert c.tracking is not None and c.tracking.bcast and prefix in c.tracking.prefixes
        assert self.clients == sum(1 for c in self.server.clients.values() if c.tracking is not None)
