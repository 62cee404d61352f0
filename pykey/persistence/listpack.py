"""Listpacks, the compact sequence Valkey serializes small lists, sets, hashes, sorted sets
and stream nodes as (``listpack.c``), encoded and decoded byte for byte.

Layout: ``<total bytes: u32 LE> <count: u16 LE, 65535 = unknown> <entry>... <0xFF>``. An
entry is its encoding (+ data) followed by a "back length": the size of encoding + data in
1 to 5 bytes, 7 bits a byte, so the listpack can be walked backwards. Strings that parse
as 64-bit integers (no sign tricks, no leading zeros) are stored as integers in the
smallest of 7/13/16/24/32/64 bits, as ``lpAppend`` does.

Decoding validates everything it reads (bounds, back lengths, count, terminator) and
raises :class:`ListpackError`, so a corrupt payload is refused, never half-read.
Complexity: O(N) in the number of bytes both ways.
"""
from __future__ import annotations

import struct
from collections.abc import Iterable

_I64_MIN, _I64_MAX = -(2**63), 2**63 - 1
_pack_h = struct.Struct("<h").pack
_pack_i = struct.Struct("<i").pack
_pack_q = struct.Struct("<q").pack
_pack_hdr = struct.Struct("<IH").pack
_unpack_hdr = struct.Struct("<IH").unpack_from
_unpack_h = struct.Struct("<h").unpack_from
_unpack_i = struct.Struct("<i").unpack_from
_unpack_q = struct.Struct("<q").unpack_from
_unpack_I = struct.Struct("<I").unpack_from
_DIGITS = frozenset(b"0123456789")


class ListpackError(ValueError):
    """A listpack whose bytes do not hold together."""


def string_to_int(s: bytes) -> int | None:
    """Valkey's ``string2ll``/``lpStringToInt64``: the integer ``s`` spells exactly, or None."""
    n = len(s)
    if n == 0 or n > 20:
        return None
    c = s[0]
    if n == 1:
        return c - 48 if 48 <= c <= 57 else None
    if c == 45:            # '-'
        if s[1] == 48:
            return None
    elif c == 48 or c < 48 or c > 57:
        return None
    if not _DIGITS.issuperset(s[1:]):
        return None
    v = int(s)
    return v if _I64_MIN <= v <= _I64_MAX else None


def _backlen(n: int) -> bytes:
    if n <= 127:
        return bytes((n,))
    if n < 16383:
        return bytes((n >> 7, (n & 127) | 128))
    if n < 2097151:
        return bytes((n >> 14, ((n >> 7) & 127) | 128, (n & 127) | 128))
    if n < 268435455:
        return bytes((n >> 21, ((n >> 14) & 127) | 128, ((n >> 7) & 127) | 128, (n & 127) | 128))
    return bytes((n >> 28, ((n >> 21) & 127) | 128, ((n >> 14) & 127) | 128,
                  ((n >> 7) & 127) | 128, (n & 127) | 128))


def _backlen_size(n: int) -> int:
    return 1 if n <= 127 else 2 if n < 16383 else 3 if n < 2097151 else 4 if n < 268435455 else 5


def encode_int(v: int) -> bytes:
    """One integer entry (encoding, data and back length)."""
    if 0 <= v <= 127:
        return bytes((v, 1))
    if -4096 <= v <= 4095:
        u = v & 0x1FFF
        return bytes((0xC0 | (u >> 8), u & 0xFF, 2))
    if -32768 <= v <= 32767:
        return b"\xf1" + _pack_h(v) + b"\x03"
    if -8388608 <= v <= 8388607:
        return b"\xf2" + (v & 0xFFFFFF).to_bytes(3, "little") + b"\x04"
    if -2147483648 <= v <= 2147483647:
        return b"\xf3" + _pack_i(v) + b"\x05"
    return b"\xf4" + _pack_q(v) + b"\x09"


def encode_entry(s: bytes | int) -> bytes:
    """One entry for ``s``: an integer when it spells one, else a string."""
    if s.__class__ is int:
        return encode_int(s)  # type: ignore[arg-type]
    if len(s) <= 20:  # type: ignore[arg-type]
        v = string_to_int(s)  # type: ignore[arg-type]
        if v is not None:
            return encode_int(v)
    n = len(s)  # type: ignore[arg-type]
    if n < 64:
        head = bytes((0x80 | n,))
    elif n < 4096:
        head = bytes((0xE0 | (n >> 8), n & 0xFF))
    else:
        head = b"\xf0" + n.to_bytes(4, "little")
    return head + bytes(s) + _backlen(len(head) + n)  # type: ignore[arg-type]


def encode(items: Iterable[bytes | int]) -> bytes:
    """A whole listpack holding ``items`` in order."""
    body = [encode_entry(x) for x in items]
    total = 7 + sum(map(len, body))
    count = len(body)
    return _pack_hdr(total, count if count < 65535 else 65535) + b"".join(body) + b"\xff"


def decode(blob: bytes | memoryview, as_int: bool = False) -> list:
    """Every entry of ``blob`` in order, as bytes (integers spelled in decimal), or as ints
    for integer entries when ``as_int`` (stream nodes want numbers)."""
    b = bytes(blob)
    size = len(b)
    if size < 7:
        raise ListpackError("listpack shorter than its header")
    total, count = _unpack_hdr(b, 0)
    if total != size:
        raise ListpackError("listpack size header does not match its length")
    if b[-1] != 0xFF:
        raise ListpackError("listpack without terminator")
    out: list = []
    append = out.append
    pos = 6
    end = size - 1
    while pos < end:
        start = pos
        c = b[pos]
        if c < 0x80:                                   # 7-bit uint
            value: bytes | int = c
            pos += 1
        elif c < 0xC0:                                 # 6-bit string length
            n = c & 0x3F
            pos += 1
            value = b[pos:pos + n]
            pos += n
        elif c < 0xE0:                                 # 13-bit int
            if pos + 2 > end:
                raise ListpackError("listpack entry out of range")
            u = ((c & 0x1F) << 8) | b[pos + 1]
            value = u - 0x2000 if u >= 0x1000 else u
            pos += 2
        elif c < 0xF0:                                 # 12-bit string length
            if pos + 2 > end:
                raise ListpackError("listpack entry out of range")
            n = ((c & 0x0F) << 8) | b[pos + 1]
            pos += 2
            value = b[pos:pos + n]
            pos += n
        elif c == 0xF0:                                # 32-bit string length
            if pos + 5 > end:
                raise ListpackError("listpack entry out of range")
            n = _unpack_I(b, pos + 1)[0]
            pos += 5
            value = b[pos:pos + n]
            pos += n
        elif c == 0xF1:
            if pos + 3 > end:
                raise ListpackError("listpack entry out of range")
            value = _unpack_h(b, pos + 1)[0]
            pos += 3
        elif c == 0xF2:
            if pos + 4 > end:
                raise ListpackError("listpack entry out of range")
            u = int.from_bytes(b[pos + 1:pos + 4], "little")
            value = u - 0x1000000 if u >= 0x800000 else u
            pos += 4
        elif c == 0xF3:
            if pos + 5 > end:
                raise ListpackError("listpack entry out of range")
            value = _unpack_i(b, pos + 1)[0]
            pos += 5
        elif c == 0xF4:
            if pos + 9 > end:
                raise ListpackError("listpack entry out of range")
            value = _unpack_q(b, pos + 1)[0]
            pos += 9
        else:
            raise ListpackError(f"invalid listpack entry encoding 0x{c:02x}")
        if pos > end:
            raise ListpackError("listpack entry out of range")
        enc_len = pos - start
        bl = _backlen_size(enc_len)
        if pos + bl > end or b[pos:pos + bl] != _backlen(enc_len):
            raise ListpackError("listpack entry back length mismatch")
        pos += bl
        if value.__class__ is int and not as_int:
            value = b"%d" % value
        append(value)
    if pos != end:
        raise ListpackError("listpack entries overrun the terminator")
    if count != 65535 and count != len(out):
        raise ListpackError("listpack count header does not match its entries")
    return out


def entry_bytes(s: bytes) -> int:
    """Bytes ``s`` takes as one entry (for splitting quicklist nodes by size)."""
    if len(s) <= 20 and string_to_int(s) is not None:
        v = string_to_int(s)
        assert v is not None
        return len(encode_int(v))
    n = len(s)
    head = 1 if n < 64 else 2 if n < 4096 else 5
    return head + n + _backlen_size(head + n)
