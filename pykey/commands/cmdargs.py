"""Argument parsing several command groups share (lists, sets, sorted sets): Valkey's
getRangeLongFromObjectOrReply and the ``numkeys key... <where> [COUNT n]`` tail of
LMPOP/ZMPOP and their blocking forms, millisecond timeouts. A helper module (it declares no command) like util.py:
the package imports it with the command modules, harmlessly."""
from __future__ import annotations

from .. import errors
from .util import parse_int

LONG_MAX = 2**63 - 1


def range_long(arg: bytes, lo: int, hi: int, error: errors.CommandError | None = None) -> int:
    """getRangeLongFromObjectOrReply: ``error`` (when given) also reports a non-integer;
    else Valkey's 'must between lo and hi'."""
    v = parse_int(arg, error or errors.NOT_INTEGER)
    if v < lo or v > hi:
        raise error or errors.long_out_of_range(lo, hi)
    return v


def parse_timeout_ms(arg: bytes, now_ms: int) -> int:
    """getTimeoutFromObjectOrReply in milliseconds (WAIT, WAITAOF, CLIENT PAUSE, XREAD
    BLOCK): a non-negative integer whose deadline still fits a long long."""
    ms = parse_int(arg, errors.TIMEOUT_NOT_INTEGER)
    if ms < 0:
        raise errors.TIMEOUT_NEGATIVE
    if ms > LONG_MAX - now_ms:
        raise errors.TIMEOUT_OUT_OF_RANGE
    return ms


def parse_mpop(numkeys_arg: bytes, rest: tuple[bytes, ...], first: bytes,
               second: bytes) -> tuple[tuple[bytes, ...], bool, int]:
    """LMPOP/ZMPOP arguments from numkeys on (BLMPOP/BZMPOP's after the timeout):
    ``numkeys key... first|second [COUNT n]`` -> (keys, True if ``second`` was given, count);
    ``first``/``second`` are the lower-case words (b"left"/b"right", b"min"/b"max")."""
    numkeys = range_long(numkeys_arg, 1, LONG_MAX, errors.NUMKEYS_NOT_POSITIVE)
    if numkeys >= len(rest):
        raise errors.SYNTAX
    keys = rest[:numkeys]
    where = rest[numkeys].lower()
    if where == first:
        chosen = False
    elif where == second:
        chosen = True
    else:
        raise errors.SYNTAX
    count = -1
    i = numkeys + 1
    while i < len(rest):
        if count == -1 and rest[i].lower() == b"count" and i + 1 < len(rest):
            count = range_long(rest[i + 1], 1, LONG_MAX, errors.COUNT_NOT_POSITIVE)
            i += 2
        else:
            raise errors.SYNTAX
    return keys, chosen, 1 if count == -1 else count

