"""The set value: members (bytes) that remember which encoding Valkey would use.

Valkey picks intset, listpack or hashtable by the set's history (an intset grows into a
listpack or a hashtable, and a hashtable never shrinks back), and OBJECT ENCODING, DEBUG and
the tests observe it. We follow Valkey's conversion rules at each insertion, and the data
layout follows the encoding:

* hashtable: a Python ``set``;
* intset: the members as integers, sorted, in an ``array('q')`` (8 bytes a member; found by
  bisecting, as Valkey's intset is);
* listpack (at most :data:`SMALL_MAX` members, :data:`PACKED_MAX` bytes): one ``bytes``
  object ``<sep><member><sep><member>...<sep>`` in insertion order, as a listpack holds
  them, where ``sep`` is a byte no member contains (0xFF first: UTF-8 text never holds it;
  another is picked, and the bytes rewritten, when a member brings it). Every operation is
  one C-speed call: membership ``<sep><member><sep> in blob``, listing ``blob.split(sep)``,
  size ``blob.count(sep) - 1``, removal a slice around the one ``find``.

Why: as a Python set, a set of 10 short strings took ~1,300 bytes (a set table and a
``bytes`` object of ~40 bytes per member); packed ~100. An intset or listpack grown past
its layout's reach under raised limits (more members, more bytes, every byte value in use)
uses the set layout while keeping its encoding name.

Complexity: membership, add and remove O(1) (hashtable); O(log N) lookups and O(N) moves
for the intset layout; O(N) C-speed search and copy for the listpack layout (N <= 256).
"""
from __future__ import annotations

import re
import sys
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from typing import Any

from pykey.datatypes.framing import separator

INTSET, LISTPACK, HASHTABLE = 0, 1, 2
ENCODING_NAMES = ("intset", "listpack", "hashtable")
_INT_RE = re.compile(rb"0|-?[1-9][0-9]{0,18}")
_I64_MIN, _I64_MAX = -(2**63), 2**63 - 1
_INTSET_CAP = 1 << 30
SMALL_MAX = 256                 # the most members the packed listpack layout holds
PACKED_MAX = 1 << 16            # and the most bytes


def is_int(member: bytes) -> bool:
    """Valkey's string2ll: would this member fit an intset?"""
    if len(member) > 20 or _INT_RE.fullmatch(member) is None:
        return False
    if len(member) < 19:
        return True
    return _I64_MIN <= int(member) <= _I64_MAX


def _as_int(member: bytes) -> int | None:
    """The integer ``member`` spells as Valkey's string2ll reads it, or None (is_int's rule,
    cheaper: int() then a check that it prints back the same)."""
    if not member or len(member) > 20 or member[0] not in _INT_START:
        return None
    try:
        v = int(member)
    except ValueError:
        return None
    if b"%d" % v != member or not _I64_MIN <= v <= _I64_MAX:
        return None
    return v


_INT_START = frozenset(b"-0123456789")


def _limits(config: Any) -> tuple[int, int, int]:
    return (min(config["set-max-intset-entries"], _INTSET_CAP),
            config["set-max-listpack-entries"], config["set-max-listpack-value"])




class SetType:
    """A set value; ``enc`` is the index of its encoding in :data:`ENCODING_NAMES`.

    It behaves as a set of bytes (``len``, ``in``, iteration, ``add``, ``discard``,
    ``update``, ``difference_update``, ``clear``, ``==``). One layout at a time holds the
    members: ``_s`` (a set), else ``_ints`` (an intset), else ``_lp`` framed by ``_sep``."""

    __slots__ = ("_s", "_ints", "_lp", "_sep", "_enc")
    type_name = "set"
    __hash__ = None           # type: ignore[assignment]   (mutable, like set)

    def __init__(self, members: Iterable[bytes] = (), enc: int = HASHTABLE) -> None:
        self._enc = enc
        self._ints: array | None = None
        self._lp = b""
        self._sep = b""
        if enc == HASHTABLE:
            self._s: set[bytes] | None = set(members)
        else:
            # a listpack keeps the order it was given (RESTORE, loading an RDB)
            self._s = dict.fromkeys(members)                  # type: ignore[assignment]
            self._fit()
            if self._s is not None:
                self._s = set(self._s)

    @classmethod
    def create(cls, first: bytes, size_hint: int, config: Any) -> SetType:
        """An empty set with the encoding Valkey's setTypeCreate picks for ``first``."""
        max_int, max_lp, _ = _limits(config)
        if size_hint <= config["set-max-intset-entries"] and is_int(first):
            return cls(enc=INTSET)
        if size_hint <= max_lp:
            return cls(enc=LISTPACK)
        return cls(enc=HASHTABLE)

    # ------------------------------------------------------------ layouts
    def _fit(self) -> None:
        """Move the members of the set layout to the compact layout of the encoding, when
        they fit it."""
        s = self._s
        if s is None or self._enc == HASHTABLE:
            return
        if self._enc == INTSET:
            if all(map(is_int, s)):
                self._ints = array("q", sorted(map(int, s)))
                self._s = None
            return
        self._pack(list(s))

    def _pack(self, members: list[bytes]) -> bool:
        """Hold ``members`` (unique, in order) in the packed layout if they fit it."""
        if len(members) > SMALL_MAX or sum(map(len, members)) + len(members) >= PACKED_MAX:
            return False
        sep = separator(members)
        if sep is None:
            return False
        self._lp = sep + sep.join(members) + sep if members else sep
        self._sep = sep
        self._s = None
        return True

    def _to_set(self) -> set[bytes]:
        """Move to the set layout (for good while the set is a hashtable)."""
        s = self._s
        if s is None:
            s = self._s = set(self._members())
            self._ints = None
            self._lp = self._sep = b""
        return s

    def _members(self) -> list[bytes]:
        """The members of a compact layout, in its order."""
        ints = self._ints
        if ints is not None:
            return [b"%d" % v for v in ints]
        return self._lp.split(self._sep)[1:-1]

    @property
    def enc(self) -> int:
        return self._enc

    @enc.setter
    def enc(self, enc: int) -> None:
        if enc == self._enc:
            return
        if self._s is None:
            self._to_set()
        self._enc = enc
        self._fit()

    # ------------------------------------------------------------ set protocol
    def __len__(self) -> int:
        s = self._s
        if s is not None:
            return len(s)
        ints = self._ints
        return len(ints) if ints is not None else self._lp.count(self._sep) - 1

    def __bool__(self) -> bool:
        s = self._s
        if s is not None:
            return bool(s)
        ints = self._ints
        return bool(ints) if ints is not None else len(self._lp) > 1

    def __contains__(self, member: object) -> bool:
        s = self._s
        if s is not None:
            return member in s
        if member.__class__ is not bytes:
            return False
        ints = self._ints
        if ints is not None:
            v = _as_int(member)                                 # type: ignore[arg-type]
            if v is None:
                return False
            i = bisect_left(ints, v)
            return i < len(ints) and ints[i] == v
        sep = self._sep
        return sep not in member and sep + member + sep in self._lp   # type: ignore[operator]

    def __iter__(self) -> Iterator[bytes]:
        s = self._s
        return iter(s) if s is not None else iter(self._members())

    def lookup(self) -> Any:
        """Something ``in`` works on at C speed (the set itself, or a set of the members),
        for intersections and differences."""
        s = self._s
        return s if s is not None else set(self._members())

    def add(self, member: bytes) -> None:
        """Add ``member`` (no encoding rules: the caller keeps ``enc`` right)."""
        if self._s is None and member in self:
            return
        self._add_new(member)

    def _add_new(self, member: bytes) -> None:
        """Add a member known to be absent."""
        s = self._s
        if s is not None:
            s.add(member)
            return
        ints = self._ints
        if ints is not None:
            v = _as_int(member)
            if v is not None:
                ints.insert(bisect_left(ints, v), v)
                return
        else:
            blob, sep = self._lp, self._sep
            if len(blob) + len(member) < PACKED_MAX and blob.count(sep) <= SMALL_MAX:
                if sep not in member:
                    self._lp = b"".join((blob, member, sep))
                    return
                if self._pack([*self._members(), member]):     # another separator
                    return
        self._to_set().add(member)

    def discard(self, member: bytes) -> bool:
        """Remove ``member``; True if it was there."""
        s = self._s
        if s is not None:
            n = len(s)
            s.discard(member)
            return len(s) != n
        ints = self._ints
        if ints is not None:
            v = _as_int(member)
            if v is not None:
                i = bisect_left(ints, v)
                if i < len(ints) and ints[i] == v:
                    del ints[i]
                    return True
            return False
        sep = self._sep
        if sep in member:
            return False
        blob = self._lp
        p = blob.find(sep + member + sep)
        if p < 0:
            return False
        self._lp = blob[:p] + blob[p + 1 + len(member):]
        return True

    def remove(self, member: bytes) -> None:
        if member not in self:
            raise KeyError(member)
        self.discard(member)

    def update(self, members: Iterable[bytes]) -> None:
        for m in members:
            self.add(m)

    def difference_update(self, members: Iterable[bytes]) -> None:
        s = self._s
        if s is not None:
            s.difference_update(members)
            return
        for m in members:
            self.discard(m)

    def clear(self) -> None:
        if self._s is not None:
            self._s.clear()
        elif self._ints is not None:
            self._ints = array("q")
        else:
            self._lp = self._sep

    def __eq__(self, other: object) -> bool:
        if isinstance(other, SetType):
            other = other.lookup()
        if not isinstance(other, (set, frozenset)):
            return NotImplemented
        return len(self) == len(other) and all(m in other for m in self)

    def __repr__(self) -> str:
        return f"SetType({self.ordered()!r}, enc={ENCODING_NAMES[self._enc]})"

    # ------------------------------------------------------------ Valkey's rules
    def encoding(self, config: Any = None) -> str:
        return ENCODING_NAMES[self._enc]

    def ordered(self) -> list[bytes]:
        """Members in Valkey's reply order where it is defined: an intset is sorted, a
        listpack in insertion order."""
        s = self._s
        if s is None:
            return self._members()
        if self._enc == INTSET:
            return sorted(s, key=int)
        return list(s)

    def copy(self) -> SetType:
        out = SetType.__new__(SetType)
        out._enc = self._enc
        out._s = set(self._s) if self._s is not None else None
        out._ints = array("q", self._ints) if self._ints is not None else None
        out._lp = self._lp
        out._sep = self._sep
        return out

    def maybe_convert(self, size_hint: int, config: Any) -> None:
        """Convert up front when ``size_hint`` new members cannot fit the small encoding."""
        if self._enc == LISTPACK and size_hint > config["set-max-listpack-entries"]:
            self.enc = HASHTABLE
        elif self._enc == INTSET and size_hint > config["set-max-intset-entries"]:
            self.enc = HASHTABLE

    def add_member(self, member: bytes, config: Any) -> bool:
        """Add ``member``; True if it was new. Converts the encoding as Valkey does."""
        s = self._s
        if s is not None:
            if member in s:
                return False
        elif member in self:
            return False
        enc = self._enc
        if enc == HASHTABLE:
            s.add(member)                                     # type: ignore[union-attr]
            return True
        max_int, max_lp, max_val = _limits(config)
        if enc == LISTPACK:
            if len(self) >= max_lp or len(member) > max_val:
                self.enc = HASHTABLE
        elif _as_int(member) is not None:
            if len(self) + 1 > max_int:
                self.enc = HASHTABLE
        else:
            maxelelen = max(map(len, self), default=0)
            if len(self) < max_lp and len(member) <= max_val and maxelelen <= max_val:
                self.enc = LISTPACK
            else:
                self.enc = HASHTABLE
        self._add_new(member)
        return True

    def encoded_members(self, resp3: bool) -> bytes:
        """Every member as a RESP set reply (SMEMBERS), in :meth:`ordered` order, encoded
        straight from the layout."""
        members = self.ordered()
        parts = [(b"~%d\r\n" if resp3 else b"*%d\r\n") % len(members)]
        parts += [b"$%d\r\n%s\r\n" % (len(m), m) for m in members]
        return b"".join(parts)

    def maybe_intset(self, config: Any) -> None:
        """After a store whose members were all integers, use an intset when it fits."""
        if self._enc != INTSET and len(self) <= _limits(config)[0]:
            self.enc = INTSET

    def memory_usage(self, samples: int = 5) -> int:
        """MEMORY USAGE estimate: the compact layout's arrays, or the set and its members."""
        size = sys.getsizeof(self)
        s = self._s
        if s is None:
            ints = self._ints
            if ints is not None:
                return size + sys.getsizeof(ints)
            return size + sys.getsizeof(self._lp)
        size += sys.getsizeof(s)
        total = taken = 0
        for m in s:
            total += sys.getsizeof(m)
            taken += 1
            if taken >= samples:
                break
        return size + (total * len(s) // taken if taken else 0)

    def _check(self) -> None:
        """Invariants: one layout holds the members; it suits the encoding; an intset holds
        integers only, sorted and unique; the packed offsets match the entries."""
        s, ints = self._s, self._ints
        assert s is None or ints is None
        if self._enc == INTSET:
            assert all(is_int(m) for m in self)
        if ints is not None:
            assert self._enc == INTSET and list(ints) == sorted(set(ints))
        elif s is None:
            blob, sep = self._lp, self._sep
            assert self._enc == LISTPACK and len(sep) == 1
            assert blob.startswith(sep) and blob.endswith(sep) and len(blob) < PACKED_MAX
            members = self._members()
            assert len(members) == len(self) <= SMALL_MAX and len(set(members)) == len(members)
        assert all(isinstance(m, bytes) for m in self)
