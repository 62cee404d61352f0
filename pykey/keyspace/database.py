"""One numbered database: the dict of keys and the dict of expiry times.

Values are plain Python objects: ``bytes`` (a string that was set whole) and ``bytearray``
(a string grown in place by APPEND/SETRANGE/SETBIT, which Valkey reports as ``raw``) for
strings, and the collection classes of ``datatypes/`` for the rest. Every read goes through
:meth:`lookup` (lazy expiry); every write calls :meth:`signal_modified` so that WATCH and
client-side caching see it, and the server's ``notify`` for keyspace events.
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ..errors import WRONGTYPE
from . import reads

if TYPE_CHECKING:
    from ..engine.server import Server

STRING_TYPES = (bytes, bytearray)
_perf_ns = time.perf_counter_ns


def type_name(value: Any) -> str:
    cls = value.__class__
    if cls is bytes or cls is bytearray:
        return "string"
    return value.type_name


class Database:
    __slots__ = ("id", "data", "expires", "server", "avg_ttl", "expire_cursor", "expire_snapshot", "access",
                 "volatile_hashes")

    def __init__(self, server: Server, dbid: int) -> None:
        self.id = dbid
        self.server = server
        self.data: dict[bytes, Any] = {}
        self.expires: dict[bytes, int] = {}
        # LRU clock of the last access, or LFU time+counter, under an LRU/LFU policy only
        # (keyspace/eviction.py)
        self.access: dict[bytes, int] = {}
        self.avg_ttl = 0
        self.expire_cursor = 0
        self.expire_snapshot: list[bytes] | None = None
        # hashes holding fields with a TTL, for the active field-expiry pass (commands/hash.py)
        self.volatile_hashes: dict[bytes, Any] = {}

    def __len__(self) -> int:
        return len(self.data)

    # ------------------------------------------------------------ reads
    def lookup(self, key: bytes) -> Any:
        """The live value of ``key`` or None; expires it first if its time has passed."""
        expires = self.expires
        server = self.server
        if not (expires and key in expires and self._expire_if_needed(key)):
            value = self.data.get(key)
            if value is not None:
                if server.track_access:
                    server.touch(self, key)
                if server.read_mode and (server.read_mode == 1 or self._is_read(key)):
                    server.stat_keyspace_hits += 1
                return value
        if server.read_mode and (server.read_mode == 1 or self._is_read(key)):
            server.stat_keyspace_misses += 1
        if server.notify_keymiss:               # 'm' keyspace events ("keymiss")
            server.notifier.key_missed(self, key)
        return None

    def _is_read(self, key: bytes) -> bool:
        """For a write command that reads some keys (read_mode 2): is this lookup a read?"""
        from ..engine import registry
        argv = self.server.current_argv
        cmd = registry.lookup(argv) if argv else None
        return cmd is not None and reads.is_read(cmd, argv, key)

    def exists(self, key: bytes) -> bool:
        expires = self.expires
        server = self.server
        if not (expires and key in expires and self._expire_if_needed(key)) and key in self.data:
            if server.read_mode == 1:
                server.stat_keyspace_hits += 1
            return True
        if server.read_mode == 1:
            server.stat_keyspace_misses += 1
        if server.notify_keymiss:
            server.notifier.key_missed(self, key)
        return False

    def get_string(self, key: bytes) -> bytes | bytearray | None:
        value = self.lookup(key)
        if value is None:
            return None
        cls = value.__class__
        if cls is bytes or cls is bytearray:
            return value
        raise WRONGTYPE

    def get_typed(self, key: bytes, cls: type) -> Any:
        """The value if it is of ``cls``; None if absent; WRONGTYPE otherwise."""
        value = self.lookup(key)
        if value is None or value.__class__ is cls:
            return value
        raise WRONGTYPE

    # ------------------------------------------------------------ writes
    def set(self, key: bytes, value: Any, keepttl: bool = False) -> None:
        """Store ``value`` (overwriting), drop the TTL unless ``keepttl``, signal the change."""
        server = self.server
        if server.notify_sink is not None:
            # Valkey looks the key up for writing first: a key past its TTL expires ("expired")
            # and the write creates it anew ("new")
            if self.expires and key in self.expires:
                self._expire_if_needed(key)
            if server.notify_new and key not in self.data:
                server.notify("n", "new", key, self.id)
        if server.track_access:
            server.evictor.written(self, key, key in self.data)
        self.data[key] = value
        if not keepttl and self.expires:
            self.expires.pop(key, None)
        if server.key_watchers:                 # signal_modified, inlined: SET's hot path
            self.signal_modified(key)

    def add(self, key: bytes, value: Any) -> None:
        """Store a new key (the caller knows it is absent)."""
        server = self.server
        if server.notify_new:
            server.notify("n", "new", key, self.id)
        if server.track_access:
            server.evictor.created(self, key)
        self.data[key] = value
        if server.key_watchers:
            self.signal_modified(key)

    def delete(self, key: bytes) -> bool:
        """Remove ``key``; True if it existed (expired keys count as absent)."""
        if self.expires and key in self.expires:
            if self._expire_if_needed(key):
                return False
            del self.expires[key]
        value = self.data.pop(key, None)
        if value is None:
            return False
        self.access.pop(key, None)
        self.signal_modified(key)
        self.server.on_key_deleted(self, key, value)
        return True

    def unshare_string(self, key: bytes, value: bytes | bytearray) -> bytearray:
        """The key's string as a bytearray to change in place (Valkey's dbUnshareStringValue):
        a ``bytes`` value is replaced by a copy of itself, with no signal (nothing changed
        yet; the caller signals once it writes)."""
        if value.__class__ is bytearray:
            return value
        buf = bytearray(value)
        self.data[key] = buf
        return buf

    def remove_if_empty(self, key: bytes, value: Any) -> bool:
        """Collections delete their key when their last element goes."""
        if len(value) == 0:
            self.delete(key)
            return True
        return False

    def signal_modified(self, key: bytes) -> None:
        server = self.server
        if server.key_watchers:
            for fn in server.key_watchers:
                fn(self, key)

    def signal_ready(self, key: bytes) -> None:
        """A key that blocked clients may be waiting on received data."""
        self.server.signal_ready(self, key)

    # ------------------------------------------------------------ expiry
    def set_expire(self, key: bytes, when_ms: int) -> None:
        self.expires[key] = when_ms
        if self.server.is_replica:          # a writable replica expires what its clients set
            self.server.replica.expire_set(self, key)

    def get_expire(self, key: bytes) -> int:
        """Absolute expiry in ms, or -1 if the key is persistent."""
        return self.expires.get(key, -1)

    def persist(self, key: bytes) -> bool:
        return self.expires.pop(key, None) is not None

    def is_expired(self, key: bytes) -> bool:
        when = self.expires.get(key)
        return when is not None and when <= self.server.now_ms and self.server.expiry_allowed()

    def _expire_if_needed(self, key: bytes) -> bool:
        """Delete ``key`` if its time has come. True when the key is (logically) gone."""
        when = self.expires[key]
        server = self.server
        if when > server.now_ms:
            return False
        if not server.expiry_allowed():
            # a replica (or a paused server) reports the key as gone without deleting it
            return server.is_replica_view()
        self.delete_expired(key)
        return True

    def delete_expired(self, key: bytes) -> None:
        server = self.server
        t0 = _perf_ns() if server.latency_monitor_ms else 0     # the "expire-del" latency event
        del self.expires[key]
        value = self.data.pop(key)
        self.access.pop(key, None)
        server.stat_expiredkeys += 1
        self.signal_modified(key)
        server.on_key_deleted(self, key, value)
        if t0:
            del value                               # freed now, within the measured time
            server.latency_add("expire-del", (_perf_ns() - t0) // 1_000_000)
        server.notify("g", "expired", key, self.id, flag="x")
        if server.propagate_sinks:
            verb = b"UNLINK" if server.config["lazyfree-lazy-expire"] else b"DEL"
            server.propagate(self.id, [verb, key], expired=True)

    # ------------------------------------------------------------ whole-db operations
    def flush(self) -> int:
        removed = len(self.data)
        keys = list(self.data) if self.server.key_watchers else ()
        self.data = {}
        self.expires = {}
        self.access = {}
        self.expire_snapshot = None
        self.volatile_hashes = {}
        server = self.server
        server.flushing = True      # these signals are for WATCH; caching sees one flush
        try:
            for key in keys:
                self.signal_modified(key)
        finally:
            server.flushing = False
        return removed

    def iter_keys(self) -> Iterator[bytes]:
        return iter(list(self.data))

    def random_key(self) -> bytes | None:
        import random
        data = self.data
        for _ in range(100):
            if not data:
                return None
            # dict has no O(1) random pick; sample by index over a snapshot of keys is O(n).
            # random.choice over the keys view materialises a list only for this rare command.
            key = random.choice(list(data)) if len(data) < 64 else _random_key_large(data)
            if self.expires and key in self.expires and self._expire_if_needed(key):
                continue
            return key
        if self.server.is_replica and data and len(self.expires) >= len(data):
            return key      # every key may be logically expired on a replica: one anyway (Valkey)
        return None


def _random_key_large(data: dict) -> bytes:
    import itertools
    import random
    n = random.randrange(len(data))
    return next(itertools.islice(iter(data), n, None))
