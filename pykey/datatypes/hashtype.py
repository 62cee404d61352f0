"""The hash value: a mapping of bytes to bytes that remembers Valkey's encoding and the
expiry times of its volatile fields (Valkey 9 per-field expiration).

Valkey stores a small hash as a listpack and converts it for good to a hashtable when it
gets too many fields, one too long a field or value, or its first field with a TTL (a
listpack cannot hold field TTLs); OBJECT ENCODING and the tests see which.

Layouts. A hashtable-encoded hash is a ``dict``. A listpack-encoded one (at most
:data:`SMALL_MAX` fields, no field or value longer than 255 bytes) is packed the way a
listpack is: one ``bytes`` object holding ``<len><field><len><value>`` per field, in
insertion order, and an ``array`` of where each field starts. A field is found with one
C-speed ``bytes.find`` of ``<len><field>`` (a hit that is not at an entry start, inside
another string, is skipped: the start is checked by bisecting the array). Why: as a dict
a 10-field hash of short strings took ~1,450 bytes (a dict table and two ``bytes``
objects per field, ~40 bytes each), packed ~230. Both layouts keep insertion order, as a
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
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

LISTPACK, HASHTABLE = 0, 1
ENCODING_NAMES = ("listpack", "hashtable")
SMALL_MAX = 256             # the most fields the packed layout holds
_LEN = [bytes((i,)) for i in range(256)]


def _packed(items: Iterable[tuple[bytes, bytes]]) -> tuple[bytes, array] | None:
    """The packed form of ``items`` (unique fields), or None when it does not fit."""
    parts: list[bytes] = []
    offs: list[int] = []
    pos = 0
    for f, v in items:
        lf, lv = len(f), len(v)
        if lf > 255 or lv > 255:
            return None
        offs.append(pos)
        parts += (_LEN[lf], f, _LEN[lv], v)
        pos += lf + lv + 2
    if len(offs) > SMALL_MAX:
        return None
    return b"".join(parts), array("H" if pos < 65536 else "I", offs)


class HashType:
    """A hash value; ``enc`` is the index of its encoding in :data:`ENCODING_NAMES`.

    It behaves as a mapping (``len``, ``in``, ``[]``, ``get``, iteration, ``keys``/
    ``values``/``items``, ``pop``, ``to_dict``); ``_d`` is the dict of a hashtable, or None
    while ``_lp``/``_offs`` hold the packed layout."""

    __slots__ = ("_d", "_lp", "_offs", "_enc", "ttl", "_heap")
    type_name = "hash"
    __hash__ = None           # type: ignore[assignment]   (a mutable mapping, like dict)

    def __init__(self, items: Iterable[tuple[bytes, bytes]] | dict = (), enc: int = LISTPACK) -> None:
        self._enc = enc
        self.ttl: dict[bytes, int] | None = None       # volatile fields only
        self._heap: list[tuple[int, bytes]] | None = None
        d = dict(items)
        self._d: dict[bytes, bytes] | None = d
        self._lp = b""
        self._offs: array = array("H")
        if enc == LISTPACK:
            self._pack()

    # ------------------------------------------------------------ layouts
    def _pack(self) -> None:
        """Go to the packed layout if the fields fit it."""
        d = self._d
        if d is None:
            return
        got = _packed(d.items())
        if got is not None:
            self._lp, self._offs = got
            self._d = None

    def _unpack(self) -> dict[bytes, bytes]:
        """Go to the dict layout (for good while the hash is a hashtable)."""
        d = self._d
        if d is None:
            d = self._d = dict(self.items())
            self._lp = b""
            self._offs = array("H")
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

    def _find(self, field: bytes) -> int:
        """The index of ``field`` in the packed layout, -1 if absent."""
        if len(field) > 255:
            return -1
        needle = _LEN[len(field)] + field
        blob, offs = self._lp, self._offs
        pos = blob.find(needle)
        while pos >= 0:
            i = bisect_left(offs, pos)
            if i < len(offs) and offs[i] == pos:
                return i
            pos = blob.find(needle, pos + 1)
        return -1

    def _value_at(self, i: int) -> bytes:
        blob = self._lp
        a = self._offs[i]
        b = a + 1 + blob[a]
        return blob[b + 1:b + 1 + blob[b]]

    def _put(self, field: bytes, value: bytes) -> bool:
        """Set a field in either layout (no encoding rules); True if it existed."""
        d = self._d
        if d is None:
            lf, lv = len(field), len(value)
            if lf <= 255 and lv <= 255:
                blob, offs = self._lp, self._offs
                # _find, inlined
                needle = _LEN[lf] + field
                pos = blob.find(needle)
                while pos >= 0:
                    i = bisect_left(offs, pos)
                    if i < len(offs) and offs[i] == pos:
                        break
                    pos = blob.find(needle, pos + 1)
                if pos < 0:
                    if len(offs) < SMALL_MAX:
                        size = len(blob)
                        if size + lf + lv + 2 > 65535 and offs.typecode == "H":
                            self._offs = offs = array("I", offs)
                        offs.append(size)
                        self._lp = b"".join((blob, needle, _LEN[lv], value))
                        return False
                else:
                    end = offs[i + 1] if i + 1 < len(offs) else len(blob)
                    old = end - pos
                    self._lp = new = b"".join((blob[:pos], needle, _LEN[lv], value, blob[end:]))
                    delta = lf + lv + 2 - old
                    if delta:
                        if len(new) > 65535 and offs.typecode == "H":
                            self._offs = offs = array("I", offs)
                        for j in range(i + 1, len(offs)):
                            offs[j] += delta
                    return True
            d = self._unpack()          # the packed layout cannot hold it
        had = field in d
        d[field] = value
        return had

    # ------------------------------------------------------------ mapping
    def __len__(self) -> int:
        d = self._d
        return len(d) if d is not None else len(self._offs)

    def __bool__(self) -> bool:
        d = self._d
        return bool(d) if d is not None else bool(self._offs)

    def __contains__(self, field: object) -> bool:
        d = self._d
        if d is not None:
            return field in d
        return field.__class__ is bytes and self._find(field) >= 0    # type: ignore[arg-type]

    def get(self, field: bytes, default: Any = None) -> Any:
        d = self._d
        if d is not None:
            return d.get(field, default)
        # _find and _value_at, inlined: HGET's path
        lf = len(field)
        if lf > 255:
            return default
        blob = self._lp
        needle = _LEN[lf] + field
        pos = blob.find(needle)
        while pos >= 0:
            offs = self._offs
            i = bisect_left(offs, pos)
            if i < len(offs) and offs[i] == pos:
                b = pos + 1 + lf
                return blob[b + 1:b + 1 + blob[b]]
            pos = blob.find(needle, pos + 1)
        return default

    def __getitem__(self, field: bytes) -> bytes:
        d = self._d
        if d is not None:
            return d[field]
        i = self._find(field)
        if i < 0:
            raise KeyError(field)
        return self._value_at(i)

    def __setitem__(self, field: bytes, value: bytes) -> None:
        self._put(field, value)

    def __delitem__(self, field: bytes) -> None:
        d = self._d
        if d is not None:
            del d[field]
            return
        i = self._find(field)
        if i < 0:
            raise KeyError(field)
        blob, offs = self._lp, self._offs
        a = offs[i]
        end = offs[i + 1] if i + 1 < len(offs) else len(blob)
        self._lp = blob[:a] + blob[end:]
        del offs[i]
        gone = end - a
        for j in range(i, len(offs)):
            offs[j] -= gone

    def pop(self, field: bytes, *default: Any) -> Any:
        d = self._d
        if d is not None:
            return d.pop(field, *default)
        i = self._find(field)
        if i < 0:
            if default:
                return default[0]
            raise KeyError(field)
        value = self._value_at(i)
        del self[field]
        return value

    def __iter__(self) -> Iterator[bytes]:
        d = self._d
        return iter(d) if d is not None else iter(self.keys())

    def keys(self) -> Any:
        d = self._d
        if d is not None:
            return d.keys()
        blob = self._lp
        return [blob[a + 1:a + 1 + blob[a]] for a in self._offs]

    def values(self) -> Any:
        d = self._d
        if d is not None:
            return d.values()
        blob = self._lp
        out = []
        for a in self._offs:
            b = a + 1 + blob[a]
            out.append(blob[b + 1:b + 1 + blob[b]])
        return out

    def items(self) -> Any:
        d = self._d
        if d is not None:
            return d.items()
        blob = self._lp
        out = []
        append = out.append
        for a in self._offs:
            b = a + 1 + blob[a]
            append((blob[a + 1:b], blob[b + 1:b + 1 + blob[b]]))
        return out

    def encoded_map(self, resp3: bool) -> bytes:
        """The whole hash as a RESP reply (HGETALL): a map in RESP3, a flat array in RESP2,
        encoded straight from the packed bytes."""
        n = len(self)
        parts = [b"%%%d\r\n" % n if resp3 else b"*%d\r\n" % (2 * n)]
        append = parts.append
        d = self._d
        if d is not None:
            for f, v in d.items():
                append(b"$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(f), f, len(v), v))
            return b"".join(parts)
        blob = self._lp
        for a in self._offs:
            lf = blob[a]
            b = a + 1 + lf
            lv = blob[b]
            append(b"$%d\r\n%s\r\n$%d\r\n%s\r\n" % (lf, blob[a + 1:b], lv, blob[b + 1:b + 1 + lv]))
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
        out._offs = array(self._offs.typecode, self._offs)
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
            return size + sys.getsizeof(self._lp) + sys.getsizeof(self._offs)
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
            if (len(d) if d is not None else len(self._offs)) > config["hash-max-listpack-entries"]:
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
            assert self._enc == LISTPACK and len(self._offs) <= SMALL_MAX
            blob, pos, starts = self._lp, 0, []
            while pos < len(blob):
                starts.append(pos)
                pos += 1 + blob[pos]
                pos += 1 + blob[pos]
            assert pos == len(blob) and list(self._offs) == starts
            assert len(set(self.keys())) == len(self._offs), "duplicate fields"
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
