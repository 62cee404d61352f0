"""The list value: a deque that also tracks which encoding Valkey would use for it.

Valkey keeps a small list as one listpack and converts it to a quicklist when it outgrows
``list-max-listpack-size``; it converts back only when the list shrinks to half the limit
(hysteresis, so a list near the limit does not flip on every push/pop). OBJECT ENCODING
shows that choice, so we replay the same rule. The rule needs the listpack's byte size,
which we keep up to date incrementally (``lp_bytes``) from the exact listpack entry sizes.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import Any

LP_HEADER = 7                     # 4 bytes total length + 2 bytes count + 1 end byte
SIZE_SAFETY_LIMIT = 8192          # a count-limited node never grows past this many bytes
_NEG_FILL_LIMITS = (4096, 8192, 16384, 32768, 65536)
_I64_MIN, _I64_MAX = -(2**63), 2**63 - 1

# DEBUG QUICKLIST-PACKED-THRESHOLD: elements this long or longer sit in "plain" quicklist
# nodes, which never convert back to a listpack. 0 means the fill-derived default.
packed_threshold = 0


def set_packed_threshold(size: int) -> None:
    """Hook for DEBUG QUICKLIST-PACKED-THRESHOLD."""
    global packed_threshold
    packed_threshold = size


def _as_int(s: bytes) -> int | None:
    """The integer a listpack would store ``s`` as (lpStringToInt64), or None."""
    n = len(s)
    if n == 0 or n > 20:
        return None
    if n == 1:
        return s[0] - 48 if 48 <= s[0] <= 57 else None
    body = s[1:] if s[0] == 45 else s
    if not body or not body.isdigit() or not body.isascii() or body[0] == 48:
        return None
    v = int(s)
    return v if _I64_MIN <= v <= _I64_MAX else None


def entry_size(s: bytes) -> int:
    """Bytes one element takes in a listpack: encoding + data + back-length."""
    v = _as_int(s) if len(s) <= 20 else None
    if v is not None:
        if 0 <= v <= 127:
            size = 1
        elif -4096 <= v <= 4095:
            size = 2
        elif -32768 <= v <= 32767:
            size = 3
        elif -8388608 <= v <= 8388607:
            size = 4
        elif -2147483648 <= v <= 2147483647:
            size = 5
        else:
            size = 9
    else:
        n = len(s)
        size = n + (1 if n < 64 else 2 if n < 4096 else 5)
    if size <= 127:
        return size + 1
    if size < 16383:
        return size + 2
    if size < 2097151:
        return size + 3
    if size < 268435455:
        return size + 4
    return size + 5


def fill_limits(fill: int) -> tuple[int | None, int | None]:
    """(byte limit, count limit) of a listpack for list-max-listpack-size ``fill``."""
    if fill >= 0:
        return None, (fill or 1)
    return _NEG_FILL_LIMITS[min(-fill - 1, 4)], None


def exceeds(fill: int, size: int, count: int) -> bool:
    """Valkey's quicklistNodeExceedsLimit."""
    sz_limit, count_limit = fill_limits(fill)
    if sz_limit is not None:
        return size > sz_limit
    return size > SIZE_SAFETY_LIMIT or count > count_limit  # type: ignore[operator]


def quicklist_nodes(value: Iterable[bytes], fill: int, quick: bool) -> list[tuple[bool, list[bytes]]]:
    """The nodes Valkey's quicklist would hold ``value`` in: (plain, elements) pairs, filled
    as quicklist insertions fill them. The RDB writer and DEBUG OBJECT both need them."""
    plain_at = packed_threshold or (1 << 30)
    items = list(value)
    if not quick and not any(len(x) >= plain_at for x in items):
        return [(False, items)]
    nodes: list[tuple[bool, list[bytes]]] = []
    cur: list[bytes] = []
    size = LP_HEADER
    for x in items:
        if len(x) >= plain_at:
            if cur:
                nodes.append((False, cur))
                cur, size = [], LP_HEADER
            nodes.append((True, [x]))
            continue
        eb = entry_size(x)
        if cur and exceeds(fill, size + eb, len(cur) + 1):
            nodes.append((False, cur))
            cur, size = [], LP_HEADER
        cur.append(x)
        size += eb
    if cur:
        nodes.append((False, cur))
    return nodes


class ListType(deque):
    """A list value; ``quick`` is True once Valkey would hold it as a quicklist."""

    __slots__ = ("quick", "_lpb")
    type_name = "list"

    def __init__(self, items: Iterable[bytes] = ()) -> None:
        super().__init__(items)
        self.quick = False
        self._lpb: int | None = None

    # ------------------------------------------------------------ size bookkeeping
    @property
    def lp_bytes(self) -> int:
        """The size a single listpack holding every element would have."""
        if self._lpb is None:
            self._lpb = LP_HEADER + sum(map(entry_size, self))
        return self._lpb

    def added(self, items: Iterable[bytes]) -> None:
        """Account for elements the caller has just inserted."""
        if self._lpb is not None:
            self._lpb += sum(map(entry_size, items))

    def removed(self, items: Iterable[bytes]) -> None:
        """Account for elements the caller has just taken out."""
        if self._lpb is not None:
            self._lpb -= sum(map(entry_size, items))

    def invalidate(self) -> None:
        """Forget the cached size after a bulk change; it is recomputed when needed."""
        self._lpb = None

    # ------------------------------------------------------------ encoding rules
    def before_grow(self, fill: int, items: Iterable[bytes]) -> None:
        """LIST_CONV_GROWING: go quicklist if adding ``items`` (raw lengths) would overflow."""
        if self.quick:
            return
        add_bytes = 0
        n = 0
        for x in items:
            add_bytes += len(x)
            n += 1
        if exceeds(fill, self.lp_bytes + add_bytes, len(self) + n):
            self.quick = True

    def after_shrink(self, fill: int) -> None:
        """LIST_CONV_SHRINKING: back to listpack once under half the limit."""
        if not self.quick:
            return
        sz_limit, count_limit = fill_limits(fill)
        if sz_limit is not None:
            # cheap lower bound first: every entry takes at least 2 bytes
            if LP_HEADER + 2 * len(self) > sz_limit // 2 or self.lp_bytes > sz_limit // 2:
                return
        elif len(self) > count_limit // 2 or self.lp_bytes > SIZE_SAFETY_LIMIT:  # type: ignore[operator]
            return
        if packed_threshold and any(len(x) >= packed_threshold for x in self):
            return                       # a plain node never folds back into a listpack
        self.quick = False

    def auto_encoding(self, fill: int) -> None:
        """LIST_CONV_AUTO, for a list built whole (RDB load, RESTORE)."""
        self.quick = exceeds(fill, self.lp_bytes, len(self))

    def encoding(self, config: Any = None) -> str:
        """OBJECT ENCODING: "quicklist" or "listpack" (the state kept by the rules above)."""
        return "quicklist" if self.quick else "listpack"

    # ------------------------------------------------------------ copies
    def dup(self) -> ListType:
        out = ListType(self)
        out.quick = self.quick
        out._lpb = self._lpb
        return out

    copy = dup
    __copy__ = dup

    def __reduce__(self) -> Any:
        return (_rebuild, (list(self), self.quick))

    def _check(self) -> None:
        """Invariants: bytes elements, cached size right."""
        assert all(isinstance(x, bytes) for x in self)
        if self._lpb is not None:
            assert self._lpb == LP_HEADER + sum(map(entry_size, self)), "lp_bytes drifted"


def _rebuild(items: list[bytes], quick: bool) -> ListType:
    out = ListType(items)
    out.quick = quick
    return out
