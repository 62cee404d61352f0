"""Valkey's ``math.random`` and ``math.randomseed`` for scripts (script_lua.c, rand.c).

Valkey replaces Lua's libc-based random with its own lrand48 (a 48-bit linear congruential
generator, the same on every platform). Its state is global to the server and starts from
the same value at each start, so a given seed gives the same sequence as Valkey's.
"""
from __future__ import annotations

import math

from . import LuaRaise, arg, argerror, check_number, to_integer

_A = 0x5DEECE66D
_C = 0xB
_MASK = (1 << 48) - 1
_INIT = 0x1234ABCD330E
_LRAND48_MAX = 2**31 - 1


class Rand48:
    __slots__ = ("x",)

    def __init__(self) -> None:
        self.x = _INIT

    def seed(self, value: int) -> None:
        value &= 0xFFFFFFFF
        self.x = (value << 16) | 0x330E

    def next(self) -> int:
        self.x = (_A * self.x + _C) & _MASK
        return self.x >> 17

    def random(self, *args):
        """``math.random([m [, n]])``."""
        r = (self.next() % _LRAND48_MAX) / _LRAND48_MAX
        if not args:
            return r
        if len(args) == 1:
            u = _checkint(args[0], 1)
            if not 1 <= u:
                raise argerror(1, "random", "interval is empty")
            return math.floor(r * u) + 1
        if len(args) == 2:
            low = _checkint(args[0], 1)
            up = _checkint(args[1], 2)
            if not low <= up:
                raise argerror(2, "random", "interval is empty")
            return math.floor(r * (up - low + 1)) + low
        raise LuaRaise(b"wrong number of arguments")

    def randomseed(self, *args):
        self.seed(_checkint(arg(args, 0), 1, "randomseed"))


def _checkint(v: object, n: int, fname: str = "random") -> int:
    """luaL_checkint: a C int (the long truncated to 32 bits)."""
    i = to_integer(check_number(v, n, fname))
    return (i + 2**31) % 2**32 - 2**31


RAND = Rand48()         # one generator for the whole process, as Valkey has one per server
