"""The hash value: a mapping of bytes to bytes that remembers Valkey's encoding and the
expiry times of its volatile fields (Valkey 9 per-field expiration).

Valkey stores a small hash as a listpack and converts it for good to a hashtable when it
gets too many fields, one too long a field or value, or its first field with a TTL (a
listpack cannot hold field TTLs); OBJECT ENCODING and the tests see which.

Layouts. A hashtable-encoded hash is a ``dict``. A listpack-encoded one (at most
:data:`SMALL_MAX` fields, :data:`PACKED_MAX` bytes) is packed the way a listpack is, in one
``bytes`` object: ``<s1><field><s2><value><s1><field><s2><value>...<s1>`` in insertion
order, where ``s1`` and ``s2`` are two bytes no field or value contains (0xFF and 0xFE
first, which UTF-8 text never holds; others are picked, and the bytes rewritten, when a
string brings them). So every access is one or two C-speed calls: a field is
``find(<s1><field><s2>)`` (it can match nowhere else), its value ends at the next ``s1``,
the size is ``count(s1) - 1``, and ``replace(s2, s1).split(s1)`` lists everything. Why: as
a dict, a 10-field hash of short strings took ~1,450 bytes (a dict table and two ``bytes``
objects per field, ~40 bytes each), packed ~160. Both layouts keep insertion order, as a
listpack does, so iteration order is the same either way.

Volatile fields live in ``ttl`` (field -> absolute expiry in ms) and in a min-heap of
``(when, field)`` pairs (Valkey keeps a "volatile set" ordered by expiry for the same job),
so finding the fields that are due costs O(k log V) for k due fields among V volatile ones.
Heap entries are invalidated lazily: an entry counts only while ``ttl[field] == when``; the
heap is rebuilt when stale entries outnumber live ones.

Complexity: get/set/delete a field O(1) (packed: O(N) C-speed search and copy, N <= 256);
set/clear a field TTL O(log V); ``pop_expired`` O(k log V); ``next_expiry`` O(1) amortised.
"""
from __future__ import annotations

import heapq
import sys
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from pykey.datatypes.framing import separators

LISTPACK, HASHTABLE = 0, 1
ENCODING_NAMES = ("listpack", "hashtable")
SMALL_MAX = 256             # the most fields the packed layout holds
PACKED_MAX = 1 << 16        # and the most bytes




class HashType:
    """A hash value; ``enc`` is the index of its encoding in :data:`ENCODING_NAMES`.

    It behaves as a mapping (``len``, ``in``, ``[]``, ``get``, iteration, ``keys``/
    ``values``/``items``, ``pop``, ``to_dict``); ``_d`` is the dict of a hashtable, or None
    while ``_lp`` holds the packed layout, framed by ``_s1`` (before each field and at the
    end) and ``_s2`` (before each value)."""

    __slots__ = ("_d", "_lp", "_s1", "_s2", "_enc", "ttl", "_heap")
    type_name = "hash"
    __hash__ = None           # type: ignore[assignment]   (a mutable mapping, like dict)

    def __init__(self, items: Iterable[tuple[bytes, bytes]] | dict = (), enc: int = LISTPACK) -> None:
        self._enc = enc
        self.ttl: dict[bytes, int] | None = None       # volatile fields only
        self._heap: list[tuple[int, bytes]] | None = None
        self._d: dict[bytes, bytes] | None = dict(items)
        self._lp = self._s1 = self._s2 = b""
        if enc == LISTPACK:
            self._pack()

    # ------------------------------------------------------------ layouts
    def _pack(self, flat: list[bytes] | None = None) -> bool:
        """Go to the packed layout (holding ``flat``, field, value, ... if given, else the
        dict's contents) if it fits."""
        if flat is None:
            d = self._d
            if d is None:
                return True
            flat = [x for kv in d.items() for x in kv]
        if len(flat) > 2 * SMALL_MAX or sum(map(len, flat)) + len(flat) >= PACKED_MAX:
            return False
        seps = separators(flat, 2)
        if seps is None:
            return False
        s1, s2 = seps
        parts = [s1]
        for i in range(0, len(flat), 2):
            parts += (flat[i], s2, flat[i + 1], s1)
        self._lp = b"".join(parts)
        self._s1, self._s2 = s1, s2
        self._d = None
        return True

    def _flat(self) -> list[bytes]:
        """field, value, field, value... of the packed layout, in order."""
        s1 = self._s1
        return self._lp.replace(self._s2, s1).split(s1)[1:-1]

    def _unpack(self) -> dict[bytes, bytes]:
        """Go to the dict layout (for good while the hash is a hashtable)."""
        d = self._d
        if d is None:
            flat = self._flat()
            d = self._d = dict(zip(flat[0::2], flat[1::2], strict=True))
            self._lp = self._s1 = self._s2 = b""
        return d

    @property
    def enc(self) -> int:
        return self._enc

    @enc.setter
    def enc(self, enc: int) -> None:
        self._enc = enc
        if enc == HASHTABLE:
            self._unpack()
        else:
            self._pack()

    def _put(self, field: bytes, value: bytes) -> bool:
        """Set a field in either layout (no encoding rules); True if it existed."""
        d = self._d
        if d is None:
            blob, s1, s2 = self._lp, self._s1, self._s2
            needle = s1 + field + s2          # a field holding a separator is never found
            p = blob.find(needle)
            if p >= 0:
                if s1 not in value and s2 not in value:
                    vs = p + len(needle)
                    new = b"".join((blob[:vs], value, blob[blob.find(s1, vs):]))
                    if len(new) < PACKED_MAX:
                        self._lp = new
                        return True
                    d = self._unpack()
                    d[field] = value
                    return True
            elif s1 not in field and s2 not in field and s1 not in value and s2 not in value:
                if len(blob) + len(field) + len(value) + 2 < PACKED_MAX and blob.count(s1) <= SMALL_MAX:
                    self._lp = b"".join((blob, field, s2, value, s1))
                    return False
                d = self._unpack()
                d[field] = value
                return False
            # a separator in the new string: frame with others, or go to the dict
            flat = self._flat()
            had = p >= 0
            if had:
                i = flat[0::2].index(field)
                flat[2 * i + 1] = value
            else:
                flat += (field, value)
            if len(flat) <= 2 * SMALL_MAX and self._pack(flat):
                return had
            d = self._unpack()
        had = field in d
        d[field] = value
        return had

    # ------------------------------------------------------------ mapping
    def __len__(self) -> int:
        d = self._d
        return len(d) if d is not None else self._lp.count(self._s1) - 1

    def __bool__(self) -> bool:
        d = self._d
        return bool(d) if d is not None else len(self._lp) > 1

    def __contains__(self, field: object) -> bool:
        d = self._d
        if d is not None:
            return field in d
        # a field holding a separator is never found: <s1>x<s2>y<s2> would need a value
        # holding s2, <s1>x<s1>y<s2> an entry without s2
        return field.__class__ is bytes and self._s1 + field + self._s2 in self._lp   # type: ignore[operator]

    def get(self, field: bytes, default: Any = None) -> Any:
        d = self._d
        if d is not None:
            return d.get(field, default)
        blob = self._lp
        s1 = self._s1
        needle = s1 + field + self._s2        # never found if the field holds a separator
        p = blob.find(needle)
        if p < 0:
            return default
        p += len(needle)
        return blob[p:blob.find(s1, p)]

    def __getitem__(self, field: bytes) -> bytes:
        d = self._d
        if d is not None:
            return d[field]
        value = self.get(field)
        if value is None:
            raise KeyError(field)
        return value

    def __setitem__(self, field: bytes, value: bytes) -> None:
        self._put(field, value)

    def __delitem__(self, field: bytes) -> None:
        d = self._d
        if d is not None:
            del d[field]
            return
        s1 = self._s1
        blob = self._lp
        p = blob.find(s1 + field + self._s2)
        if p < 0:
            raise KeyError(field)
        self._lp = blob[:p] + blob[blob.find(s1, p + len(field) + 2):]

    def pop(self, field: bytes, *default: Any) -> Any:
        d = self._d
        if d is not None:
            return d.pop(field, *default)
        value = self.get(field)
        if value is None:
            if default:
                return default[0]
            raise KeyError(field)
        del self[field]
        return value

    def __iter__(self) -> Iterator[bytes]:
        d = self._d
        return iter(d) if d is not None else iter(self._flat()[0::2])

    def keys(self) -> Any:
        d = self._d
        return d.keys() if d is not None else self._flat()[0::2]

    def values(self) -> Any:
        d = self._d
        return d.values() if d is not None else self._flat()[1::2]

    def items(self) -> Any:
        d = self._d
        if d is not None:
            return d.items()
        flat = self._flat()
        return list(zip(flat[0::2], flat[1::2], strict=True))

    def encoded_map(self, resp3: bool) -> bytes:
        """The whole hash as a RESP reply (HGETALL): a map in RESP3, a flat array in RESP2,
        encoded straight from the packed bytes."""
        d = self._d
        flat = self._flat() if d is None else [x for kv in d.items() for x in kv]
        parts = [b"%%%d\r\n" % (len(flat) // 2) if resp3 else b"*%d\r\n" % len(flat)]
        parts += [b"$%d\r\n%s\r\n" % (len(x), x) for x in flat]
        return b"".join(parts)

    def to_dict(self) -> dict[bytes, bytes]:
        """A plain dict copy (HGETALL's reply)."""
        d = self._d
        return dict(d) if d is not None else dict(self.items())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, HashType):
            other = other.to_dict()
        return isinstance(other, dict) and self.to_dict() == other

    def __repr__(self) -> str:
        return f"HashType({self.to_dict()!r}, enc={ENCODING_NAMES[self._enc]})"

    def encoding(self, config: Any = None) -> str:
        return ENCODING_NAMES[self._enc]

    def copy(self) -> HashType:
        out = HashType.__new__(HashType)
        out._enc = self._enc
        d = self._d
        out._d = dict(d) if d is not None else None
        out._lp = self._lp
        out._s1, out._s2 = self._s1, self._s2
        out.ttl = None
        out._heap = None
        if self.ttl:
            out.ttl = dict(self.ttl)
            out._heap = [(w, f) for f, w in out.ttl.items()]
            heapq.heapify(out._heap)
        return out

    def memory_usage(self, samples: int = 5) -> int:
        """MEMORY USAGE estimate: the packed bytes, or the dict plus sampled fields."""
        size = sys.getsizeof(self) + (sys.getsizeof(self.ttl) if self.ttl else 0)
        d = self._d
        if d is None:
            return size + sys.getsizeof(self._lp)
        size += sys.getsizeof(d)
        total = taken = 0
        for f, v in d.items():
            total += sys.getsizeof(f) + sys.getsizeof(v)
            taken += 1
            if taken >= samples:
                break
        return size + (total * len(d) // taken if taken else 0)

    def __reduce__(self) -> Any:
        return (_rebuild, (self.to_dict(), self._enc, dict(self.ttl) if self.ttl else None))

    # ------------------------------------------------------------ encoding rules
    def try_conversion(self, args: Sequence[bytes], config: Any) -> None:
        """hashTypeTryConversion: convert before a write whose arguments will not fit."""
        if self._enc != LISTPACK:
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
        if self._enc == LISTPACK:
            max_value = config["hash-max-listpack-value"]
            if len(field) > max_value or len(value) > max_value:
                self.enc = HASHTABLE
        update = self._put(field, value)
        if not keep_ttl and self.ttl and field in self.ttl:
            self._forget_ttl(field)
        if not update and self._enc == LISTPACK:      # only a new field crosses the limit
            d = self._d
            if (len(d) if d is not None else self._lp.count(self._s1) - 1) > config["hash-max-listpack-entries"]:
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
        """Invariants: bytes fields and values; the packed layout only for a listpack, its
        offsets matching its entries; every volatile field exists and has a live heap
        entry; a hash with volatile fields is a hashtable."""
        assert all(isinstance(k, bytes) and isinstance(v, bytes) for k, v in self.items())
        if self._d is None:
            blob, s1, s2 = self._lp, self._s1, self._s2
            assert self._enc == LISTPACK and len(s1) == len(s2) == 1 and s1 != s2
            assert blob.startswith(s1) and blob.endswith(s1) and len(blob) < PACKED_MAX
            entries = blob.split(s1)[1:-1]
            assert all(e.count(s2) == 1 for e in entries), "one value per field"
            fields = self._flat()[0::2]
            assert len(fields) == len(self) <= SMALL_MAX and len(set(fields)) == len(fields)
        if self.ttl is None:
            assert self._heap is None
            return
        assert self.ttl, "empty ttl dict must be None"
        assert self._enc == HASHTABLE and self._d is not None
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
