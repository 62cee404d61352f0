"""Decoders for the encodings older RDB files carry: ziplists (Redis 2.6 to 6.2: small
lists, hashes, sorted sets, and quicklist nodes of RDB_TYPE_LIST_QUICKLIST) and zipmaps
(Redis up to 2.4: small hashes). Nothing writes these any more; they are only loaded.

Every read is bounds-checked; a malformed blob raises :class:`ZiplistError`. O(N).
"""
from __future__ import annotations

import struct

_unpack_I = struct.Struct("<I").unpack_from
_unpack_H = struct.Struct("<H").unpack_from
_unpack_h = struct.Struct("<h").unpack_from
_unpack_i = struct.Struct("<i").unpack_from
_unpack_q = struct.Struct("<q").unpack_from
_unpack_BE_I = struct.Struct(">I").unpack_from


class ZiplistError(ValueError):
    """A ziplist or zipmap whose bytes do not hold together."""


def decode(blob: bytes | memoryview) -> list[bytes]:
    """Every entry of a ziplist, as bytes (integers spelled in decimal)."""
    b = bytes(blob)
    size = len(b)
    if size < 11:
        raise ZiplistError("ziplist shorter than its header")
    zlbytes = _unpack_I(b, 0)[0]
    zltail = _unpack_I(b, 4)[0]
    zllen = _unpack_H(b, 8)[0]
    if zlbytes != size or b[-1] != 0xFF or zltail > size - 1:
        raise ZiplistError("ziplist header does not match its length")
    out: list[bytes] = []
    pos = 10
    end = size - 1
    prev_len = 0
    last_start = 10
    while pos < end:
        start = pos
        # previous entry length
        if b[pos] < 254:
            pl = b[pos]
            pos += 1
        else:
            if pos + 5 > end:
                raise ZiplistError("ziplist entry out of range")
            pl = _unpack_I(b, pos + 1)[0]
            pos += 5
        if pl != prev_len:
            raise ZiplistError("ziplist prevlen mismatch")
        if pos >= end:
            raise ZiplistError("ziplist entry out of range")
        c = b[pos]
        kind = c >> 6
        if kind == 0:
            n = c & 0x3F
            pos += 1
            value = b[pos:pos + n]
            pos += n
        elif kind == 1:
            if pos + 2 > end:
                raise ZiplistError("ziplist entry out of range")
            n = ((c & 0x3F) << 8) | b[pos + 1]
            pos += 2
            value = b[pos:pos + n]
            pos += n
        elif c == 0x80:
            if pos + 5 > end:
                raise ZiplistError("ziplist entry out of range")
            n = _unpack_BE_I(b, pos + 1)[0]
            pos += 5
            value = b[pos:pos + n]
            pos += n
        elif c == 0xC0:
            value = b"%d" % _unpack_h(b, pos + 1)[0]
            pos += 3
        elif c == 0xD0:
            value = b"%d" % _unpack_i(b, pos + 1)[0]
            pos += 5
        elif c == 0xE0:
            value = b"%d" % _unpack_q(b, pos + 1)[0]
            pos += 9
        elif c == 0xF0:
            u = int.from_bytes(b[pos + 1:pos + 4], "little")
            value = b"%d" % (u - 0x1000000 if u >= 0x800000 else u)
            pos += 4
        elif c == 0xFE:
            u = b[pos + 1] if pos + 1 < end else 0
            value = b"%d" % (u - 256 if u >= 128 else u)
            pos += 2
        elif 0xF1 <= c <= 0xFD:
            value = b"%d" % ((c & 0x0F) - 1)
            pos += 1
        else:
            raise ZiplistError(f"invalid ziplist entry encoding 0x{c:02x}")
        if pos > end:
            raise ZiplistError("ziplist entry out of range")
        prev_len = pos - start
        last_start = start
        out.append(value)
    if pos != end:
        raise ZiplistError("ziplist entries overrun the terminator")
    if out and last_start != zltail:
        raise ZiplistError("ziplist tail offset mismatch")
    if zllen != 65535 and zllen != len(out):
        raise ZiplistError("ziplist count does not match its entries")
    return out


def decode_zipmap(blob: bytes | memoryview) -> list[bytes]:
    """The fields and values of a zipmap, alternating."""
    b = bytes(blob)
    size = len(b)
    if size < 2 or b[-1] != 0xFF:
        raise ZiplistError("zipmap without terminator")
    out: list[bytes] = []
    pos = 1
    end = size - 1

    def length() -> int:
        nonlocal pos
        if pos >= end:
            raise ZiplistError("zipmap entry out of range")
        c = b[pos]
        if c < 254:
            pos += 1
            return c
        if c == 254 and pos + 5 <= end:
            n = _unpack_I(b, pos + 1)[0]
            pos += 5
            return n
        raise ZiplistError("invalid zipmap length")

    while pos < end:
        n = length()
        if pos + n > end:
            raise ZiplistError("zipmap entry out of range")
        out.append(b[pos:pos + n])
        pos += n
        n = length()
        if pos >= end:
            raise ZiplistError("zipmap entry out of range")
        free = b[pos]
        pos += 1
        if pos + n + free > end:
            raise ZiplistError("zipmap entry out of range")
        out.append(b[pos:pos + n])
        pos += n + free
    if pos != end:
        raise ZiplistError("zipmap entries overrun the terminator")
    return out
