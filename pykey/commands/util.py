"""Argument parsing shared by commands, with Valkey's error texts."""
from __future__ import annotations

import math

from .. import errors

_I64_MIN, _I64_MAX = -(2**63), 2**63 - 1


def parse_int(arg: bytes, error: errors.CommandError = errors.NOT_INTEGER) -> int:
    """Valkey's string2ll: a canonical decimal signed 64-bit integer, nothing else."""
    if not arg or len(arg) > 20:
        raise error
    first = arg[0]
    if first == 48:  # '0'
        if len(arg) == 1:
            return 0
        raise error
    if first == 45:  # '-'
        if len(arg) == 1 or arg[1] == 48 or not arg[1:].isdigit():
            raise error
    elif not arg.isdigit():
        raise error
    if not arg.isascii():
        raise error
    v = int(arg)
    if v < _I64_MIN or v > _I64_MAX:
        raise error
    return v


def parse_float(arg: bytes, error: errors.CommandError = errors.NOT_FLOAT) -> float:
    """Valkey's string2d / strtod: no spaces around, NaN refused."""
    if not arg or arg[:1].isspace() or arg[-1:].isspace():
        raise error
    try:
        v = float(arg)
    except ValueError:
        raise error from None
    if math.isnan(v):
        raise error
    return v
