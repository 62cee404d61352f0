"""Operations every collection type (set, sorted set, hash) shares through its own methods."""
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
