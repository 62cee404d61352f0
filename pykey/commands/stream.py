"""Stream commands and consumer groups (Valkey's t_stream.c behaviour).

Replication follows Valkey: XADD propagates the ID it generated and turns ``MAXLEN ~``/
``MINID ~`` into the exact ``=`` form it ended up applying; XREADGROUP, XCLAIM and
XAUTOCLAIM propagate their effects as idempotent ``XCLAIM ... FORCE JUSTID LASTID`` commands
(plus ``XGROUP SETID ... ENTRIESREAD`` for the group's position) instead of themselves.
Blocked XREAD/XREADGROUP clients re-run the command when a key they wait on is signalled,
as Valkey re-processes them; XREADGROUP also wakes when its key is deleted or changes type
(it then gets Valkey's NOGROUP or WRONGTYPE error).
"""
from __future__ import annotations

import weakref
from collections.abc import Iterable, Iterator
from typing import Any

from .. import errors
from ..datatypes.stream import (
    INVALID_ENTRIES_READ,
    LISTPACK_MAX_SIZE,
    MASK64,
    MAX_ID,
    NACK,
    Consumer,
    Group,
    StreamType,
    format_id,
    parse_id,
)
from ..engine.blocking import MISS, block, deny_blocking
from ..engine.client import Client
from ..engine.registry import KeySpec, command, container
from ..persistence import streams as _rdb_codec  # noqa: F401  (teaches RDB/DUMP/RESTORE about streams)
from ..protocol.encoder import encode
from ..protocol.replies import NULL_ARRAY, OK, Raw, Simple
from .cmdargs import parse_timeout_ms
from .server import help_reply
from .util import parse_int

_LONG_MAX = 2**63 - 1          # C long on 64-bit: XAUTOCLAIM's COUNT bound


def _get(c: Client, key: bytes) -> StreamType | None:
    return c.db.get_typed(key, StreamType)


def _strict_id(arg: bytes, missing_seq: int = 0) -> int:
    """streamParseStrictIDOrReply: ``-`` and ``+`` refused."""
    got = parse_id(arg, missing_seq, strict=True)
    if got is None:
        raise errors.INVALID_STREAM_ID
    return got[0]


def _loose_id(arg: bytes, missing_seq: int = 0) -> int:
    """streamParseIDOrReply: ``-`` and ``+`` mean the minimum and maximum IDs."""
    got = parse_id(arg, missing_seq)
    if got is None:
        raise errors.INVALID_STREAM_ID
    return got[0]


def _interval_start(arg: bytes) -> int:
    """A range start: inclusive, or exclusive with ``(`` (then the next ID)."""
    if len(arg) > 1 and arg[0] == 40:
        eid = _strict_id(arg[1:], 0)
        if eid == MAX_ID:
            raise errors.INVALID_START_INTERVAL
        return eid + 1
    return _loose_id(arg, 0)


def _interval_end(arg: bytes) -> int:
    """A range end: an ``<ms>`` alone covers every sequence; ``(`` excludes the ID."""
    if len(arg) > 1 and arg[0] == 40:
        eid = _strict_id(arg[1:], MASK64)
        if eid == 0:
            raise errors.INVALID_END_INTERVAL
        return eid - 1
    return _loose_id(arg, MASK64)


def _entry(eid: int, item: tuple[bytes, ...]) -> list:
    return [b"%d-%d" % (eid >> 64, eid & MASK64), list(item)]


def _entries(it: Iterable[tuple[int, tuple[bytes, ...]]]) -> Raw:
    """Entries as the reply array ``[[id, [field, value, ...]], ...]``, encoded here: the
    same bytes in RESP2 and RESP3, and much cheaper than nested lists through the encoder
    (the bulk of an XRANGE/XREAD's cost)."""
    out = [b""]
    n = 0
    for eid, item in it:
        sid = b"%d-%d" % (eid >> 64, eid & MASK64)
        out.append(b"*2\r\n$%d\r\n%s\r\n*%d\r\n" % (len(sid), sid, len(item)))
        out += [b"$%d\r\n%s\r\n" % (len(v), v) for v in item]
        n += 1
    out[0] = b"*%d\r\n" % n
    return Raw(b"".join(out))


def _obeys(c: Client) -> bool:
    """Valkey's mustObeyClient: the primary link or the AOF loader."""
    return c.kind in ("master", "aof") or c.server.loading


def _propagating(c: Client) -> bool:
    return bool(c.server.propagate_sinks)


def _emit(c: Client, argv: list[bytes]) -> None:
    c.server.propagate(c.db.id, argv)


# ---------------------------------------------------------------------- XADD / XTRIM
class _TrimArgs:
    __slots__ = ("id", "id_given", "seq_given", "nomkstream", "strategy", "arg_idx", "approx",
                 "limit", "maxlen", "minid", "idpos")

    def __init__(self) -> None:
        self.id = 0
        self.id_given = False
        self.seq_given = True
        self.nomkstream = False
        self.strategy = 0            # 0 none, 1 MAXLEN, 2 MINID
        self.arg_idx = 0             # argv index of the count/ID (for the propagated rewrite)
        self.approx = False
        self.limit = 0
        self.maxlen = 0
        self.minid = 0
        self.idpos = 0


def _parse_add_trim(c: Client, argv: tuple[bytes, ...], xadd: bool) -> _TrimArgs:
    """streamParseAddOrTrimArgsOrReply; ``argv`` is the full command (argv[0] the name)."""
    a = _TrimArgs()
    argc = len(argv)
    limit_given = False
    i = 2
    while i < argc:
        more = argc - 1 - i
        opt = argv[i]
        low = opt.lower()
        if xadd and opt == b"*":
            break
        if (low == b"maxlen" or low == b"minid") and more:
            if a.strategy:
                raise errors.TRIM_BOTH_STRATEGIES
            a.approx = False
            nxt = argv[i + 1]
            if more >= 2 and nxt == b"~":
                a.approx = True
                i += 1
            elif more >= 2 and nxt == b"=":
                i += 1
            if low == b"maxlen":
                a.maxlen = parse_int(argv[i + 1])
                if a.maxlen < 0:
                    raise errors.TRIM_MAXLEN_NEGATIVE
                a.strategy = 1
            else:
                a.minid = _strict_id(argv[i + 1])
                a.strategy = 2
            i += 1
            a.arg_idx = i
        elif low == b"limit" and more:
            a.limit = parse_int(argv[i + 1])
            if a.limit < 0:
                raise errors.TRIM_LIMIT_NEGATIVE
            limit_given = True
            i += 1
        elif xadd and low == b"nomkstream":
            a.nomkstream = True
        elif xadd:
            got = parse_id(opt, 0, strict=True, allow_auto_seq=True)
            if got is None:
                raise errors.INVALID_STREAM_ID
            a.id, a.seq_given = got
            a.id_given = True
            break
        else:
            raise errors.SYNTAX
        i += 1
    a.idpos = i
    if a.limit and not a.strategy:
        raise errors.TRIM_LIMIT_NO_STRATEGY
    if not xadd and not a.strategy:
        raise errors.XTRIM_NO_STRATEGY
    if _obeys(c):
        a.limit = 0
    elif limit_given:
        if not a.approx:
            raise errors.TRIM_LIMIT_NO_APPROX
    elif a.approx:
        limit = 100 * c.server.config["stream-node-max-entries"]
        if limit <= 0:
            limit = 10000
        a.limit = min(limit, 1_000_000)
    else:
        a.limit = 0
    return a


def _trim(s: StreamType, a: _TrimArgs) -> int:
    if a.strategy == 1:
        return s.trim(maxlen=a.maxlen, approx=a.approx, limit=a.limit)
    return s.trim(minid=a.minid, approx=a.approx, limit=a.limit)


def _rewrite_trim(s: StreamType, a: _TrimArgs, out: list[bytes]) -> None:
    """Propagate ``~`` as ``=`` with what the trim left (streamRewriteTrimArgument)."""
    out[a.arg_idx - 1] = b"="
    if a.strategy == 1:
        out[a.arg_idx] = b"%d" % s.length
    else:
        out[a.arg_idx] = format_id(s.first_id_with_tombstones())


@command("xadd", arity=-5, flags="write denyoom fast", group="stream", since="5.0.0",
         key_specs=(KeySpec(("RW", "update"), ("index", 1), ("range", 0, 1, 0),
                            "UPDATE instead of INSERT because of the optional trimming feature"),),
         keys=1, tips="nondeterministic_output",
         summary="Appends an entry to a stream (creating it unless NOMKSTREAM), trimming it if asked.",
         complexity="O(1) when adding a new entry, O(N) when trimming where N being the number of entries "
                    "evicted.",
         history=(("6.2.0", "Added the `NOMKSTREAM` option, `MINID` trimming strategy and the `LIMIT` option."),
                  ("7.0.0", "Added support for the `<ms>-*` explicit ID form.")),
         args="key:key [NOMKSTREAM]@6.2.0 "
              "[trim: (strategy: MAXLEN | MINID@6.2.0) [operator: equal='=' | "
              "approximately='~'] threshold [LIMIT count:integer]@6.2.0] (id-selector: auto-id='*' | id) "
              "(data: field value)...")
def xadd(c: Client, key: bytes, *args: bytes):
    if args[0] == b"*":
        # the common form, XADD key * field value...: no options to parse
        if len(args) < 3 or not len(args) & 1:
            raise errors.wrong_arity("xadd")
        return _xadd(c, key, args, None, 2, args[1:])
    argv = (b"XADD", key, *args)
    a = _parse_add_trim(c, argv, True)
    idpos = a.idpos
    nargs = len(argv) - idpos - 1
    if nargs < 2 or nargs % 2:
        raise errors.wrong_arity("xadd")
    if a.id_given and a.seq_given and a.id == 0:
        raise errors.XADD_ID_ZERO
    return _xadd(c, key, args, a, idpos, argv[idpos + 1:])


def _xadd(c: Client, key: bytes, args: tuple[bytes, ...], a: _TrimArgs | None, idpos: int,
          fv: tuple[bytes, ...]) -> Any:
    """xaddCommand after parsing: ``a`` is None for the plain ``*`` form."""
    db = c.db
    s = db.get_typed(key, StreamType)
    server = c.server
    if s is None:
        if a is not None and a.nomkstream:
            return None
        s = StreamType()
        db.add(key, s)
    last = s.last_id
    if last == MAX_ID:
        raise errors.STREAM_EXHAUSTED
    if a is not None and a.id_given:
        eid = a.id
        if not a.seq_given and last >> 64 == eid >> 64:
            if last & MASK64 == MASK64:
                raise errors.XADD_ID_TOO_SMALL
            eid = last + 1
    else:
        now = server.now_ms
        eid = now << 64 if now > last >> 64 else last + 1
    if eid <= last:
        raise errors.XADD_ID_TOO_SMALL
    if len(fv) > 2 and sum(map(len, fv)) > LISTPACK_MAX_SIZE:
        raise errors.STREAM_ELEMENTS_TOO_LARGE
    cfg = server.config.values
    s.append(eid, fv, cfg["stream-node-max-bytes"], cfg["stream-node-max-entries"])
    reply = b"%d-%d" % (eid >> 64, eid & MASK64)
    server.notify("t", "xadd", key, db.id)
    server.dirty += 1
    out = None
    if a is not None and a.strategy:
        if _trim(s, a):
            server.notify("t", "xtrim", key, db.id)
        if a.approx:
            out = [b"XADD", key, *args]
            _rewrite_trim(s, a, out)
    db.signal_modified(key)
    if server.propagate_sinks and (a is None or not a.id_given or not a.seq_given):
        if out is None:
            out = [b"XADD", key, *args]
        out[idpos] = reply
    if out is not None:
        c.propagate_argv = out
    db.signal_ready(key)
    return reply


@command("xtrim", arity=-4, flags="write", keys=1, key_flags="RW delete", group="stream", since="5.0.0",
         tips="nondeterministic_output", summary="Deletes entries from the head of a stream, by length or ID.",
         complexity="O(N), with N being the number of evicted entries. Constant times are very small however, "
                    "since entries are organized in macro nodes containing multiple entries that can be released "
                    "with a single deallocation.",
         history=(("6.2.0", "Added the `MINID` trimming strategy and the `LIMIT` option."),),
         args="key:key "
              "(trim: (strategy: MAXLEN | MINID@6.2.0) [operator: equal='=' | "
              "approximately='~'] threshold [LIMIT count:integer]@6.2.0)")
def xtrim(c: Client, key: bytes, *args: bytes) -> int:
    argv = (b"XTRIM", key, *args)
    a = _parse_add_trim(c, argv, False)
    db = c.db
    s = db.get_typed(key, StreamType)
    if s is None:
        return 0
    deleted = _trim(s, a)
    if deleted:
        c.server.notify("t", "xtrim", key, db.id)
        if a.approx:
            out = list(argv)
            _rewrite_trim(s, a, out)
            c.propagate_argv = out
        db.signal_modified(key)
        c.server.dirty += deleted
    return deleted


# ---------------------------------------------------------------------- XRANGE / XREVRANGE / XLEN / XDEL
def _xrange(c: Client, key: bytes, startarg: bytes, endarg: bytes, opts: tuple[bytes, ...], rev: bool):
    start = _interval_start(startarg)
    end = _interval_end(endarg)
    count = -1
    i, n = 0, len(opts)
    while i < n:
        if opts[i].lower() == b"count" and i + 1 < n:
            count = parse_int(opts[i + 1])
            if count < 0:
                count = 0
            i += 2
        else:
            raise errors.SYNTAX
    s = _get(c, key)
    if s is None:
        return []
    if count == 0:
        return NULL_ARRAY
    return _entries(s.range(start, end, count if count > 0 else 0, rev))


_RANGE_DOC = ("O(N) with N being the number of elements being returned. If N is constant (e.g. always asking "
              "for the first 10 elements with COUNT), you can consider it O(1).")


@command("xrange", arity=-4, flags="readonly", keys=1, key_flags="RO access", group="stream", since="5.0.0",
         summary="Returns the entries of a stream between two IDs (inclusive, or exclusive with '(').",
         complexity=_RANGE_DOC, history=(("6.2.0", "Added exclusive ranges."),),
         args="key:key start end [COUNT count:integer]")
def xrange(c: Client, key: bytes, start: bytes, end: bytes, *opts: bytes):
    return _xrange(c, key, start, end, opts, False)


@command("xrevrange", arity=-4, flags="readonly", keys=1, key_flags="RO access", group="stream", since="5.0.0",
         summary="Returns the entries of a stream between two IDs, newest first.",
         complexity="O(N) with N being the number of elements returned. If N is constant (e.g. always asking for "
                    "the first 10 elements with COUNT), you can consider it O(1).",
         history=(("6.2.0", "Added exclusive ranges."),),
         args="key:key end start [COUNT count:integer]")
def xrevrange(c: Client, key: bytes, end: bytes, start: bytes, *opts: bytes):
    return _xrange(c, key, start, end, opts, True)


@command("xlen", arity=2, flags="readonly fast", keys=1, key_flags="RO", group="stream", since="5.0.0",
         summary="Counts the entries of a stream.", complexity="O(1)",
         args="key:key")
def xlen(c: Client, key: bytes) -> int:
    s = _get(c, key)
    return 0 if s is None else s.length


@command("xdel", arity=-3, flags="write fast", keys=1, key_flags="RW delete", group="stream", since="5.0.0",
         summary="Deletes entries from a stream by ID; replies with how many existed.",
         complexity="O(1) for each single item to delete in the stream, regardless of the stream size.",
         args="key:key id...")
def xdel(c: Client, key: bytes, *ids: bytes) -> int:
    db = c.db
    s = db.get_typed(key, StreamType)
    if s is None:
        return 0
    parsed = [_strict_id(x) for x in ids]
    deleted = 0
    first = False
    for eid in parsed:
        if s.delete(eid):
            if eid == s.first_id:
                first = True
            if eid > s.max_deleted_id:
                s.max_deleted_id = eid
            deleted += 1
    if deleted:
        s.after_delete(first)
        db.signal_modified(key)
        c.server.notify("t", "xdel", key, db.id)
        c.server.dirty += deleted
    return deleted


# ---------------------------------------------------------------------- XREAD / XREADGROUP
_GT = MAX_ID                 # the ">" ID, as Valkey marks it


class _ReadArgs:
    __slots__ = ("timeout", "count", "keys", "ids", "group", "consumer", "noack", "streams_arg")


def _parse_read(c: Client, args: tuple[bytes, ...], group_cmd: bool) -> _ReadArgs:
    """The options of XREAD/XREADGROUP up to STREAMS (``args`` excludes the command name)."""
    r = _ReadArgs()
    r.timeout = -1
    r.count = 0
    r.group = r.consumer = None
    r.noack = False
    streams_arg = -1
    argc = len(args) + 1
    i = 1
    while i < argc:
        more = argc - i - 1
        opt = args[i - 1].lower()
        if opt == b"block" and more:
            i += 1
            r.timeout = parse_timeout_ms(args[i - 1], c.server.now_ms)
        elif opt == b"count" and more:
            i += 1
            r.count = max(parse_int(args[i - 1]), 0)
        elif opt == b"streams" and more:
            streams_arg = i + 1
            n = argc - streams_arg
            if n % 2:
                name = "xreadgroup" if group_cmd else "xread"
                raise errors.unbalanced_streams(name, ">" if group_cmd else "$")
            break
        elif opt == b"group" and more >= 2:
            if not group_cmd:
                raise errors.XREAD_GROUP_OPTION
            r.group = args[i]
            r.consumer = args[i + 1]
            i += 2
        elif opt == b"noack":
            if not group_cmd:
                raise errors.XREAD_NOACK_OPTION
            r.noack = True
        else:
            raise errors.SYNTAX
        i += 1
    if streams_arg < 0:
        raise errors.SYNTAX
    if group_cmd and r.group is None:
        raise errors.XREADGROUP_NO_GROUP
    rest = args[streams_arg - 1:]
    half = len(rest) // 2
    r.keys = rest[:half]
    r.ids = list(rest[half:])
    r.streams_arg = streams_arg
    return r


def _xread_run(c: Client, r: _ReadArgs, group_cmd: bool) -> Any:
    """One attempt of XREAD/XREADGROUP (xreadCommand): the reply, or MISS to block."""
    db = c.db
    server = c.server
    now = server.now_ms
    keys = r.keys
    n = len(keys)
    ids: list[int] = [0] * n
    groups: list[Group | None] = [None] * n
    streams: list[StreamType | None] = [None] * n
    for idx in range(n):
        key = keys[idx]
        s = streams[idx] = db.get_typed(key, StreamType)
        arg = r.ids[idx]
        if group_cmd:
            g = s.group(r.group) if s is not None else None
            if g is None:
                raise errors.nogroup_xreadgroup(key, r.group)
            groups[idx] = g
        if arg == b"$":
            if group_cmd:
                raise errors.XREADGROUP_DOLLAR
            ids[idx] = s.last_id if s is not None else 0
        elif arg == b"+":
            if group_cmd:
                raise errors.XREADGROUP_PLUS
            if s is not None:
                if s.last_id == 0:
                    raise errors.XREAD_LAST_ID_ZERO
                ids[idx] = s.last_id - 1
        elif arg == b">":
            if not group_cmd:
                raise errors.XREAD_GT_ID
            ids[idx] = _GT
        else:
            ids[idx] = _strict_id(arg)
    out: list[tuple[bytes, list]] = []
    prop = _propagating(c)
    for idx in range(n):
        s = streams[idx]
        if s is None:
            continue
        key = keys[idx]
        gt = ids[idx]
        serve = history = False
        consumer = None
        g = groups[idx]
        if g is not None:
            if gt != _GT:
                serve = history = True
            elif s.length:
                if s.last_valid_id() > g.last_id:
                    serve = True
                    gt = g.last_id
            consumer = g.consumers.get(r.consumer)
            if consumer is None:
                consumer = _new_consumer(c, g, r.consumer, key)
                if r.noack and prop:
                    _emit(c, [b"XGROUP", b"CREATECONSUMER", key, r.group, r.consumer])
            consumer.seen_time = now
        elif s.length:
            if s.last_valid_id() > gt:
                serve = True
        if not serve:
            continue
        start = gt + 1 if gt != MAX_ID else 0
        if g is None:
            out.append((key, _entries(s.after(start, r.count))))
        elif history:
            out.append((key, _history(s, consumer, start, r.count, now)))
            server.dirty += 1
        else:
            out.append((key, _deliver(c, s, g, consumer, key, r.group, start, r.count, r.noack, now)))
            server.dirty += 1
    if out:
        if c.resp == 3:
            as_map = dict(out)
            if len(as_map) == len(out):
                return as_map
            # the same key named twice: a RESP3 map with a repeated key, as Valkey sends it
            body = [b"%%%d\r\n" % len(out)]
            for key, entries in out:
                body.append(encode(key, True))
                body.append(encode(entries, True))
            return Raw(b"".join(body))
        return [[key, entries] for key, entries in out]
    if r.timeout == -1:
        return NULL_ARRAY
    return MISS


def _new_consumer(c: Client, g: Group, name: bytes, key: bytes) -> Consumer:
    """streamCreateConsumer with notification and dirty (SCC_DEFAULT)."""
    consumer = g.create_consumer(name, c.server.now_ms)
    assert consumer is not None
    c.server.dirty += 1
    c.server.notify("t", "xgroup-createconsumer", key, c.db.id)
    return consumer


def _xclaim_argv(key: bytes, groupname: bytes, g: Group, eid_arg: bytes, nack: NACK) -> list[bytes]:
    """streamPropagateXCLAIM: the idempotent form a replica/AOF replays."""
    return [b"XCLAIM", key, groupname, nack.consumer.name, b"0", eid_arg, b"TIME",
            b"%d" % nack.delivery_time, b"RETRYCOUNT", b"%d" % nack.delivery_count, b"FORCE", b"JUSTID",
            b"LASTID", format_id(g.last_id)]


def _setid_argv(key: bytes, groupname: bytes, g: Group) -> list[bytes]:
    """streamPropagateGroupID."""
    return [b"XGROUP", b"SETID", key, groupname, format_id(g.last_id), b"ENTRIESREAD",
            b"%d" % g.entries_read]


def _deliver(c: Client, s: StreamType, g: Group, consumer: Consumer, key: bytes, groupname: bytes,
             start: int, count: int, noack: bool, now: int) -> Raw:
    """streamReplyWithRange with a group: new entries go to ``consumer`` (and its PEL)."""
    moved = False
    prop = _propagating(c)
    pel = g.pel
    cpel = consumer.pel
    entries = s.after(start, count)
    for eid, _ in entries:
        if eid > g.last_id:
            s.advance_group(g, eid)
            moved = True
        if noack:
            continue
        nack = pel.get(eid)
        if nack is None:
            nack = NACK(now, consumer)
            pel[eid] = nack
            cpel[eid] = nack
        else:
            # delivered again after XGROUP SETID moved the group back: the new reader owns it
            del nack.consumer.pel[eid]
            nack.consumer = consumer
            nack.delivery_time = now
            nack.delivery_count = 1
            cpel[eid] = nack
        consumer.active_time = now
        if prop:
            _emit(c, _xclaim_argv(key, groupname, g, b"%d-%d" % (eid >> 64, eid & MASK64), nack))
    if prop and moved:
        _emit(c, _setid_argv(key, groupname, g))
    return _entries(entries)


def _history(s: StreamType, consumer: Consumer, start: int, count: int, now: int) -> list:
    """streamReplyWithRangeFromConsumerPEL: the consumer's own pending entries from ``start``."""
    out = []
    pel = consumer.pel
    for eid in pel.irange(minimum=start):
        if count and len(out) >= count:
            break
        item = s.get(eid)
        eid_b = b"%d-%d" % (eid >> 64, eid & MASK64)
        if item is None:
            out.append([eid_b, NULL_ARRAY])
        else:
            nack = pel[eid]
            nack.delivery_time = now
            nack.delivery_count += 1
            out.append([eid_b, list(item)])
    return out


# Valkey wakes a blocked XREADGROUP when its key is deleted or overwritten by another type
# (signalDeletedKeyAsReady). Writes here only call signal_modified, so while such clients
# are parked we watch key modifications and mark their keys ready ourselves.
_nokey_waiters: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _watch_deleted(db: Any, key: bytes) -> None:
    server = db.server
    waiting = _nokey_waiters.get(server)
    if not waiting or not server.blocked_clients:
        _unwatch(server)
        return
    ident = (db.id, key)
    if ident not in waiting:
        return
    waiters = server.blocking_keys.get(ident)
    if not waiters or not any(b.unblock_on_nokey for b in waiters):
        waiting.discard(ident)
        return
    if db.data.get(key).__class__ is not StreamType:
        server.ready_keys.append((db, key))


def _unwatch(server: Any) -> None:
    if _watch_deleted in server.key_watchers:
        server.key_watchers.remove(_watch_deleted)
    _nokey_waiters.pop(server, None)


def _track_nokey(c: Client, keys: tuple[bytes, ...]) -> None:
    server = c.server
    waiting = _nokey_waiters.get(server)
    if waiting is None:
        waiting = _nokey_waiters[server] = set()
    waiting.update((c.db.id, k) for k in keys)
    if _watch_deleted not in server.key_watchers:
        server.key_watchers.append(_watch_deleted)


def _xread_common(c: Client, args: tuple[bytes, ...], group_cmd: bool):
    r = _parse_read(c, args, group_cmd)
    got = _xread_run(c, r, group_cmd)
    c.propagate_argv = []            # effects were propagated one by one (or nothing happens)
    if got is not MISS:
        return got
    if deny_blocking(c):
        return NULL_ARRAY
    # '$' means the last ID at the time of blocking: pin it, as Valkey rewrites the argument
    for idx, arg in enumerate(r.ids):
        if arg == b"$":
            s = _get(c, r.keys[idx])
            r.ids[idx] = format_id(s.last_id) if s is not None else b"0-0"
    keys = r.keys
    if group_cmd:
        _track_nokey(c, keys)
    # the engine re-runs the command when a key it waits on holds a stream again (and, for
    # XREADGROUP, also when the key went away: the group went with it)
    return block(c, list(keys), r.timeout / 1000, lambda: _xread_run(c, r, group_cmd), NULL_ARRAY,
                 kind="stream", unblock_on_nokey=group_cmd)


def _xread_keys(argv: list[bytes]) -> list[int]:
    """xreadGetKeys: the first half of the arguments after STREAMS."""
    argc = len(argv)
    streams = -1
    i = 1
    while i < argc:
        a = argv[i].lower()
        if a in (b"block", b"count"):
            i += 1
        elif a == b"group":
            i += 2
        elif a == b"noack":
            pass
        elif a == b"streams":
            streams = i
            break
        else:
            break
        i += 1
    if streams < 0:
        return []
    num = argc - streams - 1
    if num == 0 or num % 2:
        return []
    return list(range(streams + 1, streams + 1 + num // 2))


@command("xread", arity=-4, flags="readonly blocking", group="stream", since="5.0.0",
         key_specs=(KeySpec(("RO", "access"), ("keyword", "STREAMS", 1), ("range", -1, 1, 2)),),
         getkeys=_xread_keys,
         summary="Returns entries newer than given IDs from one or more streams, optionally waiting for them.",
         args="[COUNT count:integer] [BLOCK milliseconds:integer] STREAMS (key:key... id...)")
def xread(c: Client, *args: bytes):
    return _xread_common(c, args, False)


@command("xreadgroup", arity=-7, flags="write blocking", group="stream", since="5.0.0",
         key_specs=(KeySpec(("RO", "access"), ("keyword", "STREAMS", 4), ("range", -1, 1, 2)),),
         getkeys=_xread_keys,
         summary="Delivers stream entries to a consumer of a group (new ones with '>', or its pending history), "
                 "optionally waiting.",
         complexity="For each stream mentioned: O(M) with M being the number of elements returned. If M is "
                    "constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1). "
                    "On the other side when XREADGROUP blocks, XADD will pay the O(N) time in order to serve the N "
                    "clients blocked on the stream getting new data.",
         args="GROUP (group-block: group consumer) [COUNT count:integer] [BLOCK milliseconds:integer] [NOACK] "
              "STREAMS (key:key... id...)")
def xreadgroup(c: Client, *args: bytes):
    return _xread_common(c, args, True)


# ---------------------------------------------------------------------- XGROUP
container("xgroup", group="stream", since="5.0.0", summary="A container for consumer groups commands.",
          complexity="Depends on subcommand.")

_XGROUP_HELP = (
    "CREATE <key> <groupname> <id|$> [option]",
    "    Create a new consumer group. Options are:",
    "    * MKSTREAM",
    "      Create the empty stream if it does not exist.",
    "    * ENTRIESREAD entries_read",
    "      Set the group's entries_read counter (internal use).",
    "CREATECONSUMER <key> <groupname> <consumer>",
    "    Create a new consumer in the specified group.",
    "DELCONSUMER <key> <groupname> <consumer>",
    "    Remove the specified consumer.",
    "DESTROY <key> <groupname>",
    "    Remove the specified group.",
    "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
    "    Set the current group ID and entries_read counter.",
)


def _xgroup_prelude(c: Client, sub: bytes, key: bytes, group: bytes, opts: tuple[bytes, ...],
                    create: bool = False, setid: bool = False, need_group: bool = False
                    ) -> tuple[StreamType | None, Group | None, bool, int]:
    """The checks xgroupCommand makes before dispatching, in Valkey's order."""
    mkstream = False
    entries_read = INVALID_ENTRIES_READ
    i = 0
    while i < len(opts):
        o = opts[i].lower()
        if create and o == b"mkstream":
            mkstream = True
            i += 1
        elif (create or setid) and o == b"entriesread" and i + 1 < len(opts):
            entries_read = parse_int(opts[i + 1])
            if entries_read < 0 and entries_read != INVALID_ENTRIES_READ:
                raise errors.ENTRIESREAD_RANGE
            i += 2
        else:
            raise errors.subcommand_syntax(b"XGROUP", sub)
    s = _get(c, key)
    g = None
    if not mkstream:
        if s is None:
            raise errors.XGROUP_NEEDS_KEY
        g = s.group(group)
        if g is None and need_group:
            raise errors.nogroup_for_key(group, key)
    elif s is not None:
        g = s.group(group)
    return s, g, mkstream, entries_read


@command("create", arity=-5, flags="write denyoom", keys=2, key_flags="RW insert", group="stream",
         since="5.0.0", parent="xgroup", complexity="O(1)",
         summary="Creates a consumer group (and, with MKSTREAM, the stream).",
         history=(("7.0.0", "Added the `entries_read` named argument."),),
         args="key:key group (id-selector: id | new-id='$') [MKSTREAM] "
              "[ENTRIESREAD entriesread:integer<entries-read>]")
def xgroup_create(c: Client, key: bytes, group: bytes, idarg: bytes, *opts: bytes):
    s, _, mkstream, entries_read = _xgroup_prelude(c, b"CREATE", key, group, opts, create=True)
    if len(opts) > 3:
        raise errors.subcommand_syntax(b"XGROUP", b"CREATE")
    if idarg == b"$":
        eid = s.last_id if s is not None else 0
    else:
        eid = _strict_id(idarg)
    db = c.db
    if s is None:
        s = StreamType()
        db.add(key, s)
    if s.create_group(group, eid, entries_read) is None:
        raise errors.BUSYGROUP
    c.server.dirty += 1
    c.server.notify("t", "xgroup-create", key, db.id)
    return OK


@command("setid", arity=-5, flags="write", keys=2, key_flags="RW update", group="stream", since="5.0.0",
         parent="xgroup", complexity="O(1)", summary="Sets the last-delivered ID (and read counter) of a consumer group.",
         history=(("7.0.0", "Added the optional `entries_read` argument."),),
         args="key:key group (id-selector: id | new-id='$') [ENTRIESREAD entriesread:integer<entries-read>]")
def xgroup_setid(c: Client, key: bytes, group: bytes, idarg: bytes, *opts: bytes):
    s, g, _, entries_read = _xgroup_prelude(c, b"SETID", key, group, opts, setid=True, need_group=True)
    if len(opts) not in (0, 2):
        raise errors.subcommand_syntax(b"XGROUP", b"SETID")
    eid = s.last_id if idarg == b"$" else _loose_id(idarg)
    g.last_id = eid
    g.entries_read = entries_read
    c.server.dirty += 1
    c.server.notify("t", "xgroup-setid", key, c.db.id)
    return OK


@command("destroy", arity=4, flags="write", keys=2, key_flags="RW delete", group="stream", since="5.0.0",
         parent="xgroup", summary="Deletes a consumer group, its consumers and pending list.",
         complexity="O(N) where N is the number of entries in the group's pending entries list (PEL).",
         args="key:key group")
def xgroup_destroy(c: Client, key: bytes, group: bytes) -> int:
    s, g, _, _ = _xgroup_prelude(c, b"DESTROY", key, group, ())
    if g is None:
        return 0
    del s.groups[group]
    db = c.db
    c.server.dirty += 1
    c.server.notify("t", "xgroup-destroy", key, db.id)
    db.signal_ready(key)             # blocked XREADGROUP readers get -NOGROUP
    return 1


@command("createconsumer", arity=5, flags="write denyoom", keys=2, key_flags="RW insert", group="stream",
         since="6.2.0", parent="xgroup", complexity="O(1)", summary="Creates a consumer in a consumer group.",
         args="key:key group consumer")
def xgroup_createconsumer(c: Client, key: bytes, group: bytes, name: bytes) -> int:
    _, g, _, _ = _xgroup_prelude(c, b"CREATECONSUMER", key, group, (), need_group=True)
    if name in g.consumers:
        return 0
    _new_consumer(c, g, name, key)
    return 1


@command("delconsumer", arity=5, flags="write", keys=2, key_flags="RW delete", group="stream", since="5.0.0",
         parent="xgroup", complexity="O(1)",
         summary="Deletes a consumer from a group; replies with how many entries it had pending.",
         args="key:key group consumer")
def xgroup_delconsumer(c: Client, key: bytes, group: bytes, name: bytes) -> int:
    _, g, _, _ = _xgroup_prelude(c, b"DELCONSUMER", key, group, (), need_group=True)
    consumer = g.consumers.get(name)
    if consumer is None:
        return 0
    pending = g.delete_consumer(consumer)
    c.server.dirty += 1
    c.server.notify("t", "xgroup-delconsumer", key, c.db.id)
    return pending


@command("help", arity=2, flags="loading stale", group="stream", since="5.0.0", parent="xgroup",
         complexity="O(1)", summary="Returns helpful text about the different subcommands.")
def xgroup_help(c: Client) -> list[Simple]:
    return help_reply("XGROUP", list(_XGROUP_HELP))


# ---------------------------------------------------------------------- XSETID
@command("xsetid", arity=-3, flags="write denyoom fast", keys=1, key_flags="RW update", group="stream",
         since="5.0.0", complexity="O(1)",
         summary="Sets a stream's last ID (and its added-entries counter and largest deleted ID).",
         history=(("7.0.0", "Added the `entries_added` and `max_deleted_entry_id` arguments."),),
         args="key:key last-id [ENTRIESADDED entries-added:integer]@7.0.0 [MAXDELETEDID max-deleted-id]@7.0.0")
def xsetid(c: Client, key: bytes, idarg: bytes, *opts: bytes):
    eid = _strict_id(idarg)
    max_xdel = 0
    entries_added = -1
    i, n = 0, len(opts)
    while i < n:
        o = opts[i].lower()
        if o == b"entriesadded" and i + 1 < n:
            entries_added = parse_int(opts[i + 1])
            if entries_added < 0:
                raise errors.ENTRIES_ADDED_NEGATIVE
            i += 2
        elif o == b"maxdeletedid" and i + 1 < n:
            max_xdel = _strict_id(opts[i + 1])
            if eid < max_xdel:
                raise errors.XSETID_BELOW_GIVEN_MAXDELETED
            i += 2
        else:
            raise errors.SYNTAX
    s = _get(c, key)
    if s is None:
        raise errors.NO_SUCH_KEY
    if eid < s.max_deleted_id:
        raise errors.XSETID_BELOW_MAXDELETED
    if s.length > 0:
        if eid < s.last_valid_id():
            raise errors.XSETID_BELOW_TOP
        if entries_added != -1 and s.length > entries_added:
            raise errors.XSETID_ADDED_BELOW_LENGTH
    s.last_id = eid
    if entries_added != -1:
        s.entries_added = entries_added
    if max_xdel:
        s.max_deleted_id = max_xdel
    c.server.dirty += 1
    c.server.notify("t", "xsetid", key, c.db.id)
    return OK


# ---------------------------------------------------------------------- XACK / XPENDING
@command("xack", arity=-4, flags="write fast", keys=1, key_flags="RW update", group="stream", since="5.0.0",
         complexity="O(1) for each message ID processed.",
         summary="Acknowledges entries of a consumer group, removing them from its pending list.",
         args="key:key group id...")
def xack(c: Client, key: bytes, group: bytes, *ids: bytes) -> int:
    s = _get(c, key)
    g = s.group(group) if s is not None else None
    if g is None:
        return 0
    parsed = [_strict_id(x) for x in ids]
    acked = 0
    for eid in parsed:
        if g.ack(eid):
            acked += 1
    c.server.dirty += acked
    return acked


@command("xpending", arity=-3, flags="readonly", keys=1, key_flags="RO access", group="stream", since="5.0.0",
         tips="nondeterministic_output",
         summary="Reports the pending entries of a consumer group: a summary, or the entries in an ID range.",
         complexity="O(N) with N being the number of elements returned, so asking for a small fixed number of "
                    "entries per call is O(1). O(M), where M is the total number of entries scanned when used "
                    "with the IDLE filter. When the command returns just the summary and the list of consumers "
                    "is small, it runs in O(1) time; otherwise, an additional O(N) time for iterating every "
                    "consumer.",
         history=(("6.2.0", "Added the `IDLE` option and exclusive range intervals."),),
         args="key:key group [filters: [IDLE min-idle-time:integer]@6.2.0 start end count:integer [consumer]]")
def xpending(c: Client, key: bytes, group: bytes, *args: bytes):
    argc = len(args) + 3
    if argc != 3 and (argc < 6 or argc > 9):
        raise errors.SYNTAX
    consumername = None
    minidle = 0
    count = 0
    start = end = 0
    if argc >= 6:
        si = 0
        if args[0].lower() == b"idle":
            minidle = parse_int(args[1])
            if argc < 8:
                raise errors.SYNTAX
            si = 2
        count = max(parse_int(args[si + 2]), 0)
        start = _interval_start(args[si])
        end = _interval_end(args[si + 1])
        if si + 3 < len(args):
            consumername = args[si + 3]
    s = _get(c, key)
    g = s.group(group) if s is not None else None
    if g is None:
        raise errors.nogroup_key_or_group(key, group)
    pel = g.pel
    if argc == 3:
        if not pel:
            return [0, None, None, NULL_ARRAY]
        owners = [[name, b"%d" % len(g.consumers[name].pel)]
                  for name in g.consumer_names() if g.consumers[name].pel]
        return [len(pel), format_id(pel.keys()[0]), format_id(pel.keys()[-1]), owners]
    if consumername is not None:
        consumer = g.consumers.get(consumername)
        if consumer is None:
            return []
        pel = consumer.pel
    now = c.server.now_ms
    out = []
    if count and start <= end:
        for eid in pel.irange(start, end):
            nack = pel[eid]
            idle = now - nack.delivery_time
            if minidle and idle < minidle:
                continue
            out.append([format_id(eid), nack.consumer.name, max(idle, 0), nack.delivery_count])
            if len(out) >= count:
                break
    return out


# ---------------------------------------------------------------------- XCLAIM / XAUTOCLAIM
@command("xclaim", arity=-6, flags="write fast", keys=1, key_flags="RW update", group="stream", since="5.0.0",
         tips="nondeterministic_output",
         summary="Transfers pending entries of a group to another consumer, if idle long enough.",
         complexity="O(log N) with N being the number of messages in the PEL of the consumer group.",
         args="key:key group consumer min-idle-time id... [IDLE ms:integer] [TIME unix-time-milliseconds:unix-time] "
              "[RETRYCOUNT count:integer] [FORCE] [JUSTID] [LASTID lastid]")
def xclaim(c: Client, key: bytes, group: bytes, consumername: bytes, minidle_arg: bytes, *rest: bytes):
    s = _get(c, key)
    g = s.group(group) if s is not None else None
    if g is None:
        raise errors.nogroup_key_or_group(key, group)
    minidle = max(parse_int(minidle_arg, errors.XCLAIM_MIN_IDLE), 0)
    ids: list[tuple[int, bytes]] = []
    j = 0
    while j < len(rest):
        got = parse_id(rest[j], 0, strict=True)
        if got is None:
            break
        ids.append((got[0], rest[j]))
        j += 1
    server = c.server
    now = server.now_ms
    retrycount = -1
    deliverytime = -1
    force = justid = False
    last_id = 0
    while j < len(rest):
        more = len(rest) - 1 - j
        opt = rest[j]
        low = opt.lower()
        if low == b"force":
            force = True
        elif low == b"justid":
            justid = True
        elif low == b"idle" and more:
            j += 1
            deliverytime = now - parse_int(rest[j], errors.XCLAIM_IDLE)
        elif low == b"time" and more:
            j += 1
            deliverytime = parse_int(rest[j], errors.XCLAIM_TIME)
        elif low == b"retrycount" and more:
            j += 1
            retrycount = parse_int(rest[j], errors.XCLAIM_RETRYCOUNT)
        elif low == b"lastid" and more:
            j += 1
            last_id = _strict_id(rest[j])
        else:
            raise errors.xclaim_unknown_option(opt)
        j += 1
    propagate_last_id = False
    if last_id > g.last_id:
        g.last_id = last_id
        propagate_last_id = True
    if deliverytime != -1:
        if deliverytime < 0 or deliverytime > now:
            deliverytime = now
    else:
        deliverytime = now
    consumer = g.consumers.get(consumername)
    if consumer is None:
        consumer = _new_consumer(c, g, consumername, key)
    consumer.seen_time = now
    prop = _propagating(c)
    out = []
    pel = g.pel
    for eid, arg in ids:
        nack = pel.get(eid)
        item = s.get(eid)
        if item is None:
            if nack is not None:
                if prop:
                    _emit(c, _xclaim_argv(key, group, g, arg, nack))
                propagate_last_id = False
                server.dirty += 1
                g.ack(eid)
            continue
        if force and nack is None:
            nack = NACK(now, None)
            pel[eid] = nack
        if nack is None:
            continue
        if nack.consumer is not None and minidle and now - nack.delivery_time < minidle:
            continue
        old = nack.consumer
        if old is not consumer and old is not None:
            del old.pel[eid]
        nack.delivery_time = deliverytime
        if retrycount >= 0:
            nack.delivery_count = retrycount
        elif not justid:
            nack.delivery_count += 1
        if old is not consumer:
            consumer.pel[eid] = nack
            nack.consumer = consumer
        out.append(format_id(eid) if justid else _entry(eid, item))
        consumer.active_time = now
        if prop:
            _emit(c, _xclaim_argv(key, group, g, arg, nack))
        propagate_last_id = False
        server.dirty += 1
    if propagate_last_id:
        if prop:
            _emit(c, _setid_argv(key, group, g))
        server.dirty += 1
    c.propagate_argv = []
    return out


@command("xautoclaim", arity=-6, flags="write fast", keys=1, key_flags="RW delete", group="stream",
         since="6.2.0", tips="nondeterministic_output", complexity="O(1) if COUNT is small.",
         summary="Transfers pending entries idle long enough to another consumer, scanning the pending list "
                 "from a cursor.",
         history=(("7.0.0", "Added an element to the reply array, containing deleted entries the command cleared "
                            "from the PEL"),),
         args="key:key group consumer min-idle-time start [COUNT count:integer] [JUSTID]")
def xautoclaim(c: Client, key: bytes, group: bytes, consumername: bytes, minidle_arg: bytes, startarg: bytes,
               *opts: bytes):
    minidle = max(parse_int(minidle_arg, errors.XAUTOCLAIM_MIN_IDLE), 0)
    start = _interval_start(startarg)
    count = 100
    justid = False
    j = 0
    while j < len(opts):
        more = len(opts) - 1 - j
        low = opts[j].lower()
        if low == b"count" and more:
            count = parse_int(opts[j + 1], errors.XAUTOCLAIM_COUNT)
            if count < 1 or count > _LONG_MAX // 16:
                raise errors.XAUTOCLAIM_COUNT
            j += 1
        elif low == b"justid":
            justid = True
        else:
            raise errors.SYNTAX
        j += 1
    s = _get(c, key)
    g = s.group(group) if s is not None else None
    if g is None:
        raise errors.nogroup_key_or_group(key, group)
    server = c.server
    now = server.now_ms
    consumer = g.consumers.get(consumername)
    if consumer is None:
        consumer = _new_consumer(c, g, consumername, key)
    consumer.seen_time = now
    prop = _propagating(c)
    attempts = count * 10
    pel = g.pel
    keys = pel.keys()
    idx = pel.bisect_left(start)
    claimed = []
    deleted: list[bytes] = []
    while attempts and count and idx < len(pel):
        attempts -= 1
        eid = keys[idx]
        nack = pel[eid]
        item = s.get(eid)
        if item is None:
            eid_b = format_id(eid)
            if prop:
                _emit(c, _xclaim_argv(key, group, g, eid_b, nack))
            server.dirty += 1
            g.ack(eid)
            deleted.append(eid_b)
            count -= 1
            continue
        idx += 1
        if minidle and now - nack.delivery_time < minidle:
            continue
        g.assign(eid, nack, consumer)
        nack.delivery_time = now
        if not justid:
            nack.delivery_count += 1
        claimed.append(format_id(eid) if justid else _entry(eid, item))
        count -= 1
        consumer.active_time = now
        if prop:
            _emit(c, _xclaim_argv(key, group, g, format_id(eid), nack))
        server.dirty += 1
    cursor = format_id(keys[idx]) if idx < len(pel) else b"0-0"
    c.propagate_argv = []
    return [cursor, claimed, deleted]


# ---------------------------------------------------------------------- XINFO
container("xinfo", group="stream", since="5.0.0", summary="A container for stream introspection commands.",
          complexity="Depends on subcommand.")

_XINFO_HELP = (
    "CONSUMERS <key> <groupname>",
    "    Show consumers of <groupname>.",
    "GROUPS <key>",
    "    Show the stream consumer groups.",
    "STREAM <key> [FULL [COUNT <count>]",
    "    Show information about the stream.",
)


def _info_stream(c: Client, key: bytes) -> StreamType:
    s = _get(c, key)
    if s is None:
        raise errors.NO_SUCH_KEY
    return s


@command("consumers", arity=4, flags="readonly", keys=2, key_flags="RO access", group="stream", since="5.0.0",
         parent="xinfo", tips="nondeterministic_output", complexity="O(1)",
         summary="Lists the consumers of a consumer group, with pending counts and idle times.",
         history=(("7.2.0", "Added the `inactive` field, and changed the meaning of `idle`."),),
         args="key:key group")
def xinfo_consumers(c: Client, key: bytes, group: bytes) -> list:
    s = _info_stream(c, key)
    g = s.group(group)
    if g is None:
        raise errors.nogroup_for_key(group, key)
    now = c.server.now_ms
    out = []
    for name in g.consumer_names():
        cons = g.consumers[name]
        inactive = now - cons.active_time if cons.active_time != -1 else -1
        out.append({b"name": name, b"pending": len(cons.pel), b"idle": max(now - cons.seen_time, 0),
                    b"inactive": inactive})
    return out


@command("groups", arity=3, flags="readonly", keys=2, key_flags="RO access", group="stream", since="5.0.0",
         parent="xinfo", complexity="O(1)",
         summary="Lists the consumer groups of a stream with their position, pending count and lag.",
         history=(("7.0.0", "Added the `entries-read` and `lag` fields"),),
         args="key:key")
def xinfo_groups(c: Client, key: bytes) -> list:
    s = _info_stream(c, key)
    out = []
    for name in s.group_names():
        g = s.groups[name]
        out.append({b"name": name, b"consumers": len(g.consumers), b"pending": len(g.pel),
                    b"last-delivered-id": format_id(g.last_id),
                    b"entries-read": g.entries_read if g.entries_read != INVALID_ENTRIES_READ else None,
                    b"lag": s.group_lag(g)})
    return out


@command("stream", arity=-3, flags="readonly", keys=2, key_flags="RO access", group="stream", since="5.0.0",
         parent="xinfo", complexity="O(1)",
         summary="Describes a stream: length, IDs, counters, first/last entries, or everything with FULL.",
         history=(("6.0.0", "Added the `FULL` modifier."),
                  ("7.0.0", "Added the `max-deleted-entry-id`, `entries-added`, `recorded-first-entry-id`, "
                            "`entries-read` and `lag` fields"),
                  ("7.2.0", "Added the `active-time` field, and changed the meaning of `seen-time`.")),
         args="key:key [full-block: FULL [COUNT count:integer]]")
def xinfo_stream(c: Client, key: bytes, *opts: bytes):
    s = _info_stream(c, key)
    full = bool(opts)
    count = 10
    if opts:
        if len(opts) not in (1, 3) or opts[0].lower() != b"full":
            raise errors.subcommand_syntax(b"XINFO", b"STREAM")
        if len(opts) == 3:
            if opts[1].lower() != b"count":
                raise errors.subcommand_syntax(b"XINFO", b"STREAM")
            count = parse_int(opts[2])
            if count < 0:
                count = 10
    info: dict[bytes, Any] = {
        b"length": s.length,
        b"radix-tree-keys": s.node_count(),
        b"radix-tree-nodes": s.radix_tree_nodes(),
        b"last-generated-id": format_id(s.last_id),
        b"max-deleted-entry-id": format_id(s.max_deleted_id),
        b"entries-added": s.entries_added,
        b"recorded-first-entry-id": format_id(s.first_id),
    }
    if not full:
        info[b"groups"] = len(s.groups) if s.groups else 0
        first = next(s.range(count=1), None)
        last = next(s.range(count=1, rev=True), None)
        info[b"first-entry"] = _entry(*first) if first else None
        info[b"last-entry"] = _entry(*last) if last else None
        return info
    info[b"entries"] = _entries(s.range(count=count))
    groups = []
    for name in s.group_names():
        g = s.groups[name]
        pending = [[format_id(eid), nack.consumer.name, nack.delivery_time, nack.delivery_count]
                   for eid, nack in _first_items(g.pel, count)]
        consumers = []
        for cname in g.consumer_names():
            cons = g.consumers[cname]
            consumers.append({
                b"name": cname, b"seen-time": cons.seen_time, b"active-time": cons.active_time,
                b"pel-count": len(cons.pel),
                b"pending": [[format_id(eid), nack.delivery_time, nack.delivery_count]
                             for eid, nack in _first_items(cons.pel, count)],
            })
        groups.append({
            b"name": name, b"last-delivered-id": format_id(g.last_id),
            b"entries-read": g.entries_read if g.entries_read != INVALID_ENTRIES_READ else None,
            b"lag": s.group_lag(g), b"pel-count": len(g.pel), b"pending": pending, b"consumers": consumers,
        })
    info[b"groups"] = groups
    return info


def _first_items(pel: Any, count: int) -> Iterator[tuple[int, NACK]]:
    """The first ``count`` (0: all) entries of a PEL, in ID order."""
    n = 0
    for eid in pel:
        if count and n >= count:
            return
        yield eid, pel[eid]
        n += 1


@command("help", arity=2, flags="loading stale", group="stream", since="5.0.0", parent="xinfo",
         complexity="O(1)", summary="Returns helpful text about the different subcommands.")
def xinfo_help(c: Client) -> list[Simple]:
    return help_reply("XINFO", list(_XINFO_HELP))

