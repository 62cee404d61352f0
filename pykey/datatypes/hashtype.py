"""The hash value: a dict of bytes to bytes that remembers Valkey's encoding and the
expiry times of its volatile fields (Valkey 9 per-field expiration).

Valkey stores a small hash as a listpack and converts it for good to a hashtable when it
gets too many fields, one too long a field or value, or its first field with a TTL (a
listpack cannot hold field TTLs); OBJECT ENCODING and the tests see which. We keep one dict
(insertion order matches a listpack's order) and the encoding name.

Volatile fields live in ``ttl`` (field -> absolute expiry in ms) and in a min-heap of
``(when, field)`` pairs (Valkey keeps a "volatile set" ordered by expiry for the same job),
so finding the fields that are due costs O(k log V) for k due fields among V volatile ones.
Heap entries are invalidated lazily: an entry counts only while ``ttl[field] == when``; the
heap is rebuilt when stale entries outnumber live ones.

Complexity: get/set/delete a field O(1); set/clear a field TTL O(log V); ``pop_expired``
O(k log V); ``next_expiry`` O(1) amortised.
"""
from __future__ import annotations

import heapq
from collections.abc import Sequence
from typing import Any

LISTPACK, HASHTABLE = 0, 1
ENCODING_NAMES = ("listpack", "hashtable")


class HashType(dict):
    """A hash value; ``enc`` is the index of its encoding in :data:`ENCODING_NAMES`."""

    __slots__ = ("enc", "ttl", "_heap")
    type_name = "hash"

    def __init__(self, *args: Any, enc: int = LISTPACK) -> None:
        super().__init__(*args)
        self.enc = enc
        self.ttl: dict[bytes, int] | None = None       # volatile fields only
        self._heap: list[tuple[int, bytes]] | None = None

    def encoding(self, config: Any = None) -> str:
        return ENCODING_NAMES[self.enc]

    def copy(self) -> HashType:
        out = HashType(self, enc=self.enc)
        if self.ttl:
            out.ttl = dict(self.ttl)
            out._heap = [(w, f) for f, w in out.ttl.items()]
            heapq.heapify(out._heap)
        return out

    def __reduce__(self) -> Any:
        return (_rebuild, (dict(self), self.enc, dict(self.ttl) if self.ttl else None))

    # ------------------------------------------------------------ encoding rules
    def try_conversion(self, args: Sequence[bytes], config: Any) -> None:
        """hashTypeTryConversion: convert before a write whose arguments will not fit."""
        if self.enc != LISTPACK:
            return
        if len(args) // 2 > config["hash-max-listpack-entries"]:
            self.enc = HASHTABLE
            return
        max_value = config["hash-max-listpack-value"]
        for a in args:
            if len(a) > max_value:
                self.enc = HASHTABLE
                return

    def set_field(self, field: bytes, value: bytes, config: Any, keep_ttl: bool = False) -> bool:
        """Set one field; True if it existed (an update). Converts as hashTypeSet does.
        Overwriting a field drops its TTL unless ``keep_ttl`` (HINCRBY, HSETEX KEEPTTL)."""
        if self.enc == LISTPACK:
            max_value = config["hash-max-listpack-value"]
            if len(field) > max_value or len(value) > max_value:
                self.enc = HASHTABLE
        update = field in self
        self[field] = value
        if not keep_ttl and self.ttl and field in self.ttl:
            self._forget_ttl(field)
        if self.enc == LISTPACK and len(self) > config["hash-max-listpack-entries"]:
            self.enc = HASHTABLE
        return update

    def delete_field(self, field: bytes) -> bool:
        """Remove ``field`` (and its TTL); True if it was there."""
        if field not in self:
            return False
        del self[field]
        if self.ttl and field in self.ttl:
            self._forget_ttl(field)
        return True

    # ------------------------------------------------------------ field TTLs
    def get_expiry(self, field: bytes) -> int:
        """Absolute expiry of ``field`` in ms, -1 when persistent (the field must exist)."""
        ttl = self.ttl
        return ttl.get(field, -1) if ttl else -1

    def set_expiry(self, field: bytes, when: int) -> None:
        """Give an existing field a TTL; the hash becomes a hashtable for good."""
        self.enc = HASHTABLE
        if self.ttl is None:
            self.ttl = {}
            self._heap = []
        self.ttl[field] = when
        heap = self._heap
        assert heap is not None
        heapq.heappush(heap, (when, field))
        if len(heap) > 2 * len(self.ttl) + 16:
            self._rebuild_heap()

    def persist(self, field: bytes) -> bool:
        """Drop the TTL of ``field``; True if it had one."""
        if self.ttl and field in self.ttl:
            self._forget_ttl(field)
            return True
        return False

    def next_expiry(self) -> int | None:
        """The earliest field expiry, or None when no field is volatile."""
        heap, ttl = self._heap, self.ttl
        if not ttl or not heap:
            return None
        while heap:
            when, field = heap[0]
            if ttl.get(field) == when:
                return when
            heapq.heappop(heap)
        return None

    def pop_expired(self, now: int, limit: int = 0) -> list[bytes]:
        """Delete the fields whose expiry is ``<= now`` (at most ``limit`` when non-zero) and
        return their names, earliest first."""
        out: list[bytes] = []
        heap, ttl = self._heap, self.ttl
        if not ttl or not heap:
            return out
        while heap and heap[0][0] <= now:
            when, field = heapq.heappop(heap)
            if ttl.get(field) != when:
                continue                       # a stale entry: TTL changed or removed
            del ttl[field]
            if field in self:
                del self[field]
                out.append(field)
            if limit and len(out) >= limit:
                break
        if not ttl:
            self.ttl = self._heap = None
        return out

    def _forget_ttl(self, field: bytes) -> None:
        ttl = self.ttl
        assert ttl is not None
        del ttl[field]
        if not ttl:
            self.ttl = self._heap = None
        elif self._heap is not None and len(self._heap) > 2 * len(ttl) + 16:
            self._rebuild_heap()

    def _rebuild_heap(self) -> None:
        ttl = self.ttl or {}
        self._heap = [(w, f) for f, w in ttl.items()]
        heapq.heapify(self._heap)

    def _check(self) -> None:
        """Invariants: bytes fields and values; every volatile field exists and has a live
        heap entry; a hash with volatile fields is a hashtable."""
        assert all(isinstance(k, bytes) and isinstance(v, bytes) for k, v in self.items())
        if self.ttl is None:
            assert self._heap is None
            return
        assert self.ttl, "empty ttl dict must be None"
        assert self.enc == HASHTABLE
        assert self._heap is not None
        live = {(w, f) for w, f in self._heap if self.ttl.get(f) == w}
        for f, w in self.ttl.items():
            assert f in self, "volatile field missing"
            assert (w, f) in live, "volatile field without heap entry"


def _rebuild(items: dict, enc: int, ttl: dict | None) -> HashType:
    out = HashType(items, enc=enc)
    if ttl:
        for f, w in ttl.items():
            out.set_expiry(f, w)
        out.enc = enc
    return out
