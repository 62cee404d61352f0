"""The sorted set value: members with a double score, ordered by (score, member bytes).

Valkey keeps a dict (member -> score) beside a skip list ordered by score then member
(``memcmp`` order, which is Python's ``bytes`` order). A big set here keeps the same two
indexes: a ``dict`` for O(1) score lookups, and a :class:`_ScoreList` for order (members and
their scores in parallel sublists, sortedcontainers' SortedKeyList layout, whose positional
index gives O(log N) ranks like the skip list's spans). A small set (listpack-encoded in
Valkey) is a :class:`_Small`: its members packed in one ``bytes`` object and their scores
in an ``array('d')``, in order, no dict. Why: tuples and a dict per member made a member
cost ~195 bytes in a big set and ~250 in a small one (redis-server: ~115 and ~16); now
~147 and ~50.

Complexity (N members, M in the answer; small sets: the O(1)/O(log N) below are O(N)
C-speed scans or moves over at most :data:`SMALL_MAX` members):

=============================================  ===================================
``score``, ``__contains__``, ``len``           O(1)
``add`` (insert or re-score), ``discard``      O(log N)
``rank``, ``at``                               O(log N)
``score_span``, ``count_by_score``             O(log N)
``lex_span``, ``count_by_lex``                 O(log N) when all scores are equal (the only
                                               case Valkey defines), O(log^2 N) otherwise
``slice`` / ``range_by_*`` / ``pop_*``         O(log N + M)
``remove_span``                                O(log N + M)
iteration, ``items``, ``copy``                 O(N)
=============================================  ===================================

Valkey also names an *encoding*: ``listpack`` while the set is small (at most
``zset-max-listpack-entries`` members, none longer than ``zset-max-listpack-value`` bytes),
``skiplist`` after that. The layout follows ``enc`` (a listpack grown past SMALL_MAX under
raised limits uses the big layout); ``enc`` records what Valkey would use, following its
rules: a set is created by size hints (:meth:`create`), converts to ``skiplist`` when an
insertion crosses a limit (:meth:`add` with ``limits``), and converts back only when a
command builds a result and asks for it (:meth:`shrink_if_small`: ZRANGESTORE,
ZUNIONSTORE & co., GEOSEARCHSTORE).
"""
from __future__ import annotations

import math
import sys
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator
from itertools import chain
from typing import Any

from sortedcontainers import SortedKeyList

from pykey.datatypes.framing import separator
from pykey.datatypes.members import index_span

LISTPACK, SKIPLIST = 0, 1
ENCODING_NAMES = ("listpack", "skiplist")
_INF = math.inf
_nextafter = math.nextafter
SMALL_MAX = 256        # the most members a set held in the small layout may have


class LexBound:
    """One end of a lexicographic range: ``-``, ``+``, ``[value`` or ``(value``."""

    __slots__ = ("value", "exclusive", "kind")
    MIN, VALUE, MAX = -1, 0, 1

    def __init__(self, kind: int, value: bytes = b"", exclusive: bool = False) -> None:
        self.kind = kind
        self.value = value
        self.exclusive = exclusive

    def __repr__(self) -> str:
        if self.kind == LexBound.MIN:
            return "LexBound(-)"
        if self.kind == LexBound.MAX:
            return "LexBound(+)"
        return f"LexBound({'(' if self.exclusive else '['}{self.value!r})"


def limits_of(config: Any) -> tuple[int, int]:
    """(zset-max-listpack-entries, zset-max-listpack-value) from a config mapping."""
    return config["zset-max-listpack-entries"], config["zset-max-listpack-value"]


class _ScoreList(SortedKeyList):
    """The order of a big set: sortedcontainers' SortedKeyList layout (sublists of values
    with parallel sublists of keys, their maxima, the positional index) holding members
    with their scores as keys, ordered by (score, member). Only the methods that place a
    value are replaced: within equal scores the member bisects in C (``lo``/``hi``
    bounds), and a run of equal scores spanning sublists is searched by their last
    members. Why: a ``(score, member)`` tuple per member cost 56 bytes more than two
    list slots, and the score float is shared with the dict."""

    def __init__(self) -> None:
        super().__init__()

    def _find(self, score: float, member: bytes) -> tuple[int, int]:
        """(sublist, index) where (score, member) is or would be inserted (bisect_left)."""
        maxes = self._maxes
        n = len(maxes)
        pos = bisect_left(maxes, score)
        if pos == n:
            pos = n - 1
            return pos, len(self._keys[pos])
        if maxes[pos] == score:
            lists = self._lists
            if lists[pos][-1] < member:
                lo, hi = pos + 1, bisect_right(maxes, score, pos)
                while lo < hi:
                    mid = (lo + hi) >> 1
                    if lists[mid][-1] < member:
                        lo = mid + 1
                    else:
                        hi = mid
                pos = lo
                if pos == n:
                    pos = n - 1
                    return pos, len(self._keys[pos])
        keys = self._keys[pos]
        lo = bisect_left(keys, score)
        return pos, bisect_left(self._lists[pos], member, lo, bisect_right(keys, score, lo))

    def insert_pair(self, score: float, member: bytes) -> None:
        if not self._maxes:
            self._lists.append([member])
            self._keys.append([score])
            self._maxes.append(score)
            self._len += 1
            return
        pos, idx = self._find(score, member)
        keys = self._keys[pos]
        if idx == len(keys):
            self._lists[pos].append(member)
            keys.append(score)
            self._maxes[pos] = score
        else:
            self._lists[pos].insert(idx, member)
            keys.insert(idx, score)
        self._len += 1
        self._expand(pos)

    def remove_pair(self, score: float, member: bytes) -> None:
        pos, idx = self._find(score, member) if self._maxes else (0, 0)
        if not self._maxes or idx >= len(self._lists[pos]) or self._lists[pos][idx] != member:
            raise ValueError(f"{member!r} is not in the sorted set")
        self._delete(pos, idx)

    def bisect_pair(self, score: float, member: bytes, right: bool = False) -> int:
        """The position of (score, member): bisect_left, or bisect_right with ``right``."""
        if not self._maxes:
            return 0
        pos, idx = self._find(score, member)
        if right and idx < len(self._lists[pos]) and self._lists[pos][idx] == member \
                and self._keys[pos][idx] == score:
            idx += 1
        return self._loc(pos, idx)

    def bisect_score(self, score: float, right: bool = False) -> int:
        """The position of the first member whose score is >= ``score`` (> with ``right``)."""
        maxes = self._maxes
        if right:
            pos = bisect_right(maxes, score)
            if pos == len(maxes):
                return self._len
            return self._loc(pos, bisect_right(self._keys[pos], score))
        pos = bisect_left(maxes, score)
        if pos == len(maxes):
            return self._len
        return self._loc(pos, bisect_left(self._keys[pos], score))

    def pair_at(self, i: int) -> tuple[float, bytes]:
        pos, idx = self._pos(i)
        return self._keys[pos][idx], self._lists[pos][idx]

    def pairs(self, start: int, stop: int) -> list[tuple[bytes, float]]:
        """(member, score) at positions start..stop-1 (0 <= start < stop <= len)."""
        pos, idx = self._pos(start)
        lists, keys = self._lists, self._keys
        out: list[tuple[bytes, float]] = []
        left = stop - start
        while left > 0:
            end = min(len(keys[pos]), idx + left)
            out += zip(lists[pos][idx:end], keys[pos][idx:end], strict=True)
            left -= end - idx
            pos += 1
            idx = 0
        return out

    def iter_pairs(self) -> Iterator[tuple[bytes, float]]:
        return chain.from_iterable(map(zip, self._lists, self._keys))

    def delete_span(self, start: int, stop: int) -> None:
        """Remove positions start..stop-1 (0 <= start < stop <= len)."""
        if stop - start == self._len:
            self.clear()
        elif self._len <= 8 * (stop - start):
            keep = self.pairs(0, start) if start else []
            if stop < self._len:
                keep += self.pairs(stop, self._len)
            self.rebuild([m for m, _ in keep], [sc for _, sc in keep])
        else:
            pos_of, delete = self._pos, self._delete
            for i in range(stop - 1, start - 1, -1):
                pos, idx = pos_of(i)
                delete(pos, idx)

    def rebuild(self, members: list[bytes], scores: list[float]) -> None:
        """Hold exactly ``members``/``scores``, already in order."""
        load = self._load
        self.clear()
        self._lists = [members[i:i + load] for i in range(0, len(members), load)]
        self._keys = [scores[i:i + load] for i in range(0, len(scores), load)]
        self._maxes = [k[-1] for k in self._keys]
        self._len = len(members)

    def copy(self) -> _ScoreList:  # type: ignore[override]
        new = _ScoreList()
        new._lists = [x[:] for x in self._lists]
        new._keys = [x[:] for x in self._keys]
        new._maxes = self._maxes[:]
        new._len = self._len
        return new

    def _check(self) -> None:
        assert len(self._lists) == len(self._keys) == len(self._maxes)
        assert self._len == sum(map(len, self._lists))
        for ml, kl, mx in zip(self._lists, self._keys, self._maxes, strict=True):
            assert ml and len(ml) == len(kl) and len(ml) <= 2 * self._load
            assert mx == kl[-1]
        if self._index:
            assert self._index[0] == self._len
            for i, ml in enumerate(self._lists):
                assert self._index[self._offset + i] == len(ml)




class _Small:
    """The order of a small set (what Valkey keeps as a listpack): the members packed in one
    ``bytes`` object ``<sep><member><sep><member>...<sep>`` (``sep`` a byte no member
    holds) and their scores in an ``array('d')``, both in (score, member) order, and no
    dict. A member is found with one C-speed ``find`` of ``<sep><member><sep>`` and its
    position is the count of ``sep`` before it; listing the members is one ``split``.
    Why: a member costs its bytes plus one and 8 bytes of score here, against ~40 for a
    bytes object and 8 for a list slot (and ~140 more in the big layout)."""

    __slots__ = ("blob", "sep", "s")

    def __init__(self) -> None:
        self.blob = b"\xff"
        self.sep = b"\xff"
        self.s = array("d")

    @staticmethod
    def build(members: list[bytes], scores: Iterable[float]) -> _Small | None:
        """A small layout holding ``members`` (in order) with ``scores``, or None when no
        byte is free to separate them."""
        small = _Small()
        if not small.set_members(members):
            return None
        small.s = array("d", scores)
        return small

    def set_members(self, members: list[bytes]) -> bool:
        """Hold exactly ``members`` (in order); False (unchanged) when they cannot be packed."""
        sep = self.sep
        if any(sep in m for m in members):
            got = separator(members)
            if got is None:
                return False
            sep = self.sep = got
        self.blob = sep + sep.join(members) + sep if members else sep
        return True

    @property
    def m(self) -> list[bytes]:
        """The members, in order (a new list)."""
        return self.blob.split(self.sep)[1:-1]

    def __len__(self) -> int:
        return len(self.s)

    def index(self, member: bytes) -> int:
        """The position of ``member``, -1 when absent."""
        sep = self.sep
        if sep in member:
            return -1
        blob = self.blob
        p = blob.find(sep + member + sep)
        return blob.count(sep, 0, p) if p >= 0 else -1

    def _place(self, score: float, member: bytes, members: list[bytes]) -> int:
        s = self.s
        lo = bisect_left(s, score)
        return bisect_left(members, member, lo, bisect_right(s, score, lo))

    def insert_pair(self, score: float, member: bytes) -> bool:
        """Insert a new member; False (unchanged) when it cannot be packed."""
        members = self.m
        i = self._place(score, member, members)
        members.insert(i, member)
        if not self.set_members(members):
            return False
        self.s.insert(i, score)
        return True

    def remove_at(self, i: int) -> None:
        members = self.m
        del members[i]
        self.set_members(members)
        del self.s[i]

    def bisect_pair(self, score: float, member: bytes, right: bool = False) -> int:
        members = self.m
        i = self._place(score, member, members)
        if right and i < len(members) and members[i] == member and self.s[i] == score:
            i += 1
        return i

    def bisect_score(self, score: float, right: bool = False) -> int:
        return bisect_right(self.s, score) if right else bisect_left(self.s, score)

    def pair_at(self, i: int) -> tuple[float, bytes]:
        return self.s[i], self.m[i]

    def pairs(self, start: int, stop: int) -> list[tuple[bytes, float]]:
        return list(zip(self.m[start:stop], self.s[start:stop], strict=True))

    def iter_pairs(self) -> Iterator[tuple[bytes, float]]:
        return zip(self.m, self.s, strict=True)

    def delete_span(self, start: int, stop: int) -> None:
        members = self.m
        del members[start:stop]
        self.set_members(members)
        del self.s[start:stop]

    def copy(self) -> _Small:
        new = _Small()
        new.blob, new.sep, new.s = self.blob, self.sep, array("d", self.s)
        return new


class ZSet:
    """A sorted set. Big sets: ``member -> score`` dict plus a :class:`_ScoreList` for the
    order; small ones (listpack-encoded in Valkey, at most :data:`SMALL_MAX` members): a
    :class:`_Small` alone, ``_scores`` None.

    Scores are never NaN (callers refuse NaN before it gets here). ``-0.0`` compares equal to
    ``0.0`` as in Valkey; a skiplist keeps its sign, a listpack (which stores integral scores
    as integers) turns it into ``0``.

    Memory (RSS growth per member): one set of 1,000,000 members ``member:<n>``: 196 -> 147 B
    (redis-server 7.0: 117); 100,000 sets of 10 members ``m<k>``: 253 -> 50 B (redis: 16).
    """

    __slots__ = ("_scores", "_sl", "enc")
    type_name = "zset"

    def __init__(self, items: Iterable[tuple[bytes, float]] = (), enc: int = SKIPLIST) -> None:
        self.enc = enc
        scores: dict[bytes, float] = {}
        for member, score in items:
            scores[member] = score
        small = None
        if enc == LISTPACK and len(scores) <= SMALL_MAX:
            pairs = sorted((s, m) for m, s in scores.items())
            small = _Small.build([m for _, m in pairs], [s for s, _ in pairs])
        if small is not None:
            self._scores = None
            self._sl: _Small | _ScoreList = small
        else:
            self._scores = scores
            self._sl = _ScoreList()
            if scores:
                pairs = sorted((s, m) for m, s in scores.items())
                self._sl.rebuild([m for _, m in pairs], [s for s, _ in pairs])

    # ------------------------------------------------------------ layouts
    def _to_big(self) -> None:
        """Move to the dict + _ScoreList layout (a skiplist, or a listpack grown past
        SMALL_MAX under raised limits)."""
        small = self._sl
        if self._scores is not None:
            return
        assert isinstance(small, _Small)
        scores = small.s.tolist()
        members = small.m
        self._scores = dict(zip(members, scores, strict=True))
        big = _ScoreList()
        big.rebuild(members, scores)
        self._sl = big

    def _to_small(self) -> None:
        if self._scores is None or len(self._scores) > SMALL_MAX:
            return
        big = self._sl
        assert isinstance(big, _ScoreList)
        small = _Small.build(list(chain.from_iterable(big._lists)), chain.from_iterable(big._keys))
        if small is not None:
            self._sl = small
            self._scores = None

    # ------------------------------------------------------------ encoding
    @classmethod
    def create(cls, size_hint: int, maxelelen: int, limits: tuple[int, int]) -> ZSet:
        """An empty set with the encoding Valkey's zsetTypeCreate picks for the hints."""
        max_entries, max_value = limits
        small = size_hint <= max_entries and maxelelen <= max_value
        return cls(enc=LISTPACK if small else SKIPLIST)

    def encoding(self, config: Any = None) -> str:
        return ENCODING_NAMES[self.enc]

    def grow_for(self, size_hint: int, maxelelen: int, limits: tuple[int, int]) -> None:
        """zsetTypeMaybeConvert: go to skiplist up front when the hints exceed the limits."""
        if self.enc == LISTPACK and (size_hint > limits[0] or maxelelen > limits[1]):
            self.enc = SKIPLIST
            self._to_big()

    def shrink_if_small(self, limits: tuple[int, int]) -> None:
        """zsetConvertToListpackIfNeeded: a freshly built result that fits goes to listpack."""
        if self.enc == SKIPLIST and len(self) <= limits[0] and \
                max(map(len, self.members()), default=0) <= limits[1]:
            self.enc = LISTPACK
            scores = self._scores
            assert scores is not None
            for m, s in list(scores.items()):
                if s == 0 and math.copysign(1.0, s) < 0:     # -0 is stored as the integer 0
                    self._sl.remove_pair(s, m)                # type: ignore[union-attr]
                    scores[m] = 0.0
                    self._sl.insert_pair(0.0, m)
            self._to_small()

    def to_skiplist(self) -> None:
        """SORT converts a listpack zset to a skiplist before reading it, as Valkey does."""
        self.enc = SKIPLIST
        self._to_big()

    # ------------------------------------------------------------ size and lookup
    def __len__(self) -> int:
        scores = self._scores
        return len(scores) if scores is not None else len(self._sl)

    def __contains__(self, member: object) -> bool:
        scores = self._scores
        if scores is not None:
            return member in scores
        return member.__class__ is bytes and self._sl.index(member) >= 0      # type: ignore[union-attr,arg-type]

    def __iter__(self) -> Iterator[bytes]:
        """Members in order."""
        for m, _ in self._sl.iter_pairs():
            yield m

    def __repr__(self) -> str:
        return f"ZSet({list(self.items())!r}, enc={ENCODING_NAMES[self.enc]})"

    def score(self, member: bytes) -> float | None:
        """The score of ``member``, or None. O(1) (O(N) in the small layout, N <= 256)."""
        scores = self._scores
        if scores is not None:
            return scores.get(member)
        small = self._sl
        i = small.index(member)                       # type: ignore[union-attr]
        return small.s[i] if i >= 0 else None         # type: ignore[union-attr]

    def items(self) -> Iterator[tuple[bytes, float]]:
        """(member, score) pairs in order."""
        return self._sl.iter_pairs()

    def members(self) -> Iterable[bytes]:
        """Members for scans and random picks: the dict's keys (hash order), or the small
        layout's list (in order, as a listpack is)."""
        scores = self._scores
        return scores.keys() if scores is not None else self._sl.m     # type: ignore[union-attr]

    def scores(self) -> dict[bytes, float]:
        """A member -> score mapping (the dict itself for a big set: read-only)."""
        scores = self._scores
        return scores if scores is not None else dict(self._sl.iter_pairs())

    # ------------------------------------------------------------ writes
    def add(self, member: bytes, score: float, limits: tuple[int, int] | None = None) -> bool:
        """Insert ``member`` or move it to ``score``; True if it was new. O(log N).

        With ``limits`` (entries, value), a new member that would cross them converts a
        listpack to a skiplist, as Valkey's zsetAdd does."""
        scores = self._scores
        sl = self._sl
        if scores is None:
            i = sl.index(member)                      # type: ignore[union-attr]
            if i >= 0:
                old = sl.s[i]                         # type: ignore[union-attr]
                if old != score:        # as Valkey: -0.0 does not replace 0.0 (they are equal)
                    if score == 0 and self.enc == LISTPACK:
                        score = 0.0
                    sl.remove_at(i)                   # type: ignore[union-attr]
                    sl.insert_pair(score, member)     # (its members all fitted already)
                return False
            if limits is not None and self.enc == LISTPACK and \
                    (len(sl) + 1 > limits[0] or len(member) > limits[1]):
                self.enc = SKIPLIST
                self._to_big()
            elif len(sl) >= SMALL_MAX:
                self._to_big()
            else:
                if score == 0 and self.enc == LISTPACK:
                    score = 0.0
                if sl.insert_pair(score, member):     # type: ignore[union-attr]
                    return True
                self._to_big()                        # no byte left to separate members
            scores = self._scores
            sl = self._sl
            assert scores is not None
        old = scores.get(member)
        if old is None:
            if limits is not None and self.enc == LISTPACK and \
                    (len(scores) + 1 > limits[0] or len(member) > limits[1]):
                self.enc = SKIPLIST
            if score == 0 and self.enc == LISTPACK:
                score = 0.0         # a listpack stores integral scores as integers: -0 becomes 0
            scores[member] = score
            sl.insert_pair(score, member)
            return True
        if old != score:            # as Valkey: -0.0 does not replace 0.0 (they are equal)
            if score == 0 and self.enc == LISTPACK:
                score = 0.0
            sl.remove_pair(old, member)               # type: ignore[union-attr]
            scores[member] = score
            sl.insert_pair(score, member)
        return False

    def discard(self, member: bytes) -> bool:
        """Remove ``member``; True if it was there. O(log N)."""
        scores = self._scores
        if scores is None:
            small = self._sl
            i = small.index(member)                   # type: ignore[union-attr]
            if i < 0:
                return False
            small.remove_at(i)                        # type: ignore[union-attr]
            return True
        score = scores.pop(member, None)
        if score is None:
            return False
        self._sl.remove_pair(score, member)           # type: ignore[union-attr]
        return True

    def remove_span(self, start: int, stop: int) -> list[tuple[bytes, float]]:
        """Remove the members at positions ``start <= i < stop``; return them in order."""
        sl = self._sl
        n = len(self)
        start, stop = max(start, 0), min(stop, n)
        if start >= stop:
            return []
        gone = sl.pairs(start, stop)
        sl.delete_span(start, stop)
        scores = self._scores
        if scores is not None:
            if stop - start == n:
                scores.clear()
            else:
                for m, _ in gone:
                    del scores[m]
        return gone

    def pop_min(self, count: int = 1) -> list[tuple[bytes, float]]:
        """Remove and return up to ``count`` lowest members, lowest first."""
        return self.remove_span(0, min(count, len(self)))

    def pop_max(self, count: int = 1) -> list[tuple[bytes, float]]:
        """Remove and return up to ``count`` highest members, highest first."""
        n = len(self)
        out = self.remove_span(n - min(count, n), n)
        out.reverse()
        return out

    def clear(self) -> None:
        if self._scores is not None:
            self._scores.clear()
        if len(self._sl):
            self._sl.delete_span(0, len(self._sl))

    # ------------------------------------------------------------ ranks and positions
    def rank(self, member: bytes, reverse: bool = False) -> int | None:
        """0-based rank of ``member`` (from the highest when ``reverse``), or None. O(log N)."""
        scores = self._scores
        if scores is None:
            i = self._sl.index(member)                # type: ignore[union-attr]
            if i < 0:
                return None
        else:
            score = scores.get(member)
            if score is None:
                return None
            i = self._sl.bisect_pair(score, member)
        return len(self) - 1 - i if reverse else i

    def at(self, index: int) -> tuple[bytes, float]:
        """(member, score) at position ``index`` (negative counts from the end). O(log N)."""
        s, m = self._sl.pair_at(index)
        return m, s

    def slice(self, start: int, stop: int, reverse: bool = False) -> list[tuple[bytes, float]]:
        """(member, score) at positions ``start <= i < stop``; highest first when ``reverse``."""
        n = len(self)
        if start < 0:
            start = 0
        if stop > n:
            stop = n
        if start >= stop:
            return []
        out = self._sl.pairs(start, stop)
        if reverse:
            out.reverse()
        return out

    def range_by_rank(self, start: int, stop: int, reverse: bool = False) -> list[tuple[bytes, float]]:
        """Valkey's ZRANGE index rules: inclusive ``start..stop``, negatives from the end,
        counted from the highest member when ``reverse``."""
        n = len(self._sl)
        span = index_span(start, stop, n)
        if span is None:
            return []
        i, j = span
        if reverse:
            return self.slice(n - j, n - i, True)
        return self.slice(i, j)

    def score_span(self, lo: float, hi: float, lo_ex: bool = False, hi_ex: bool = False) -> tuple[int, int]:
        """Positions ``[i, j)`` of the members with lo <= score <= hi (``<`` where exclusive)."""
        sl = self._sl
        n = len(sl)
        if lo_ex:
            i = n if lo == _INF else sl.bisect_score(_nextafter(lo, _INF))
        else:
            i = sl.bisect_score(lo)
        if hi_ex:
            j = sl.bisect_score(hi)
        else:
            j = n if hi == _INF else sl.bisect_score(_nextafter(hi, _INF))
        return i, max(i, j)

    def count_by_score(self, lo: float, hi: float, lo_ex: bool = False, hi_ex: bool = False) -> int:
        i, j = self.score_span(lo, hi, lo_ex, hi_ex)
        return j - i

    def range_by_score(self, lo: float, hi: float, lo_ex: bool = False, hi_ex: bool = False,
                       reverse: bool = False, offset: int = 0, count: int = -1) -> list[tuple[bytes, float]]:
        """Members with scores in the range, lowest first (highest first when ``reverse``),
        skipping ``offset`` of them and returning at most ``count`` (-1: all)."""
        i, j = self.score_span(lo, hi, lo_ex, hi_ex)
        return self._window(i, j, reverse, offset, count)

    def _window(self, i: int, j: int, reverse: bool, offset: int, count: int) -> list[tuple[bytes, float]]:
        if offset < 0:
            return []
        if reverse:
            j -= offset
            if count >= 0:
                i = max(i, j - count)
            return self.slice(i, j, True)
        i += offset
        if count >= 0:
            j = min(j, i + count)
        return self.slice(i, j)

    def _lex_first(self, bound: LexBound, after: bool) -> int:
        """Position of the first member >= bound.value (> when ``after``), assuming the
        members are in lexicographic order, as Valkey's lex commands do."""
        sl = self._sl
        n = len(sl)
        if bound.kind == LexBound.MIN:
            return 0
        if bound.kind == LexBound.MAX:
            return n
        value = bound.value
        if not n:
            return 0
        first = sl.pair_at(0)[0]
        if first == sl.pair_at(-1)[0]:  # the defined case: one score for all
            return sl.bisect_pair(first, value, after)
        lo, hi = 0, n
        while lo < hi:
            mid = (lo + hi) // 2
            m = sl.pair_at(mid)[1]
            if m > value or (m == value and not after):
                hi = mid
            else:
                lo = mid + 1
        return lo

    def lex_span(self, lo: LexBound, hi: LexBound) -> tuple[int, int]:
        """Positions ``[i, j)`` of the members inside the lexicographic range."""
        i = self._lex_first(lo, lo.exclusive)
        if hi.kind == LexBound.MIN:
            j = 0
        else:
            j = self._lex_first(hi, not hi.exclusive)
        return i, max(i, j)

    def count_by_lex(self, lo: LexBound, hi: LexBound) -> int:
        i, j = self.lex_span(lo, hi)
        return j - i

    def range_by_lex(self, lo: LexBound, hi: LexBound, reverse: bool = False, offset: int = 0,
                     count: int = -1) -> list[tuple[bytes, float]]:
        i, j = self.lex_span(lo, hi)
        return self._window(i, j, reverse, offset, count)

    # ------------------------------------------------------------ whole-value helpers
    def copy(self) -> ZSet:
        """A deep copy (COPY, ZRANGESTORE sources...): members and scores are immutable."""
        new = ZSet.__new__(ZSet)
        scores = self._scores
        sl = self._sl
        if scores is None:
            new._scores = None
            new._sl = sl.copy()                                  # type: ignore[union-attr]
        else:
            new._scores = scores.copy()
            new._sl = sl.copy()                                  # type: ignore[union-attr]
        new.enc = self.enc
        return new

    def memory_usage(self, samples: int = 5) -> int:
        """MEMORY USAGE estimate: the containers plus sampled members times the length."""
        n = len(self)
        sl = self._sl
        if self._scores is None:
            return sys.getsizeof(self) + sys.getsizeof(sl) + sys.getsizeof(sl.blob) + sys.getsizeof(sl.s)  # type: ignore[union-attr]
        size = sys.getsizeof(self) + sys.getsizeof(self._scores) + 16 * n + 64 * (n // 1000 + 1)
        if not n:
            return size
        taken = total = 0
        for m, s in sl.iter_pairs():
            total += sys.getsizeof(m) + sys.getsizeof(s)
            taken += 1
            if samples and taken >= samples:
                break
        return size + total * n // taken

    def _check(self) -> None:
        """Assert the invariants: the layout fits the encoding, the order holds the same
        pairs as the dict, strictly increasing by (score, member), no NaN."""
        sl = self._sl
        scores = self._scores
        if scores is None:
            assert isinstance(sl, _Small) and self.enc == LISTPACK and len(sl) <= SMALL_MAX
            assert len(sl.sep) == 1 and sl.blob.startswith(sl.sep) and sl.blob.endswith(sl.sep)
            assert len(sl.m) == len(sl.s) and len(set(sl.m)) == len(sl.s)
        else:
            assert isinstance(sl, _ScoreList)
            sl._check()
            assert len(sl) == len(scores)
        prev = None
        for m, s in sl.iter_pairs():
            assert isinstance(m, bytes) and isinstance(s, float)
            assert s == s, "NaN score"
            if scores is not None:
                assert scores[m] is s or scores[m] == s
            if prev is not None:
                assert prev < (s, m)
            prev = (s, m)
        assert self.enc in (LISTPACK, SKIPLIST)
