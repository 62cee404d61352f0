"""Hash commands (Valkey's t_hash.c behaviour, without per-field expiration)."""
from __future__ import annotations

import random
from fractions import Fraction

from .. import errors
from ..datatypes.hashtype import HASHTABLE, HashType
from ..engine.client import Client
from ..engine.registry import command
from ..protocol.replies import OK
from .set import _LONG_MAX, _range_long, parse_cursor, scan_options, scan_page
from .util import parse_int

_I64_MIN, _I64_MAX = -(2**63), 2**63 - 1
NOT_INTEGER_HASH = errors.err("hash value is not an integer")
NOT_FLOAT_HASH = errors.err("hash value is not a float")
NAN_OR_INF = errors.err("value is NaN or Infinity")
OUT_OF_RANGE = errors.err("value is out of range")


# ---------------------------------------------------------------- x87 long double emulation
# HINCRBYFLOAT computes in C long double (64-bit significand on x86-64) and prints "%.17Lf";
# exact fractions rounded to 64 bits reproduce Valkey's digits, rounding noise included.
_INF = object()


def _round_ld(x: Fraction) -> Fraction:
    if x == 0:
        return x
    n, d = abs(x.numerator), x.denominator
    k = n.bit_length() - d.bit_length()
    if (n << -k if k < 0 else n) < (d << k if k > 0 else d):
        k -= 1
    e = k - 63                                   # scale so the significand has 64 bits
    scaled = Fraction(n, d) / (Fraction(2) ** e)
    m = round(scaled)                            # round half to even
    out = Fraction(m) * (Fraction(2) ** e)
    return out if x > 0 else -out


def parse_long_double(arg: bytes) -> Fraction | object | None:
    """string2ld: a Fraction, _INF for an infinity, None when not a valid float."""
    if not arg or len(arg) >= 5 * 1024 or arg[:1].isspace() or arg[-1:].isspace() or b"\x00" in arg:
        return None
    try:
        s = arg.decode("ascii")
    except UnicodeDecodeError:
        return None
    low = s.lower().lstrip("+-")
    if low in ("inf", "infinity"):
        return _INF
    if "nan" in low or "_" in s:
        return None
    try:
        if low.startswith("0x"):
            value = Fraction(float.fromhex(s))
        else:
            value = Fraction(s)
    except (ValueError, ZeroDivisionError, OverflowError):
        return None
    if value != 0 and abs(value) >= Fraction(2) ** 16384:
        return None
    return _round_ld(value)


def format_long_double(x: Fraction) -> bytes:
    """'%.17Lf' with trailing zeros (and a bare '.') removed, '-0' shown as '0'."""
    q = round(abs(x) * 10**17)
    sign = "-" if x < 0 else ""
    whole, frac = divmod(q, 10**17)
    text = f"{sign}{whole}.{frac:017d}".rstrip("0").rstrip(".")
    if text == "-0":
        text = "0"
    return text.encode()


# ---------------------------------------------------------------- helpers
def _get(c: Client, key: bytes) -> HashType | None:
    return c.db.get_typed(key, HashType)


def _get_or_create(c: Client, key: bytes) -> HashType:
    h = c.db.get_typed(key, HashType)
    if h is None:
        h = HashType()
        c.db.add(key, h)
    return h


def _hset_pairs(c: Client, key: bytes, args: tuple[bytes, ...], name: str) -> int:
    if len(args) % 2:
        raise errors.wrong_arity(name)
    config = c.server.config
    h = _get_or_create(c, key)
    h.try_conversion(args, config)
    created = 0
    for i in range(0, len(args), 2):
        if not h.set_field(args[i], args[i + 1], config):
            created += 1
    c.db.signal_modified(key)
    c.server.notify("h", "hset", key, c.db.id)
    c.server.dirty += len(args) // 2
    return created


# ---------------------------------------------------------------- commands
@command("hset", arity=-4, flags="write denyoom fast", keys=1, key_flags="RW update", group="hash",
         since="2.0.0", history=(("4.0.0", "Accepts multiple `field` and `value` arguments."),),
         summary="Assigns values to one or more hash fields, creating the hash if needed.",
         complexity="O(1) for each field/value pair added, so O(N) to add N field/value pairs when the "
                    "command is called with multiple field/value pairs.")
def hset(c: Client, key: bytes, *args: bytes) -> int:
    return _hset_pairs(c, key, args, "hset")


@command("hmset", arity=-4, flags="write denyoom fast", keys=1, key_flags="RW update", group="hash",
         since="2.0.0", doc_flags="deprecated", deprecated_since="4.0.0",
         replaced_by="`HSET` with multiple field-value pairs",
         summary="Assigns values to several hash fields (older form of HSET).", complexity="O(N) where N is the number of fields being set.")
def hmset(c: Client, key: bytes, *args: bytes):
    _hset_pairs(c, key, args, "hmset")
    return OK


@command("hsetnx", arity=4, flags="write denyoom fast", keys=1, key_flags="RW insert", group="hash",
         since="2.0.0", summary="Assigns a value to a hash field, but only if that field is absent.",
         complexity="O(1)")
def hsetnx(c: Client, key: bytes, field: bytes, value: bytes) -> int:
    h = _get_or_create(c, key)
    if field in h:
        return 0
    config = c.server.config
    h.try_conversion((field, value), config)
    h.set_field(field, value, config)
    c.db.signal_modified(key)
    c.server.notify("h", "hset", key, c.db.id)
    c.server.dirty += 1
    return 1


@command("hget", arity=3, flags="readonly fast", keys=1, key_flags="RO access", group="hash",
         since="2.0.0", summary="Fetches the value stored in one hash field.", complexity="O(1)")
def hget(c: Client, key: bytes, field: bytes) -> bytes | None:
    h = _get(c, key)
    return None if h is None else h.get(field)


@command("hmget", arity=-3, flags="readonly fast", keys=1, key_flags="RO access", group="hash",
         since="2.0.0", summary="Fetches the values stored in several hash fields.",
         complexity="O(N) where N is the number of fields being requested.")
def hmget(c: Client, key: bytes, *fields: bytes) -> list:
    h = _get(c, key)
    if h is None:
        return [None] * len(fields)
    get = h.get
    return [get(f) for f in fields]


@command("hdel", arity=-3, flags="write fast", keys=1, key_flags="RW delete", group="hash",
         since="2.0.0", history=(("2.4.0", "Accepts multiple `field` arguments."),),
         summary="Removes fields from a hash; an emptied hash is deleted.",
         complexity="O(N) where N is the number of fields to be removed.")
def hdel(c: Client, key: bytes, *fields: bytes) -> int:
    h = _get(c, key)
    if h is None:
        return 0
    deleted = 0
    for f in fields:
        if f in h:
            del h[f]
            deleted += 1
            if not h:
                break
    if deleted:
        db = c.db
        db.signal_modified(key)
        c.server.notify("h", "hdel", key, db.id)
        if not h:
            db.delete(key)
            c.server.notify("g", "del", key, db.id)
        c.server.dirty += deleted
    return deleted


@command("hexists", arity=3, flags="readonly fast", keys=1, key_flags="RO", group="hash", since="2.0.0",
         summary="Tells whether a hash has a given field.", complexity="O(1)")
def hexists(c: Client, key: bytes, field: bytes) -> int:
    h = _get(c, key)
    return 1 if h is not None and field in h else 0


@command("hlen", arity=2, flags="readonly fast", keys=1, key_flags="RO", group="hash", since="2.0.0",
         summary="Counts the fields of a hash.", complexity="O(1)")
def hlen(c: Client, key: bytes) -> int:
    h = _get(c, key)
    return 0 if h is None else len(h)


@command("hstrlen", arity=3, flags="readonly fast", keys=1, key_flags="RO", group="hash", since="3.2.0",
         summary="Gives the byte length of the value in a hash field.", complexity="O(1)")
def hstrlen(c: Client, key: bytes, field: bytes) -> int:
    h = _get(c, key)
    if h is None:
        return 0
    v = h.get(field)
    return 0 if v is None else len(v)


@command("hkeys", arity=2, flags="readonly", keys=1, key_flags="RO access", group="hash", since="2.0.0",
         tips="nondeterministic_output_order", summary="Lists the field names of a hash.",
         complexity="O(N) where N is the size of the hash.")
def hkeys(c: Client, key: bytes) -> list:
    h = _get(c, key)
    return [] if h is None else list(h)


@command("hvals", arity=2, flags="readonly", keys=1, key_flags="RO access", group="hash", since="2.0.0",
         tips="nondeterministic_output_order", summary="Lists the values stored in a hash.",
         complexity="O(N) where N is the size of the hash.")
def hvals(c: Client, key: bytes) -> list:
    h = _get(c, key)
    return [] if h is None else list(h.values())


@command("hgetall", arity=2, flags="readonly", keys=1, key_flags="RO access", group="hash", since="2.0.0",
         tips="nondeterministic_output_order", summary="Lists every field of a hash together with its value.",
         complexity="O(N) where N is the size of the hash.")
def hgetall(c: Client, key: bytes) -> dict:
    h = _get(c, key)
    return {} if h is None else dict(h)


@command("hincrby", arity=4, flags="write denyoom fast", keys=1, key_flags="RW access update", group="hash",
         since="2.0.0", summary="Adds an integer to the number in a hash field, treating a missing field as 0.", complexity="O(1)")
def hincrby(c: Client, key: bytes, field: bytes, incr_arg: bytes) -> int:
    incr = parse_int(incr_arg)
    h = _get_or_create(c, key)
    old = h.get(field)
    if old is None:
        value = 0
    else:
        try:
            value = parse_int(old, NOT_INTEGER_HASH)
        except errors.CommandError:
            _drop_if_empty(c, key, h)
            raise
    if not _I64_MIN <= value + incr <= _I64_MAX:
        _drop_if_empty(c, key, h)
        raise errors.OVERFLOW
    value += incr
    h.set_field(field, str(value).encode(), c.server.config)
    c.db.signal_modified(key)
    c.server.notify("h", "hincrby", key, c.db.id)
    c.server.dirty += 1
    return value


def _drop_if_empty(c: Client, key: bytes, h: HashType) -> None:
    """An error after creating the hash must not leave an empty key behind."""
    if not h:
        c.db.data.pop(key, None)


@command("hincrbyfloat", arity=4, flags="write denyoom fast", keys=1, key_flags="RW access update",
         group="hash", since="2.6.0",
         summary="Adds a floating point amount to the number in a hash field, treating a missing field as 0.", complexity="O(1)")
def hincrbyfloat(c: Client, key: bytes, field: bytes, incr_arg: bytes) -> bytes:
    incr = parse_long_double(incr_arg)
    if incr is None:
        raise errors.NOT_FLOAT
    if incr is _INF:
        raise NAN_OR_INF
    h = _get_or_create(c, key)
    old = h.get(field)
    if old is None:
        value: Fraction = Fraction(0)
    else:
        parsed = parse_long_double(old)
        if parsed is None:
            _drop_if_empty(c, key, h)
            raise NOT_FLOAT_HASH
        if parsed is _INF:
            _drop_if_empty(c, key, h)
            raise errors.NAN_OR_INFINITY
        value = parsed  # type: ignore[assignment]
    result = _round_ld(value + incr)  # type: ignore[operator]
    if abs(result) >= Fraction(2) ** 16384:
        _drop_if_empty(c, key, h)
        raise errors.NAN_OR_INFINITY
    text = format_long_double(result)
    h.set_field(field, text, c.server.config)
    c.db.signal_modified(key)
    c.server.notify("h", "hincrbyfloat", key, c.db.id)
    c.server.dirty += 1
    c.propagate_argv = [b"HSET", key, field, text]
    return text


@command("hrandfield", arity=-2, flags="readonly", keys=1, key_flags="RO access", group="hash",
         since="6.2.0", tips="nondeterministic_output", summary="Picks random fields of a hash, optionally with their values.",
         complexity="O(N) where N is the number of fields returned")
def hrandfield(c: Client, key: bytes, *rest: bytes):
    if not rest:
        h = _get(c, key)
        if h is None or not h:
            return None
        return random.choice(tuple(h))
    n = _range_long(rest[0], -_LONG_MAX, _LONG_MAX)
    withvalues = False
    if len(rest) > 2 or (len(rest) == 2 and rest[1].lower() != b"withvalues"):
        raise errors.SYNTAX
    if len(rest) == 2:
        withvalues = True
        if n < -_LONG_MAX // 2 or n > _LONG_MAX // 2:
            raise OUT_OF_RANGE
    h = _get(c, key)
    if h is None or n == 0:
        return []
    fields = tuple(h)
    if n < 0:
        picked = random.choices(fields, k=-n)
    elif n >= len(fields):
        picked = list(fields)
    else:
        picked = random.sample(fields, n)
    if not withvalues:
        return picked
    if c.resp > 2:
        return [[f, h[f]] for f in picked]
    out: list = []
    for f in picked:
        out.append(f)
        out.append(h[f])
    return out


@command("hscan", arity=-3, flags="readonly", keys=1, key_flags="RO access", group="hash", since="2.8.0",
         tips="nondeterministic_output", summary="Walks through the fields and values of a hash with a cursor.",
         complexity="O(1) for every call. O(N) for a complete iteration, including enough command "
                    "calls for the cursor to return back to 0. N is the number of elements inside the "
                    "collection.")
def hscan(c: Client, key: bytes, cursor_arg: bytes, *opts: bytes) -> list:
    cursor = parse_cursor(cursor_arg)
    h = _get(c, key)
    if h is None:
        return [b"0", []]
    count, match, novalues = scan_options(opts, "hash")
    nxt, fields = scan_page(c, cursor, h, h.enc != HASHTABLE, count)
    out: list = []
    for f in fields:
        v = h.get(f)
        if v is None or (match is not None and match(f) is None):
            continue
        out.append(f)
        if not novalues:
            out.append(v)
    return [str(nxt).encode(), out]
