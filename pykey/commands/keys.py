"""Generic key commands (Valkey's "generic" group, plus DBSIZE/FLUSH*/SWAPDB/MEMORY USAGE).

Behaviour follows Valkey's db.c, expire.c and object.c: the order of checks decides which
error a client sees, so it is kept as Valkey has it.
"""
from __future__ import annotations

import copy
from typing import Any

from .. import errors
from ..datatypes.glob import compile_glob
from ..engine.client import Client
from ..engine.memory import key_size
from ..engine.registry import KeySpec, command, container
from ..keyspace import lazyfree
from ..keyspace.database import Database, type_name
from ..protocol.replies import OK, Simple, Verbatim
from .util import parse_int

try:
    from .string import object_encoding as _string_encoding
except ImportError:  # string.py has not grown it yet
    _string_encoding = None

_I64_MAX = 2**63 - 1
_I64_MIN = -(2**63)
_U64_MAX = 2**64 - 1
_I32_MIN, _I32_MAX = -(2**31), 2**31 - 1
_SHARED_REFCOUNT = 2**31 - 1       # Valkey's OBJ_SHARED_REFCOUNT for shared small integers
_SHARED_INTEGERS = 10000
_TYPE_NAMES = (b"string", b"list", b"set", b"zset", b"hash", b"stream")

_MULTI_SUM = "request_policy:multi_shard response_policy:agg_sum"
_ALL_SUM = "request_policy:all_shards response_policy:agg_sum"
_ALL_OK = "request_policy:all_shards response_policy:all_succeeded"


def _spec(flags: str, pos: int) -> KeySpec:
    return KeySpec(tuple(flags.split()), ("index", pos), ("range", 0, 1, 0))


def _peek(db: Database, key: bytes) -> Any:
    """The live value without touching its access time (Valkey's LOOKUP_NOTOUCH)."""
    if db.exists(key):
        return db.data[key]
    return None


def _int32(arg: bytes, error: errors.CommandError = errors.NOT_INTEGER) -> int:
    """Valkey's getIntFromObjectOrReply: a 32-bit signed integer."""
    v = parse_int(arg, error)
    if v < _I32_MIN or v > _I32_MAX:
        raise error
    return v


def _target_db(c: Client, arg: bytes) -> Database:
    dbid = _int32(arg)
    if dbid < 0 or dbid >= len(c.server.dbs):
        raise errors.DB_INDEX
    return c.server.dbs[dbid]


def _help(name: str, lines: tuple[str, ...]) -> list[Simple]:
    """Valkey's addReplyHelp: a header, the lines, and the HELP entry, as simple strings."""
    out = [Simple(f"{name.upper()} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")]
    out.extend(Simple(s) for s in lines)
    out.append(Simple("HELP"))
    out.append(Simple("    Print this help."))
    return out


def _dup(value: Any) -> Any:
    """A deep copy of a value for COPY (bytes are immutable and shared)."""
    cls = value.__class__
    if cls is bytes:
        return value
    if cls is bytearray:
        return bytearray(value)
    for name in ("dup", "copy"):
        fn = getattr(value, name, None)
        if callable(fn):
            return fn()
    return copy.deepcopy(value)


def _move_access(src: Database, dst: Database, skey: bytes, dkey: bytes) -> None:
    """Keep the object's LRU time when it changes key or database, as Valkey keeps the robj."""
    t = src.access.pop(skey, None)
    if t is not None and dst.server.track_access:
        dst.access[dkey] = t


# ---------------------------------------------------------------------- DEL / UNLINK / EXISTS
def _delete_keys(c: Client, keys: tuple[bytes, ...]) -> int:
    db = c.db
    server = c.server
    n = 0
    for k in keys:
        if db.delete(k):
            server.notify("g", "del", k, db.id)
            n += 1
    server.dirty += n
    return n


@command("del", arity=-2, flags="write", keys=(1, -1, 1), key_flags="RM delete", group="generic",
         since="1.0.0", summary="Removes the given keys.", tips=_MULTI_SUM,
         complexity="O(N) where N is the number of keys that will be removed.",
         args="key:key...")
def del_(c: Client, *keys: bytes) -> int:
    return _delete_keys(c, keys)


@command("unlink", arity=-2, flags="write fast", keys=(1, -1, 1), key_flags="RM delete",
         group="generic", since="4.0.0", tips=_MULTI_SUM,
         summary="Removes the given keys, freeing their memory in the background.",
         complexity="O(1) for each key removed regardless of its size.",
         args="key:key...")
def unlink(c: Client, *keys: bytes) -> int:
    # Python frees memory by reference counting; there is no background thread to hand to.
    # INFO lazyfreed_objects still counts the values Valkey would free in the background.
    return _delete_keys(c, keys)


@command("exists", arity=-2, flags="readonly fast", keys=(1, -1, 1), key_flags="RO",
         group="generic", since="1.0.0", tips=_MULTI_SUM,
         history=(("3.0.3", "Accepts multiple `key` arguments."),),
         summary="Counts how many of the given keys are present.",
         complexity="O(N) where N is the number of keys to check.",
         args="key:key...")
def exists(c: Client, *keys: bytes) -> int:
    db = c.db
    return sum(1 for k in keys if db.exists(k))


@command("touch", arity=-2, flags="readonly fast", keys=(1, -1, 1), key_flags="RO",
         group="generic", since="3.2.1", tips=_MULTI_SUM,
         summary="Marks the given keys as accessed and counts how many are present.",
         complexity="O(N) where N is the number of keys that will be touched.",
         args="key:key...")
def touch(c: Client, *keys: bytes) -> int:
    db = c.db
    return sum(1 for k in keys if db.lookup(k) is not None)


@command("type", arity=2, flags="readonly fast", keys=1, key_flags="RO", group="generic",
         since="1.0.0", summary="Tells which data type a key holds.", complexity="O(1)",
         args="key:key")
def type_(c: Client, key: bytes) -> Simple:
    value = _peek(c.db, key)
    return Simple("none" if value is None else type_name(value))


# ---------------------------------------------------------------------- RENAME / MOVE / COPY
def _rename(c: Client, src: bytes, dst: bytes, nx: bool) -> Any:
    db = c.db
    value = db.lookup(src)
    if value is None:
        raise errors.NO_SUCH_KEY
    if src == dst:
        return 0 if nx else OK
    expire = db.get_expire(src)
    if db.exists(dst):
        if nx:
            return 0
        db.delete(dst)
    access = db.access.get(src)
    db.add(dst, value)
    if expire != -1:
        db.set_expire(dst, expire)
    db.delete(src)
    if access is not None and c.server.track_access:
        db.access[dst] = access
    db.signal_ready(dst)
    server = c.server
    server.notify("g", "rename_from", src, db.id)
    server.notify("g", "rename_to", dst, db.id)
    server.dirty += 1
    return 1 if nx else OK


@command("rename", arity=3, flags="write", keys=(1, 2, 1), group="generic", since="1.0.0",
         key_specs=(_spec("RW access delete", 1), _spec("OW update", 2)),
         summary="Gives a key a new name, replacing any key already using it.", complexity="O(1)",
         args="key:key newkey:key")
def rename(c: Client, src: bytes, dst: bytes) -> Any:
    return _rename(c, src, dst, False)


@command("renamenx", arity=3, flags="write fast", keys=(1, 2, 1), group="generic", since="1.0.0",
         key_specs=(_spec("RW access delete", 1), _spec("OW insert", 2)),
         summary="Gives a key a new name, but only if that name is free.", complexity="O(1)",
         history=(("3.2.0", "The command no longer returns an error when source and destination "
                            "names are the same."),),
         args="key:key newkey:key")
def renamenx(c: Client, src: bytes, dst: bytes) -> Any:
    return _rename(c, src, dst, True)


@command("move", arity=3, flags="write fast", keys=1, key_flags="RW access update", group="generic",
         since="1.0.0", summary="Transfers a key into another database.", complexity="O(1)",
         args="key:key db:integer")
def move(c: Client, key: bytes, dbarg: bytes) -> int:
    src = c.db
    dst = _target_db(c, dbarg)
    if dst is src:
        raise errors.SAME_OBJECT
    value = src.lookup(key)
    if value is None:
        return 0
    expire = src.get_expire(key)
    if dst.exists(key):
        return 0
    dst.add(key, value)
    server = c.server
    if expire != -1:
        dst.set_expire(key, expire)
    _move_access(src, dst, key, key)
    src.delete(key)
    dst.signal_ready(key)
    server.notify("g", "move_from", key, src.id)
    server.notify("g", "move_to", key, dst.id)
    server.dirty += 1
    return 1


@command("copy", arity=-3, flags="write denyoom", keys=(1, 2, 1), group="generic", since="6.2.0",
         key_specs=(_spec("RO access", 1), _spec("OW update", 2)),
         summary="Duplicates a key's value under another key name.",
         complexity="O(N) worst case for collections, where N is the number of nested items. "
                    "O(1) for string values.",
         args="source:key destination:key [DB destination-db:integer] [REPLACE]")
def copy_(c: Client, src: bytes, dst: bytes, *opts: bytes) -> int:
    sdb = ddb = c.db
    replace = False
    i, n = 0, len(opts)
    while i < n:
        opt = opts[i].lower()
        if opt == b"replace":
            replace = True
        elif opt == b"db" and i + 1 < n:
            ddb = _target_db(c, opts[i + 1])
            i += 1
        else:
            raise errors.SYNTAX
        i += 1
    if sdb is ddb and src == dst:
        raise errors.SAME_OBJECT
    value = sdb.lookup(src)
    if value is None:
        return 0
    expire = sdb.get_expire(src)
    delete = False
    if ddb.exists(dst):
        if not replace:
            return 0
        delete = True
    newval = _dup(value)
    if delete:
        ddb.delete(dst)
    ddb.add(dst, newval)
    server = c.server
    if expire != -1:
        ddb.set_expire(dst, expire)
    ddb.signal_ready(dst)
    server.notify("g", "copy_to", dst, ddb.id)
    server.dirty += 1
    return 1


@command("swapdb", arity=3, flags="write fast", group="server", since="4.0.0", acl="keyspace dangerous",
         summary="Exchanges the contents of two databases.",
         complexity="O(N) where N is the count of clients watching or blocking on keys from both "
                    "databases.",
         args="index1:integer index2:integer")
def swapdb(c: Client, a: bytes, b: bytes) -> Any:
    id1 = _int32(a, errors.INVALID_FIRST_DB)
    id2 = _int32(b, errors.INVALID_SECOND_DB)
    server = c.server
    n = len(server.dbs)
    if id1 < 0 or id1 >= n or id2 < 0 or id2 >= n:
        raise errors.DB_INDEX
    if id1 != id2:
        d1, d2 = server.dbs[id1], server.dbs[id2]
        # Clients keep their Database object, so the contents are swapped, not the objects
        # (as Valkey swaps the dicts inside its serverDb structs).
        for slot in Database.__slots__:
            if slot in ("id", "server"):
                continue
            v1, v2 = getattr(d1, slot), getattr(d2, slot)
            setattr(d1, slot, v2)
            setattr(d2, slot, v1)
        if server.key_watchers:
            # WATCHed keys that exist on either side changed (Valkey's touchAllWatchedKeysInDb);
            # client-side caching is not told (server.flushing), as in Valkey
            server.flushing = True
            try:
                for k in set(d1.data) | set(d2.data):
                    d1.signal_modified(k)
                    d2.signal_modified(k)
            finally:
                server.flushing = False
        for dbid, key in list(server.blocking_keys):
            if dbid in (id1, id2) and key in server.dbs[dbid].data:
                server.dbs[dbid].signal_ready(key)
    server.dirty += 1
    return OK


# ---------------------------------------------------------------------- KEYS / SCAN / RANDOMKEY
@command("keys", arity=2, flags="readonly", group="generic", since="1.0.0", acl="dangerous",
         tips="request_policy:all_shards nondeterministic_output_order",
         summary="Lists the key names matching a glob pattern.",
         complexity="O(N) with N being the number of keys in the database, under the assumption "
                    "that the key names in the database and the given pattern have limited length.",
         args="pattern:pattern")
def keys(c: Client, pattern: bytes) -> list[bytes]:
    db = c.db
    expires = db.expires
    now = c.server.now_ms
    if pattern == b"*":
        if not expires:
            return list(db.data)
        return [k for k in db.data if expires.get(k, now + 1) > now]
    match = compile_glob(pattern)
    return [k for k in db.data if match(k) is not None and expires.get(k, now + 1) > now]


def parse_cursor(arg: bytes) -> int:
    """Valkey's string2ull: a canonical integer, else whatever strtoull accepts in full."""
    try:
        v = parse_int(arg, errors.INVALID_CURSOR)
    except errors.CommandError:
        s = arg.lstrip(b" \t\n\r\f\v")
        neg = s[:1] == b"-"
        if s[:1] in (b"+", b"-"):
            s = s[1:]
        if not s or not s.isdigit() or not s.isascii():
            raise errors.INVALID_CURSOR from None
        v = int(s)
        if v > _U64_MAX:
            raise errors.INVALID_CURSOR from None
        return (-v) & _U64_MAX if neg else v
    if v < 0:
        raise errors.INVALID_CURSOR
    return v


@command("scan", arity=-2, flags="readonly touches_arbitrary_keys", group="generic", since="2.8.0",
         tips="nondeterministic_output request_policy:special response_policy:special",
         summary="Walks through the key names of the database with a cursor.",
         complexity="O(1) for every call. O(N) for a complete iteration, including enough command "
                    "calls for the cursor to return back to 0. N is the number of elements inside "
                    "the collection.",
         history=(("6.0.0", "Added the `TYPE` subcommand."),),
         args="cursor:integer [MATCH pattern:pattern] [COUNT count:integer] [TYPE type]@6.0.0")
def scan(c: Client, cursor_arg: bytes, *opts: bytes) -> list:
    cursor = parse_cursor(cursor_arg)
    count = 10
    match = None
    want_type: bytes | None = None
    i, n = 0, len(opts)
    while i < n:
        opt = opts[i].lower()
        more = n - i >= 2
        if opt == b"count" and more:
            count = parse_int(opts[i + 1])
            if count < 1:
                raise errors.SYNTAX
            i += 2
        elif opt == b"match" and more:
            pat = opts[i + 1]
            match = None if pat == b"*" else compile_glob(pat)
            i += 2
        elif opt == b"type" and more:
            want_type = opts[i + 1].lower()
            if want_type not in _TYPE_NAMES:
                raise errors.unknown_type_name(opts[i + 1])
            i += 2
        elif opt == b"novalues":
            raise errors.err("NOVALUES option can only be used in HSCAN")
        elif opt == b"noscores":
            raise errors.err("NOSCORES option can only be used in ZSCAN")
        else:
            raise errors.SYNTAX
    db = c.db
    nxt, page = c.server.cursors.page(cursor, db.data, count)
    data = db.data
    out = []
    for k in page:
        value = data.get(k)
        if value is None:           # deleted since the snapshot was taken
            continue
        if match is not None and match(k) is None:
            continue
        if want_type is not None and type_name(value).encode() != want_type:
            continue
        if db.expires and k in db.expires and db._expire_if_needed(k):
            continue
        out.append(k)
    return [str(nxt).encode(), out]


@command("randomkey", arity=1, flags="readonly touches_arbitrary_keys", group="generic",
         since="1.0.0", tips="request_policy:all_shards response_policy:special nondeterministic_output",
         summary="Picks a key name from the database at random.", complexity="O(1)")
def randomkey(c: Client) -> bytes | None:
    return c.db.random_key()


# ---------------------------------------------------------------------- DBSIZE / FLUSH*
@command("dbsize", arity=1, flags="readonly fast", group="server", since="1.0.0", acl="keyspace",
         tips=_ALL_SUM, summary="Counts the keys in the selected database.", complexity="O(1)")
def dbsize(c: Client) -> int:
    return len(c.db.data)


def _flush_flags(opts: tuple[bytes, ...]) -> None:
    if len(opts) > 1 or (opts and opts[0].lower() not in (b"sync", b"async")):
        raise errors.SYNTAX


@command("flushdb", arity=-1, flags="write", group="server", since="1.0.0", acl="keyspace dangerous",
         tips=_ALL_OK, summary="Deletes every key in the selected database.",
         complexity="O(N) where N is the number of keys in the selected database",
         history=(("4.0.0", "Added the `ASYNC` flushing mode modifier."),
                  ("6.2.0", "Added the `SYNC` flushing mode modifier.")),
         args="[flush-type: ASYNC@4.0.0 | SYNC@6.2.0]")
def flushdb(c: Client, *opts: bytes) -> Any:
    _flush_flags(opts)
    # +1 so that FLUSHDB on an empty db still propagates (Valkey's forceCommandPropagation)
    removed = c.db.flush()
    lazyfree.flushed(c.server, removed, lazyfree.flush_is_async(c.server, opts))
    c.server.dirty += removed + 1
    c.server.signal_flushed(c.db.id)
    return OK


@command("flushall", arity=-1, flags="write", group="server", since="1.0.0", acl="keyspace dangerous",
         tips=_ALL_OK, summary="Deletes every key in every database.",
         complexity="O(N) where N is the total number of keys in all databases",
         history=(("4.0.0", "Added the `ASYNC` flushing mode modifier."),
                  ("6.2.0", "Added the `SYNC` flushing mode modifier.")),
         args="[flush-type: ASYNC@4.0.0 | SYNC@6.2.0]")
def flushall(c: Client, *opts: bytes) -> Any:
    _flush_flags(opts)
    removed = 0
    for db in c.server.dbs:
        if db.data or db.expires:
            removed += db.flush()
    lazyfree.flushed(c.server, removed, lazyfree.flush_is_async(c.server, opts))
    c.server.dirty += removed + 1
    _reset_rdb(c, opts)
    c.server.signal_flushed(-1)
    return OK


def _reset_rdb(c: Client, opts: tuple[bytes, ...]) -> None:
    """Valkey's flushAllDataAndResetRDB: a running BGSAVE is stopped and, when save points
    are configured, the now empty dataset is saved at once (the change counter goes back
    to 0); FLUSHALL is then propagated here, since the counter no longer shows a change."""
    server = c.server
    snaps = server.snapshots
    if snaps.child_purpose == "disk":
        snaps.kill_child()
    if server.config["save"]:
        from ..persistence.snapshot import SaveError
        server.propagate(c.db.id, [b"FLUSHALL", *opts])
        c.propagate_argv = []
        try:
            snaps.save()
        except SaveError:
            pass


# ---------------------------------------------------------------------- EXPIRE family
_EXPIRE_FLAGS = {b"nx": 1, b"xx": 2, b"gt": 4, b"lt": 8}


def _expire(c: Client, name: str, key: bytes, param: bytes, opts: tuple[bytes, ...],
            relative: bool, seconds: bool) -> int:
    flags = 0
    for opt in opts:
        f = _EXPIRE_FLAGS.get(opt.lower())
        if f is None:
            raise errors.unsupported_option(opt)
        flags |= f
    if flags & 1 and flags & 14:
        raise errors.EXPIRE_NX_CONFLICT
    if flags & 12 == 12:
        raise errors.EXPIRE_GT_LT_CONFLICT
    when = parse_int(param)
    if seconds:
        if when > _I64_MAX // 1000 or when < -(_I64_MAX // 1000):
            raise errors.invalid_expire(name)
        when *= 1000
    server = c.server
    base = server.now_ms if relative else 0
    if when > _I64_MAX - base:
        raise errors.invalid_expire(name)
    when += base
    db = c.db
    if db.lookup(key) is None:
        return 0
    if flags:
        current = db.get_expire(key)
        if flags & 1 and current != -1:
            return 0
        if flags & 2 and current == -1:
            return 0
        if flags & 4 and (when <= current or current == -1):
            return 0
        if flags & 8 and current != -1 and when >= current:
            return 0
    if when <= server.now_ms and not server.loading and server.expiry_allowed():
        # a time already past deletes the key now, propagated as the DEL it amounts to
        db.delete(key)
        server.dirty += 1
        lazy = server.config["lazyfree-lazy-expire"]
        c.propagate_argv = [b"UNLINK" if lazy else b"DEL", key]
        server.notify("g", "del", key, db.id)
        return 1
    db.set_expire(key, when)
    c.propagate_argv = [b"PEXPIREAT", key, str(when).encode(), *opts]
    db.signal_modified(key)
    server.notify("g", "expire", key, db.id)
    server.dirty += 1
    return 1


_EXPIRE_ARGS = dict(arity=-3, flags="write fast", keys=1, key_flags="RW update", group="generic",
                    complexity="O(1)")
_EXPIRE_HISTORY = (("7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`."),)


@command("expire", since="1.0.0", summary="Sets the expiration time of a key in seconds.",
         history=_EXPIRE_HISTORY, **_EXPIRE_ARGS,
         args="key:key seconds:integer [condition: NX | XX | GT | LT]@7.0.0")
def expire(c: Client, key: bytes, seconds: bytes, *opts: bytes) -> int:
    return _expire(c, "expire", key, seconds, opts, True, True)


@command("pexpire", since="2.6.0", summary="Sets the expiration time of a key in milliseconds.",
         history=_EXPIRE_HISTORY, **_EXPIRE_ARGS,
         args="key:key milliseconds:integer [condition: NX | XX | GT | LT]@7.0.0")
def pexpire(c: Client, key: bytes, ms: bytes, *opts: bytes) -> int:
    return _expire(c, "pexpire", key, ms, opts, True, False)


@command("expireat", since="1.2.0", summary="Sets the expiration time of a key to a Unix timestamp.",
         history=_EXPIRE_HISTORY, **_EXPIRE_ARGS,
         args="key:key unix-time-seconds:unix-time [condition: NX | XX | GT | LT]@7.0.0")
def expireat(c: Client, key: bytes, ts: bytes, *opts: bytes) -> int:
    return _expire(c, "expireat", key, ts, opts, False, True)


@command("pexpireat", since="2.6.0",
         summary="Sets the expiration time of a key to a Unix milliseconds timestamp.",
         history=_EXPIRE_HISTORY, **_EXPIRE_ARGS,
         args="key:key unix-time-milliseconds:unix-time [condition: NX | XX | GT | LT]@7.0.0")
def pexpireat(c: Client, key: bytes, ts: bytes, *opts: bytes) -> int:
    return _expire(c, "pexpireat", key, ts, opts, False, False)


def _ttl(c: Client, key: bytes, ms: bool, absolute: bool) -> int:
    db = c.db
    if not db.exists(key):
        return -2
    when = db.get_expire(key)
    if when == -1:
        return -1
    ttl = when if absolute else when - c.server.now_ms
    if ttl < 0:
        ttl = 0
    return ttl if ms else (ttl + 500) // 1000


_TTL_ARGS = dict(arity=2, flags="readonly fast", keys=1, key_flags="RO access", group="generic",
                 complexity="O(1)")


@command("ttl", since="1.0.0", summary="Returns the expiration time in seconds of a key.",
         tips="nondeterministic_output",
         history=(("2.8.0", "Added the -2 reply."),), **_TTL_ARGS,
         args="key:key")
def ttl(c: Client, key: bytes) -> int:
    return _ttl(c, key, False, False)


@command("pttl", since="2.6.0", summary="Returns the expiration time in milliseconds of a key.",
         tips="nondeterministic_output",
         history=(("2.8.0", "Added the -2 reply."),), **_TTL_ARGS,
         args="key:key")
def pttl(c: Client, key: bytes) -> int:
    return _ttl(c, key, True, False)


@command("expiretime", since="7.0.0", summary="Returns the expiration time of a key as a Unix timestamp.",
         **_TTL_ARGS,
         args="key:key")
def expiretime(c: Client, key: bytes) -> int:
    return _ttl(c, key, False, True)


@command("pexpiretime", since="7.0.0",
         summary="Returns the expiration time of a key as a Unix milliseconds timestamp.", **_TTL_ARGS,
         args="key:key")
def pexpiretime(c: Client, key: bytes) -> int:
    return _ttl(c, key, True, True)


@command("persist", arity=2, flags="write fast", keys=1, key_flags="RW update", group="generic",
         since="2.2.0", summary="Removes the expiration time of a key.", complexity="O(1)",
         args="key:key")
def persist(c: Client, key: bytes) -> int:
    db = c.db
    if db.lookup(key) is None or not db.persist(key):
        return 0
    db.signal_modified(key)
    c.server.notify("g", "persist", key, db.id)
    c.server.dirty += 1
    return 1


# ---------------------------------------------------------------------- OBJECT
def object_encoding(value: Any, config: Any = None) -> str:
    """The encoding name Valkey would report for ``value``."""
    cls = value.__class__
    if cls is bytes or cls is bytearray:
        if _string_encoding is not None:
            return _string_encoding(value)
        return _fallback_string_encoding(value)
    enc = getattr(value, "encoding", None)
    if callable(enc):
        enc = enc(config)
    return enc if isinstance(enc, str) else "unknown"


def _fallback_string_encoding(value: bytes | bytearray) -> str:
    if value.__class__ is bytes and 0 < len(value) <= 20:
        try:
            parse_int(value)
            return "int"
        except errors.CommandError:
            pass
    if value.__class__ is bytearray:
        return "raw"
    return "embstr" if len(value) <= 44 else "raw"


container("object", group="generic", since="2.2.3", summary="A container for object introspection commands.",
          complexity="Depends on subcommand.")

_OBJ_ARGS = dict(arity=3, flags="readonly", keys=2, key_flags="RO", group="generic", complexity="O(1)",
                 tips="nondeterministic_output", parent="object", args="key:key")
_OBJECT_HELP = (
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
)


def _lfu(c: Client) -> bool:
    return "lfu" in c.server.config["maxmemory-policy"]


@command("encoding", since="2.2.3", summary="Returns the internal encoding of an object.", **_OBJ_ARGS)
def object_encoding_cmd(c: Client, key: bytes) -> bytes | None:
    value = _peek(c.db, key)
    return None if value is None else object_encoding(value, c.server.config).encode()


@command("freq", since="4.0.0", summary="Returns the logarithmic access frequency counter of an object.",
         **_OBJ_ARGS)
def object_freq(c: Client, key: bytes) -> int | None:
    db = c.db
    value = _peek(db, key)
    if value is None:
        return None
    if not _lfu(c):
        raise errors.LFU_NOT_SELECTED
    return c.server.evictor.lfu_counter(db, key)       # LFUDecrAndReturn


@command("idletime", since="2.2.3", summary="Returns the time since the last access to an object.",
         **_OBJ_ARGS)
def object_idletime(c: Client, key: bytes) -> int | None:
    db = c.db
    value = _peek(db, key)
    if value is None:
        return None
    if _lfu(c):
        raise errors.LFU_SELECTED
    if not c.server.track_access:       # access times are kept only under an LRU policy
        return 0
    return c.server.evictor.idle_ms(db, key) // 1000


@command("refcount", since="2.2.3", summary="Returns the reference count of a value of a key.",
         **_OBJ_ARGS)
def object_refcount(c: Client, key: bytes) -> int | None:
    value = _peek(c.db, key)
    if value is None:
        return None
    if (value.__class__ is bytes and object_encoding(value) == "int"
            and 0 <= int(value) < _SHARED_INTEGERS
            and not (c.server.maxmemory and c.server.track_access)):     # canUseSharedObject
        return _SHARED_REFCOUNT
    return 1


@command("help", arity=2, flags="loading stale", group="generic", since="6.2.0", parent="object",
         summary="Returns helpful text about the different subcommands.", complexity="O(1)")
def object_help(c: Client) -> list[Simple]:
    return _help("object", _OBJECT_HELP)


# ---------------------------------------------------------------------- MEMORY USAGE
container("memory", group="server", since="4.0.0", summary="A container for memory diagnostics commands.",
          complexity="Depends on subcommand.")

_MEMORY_HELP = (
    "DOCTOR",
    "    Return memory problems reports.",
    "MALLOC-STATS",
    "    Return internal statistics report from the memory allocator.",
    "PURGE",
    "    Attempt to purge dirty pages for reclamation by the allocator.",
    "STATS",
    "    Return information about the memory usage of the server.",
    "USAGE <key> [SAMPLES <count>]",
    "    Return memory in bytes used by <key> and its value. Nested values are",
    "    sampled up to <count> times (default: 5, 0 means sample all).",
)
memory_usage = key_size          # the estimate lives with used_memory's (engine/memory.py)


@command("usage", arity=-3, flags="readonly", keys=2, key_flags="RO", group="server", since="4.0.0",
         parent="memory", summary="Estimates the memory usage of a key.",
         complexity="O(N) where N is the number of samples.",
         args="key:key [SAMPLES count:integer]")
def memory_usage_cmd(c: Client, key: bytes, *opts: bytes) -> int | None:
    samples = 5
    i, n = 0, len(opts)
    while i < n:
        if opts[i].lower() == b"samples" and i + 1 < n:
            samples = parse_int(opts[i + 1])
            if samples < 0:
                raise errors.SYNTAX
            if samples == 0:
                samples = _I64_MAX
            i += 2
        else:
            raise errors.SYNTAX
    db = c.db
    value = db.data.get(key)     # Valkey's dbFind: no expiry check, no access update
    if value is None:
        return None
    return memory_usage(key, value, samples)


@command("help", arity=2, flags="loading stale", group="server", since="4.0.0", parent="memory",
         summary="Returns helpful text about the different subcommands.", complexity="O(1)")
def memory_help(c: Client) -> list[Simple]:
    return _help("memory", _MEMORY_HELP)


@command("stats", arity=2, group="server", since="4.0.0", parent="memory",
         summary="Returns details about memory usage.", complexity="O(1)",
         tips="nondeterministic_output request_policy:all_shards response_policy:special")
def memory_stats(c: Client) -> dict[bytes, Any]:
    """Valkey's reply, from the same overhead breakdown INFO memory shows (engine/memory.py)."""
    m = c.server.memory.overhead()
    out: dict[bytes, Any] = {
        b"peak.allocated": m["peak"], b"total.allocated": m["used"], b"startup.allocated": m["startup"],
        b"replication.backlog": m["repl_backlog"], b"clients.slaves": m["clients_replicas"],
        b"clients.normal": m["clients_normal"], b"cluster.links": 0, b"aof.buffer": m["aof_buffer"],
        b"lua.caches": m["lua_caches"], b"functions.caches": m["functions_caches"],
    }
    for dbid, main, expires in m["dbs"]:
        out[b"db.%d" % dbid] = {b"overhead.hashtable.main": main, b"overhead.hashtable.expires": expires}
    out.update({
        b"overhead.db.hashtable.lut": sum(main + expires for _, main, expires in m["dbs"]),
        b"overhead.db.hashtable.rehashing": 0, b"overhead.total": m["overhead"], b"db.dict.rehashing.count": 0,
        b"keys.count": m["keys"], b"keys.bytes-per-key": m["bytes_per_key"], b"dataset.bytes": m["dataset"],
        b"dataset.percentage": float(m["dataset_perc"]), b"peak.percentage": float(m["peak_perc"]),
        b"allocator.allocated": m["allocated"], b"allocator.active": m["active"],
        b"allocator.resident": m["resident"], b"allocator.muzzy": 0,
        b"allocator-fragmentation.ratio": float(m["frag_ratio"]), b"allocator-fragmentation.bytes": m["frag_bytes"],
        b"allocator-rss.ratio": float(m["rss_ratio"]), b"allocator-rss.bytes": m["rss_bytes"],
        b"rss-overhead.ratio": 1.0, b"rss-overhead.bytes": 0,
        b"fragmentation": float(m["total_frag"]), b"fragmentation.bytes": m["total_frag_bytes"],
    })
    return out


_DOCTOR_EMPTY = ("Hi Sam, this instance is empty or is using very little memory, my issues detector can't be "
                 "used in these conditions. Please, leave for your mission on Earth and fill it with some data. "
                 "The new Sam and I will be back to our programming as soon as I finished rebooting.\n")
_DOCTOR_FINE = ("Hi Sam, I can't find any memory issue in your instance. "
                "I can only account for what occurs on this base.\n")
_DOCTOR_PEAK = (
    " * Peak memory: In the past this instance used more than 150% the memory that is currently using. The "
    "allocator is normally not able to release memory after a peak, so you can expect to see a big fragmentation "
    "ratio, however this is actually harmless and is only due to the memory peak, and if the Valkey instance "
    "Resident Set Size (RSS) is currently bigger than expected, the memory will be used as soon as you fill the "
    "Valkey instance with more data. If the memory peak was only occasional and you want to try to reclaim memory, "
    "please try the MEMORY PURGE command, otherwise the only other option is to shutdown and restart the "
    "instance.\n\n")
_DOCTOR_FRAG = (
    " * High total RSS: This instance has a memory fragmentation and RSS overhead greater than 1.4 (this means "
    "that the Resident Set Size of the Valkey process is much larger than the sum of the logical allocations "
    "Valkey performed). This problem is usually due either to a large peak memory (check if there is a peak "
    "memory entry above in the report) or may result from a workload that causes the allocator to fragment "
    "memory a lot. If the problem is a large peak memory, then there is no issue. Otherwise, make sure you are "
    "using the Jemalloc allocator and not the default libc malloc. Note: The currently used allocator is "
    "\"libc\".\n\n")
_DOCTOR_ALLOC_FRAG = (
    " * High allocator fragmentation: This instance has an allocator external fragmentation greater than 1.1. "
    "This problem is usually due either to a large peak memory (check if there is a peak memory entry above in "
    "the report) or may result from a workload that causes the allocator to fragment memory a lot. You can try "
    "enabling 'activedefrag' config option.\n\n")
_DOCTOR_ALLOC_RSS = (
    " * High allocator RSS overhead: This instance has an RSS memory overhead is greater than 1.1 (this means "
    "that the Resident Set Size of the allocator is much larger than the sum what the allocator actually holds). "
    "This problem is usually due to a large peak memory (check if there is a peak memory entry above in the "
    "report), you can try the MEMORY PURGE command to reclaim it.\n\n")
_DOCTOR_REPLICAS = (
    " * Big replica buffers: The replica output buffers in this instance are greater than 10MB for each replica "
    "(on average). This likely means that there is some replica instance that is struggling receiving data, "
    "either because it is too slow or because of networking issues. As a result, data piles on the primary "
    "output buffers. Please try to identify what replica is not receiving data correctly and why. You can use "
    "the INFO output in order to check the replicas delays and the CLIENT LIST command to check the output "
    "buffers of each replica.\n\n")
_DOCTOR_CLIENTS = (
    " * Big client buffers: The clients output buffers in this instance are greater than 200K per client (on "
    "average). This may result from different causes, like Pub/Sub clients subscribed to channels bot not "
    "receiving data fast enough, so that data piles on the Valkey instance output buffer, or clients sending "
    "commands with large replies or very large sequences of commands in the same pipeline. Please use the CLIENT "
    "LIST command in order to investigate the issue if it causes problems in your instance, or to understand "
    "better why certain clients are using a big amount of memory.\n\n")
_DOCTOR_SCRIPTS = (
    " * Many scripts: There seem to be many cached scripts in this instance (more than 1000). This may be because "
    "scripts are generated and `EVAL`ed, instead of being parameterized (with KEYS and ARGV), `SCRIPT LOAD`ed and "
    "`EVALSHA`ed. Unless `SCRIPT FLUSH` is called periodically, the scripts' caches may end up consuming most of "
    "your memory.\n\n")


@command("doctor", arity=2, group="server", since="4.0.0", parent="memory",
         summary="Outputs a memory problems report.", complexity="O(1)",
         tips="nondeterministic_output request_policy:all_shards response_policy:special")
def memory_doctor(c: Client) -> Verbatim:
    """Valkey's getMemoryDoctorReport over the same figures as MEMORY STATS."""
    from .. import scripting
    m = c.server.memory.overhead()
    if m["used"] < 5 * 1024 * 1024:
        return Verbatim(_DOCTOR_EMPTY)
    replicas = sum(1 for x in c.server.clients.values() if x.kind == "replica")
    normal = len(c.server.clients) - replicas
    found = []
    if m["peak"] / m["used"] > 1.5:
        found.append(_DOCTOR_PEAK)
    if m["total_frag"] > 1.4 and m["total_frag_bytes"] > 10 << 20:
        found.append(_DOCTOR_FRAG)
    if m["frag_ratio"] > 1.1 and m["frag_bytes"] > 10 << 20:
        found.append(_DOCTOR_ALLOC_FRAG)
    if m["rss_ratio"] > 1.1 and m["rss_bytes"] > 10 << 20:
        found.append(_DOCTOR_ALLOC_RSS)
    if normal and m["clients_normal"] / normal > 1024 * 200:
        found.append(_DOCTOR_CLIENTS)
    if replicas and m["clients_replicas"] > 1024 * 1024 * 10:
        found.append(_DOCTOR_REPLICAS)
    if len(scripting.get(c.server).scripts) > 1000:
        found.append(_DOCTOR_SCRIPTS)
    if not found:
        return Verbatim(_DOCTOR_FINE)
    return Verbatim("Sam, I detected a few issues in this Valkey instance memory implants:\n\n" + "".join(found)
                    + "I'm here to keep you safe, Sam. I want to help you.\n")


@command("malloc-stats", arity=2, group="server", since="4.0.0", parent="memory",
         summary="Returns the allocator statistics.",
         complexity="Depends on how much memory is allocated, could be slow",
         tips="nondeterministic_output request_policy:all_shards response_policy:special")
def memory_malloc_stats(c: Client) -> bytes:
    # Valkey's reply when it is not built with jemalloc, as here (Python's allocator)
    return b"Stats not supported for the current allocator"


@command("purge", arity=2, group="server", since="4.0.0", parent="memory",
         summary="Asks the allocator to release memory.",
         complexity="Depends on how much memory is allocated, could be slow",
         tips="request_policy:all_shards response_policy:all_succeeded")
def memory_purge(c: Client) -> Simple:
    """Valkey asks jemalloc to return dirty pages; the nearest thing here is a full garbage
    collection, which frees unreachable cycles and lets the allocator release empty arenas."""
    import gc
    gc.collect()
    return OK
