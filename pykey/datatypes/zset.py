"""The sorted set value: members with a double score, ordered by (score, member bytes).

Valkey keeps a dict (member -> score) beside a skip list ordered by score then member
(``memcmp`` order, which is Python's ``bytes`` order). We keep the same two indexes: a
``dict`` for O(1) score lookups and a ``sortedcontainers.SortedList`` of ``(score, member)``
tuples for order, whose positional index gives O(log N) ranks like the skip list's spans.
The tuple and the dict share the score and member objects.

Complexity (N members, M in the answer):

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
``skiplist`` after that. The data layout here is the same for both; ``enc`` records what
Valkey would use, following its rules: a set is created by size hints (:meth:`create`),
converts to ``skiplist`` when an insertion crosses a limit (:meth:`add` with ``limits``),
and converts back only when a command builds a result and asks for it
(:meth:`shrink_if_small`: ZRANGESTORE, ZUNIONSTORE & co., GEOSEARCHSTORE).
"""
from __future__ import annotations

import math
import sys
from collections.abc import Iterable, Iterator
from typing import Any

from sortedcontainers import SortedList

LISTPACK, SKIPLIST = 0, 1
ENCODING_NAMES = ("listpack", "skiplist")
_INF = math.inf
_nextafter = math.nextafter


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


class ZSet:
    """A sorted set: ``member -> score`` plus the ordered ``(score, member)`` list.

    Scores are never NaN (callers refuse NaN before it gets here). ``-0.0`` compares equal to
    ``0.0`` as in Valkey; a skiplist keeps its sign, a listpack (which stores integral scores
    as integers) turns it into ``0``.
    """

    __slots__ = ("_scores", "_sl", "enc")
    type_name = "zset"

    def __init__(self, items: Iterable[tuple[bytes, float]] = (), enc: int = SKIPLIST) -> None:
        self._scores: dict[bytes, float] = {}
        self._sl = SortedList()
        self.enc = enc
        scores = self._scores
        for member, score in items:
            scores[member] = score
        if scores:
            self._sl.update([(s, m) for m, s in scores.items()])

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

    def shrink_if_small(self, limits: tuple[int, int]) -> None:
        """zsetConvertToListpackIfNeeded: a freshly built result that fits goes to listpack."""
        if self.enc == SKIPLIST and len(self._scores) <= limits[0] and \
                max(map(len, self._scores), default=0) <= limits[1]:
            self.enc = LISTPACK
            scores = self._scores
            for m, s in scores.items():
                if s == 0 and math.copysign(1.0, s) < 0:     # -0 is stored as the integer 0
                    scores[m] = 0.0
                    self._sl.remove((s, m))
                    self._sl.add((0.0, m))

    def to_skiplist(self) -> None:
        """SORT converts a listpack zset to a skiplist before reading it, as Valkey does."""
        self.enc = SKIPLIST

    # ------------------------------------------------------------ size and lookup
    def __len__(self) -> int:
        return len(self._scores)

    def __contains__(self, member: object) -> bool:
        return member in self._scores

    def __iter__(self) -> Iterator[bytes]:
        """Members in order."""
        for _, m in self._sl:
            yield m

    def __repr__(self) -> str:
        return f"ZSet({list(self.items())!r}, enc={ENCODING_NAMES[self.enc]})"

    def score(self, member: bytes) -> float | None:
        """The score of ``member``, or None. O(1)."""
        return self._scores.get(member)

    def items(self) -> Iterator[tuple[bytes, float]]:
        """(member, score) pairs in order."""
        for s, m in self._sl:
            yield m, s

    def members(self) -> Iterable[bytes]:
        """Members in hash order (unordered): the dict's keys, for scans and random picks."""
        return self._scores.keys()

    def scores(self) -> dict[bytes, float]:
        """The member -> score mapping itself (read-only by convention)."""
        return self._scores

    # ------------------------------------------------------------ writes
    def add(self, member: bytes, score: float, limits: tuple[int, int] | None = None) -> bool:
        """Insert ``member`` or move it to ``score``; True if it was new. O(log N).

        With ``limits`` (entries, value), a new member that would cross them converts a
        listpack to a skiplist, as Valkey's zsetAdd does."""
        scores = self._scores
        old = scores.get(member)
        if old is None:
            if limits is not None and self.enc == LISTPACK and \
                    (len(scores) + 1 > limits[0] or len(member) > limits[1]):
                self.enc = SKIPLIST
            if score == 0 and self.enc == LISTPACK:
                score = 0.0         # a listpack stores integral scores as integers: -0 becomes 0
            scores[member] = score
            self._sl.add((score, member))
            return True
        if old != score:            # as Valkey: -0.0 does not replace 0.0 (they are equal)
            if score == 0 and self.enc == LISTPACK:
                score = 0.0
            self._sl.remove((old, member))
            scores[member] = score
            self._sl.add((score, member))
        return False

    def discard(self, member: bytes) -> bool:
        """Remove ``member``; True if it was there. O(log N)."""
        score = self._scores.pop(member, None)
        if score is None:
            return False
        self._sl.remove((score, member))
        return True

    def remove_span(self, start: int, stop: int) -> list[tuple[bytes, float]]:
        """Remove the members at positions ``start <= i < stop``; return them in order."""
        sl = self._sl
        n = len(sl)
        start, stop = max(start, 0), min(stop, n)
        if start >= stop:
            return []
        gone = list(sl.islice(start, stop))
        if stop - start == n:
            sl.clear()
            self._scores.clear()
        else:
            del sl[start:stop]
            scores = self._scores
            for _, m in gone:
                del scores[m]
        return [(m, s) for s, m in gone]

    def pop_min(self, count: int = 1) -> list[tuple[bytes, float]]:
        """Remove and return up to ``count`` lowest members, lowest first."""
        return self.remove_span(0, min(count, len(self._sl)))

    def pop_max(self, count: int = 1) -> list[tuple[bytes, float]]:
        """Remove and return up to ``count`` highest members, highest first."""
        n = len(self._sl)
        out = self.remove_span(n - min(count, n), n)
        out.reverse()
        return out

    def clear(self) -> None:
        self._scores.clear()
        self._sl.clear()

    # ------------------------------------------------------------ ranks and positions
    def rank(self, member: bytes, reverse: bool = False) -> int | None:
        """0-based rank of ``member`` (from the highest when ``reverse``), or None. O(log N)."""
        score = self._scores.get(member)
        if score is None:
            return None
        i = self._sl.bisect_left((score, member))
        return len(self._sl) - 1 - i if reverse else i

    def at(self, index: int) -> tuple[bytes, float]:
        """(member, score) at position ``index`` (negative counts from the end). O(log N)."""
        s, m = self._sl[index]
        return m, s

    def slice(self, start: int, stop: int, reverse: bool = False) -> list[tuple[bytes, float]]:
        """(member, score) at positions ``start <= i < stop``; highest first when ``reverse``."""
        if start >= stop:
            return []
        return [(m, s) for s, m in self._sl.islice(start, stop, reverse)]

    def range_by_rank(self, start: int, stop: int, reverse: bool = False) -> list[tuple[bytes, float]]:
        """Valkey's ZRANGE index rules: inclusive ``start..stop``, negatives from the end,
        counted from the highest member when ``reverse``."""
        n = len(self._sl)
        if start < 0:
            start += n
        if stop < 0:
            stop += n
        if start < 0:
            start = 0
        if start > stop or start >= n:
            return []
        if stop >= n:
            stop = n - 1
        if reverse:
            return self.slice(n - 1 - stop, n - start, True)
        return self.slice(start, stop + 1)

    def score_span(self, lo: float, hi: float, lo_ex: bool = False, hi_ex: bool = False) -> tuple[int, int]:
        """Positions ``[i, j)`` of the members with lo <= score <= hi (``<`` where exclusive)."""
        sl = self._sl
        n = len(sl)
        if lo_ex:
            i = n if lo == _INF else sl.bisect_left((_nextafter(lo, _INF),))
        else:
            i = sl.bisect_left((lo,))
        if hi_ex:
            j = sl.bisect_left((hi,))
        else:
            j = n if hi == _INF else sl.bisect_left((_nextafter(hi, _INF),))
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
        first = sl[0][0]
        if first == sl[-1][0]:  # the defined case: one score for all
            return sl.bisect_right((first, value)) if after else sl.bisect_left((first, value))
        lo, hi = 0, n
        while lo < hi:
            mid = (lo + hi) // 2
            m = sl[mid][1]
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
        new._scores = self._scores.copy()
        new._sl = self._sl.copy()
        new.enc = self.enc
        return new

    def memory_usage(self, samples: int = 5) -> int:
        """MEMORY USAGE estimate: the containers plus sampled members times the length."""
        n = len(self._scores)
        size = sys.getsizeof(self) + sys.getsizeof(self._scores) + 8 * n + 64 * (n // 1000 + 1)
        if not n:
            return size
        taken = total = 0
        for s, m in self._sl:
            total += sys.getsizeof(m) + sys.getsizeof(s) + 72   # member, score, (s, m) tuple
            taken += 1
            if samples and taken >= samples:
                break
        return size + total * n // taken

    def _check(self) -> None:
        """Assert the invariants: both indexes hold the same pairs, ordered, no NaN."""
        self._sl._check()
        assert len(self._sl) == len(self._scores)
        prev = None
        for s, m in self._sl:
            assert isinstance(m, bytes) and isinstance(s, float)
            assert s == s, "NaN score"
            assert self._scores[m] is s or self._scores[m] == s
            if prev is not None:
                assert prev < (s, m)
            prev = (s, m)
        assert self.enc in (LISTPACK, SKIPLIST)
