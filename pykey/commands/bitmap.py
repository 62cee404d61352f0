"""Bitmap commands on string values: SETBIT GETBIT BITCOUNT BITPOS.

Bit counting uses ``int.from_bytes(...).bit_count()``, which runs in C over the whole range.
"""
from __future__ import annotations

from .. import errors
from ..engine.client import Client
from ..engine.registry import command
from .util import parse_int

BIT_OFFSET = errors.err("bit offset is not an integer or out of range")
BIT_VALUE = errors.err("bit is not an integer or out of range")
BITPOS_BIT = errors.err("The bit argument must be 1 or 0.")


def _offset(c: Client, arg: bytes) -> int:
    try:
        off = parse_int(arg)
    except errors.CommandError:
        raise BIT_OFFSET from None
    if off < 0 or (off >> 3) >= c.server.config["proto-max-bulk-len"]:
        raise BIT_OFFSET
    return off


@command("setbit", arity=4, flags="write denyoom", keys=1, key_flags="RW access update",
         group="bitmap", since="2.2.0", complexity="O(1)",
         summary="Sets or clears a single bit of a key's string, creating the key if needed.")
def setbit(c: Client, key: bytes, offset: bytes, value: bytes) -> int:
    off = _offset(c, offset)
    if value not in (b"0", b"1"):
        raise BIT_VALUE
    db = c.db
    cur = db.get_string(key)
    byte = off >> 3
    if cur is None:
        buf = bytearray(byte + 1)
        db.add(key, buf)
    else:
        buf = cur if cur.__class__ is bytearray else bytearray(cur)
        if len(buf) <= byte:
            buf.extend(bytes(byte + 1 - len(buf)))
        if buf is not cur:
            db.set(key, buf, keepttl=True)
        else:
            db.signal_modified(key)
    mask = 0x80 >> (off & 7)
    old = 1 if buf[byte] & mask else 0
    if value == b"1":
        buf[byte] |= mask
    else:
        buf[byte] &= ~mask & 0xFF
    c.server.dirty += 1
    c.server.notify("$", "setbit", key, db.id)
    return old


@command("getbit", arity=3, flags="readonly fast", keys=1, key_flags="RO access", group="bitmap",
         since="2.2.0", complexity="O(1)", summary="Reads a single bit of a key's string.")
def getbit(c: Client, key: bytes, offset: bytes) -> int:
    off = _offset(c, offset)
    cur = c.db.get_string(key)
    if cur is None or (off >> 3) >= len(cur):
        return 0
    return 1 if cur[off >> 3] & (0x80 >> (off & 7)) else 0


def _range(args: tuple[bytes, ...], length: int, allow_start_only: bool) -> tuple[int, int, bool] | None:
    """Parse [start [end [BYTE|BIT]]] into a clamped inclusive range in the chosen unit."""
    start = parse_int(args[0])
    isbit = False
    if len(args) == 3:
        unit = args[2].lower()
        if unit not in (b"bit", b"byte"):
            raise errors.SYNTAX
        isbit = unit == b"bit"
    end = parse_int(args[1]) if len(args) >= 2 else None
    total = length * 8 if isbit else length
    if end is None:
        end = total - 1
    if start < 0 and end < 0 and start > end:
        return None
    if start < 0:
        start += total
    if end < 0:
        end += total
    start = max(start, 0)
    end = max(end, 0)
    end = min(end, total - 1)
    return start, end, isbit


def _count_bits(buf: bytes | bytearray, start: int, end: int) -> int:
    return int.from_bytes(buf[start:end + 1], "big").bit_count()


@command("bitcount", arity=-2, flags="readonly", keys=1, key_flags="RO access", group="bitmap",
         since="2.6.0", complexity="O(N)", summary="Counts the 1 bits in a key's string, optionally within a range.")
def bitcount(c: Client, key: bytes, *args: bytes) -> int:
    if len(args) > 3:
        raise errors.SYNTAX
    if args:
        if len(args) == 3 and args[2].lower() not in (b"bit", b"byte"):
            parse_int(args[0])
            raise errors.SYNTAX
        parse_int(args[0])
        if len(args) >= 2:
            parse_int(args[1])
    cur = c.db.get_string(key)
    if cur is None:
        return 0
    if not args:
        return _count_bits(cur, 0, len(cur) - 1)
    rng = _range(args, len(cur), True)
    if rng is None:
        return 0
    start, end, isbit = rng
    if start > end:
        return 0
    if not isbit:
        return _count_bits(cur, start, end)
    value = int.from_bytes(cur[start >> 3:(end >> 3) + 1], "big")
    width = ((end >> 3) - (start >> 3) + 1) * 8
    lo = width - 1 - ((start & 7) + 0)  # highest bit index kept
    keep_hi = (1 << (lo + 1)) - 1
    drop_lo = 7 - (end & 7)
    value &= keep_hi
    value >>= drop_lo
    return value.bit_count()


@command("bitpos", arity=-3, flags="readonly", keys=1, key_flags="RO access", group="bitmap",
         since="2.8.7", complexity="O(N)", summary="Finds the position of the first 1 or 0 bit in a key's string.")
def bitpos(c: Client, key: bytes, bit: bytes, *args: bytes) -> int:
    b = parse_int(bit)
    if b not in (0, 1):
        raise BITPOS_BIT
    if len(args) > 3:
        raise errors.SYNTAX
    if len(args) == 3 and args[2].lower() not in (b"bit", b"byte"):
        parse_int(args[0])
        parse_int(args[1])
        raise errors.SYNTAX
    for a in args[:2]:
        parse_int(a)
    cur = c.db.get_string(key)
    if cur is None:
        return -1 if b else 0
    end_given = len(args) >= 2
    if args:
        rng = _range(args, len(cur), True)
        if rng is None:
            return -1
        start, end, isbit = rng
    else:
        start, end, isbit = 0, len(cur) - 1, False
    if start > end:
        return -1
    if isbit:
        lo_bit, hi_bit = start, end
    else:
        lo_bit, hi_bit = start * 8, end * 8 + 7
    first_byte, last_byte = lo_bit >> 3, hi_bit >> 3
    chunk = cur[first_byte:last_byte + 1]
    width = len(chunk) * 8
    value = int.from_bytes(chunk, "big")
    # bit i from the left of the chunk is (value >> (width-1-i)) & 1
    skip_left = lo_bit - first_byte * 8
    skip_right = (last_byte * 8 + 7) - hi_bit
    span = width - skip_left - skip_right
    window = (value >> skip_right) & ((1 << span) - 1)
    if b == 1:
        if window == 0:
            return -1
        return lo_bit + (span - window.bit_length())
    inverted = window ^ ((1 << span) - 1)
    if inverted == 0:
        if end_given or isbit:
            return -1
        return (last_byte + 1) * 8
    return lo_bit + (span - inverted.bit_length())
