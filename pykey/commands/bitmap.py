"""Bitmap commands on string values: SETBIT GETBIT BITCOUNT BITPOS BITOP BITFIELD BITFIELD_RO.

Whole-range work runs in C: counting with ``int.bit_count``, searching with ``bytes.lstrip``,
BITOP as big-integer AND/OR/XOR over the padded sources. Arguments are checked in Valkey's
order, so a request with several faults gets the same error as from Valkey.
"""
from __future__ import annotations

from .. import errors
from ..datatypes import bitfield as bf
from ..engine.client import Client
from ..engine.registry import KeySpec, command
from .util import parse_int


def _offset(c: Client, arg: bytes, bits: int = 0) -> int:
    """getBitOffsetFromArgument: a bit offset (``#n`` means n*bits when ``bits``), within
    proto-max-bulk-len bytes unless the client is our primary."""
    usehash = bits > 0 and arg[:1] == b"#"
    try:
        off = parse_int(arg[1:] if usehash else arg)
    except errors.CommandError:
        raise errors.BIT_OFFSET from None
    if usehash:
        off = bf.to_i64(off * bits)
    if off < 0 or (c.kind != "master" and (off >> 3) >= c.server.config["proto-max-bulk-len"]):
        raise errors.BIT_OFFSET
    return off


def _string_for_write(c: Client, key: bytes, maxbit: int) -> tuple[bytearray, bool]:
    """lookupStringForBitCommand: the key's string, created or zero-padded so bit ``maxbit``
    exists; the flag says whether it was created or grown (that alone makes a change)."""
    db = c.db
    size = (maxbit >> 3) + 1
    cur = db.get_string(key)
    if cur is None:
        buf = bytearray(size)
        db.add(key, buf)
        return buf, True
    buf = db.unshare_string(key, cur)
    if len(buf) < size:
        buf.extend(bytes(size - len(buf)))
        return buf, True
    return buf, False


@command("setbit", arity=4, flags="write denyoom", keys=1, key_flags="RW access update",
         group="bitmap", since="2.2.0", complexity="O(1)",
         summary="Sets or clears the bit at offset of the string value. Creates the key if it "
                 "doesn't exist.",
         args="key:key offset:integer value:integer")
def setbit(c: Client, key: bytes, offset: bytes, value: bytes) -> int:
    off = _offset(c, offset)
    if value != b"0" and value != b"1":
        raise errors.BIT_VALUE
    buf, grown = _string_for_write(c, key, off)
    byte = off >> 3
    mask = 0x80 >> (off & 7)
    old = 1 if buf[byte] & mask else 0
    on = value == b"1"
    if grown or old != on:
        if on:
            buf[byte] |= mask
        else:
            buf[byte] &= ~mask & 0xFF
        db = c.db
        db.signal_modified(key)
        c.server.notify("$", "setbit", key, db.id)
        c.server.dirty += 1
    return old


@command("getbit", arity=3, flags="readonly fast", keys=1, key_flags="RO access", group="bitmap",
         since="2.2.0", complexity="O(1)", summary="Returns a bit value by offset.",
         args="key:key offset:integer")
def getbit(c: Client, key: bytes, offset: bytes) -> int:
    off = _offset(c, offset)
    cur = c.db.get_string(key)
    if cur is None or (off >> 3) >= len(cur):
        return 0
    return 1 if cur[off >> 3] & (0x80 >> (off & 7)) else 0


def _unit(arg: bytes) -> bool:
    """BIT -> True, BYTE -> False, anything else a syntax error."""
    low = arg.lower()
    if low == b"bit":
        return True
    if low == b"byte":
        return False
    raise errors.SYNTAX


def _clamp(start: int, end: int, total: int) -> tuple[int, int]:
    if start < 0:
        start += total
    if end < 0:
        end += total
    start = max(start, 0)
    end = max(end, 0)
    return start, min(end, total - 1)


@command("bitcount", arity=-2, flags="readonly", keys=1, key_flags="RO access", group="bitmap",
         since="2.6.0", complexity="O(N)", summary="Counts the number of set bits (population "
         "counting) in a string.", history=(("7.0.0", "Added the `BYTE|BIT` option."),
                                            ("8.0.0", "`end` made optional; when called without argument "
                                                      "the command reports the last BYTE.")),
         args="key:key [range: start:integer [end-unit-block: end:integer [unit: BYTE | BIT]@7.0.0]]")
def bitcount(c: Client, key: bytes, *args: bytes) -> int:
    if len(args) > 3:
        raise errors.SYNTAX
    isbit = False
    start = end = 0
    if args:
        start = parse_int(args[0])
        if len(args) == 3:
            isbit = _unit(args[2])
        if len(args) >= 2:
            end = parse_int(args[1])
    cur = c.db.get_string(key)
    if cur is None:
        return 0
    if not args:
        return _popcount(cur, 0, len(cur))
    total = len(cur)
    if len(args) < 2:
        end = total - 1
    if start < 0 and end < 0 and start > end:
        return 0
    if isbit:
        total <<= 3
    start, end = _clamp(start, end, total)
    if start > end:
        return 0
    if not isbit:
        return _popcount(cur, start, end + 1)
    value = int.from_bytes(cur[start >> 3:(end >> 3) + 1], "big")
    width = ((end >> 3) - (start >> 3) + 1) * 8
    value &= (1 << (width - (start & 7))) - 1       # drop bits before start
    return (value >> (7 - (end & 7))).bit_count()     # and after end


_CHUNK = 1 << 20


def _popcount(buf: bytes | bytearray, start: int, stop: int) -> int:
    """Set bits in ``buf[start:stop]``, a megabyte at a time (a 512 MB string never becomes
    one 512 MB integer)."""
    if stop - start <= _CHUNK:
        return int.from_bytes(buf[start:stop], "big").bit_count()
    view = memoryview(buf)
    total = 0
    for i in range(start, stop, _CHUNK):
        total += int.from_bytes(view[i:min(i + _CHUNK, stop)], "big").bit_count()
    return total


def _first_bit(chunk: bytes | bytearray, bit: int) -> int:
    """Position of the first ``bit`` in ``chunk``, or -1."""
    rest = chunk.lstrip(b"\x00" if bit else b"\xff")
    if not rest:
        return -1
    first = rest[0] if bit else rest[0] ^ 0xFF
    return (len(chunk) - len(rest)) * 8 + 8 - first.bit_length()


@command("bitpos", arity=-3, flags="readonly", keys=1, key_flags="RO access", group="bitmap",
         since="2.8.7", complexity="O(N)",
         summary="Finds the first set (1) or clear (0) bit in a string.",
         history=(("7.0.0", "Added the `BYTE|BIT` option."),),
         args="key:key bit:integer [range: start:integer [end-unit-block: end:integer [unit: BYTE | BIT]@7.0.0]]")
def bitpos(c: Client, key: bytes, bit_arg: bytes, *args: bytes) -> int:
    bit = parse_int(bit_arg)
    if bit != 0 and bit != 1:
        raise errors.BITPOS_BIT
    if len(args) > 3:
        raise errors.SYNTAX
    isbit = end_given = False
    start = end = 0
    if args:
        start = parse_int(args[0])
        if len(args) == 3:
            isbit = _unit(args[2])
        if len(args) >= 2:
            end = parse_int(args[1])
            end_given = True
    cur = c.db.get_string(key)
    if cur is None:
        return -1 if bit else 0
    total = len(cur)
    if not end_given:
        end = total - 1
    if isbit:
        total <<= 3
    if args:
        start, end = _clamp(start, end, total)
    if start > end:
        return -1
    if not isbit:
        pos = _first_bit(cur[start:end + 1], bit)
        if pos >= 0:
            return pos + start * 8
        if bit or end_given:
            return -1
        return (end + 1) * 8                 # the string continues with zeros
    chunk = bytearray(cur[start >> 3:(end >> 3) + 1])
    head = 0xFF00 >> (start & 7) & 0xFF       # bits of the first byte before start
    tail = (1 << (7 - (end & 7))) - 1         # bits of the last byte after end
    if bit:
        chunk[0] &= ~head & 0xFF
        chunk[-1] &= ~tail & 0xFF
    else:
        chunk[0] |= head
        chunk[-1] |= tail
    pos = _first_bit(chunk, bit)
    return -1 if pos < 0 else pos + (start >> 3) * 8


# ---------------------------------------------------------------- BITOP
_BITOPS = (b"and", b"or", b"xor", b"not", b"diff", b"diff1", b"andor", b"one")
_TWO_KEY_OPS = (b"diff", b"diff1", b"andor")


def _bitop_result(op: bytes, values: list[int], size: int) -> int:
    if op == b"not":
        return ~values[0] & ((1 << (size * 8)) - 1)
    if op == b"and":
        out = values[0]
        for v in values[1:]:
            out &= v
        return out
    if op == b"xor":
        out = 0
        for v in values:
            out ^= v
        return out
    if op == b"one":
        once = several = 0
        for v in values:
            several |= once & v
            once |= v
        return once & ~several
    rest = 0
    for v in values[1 if op != b"or" else 0:]:
        rest |= v
    if op == b"or":
        return rest
    first = values[0]
    if op == b"diff":
        return first & ~rest
    if op == b"diff1":
        return ~first & rest
    return first & rest                          # andor


@command("bitop", arity=-4, flags="write denyoom", keys=(2, -1, 1), group="bitmap",
         key_specs=(KeySpec(("OW", "update"), ("index", 2), ("range", 0, 1, 0)),
                    KeySpec(("RO", "access"), ("index", 3), ("range", -1, 1, 0))),
         since="2.6.0", complexity="O(N)",
         summary="Performs bitwise operations on multiple strings, and stores the result.",
         args="(operation: AND | OR | XOR | NOT | DIFF | DIFF1 | ANDOR | ONE) destkey:key key:key...")
def bitop(c: Client, operation: bytes, dest: bytes, *sources: bytes) -> int:
    op = operation.lower()
    if op not in _BITOPS:
        raise errors.SYNTAX
    if op == b"not" and len(sources) != 1:
        raise errors.BITOP_NOT_ONE_KEY
    if op in _TWO_KEY_OPS and len(sources) < 2:
        raise errors.bitop_needs_two_keys(operation)
    db = c.db
    strings = []
    for key in sources:
        value = db.get_string(key)
        strings.append(value if value is not None else b"")
    size = max(len(s) for s in strings)
    server = c.server
    if not size:
        if db.delete(dest):
            server.notify("g", "del", dest, db.id)
            server.dirty += 1
        return 0
    values = [int.from_bytes(s, "big") << ((size - len(s)) * 8) for s in strings]
    result = _bitop_result(op, values, size)
    db.set(dest, bytearray(result.to_bytes(size, "big")))
    server.notify("$", "set", dest, db.id)
    server.dirty += 1
    return size


# ---------------------------------------------------------------- BITFIELD
_GET, _SET, _INCRBY = 0, 1, 2
_OVERFLOW = {b"wrap": bf.WRAP, b"sat": bf.SAT, b"fail": bf.FAIL}


def _bitfield_type(arg: bytes) -> tuple[bool, int]:
    """``i<bits>`` (1..64) or ``u<bits>`` (1..63) -> (signed, bits)."""
    sign = arg[:1]
    if sign != b"i" and sign != b"u":
        raise errors.BITFIELD_TYPE
    try:
        bits = parse_int(arg[1:])
    except errors.CommandError:
        raise errors.BITFIELD_TYPE from None
    if bits < 1 or bits > (64 if sign == b"i" else 63):
        raise errors.BITFIELD_TYPE
    return sign == b"i", bits


def _bitfield(c: Client, key: bytes, args: tuple[bytes, ...], readonly_cmd: bool) -> list:
    ops = []
    owtype = bf.WRAP
    readonly = True
    highest = 0
    j = 0
    n = len(args)
    while j < n:
        sub = args[j].lower()
        remaining = n - j - 1
        if sub == b"get" and remaining >= 2:
            opcode = _GET
        elif sub == b"set" and remaining >= 3:
            opcode = _SET
        elif sub == b"incrby" and remaining >= 3:
            opcode = _INCRBY
        elif sub == b"overflow" and remaining >= 1:
            owtype = _OVERFLOW.get(args[j + 1].lower(), -1)
            if owtype < 0:
                raise errors.BITFIELD_OVERFLOW_TYPE
            j += 2
            continue
        else:
            raise errors.SYNTAX
        signed, bits = _bitfield_type(args[j + 1])
        offset = _offset(c, args[j + 2], bits)
        value = 0
        if opcode != _GET:
            readonly = False
            highest = max(highest, offset + bits - 1)
            value = parse_int(args[j + 3])
            j += 4
        else:
            j += 3
        ops.append((opcode, signed, bits, offset, value, owtype))
    db = c.db
    if readonly:
        cur = db.get_string(key)
        src = cur if cur is not None else b""
        return [bf.get_signed(src, off, bits) if signed else bf.get_unsigned(src, off, bits)
                for _, signed, bits, off, _, _ in ops]
    if readonly_cmd:
        raise errors.BITFIELD_RO_ONLY_GET
    buf, grown = _string_for_write(c, key, highest)
    changes = 0
    out: list[int | None] = []
    for opcode, signed, bits, off, value, ow in ops:
        if opcode == _GET:
            out.append(bf.get_signed(buf, off, bits) if signed else bf.get_unsigned(buf, off, bits))
            continue
        if signed:
            old = bf.get_signed(buf, off, bits)
            if opcode == _INCRBY:
                overflow, wrapped = bf.check_signed(old, value, bits, ow)
                new = wrapped if overflow else old + value
                reply = new
            else:
                new = value
                overflow, wrapped = bf.check_signed(new, 0, bits, ow)
                if overflow:
                    new = wrapped
                reply = old
        else:
            old = bf.get_unsigned(buf, off, bits)
            if opcode == _INCRBY:
                overflow, wrapped = bf.check_unsigned(old, value, bits, ow)
                new = wrapped if overflow else (old + value) & bf._U64
                reply = new
            else:
                new = value & bf._U64
                overflow, wrapped = bf.check_unsigned(new, 0, bits, ow)
                if overflow:
                    new = wrapped
                reply = old
        if overflow and ow == bf.FAIL:
            out.append(None)
            continue
        out.append(reply)
        bf.set_bits(buf, off, bits, new)
        if grown or old != new:
            changes += 1
    if changes:
        db.signal_modified(key)
        c.server.notify("$", "setbit", key, db.id)
        c.server.dirty += changes
    return out


_BITFIELD_SPEC = (KeySpec(("RW", "access", "update", "variable_flags"), ("index", 1),
                          ("range", 0, 1, 0),
                          notes="This command allows both access and modification of the key"),)


def _bitfield_key_flags(argv: list[bytes]) -> list[tuple[int, tuple[str, ...]]]:
    """Valkey's bitfieldGetKeys: read-only when every operation is a GET (a syntax error
    counts as a write, to be safe)."""
    i, n = 2, len(argv)
    while i < n:
        op, rem = argv[i].lower(), n - i - 1
        if op == b"get" and rem >= 2:
            i += 3
        elif op == b"overflow" and rem >= 1:
            i += 2
        else:
            return [(1, ("RW", "access", "update"))]
    return [(1, ("RO", "access"))]


@command("bitfield", arity=-2, flags="write denyoom", keys=1, key_specs=_BITFIELD_SPEC,
         key_flags_fn=_bitfield_key_flags, group="bitmap", since="3.2.0", complexity="O(1) for each subcommand specified",
         summary="Performs arbitrary bitfield integer operations on strings.",
         args="key:key "
              "[operation: GET (get-block: encoding offset:integer) | (write: [OVERFLOW (overflow-block: WRAP | "
              "SAT | FAIL)] (write-operation: SET (set-block: encoding offset:integer value:integer) | "
              "INCRBY (incrby-block: encoding offset:integer increment:integer)))]...")
def bitfield(c: Client, key: bytes, *args: bytes) -> list:
    return _bitfield(c, key, args, False)


@command("bitfield_ro", arity=-2, flags="readonly fast", keys=1, key_flags="RO access",
         group="bitmap", since="6.0.0", complexity="O(1) for each subcommand specified",
         summary="Performs arbitrary read-only bitfield integer operations on strings.",
         args="key:key [GET (get-block: encoding offset:integer)]...")
def bitfield_ro(c: Client, key: bytes, *args: bytes) -> list:
    return _bitfield(c, key, args, True)
