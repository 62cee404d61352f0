"""What the collection types (list, set, sorted set, hash) share: Valkey's index rules for
ranges of positions, and the removal loop of SREM/ZREM/HDEL."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sized


def remove_each(coll: Sized, remove: Callable[[bytes], bool], items: Iterable[bytes]) -> int:
    """SREM/ZREM/HDEL's loop: ``remove`` (True when the item was there) each of ``items``,
    stopping once ``coll`` is empty as Valkey does; how many were removed. O(N) calls."""
    removed = 0
    for item in items:
        if remove(item):
            removed += 1
            if not coll:
                break
    return removed


def index_span(start: int, stop: int, n: int) -> tuple[int, int] | None:
    """Valkey's rules for the inclusive ``start..stop`` indexes of LRANGE, LTRIM, ZRANGE...
    over ``n`` elements (negatives count from the end, out-of-range ends are clamped):
    the half-open positions ``(i, j)``, or None when nothing is in range."""
    if start < 0:
        start += n
    if stop < 0:
        stop += n
    if start < 0:
        start = 0
    if start > stop or start >= n:
        return None
    return start, (stop if stop < n else n - 1) + 1
