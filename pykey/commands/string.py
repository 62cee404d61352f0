"""String commands: SET and its variants, GET and its variants, counters, ranges and LCS.

Values are ``bytes`` when set whole and ``bytearray`` once APPEND/SETRANGE grew them in place
(Valkey's ``raw`` encoding). Replies always carry ``bytes``.
"""
from __future__ import annotations

import re
from array import array
from fractions import Fraction

from .. import errors
from ..engine.client import Client
from ..engine.registry import KeySpec, command
from ..protocol.replies import OK
from .util import parse_int

_I64_MIN, _I64_MAX = -(2**63), 2**63 - 1
_EMBSTR_LIMIT = 44


# ---------------------------------------------------------------- helpers

def object_encoding(value: bytes | bytearray) -> str:
    """The encoding Valkey would report for a string (OBJECT ENCODING)."""
    if value.__class__ is bytearray:
        return "raw"
    if len(value) <= 20:
        try:
            parse_int(value)
            return "int"
        except errors.CommandError:
            pass
    return "embstr" if len(value) <= _EMBSTR_LIMIT else "raw"


def _out(value: bytes | bytearray | None) -> bytes | None:
    """Replies carry bytes: a bytearray value is copied out."""
    if value is None or value.__class__ is bytes:
        return value
    return bytes(value)


def _check_length(c: Client, size: int, append: int) -> None:
    """A string may not grow past proto-max-bulk-len (the primary is always obeyed)."""
    if c.kind != "master" and size + append > c.server.config["proto-max-bulk-len"]:
        raise errors.STRING_TOO_LONG


def _already_expired(c: Client, when_ms: int) -> bool:
    """A past expiry deletes at once, except while loading or on a replica."""
    server = c.server
    return when_ms <= server.now_ms and not server.loading and server.expiry_allowed()


def _delete_expired_on_overwrite(c: Client, key: bytes) -> None:
    """The key got an expiry in the past: delete it, propagated as DEL/UNLINK."""
    c.db.delete(key)
    c.server.dirty += 1
    verb = b"UNLINK" if c.server.config["lazyfree-lazy-expire"] else b"DEL"
    c.propagate_argv = [verb, key]
    c.server.notify("g", "del", key, c.db.id)


# option flags shared by SET and GETEX
_NX, _XX, _EX, _PX, _KEEPTTL, _GET, _EXAT, _PXAT, _PERSIST, _IFEQ = (1 << i for i in range(10))
_TIMED = _EX | _PX | _EXAT | _PXAT
_OPT_BITS = {b"NX": _NX, b"XX": _XX, b"GET": _GET, b"KEEPTTL": _KEEPTTL, b"PERSIST": _PERSIST,
             b"EX": _EX, b"PX": _PX, b"EXAT": _EXAT, b"PXAT": _PXAT, b"IFEQ": _IFEQ}
# what each option may not be combined with
_CONFLICTS = {_NX: _XX | _IFEQ, _XX: _NX | _IFEQ, _IFEQ: _NX | _XX | _IFEQ, _GET: 0,
              _KEEPTTL: _PERSIST | _TIMED, _PERSIST: _KEEPTTL | _TIMED,
              _EX: _KEEPTTL | _PERSIST | _EXAT | _PX | _PXAT,
              _PX: _KEEPTTL | _PERSIST | _EX | _EXAT | _PXAT,
              _EXAT: _KEEPTTL | _PERSIST | _EX | _PX | _PXAT,
              _PXAT: _KEEPTTL | _PERSIST | _EX | _EXAT | _PX}
_SET_ONLY = _NX | _XX | _GET | _KEEPTTL | _IFEQ
_TAKES_ARG = _TIMED | _IFEQ


def _parse_options(args: tuple[bytes, ...], for_set: bool) -> tuple[int, bytes | None, bytes | None]:
    """SET/GETEX options, Valkey's rules: returns (flags, expire argument, IFEQ value)."""
    flags = 0
    expire = compare = None
    i, n = 0, len(args)
    while i < n:
        bit = _OPT_BITS.get(args[i].upper(), 0)
        ok = bit and not flags & _CONFLICTS[bit] and (for_set or not bit & _SET_ONLY)
        if bit == _PERSIST and for_set:
            ok = False
        if ok and bit & _TAKES_ARG:
            if i + 1 >= n:
                ok = False
            elif bit == _IFEQ:
                compare = args[i + 1]
                i += 1
            else:
                expire = args[i + 1]
                i += 1
        if not ok:
            raise errors.SYNTAX
        flags |= bit
        i += 1
    return flags, expire, compare


def _expire_ms(c: Client, name: str, arg: bytes, flags: int) -> int:
    """The absolute expiry in ms of an EX/PX/EXAT/PXAT argument, checked as Valkey does."""
    v = parse_int(arg)
    seconds = flags & (_EX | _EXAT)
    if v <= 0 or (seconds and v > _I64_MAX // 1000):
        raise errors.err(errors.INVALID_EXPIRE.format(name))
    if seconds:
        v *= 1000
    if flags & (_EX | _PX):
        v += c.server.now_ms
        if v > _I64_MAX:
            raise errors.err(errors.INVALID_EXPIRE.format(name))
    return v


def _set_generic(c: Client, name: str, flags: int, key: bytes, value: bytes,
                 expire: bytes | None, ok_reply=OK, abort_reply=None, compare: bytes | None = None,
                 opts: tuple[bytes, ...] = ()):
    """SET and its older forms (SETNX, SETEX, PSETEX): Valkey's order of checks and effects."""
    db = c.db
    when = _expire_ms(c, name, expire, flags) if expire is not None else 0
    get = flags & _GET
    old = db.get_string(key) if get else None           # WRONGTYPE before any change
    current = db.lookup(key)
    found = current is not None
    if (flags & _NX and found) or (flags & _XX and not found):
        return _out(old) if get else abort_reply
    if flags & _IFEQ:
        if not found:
            return None if get else abort_reply
        cls = current.__class__
        if cls is not bytes and cls is not bytearray:
            raise errors.WRONGTYPE
        if current != compare:
            return _out(old) if get else abort_reply
    if expire is not None and _already_expired(c, when):
        if found:
            _delete_expired_on_overwrite(c, key)
        return _out(old) if get else ok_reply
    db.set(key, value, keepttl=bool(flags & _KEEPTTL) or expire is not None)
    server = c.server
    server.dirty += 1
    server.notify("$", "set", key, db.id)
    if expire is not None:
        db.set_expire(key, when)
        if not flags & _PXAT:
            c.propagate_argv = [b"SET", key, value, b"PXAT", b"%d" % when]
        server.notify("g", "expire", key, db.id)
    elif get:
        # replicas and the AOF get the SET without its GET
        c.propagate_argv = [b"SET", key, value, *(a for a in opts if a.lower() != b"get")]
    return _out(old) if get else ok_reply


# ---------------------------------------------------------------- SET family

_SET_SPEC = (KeySpec(("RW", "access", "update", "variable_flags"), ("index", 1), ("range", 0, 1, 0),
                     notes="RW and ACCESS due to the optional `GET` argument"),)
_SET_HISTORY = (("2.6.12", "Added the `EX`, `PX`, `NX` and `XX` options."),
                ("6.0.0", "Added the `KEEPTTL` option."),
                ("6.2.0", "Added the `GET`, `EXAT` and `PXAT` option."),
                ("7.0.0", "Allowed the `NX` and `GET` options to be used together."))


def _set_key_flags(argv: list[bytes]) -> list[tuple[int, tuple[str, ...]]]:
    """Valkey's setGetKeys: SET reads the old value only with GET."""
    if any(a.lower() == b"get" for a in argv[3:]):
        return [(1, ("RW", "access", "update"))]
    return [(1, ("OW", "update"))]


@command("set", arity=-3, flags="write denyoom", keys=1, key_specs=_SET_SPEC, key_flags_fn=_set_key_flags,
         group="string",
         since="1.0.0", history=_SET_HISTORY, complexity="O(1)",
         summary="Stores a string at a key, replacing any existing value of any type.",
         args="key:key value [condition: NX@2.6.12 | XX@2.6.12 | IFEQ comparison-value@8.1.0] [GET]@6.2.0 "
              "[expiration: EX seconds:integer@2.6.12 | PX milliseconds:integer@2.6.12 | "
              "EXAT unix-time-seconds:unix-time@6.2.0 | PXAT unix-time-milliseconds:unix-time@6.2.0 | KEEPTTL@6.0.0]")
def set_(c: Client, key: bytes, value: bytes, *opts: bytes):
    if not opts:                                        # the hot path: a plain SET
        db = c.db
        db.set(key, value)
        server = c.server
        server.dirty += 1
        if server.notify_sink is not None:
            server.notify("$", "set", key, db.id)
        return OK
    flags, expire, compare = _parse_options(opts, True)
    return _set_generic(c, "set", flags, key, value, expire, compare=compare, opts=opts)


@command("setnx", arity=3, flags="write denyoom fast", keys=1, key_flags="OW insert", group="string",
         since="1.0.0", doc_flags="deprecated", deprecated_since="2.6.12",
         replaced_by="`SET` with the `NX` argument", complexity="O(1)",
         summary="Stores a string at a key, but only if the key is absent.",
         args="key:key value")
def setnx(c: Client, key: bytes, value: bytes) -> int:
    return _set_generic(c, "setnx", _NX, key, value, None, ok_reply=1, abort_reply=0)


@command("setex", arity=4, flags="write denyoom", keys=1, key_flags="OW update", group="string",
         since="2.0.0", doc_flags="deprecated", deprecated_since="2.6.12",
         replaced_by="`SET` with the `EX` argument", complexity="O(1)",
         summary="Stores a string at a key along with a time-to-live in seconds.",
         args="key:key seconds:integer value")
def setex(c: Client, key: bytes, seconds: bytes, value: bytes):
    return _set_generic(c, "setex", _EX, key, value, seconds)


@command("psetex", arity=4, flags="write denyoom", keys=1, key_flags="OW update", group="string",
         since="2.6.0", doc_flags="deprecated", deprecated_since="2.6.12",
         replaced_by="`SET` with the `PX` argument", complexity="O(1)",
         summary="Stores a string at a key along with a time-to-live in milliseconds.",
         args="key:key milliseconds:integer value")
def psetex(c: Client, key: bytes, milliseconds: bytes, value: bytes):
    return _set_generic(c, "psetex", _PX, key, value, milliseconds)


@command("getset", arity=3, flags="write denyoom fast", keys=1, key_flags="RW access update",
         group="string", since="1.0.0", doc_flags="deprecated", deprecated_since="6.2.0",
         replaced_by="`SET` with the `!GET` argument", complexity="O(1)",
         summary="Stores a new string at a key and replies with the value it replaced.",
         args="key:key value")
def getset(c: Client, key: bytes, value: bytes):
    db = c.db
    old = db.get_string(key)
    db.set(key, value)
    c.server.notify("$", "set", key, db.id)
    c.server.dirty += 1
    c.propagate_argv = [b"SET", key, value]
    return _out(old)


@command("mset", arity=-3, flags="write denyoom", keys=(1, -1, 2), key_flags="OW update",
         group="string", since="1.0.1", tips="request_policy:multi_shard response_policy:all_succeeded",
         complexity="O(N) where N is the number of keys to set.",
         summary="Stores several key-value string pairs in one atomic step.",
         args="(data: key:key value)...")
def mset(c: Client, *args: bytes):
    if len(args) % 2:
        raise errors.wrong_arity("mset")
    _mset(c, args)
    return OK


@command("msetnx", arity=-3, flags="write denyoom", keys=(1, -1, 2), key_flags="OW insert",
         group="string", since="1.0.1", complexity="O(N) where N is the number of keys to set.",
         summary="Stores several key-value string pairs atomically, only if none of the keys exist.",
         args="(data: key:key value)...")
def msetnx(c: Client, *args: bytes) -> int:
    if len(args) % 2:
        raise errors.wrong_arity("msetnx")
    db = c.db
    for i in range(0, len(args), 2):
        if db.lookup(args[i]) is not None:
            return 0
    _mset(c, args)
    return 1


def _mset(c: Client, args: tuple[bytes, ...]) -> None:
    db, server = c.db, c.server
    for i in range(0, len(args), 2):
        key = args[i]
        db.set(key, args[i + 1])
        server.notify("$", "set", key, db.id)
    server.dirty += len(args) // 2


# ---------------------------------------------------------------- GET family

@command("get", arity=2, flags="readonly fast", keys=1, key_flags="RO access", group="string",
         since="1.0.0", summary="Fetches the string stored at a key.", complexity="O(1)",
         args="key:key")
def get(c: Client, key: bytes):
    value = c.db.get_string(key)
    return bytes(value) if value.__class__ is bytearray else value


_GETEX_SPEC = (KeySpec(("RW", "access", "update"), ("index", 1), ("range", 0, 1, 0),
                       notes="RW and UPDATE because it changes the TTL"),)


@command("getex", arity=-2, flags="write fast", keys=1, key_specs=_GETEX_SPEC, group="string",
         since="6.2.0", complexity="O(1)",
         summary="Fetches the string stored at a key and optionally changes its expiry.",
         args="key:key "
              "[expiration: EX seconds:integer | PX milliseconds:integer | EXAT unix-time-seconds:unix-time | "
              "PXAT unix-time-milliseconds:unix-time | PERSIST]")
def getex(c: Client, key: bytes, *opts: bytes):
    flags, expire, _ = _parse_options(opts, False)
    db = c.db
    value = db.get_string(key)
    if value is None:
        return None
    when = _expire_ms(c, "getex", expire, flags) if expire is not None else 0
    reply = _out(value)
    server = c.server
    if flags & (_EXAT | _PXAT) and _already_expired(c, when):
        _delete_expired_on_overwrite(c, key)
    elif expire is not None:
        db.set_expire(key, when)
        c.propagate_argv = [b"PEXPIREAT", key, b"%d" % when]
        db.signal_modified(key)
        server.notify("g", "expire", key, db.id)
        server.dirty += 1
    elif flags & _PERSIST and db.persist(key):
        db.signal_modified(key)
        c.propagate_argv = [b"PERSIST", key]
        server.notify("g", "persist", key, db.id)
        server.dirty += 1
    return reply


@command("getdel", arity=2, flags="write fast", keys=1, key_flags="RW access delete", group="string",
         since="6.2.0", complexity="O(1)",
         summary="Fetches the string stored at a key, then removes the key.",
         args="key:key")
def getdel(c: Client, key: bytes):
    db = c.db
    value = db.get_string(key)
    if value is not None and db.delete(key):
        c.propagate_argv = [b"DEL", key]
        c.server.notify("g", "del", key, db.id)
        c.server.dirty += 1
    return _out(value)


@command("mget", arity=-2, flags="readonly fast", keys=(1, -1, 1), key_flags="RO access",
         group="string", since="1.0.0", tips="request_policy:multi_shard",
         complexity="O(N) where N is the number of keys to retrieve.",
         summary="Fetches the strings stored at several keys in one call.",
         args="key:key...")
def mget(c: Client, *keys: bytes) -> list:
    lookup = c.db.lookup
    out = []
    for key in keys:
        v = lookup(key)
        cls = v.__class__
        out.append(v if cls is bytes else bytes(v) if cls is bytearray else None)
    return out


@command("strlen", arity=2, flags="readonly fast", keys=1, key_flags="RO", group="string",
         since="2.2.0", complexity="O(1)", summary="Gives the byte length of the string stored at a key.",
         args="key:key")
def strlen(c: Client, key: bytes) -> int:
    value = c.db.get_string(key)
    return 0 if value is None else len(value)


_RANGE_COMPLEXITY = ("O(N) where N is the length of the returned string. The complexity is ultimately "
                     "determined by the returned length, but because creating a substring from an existing "
                     "string is very cheap, it can be considered O(1) for small strings.")


@command("getrange", arity=4, flags="readonly", keys=1, key_flags="RO access", group="string",
         since="2.4.0", complexity=_RANGE_COMPLEXITY,
         summary="Fetches the part of a key's string between two offsets.",
         args="key:key start:integer end:integer")
def getrange(c: Client, key: bytes, start: bytes, end: bytes) -> bytes:
    s, e = parse_int(start), parse_int(end)
    value = c.db.get_string(key)
    if value is None:
        return b""
    n = len(value)
    if s < 0 and e < 0 and s > e:
        return b""
    if s < 0:
        s = max(n + s, 0)
    if e < 0:
        e = max(n + e, 0)
    if e >= n:
        e = n - 1
    if s > e or n == 0:
        return b""
    return bytes(value[s:e + 1])


@command("substr", arity=4, flags="readonly", keys=1, key_flags="RO access", group="string",
         since="1.0.0", doc_flags="deprecated", deprecated_since="2.0.0", replaced_by="`GETRANGE`",
         complexity=_RANGE_COMPLEXITY, summary="Fetches the part of a key's string between two offsets (old name of GETRANGE).",
         args="key:key start:integer end:integer")
def substr(c: Client, key: bytes, start: bytes, end: bytes) -> bytes:
    return getrange(c, key, start, end)


# ---------------------------------------------------------------- in-place edits

@command("append", arity=3, flags="write denyoom fast", keys=1, key_flags="RW insert", group="string",
         since="2.0.0",
         complexity="O(1). The amortized time complexity is O(1) assuming the appended value is small "
                    "and the already present value is of any size, since the dynamic string library used "
                    "by the server will double the free space available on every reallocation.",
         summary="Adds bytes to the end of a key's string, starting from empty if the key is absent.",
         args="key:key value")
def append(c: Client, key: bytes, value: bytes) -> int:
    db = c.db
    current = db.get_string(key)
    if current is None:
        db.add(key, value)
        total = len(value)
    else:
        _check_length(c, len(current), len(value))
        if current.__class__ is bytearray:
            current += value
            db.signal_modified(key)
        else:
            current = bytearray(current)
            current += value
            db.set(key, current, keepttl=True)
        total = len(current)
    c.server.notify("$", "append", key, db.id)
    c.server.dirty += 1
    return total


@command("setrange", arity=4, flags="write denyoom", keys=1, key_flags="RW update", group="string",
         since="2.2.0",
         complexity="O(1), not counting the time taken to copy the new string in place. Usually, this "
                    "string is very small so the amortized complexity is O(1). Otherwise, complexity is "
                    "O(M) with M being the length of the value argument.",
         summary="Writes bytes into a key's string at a given offset, padding with zeros as needed.",
         args="key:key offset:integer value")
def setrange(c: Client, key: bytes, offset: bytes, value: bytes) -> int:
    off = parse_int(offset)
    if off < 0:
        raise errors.OFFSET_OUT_OF_RANGE
    db = c.db
    current = db.get_string(key)
    if not value:
        return 0 if current is None else len(current)
    _check_length(c, off, len(value))
    if current is None:
        buf = bytearray(off)
        buf += value
        db.add(key, buf)
    else:
        if current.__class__ is bytearray:
            buf = current
        else:
            buf = bytearray(current)
        if len(buf) < off:
            buf.extend(bytes(off - len(buf)))
        buf[off:off + len(value)] = value
        if buf is current:
            db.signal_modified(key)
        else:
            db.set(key, buf, keepttl=True)
    c.server.notify("$", "setrange", key, db.id)
    c.server.dirty += 1
    return len(buf)


# ---------------------------------------------------------------- counters

_COUNTER_SPEC = dict(keys=1, key_flags="RW access update", group="string", complexity="O(1)")


def _incr(c: Client, key: bytes, by: int) -> int:
    db = c.db
    current = db.get_string(key)
    value = 0 if current is None else parse_int(bytes(current) if current.__class__ is bytearray else current)
    if (by < 0 and value < 0 and by < _I64_MIN - value) or (by > 0 and value > 0 and by > _I64_MAX - value):
        raise errors.OVERFLOW
    value += by
    new = b"%d" % value
    if current is None:
        db.add(key, new)
    else:
        db.set(key, new, keepttl=True)
    server = c.server
    if server.notify_sink is not None:
        server.notify("$", "incrby", key, db.id)
    server.dirty += 1
    return value


@command("incr", arity=2, flags="write denyoom fast", since="1.0.0", **_COUNTER_SPEC,
         summary="Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.",
         args="key:key")
def incr(c: Client, key: bytes) -> int:
    return _incr(c, key, 1)


@command("decr", arity=2, flags="write denyoom fast", since="1.0.0", **_COUNTER_SPEC,
         summary="Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.",
         args="key:key")
def decr(c: Client, key: bytes) -> int:
    return _incr(c, key, -1)


@command("incrby", arity=3, flags="write denyoom fast", since="1.0.0", **_COUNTER_SPEC,
         summary="Increments the integer value of a key by a number. "
                 "Uses 0 as initial value if the key doesn't exist.",
         args="key:key increment:integer")
def incrby(c: Client, key: bytes, increment: bytes) -> int:
    return _incr(c, key, parse_int(increment))


@command("decrby", arity=3, flags="write denyoom fast", since="1.0.0", **_COUNTER_SPEC,
         summary="Decrements a number from the integer value of a key. "
                 "Uses 0 as initial value if the key doesn't exist.",
         args="key:key decrement:integer")
def decrby(c: Client, key: bytes, decrement: bytes) -> int:
    by = parse_int(decrement)
    if by == _I64_MIN:
        raise errors.DECR_OVERFLOW
    return _incr(c, key, -by)


# INCRBYFLOAT works in x87 80-bit long double, as Valkey does on x86-64: values are exact
# rationals rounded to a 64-bit significand after parsing and after the addition, and printed
# with "%.17Lf" (exact decimal expansion, rounded) with trailing zeroes removed.
_LD_MANT = 64
_LD_MIN_EXP = -16445                       # the smallest subnormal is 2**-16445
_LD_MAX = ((1 << 64) - 1) << (16383 - 63)  # the largest finite value
_MAX_LD_CHARS = 5 * 1024
_DEC_RE = re.compile(rb"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_HEX_RE = re.compile(rb"([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?\d+))?")
_INF_RE = re.compile(rb"([+-]?)(?:inf|infinity)", re.IGNORECASE)
_INF = object()


def _digits_to_int(digits: bytes) -> int:
    """int() of a long decimal string (Python refuses more than 4300 digits at once)."""
    n = 0
    for i in range(0, len(digits), 4000):
        chunk = digits[i:i + 4000]
        n = n * 10 ** len(chunk) + int(chunk)
    return n


def _int_to_digits(n: int) -> bytes:
    """b"%d" of a non-negative int of any size (long doubles reach 4933 digits)."""
    if n < 10**4000:
        return b"%d" % n
    high, low = divmod(n, 10**4000)
    return _int_to_digits(high) + b"%04000d" % low


def _round_ld(q: Fraction):
    """Round an exact value to the nearest long double (ties to even); _INF on overflow."""
    if q == 0:
        return Fraction(0)
    neg = q < 0
    a = -q if neg else q
    n, d = a.numerator, a.denominator
    e = n.bit_length() - d.bit_length()        # 2**e <= a < 2**(e+2) roughly; fix below
    if (n << max(-e, 0)) < (d << max(e, 0)):
        e -= 1                                  # now 2**e <= a < 2**(e+1)
    shift = max(e - (_LD_MANT - 1), _LD_MIN_EXP)
    # m = round(a / 2**shift), half to even
    num, den = (n, d << shift) if shift >= 0 else (n << -shift, d)
    m, r = divmod(num, den)
    if 2 * r > den or (2 * r == den and m & 1):
        m += 1
    result = Fraction(m << shift) if shift >= 0 else Fraction(m, 1 << -shift)
    if result > _LD_MAX:
        return _INF
    return -result if neg else result


def _parse_ld(raw: bytes | bytearray):
    """Valkey's string2ld (strtold): the long double, _INF for infinities, None if invalid."""
    if not raw or len(raw) >= _MAX_LD_CHARS or raw[:1].isspace():
        return None
    s = bytes(raw)
    if _INF_RE.fullmatch(s):
        return _INF
    m = _HEX_RE.fullmatch(s)
    if m is not None:
        sign, whole, frac, exp = m.groups()
        frac = frac or b""
        if not whole and not frac:
            return None
        mant = int((whole + frac) or b"0", 16)
        e2 = int(exp or 0) - 4 * len(frac)
        if not mant:
            return Fraction(0)
        if abs(e2) > 20000:
            return None                          # overflow or underflow to zero
        q = Fraction(mant << e2) if e2 >= 0 else Fraction(mant, 1 << -e2)
        q = -q if sign == b"-" else q
    elif _DEC_RE.fullmatch(s):
        mant, _, exp = s.lower().partition(b"e")
        whole, _, frac = mant.lstrip(b"+-").partition(b".")
        digits = _digits_to_int((whole + frac) or b"0")
        if not digits:
            return Fraction(0)
        e10 = int(exp or 0) - len(frac)
        if e10 > 5000 and digits:
            return None                          # overflows any long double
        if e10 < -5000 - len(whole + frac) and digits:
            return None                          # underflows to zero
        q = Fraction(digits * 10 ** e10) if e10 >= 0 else Fraction(digits, 10 ** -e10)
        q = -q if mant[:1] == b"-" else q
    else:
        return None
    v = _round_ld(q)
    if v is _INF or (v == 0 and q != 0):
        return None                              # ERANGE: overflow or underflow to zero
    return v


def _format_ld(v: Fraction) -> bytes:
    """printf("%.17Lf") of an exact long double, trailing zeroes (and the point) removed."""
    neg = v < 0
    a = -v if neg else v
    num, den = a.numerator * 10**17, a.denominator
    n, r = divmod(num, den)
    if 2 * r > den or (2 * r == den and n & 1):
        n += 1
    whole, frac = divmod(n, 10**17)
    text = _int_to_digits(whole)
    frac_text = (b"%017d" % frac).rstrip(b"0")
    if frac_text:
        text += b"." + frac_text
    if neg and text != b"0":
        text = b"-" + text
    return text


@command("incrbyfloat", arity=3, flags="write denyoom fast", since="2.6.0", **_COUNTER_SPEC,
         summary="Increment the floating point value of a key by a number. "
                 "Uses 0 as initial value if the key doesn't exist.",
         args="key:key increment:double")
def incrbyfloat(c: Client, key: bytes, increment: bytes) -> bytes:
    db = c.db
    current = db.get_string(key)
    value = Fraction(0) if current is None else _parse_ld(current)
    if value is None:
        raise errors.NOT_FLOAT
    by = _parse_ld(increment)
    if by is None:
        raise errors.NOT_FLOAT
    if value is _INF or by is _INF:
        raise errors.NAN_OR_INFINITY
    total = _round_ld(value + by)
    if total is _INF:
        raise errors.NAN_OR_INFINITY
    new = _format_ld(total)
    if current is None:
        db.add(key, new)
    else:
        db.set(key, new, keepttl=True)
    c.server.notify("$", "incrbyfloat", key, db.id)
    c.server.dirty += 1
    c.propagate_argv = [b"SET", key, new, b"KEEPTTL"]
    return new


# ---------------------------------------------------------------- LCS

@command("lcs", arity=-3, flags="readonly", keys=(1, 2, 1), key_flags="RO access", group="string",
         since="7.0.0", complexity="O(N*M) where N and M are the lengths of s1 and s2, respectively",
         summary="Finds the longest common substring.",
         args="key1:key key2:key#0 [LEN] [IDX] [MINMATCHLEN min-match-len:integer] [WITHMATCHLEN]")
def lcs(c: Client, key1: bytes, key2: bytes, *opts: bytes):
    db = c.db
    a, b = db.lookup(key1), db.lookup(key2)
    for v in (a, b):
        if v is not None and v.__class__ is not bytes and v.__class__ is not bytearray:
            raise errors.LCS_NOT_STRINGS
    a = bytes(a) if a is not None else b""
    b = bytes(b) if b is not None else b""
    getlen = getidx = withmatchlen = False
    minmatchlen = 0
    i, n = 0, len(opts)
    while i < n:
        opt = opts[i].lower()
        if opt == b"idx":
            getidx = True
        elif opt == b"len":
            getlen = True
        elif opt == b"withmatchlen":
            withmatchlen = True
        elif opt == b"minmatchlen" and i + 1 < n:
            minmatchlen = max(parse_int(opts[i + 1]), 0)
            i += 1
        else:
            raise errors.SYNTAX
        i += 1
    if getlen and getidx:
        raise errors.LCS_LEN_AND_IDX
    if len(a) >= 2**32 - 2 or len(b) >= 2**32 - 2:
        raise errors.LCS_TOO_LONG
    alen, blen = len(a), len(b)
    if (alen + 1) * (blen + 1) * 4 > c.server.config["proto-max-bulk-len"]:
        raise errors.LCS_TOO_MUCH_MEMORY
    table = _lcs_table(a, b)
    total = table[alen][blen]
    if getlen:
        return total
    # Walk back from the end, as Valkey does, collecting the string and the matching ranges.
    result = bytearray(total)
    idx = total
    matches: list = []
    astart = alen
    aend = bstart = bend = 0
    i, j = alen, blen
    while i > 0 and j > 0:
        emit = False
        if a[i - 1] == b[j - 1]:
            result[idx - 1] = a[i - 1]
            if astart == alen:
                astart = aend = i - 1
                bstart = bend = j - 1
            elif astart == i and bstart == j:
                astart -= 1
                bstart -= 1
            else:
                emit = True
            if astart == 0 or bstart == 0:
                emit = True
            idx -= 1
            i -= 1
            j -= 1
        else:
            if table[i - 1][j] > table[i][j - 1]:
                i -= 1
            else:
                j -= 1
            if astart != alen:
                emit = True
        if emit:
            match_len = aend - astart + 1
            if getidx and (minmatchlen == 0 or match_len >= minmatchlen):
                entry = [[astart, aend], [bstart, bend]]
                if withmatchlen:
                    entry.append(match_len)
                matches.append(entry)
            astart = alen
    if getidx:
        return {b"matches": matches, b"len": total}
    return bytes(result)


def _lcs_table(a: bytes, b: bytes) -> list[array]:
    """LCS[i][j]: the LCS length of a[:i] and b[:j] (rows of 32-bit unsigned ints)."""
    blen = len(b)
    prev = array("I", bytes(4 * (blen + 1)))
    rows = [prev]
    positions: dict[int, list[int]] = {}
    for j, ch in enumerate(b, 1):
        positions.setdefault(ch, []).append(j)
    for ch in a:
        row = array("I", prev)   # start from the row above: max(up, left) fixed below
        match = positions.get(ch, ())
        for j in match:
            row[j] = prev[j - 1] + 1
        left = 0
        for j in range(1, blen + 1):
            v = row[j]
            if v < left:
                row[j] = left
            else:
                left = v
        rows.append(row)
        prev = row
    return rows
