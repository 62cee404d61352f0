"""Hash commands (Valkey's t_hash.c behaviour), with Valkey 9's per-field expiration.

Field expiration (HEXPIRE HPEXPIRE HEXPIREAT HPEXPIREAT HTTL HPTTL HEXPIRETIME HPEXPIRETIME
HPERSIST HGETEX HSETEX, and HGETDEL of Valkey 9.1) follows the documentation on valkey.io
(commands/hexpire, hexpireat, hpexpire, httl, hpersist, hgetex, hsetex, hgetdel, read
through the project's `search` tool), the command JSON files of Valkey 9 (arity, flags, key
specs) and, for what the pages leave open (per-field codes, error texts, argument checks,
notifications, propagation), the documented behaviour of Valkey 9's t_hash.c:

- per-field codes: -2 no such field/key, 0 NX/XX/GT/LT not met, 1 set, 2 deleted because
  the time is already past; HPERSIST: -1 field without TTL; HTTL & co.: -1, -2 or the time.
- a field with a TTL turns a listpack hash into a hashtable (OBJECT ENCODING "hashtable").
- expired fields vanish on access (the hash commands purge due fields before reading) and
  in a cron pass (``active_expire_fields``); each purge emits ``hexpired``, propagates
  ``HDEL key field...``, and deletes the key (event ``del``) when the last field goes.
- HEXPIRE & co. propagate as HPEXPIREAT with the absolute time (HDEL when already past);
  HGETEX as HPEXPIREAT / HPERSIST / HDEL; HSETEX with PXAT; HINCRBY(FLOAT) on a hash with
  volatile fields as HSET or HSETEX PXAT so a replica keeps the field's TTL.
"""
from __future__ import annotations

import random
import time
from fractions import Fraction
from typing import Any

from .. import errors
from ..datatypes.hashtype import HASHTABLE, HashType
from ..datatypes.members import remove_each
from ..engine.client import Client
from ..engine.registry import command
from ..engine.server import EXPIRE_JOBS
from ..protocol.replies import OK, Raw
from .cmdargs import LONG_MAX, range_long
from .keys import parse_cursor
from .set import SCAN_DOC, scan_options, scan_page
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


# ---------------------------------------------------------------- field expiry
def expire_fields(db: Any, key: bytes, h: HashType, limit: int = 0) -> bool:
    """Delete the due fields of ``h`` (the value of ``key``) with their side effects:
    ``hexpired`` event, ``HDEL`` propagated, the key deleted when emptied. True when the
    key went away."""
    server = db.server
    if not server.expiry_allowed():
        return False
    fields = h.pop_expired(server.now_ms, limit)
    if not fields:
        return False
    server.stat_expired_fields += len(fields)
    db.signal_modified(key)
    server.notify("h", "hexpired", key, db.id)
    if server.propagate_sinks:
        server.propagate(db.id, [b"HDEL", key, *fields], expired=True)
    if not h:
        db.volatile_hashes.pop(key, None)
        db.delete(key)
        server.notify("g", "del", key, db.id)
        return True
    if not h.ttl:
        db.volatile_hashes.pop(key, None)
    return False


def _track(db: Any, key: bytes, h: HashType) -> None:
    """Remember a hash with volatile fields for the active expiry pass."""
    if h.ttl:
        db.volatile_hashes[key] = h
    else:
        db.volatile_hashes.pop(key, None)


_FIELD_BATCH = 1000          # fields one hash may lose in one pass before the next hash's turn


def active_expire_fields(server: Any) -> None:
    """The cron pass over hashes with volatile fields, beside the key expiry cycle; stays
    within a quarter of a cron period, as the key cycle does."""
    hz = max(server.config["hz"], 1)
    budget_ns = 250_000_000 // hz
    start = time.perf_counter_ns()
    now = server.now_ms
    for db in server.dbs:
        tracked = db.volatile_hashes
        if not tracked:
            continue
        for n, (key, h) in enumerate(list(tracked.items())):
            if db.data.get(key) is not h or not h.ttl:
                if tracked.get(key) is h:       # renamed, overwritten or persisted
                    del tracked[key]
                continue
            when = h.next_expiry()
            if when is not None and when <= now:
                expire_fields(db, key, h, _FIELD_BATCH)
            if n & 63 == 63 and time.perf_counter_ns() - start > budget_ns:
                return


EXPIRE_JOBS.append(active_expire_fields)


# ---------------------------------------------------------------- helpers
def _get(c: Client, key: bytes) -> HashType | None:
    """The hash at ``key`` with its due fields already expired (lazy field expiry)."""
    h = c.db.get_typed(key, HashType)
    if h is not None and h.ttl is not None:
        when = h.next_expiry()
        if when is not None and when <= c.server.now_ms and expire_fields(c.db, key, h):
            return None
        _track(c.db, key, h)
    return h


def _get_or_create(c: Client, key: bytes) -> HashType:
    h = _get(c, key)
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
    volatile = h.ttl is not None
    for i in range(0, len(args), 2):
        if not h.set_field(args[i], args[i + 1], config):
            created += 1
    if volatile:
        _track(c.db, key, h)
    c.db.signal_modified(key)
    c.server.notify("h", "hset", key, c.db.id)
    c.server.dirty += len(args) // 2
    return created


# ---------------------------------------------------------------- commands
@command("hset", arity=-4, flags="write denyoom fast", keys=1, key_flags="RW update", group="hash",
         since="2.0.0", history=(("4.0.0", "Accepts multiple `field` and `value` arguments."),),
         summary="Assigns values to one or more hash fields, creating the hash if needed.",
         complexity="O(1) for each field/value pair added, so O(N) to add N field/value pairs when the "
                    "command is called with multiple field/value pairs.",
         args="key:key (data: field value)...")
def hset(c: Client, key: bytes, *args: bytes) -> int:
    return _hset_pairs(c, key, args, "hset")


@command("hmset", arity=-4, flags="write denyoom fast", keys=1, key_flags="RW update", group="hash",
         since="2.0.0", doc_flags="deprecated", deprecated_since="4.0.0",
         replaced_by="`HSET` with multiple field-value pairs",
         summary="Assigns values to several hash fields (older form of HSET).", complexity="O(N) where N is the number of fields being set.",
         args="key:key (data: field value)...")
def hmset(c: Client, key: bytes, *args: bytes):
    _hset_pairs(c, key, args, "hmset")
    return OK


@command("hsetnx", arity=4, flags="write denyoom fast", keys=1, key_flags="RW insert", group="hash",
         since="2.0.0", summary="Assigns a value to a hash field, but only if that field is absent.",
         complexity="O(1)",
         args="key:key field value")
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
    if h.ttl is not None:
        # the field may have expired on the replica's side already: send the effect
        c.propagate_argv = [b"HSET", key, field, value]
    return 1


@command("hget", arity=3, flags="readonly fast", keys=1, key_flags="RO access", group="hash",
         since="2.0.0", summary="Fetches the value stored in one hash field.", complexity="O(1)",
         args="key:key field")
def hget(c: Client, key: bytes, field: bytes) -> bytes | None:
    h = _get(c, key)
    return None if h is None else h.get(field)


@command("hmget", arity=-3, flags="readonly fast", keys=1, key_flags="RO access", group="hash",
         since="2.0.0", summary="Fetches the values stored in several hash fields.",
         complexity="O(N) where N is the number of fields being requested.",
         args="key:key field...")
def hmget(c: Client, key: bytes, *fields: bytes) -> list:
    h = _get(c, key)
    if h is None:
        return [None] * len(fields)
    get = h.get
    return [get(f) for f in fields]


@command("hdel", arity=-3, flags="write fast", keys=1, key_flags="RW delete", group="hash",
         since="2.0.0", history=(("2.4.0", "Accepts multiple `field` arguments."),),
         summary="Removes fields from a hash; an emptied hash is deleted.",
         complexity="O(N) where N is the number of fields to be removed.",
         args="key:key field...")
def hdel(c: Client, key: bytes, *fields: bytes) -> int:
    h = _get(c, key)
    if h is None:
        return 0
    volatile = h.ttl is not None
    deleted = remove_each(h, h.delete_field, fields)
    if deleted:
        db = c.db
        if volatile:
            _track(db, key, h)
        db.signal_modified(key)
        c.server.notify("h", "hdel", key, db.id)
        if not h:
            db.delete(key)
            c.server.notify("g", "del", key, db.id)
        c.server.dirty += deleted
    return deleted


@command("hexists", arity=3, flags="readonly fast", keys=1, key_flags="RO", group="hash", since="2.0.0",
         summary="Tells whether a hash has a given field.", complexity="O(1)",
         args="key:key field")
def hexists(c: Client, key: bytes, field: bytes) -> int:
    h = _get(c, key)
    return 1 if h is not None and field in h else 0


@command("hlen", arity=2, flags="readonly fast", keys=1, key_flags="RO", group="hash", since="2.0.0",
         summary="Counts the fields of a hash.", complexity="O(1)",
         args="key:key")
def hlen(c: Client, key: bytes) -> int:
    h = _get(c, key)
    return 0 if h is None else len(h)


@command("hstrlen", arity=3, flags="readonly fast", keys=1, key_flags="RO", group="hash", since="3.2.0",
         summary="Gives the byte length of the value in a hash field.", complexity="O(1)",
         args="key:key field")
def hstrlen(c: Client, key: bytes, field: bytes) -> int:
    h = _get(c, key)
    if h is None:
        return 0
    v = h.get(field)
    return 0 if v is None else len(v)


@command("hkeys", arity=2, flags="readonly", keys=1, key_flags="RO access", group="hash", since="2.0.0",
         tips="nondeterministic_output_order", summary="Lists the field names of a hash.",
         complexity="O(N) where N is the size of the hash.",
         args="key:key")
def hkeys(c: Client, key: bytes) -> list:
    h = _get(c, key)
    return [] if h is None else list(h)


@command("hvals", arity=2, flags="readonly", keys=1, key_flags="RO access", group="hash", since="2.0.0",
         tips="nondeterministic_output_order", summary="Lists the values stored in a hash.",
         complexity="O(N) where N is the size of the hash.",
         args="key:key")
def hvals(c: Client, key: bytes) -> list:
    h = _get(c, key)
    return [] if h is None else list(h.values())


@command("hgetall", arity=2, flags="readonly", keys=1, key_flags="RO access", group="hash", since="2.0.0",
         tips="nondeterministic_output_order", summary="Lists every field of a hash together with its value.",
         complexity="O(N) where N is the size of the hash.",
         args="key:key")
def hgetall(c: Client, key: bytes) -> Any:
    h = _get(c, key)
    return {} if h is None else Raw(h.encoded_map(c.resp == 3))


@command("hincrby", arity=4, flags="write denyoom fast", keys=1, key_flags="RW access update", group="hash",
         since="2.0.0", summary="Adds an integer to the number in a hash field, treating a missing field as 0.", complexity="O(1)",
         args="key:key field increment:integer")
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
    text = str(value).encode()
    volatile = h.ttl is not None
    expiry = h.get_expiry(field)
    h.set_field(field, text, c.server.config, keep_ttl=True)
    c.db.signal_modified(key)
    c.server.notify("h", "hincrby", key, c.db.id)
    c.server.dirty += 1
    if volatile:
        c.propagate_argv = _set_effect(key, field, text, expiry)
    return value


def _set_effect(key: bytes, field: bytes, value: bytes, expiry: int) -> list[bytes]:
    """How a field write propagates when the hash has volatile fields: HSET, or HSETEX PXAT
    to carry the field's TTL along."""
    if expiry < 0:
        return [b"HSET", key, field, value]
    return [b"HSETEX", key, b"PXAT", b"%d" % expiry, b"FIELDS", b"1", field, value]


def _drop_if_empty(c: Client, key: bytes, h: HashType) -> None:
    """An error after creating the hash must not leave an empty key behind."""
    if not h:
        c.db.data.pop(key, None)


@command("hincrbyfloat", arity=4, flags="write denyoom fast", keys=1, key_flags="RW access update",
         group="hash", since="2.6.0",
         summary="Adds a floating point amount to the number in a hash field, treating a missing field as 0.", complexity="O(1)",
         args="key:key field increment:double")
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
    expiry = h.get_expiry(field)
    h.set_field(field, text, c.server.config, keep_ttl=True)
    c.db.signal_modified(key)
    c.server.notify("h", "hincrbyfloat", key, c.db.id)
    c.server.dirty += 1
    c.propagate_argv = _set_effect(key, field, text, expiry)
    return text


@command("hrandfield", arity=-2, flags="readonly", keys=1, key_flags="RO access", group="hash",
         since="6.2.0", tips="nondeterministic_output", summary="Picks random fields of a hash, optionally with their values.",
         complexity="O(N) where N is the number of fields returned",
         args="key:key [options: count:integer [WITHVALUES]]")
def hrandfield(c: Client, key: bytes, *rest: bytes):
    if not rest:
        h = _get(c, key)
        if h is None or not h:
            return None
        return random.choice(tuple(h))
    n = range_long(rest[0], -LONG_MAX, LONG_MAX)
    withvalues = False
    if len(rest) > 2 or (len(rest) == 2 and rest[1].lower() != b"withvalues"):
        raise errors.SYNTAX
    if len(rest) == 2:
        withvalues = True
        if n < -LONG_MAX // 2 or n > LONG_MAX // 2:
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
         complexity=SCAN_DOC,
         args="key:key cursor:integer [MATCH pattern:pattern] [COUNT count:integer] [NOVALUES]")
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


# ---------------------------------------------------------------- field expiration (Valkey 9)
_NOT_EXIST, _COND_FAILED, _SET, _DELETED = -2, 0, 1, 2
_I64_MAX_DIV_1000 = _I64_MAX // 1000
_HEXPIRE_COMPLEXITY = "O(N) where N is the number of specified fields."


def _find_fields(args: tuple[bytes, ...], start: int) -> int:
    """Index of the FIELDS token in ``args`` from ``start`` (not the last argument), or -1."""
    for i in range(start, len(args) - 1):
        if args[i].lower() == b"fields":
            return i
    return -1


def _expire_time(arg: bytes, basetime: int, seconds: bool, name: str) -> int:
    """convertExpireArgumentToUnixTime: an absolute time in ms, never negative."""
    when = parse_int(arg)
    if when < 0:
        raise errors.invalid_expire(name)
    if seconds:
        if when > _I64_MAX_DIV_1000:
            raise errors.invalid_expire(name)
        when *= 1000
    if when > _I64_MAX - basetime:
        raise errors.invalid_expire(name)
    return when + basetime


def _expire_flags(opts: tuple[bytes, ...]) -> str:
    """NX | XX | GT | LT (parseExtendedExpireArgumentsOrReply), '' when none."""
    seen = set()
    for o in opts:
        low = o.lower()
        if low not in (b"nx", b"xx", b"gt", b"lt"):
            raise errors.unsupported_option(o)
        seen.add(low.decode())
    if "nx" in seen and len(seen) > 1:
        raise errors.EXPIRE_NX_CONFLICT
    if "gt" in seen and "lt" in seen:
        raise errors.EXPIRE_GT_LT_CONFLICT
    return "".join(sorted(seen))


def _set_field_expiry(h: HashType | None, field: bytes, when: int, flags: str, now: int) -> int:
    """hashTypeSetExpire: the per-field code, applying the change."""
    if h is None or field not in h:
        return _NOT_EXIST
    current = h.get_expiry(field)
    if flags:
        if "nx" in flags and current != -1:
            return _COND_FAILED
        if "xx" in flags and current == -1:
            return _COND_FAILED
        if "gt" in flags and (current == -1 or when <= current):
            return _COND_FAILED
        if "lt" in flags and current != -1 and when >= current:
            return _COND_FAILED
    if when <= now:
        h.delete_field(field)
        return _DELETED
    h.set_expiry(field, when)
    return _SET


def _hexpire(c: Client, key: bytes, time_arg: bytes, rest: tuple[bytes, ...], seconds: bool,
             relative: bool, name: str) -> list[int]:
    fi = _find_fields(rest, 0)
    numfields = 0
    if fi >= 0:
        flags = _expire_flags(rest[:fi])
        numfields = parse_int(rest[fi + 1])
        fields = rest[fi + 2:]
    if not numfields or numfields != len(fields):
        raise errors.NUMFIELDS_MISMATCH
    server = c.server
    now = server.now_ms
    when = _expire_time(time_arg, now if relative else 0, seconds, name)
    db = c.db
    h = _get(c, key)
    codes = [_set_field_expiry(h, f, when, flags, now) for f in fields]
    expired = [f for f, code in zip(fields, codes, strict=True) if code == _DELETED]
    updated = codes.count(_SET)
    if h is not None and (expired or updated):
        _track(db, key, h)
        if expired:
            server.stat_expired_fields += len(expired)
            c.propagate_argv = [b"HDEL", key, *expired]
            server.notify("h", "hexpired", key, db.id)
        else:
            c.propagate_argv = [b"HPEXPIREAT", key, b"%d" % when, *rest]
            server.notify("h", "hexpire", key, db.id)
        server.dirty += len(expired) + updated
        db.signal_modified(key)
        if not h:
            db.delete(key)
            server.notify("g", "del", key, db.id)
    return codes


def _hexpire_doc(unit: str, at: bool) -> dict:
    what = f"an absolute Unix time in {unit}" if at else f"a time to live in {unit}"
    return dict(arity=-6, flags="write fast", keys=1, key_flags="RW update", group="hash",
                since="9.0.0", complexity=_HEXPIRE_COMPLEXITY,
                summary=f"Sets an expiry on hash fields, given as {what}.")


@command("hexpire", **_hexpire_doc("seconds", False),
         args="key:key seconds:integer [condition: NX | XX | GT | LT] FIELDS (numfields:integer field...)")
def hexpire(c: Client, key: bytes, seconds: bytes, *rest: bytes) -> list[int]:
    return _hexpire(c, key, seconds, rest, True, True, "hexpire")


@command("hpexpire", **_hexpire_doc("milliseconds", False),
         args="key:key milliseconds:integer [condition: NX | XX | GT | LT]@9.0.0 FIELDS "
              "(numfields:integer#0 field...)")
def hpexpire(c: Client, key: bytes, ms: bytes, *rest: bytes) -> list[int]:
    return _hexpire(c, key, ms, rest, False, True, "hpexpire")


@command("hexpireat", **_hexpire_doc("seconds", True),
         args="key:key unix-time-seconds:integer [condition: NX | XX | GT | LT]@9.0.0 FIELDS "
              "(numfields:integer#0 field...)")
def hexpireat(c: Client, key: bytes, when: bytes, *rest: bytes) -> list[int]:
    return _hexpire(c, key, when, rest, True, False, "hexpireat")


@command("hpexpireat", **_hexpire_doc("milliseconds", True),
         args="key:key unix-time-milliseconds:integer [condition: NX | XX | GT | LT]@9.0.0 FIELDS "
              "(numfields:integer#0 field...)")
def hpexpireat(c: Client, key: bytes, when: bytes, *rest: bytes) -> list[int]:
    return _hexpire(c, key, when, rest, False, False, "hpexpireat")


def _fields_after_numfields(numfields_arg: bytes, fields: tuple[bytes, ...],
                            mismatch: errors.CommandError) -> None:
    """HTTL/HPERSIST/HGETDEL: ``key FIELDS numfields field...`` (the FIELDS word is not
    checked, as in Valkey)."""
    n = parse_int(numfields_arg)
    if not n or n != len(fields):
        raise mismatch


def _httl(c: Client, key: bytes, numfields: bytes, fields: tuple[bytes, ...], ms: bool,
          absolute: bool) -> list[int]:
    _fields_after_numfields(numfields, fields, errors.SYNTAX)
    h = _get(c, key)
    base = 0 if absolute else c.server.now_ms
    out = []
    for f in fields:
        if h is None or f not in h:
            out.append(-2)
            continue
        when = h.get_expiry(f)
        if when == -1:
            out.append(-1)
            continue
        left = max(when - base, 0)
        out.append(left if ms else (left + 500) // 1000)
    return out


def _httl_doc(what: str) -> dict:
    return dict(arity=-5, flags="readonly fast", keys=1, key_flags="RO access", group="hash",
                since="9.0.0", complexity=_HEXPIRE_COMPLEXITY, summary=f"Gives the {what} of hash fields.")


@command("httl", **_httl_doc("remaining time to live in seconds"),
         args="key:key FIELDS (numfields:integer#0 field...)")
def httl(c: Client, key: bytes, _fields: bytes, numfields: bytes, *fields: bytes) -> list[int]:
    return _httl(c, key, numfields, fields, False, False)


@command("hpttl", **_httl_doc("remaining time to live in milliseconds"),
         args="key:key FIELDS (numfields:integer#0 field...)")
def hpttl(c: Client, key: bytes, _fields: bytes, numfields: bytes, *fields: bytes) -> list[int]:
    return _httl(c, key, numfields, fields, True, False)


@command("hexpiretime", **_httl_doc("absolute expiry time (Unix seconds)"),
         args="key:key FIELDS (numfields:integer#0 field...)")
def hexpiretime(c: Client, key: bytes, _fields: bytes, numfields: bytes, *fields: bytes) -> list[int]:
    return _httl(c, key, numfields, fields, False, True)


@command("hpexpiretime", **_httl_doc("absolute expiry time (Unix milliseconds)"),
         args="key:key FIELDS (numfields:integer#0 field...)")
def hpexpiretime(c: Client, key: bytes, _fields: bytes, numfields: bytes, *fields: bytes) -> list[int]:
    return _httl(c, key, numfields, fields, True, True)


@command("hpersist", arity=-5, flags="write fast", keys=1, key_flags="RW update", group="hash",
         since="9.0.0", complexity=_HEXPIRE_COMPLEXITY,
         summary="Removes the expiry of hash fields, making them persistent.",
         args="key:key FIELDS (numfields:integer#0 field...)")
def hpersist(c: Client, key: bytes, _fields: bytes, numfields: bytes, *fields: bytes) -> list[int]:
    _fields_after_numfields(numfields, fields, errors.NUMFIELDS_MISMATCH)
    h = _get(c, key)
    out = []
    for f in fields:
        if h is None or f not in h:
            out.append(-2)
        elif h.persist(f):
            out.append(1)
        else:
            out.append(-1)
    changes = out.count(1)
    if changes and h is not None:
        db = c.db
        _track(db, key, h)
        c.server.dirty += changes
        c.server.notify("h", "hpersist", key, db.id)
        db.signal_modified(key)
    return out


def _parse_ex_options(opts: tuple[bytes, ...], setex: bool) -> tuple[set[str], bytes | None]:
    """parseExtendedCommandArgumentsOrReply for HSETEX (NX XX FNX FXX KEEPTTL EX PX EXAT
    PXAT) and HGETEX (PERSIST EX PX EXAT PXAT): a conflicting or unknown word is a syntax
    error, as for SET and GETEX."""
    flags: set[str] = set()
    expire = None
    times = {"ex", "px", "exat", "pxat"}
    i, n = 0, len(opts)
    while i < n:
        o = opts[i].lower().decode("latin-1")
        has_next = i + 1 < n
        if setex and o == "nx" and "xx" not in flags:
            flags.add(o)
        elif setex and o == "xx" and "nx" not in flags:
            flags.add(o)
        elif setex and o == "fnx" and "fxx" not in flags:
            flags.add(o)
        elif setex and o == "fxx" and "fnx" not in flags:
            flags.add(o)
        elif setex and o == "keepttl" and not flags & times:
            flags.add(o)
        elif not setex and o == "persist" and not flags & times:
            flags.add(o)
        elif (o in times and has_next and "keepttl" not in flags and "persist" not in flags
              and not (flags & times) - {o}):
            flags.add(o)
            expire = opts[i + 1]
            i += 1
        else:
            raise errors.SYNTAX
        i += 1
    return flags, expire


def _ex_when(flags: set[str], expire: bytes, now: int, name: str) -> int:
    absolute = "exat" in flags or "pxat" in flags
    seconds = "ex" in flags or "exat" in flags
    return _expire_time(expire, 0 if absolute else now, seconds, name)


@command("hgetex", arity=-5, flags="write fast", keys=1, key_flags="RW access", group="hash",
         since="9.0.0", complexity=_HEXPIRE_COMPLEXITY,
         summary="Fetches hash fields and optionally sets or removes their expiry.",
         args="key:key "
              "[expiration: EX seconds:integer | PX milliseconds:integer | EXAT unix-time-seconds:unix-time | "
              "PXAT unix-time-milliseconds:unix-time | PERSIST] FIELDS (numfields:integer#0 field...)")
def hgetex(c: Client, key: bytes, *rest: bytes) -> list:
    fi = _find_fields(rest, 0)
    numfields = -1
    fields: tuple[bytes, ...] = ()
    if fi >= 0:
        flags, expire = _parse_ex_options(rest[:fi], False)
        numfields = parse_int(rest[fi + 1])
        fields = rest[fi + 2:]
    if not numfields or numfields != len(fields):
        raise errors.NUMFIELDS_MISMATCH
    db = c.db
    server = c.server
    h = _get(c, key)
    now = server.now_ms
    persist = "persist" in flags
    when = -1
    if expire is not None:
        when = _ex_when(flags, expire, now, "hgetex")
    set_expired = when != -1 and when <= now
    set_expiry = when != -1 and not set_expired
    out: list = []
    changed: list[bytes] = []
    for f in fields:
        out.append(None if h is None else h.get(f))
        if h is None:
            continue
        if set_expired:
            ok = h.delete_field(f)
            if ok:
                server.stat_expired_fields += 1
        elif set_expiry:
            ok = _set_field_expiry(h, f, when, "", now) == _SET
        elif persist:
            ok = f in h and h.persist(f)
        else:
            ok = False
        if ok:
            changed.append(f)
    if changed and h is not None:
        n = b"%d" % len(changed)
        if set_expired:
            c.propagate_argv = [b"HDEL", key, *changed]
            server.notify("h", "hexpired", key, db.id)
        elif persist:
            c.propagate_argv = [b"HPERSIST", key, b"FIELDS", n, *changed]
            server.notify("h", "hpersist", key, db.id)
        else:
            c.propagate_argv = [b"HPEXPIREAT", key, b"%d" % when, b"FIELDS", n, *changed]
            server.notify("h", "hexpire", key, db.id)
        server.dirty += len(changed)
        db.signal_modified(key)
        _track(db, key, h)
        if not h:
            db.delete(key)
            server.notify("g", "del", key, db.id)
    return out


@command("hsetex", arity=-6, flags="write denyoom fast", keys=1, key_flags="RW insert", group="hash",
         since="9.0.0", complexity=_HEXPIRE_COMPLEXITY,
         summary="Assigns hash fields and optionally sets their expiry, all or none of them.",
         args="key:key [fields-condition: FNX | FXX] "
              "[expiration: EX seconds:integer | PX milliseconds:integer | EXAT unix-time-seconds:unix-time | "
              "PXAT unix-time-milliseconds:unix-time | KEEPTTL] FIELDS (numfields:integer#0 (data: field value)...)")
def hsetex(c: Client, key: bytes, *rest: bytes) -> int:
    fi = _find_fields(rest, 0)
    numfields = 0
    if fi >= 0:
        flags, expire = _parse_ex_options(rest[:fi], True)
        numfields = parse_int(rest[fi + 1])
        pairs = rest[fi + 2:]
    if not numfields or numfields > _I64_MAX // 2 or numfields * 2 != len(pairs):
        raise errors.NUMFIELDS_MISMATCH
    db = c.db
    server = c.server
    h = _get(c, key)
    if ("nx" in flags and h is not None) or ("xx" in flags and h is None):
        return 0
    now = server.now_ms
    keepttl = "keepttl" in flags
    when = -1
    if expire is not None and not keepttl:
        when = _ex_when(flags, expire, now, "hsetex")
    set_expired = when != -1 and when <= now
    fields = pairs[0::2]
    if "fnx" in flags and h is not None and any(f in h for f in fields):
        return 0
    if "fxx" in flags and (h is None or not all(f in h for f in fields)):
        return 0
    created = h is None
    if created:
        h = HashType()
    config = server.config
    changes = 0
    if set_expired:
        deleted = [f for f in fields if h.delete_field(f)]
        changes = len(deleted)
        server.stat_expired_fields += len(fields)
        if deleted:
            c.propagate_argv = [b"HDEL", key, *deleted]
    else:
        if when == -1:
            h.try_conversion(pairs, config)
        for i in range(0, len(pairs), 2):
            f, v = pairs[i], pairs[i + 1]
            h.set_field(f, v, config, keep_ttl=keepttl)
            if when != -1:
                h.set_expiry(f, when)
            changes += 1
        if created:
            db.add(key, h)
        if flags & {"nx", "xx", "fnx", "fxx", "ex", "px", "exat"}:
            argv = [b"HSETEX", key]
            if when != -1:
                argv += [b"PXAT", b"%d" % when]
            elif keepttl:
                argv.append(b"KEEPTTL")
            c.propagate_argv = argv + [b"FIELDS", b"%d" % numfields, *pairs]
    if changes:
        server.dirty += changes
        db.signal_modified(key)
        _track(db, key, h)
    server.notify("h", "hset", key, db.id)
    if expire is not None and not keepttl:
        server.notify("h", "hexpire", key, db.id)
    if set_expired:
        server.notify("h", "hexpired", key, db.id)
    if not h:
        if not created:
            db.delete(key)
        server.notify("g", "del", key, db.id)
    return 1


@command("hgetdel", arity=-5, flags="write fast", keys=1, key_flags="RW access delete", group="hash",
         since="9.1.0", complexity="O(N) where N is the number of fields to be retrieved and deleted.",
         summary="Fetches hash fields and deletes them; an emptied hash is deleted.",
         args="key:key FIELDS (numfields:integer#0 field...)")
def hgetdel(c: Client, key: bytes, _fields: bytes, numfields: bytes, *fields: bytes) -> list:
    _fields_after_numfields(numfields, fields, errors.NUMFIELDS_MISMATCH)
    db = c.db
    h = _get(c, key)
    out: list = []
    deleted: list[bytes] = []
    for f in fields:
        v = None if h is None else h.get(f)
        out.append(v)
        if v is not None:
            h.delete_field(f)  # type: ignore[union-attr]
            deleted.append(f)
    if deleted and h is not None:
        server = c.server
        server.dirty += len(deleted)
        c.propagate_argv = [b"HDEL", key, *deleted]
        db.signal_modified(key)
        _track(db, key, h)
        server.notify("h", "hdel", key, db.id)
        if not h:
            db.delete(key)
            server.notify("g", "del", key, db.id)
    return out
