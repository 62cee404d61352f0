"""The Pub/Sub registry: who listens to which channel, shard channel or pattern, and PUBLISH.

Each registry maps a channel (or pattern) to the clients subscribed to it, in subscription
order (a dict used as an ordered set), and each client keeps the set of its own channels
(``Client.channels``, ``patterns``, ``shard_channels``; None when empty). Both sides change
together, so a channel with no subscriber left disappears, as in Valkey (PUBSUB CHANNELS
never lists it and memory does not grow with dead channels).

Messages are encoded once per protocol and written to every receiver: publishing to N
subscribers costs O(N) writes plus O(P) pattern matches (P = distinct patterns), as Valkey's
``pubsubPublishMessage``.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..datatypes.glob import compile_glob
from ..protocol.replies import Push

if TYPE_CHECKING:
    from .client import Client
    from .server import Server

Registry = dict[bytes, dict["Client", None]]


def _bulk(b: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(b), b)


_MESSAGE = _bulk(b"message")
_PMESSAGE = _bulk(b"pmessage")
_SMESSAGE = _bulk(b"smessage")


def message_frames(kind: bytes, parts: bytes, n: int) -> tuple[bytes, bytes]:
    """The RESP2 (array) and RESP3 (push) frames of a message whose ``n`` elements are
    already encoded in ``kind + parts``."""
    body = kind + parts
    return b"*%d\r\n" % n + body, b">%d\r\n" % n + body


class PubSub:
    """Channels, shard channels and patterns of one server."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.channels: Registry = {}
        self.shard_channels: Registry = {}
        self.patterns: Registry = {}
        self.matchers: dict[bytes, Callable[[bytes], object]] = {}
        self.pubsub_clients = 0          # clients with Valkey's "pubsub" flag (INFO pubsub_clients)
        server.client_close_hooks.append(self.forget_client)
        server.reset_hooks.append(self.forget_client)

    # ------------------------------------------------------------ counts
    @staticmethod
    def count(c: Client) -> int:
        """Channels plus patterns (what SUBSCRIBE/PSUBSCRIBE replies report)."""
        return len(c.channels or ()) + len(c.patterns or ())

    @staticmethod
    def shard_count(c: Client) -> int:
        return len(c.shard_channels or ())

    def _update_mode(self, c: Client) -> None:
        """Keep Valkey's per-client pubsub flag and the server's count of such clients."""
        active = bool(c.channels or c.patterns or c.shard_channels)
        if active != c.pubsub:
            c.pubsub = active
            self.pubsub_clients += 1 if active else -1

    # ------------------------------------------------------------ subscribe
    def subscribe(self, c: Client, channel: bytes, shard: bool = False) -> Push:
        """Add ``c`` to ``channel``; the confirmation push (sent even if already subscribed)."""
        if shard:
            mine = c.shard_channels
            if mine is None:
                mine = c.shard_channels = set()
            registry = self.shard_channels
        else:
            mine = c.channels
            if mine is None:
                mine = c.channels = set()
            registry = self.channels
        if channel not in mine:
            mine.add(channel)
            registry.setdefault(channel, {})[c] = None
        self._update_mode(c)
        if shard:
            return Push([b"ssubscribe", channel, self.shard_count(c)])
        return Push([b"subscribe", channel, self.count(c)])

    def psubscribe(self, c: Client, pattern: bytes) -> Push:
        mine = c.patterns
        if mine is None:
            mine = c.patterns = set()
        if pattern not in mine:
            mine.add(pattern)
            subs = self.patterns.get(pattern)
            if subs is None:
                subs = self.patterns[pattern] = {}
                self.matchers[pattern] = compile_glob(pattern)
            subs[c] = None
        self._update_mode(c)
        return Push([b"psubscribe", pattern, self.count(c)])

    # ------------------------------------------------------------ unsubscribe
    def _drop(self, registry: Registry, c: Client, name: bytes) -> None:
        subs = registry.get(name)
        if subs is not None:
            subs.pop(c, None)
            if not subs:
                del registry[name]
                if registry is self.patterns:
                    self.matchers.pop(name, None)

    def unsubscribe(self, c: Client, channel: bytes | None, shard: bool = False,
                    notify: bool = True) -> Push | None:
        """Remove ``c`` from ``channel`` (None: the "nothing to unsubscribe from" reply)."""
        attr = "shard_channels" if shard else "channels"
        mine: set[bytes] | None = getattr(c, attr)
        if channel is not None and mine is not None and channel in mine:
            mine.discard(channel)
            if not mine:
                setattr(c, attr, None)
            self._drop(self.shard_channels if shard else self.channels, c, channel)
        self._update_mode(c)
        if not notify:
            return None
        if shard:
            return Push([b"sunsubscribe", channel, self.shard_count(c)])
        return Push([b"unsubscribe", channel, self.count(c)])

    def punsubscribe(self, c: Client, pattern: bytes | None, notify: bool = True) -> Push | None:
        mine = c.patterns
        if pattern is not None and mine is not None and pattern in mine:
            mine.discard(pattern)
            if not mine:
                c.patterns = None
            self._drop(self.patterns, c, pattern)
        self._update_mode(c)
        if not notify:
            return None
        return Push([b"punsubscribe", pattern, self.count(c)])

    def unsubscribe_all(self, c: Client, shard: bool = False, notify: bool = True) -> list[Push]:
        mine = c.shard_channels if shard else c.channels
        out = [self.unsubscribe(c, ch, shard, notify) for ch in list(mine or ())]
        if notify and not out:
            out.append(self.unsubscribe(c, None, shard))
        return [p for p in out if p is not None]

    def punsubscribe_all(self, c: Client, notify: bool = True) -> list[Push]:
        out = [self.punsubscribe(c, p, notify) for p in list(c.patterns or ())]
        if notify and not out:
            out.append(self.punsubscribe(c, None))
        return [p for p in out if p is not None]

    def forget_client(self, c: Client) -> None:
        """A client went away (or RESET): drop every subscription silently."""
        if c.channels or c.patterns or c.shard_channels:
            self.unsubscribe_all(c, notify=False)
            self.unsubscribe_all(c, shard=True, notify=False)
            self.punsubscribe_all(c, notify=False)

    # ------------------------------------------------------------ publish
    def publish(self, channel: bytes, message: bytes) -> int:
        """Deliver to the channel's subscribers, then to every matching pattern's; returns
        the number of deliveries (a client matched twice counts twice, as in Valkey)."""
        receivers = 0
        subs = self.channels.get(channel)
        chan = _bulk(channel)
        msg = _bulk(message)
        if subs:
            m2, m3 = message_frames(_MESSAGE, chan + msg, 3)
            for c in tuple(subs):
                sink = c.sink
                if sink is not None:
                    sink(m3 if c.resp == 3 else m2)
            receivers += len(subs)
        if self.patterns:
            matchers = self.matchers
            for pattern, psubs in tuple(self.patterns.items()):
                if matchers[pattern](channel) is None:
                    continue
                m2, m3 = message_frames(_PMESSAGE, _bulk(pattern) + chan + msg, 4)
                for c in tuple(psubs):
                    sink = c.sink
                    if sink is not None:
                        sink(m3 if c.resp == 3 else m2)
                receivers += len(psubs)
        return receivers

    def spublish(self, channel: bytes, message: bytes) -> int:
        """Shard channels ignore patterns."""
        subs = self.shard_channels.get(channel)
        if not subs:
            return 0
        m2, m3 = message_frames(_SMESSAGE, _bulk(channel) + _bulk(message), 3)
        for c in tuple(subs):
            c.send(m3 if c.resp == 3 else m2)
        return len(subs)

    def _check(self) -> None:
        """Both sides of every registry agree (tests call this)."""
        for registry, attr in ((self.channels, "channels"), (self.shard_channels, "shard_channels"),
                               (self.patterns, "patterns")):
            for name, subs in registry.items():
                assert subs, f"empty subscriber dict for {name!r}"
                for c in subs:
                    assert name in (getattr(c, attr) or ()), (name, c.id)
        assert set(self.matchers) == set(self.patterns)
        for c in self.server.clients.values():
            for attr, registry in (("channels", self.channels), ("shard_channels", self.shard_channels),
                                   ("patterns", self.patterns)):
                mine = getattr(c, attr)
                assert mine is None or mine, "empty set must be None"
                for name in mine or ():
                    assert c in registry[name]
            assert c.pubsub == bool(c.channels or c.patterns or c.shard_channels)
