"""Separator bytes for the packed small layouts of sets, sorted sets and hashes.

Those layouts frame their strings as ``<sep><string><sep>...`` in one ``bytes`` object,
so that a lookup is one C-speed ``find``; that is only sound with a separator byte that no
framed string contains, chosen here.
"""
from __future__ import annotations

from collections.abc import Iterable

_BYTE = [bytes((i,)) for i in range(256)]
# Preference order: UTF-8 text never holds 0xFF or 0xFE, so text members keep those.
_SEPS = (0xFF, 0xFE, *range(0xFD, -1, -1))


def separators(strings: Iterable[bytes], count: int = 1) -> tuple[bytes, ...] | None:
    """``count`` distinct bytes that none of ``strings`` contains, or None."""
    used: set[int] = set()
    for s in strings:
        used.update(s)
        if len(used) > 256 - count:
            return None
    free = [_BYTE[c] for c in _SEPS if c not in used]
    return tuple(free[:count])


def separator(strings: Iterable[bytes]) -> bytes | None:
    """One byte that none of ``strings`` contains, or None."""
    got = separators(strings)
    return got[0] if got else None
