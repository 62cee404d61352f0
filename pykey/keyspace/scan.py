"""SCAN cursors over Python dicts.

A dict has no stable position a cursor could name (Valkey uses its hash table's reverse
binary iteration), so cursor 0 takes a snapshot of the key order and the cursor names that
snapshot and a position in it. Every key present for the whole scan is in the snapshot, which
gives SCAN's guarantee; keys added later may or may not be returned, which SCAN allows. The
snapshot holds references only (8 bytes a key) and the oldest snapshots are dropped when too
many scans are open; a cursor naming a dropped snapshot restarts from a fresh one, which
may repeat keys (also allowed) but never skips one that stayed.
"""
from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Iterable

MAX_OPEN = 64
_ids = itertools.count(1)


class Cursors:
    __slots__ = ("open",)

    def __init__(self) -> None:
        self.open: OrderedDict[int, list] = OrderedDict()

    def page(self, cursor: int, source: Iterable, count: int) -> tuple[int, list]:
        """Return (next cursor, items) for ``count`` items of ``source`` after ``cursor``."""
        snap_id, pos = cursor >> 32, cursor & 0xFFFFFFFF
        snap = self.open.get(snap_id) if cursor else None
        if snap is None:
            snap = list(source)
            if len(snap) <= count:
                return 0, snap
            snap_id = next(_ids) & 0xFFFFFFFF or next(_ids)
            self.open[snap_id] = snap
            if len(self.open) > MAX_OPEN:
                self.open.popitem(last=False)
            pos = 0
        else:
            self.open.move_to_end(snap_id)
        items = snap[pos:pos + count]
        pos += count
        if pos >= len(snap):
            self.open.pop(snap_id, None)
            return 0, items
        return (snap_id << 32) | pos, items
