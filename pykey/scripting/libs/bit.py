"""LuaBitOp 1.0.2 (``bit.*``), as Valkey bundles it: 32-bit operations on Lua numbers.

An argument becomes 32 bits the way LuaBitOp does it: add 2^52+2^51 to the double and keep
the low word, which rounds to the nearest integer and wraps modulo 2^32. Results are signed.
"""
from __future__ import annotations

import struct

from . import NONE, LuaRaise, arg, str_to_number, typename

_MAGIC = 6755399441055744.0
_pack_d = struct.Struct("<d").pack
_unpack_q = struct.Struct("<Q").unpack


def _arg(v: object, n: int, fname: str) -> int:
    if v is NONE:
        raise LuaRaise(f"bad argument #{n} to '{fname}' (number expected, got no value)".encode())
    if isinstance(v, bytes):
        num = str_to_number(v)
    elif isinstance(v, bool) or v is None:
        num = None
    else:
        num = v
    if num is None:
        raise LuaRaise(f"bad argument #{n} to '{fname}' (number expected, got {typename(v)})".encode())
    if isinstance(num, int) and -2**51 <= num < 2**51:
        return num & 0xFFFFFFFF
    return _unpack_q(_pack_d(float(num) + _MAGIC))[0] & 0xFFFFFFFF


def _ret(b: int) -> int:
    b &= 0xFFFFFFFF
    return b - 0x100000000 if b & 0x80000000 else b


def tobit(*args):
    return _ret(_arg(arg(args, 0), 1, "tobit"))


def bnot(*args):
    return _ret(~_arg(arg(args, 0), 1, "bnot"))


def _fold(fname, op):
    def f(*args):
        b = _arg(arg(args, 0), 1, fname)
        for i in range(len(args) - 1, 0, -1):
            b = op(b, _arg(args[i], i + 1, fname))
        return _ret(b)
    f.__name__ = fname
    return f


band = _fold("band", lambda a, b: a & b)
bor = _fold("bor", lambda a, b: a | b)
bxor = _fold("bxor", lambda a, b: a ^ b)


def _shift(fname, op):
    def f(*args):
        b = _arg(arg(args, 0), 1, fname)
        s = _arg(arg(args, 1), 2, fname) & 31
        return _ret(op(b, s))
    f.__name__ = fname
    return f


def _sar(b: int, n: int) -> int:
    return (b - 0x100000000 if b & 0x80000000 else b) >> n


lshift = _shift("lshift", lambda b, n: b << n)
rshift = _shift("rshift", lambda b, n: b >> n)
arshift = _shift("arshift", _sar)
rol = _shift("rol", lambda b, n: (b << n) | (b >> (32 - n)))
ror = _shift("ror", lambda b, n: (b << (32 - n)) | (b >> n))


def bswap(*args):
    b = _arg(arg(args, 0), 1, "bswap")
    return _ret((b >> 24) | ((b >> 8) & 0xFF00) | ((b & 0xFF00) << 8) | (b << 24))


def tohex(*args):
    b = _arg(arg(args, 0), 1, "tohex")
    n = 8 if len(args) < 2 else _ret(_arg(args[1], 2, "tohex"))
    digits = "0123456789abcdef"
    if n == -2**31:
        n = -2**31 + 1
    if n < 0:
        n = -n
        digits = "0123456789ABCDEF"
    n = min(n, 8)
    out = []
    for _ in range(n):
        out.append(digits[b & 15])
        b >>= 4
    return "".join(reversed(out)).encode()


FUNCTIONS = {"tobit": tobit, "bnot": bnot, "band": band, "bor": bor, "bxor": bxor,
             "lshift": lshift, "rshift": rshift, "arshift": arshift, "rol": rol, "ror": ror,
             "bswap": bswap, "tohex": tohex}
