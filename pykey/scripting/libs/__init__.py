"""The libraries Valkey links into its Lua: cjson, cmsgpack, bit, struct, and its math.random.

lupa's Lua 5.1 ships none of the four extra libraries, so they are written here in Python,
following the behaviour of the C versions Valkey bundles (lua_cjson 2.1, lua-cmsgpack 0.4,
LuaBitOp 1.0.2, lua-struct 0.2): the same results, limits and error messages, because
scripts written for Valkey (and Valkey's own test suite) rely on them. Each function is
exposed to Lua as a C function (``python.as_function``), so Lua sees it as Valkey does.

A function raises :class:`LuaRaise` for a Lua error; the sandbox turns it into the string
(with the caller's ``source:line:`` prefix, as ``luaL_error`` writes it) or table Lua would
have received.
"""
from __future__ import annotations


class LuaRaise(Exception):
    """A Lua error raised from Python: a message string (``table=False``, positioned like
    ``luaL_error``) or an error table ``{err=message}`` (``table=True``)."""

    __slots__ = ("message", "table", "ignore_stats", "where")

    def __init__(self, message: bytes, table: bool = False, ignore_stats: bool = False,
                 where: bool = True) -> None:
        super().__init__(message)
        self.message = message
        self.table = table
        self.ignore_stats = ignore_stats
        self.where = where


NONE = object()     # an argument that was not passed at all (Lua's "no value")


def arg(args: tuple, i: int) -> object:
    """Argument ``i`` (0-based) or NONE when the call had fewer."""
    return args[i] if i < len(args) else NONE


def argerror(n: int, fname: str, extra: str) -> LuaRaise:
    """``luaL_argerror``: ``bad argument #n to 'fname' (extra)``."""
    return LuaRaise(f"bad argument #{n} to '{fname}' ({extra})".encode())


def typename(v: object) -> str:
    """The Lua type name of a value as lupa hands it to Python (``no value`` when absent)."""
    if v is NONE:
        return "no value"
    if v is None:
        return "nil"
    if v is True or v is False:
        return "boolean"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, bytes):
        return "string"
    from lupa import lua51
    t = lua51.lua_type(v)
    return t if t else "userdata"


def check_number(v: object, n: int, fname: str) -> float | int:
    """``luaL_checknumber``: numbers, and strings that convert to numbers."""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return v
    if isinstance(v, bytes):
        num = str_to_number(v)
        if num is not None:
            return num
    raise argerror(n, fname, f"number expected, got {typename(v)}")


def to_integer(num: float | int) -> int:
    """C's ``(long)d`` on x86-64: truncation; NaN and out-of-range give LONG_MIN."""
    if isinstance(num, int):
        return num if -2**63 <= num < 2**63 else -2**63
    if num != num or num >= 9.2233720368547758e18 or num < -9.2233720368547758e18:
        return -2**63
    return int(num)


def check_string(v: object, n: int, fname: str) -> bytes:
    """``luaL_checklstring``: strings, and numbers formatted as Lua does (``%.14g``)."""
    if isinstance(v, bytes):
        return v
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return number_to_str(v)
    raise argerror(n, fname, f"string expected, got {typename(v)}")


def number_to_str(v: float | int) -> bytes:
    """Lua 5.1's ``tostring`` of a number: ``LUA_NUMBER_FMT``, which is ``%.14g``."""
    return b"%.14g" % float(v)


def str_to_number(s: bytes) -> float | int | None:
    """``lua_str2number`` (Lua 5.1's luaO_str2d): C's strtod, which also reads hexadecimal,
    ``inf`` and ``nan``; surrounding white space allowed, nothing else."""
    t = s.strip(b" \t\n\r\f\v")
    if not t or b"_" in t or b"\0" in t:
        return None
    try:
        f = float(t)
    except ValueError:
        try:
            f = float.fromhex(t.decode("ascii"))
        except (ValueError, UnicodeDecodeError):
            return None
    return normalize(f)


def normalize(f: float) -> float | int:
    """A double as lupa hands it to Python: an int when it is integral and fits a C long."""
    if f == f and -9.2233720368547758e18 <= f < 9.2233720368547758e18 and f == int(f):
        return int(f)
    return f
