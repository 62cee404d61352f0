"""A connected client as the engine sees it: state, not sockets.

The network layer (or the embedded server, or a script) owns the transport and gives the
client a ``sink`` for replies that arrive outside the request/reply flow (pub/sub messages,
the reply to a client that was blocked, invalidations).
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..keyspace.database import Database
    from .server import Server


class Client:
    __slots__ = (
        "id", "server", "db", "resp", "name", "lib_name", "lib_ver", "authenticated", "user",
        "addr", "laddr", "fd", "kind", "created", "last_interaction", "last_cmd", "reply_mode",
        "no_evict", "no_touch", "flags", "sink", "closer", "multi", "multi_error", "dirty_cas", "watched",
        "blocked", "propagate_argv", "close_after_reply", "obuf_bytes", "qbuf_bytes",
        "tot_net_in", "tot_net_out", "tot_cmds", "channels", "patterns", "shard_channels",
        "tracking", "in_script", "resume", "extra", "pubsub", "obuf_size",
    )

    def __init__(self, server: Server, addr: str = "", laddr: str = "", fd: int = -1,
                 kind: str = "normal") -> None:
        self.server = server
        self.id = server.next_client_id()
        self.db: Database = server.dbs[0]
        self.resp = 2
        self.name: bytes | None = None
        self.lib_name: bytes | None = None
        self.lib_ver: bytes | None = None
        self.authenticated = not server.config["requirepass"]
        self.user = "default"
        self.addr = addr
        self.laddr = laddr
        self.fd = fd
        self.kind = kind
        self.created = time.time()
        self.last_interaction = self.created
        self.last_cmd = "NULL"
        self.reply_mode = "on"                     # on | off | skip | skip-next
        self.no_evict = False
        self.no_touch = False
        self.flags = ""
        self.sink: Callable[[bytes], None] | None = None
        self.closer: Callable[[], None] | None = None
        self.multi: list | None = None             # queued commands while in MULTI (engine.multi)
        self.multi_error = False                   # a command failed to queue: EXEC aborts
        self.dirty_cas = False                     # a WATCHed key changed: EXEC fails
        self.watched: dict | None = None           # (dbid, key) -> engine.multi.WatchedKey
        self.blocked: Any = None                   # engine.blocking.Blocked while parked
        self.propagate_argv: list[bytes] | None = None
        self.close_after_reply = False
        self.obuf_bytes = 0
        self.qbuf_bytes = 0
        self.tot_net_in = 0
        self.tot_net_out = 0
        self.tot_cmds = 0
        self.channels: set[bytes] | None = None
        self.patterns: set[bytes] | None = None
        self.shard_channels: set[bytes] | None = None
        self.tracking: Any = None                  # engine.tracking.ClientTracking while on
        self.pubsub = False                        # Valkey's pubsub flag: any (s/p)subscription
        # bytes written but not yet taken by the kernel (the transport provides it)
        self.obuf_size: Callable[[], int] | None = None
        self.in_script = False
        self.resume: Callable[[], None] | None = None   # the transport continues after unblocking
        self.extra: dict[str, Any] = {}

    @property
    def dbid(self) -> int:
        return self.db.id

    def send(self, data: bytes) -> None:
        """Write bytes outside the request/reply flow (pushes, deferred replies)."""
        if self.sink is not None:
            self.sink(data)

    def send_reply(self, value: Any) -> None:
        from ..protocol.encoder import encode
        self.send(encode(value, self.resp == 3))

    def close(self) -> None:
        """Ask the transport to close this client (CLIENT KILL, QUIT, limits)."""
        if self.closer is not None:
            self.closer()

    def subscriptions(self) -> int:
        return len(self.channels or ()) + len(self.patterns or ())

    def flag_string(self) -> str:
        f = ""
        if self.kind == "replica":
            f += "S"
        elif self.kind == "monitor":
            f += "O"
        if self.kind == "master":
            f += "M"
        if self.subscriptions() or self.shard_channels:
            f += "P"
        if self.multi is not None:
            f += "x"
        if self.blocked is not None:
            f += "b"
        t = self.tracking
        if t is not None:
            f += "t"
            if t.broken:
                f += "R"
            if t.bcast:
                f += "B"
        if self.dirty_cas:
            f += "d"
        if self.close_after_reply:
            f += "c"
        if self.laddr.startswith("/"):     # a unix socket client
            f += "U"
        if self.no_evict:
            f += "e"
        if self.no_touch:
            f += "T"
        return f or "N"
