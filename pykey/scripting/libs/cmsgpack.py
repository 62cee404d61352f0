"""lua-cmsgpack 0.4 (``cmsgpack.pack``, ``unpack``, ``unpack_one``, ``unpack_limit``) as
Valkey bundles it: a table whose keys are exactly 1..n is an array, any other a map; tables
nested 16 deep are written as nil (so circular tables terminate); a number that is an exact
int64 is an integer, else a float when a float holds it exactly, else a double.
"""
from __future__ import annotations

import struct
from typing import Any

from lupa import lua51

from . import NONE, LuaRaise, arg, argerror, check_number, check_string, normalize, to_integer

_lua_type = lua51.lua_type
MAX_NESTING = 16
_pf = struct.Struct(">f")
_pd = struct.Struct(">d")


def _encode_int(n: int, out: bytearray) -> None:
    if n >= 0:
        if n <= 127:
            out.append(n)
        elif n <= 0xFF:
            out += b"\xcc" + bytes((n,))
        elif n <= 0xFFFF:
            out += b"\xcd" + n.to_bytes(2, "big")
        elif n <= 0xFFFFFFFF:
            out += b"\xce" + n.to_bytes(4, "big")
        else:
            out += b"\xcf" + n.to_bytes(8, "big")
    else:
        if n >= -32:
            out.append(n & 0xFF)
        elif n >= -128:
            out += b"\xd0" + bytes((n & 0xFF,))
        elif n >= -32768:
            out += b"\xd1" + (n & 0xFFFF).to_bytes(2, "big")
        elif n >= -2147483648:
            out += b"\xd2" + (n & 0xFFFFFFFF).to_bytes(4, "big")
        else:
            out += b"\xd3" + (n & 0xFFFFFFFFFFFFFFFF).to_bytes(8, "big")


def _encode_bytes(s: bytes, out: bytearray) -> None:
    n = len(s)
    if n < 32:
        out.append(0xA0 | n)
    elif n <= 0xFF:
        out += b"\xd9" + bytes((n,))
    elif n <= 0xFFFF:
        out += b"\xda" + n.to_bytes(2, "big")
    else:
        out += b"\xdb" + (n & 0xFFFFFFFF).to_bytes(4, "big")
    out += s


def _encode_number(v: float | int, out: bytearray) -> None:
    f = float(v)
    if isinstance(v, int) or (f == f and f not in (float("inf"), float("-inf"))
                              and -9.2233720368547758e18 <= f < 9.2233720368547758e18 and f == int(f)):
        _encode_int(to_integer(v), out)
        return
    try:
        single = _pf.unpack(_pf.pack(f))[0]
    except OverflowError:
        single = None
    if single == f or (f != f):
        out += b"\xca" + _pf.pack(f)
    else:
        out += b"\xcb" + _pd.pack(f)


def _encode(v: Any, level: int, out: bytearray) -> None:
    cls = v.__class__
    if cls is bytes:
        _encode_bytes(v, out)
    elif cls is bool:
        out.append(0xC3 if v else 0xC2)
    elif cls is int or cls is float:
        _encode_number(v, out)
    elif v is None:
        out.append(0xC0)
    elif _lua_type(v) == "table" and level != MAX_NESTING:
        items = list(v.items())
        top = 0
        array = True
        for key, _ in items:
            kc = key.__class__
            if not (kc is int or kc is float) or key <= 0 or key != int(key) or key > 2**31 - 1:
                array = False
                break
            top = max(top, int(key))
        if array and top == len(items):
            values = dict(items)
            n = len(v)            # lua_objlen, then t[i] for each index
            _header(n, 0x90, b"\xdc", b"\xdd", out)
            for i in range(1, n + 1):
                _encode(values.get(i) if i in values else v[i], level + 1, out)
        else:
            _header(len(items), 0x80, b"\xde", b"\xdf", out)
            for key, val in items:
                _encode(key, level + 1, out)
                _encode(val, level + 1, out)
    else:
        out.append(0xC0)


def _header(n: int, fix: int, b16: bytes, b32: bytes, out: bytearray) -> None:
    if n <= 15:
        out.append(fix | n)
    elif n <= 0xFFFF:
        out += b16 + n.to_bytes(2, "big")
    else:
        out += b32 + (n & 0xFFFFFFFF).to_bytes(4, "big")


def pack(*args):
    if not args:
        raise argerror(0, "pack", "MessagePack pack needs input.")
    out = bytearray()
    for v in args:
        _encode(v, 0, out)
    return bytes(out)


class _Truncated(Exception):
    pass


class _BadFormat(Exception):
    pass


class Unpacker:
    """Decoding builds Lua tables, so it needs the runtime."""

    def __init__(self, lua: Any) -> None:
        self.lua = lua

    def functions(self) -> dict[str, Any]:
        return {"pack": pack, "unpack": self.unpack, "unpack_one": self.unpack_one,
                "unpack_limit": self.unpack_limit}

    def unpack(self, *args):
        return self._full(args, 0, 0)

    def unpack_one(self, *args):
        off = arg(args, 1)
        offset = 0 if off is None or off is NONE else to_integer(check_number(off, 2, "unpack_one"))
        return self._full(args[:1], 1, offset)

    def unpack_limit(self, *args):
        limit = to_integer(check_number(arg(args, 1), 2, "unpack_limit"))
        off = arg(args, 2)
        offset = 0 if off is None or off is NONE else to_integer(check_number(off, 3, "unpack_limit"))
        return self._full(args[:1], limit, offset)

    def _full(self, args: tuple, limit: int, offset: int):
        fname = "unpack"
        s = check_string(arg(args, 0), 1, fname)
        n = len(s)
        decode_all = not limit and not offset
        if offset < 0 or limit < 0:
            raise LuaRaise(b"Invalid request to unpack with offset of %d and limit of %d."
                           % (_c_int(offset), _c_int(n)))
        if offset > n:
            raise LuaRaise(b"Start offset %d greater than input length %d." % (_c_int(offset), _c_int(n)))
        if decode_all:
            limit = 2**31 - 1
        pos = offset
        out: list = []
        while pos < n and len(out) < limit:
            try:
                value, pos = self._decode(s, pos)
            except _Truncated:
                raise LuaRaise(b"Missing bytes in input.") from None
            except _BadFormat:
                raise LuaRaise(b"Bad data format in input.") from None
            out.append(value)
        if not decode_all:
            out.insert(0, -1 if pos >= n else pos)
        return tuple(out)

    def _decode(self, s: bytes, p: int) -> tuple[Any, int]:
        n = len(s)
        if p >= n:
            raise _Truncated
        c = s[p]

        def need(k: int) -> None:
            if n - p < k:
                raise _Truncated

        if c <= 0x7F:
            return c, p + 1
        if c >= 0xE0:
            return c - 256, p + 1
        if 0xA0 <= c <= 0xBF:
            k = c & 0x1F
            need(1 + k)
            return s[p + 1:p + 1 + k], p + 1 + k
        if 0x90 <= c <= 0x9F:
            return self._array(s, p + 1, c & 0xF)
        if 0x80 <= c <= 0x8F:
            return self._map(s, p + 1, c & 0xF)
        if c == 0xC0:
            return None, p + 1
        if c == 0xC2:
            return False, p + 1
        if c == 0xC3:
            return True, p + 1
        if c in (0xCC, 0xD0):
            need(2)
            v = s[p + 1]
            return (v - 256 if c == 0xD0 and v > 127 else v), p + 2
        if c in (0xCD, 0xD1):
            need(3)
            return int.from_bytes(s[p + 1:p + 3], "big", signed=c == 0xD1), p + 3
        if c in (0xCE, 0xD2):
            need(5)
            return int.from_bytes(s[p + 1:p + 5], "big", signed=c == 0xD2), p + 5
        if c in (0xCF, 0xD3):
            need(9)
            v = int.from_bytes(s[p + 1:p + 9], "big", signed=True)   # pushed as a C long
            return normalize(float(v)), p + 9
        if c == 0xCA:
            need(5)
            return normalize(_pf.unpack(s[p + 1:p + 5])[0]), p + 5
        if c == 0xCB:
            need(9)
            return normalize(_pd.unpack(s[p + 1:p + 9])[0]), p + 9
        if c == 0xD9:
            need(2)
            k = s[p + 1]
            need(2 + k)
            return s[p + 2:p + 2 + k], p + 2 + k
        if c == 0xDA:
            need(3)
            k = int.from_bytes(s[p + 1:p + 3], "big")
            need(3 + k)
            return s[p + 3:p + 3 + k], p + 3 + k
        if c == 0xDB:
            need(5)
            k = int.from_bytes(s[p + 1:p + 5], "big")
            if n - p - 5 < k:
                raise _Truncated
            return s[p + 5:p + 5 + k], p + 5 + k
        if c == 0xDC:
            need(3)
            return self._array(s, p + 3, int.from_bytes(s[p + 1:p + 3], "big"))
        if c == 0xDD:
            need(5)
            return self._array(s, p + 5, int.from_bytes(s[p + 1:p + 5], "big"))
        if c == 0xDE:
            need(3)
            return self._map(s, p + 3, int.from_bytes(s[p + 1:p + 3], "big"))
        if c == 0xDF:
            need(5)
            return self._map(s, p + 5, int.from_bytes(s[p + 1:p + 5], "big"))
        raise _BadFormat

    def _array(self, s: bytes, p: int, count: int) -> tuple[Any, int]:
        items = {}
        for i in range(1, count + 1):
            v, p = self._decode(s, p)
            if v is not None:
                items[i] = v
        return self.lua.table_from(items), p

    def _map(self, s: bytes, p: int, count: int) -> tuple[Any, int]:
        items = {}
        for _ in range(count):
            k, p = self._decode(s, p)
            v, p = self._decode(s, p)
            if k is None:
                raise LuaRaise(b"table index is nil")
            if isinstance(k, float) and k != k:
                raise LuaRaise(b"table index is NaN")
            if v is None:
                items.pop(k, None)
            else:
                items[k] = v
        return self.lua.table_from(items), p


def _c_int(v: int) -> int:
    return (v + 2**31) % 2**32 - 2**31

