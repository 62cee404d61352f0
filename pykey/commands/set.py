"""Set commands (Valkey's t_set.c behaviour)."""
from __future__ import annotations

import random
from collections.abc import Callable, Iterable

from .. import errors
from ..datatypes.glob import compile_glob
from ..datatypes.members import remove_each
from ..datatypes.settype import HASHTABLE, INTSET, LISTPACK, SetType, is_int
from ..engine.client import Client
from ..engine.registry import KeySpec, command
from ..protocol.replies import Raw, SetReply
from .cmdargs import LONG_MAX, range_long
from .keys import parse_cursor
from .util import parse_int


def _spec(flags: str, pos: int, last: int = 0) -> KeySpec:
    return KeySpec(tuple(flags.split()), ("index", pos), ("range", last, 1, 0))


# ---------------------------------------------------------------- SCAN family helper
SCAN_DOC = ("O(1) for every call. O(N) for a complete iteration, including enough command calls for "
            "the cursor to return back to 0. N is the number of elements inside the collection.")


def scan_options(opts: tuple[bytes, ...], kind: str) -> tuple[int, Callable[[bytes], object] | None, bool]:
    """COUNT / MATCH / NOVALUES (HSCAN) / NOSCORES (ZSCAN) of SSCAN, HSCAN and ZSCAN, checked
    in Valkey's order; the third value is the flag of ``kind`` ("hash" or "zset")."""
    count, match, flag = 10, None, False
    i, n = 0, len(opts)
    while i < n:
        opt = opts[i].lower()
        more = n - i
        if opt == b"count" and more >= 2:
            count = parse_int(opts[i + 1])
            if count < 1:
                raise errors.SYNTAX
            i += 2
        elif opt == b"match" and more >= 2:
            pat = opts[i + 1]
            match = None if pat == b"*" else compile_glob(pat)
            i += 2
        elif opt == b"novalues":
            if kind != "hash":
                raise errors.err("NOVALUES option can only be used in HSCAN")
            flag = True
            i += 1
        elif opt == b"noscores":
            if kind != "zset":
                raise errors.err("NOSCORES option can only be used in ZSCAN")
            flag = True
            i += 1
        else:
            raise errors.SYNTAX
    return count, match, flag


def scan_page(c: Client, cursor: int, source: Iterable[bytes], small: bool, count: int) -> tuple[int, list]:
    """One page: everything at once for small encodings, as Valkey does, else a cursor page."""
    if small:
        return 0, list(source)
    return c.server.cursors.page(cursor, source, count)


# ---------------------------------------------------------------- helpers
def _get(c: Client, key: bytes) -> SetType | None:
    return c.db.get_typed(key, SetType)


def _deleted(c: Client, key: bytes) -> None:
    c.db.delete(key)
    c.server.notify("g", "del", key, c.db.id)


def _store(c: Client, dst: bytes, result: SetType, event: str) -> int:
    """Write a *STORE result: replace ``dst`` (dropping its TTL) or delete it when empty."""
    db = c.db
    if result:
        db.set(dst, result)
        c.server.notify("s", event, dst, db.id)
        c.server.dirty += 1
        return len(result)
    if db.delete(dst):
        c.server.dirty += 1
        c.server.notify("g", "del", dst, db.id)
    return 0


# ---------------------------------------------------------------- commands
@command("sadd", arity=-3, flags="write denyoom fast", keys=1, key_flags="RW insert", group="set",
         since="1.0.0", history=(("2.4.0", "Accepts multiple `member` arguments."),), summary="Puts members into a set, creating the set if needed.",
         complexity="O(1) for each element added, so O(N) to add N elements when the command is "
                    "called with multiple arguments.",
         args="key:key member...")
def sadd(c: Client, key: bytes, *members: bytes) -> int:
    db = c.db
    config = c.server.config
    s = _get(c, key)
    if s is None:
        s = SetType.create(members[0], len(members), config)
        db.add(key, s)
    else:
        s.maybe_convert(len(members), config)
    added = 0
    for m in members:
        if s.add_member(m, config):
            added += 1
    if added:
        db.signal_modified(key)
        c.server.notify("s", "sadd", key, db.id)
    c.server.dirty += added
    return added


@command("srem", arity=-3, flags="write fast", keys=1, key_flags="RW delete", group="set",
         since="1.0.0", history=(("2.4.0", "Accepts multiple `member` arguments."),), summary="Takes members out of a set; an emptied set is deleted.",
         complexity="O(N) where N is the number of members to be removed.",
         args="key:key member...")
def srem(c: Client, key: bytes, *members: bytes) -> int:
    s = _get(c, key)
    if s is None:
        return 0
    deleted = remove_each(s, s.discard, members)
    if deleted:
        db = c.db
        db.signal_modified(key)
        c.server.notify("s", "srem", key, db.id)
        if not s:
            _deleted(c, key)
        c.server.dirty += deleted
    return deleted


@command("smove", arity=4, flags="write fast", keys=(1, 2, 1), group="set", since="1.0.0",
         key_specs=(_spec("RW access delete", 1), _spec("RW insert", 2)),
         summary="Transfers one member from a source set to a destination set.", complexity="O(1)",
         args="source:key destination:key member")
def smove(c: Client, src: bytes, dst: bytes, member: bytes) -> int:
    db = c.db
    srcset = db.lookup(src)
    dstset = db.lookup(dst)
    if srcset is None:
        return 0
    if srcset.__class__ is not SetType or (dstset is not None and dstset.__class__ is not SetType):
        raise errors.WRONGTYPE
    if srcset is dstset:
        return 1 if member in srcset else 0
    if member not in srcset:
        return 0
    srcset.discard(member)
    server = c.server
    server.notify("s", "srem", src, db.id)
    if not srcset:
        _deleted(c, src)
    if dstset is None:
        dstset = SetType.create(member, 1, server.config)
        db.add(dst, dstset)
    db.signal_modified(src)
    server.dirty += 1
    if dstset.add_member(member, server.config):
        server.dirty += 1
        db.signal_modified(dst)
        server.notify("s", "sadd", dst, db.id)
    return 1


@command("sismember", arity=3, flags="readonly fast", keys=1, key_flags="RO", group="set",
         since="1.0.0", summary="Tells whether a value is a member of a set.", complexity="O(1)",
         args="key:key member")
def sismember(c: Client, key: bytes, member: bytes) -> int:
    s = _get(c, key)
    return 1 if s is not None and member in s else 0


@command("smismember", arity=-3, flags="readonly fast", keys=1, key_flags="RO access", group="set",
         since="6.2.0", summary="Tells, for each of several values, whether it is a member of a set.",
         complexity="O(N) where N is the number of elements being checked for membership",
         args="key:key member...")
def smismember(c: Client, key: bytes, *members: bytes) -> list[int]:
    s = _get(c, key)
    if s is None:
        return [0] * len(members)
    return [1 if m in s else 0 for m in members]


@command("smembers", arity=2, flags="readonly", keys=1, key_flags="RO access", group="set",
         since="1.0.0", tips="nondeterministic_output_order",
         summary="Lists every member of a set.", complexity="O(N) where N is the set cardinality.",
         args="key:key")
def smembers(c: Client, key: bytes) -> Raw | SetReply:
    s = _get(c, key)
    return Raw(s.encoded_members(c.resp == 3)) if s is not None else SetReply()


@command("scard", arity=2, flags="readonly fast", keys=1, key_flags="RO", group="set", since="1.0.0",
         summary="Counts the members of a set.", complexity="O(1)",
         args="key:key")
def scard(c: Client, key: bytes) -> int:
    s = _get(c, key)
    return len(s) if s is not None else 0


@command("spop", arity=-2, flags="write fast", keys=1, key_flags="RW access delete", group="set",
         since="1.0.0", tips="nondeterministic_output", history=(("3.2.0", "Added the `count` argument."),),
         summary="Removes and replies with random members of a set; an emptied set is deleted.",
         complexity="Without the count argument O(1), otherwise O(N) where N is the value of the "
                    "passed count.",
         args="key:key [count:integer]@3.2.0")
def spop(c: Client, key: bytes, *rest: bytes):
    if len(rest) > 1:
        raise errors.SYNTAX
    if rest:
        return _spop_count(c, key, rest[0])
    s = _get(c, key)
    if s is None:
        return None
    member = random.choice(tuple(s)) if len(s) < 64 else _random_member(s)
    s.discard(member)
    db = c.db
    c.server.notify("s", "spop", key, db.id)
    c.propagate_argv = [b"SREM", key, member]
    if not s:
        _deleted(c, key)
    db.signal_modified(key)
    c.server.dirty += 1
    return member


def _random_member(s: SetType) -> bytes:
    """One random member of a large set, without building a tuple of it."""
    import itertools
    return next(itertools.islice(iter(s), random.randrange(len(s)), None))


def _spop_count(c: Client, key: bytes, arg: bytes):
    count = range_long(arg, 0, LONG_MAX, errors.MUST_BE_POSITIVE)
    s = _get(c, key)
    if s is None or count == 0:
        return SetReply()
    db = c.db
    server = c.server
    size = len(s)
    server.notify("s", "spop", key, db.id)
    if count >= size:
        server.dirty += size
        popped = SetReply(s)
        _deleted(c, key)
        c.propagate_argv = [b"UNLINK" if server.config["lazyfree-lazy-server-del"] else b"DEL", key]
        db.signal_modified(key)
        return popped
    server.dirty += count
    remaining = size - count
    popped = random.sample(tuple(s), count)
    s.difference_update(popped)
    if remaining * 5 <= count:
        # Valkey builds a new set from the survivors: its encoding starts small again
        fresh = SetType(enc=LISTPACK if s.enc == LISTPACK else INTSET)
        if s.enc == HASHTABLE:
            fresh.enc = LISTPACK
        config = server.config
        for m in s:
            fresh.add_member(m, config)
        s.enc = fresh.enc
    for i in range(0, len(popped) - 1024, 1024):   # Valkey replicates SREMs of 1024 members
        server.propagate(db.id, [b"SREM", key, *popped[i:i + 1024]])
    c.propagate_argv = [b"SREM", key, *popped[(len(popped) - 1) // 1024 * 1024:]]
    db.signal_modified(key)
    return SetReply(popped)


@command("srandmember", arity=-2, flags="readonly", keys=1, key_flags="RO access", group="set",
         since="1.0.0", tips="nondeterministic_output",
         history=(("2.6.0", "Added the optional `count` argument."),),
         summary="Picks random members of a set without removing them.",
         complexity="Without the count argument O(1), otherwise O(N) where N is the absolute value of "
                    "the passed count.",
         args="key:key [count:integer]@2.6.0")
def srandmember(c: Client, key: bytes, *rest: bytes):
    if len(rest) > 1:
        raise errors.SYNTAX
    if not rest:
        s = _get(c, key)
        if s is None:
            return None
        return random.choice(tuple(s)) if len(s) < 64 else _random_member(s)
    n = range_long(rest[0], -LONG_MAX, LONG_MAX)
    s = _get(c, key)
    if s is None or n == 0:
        return []
    if n >= len(s):
        return s.ordered()
    members = tuple(s)
    if n < 0:
        return random.choices(members, k=-n)
    return random.sample(members, n)


def _lookup_sets(c: Client, keys: Iterable[bytes]) -> list[SetType | None]:
    return [_get(c, k) for k in keys]


def _inter(sets: list[SetType | None], limit: int = 0) -> list[bytes] | None:
    """Members common to all ``sets`` (None when one is missing), smallest set first."""
    if any(s is None for s in sets):
        return None
    ordered = sorted(sets, key=len)  # type: ignore[arg-type]
    first = ordered[0]
    others = [o.lookup() for o in ordered[1:]]  # type: ignore[union-attr]
    out = []
    for m in first:  # type: ignore[union-attr]
        for o in others:
            if m not in o:  # type: ignore[operator]
                break
        else:
            out.append(m)
            if limit and len(out) >= limit:
                break
    return out


@command("sinter", arity=-2, flags="readonly", keys=(1, -1, 1), key_flags="RO access", group="set",
         since="1.0.0", tips="nondeterministic_output_order",
         summary="Computes the members common to all the given sets.",
         complexity="O(N*M) worst case where N is the cardinality of the smallest set and M is the "
                    "number of sets.",
         args="key:key...")
def sinter(c: Client, *keys: bytes) -> SetReply:
    sets = _lookup_sets(c, keys)
    found = _inter(sets)
    if found and min(sets, key=len).enc == INTSET:  # type: ignore[arg-type, union-attr]
        found.sort(key=int)
    return SetReply(found or ())


def _sintercard_keys(argv: list[bytes]) -> list[int]:
    try:
        n = int(argv[1])
    except ValueError:
        return []
    return list(range(2, min(2 + max(n, 0), len(argv))))


@command("sintercard", arity=-3, flags="readonly", keys=(0, 0, 0), group="set", since="7.0.0",
         key_specs=(KeySpec(("RO", "access"), ("index", 1), ("keynum", 0, 1, 1)),),
         getkeys=_sintercard_keys,
         summary="Counts the members common to all the given sets.",
         complexity="O(N*M) worst case where N is the cardinality of the smallest set and M is the "
                    "number of sets.",
         args="numkeys:integer key:key... [LIMIT limit:integer]")
def sintercard(c: Client, numkeys_arg: bytes, *args: bytes) -> int:
    numkeys = range_long(numkeys_arg, 1, LONG_MAX, errors.NUMKEYS_NOT_POSITIVE)
    if numkeys > len(args):
        raise errors.err("Number of keys can't be greater than number of args")
    limit = 0
    j = numkeys
    while j < len(args):
        if args[j].lower() == b"limit" and j + 1 < len(args):
            limit = range_long(args[j + 1], 0, LONG_MAX, errors.LIMIT_NEGATIVE)
            j += 2
        else:
            raise errors.SYNTAX
    found = _inter(_lookup_sets(c, args[:numkeys]), limit)
    return len(found) if found else 0


@command("sinterstore", arity=-3, flags="write denyoom", keys=(1, -1, 1), group="set", since="1.0.0",
         key_specs=(_spec("OW update", 1), _spec("RO access", 2, -1)),
         summary="Computes the members common to the given sets and saves them at a destination key.",
         complexity="O(N*M) worst case where N is the cardinality of the smallest set and M is the "
                    "number of sets.",
         args="destination:key key:key...")
def sinterstore(c: Client, dst: bytes, *keys: bytes) -> int:
    sets = _lookup_sets(c, keys)
    found = _inter(sets)
    if not found:
        return _store(c, dst, SetType(), "sinterstore")
    smallest = min(sets, key=len)  # type: ignore[arg-type]
    config = c.server.config
    result = SetType(enc=INTSET if smallest.enc == INTSET else LISTPACK)  # type: ignore[union-attr]
    only_ints = True
    for m in found:
        result.add_member(m, config)
        if only_ints and not is_int(m):
            only_ints = False
    if only_ints:
        result.maybe_intset(config)
    return _store(c, dst, result, "sinterstore")


def _union_diff(c: Client, keys: tuple[bytes, ...], diff: bool, store: bool) -> SetType:
    sets = _lookup_sets(c, keys)
    config = c.server.config
    enc = INTSET
    if not store and any(s is not None and s.enc != INTSET for s in sets):
        enc = HASHTABLE
    result = SetType(enc=enc)
    if not diff:
        for s in sets:
            if s is not None:
                for m in s:
                    result.add_member(m, config)
        return result
    first = sets[0]
    if first is None:
        return result
    others = [s for s in sets[1:] if s is not None]
    if any(o is first for o in others):
        return result
    others = [o.lookup() for o in others]
    for m in first:
        for o in others:
            if m in o:
                break
        else:
            result.add_member(m, config)
    return result


@command("sunion", arity=-2, flags="readonly", keys=(1, -1, 1), key_flags="RO access", group="set",
         since="1.0.0", tips="nondeterministic_output_order", summary="Computes the members found in any of the given sets.",
         complexity="O(N) where N is the total number of elements in all given sets.",
         args="key:key...")
def sunion(c: Client, *keys: bytes) -> SetReply:
    return SetReply(_union_diff(c, keys, False, False).ordered())


@command("sunionstore", arity=-3, flags="write denyoom", keys=(1, -1, 1), group="set", since="1.0.0",
         key_specs=(_spec("OW update", 1), _spec("RO access", 2, -1)),
         summary="Computes the members found in any of the given sets and saves them at a destination key.",
         complexity="O(N) where N is the total number of elements in all given sets.",
         args="destination:key key:key...")
def sunionstore(c: Client, dst: bytes, *keys: bytes) -> int:
    return _store(c, dst, _union_diff(c, keys, False, True), "sunionstore")


@command("sdiff", arity=-2, flags="readonly", keys=(1, -1, 1), key_flags="RO access", group="set",
         since="1.0.0", tips="nondeterministic_output_order", summary="Computes the members of the first set that are in none of the others.",
         complexity="O(N) where N is the total number of elements in all given sets.",
         args="key:key...")
def sdiff(c: Client, *keys: bytes) -> SetReply:
    return SetReply(_union_diff(c, keys, True, False).ordered())


@command("sdiffstore", arity=-3, flags="write denyoom", keys=(1, -1, 1), group="set", since="1.0.0",
         key_specs=(_spec("OW update", 1), _spec("RO access", 2, -1)),
         summary="Computes the members of the first set missing from the others and saves them at a destination key.",
         complexity="O(N) where N is the total number of elements in all given sets.",
         args="destination:key key:key...")
def sdiffstore(c: Client, dst: bytes, *keys: bytes) -> int:
    return _store(c, dst, _union_diff(c, keys, True, True), "sdiffstore")


@command("sscan", arity=-3, flags="readonly", keys=1, key_flags="RO access", group="set", since="2.8.0",
         tips="nondeterministic_output", summary="Walks through the members of a set with a cursor.",
         complexity=SCAN_DOC,
         args="key:key cursor:integer [MATCH pattern:pattern] [COUNT count:integer]")
def sscan(c: Client, key: bytes, cursor_arg: bytes, *opts: bytes) -> list:
    cursor = parse_cursor(cursor_arg)
    s = _get(c, key)
    if s is None:
        return [b"0", []]
    count, match, _ = scan_options(opts, "set")
    small = s.enc != HASHTABLE
    nxt, items = scan_page(c, cursor, s.ordered() if small else s, small, count)
    items = [m for m in items if m in s and (match is None or match(m) is not None)]
    return [str(nxt).encode(), items]
