"""Intsets, the sorted array of integers Valkey stores small all-integer sets as
(``intset.c``): ``<encoding: u32 LE = 2, 4 or 8> <length: u32 LE> <sorted LE ints>``.

Decoding checks the header, the size, the ordering and uniqueness (Valkey's deep
sanitization) and raises :class:`IntsetError` otherwise. O(N) both ways.
"""
from __future__ import annotations

import struct
from collections.abc import Iterable

_HDR = struct.Struct("<II")
_FMT = {2: "h", 4: "i", 8: "q"}


class IntsetError(ValueError):
    """An intset whose bytes do not hold together."""


def encode(values: Iterable[int]) -> bytes:
    """The intset of ``values`` (distinct integers), in the narrowest encoding."""
    vals = sorted(values)
    width = 2
    if vals:
        lo, hi = vals[0], vals[-1]
        if lo < -2147483648 or hi > 2147483647:
            width = 8
        elif lo < -32768 or hi > 32767:
            width = 4
    return _HDR.pack(width, len(vals)) + struct.pack(f"<{len(vals)}{_FMT[width]}", *vals)


def decode(blob: bytes | memoryview) -> list[int]:
    """The integers of an intset blob, ascending."""
    b = bytes(blob)
    if len(b) < 8:
        raise IntsetError("intset shorter than its header")
    width, n = _HDR.unpack_from(b, 0)
    fmt = _FMT.get(width)
    if fmt is None:
        raise IntsetError("invalid intset encoding")
    if len(b) != 8 + width * n:
        raise IntsetError("intset size does not match its length")
    if n == 0:
        raise IntsetError("empty intset")
    vals = list(struct.unpack_from(f"<{n}{fmt}", b, 8))
    for i in range(1, n):
        if vals[i - 1] >= vals[i]:
            raise IntsetError("intset not sorted or with duplicates")
    return vals
