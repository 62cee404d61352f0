"""Keyspace notifications: ``notify-keyspace-events`` and the ``__keyspace@`` /
``__keyevent@`` channels.

Commands call ``server.notify(class, event, key, dbid)`` with Valkey's class letter
(g $ l s h z x e t m d n) and event name. While notifications are off the server's sink is
None and that call costs one attribute test; when they are on, an event of an enabled class
is published on ``__keyspace@<db>__:<key>`` (message: the event) when K is set, then on
``__keyevent@<db>__:<event>`` (message: the key) when E is set, as Valkey's
``notifyKeyspaceEvent`` does.

Other engine parts may need to see events whatever the configuration (client-side caching
must know which deletions were expirations): they register in ``Notifier.observers`` and
the sink stays installed while any observer is interested.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..keyspace import reads
from . import registry

if TYPE_CHECKING:
    from ..keyspace.database import Database
    from .server import Server

ALL_CLASSES = "g$lshzxetd"          # what 'A' stands for ('m' and 'n' are left out on purpose)


def parse_classes(text: str) -> tuple[frozenset[str], bool, bool]:
    """The enabled event classes and the K / E switches of a ``notify-keyspace-events`` value."""
    classes = set(text) - {"K", "E", "A"}
    if "A" in text:
        classes.update(ALL_CLASSES)
    return frozenset(classes), "K" in text, "E" in text


class Notifier:
    """Publishes keyspace events through the server's Pub/Sub registry."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.classes: frozenset[str] = frozenset()
        self.keyspace = False
        self.keyevent = False
        self.observers: list[Callable[[str, bytes, bytes, int], None]] = []
        server.notify_new = False        # Database.set/add test this before emitting "new"
        server.notify_keymiss = False
        server.config.watch("notify-keyspace-events", self._configure)
        self._configure(None, server.config["notify-keyspace-events"])

    def _configure(self, old: object, text: str) -> None:
        self.classes, self.keyspace, self.keyevent = parse_classes(text or "")
        self.refresh()

    @property
    def publishing(self) -> bool:
        return bool(self.classes) and (self.keyspace or self.keyevent)

    def refresh(self) -> None:
        """Install the sink only while somebody listens (keeps writes cheap otherwise)."""
        server = self.server
        on = self.publishing
        server.notify_new = on and "n" in self.classes
        server.notify_keymiss = on and "m" in self.classes
        server.notify_sink = self.emit if (on or self.observers) else None

    def key_missed(self, db: Database, key: bytes) -> None:
        key_missed(self.server, db.id, key)

    def emit(self, type_flag: str, event: bytes, key: bytes, dbid: int) -> None:
        for observer in self.observers:
            observer(type_flag, event, key, dbid)
        if type_flag not in self.classes:
            return
        pubsub = self.server.pubsub
        if self.keyspace:
            pubsub.publish(b"__keyspace@%d__:%s" % (dbid, key), event)
        if self.keyevent:
            pubsub.publish(b"__keyevent@%d__:%s" % (dbid, event), key)


# ---------------------------------------------------------------- key misses ('m')
# commands that read each key once, then look the destination up again for writing
_READ_EACH_ONCE = frozenset({"pfmerge"})
# XREAD looks every stream up twice (to resolve the IDs, then to serve): two events
_READ_TWICE = frozenset({"xread"})
_seen: tuple[int, set[bytes]] = (0, set())


def key_missed(server: Server, dbid: int, key: bytes) -> None:
    global _seen
    argv = server.current_argv
    if not argv:
        return
    cmd = registry.lookup(argv)
    if cmd is None:
        return
    if cmd.name in _READ_EACH_ONCE:
        if _seen[0] != id(argv):
            _seen = (id(argv), set())
        if key in _seen[1]:
            return
        _seen[1].add(key)
    elif not reads.emits_keymiss(cmd, argv, key):
        return
    server.notify("m", "keymiss", key, dbid)
    if cmd.name in _READ_TWICE:
        server.notify("m", "keymiss", key, dbid)
