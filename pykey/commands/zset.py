"""Sorted set commands (Valkey's t_zset.c behaviour): replies, errors, encodings, keyspace
events and propagation as Valkey 8.0 has them.

Scores go out as doubles: bulk strings in RESP2, ``,`` doubles in RESP3, formatted by the
encoder as Valkey's d2string does. Score arguments are read as C's ``strtod`` reads them
(hexadecimal floats, ``inf``, overflow rules), see :func:`parse_score` and :func:`_score_bound`.
"""
from __future__ import annotations

import math
import random
import re
from collections.abc import Iterable

from .. import errors
from ..datatypes.members import index_span, remove_each
from ..datatypes.settype import SetType
from ..datatypes.zset import LISTPACK, LexBound, ZSet, limits_of
from ..engine.blocking import MISS, parse_pop_timeout, pop_or_block
from ..engine.client import Client
from ..engine.registry import KeySpec, command
from ..protocol.dtoa import d2string
from ..protocol.replies import NULL_ARRAY
from .cmdargs import LONG_MAX, parse_mpop, range_long
from .keys import parse_cursor
from .set import SCAN_DOC, scan_options
from .util import parse_int

_GROUP = "sorted_set"


# ====================================================================== argument parsing
_WS = b" \t\n\v\f\r"
_HEX = re.compile(rb"([+-]?)0[xX]([0-9a-fA-F]+(?:\.[0-9a-fA-F]*)?|\.[0-9a-fA-F]+)(?:[pP]([+-]?[0-9]+))?")
_DEC = re.compile(rb"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_SPECIAL = re.compile(rb"([+-]?)(?:(inf(?:inity)?)|nan(?:\([0-9A-Za-z_]*\))?)", re.IGNORECASE)
_DBL_MIN = 2.2250738585072014e-308


def strtod(s: bytes) -> tuple[float, int, bool]:
    """C's strtod on ``s`` up to its first NUL: (value, bytes consumed, ERANGE set).

    Consumed is 0 when no number was found (leading whitespace is not counted then)."""
    nul = s.find(b"\0")
    if nul >= 0:
        s = s[:nul]
    i = 0
    n = len(s)
    while i < n and s[i] in _WS:
        i += 1
    m = _HEX.match(s, i)
    if m is not None:
        sign, mant, exp = m.group(1), m.group(2), m.group(3)
        try:
            v = float.fromhex((sign + b"0x" + mant + b"p" + (exp or b"0")).decode())
        except OverflowError:
            return (-math.inf if sign == b"-" else math.inf), m.end(), True
        return v, m.end(), (v == 0 and mant.strip(b"0.") != b"") or 0 < abs(v) < _DBL_MIN
    m = _SPECIAL.match(s, i)
    if m is not None:
        if m.group(2) is not None:
            return (-math.inf if m.group(1) == b"-" else math.inf), m.end(), False
        return math.nan, m.end(), False
    m = _DEC.match(s, i)
    if m is None:
        return 0.0, 0, False
    text = m.group(0)
    v = float(text)
    if math.isinf(v):
        return v, m.end(), True
    if v == 0:
        mant = text.split(b"e")[0].split(b"E")[0]
        return v, m.end(), mant.strip(b"+-0.") != b""
    return v, m.end(), abs(v) < _DBL_MIN


def parse_score(arg: bytes, error: errors.CommandError = errors.NOT_FLOAT) -> float:
    """Valkey's string2d: the whole argument is one strtod number, no leading space, no NaN,
    no overflow to infinity or underflow to zero."""
    try:
        v = float(arg)
    except ValueError:
        v = math.nan
    else:
        # plain decimal text: Python and strtod agree, skip the full emulation
        if v - v == 0 and v != 0 and abs(v) >= _DBL_MIN and b"_" not in arg \
                and arg[:1] not in _WS and arg[-1:] not in _WS:
            return v
    if not arg or arg[0] in _WS:
        raise error
    v, used, erange = strtod(arg)
    if used != len(arg) or v != v or (erange and (math.isinf(v) or v == 0)):
        raise error
    return v


def _score_bound(arg: bytes) -> tuple[float, bool]:
    """One end of a score range (zslParseRange): ``(`` makes it exclusive; strtod must reach
    the end of the text (a C string: a NUL ends it); NaN is refused, overflow is not."""
    exclusive = arg[:1] == b"("
    s = arg[1:] if exclusive else arg
    nul = s.find(b"\0")
    if nul >= 0:
        s = s[:nul]
    v, used, _ = strtod(s)
    if used != len(s) or v != v:
        raise errors.MINMAX_NOT_FLOAT
    return v, exclusive


def _score_range(lo: bytes, hi: bytes) -> tuple[float, float, bool, bool]:
    a, a_ex = _score_bound(lo)
    b, b_ex = _score_bound(hi)
    return a, b, a_ex, b_ex


def _lex_bound(arg: bytes) -> LexBound:
    """zslParseLexRangeItem: ``-``, ``+``, ``[value`` or ``(value``."""
    first = arg[:1]
    if first == b"+" or first == b"-":
        if arg[1:2] not in (b"", b"\0"):
            raise errors.MINMAX_NOT_LEX
        return LexBound(LexBound.MAX if first == b"+" else LexBound.MIN)
    if first == b"(":
        return LexBound(LexBound.VALUE, arg[1:], True)
    if first == b"[":
        return LexBound(LexBound.VALUE, arg[1:], False)
    raise errors.MINMAX_NOT_LEX


def _lex_range(lo: bytes, hi: bytes) -> tuple[LexBound, LexBound]:
    return _lex_bound(lo), _lex_bound(hi)


def _atoi(arg: bytes) -> int:
    """C's atoi, as Valkey's key extraction reads a numkeys argument."""
    m = re.match(rb"[ \t\n\v\f\r]*([+-]?[0-9]+)", arg)
    if m is None:
        return 0
    v = int(m.group(1))
    return v if -(2**31) <= v < 2**31 else -1


def _numkeys_getkeys(count_at: int, first_at: int, store_at: int = 0):
    """Valkey's genericGetKeys for a numkeys-prefixed key list (and a destination key, listed
    first as the key specs list it)."""
    def getkeys(argv: list[bytes]) -> list[int]:
        if len(argv) <= count_at:
            return []
        n = _atoi(argv[count_at])
        if n < 1 or n > len(argv) - first_at:
            return []
        out = list(range(first_at, first_at + n))
        return [store_at] + out if store_at else out      # key-spec order, as COMMAND GETKEYS
    return getkeys


def _spec(flags: str, pos: int, last: int = 0) -> KeySpec:
    return KeySpec(tuple(flags.split()), ("index", pos), ("range", last, 1, 0))


def _keynum_spec(flags: str, pos: int) -> KeySpec:
    return KeySpec(tuple(flags.split()), ("index", pos), ("keynum", 0, 1, 1))


# ====================================================================== helpers
def _get(c: Client, key: bytes) -> ZSet | None:
    return c.db.get_typed(key, ZSet)


def _limits(c: Client) -> tuple[int, int]:
    return limits_of(c.server.config)


def _reply_pairs(c: Client, pairs: list[tuple[bytes, float]], withscores: bool) -> list:
    """Members, or members with scores: flat in RESP2, [member, score] pairs in RESP3."""
    if not withscores:
        return [m for m, _ in pairs]
    if c.resp == 2:     # bulk strings: format here, the encoder's bytes path is the fast one
        return [x for m, s in pairs for x in (m, d2string(s))]
    return [[m, s] for m, s in pairs]


def _removed(c: Client, key: bytes, z: ZSet, event: str, count: int) -> None:
    """After members left ``z``: event, the key deleted when emptied, WATCH signal, dirty."""
    db = c.db
    c.server.notify("z", event, key, db.id)
    if not z:
        db.delete(key)
        c.server.notify("g", "del", key, db.id)
    else:
        db.signal_modified(key)
    c.server.dirty += count


def _store(c: Client, dst: bytes, result: ZSet, event: str) -> int:
    """Write a *STORE result: replace ``dst`` (dropping its TTL), or delete it when empty."""
    db = c.db
    if result:
        db.set(dst, result)
        db.signal_ready(dst)
        c.server.notify("z", event, dst, db.id)
        c.server.dirty += 1
        return len(result)
    if db.delete(dst):
        c.server.notify("g", "del", dst, db.id)
        c.server.dirty += 1
    return 0


# ====================================================================== ZADD / ZINCRBY / ZREM
_ZADD_FLAGS = {b"nx", b"xx", b"ch", b"incr", b"gt", b"lt"}


def _zadd_one(c: Client, key: bytes, score_arg: bytes, member: bytes) -> int:
    """ZADD key score member, the common form, without the option machinery."""
    score = parse_score(score_arg)
    db = c.db
    z = db.get_typed(key, ZSet)
    if z is None:
        limits = limits_of(c.server.config)
        z = ZSet.create(1, len(member), limits)
        db.add(key, z)
        z.add(member, score, limits)
    else:
        if z.enc == LISTPACK:         # zsetTypeMaybeConvert runs even for an update
            z.grow_for(1, len(member), limits_of(c.server.config))
        cur = z.score(member)
        if cur is not None:
            if cur == score:
                return 0
            z.add(member, score)
            c.server.dirty += 1
            db.signal_modified(key)
            c.server.notify("z", "zadd", key, db.id)
            return 0
        z.add(member, score, limits_of(c.server.config))
        db.signal_modified(key)
    c.server.dirty += 1
    c.server.notify("z", "zadd", key, db.id)
    db.signal_ready(key)
    return 1


def _zadd(c: Client, key: bytes, args: tuple[bytes, ...], incr: bool):
    """Valkey's zaddGenericCommand (ZADD and ZINCRBY)."""
    if not incr and len(args) == 2 and args[0].lower() not in _ZADD_FLAGS:
        return _zadd_one(c, key, args[0], args[1])
    flags: set[bytes] = set()
    i = 0
    while i < len(args):
        opt = args[i].lower()
        if opt not in _ZADD_FLAGS:
            break
        flags.add(opt)
        i += 1
    incr = incr or b"incr" in flags
    nx, xx, gt, lt, ch = (f in flags for f in (b"nx", b"xx", b"gt", b"lt", b"ch"))
    rest = args[i:]
    if not rest or len(rest) % 2:
        raise errors.SYNTAX
    if nx and xx:
        raise errors.ZADD_XX_NX
    if (gt and nx) or (lt and nx) or (gt and lt):
        raise errors.ZADD_GT_LT_NX
    n = len(rest) // 2
    if incr and n > 1:
        raise errors.ZADD_INCR_PAIR
    scores = [parse_score(rest[j]) for j in range(0, len(rest), 2)]
    members = rest[1::2]
    maxelelen = max(map(len, members))
    db = c.db
    z = _get(c, key)
    limits = _limits(c)
    added = updated = processed = 0
    score = 0.0
    if z is None:
        if xx:
            return None if incr else 0
        z = ZSet.create(n, maxelelen, limits)
        db.add(key, z)
    else:
        z.grow_for(n, maxelelen, limits)
    nan = False
    for member, score in zip(members, scores, strict=True):
        cur = z.score(member)
        if cur is not None:
            if nx:
                continue
            if incr:
                score += cur
                if score != score:
                    nan = True
                    break
            if (lt and score >= cur) or (gt and score <= cur):
                continue
            processed += 1
            if score != cur:
                z.add(member, score)
                updated += 1
        elif not xx:
            z.add(member, score, limits)
            added += 1
            processed += 1
    c.server.dirty += added + updated
    if added or updated:
        db.signal_modified(key)
        c.server.notify("z", "zincr" if incr else "zadd", key, db.id)
        if added:
            db.signal_ready(key)
    if nan:
        raise errors.ZSCORE_NAN
    if incr:
        return score if processed else None
    return added + updated if ch else added


@command("zadd", arity=-4, flags="write denyoom fast", keys=1, key_flags="RW update", group=_GROUP,
         since="1.2.0", summary="Adds members to a sorted set or updates their scores, creating the set if needed.",
         complexity="O(log(N)) for each item added, where N is the number of elements in the sorted set.",
         history=(("2.4.0", "Accepts multiple elements."), ("3.0.2", "Added the `XX`, `NX`, `CH` and `INCR` options."),
                  ("6.2.0", "Added the `GT` and `LT` options.")),
         args="key:key [condition: NX | XX]@3.0.2 [comparison: GT | LT]@6.2.0 [change=CH]@3.0.2 "
              "[increment=INCR]@3.0.2 (data: score:double member)...")
def zadd(c: Client, key: bytes, *args: bytes):
    return _zadd(c, key, args, False)


@command("zincrby", arity=4, flags="write denyoom fast", keys=1, key_flags="RW access update", group=_GROUP,
         since="1.2.0", summary="Adds a number to the score of a sorted set member, creating the member (and set) if needed.",
         complexity="O(log(N)) where N is the number of elements in the sorted set.",
         args="key:key increment:integer member")
def zincrby(c: Client, key: bytes, increment: bytes, member: bytes):
    return _zadd(c, key, (increment, member), True)


@command("zrem", arity=-3, flags="write fast", keys=1, key_flags="RW delete", group=_GROUP, since="1.2.0",
         summary="Removes members from a sorted set; an emptied set is deleted.",
         complexity="O(M*log(N)) with N being the number of elements in the sorted set and M the number of "
                    "elements to be removed.", history=(("2.4.0", "Accepts multiple elements."),),
         args="key:key member...")
def zrem(c: Client, key: bytes, *members: bytes) -> int:
    z = _get(c, key)
    if z is None:
        return 0
    deleted = remove_each(z, z.discard, members)
    if deleted:
        _removed(c, key, z, "zrem", deleted)
    return deleted


# ====================================================================== simple reads
@command("zcard", arity=2, flags="readonly fast", keys=1, key_flags="RO", group=_GROUP, since="1.2.0",
         summary="Counts the members of a sorted set.", complexity="O(1)",
         args="key:key")
def zcard(c: Client, key: bytes) -> int:
    z = _get(c, key)
    return len(z) if z is not None else 0


@command("zscore", arity=3, flags="readonly fast", keys=1, key_flags="RO access", group=_GROUP, since="1.2.0",
         summary="Fetches the score of a sorted set member.", complexity="O(1)",
         args="key:key member")
def zscore(c: Client, key: bytes, member: bytes):
    z = _get(c, key)
    return None if z is None else z.score(member)


@command("zmscore", arity=-3, flags="readonly fast", keys=1, key_flags="RO access", group=_GROUP, since="6.2.0",
         summary="Fetches the scores of several sorted set members.",
         complexity="O(N) where N is the number of members being requested.",
         args="key:key member...")
def zmscore(c: Client, key: bytes, *members: bytes) -> list:
    z = _get(c, key)
    if z is None:
        return [None] * len(members)
    return [z.score(m) for m in members]


def _rank(c: Client, key: bytes, member: bytes, opts: tuple[bytes, ...], reverse: bool, name: str):
    if len(opts) > 1:
        raise errors.wrong_arity(name)
    withscore = False
    if opts:
        if opts[0].lower() != b"withscore":
            raise errors.SYNTAX
        withscore = True
    z = _get(c, key)
    rank = None if z is None else z.rank(member, reverse)
    if rank is None:
        return NULL_ARRAY if withscore else None
    if withscore:
        return [rank, z.score(member)]
    return rank


_RANK_HISTORY = (("7.2.0", "Added the optional `WITHSCORE` argument."),)


@command("zrank", arity=-3, flags="readonly fast", keys=1, key_flags="RO access", group=_GROUP, since="2.0.0",
         summary="Fetches the rank of a member in a sorted set ordered by ascending score.",
         complexity="O(log(N))", history=_RANK_HISTORY,
         args="key:key member [WITHSCORE]")
def zrank(c: Client, key: bytes, member: bytes, *opts: bytes):
    return _rank(c, key, member, opts, False, "zrank")


@command("zrevrank", arity=-3, flags="readonly fast", keys=1, key_flags="RO access", group=_GROUP, since="2.0.0",
         summary="Fetches the rank of a member in a sorted set ordered by descending score.",
         complexity="O(log(N))", history=_RANK_HISTORY,
         args="key:key member [WITHSCORE]")
def zrevrank(c: Client, key: bytes, member: bytes, *opts: bytes):
    return _rank(c, key, member, opts, True, "zrevrank")


@command("zcount", arity=4, flags="readonly fast", keys=1, key_flags="RO access", group=_GROUP, since="2.0.0",
         summary="Counts the members of a sorted set whose scores are within a range.",
         complexity="O(log(N)) with N being the number of elements in the sorted set.",
         args="key:key min:double max:double")
def zcount(c: Client, key: bytes, lo: bytes, hi: bytes) -> int:
    rng = _score_range(lo, hi)
    z = _get(c, key)
    return 0 if z is None else z.count_by_score(*rng)


@command("zlexcount", arity=4, flags="readonly fast", keys=1, key_flags="RO access", group=_GROUP, since="2.8.9",
         summary="Counts the members of a sorted set within a lexicographical range.",
         complexity="O(log(N)) with N being the number of elements in the sorted set.",
         args="key:key min max")
def zlexcount(c: Client, key: bytes, lo: bytes, hi: bytes) -> int:
    rng = _lex_range(lo, hi)
    z = _get(c, key)
    return 0 if z is None else z.count_by_lex(*rng)


# ====================================================================== ZRANGE family
_RANK, _SCORE, _LEX = "rank", "score", "lex"


def _zrange(c: Client, args: tuple[bytes, ...], dst: bytes | None = None, rangetype: str | None = None,
            reverse: bool | None = None):
    """Valkey's zrangeGenericCommand: ``args`` is ``key min max [options]``; ``dst`` makes it
    ZRANGESTORE; ``rangetype``/``reverse`` fixed by the older commands, None when options say."""
    key, a, b = args[0], args[1], args[2]
    store = dst is not None
    withscores = False
    offset, limit = 0, -1
    opts = args[3:]
    j = 0
    while j < len(opts):
        opt = opts[j].lower()
        left = len(opts) - j - 1
        if not store and opt == b"withscores":
            withscores = True
        elif opt == b"limit" and left >= 2:
            offset = parse_int(opts[j + 1])
            limit = parse_int(opts[j + 2])
            j += 2
        elif reverse is None and opt == b"rev":
            reverse = True
        elif rangetype is None and opt == b"bylex":
            rangetype = _LEX
        elif rangetype is None and opt == b"byscore":
            rangetype = _SCORE
        else:
            raise errors.SYNTAX
        j += 1
    reverse = bool(reverse)
    rangetype = rangetype or _RANK
    if limit != -1 and rangetype == _RANK:
        raise errors.ZRANGE_LIMIT_RANK
    if withscores and rangetype == _LEX:
        raise errors.ZRANGE_WITHSCORES_LEX
    if reverse and rangetype != _RANK:
        a, b = b, a      # given as max, min
    if rangetype == _RANK:
        start, end = parse_int(a), parse_int(b)
    elif rangetype == _SCORE:
        srange = _score_range(a, b)
    else:
        lrange = _lex_range(a, b)
    z = _get(c, key)
    if z is None:
        pairs: list[tuple[bytes, float]] = []
    elif rangetype == _RANK:
        pairs = z.range_by_rank(start, end, reverse)
    elif rangetype == _SCORE:
        pairs = z.range_by_score(*srange, reverse, offset, limit)
    else:
        pairs = z.range_by_lex(*lrange, reverse, offset, limit)
    if not store:
        return _reply_pairs(c, pairs, withscores)
    limits = _limits(c)
    result = ZSet.create(len(pairs) if rangetype == _RANK else 0, 0, limits)
    for m, s in pairs:
        result.add(m, s, limits)
    return _store(c, dst, result, "zrangestore")


_RANGE_DOC = ("O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements "
              "being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you "
              "can consider it O(log(N)).")


@command("zrange", arity=-4, flags="readonly", keys=1, key_flags="RO access", group=_GROUP, since="1.2.0",
         summary="Fetches a range of members of a sorted set by rank, score or lexicographical order.",
         complexity="O(log(N)+M) with N being the number of elements in the sorted set and M the number of "
                    "elements returned.",
         history=(("6.2.0", "Added the `REV`, `BYSCORE`, `BYLEX` and `LIMIT` options."),),
         args="key:key start stop [sortby: BYSCORE | BYLEX]@6.2.0 [REV]@6.2.0 "
              "[LIMIT (offset:integer count:integer)]@6.2.0 [WITHSCORES]")
def zrange(c: Client, *args: bytes) -> list:
    return _zrange(c, args)


@command("zrangestore", arity=-5, flags="write denyoom", keys=(1, 2, 1), group=_GROUP, since="6.2.0",
         summary="Stores a range of members of a sorted set in another key.",
         complexity="O(log(N)+M) with N being the number of elements in the sorted set and M the number of "
                    "elements stored into the destination key.",
         key_specs=(_spec("OW update", 1), _spec("RO access", 2)),
         args="dst:key src:key min max [sortby: BYSCORE | BYLEX] [REV] [LIMIT (offset:integer count:integer)]")
def zrangestore(c: Client, dst: bytes, *args: bytes) -> int:
    return _zrange(c, args, dst=dst)


@command("zrevrange", arity=-4, flags="readonly", keys=1, key_flags="RO access", group=_GROUP, since="1.2.0",
         summary="Fetches a range of members of a sorted set by rank, highest score first.",
         complexity="O(log(N)+M) with N being the number of elements in the sorted set and M the number of "
                    "elements returned.",
         doc_flags="deprecated", deprecated_since="6.2.0", replaced_by="`ZRANGE` with the `REV` argument",
         args="key:key start:integer stop:integer [WITHSCORES]")
def zrevrange(c: Client, *args: bytes) -> list:
    return _zrange(c, args, rangetype=_RANK, reverse=True)


@command("zrangebyscore", arity=-4, flags="readonly", keys=1, key_flags="RO access", group=_GROUP, since="1.0.5",
         summary="Fetches the members of a sorted set within a range of scores.", complexity=_RANGE_DOC,
         doc_flags="deprecated", deprecated_since="6.2.0", replaced_by="`ZRANGE` with the `BYSCORE` argument",
         history=(("2.0.0", "Added the `WITHSCORES` modifier."),),
         args="key:key min:double max:double [WITHSCORES]@2.0.0 [LIMIT (offset:integer count:integer)]")
def zrangebyscore(c: Client, *args: bytes) -> list:
    return _zrange(c, args, rangetype=_SCORE, reverse=False)


@command("zrevrangebyscore", arity=-4, flags="readonly", keys=1, key_flags="RO access", group=_GROUP,
         since="2.2.0", summary="Fetches the members of a sorted set within a range of scores, highest first.",
         complexity=_RANGE_DOC, doc_flags="deprecated", deprecated_since="6.2.0",
         replaced_by="`ZRANGE` with the `REV` and `BYSCORE` arguments",
         history=(("2.1.6", "`min` and `max` can be exclusive."),),
         args="key:key max:double min:double [WITHSCORES] [LIMIT (offset:integer count:integer)]")
def zrevrangebyscore(c: Client, *args: bytes) -> list:
    return _zrange(c, args, rangetype=_SCORE, reverse=True)


@command("zrangebylex", arity=-4, flags="readonly", keys=1, key_flags="RO access", group=_GROUP, since="2.8.9",
         summary="Fetches the members of a sorted set within a lexicographical range.", complexity=_RANGE_DOC,
         doc_flags="deprecated", deprecated_since="6.2.0", replaced_by="`ZRANGE` with the `BYLEX` argument",
         args="key:key min max [LIMIT (offset:integer count:integer)]")
def zrangebylex(c: Client, *args: bytes) -> list:
    return _zrange(c, args, rangetype=_LEX, reverse=False)


@command("zrevrangebylex", arity=-4, flags="readonly", keys=1, key_flags="RO access", group=_GROUP,
         since="2.8.9", summary="Fetches the members of a sorted set within a lexicographical range, in reverse order.",
         complexity=_RANGE_DOC, doc_flags="deprecated", deprecated_since="6.2.0",
         replaced_by="`ZRANGE` with the `REV` and `BYLEX` arguments",
         args="key:key max min [LIMIT (offset:integer count:integer)]")
def zrevrangebylex(c: Client, *args: bytes) -> list:
    return _zrange(c, args, rangetype=_LEX, reverse=True)


# ====================================================================== ZREMRANGEBY*
_REMRANGE_DOC = ("O(log(N)+M) with N being the number of elements in the sorted set and M the number of "
                 "elements removed by the operation.")


def _remrange(c: Client, key: bytes, z: ZSet | None, span: tuple[int, int], event: str) -> int:
    if z is None:
        return 0
    gone = z.remove_span(*span)
    if gone:
        _removed(c, key, z, event, len(gone))
    return len(gone)


@command("zremrangebyrank", arity=4, flags="write", keys=1, key_flags="RW delete", group=_GROUP, since="2.0.0",
         summary="Removes the members of a sorted set within a range of ranks; an emptied set is deleted.",
         complexity=_REMRANGE_DOC,
         args="key:key start:integer stop:integer")
def zremrangebyrank(c: Client, key: bytes, start: bytes, stop: bytes) -> int:
    s, e = parse_int(start), parse_int(stop)
    z = _get(c, key)
    if z is None:
        return 0
    span = index_span(s, e, len(z))
    if span is None:
        return 0
    return _remrange(c, key, z, span, "zremrangebyrank")


@command("zremrangebyscore", arity=4, flags="write", keys=1, key_flags="RW delete", group=_GROUP,
         since="1.2.0", summary="Removes the members of a sorted set within a range of scores; an emptied set is deleted.",
         complexity=_REMRANGE_DOC,
         args="key:key min:double max:double")
def zremrangebyscore(c: Client, key: bytes, lo: bytes, hi: bytes) -> int:
    rng = _score_range(lo, hi)
    z = _get(c, key)
    return _remrange(c, key, z, z.score_span(*rng) if z is not None else (0, 0), "zremrangebyscore")


@command("zremrangebylex", arity=4, flags="write", keys=1, key_flags="RW delete", group=_GROUP, since="2.8.9",
         summary="Removes the members of a sorted set within a lexicographical range; an emptied set is deleted.",
         complexity=_REMRANGE_DOC,
         args="key:key min max")
def zremrangebylex(c: Client, key: bytes, lo: bytes, hi: bytes) -> int:
    rng = _lex_range(lo, hi)
    z = _get(c, key)
    return _remrange(c, key, z, z.lex_span(*rng) if z is not None else (0, 0), "zremrangebylex")


# ====================================================================== pops
def _pop(c: Client, key: bytes, z: ZSet, count: int, maximum: bool) -> list[tuple[bytes, float]]:
    """Valkey's genericZpopCommand core: pop, one event, delete when emptied, dirty per member."""
    out = z.pop_max(count) if maximum else z.pop_min(count)
    _removed(c, key, z, "zpopmax" if maximum else "zpopmin", len(out))
    return out


def _zpop(c: Client, key: bytes, args: tuple[bytes, ...], maximum: bool):
    if len(args) > 1:
        raise errors.SYNTAX
    count = -1
    if args:
        count = range_long(args[0], 0, LONG_MAX, errors.MUST_BE_POSITIVE)
    z = _get(c, key)
    if z is None or count == 0:
        return []
    pairs = _pop(c, key, z, 1 if count == -1 else count, maximum)
    if count != -1 and c.resp > 2:
        return [[m, s] for m, s in pairs]
    return [x for m, s in pairs for x in (m, s if c.resp > 2 else d2string(s))]


_POP_DOC = ("O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of "
            "elements popped.")


@command("zpopmin", arity=-2, flags="write fast", keys=1, key_flags="RW access delete", group=_GROUP,
         since="5.0.0", summary="Removes and replies with the lowest-scoring members of a sorted set.",
         complexity=_POP_DOC,
         args="key:key [count:integer]")
def zpopmin(c: Client, key: bytes, *args: bytes):
    return _zpop(c, key, args, False)


@command("zpopmax", arity=-2, flags="write fast", keys=1, key_flags="RW access delete", group=_GROUP,
         since="5.0.0", summary="Removes and replies with the highest-scoring members of a sorted set.",
         complexity=_POP_DOC,
         args="key:key [count:integer]")
def zpopmax(c: Client, key: bytes, *args: bytes):
    return _zpop(c, key, args, True)


def _first_zset(c: Client, keys: Iterable[bytes]) -> tuple[bytes, ZSet] | None:
    """The first key that exists (WRONGTYPE if it is not a sorted set), as genericZpopCommand."""
    for key in keys:
        z = _get(c, key)
        if z is not None:
            return key, z
    return None


def _pop_verb(maximum: bool) -> bytes:
    return b"ZPOPMAX" if maximum else b"ZPOPMIN"


@command("zmpop", arity=-4, flags="write", group=_GROUP, since="7.0.0",
         summary="Removes and replies with the lowest or highest members of the first non-empty sorted set among several keys.",
         complexity="O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements "
                    "in the sorted set, and M being the number of elements popped.",
         key_specs=(_keynum_spec("RW access delete", 1),), getkeys=_numkeys_getkeys(1, 2),
         args="numkeys:integer key:key... (where: MIN | MAX) [COUNT count:integer]")
def zmpop(c: Client, numkeys: bytes, *rest: bytes):
    keys, maximum, count = parse_mpop(numkeys, rest, b"min", b"max")
    found = _first_zset(c, keys)
    if found is None:
        return NULL_ARRAY
    key, z = found
    pairs = _pop(c, key, z, count, maximum)
    c.propagate_argv = [_pop_verb(maximum), key, b"%d" % len(pairs)]
    return [key, [[m, s] for m, s in pairs]]


# ---------------------------------------------------------------------- blocking pops
def _block_pop(c: Client, keys: tuple[bytes, ...], maximum: bool, count: int, timeout: float):
    """Valkey's blockingGenericZpopCommand; ``count`` -1 is BZPOPMIN/BZPOPMAX's single pop."""
    def attempt():
        for key in keys:
            z = _get(c, key)
            if not z:
                continue
            if count == -1:
                m, s = _pop(c, key, z, 1, maximum)[0]
                return [key, m, s], [_pop_verb(maximum), key]
            pairs = _pop(c, key, z, count, maximum)
            return [key, [[m, s] for m, s in pairs]], [_pop_verb(maximum), key, b"%d" % len(pairs)]
        return MISS

    def holds_zset() -> bool:
        # Valkey re-runs the command only when a key it waits on holds a sorted set
        db = c.db
        return any(isinstance(db.lookup(k), ZSet) for k in keys)

    return pop_or_block(c, keys, attempt, timeout, NULL_ARRAY, kind="zset", precheck=holds_zset)


_BPOP_HISTORY = (("6.0.0", "`timeout` is interpreted as a double instead of an integer."),)


@command("bzpopmin", arity=-3, flags="write fast blocking", keys=(1, -2, 1), key_flags="RW access delete",
         group=_GROUP, since="5.0.0",
         summary="Removes and replies with the lowest-scoring member of the first non-empty sorted set, waiting if all are empty.",
         complexity="O(log(N)) with N being the number of elements in the sorted set.", history=_BPOP_HISTORY,
         args="key:key... timeout:double")
def bzpopmin(c: Client, *args: bytes):
    return _block_pop(c, args[:-1], False, -1, parse_pop_timeout(args[-1]))


@command("bzpopmax", arity=-3, flags="write fast blocking", keys=(1, -2, 1), key_flags="RW access delete",
         group=_GROUP, since="5.0.0",
         summary="Removes and replies with the highest-scoring member of the first non-empty sorted set, waiting if all are empty.",
         complexity="O(log(N)) with N being the number of elements in the sorted set.", history=_BPOP_HISTORY,
         args="key:key... timeout:double")
def bzpopmax(c: Client, *args: bytes):
    return _block_pop(c, args[:-1], True, -1, parse_pop_timeout(args[-1]))


@command("bzmpop", arity=-5, flags="write blocking", group=_GROUP, since="7.0.0",
         summary="Removes and replies with members of the first non-empty sorted set among several keys, waiting if all are empty.",
         complexity="O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements "
                    "in the sorted set, and M being the number of elements popped.",
         key_specs=(_keynum_spec("RW access delete", 2),), getkeys=_numkeys_getkeys(2, 3),
         args="timeout:double numkeys:integer key:key... (where: MIN | MAX) [COUNT count:integer]")
def bzmpop(c: Client, timeout: bytes, numkeys: bytes, *rest: bytes):
    keys, maximum, count = parse_mpop(numkeys, rest, b"min", b"max")
    return _block_pop(c, keys, maximum, count, parse_pop_timeout(timeout))


# ====================================================================== ZRANDMEMBER
_SAMPLE_MUL = 3     # Valkey's ZRANDMEMBER_SUB_STRATEGY_MUL


@command("zrandmember", arity=-2, flags="readonly", keys=1, key_flags="RO access", group=_GROUP, since="6.2.0",
         tips="nondeterministic_output", summary="Replies with random members of a sorted set.",
         complexity="O(N) where N is the number of members returned",
         args="key:key [options: count:integer [WITHSCORES]]")
def zrandmember(c: Client, key: bytes, *args: bytes):
    if not args:
        z = _get(c, key)
        if z is None:
            return None
        return z.at(random.randrange(len(z)))[0]
    count = range_long(args[0], -LONG_MAX, LONG_MAX)
    withscores = False
    if len(args) > 2 or (len(args) == 2 and args[1].lower() != b"withscores"):
        raise errors.SYNTAX
    if len(args) == 2:
        withscores = True
        if count < -(LONG_MAX // 2) or count > LONG_MAX // 2:     # C division truncates
            raise errors.VALUE_OUT_OF_RANGE
    z = _get(c, key)
    if z is None or count == 0:
        return []
    n = len(z)
    if count < 0 or count == 1:
        # repetitions allowed, random order
        k = abs(count)
        if k > 64 and n < k:
            items = list(z.items())
            pairs = random.choices(items, k=k)
        else:
            pairs = [z.at(random.randrange(n)) for _ in range(k)]
    elif count >= n:
        pairs = z.slice(0, n, True)     # Valkey's zset iterator walks from the highest member
    elif z.enc == LISTPACK:
        # distinct members in the set's own order, as Valkey's lpRandomPairsUnique
        pairs = [z.at(i) for i in sorted(random.sample(range(n), count))]
    elif count * _SAMPLE_MUL > n:
        pairs = list(z.items())
        random.shuffle(pairs)
        pairs = pairs[:count]
    else:
        pairs = [z.at(i) for i in random.sample(range(n), count)]
    return _reply_pairs(c, pairs, withscores)


# ====================================================================== union / inter / diff
def _aggregate(target: float, value: float, how: bytes) -> float:
    """Valkey's zunionInterAggregate: SUM turns inf + -inf into 0."""
    if how == b"sum":
        t = target + value
        return 0.0 if t != t else t
    if how == b"min":
        return value if value < target else target
    return value if value > target else target


def _source_items(src: ZSet | SetType) -> Iterable[tuple[bytes, float]]:
    if src.__class__ is ZSet:
        return src.items()
    return ((m, 1.0) for m in src.ordered())       # a plain set: every member scores 1


def _source_score(src: ZSet | SetType, member: bytes) -> float | None:
    if src.__class__ is ZSet:
        return src.score(member)
    return 1.0 if member in src else None


def _setop(c: Client, name: str, dst: bytes | None, numkeys_arg: bytes, rest: tuple[bytes, ...], op: str,
           cardinality_only: bool = False):
    """Valkey's zunionInterDiffGenericCommand for ZUNION/ZINTER/ZDIFF[STORE] and ZINTERCARD."""
    setnum = parse_int(numkeys_arg)
    if setnum < 1:
        raise errors.zset_needs_input_key(name)
    if setnum > len(rest):
        raise errors.SYNTAX
    db = c.db
    sources: list[ZSet | SetType | None] = []
    for key in rest[:setnum]:
        v = db.lookup(key)
        if v is not None and v.__class__ is not ZSet and v.__class__ is not SetType:
            raise errors.WRONGTYPE
        sources.append(v)
    weights = [1.0] * setnum
    how = b"sum"
    withscores = False
    limit = 0
    j = setnum
    while j < len(rest):
        opt = rest[j].lower()
        remaining = len(rest) - j
        if op != "diff" and not cardinality_only and remaining >= setnum + 1 and opt == b"weights":
            weights = [parse_score(w, errors.WEIGHT_NOT_FLOAT) for w in rest[j + 1:j + 1 + setnum]]
            j += setnum + 1
        elif op != "diff" and not cardinality_only and remaining >= 2 and opt == b"aggregate":
            how = rest[j + 1].lower()
            if how not in (b"sum", b"min", b"max"):
                raise errors.SYNTAX
            j += 2
        elif remaining >= 1 and dst is None and not cardinality_only and opt == b"withscores":
            withscores = True
            j += 1
        elif cardinality_only and remaining >= 2 and opt == b"limit":
            limit = range_long(rest[j + 1], 0, LONG_MAX, errors.LIMIT_NEGATIVE)
            j += 2
        else:
            raise errors.SYNTAX
    srcs = [(s if s is not None else ZSet(), w) for s, w in zip(sources, weights, strict=True)]
    if op != "diff":
        srcs.sort(key=lambda sw: len(sw[0]))
    result: dict[bytes, float] = {}
    if op == "inter":
        first, w0 = srcs[0]
        card = 0
        if len(first):
            for member, score in _source_items(first):
                total = w0 * score
                if total != total:
                    total = 0.0
                for src, w in srcs[1:]:
                    value = _source_score(src, member)
                    if value is None:
                        break
                    total = _aggregate(total, value * w, how)
                else:
                    if cardinality_only:
                        card += 1
                        if limit and card >= limit:
                            break
                    else:
                        result[member] = total
        if cardinality_only:
            return card
    elif op == "union":
        for src, w in srcs:
            for member, score in _source_items(src):
                value = w * score
                if value != value:
                    value = 0.0
                cur = result.get(member)
                result[member] = value if cur is None else _aggregate(cur, value, how)
    else:
        first = srcs[0][0]
        others = [s for s, _ in srcs[1:] if len(s)]
        for member, score in _source_items(first):
            if not any(_source_score(s, member) is not None for s in others):
                result[member] = score
    out = ZSet(result.items())
    if dst is not None:
        out.shrink_if_small(_limits(c))
        return _store(c, dst, out, {"union": "zunionstore", "inter": "zinterstore", "diff": "zdiffstore"}[op])
    return _reply_pairs(c, list(out.items()), withscores)


_STORE_SPECS = (_spec("OW update", 1), _keynum_spec("RO access", 2))
_READ_SPECS = (_keynum_spec("RO access", 1),)
_UNION_DOC = ("O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being the "
              "number of elements in the resulting sorted set.")
_INTER_DOC = ("O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number "
              "of input sorted sets and M being the number of elements in the resulting sorted set.")
_DIFF_DOC = ("O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the "
             "size of the first set, and K is the size of the result set.")
_STORE_DOC_UNION = ("O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted sets, and M being "
                    "the number of elements in the resulting sorted set.")


@command("zunion", arity=-3, flags="readonly", group=_GROUP, since="6.2.0",
         summary="Replies with the union of sorted sets (sets count with score 1).", complexity=_UNION_DOC,
         key_specs=_READ_SPECS, getkeys=_numkeys_getkeys(1, 2),
         args="numkeys:integer key:key... [WEIGHTS weight:integer...] [AGGREGATE (SUM | MIN | MAX)] [WITHSCORES]")
def zunion(c: Client, numkeys: bytes, *rest: bytes):
    return _setop(c, "zunion", None, numkeys, rest, "union")


@command("zinter", arity=-3, flags="readonly", group=_GROUP, since="6.2.0",
         summary="Replies with the intersection of sorted sets (sets count with score 1).", complexity=_INTER_DOC,
         key_specs=_READ_SPECS, getkeys=_numkeys_getkeys(1, 2),
         args="numkeys:integer key:key... [WEIGHTS weight:integer...] [AGGREGATE (SUM | MIN | MAX)] [WITHSCORES]")
def zinter(c: Client, numkeys: bytes, *rest: bytes):
    return _setop(c, "zinter", None, numkeys, rest, "inter")


@command("zdiff", arity=-3, flags="readonly", group=_GROUP, since="6.2.0",
         summary="Replies with the members of the first sorted set that are in none of the others.",
         complexity=_DIFF_DOC, key_specs=_READ_SPECS, getkeys=_numkeys_getkeys(1, 2),
         args="numkeys:integer key:key... [WITHSCORES]")
def zdiff(c: Client, numkeys: bytes, *rest: bytes):
    return _setop(c, "zdiff", None, numkeys, rest, "diff")


@command("zintercard", arity=-3, flags="readonly", group=_GROUP, since="7.0.0",
         summary="Counts the members of the intersection of sorted sets, optionally stopping at a limit.",
         complexity="O(N*K) worst case with N being the smallest input sorted set, K being the number of input "
                    "sorted sets.", key_specs=_READ_SPECS, getkeys=_numkeys_getkeys(1, 2),
         args="numkeys:integer key:key... [LIMIT limit:integer]")
def zintercard(c: Client, numkeys: bytes, *rest: bytes):
    return _setop(c, "zintercard", None, numkeys, rest, "inter", cardinality_only=True)


@command("zunionstore", arity=-4, flags="write denyoom", keys=1, group=_GROUP, since="2.0.0",
         summary="Stores the union of sorted sets in a key.", complexity=_STORE_DOC_UNION,
         key_specs=_STORE_SPECS, getkeys=_numkeys_getkeys(2, 3, 1),
         args="destination:key numkeys:integer key:key... [WEIGHTS weight:integer...] [AGGREGATE (SUM | MIN | MAX)]")
def zunionstore(c: Client, dst: bytes, numkeys: bytes, *rest: bytes):
    return _setop(c, "zunionstore", dst, numkeys, rest, "union")


@command("zinterstore", arity=-4, flags="write denyoom", keys=1, group=_GROUP, since="2.0.0",
         summary="Stores the intersection of sorted sets in a key.", complexity=_INTER_DOC,
         key_specs=_STORE_SPECS, getkeys=_numkeys_getkeys(2, 3, 1),
         args="destination:key numkeys:integer key:key... [WEIGHTS weight:integer...] [AGGREGATE (SUM | MIN | MAX)]")
def zinterstore(c: Client, dst: bytes, numkeys: bytes, *rest: bytes):
    return _setop(c, "zinterstore", dst, numkeys, rest, "inter")


@command("zdiffstore", arity=-4, flags="write denyoom", keys=1, group=_GROUP, since="6.2.0",
         summary="Stores the difference of sorted sets in a key.", complexity=_DIFF_DOC,
         key_specs=_STORE_SPECS, getkeys=_numkeys_getkeys(2, 3, 1),
         args="destination:key numkeys:integer key:key...")
def zdiffstore(c: Client, dst: bytes, numkeys: bytes, *rest: bytes):
    return _setop(c, "zdiffstore", dst, numkeys, rest, "diff")


# ====================================================================== ZSCAN
def _scan_score(score: float) -> bytes:
    """ld2string(LD_STR_AUTO), how Valkey's dict scan prints a skiplist member's score."""
    if math.isinf(score):
        return b"inf" if score > 0 else b"-inf"
    return b"%.17g" % score


@command("zscan", arity=-3, flags="readonly", keys=1, key_flags="RO access", group=_GROUP, since="2.8.0",
         tips="nondeterministic_output", summary="Walks through the members and scores of a sorted set with a cursor.",
         complexity=SCAN_DOC,
         history=(("8.0.0", "Added noscores option."),),
         args="key:key cursor:integer [MATCH pattern:pattern] [COUNT count:integer] [NOSCORES]")
def zscan(c: Client, key: bytes, cursor_arg: bytes, *opts: bytes) -> list:
    cursor = parse_cursor(cursor_arg)
    z = _get(c, key)
    if z is None:
        return [b"0", []]
    count, match, noscores = scan_options(opts, "zset")
    out: list[bytes] = []
    if z.enc == LISTPACK:
        nxt = 0
        for m, s in z.items():
            if match is None or match(m) is not None:
                out.append(m)
                if not noscores:
                    out.append(d2string(s))
    else:
        nxt, members = c.server.cursors.page(cursor, z.members(), count)
        for m in members:
            s = z.score(m)
            if s is not None and (match is None or match(m) is not None):
                out.append(m)
                if not noscores:
                    out.append(_scan_score(s))
    return [str(nxt).encode(), out]
