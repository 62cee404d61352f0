"""Integers of 1..64 bits at any bit offset of a string, with Valkey's overflow rules.

Bits are numbered as SETBIT numbers them: bit 0 is the most significant bit of byte 0, and
an integer is stored most significant bit first. Arithmetic follows Valkey's C code on
64-bit words, wrap-around included, so replies agree digit for digit (even for the odd
corner of checking a signed value that is itself outside the type's range). O(bits) each.
"""
from __future__ import annotations

WRAP, SAT, FAIL = 0, 1, 2
_U64 = (1 << 64) - 1


def to_i64(x: int) -> int:
    """Reinterpret the low 64 bits of ``x`` as a signed 64-bit integer."""
    x &= _U64
    return x - (1 << 64) if x >> 63 else x


def get_unsigned(buf: bytes | bytearray, offset: int, bits: int) -> int:
    """The ``bits``-bit unsigned integer at bit ``offset``; bits past the end read as 0."""
    first = offset >> 3
    shift_in = offset & 7
    nbytes = (shift_in + bits + 7) >> 3
    chunk = bytes(buf[first:first + nbytes])
    if len(chunk) < nbytes:
        chunk += bytes(nbytes - len(chunk))
    value = int.from_bytes(chunk, "big")
    return (value >> (nbytes * 8 - shift_in - bits)) & ((1 << bits) - 1)


def get_signed(buf: bytes | bytearray, offset: int, bits: int) -> int:
    value = get_unsigned(buf, offset, bits)
    if value >> (bits - 1):
        value -= 1 << bits
    return value


def set_bits(buf: bytearray, offset: int, bits: int, value: int) -> None:
    """Store the low ``bits`` bits of ``value`` (two's complement) at bit ``offset``; the
    buffer must already reach that far."""
    first = offset >> 3
    shift_in = offset & 7
    nbytes = (shift_in + bits + 7) >> 3
    shift = nbytes * 8 - shift_in - bits
    mask = ((1 << bits) - 1) << shift
    chunk = int.from_bytes(buf[first:first + nbytes], "big")
    chunk = (chunk & ~mask) | ((value << shift) & mask)
    buf[first:first + nbytes] = chunk.to_bytes(nbytes, "big")


def check_unsigned(value: int, incr: int, bits: int, owtype: int) -> tuple[int, int]:
    """(overflow: 1 over, -1 under, 0 none; the value to store on overflow) for an unsigned
    ``value`` (a uint64) plus ``incr`` (an int64), as checkUnsignedBitfieldOverflow."""
    mx = _U64 if bits == 64 else (1 << bits) - 1
    maxincr = to_i64(mx - value)
    minincr = to_i64(-value)
    if value > mx or (incr > 0 and incr > maxincr):
        return 1, _unsigned_limit(value, incr, bits, owtype, mx)
    if incr < 0 and incr < minincr:
        return -1, _unsigned_limit(value, incr, bits, owtype, 0)
    return 0, 0


def _unsigned_limit(value: int, incr: int, bits: int, owtype: int, sat: int) -> int:
    if owtype == WRAP:
        return (value + incr) & ((1 << bits) - 1)
    return sat if owtype == SAT else 0


def check_signed(value: int, incr: int, bits: int, owtype: int) -> tuple[int, int]:
    """As :func:`check_unsigned` for a signed ``value`` (an int64): checkSignedBitfieldOverflow."""
    mx = (1 << 63) - 1 if bits == 64 else (1 << (bits - 1)) - 1
    mn = -mx - 1
    maxincr = to_i64(mx - value)
    minincr = to_i64(mn - value)
    if value > mx or (bits != 64 and incr > maxincr) or (value >= 0 and incr > 0 and incr > maxincr):
        return 1, _signed_limit(value, incr, bits, owtype, mx)
    if value < mn or (bits != 64 and incr < minincr) or (value < 0 and incr < 0 and incr < minincr):
        return -1, _signed_limit(value, incr, bits, owtype, mn)
    return 0, 0


def _signed_limit(value: int, incr: int, bits: int, owtype: int, sat: int) -> int:
    if owtype == WRAP:
        c = (value + incr) & _U64
        if bits < 64:
            if c & (1 << (bits - 1)):
                c |= _U64 ^ ((1 << bits) - 1)
            else:
                c &= (1 << bits) - 1
        return to_i64(c)
    return sat if owtype == SAT else 0
