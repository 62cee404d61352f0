"""lua-struct 0.2 (``struct.pack``, ``struct.unpack``, ``struct.size``) as Valkey bundles it.

Formats: ``>`` ``<`` ``!n`` endianness and alignment, ``b B h H l L T i[n] I[n]`` integers
(``long`` is 8 bytes, integers up to 32 bytes but computed in 64 bits as the C code does),
``f d`` floats, ``c[n]`` fixed strings (``c0`` takes its length from the previous value when
unpacking), ``s`` zero-terminated strings, ``x`` padding.
"""
from __future__ import annotations

import struct as _struct

from . import NONE, LuaRaise, arg, argerror, check_number, check_string, normalize, to_integer

_SIZES = {"b": 1, "B": 1, "h": 2, "H": 2, "l": 8, "L": 8, "T": 8, "f": 4, "d": 8, "x": 1}
_MAXALIGN = 8
_MAXINTSIZE = 32
_M64 = (1 << 64) - 1


class _Fmt:
    __slots__ = ("s", "i", "little", "align")

    def __init__(self, s: bytes) -> None:
        self.s = s
        self.i = 0
        self.little = True           # native endianness of x86-64
        self.align = 1

    def getnum(self, default: int) -> int:
        s = self.s
        if self.i >= len(s) or not 48 <= s[self.i] <= 57:
            return default
        a = 0
        while self.i < len(s) and 48 <= s[self.i] <= 57:
            d = s[self.i] - 48
            if a > (2**31 - 1) // 10 or a * 10 > (2**31 - 1) - d:
                raise LuaRaise(b"integral size overflow")
            a = a * 10 + d
            self.i += 1
        return a


def _optsize(opt: str, f: _Fmt) -> int:
    if opt in _SIZES:
        return _SIZES[opt]
    if opt == "c":
        return f.getnum(1)
    if opt in "iI":
        sz = f.getnum(4)
        if sz > _MAXINTSIZE:
            raise LuaRaise(f"integral size {sz} is larger than limit of {_MAXINTSIZE}".encode())
        return sz
    return 0


def _toalign(length: int, f: _Fmt, opt: str, size: int) -> int:
    if size == 0 or opt == "c":
        return 0
    if size > f.align:
        size = f.align
    return (size - (length & (size - 1))) & (size - 1)


def _control(opt: str, f: _Fmt, fname: str) -> None:
    if opt == " ":
        return
    if opt == ">":
        f.little = False
    elif opt == "<":
        f.little = True
    elif opt == "!":
        a = f.getnum(_MAXALIGN)
        if not (a > 0 and a & (a - 1) == 0):
            raise LuaRaise(f"alignment {a} is not a power of 2".encode())
        f.align = a
    else:
        raise argerror(1, fname, f"invalid format option '{opt}'")


def pack(*args):
    fmt = _Fmt(check_string(arg(args, 0), 1, "pack"))
    out = bytearray()
    a = 1                                   # index into args of the next value
    total = 0
    while f_more(fmt):
        opt = chr(fmt.s[fmt.i])
        fmt.i += 1
        size = _optsize(opt, fmt)
        pad = _toalign(total, fmt, opt, size)
        total += pad
        out += b"\0" * pad
        if opt in "bBhHlLTiI":
            n = check_number(arg(args, a), a + 1, "pack")
            a += 1
            if isinstance(n, float):
                v = to_integer(n) if n < 0 else (int(n) if n == n and n < 1.8446744073709552e19 else 0)
            else:
                v = n
            v &= _M64
            b = bytearray()
            for _ in range(size):
                b.append(v & 0xFF)
                v >>= 8
            out += b if fmt.little else bytes(reversed(b))
        elif opt == "x":
            out += b"\0"
        elif opt == "f":
            n = check_number(arg(args, a), a + 1, "pack")
            a += 1
            try:
                out += _struct.pack("<f" if fmt.little else ">f", n)
            except OverflowError:
                out += _struct.pack("<f" if fmt.little else ">f", float("inf") if n > 0 else float("-inf"))
        elif opt == "d":
            n = check_number(arg(args, a), a + 1, "pack")
            a += 1
            out += _struct.pack("<d" if fmt.little else ">d", n)
        elif opt in "cs":
            s = check_string(arg(args, a), a + 1, "pack")
            a += 1
            if size == 0:
                size = len(s)
            if len(s) < size:
                raise argerror(a + 1, "pack", "string too short")
            out += s[:size]
            if opt == "s":
                out += b"\0"
                size += 1
        else:
            _control(opt, fmt, "pack")
        total += size
    return bytes(out)


def f_more(fmt: _Fmt) -> bool:
    # the C loop stops at the first NUL of the format string
    return fmt.i < len(fmt.s) and fmt.s[fmt.i] != 0


def unpack(*args):
    fmt = _Fmt(check_string(arg(args, 0), 1, "unpack"))
    data = check_string(arg(args, 1), 2, "unpack")
    p = arg(args, 2)
    pos = 1 if p is None or p is NONE else to_integer(check_number(p, 3, "unpack"))
    pos &= _M64                              # size_t
    if not pos > 0:
        raise argerror(3, "unpack", "offset must be 1 or greater")
    pos -= 1
    ld = len(data)
    res: list = []
    while f_more(fmt):
        opt = chr(fmt.s[fmt.i])
        fmt.i += 1
        size = _optsize(opt, fmt)
        pos += _toalign(pos, fmt, opt, size)
        if not (size <= ld and pos <= ld - size):
            raise argerror(2, "unpack", "data string too short")
        if opt in "bBhHlLTiI":
            chunk = data[pos:pos + size]
            if not fmt.little:
                chunk = chunk[::-1]
            v = 0
            for byte in reversed(chunk):
                v = ((v << 8) | byte) & _M64
            if opt.islower():
                mask = (_M64 << (size * 8 - 1)) & _M64 if size * 8 - 1 < 64 else 0
                if v & mask:
                    v |= mask
                if v & (1 << 63):
                    v -= 1 << 64
            res.append(normalize(float(v)))
        elif opt == "x":
            pass
        elif opt == "f":
            res.append(normalize(_struct.unpack("<f" if fmt.little else ">f", data[pos:pos + 4])[0]))
        elif opt == "d":
            res.append(normalize(_struct.unpack("<d" if fmt.little else ">d", data[pos:pos + 8])[0]))
        elif opt == "c":
            if size == 0:
                if not res or not isinstance(res[-1], (int, float)):
                    raise LuaRaise(b"format 'c0' needs a previous size")
                size = to_integer(res.pop()) & _M64
                if not (size <= ld and pos <= ld - size):
                    raise argerror(2, "unpack", "data string too short")
            res.append(data[pos:pos + size])
        elif opt == "s":
            e = data.find(b"\0", pos)
            if e < 0:
                raise LuaRaise(b"unfinished string in data")
            size = e - pos + 1
            res.append(data[pos:e])
        else:
            _control(opt, fmt, "unpack")
        pos += size
    res.append(pos + 1)
    return tuple(res)


def size(*args):
    fmt = _Fmt(check_string(arg(args, 0), 1, "size"))
    pos = 0
    while f_more(fmt):
        opt = chr(fmt.s[fmt.i])
        fmt.i += 1
        sz = _optsize(opt, fmt)
        pos += _toalign(pos, fmt, opt, sz)
        if opt == "s":
            raise argerror(1, "size", "option 's' has no fixed size")
        if opt == "c" and sz == 0:
            raise argerror(1, "size", "option 'c0' has no fixed size")
        if not opt.isalnum():
            _control(opt, fmt, "size")
        pos += sz
    return pos


FUNCTIONS = {"pack": pack, "unpack": unpack, "size": size}
