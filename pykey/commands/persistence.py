"""Persistence commands: DUMP, RESTORE, SAVE, BGSAVE and DEBUG RELOAD (Valkey's
cluster.c dump/restore, rdb.c save/bgsave, debug.c reload).

The file format lives in :mod:`pykey.persistence`; these functions only check arguments,
reply with Valkey's texts and keep the keyspace signals (WATCH, notifications,
propagation) right.
"""
from __future__ import annotations

from typing import Any

from .. import errors
from ..engine.client import Client
from ..engine.registry import command
from ..persistence import dump as dumpfmt
from ..persistence import rdb
from ..persistence.encoding import RdbError
from ..persistence.snapshot import SaveError
from ..protocol.replies import OK, Simple
from .debug import debug_subcommand
from .util import parse_int

# ---------------------------------------------------------------------- DUMP / RESTORE


@command("dump", arity=2, flags="readonly", keys=1, key_flags="RO access", group="generic", since="2.6.0",
         tips="nondeterministic_output",
         summary="Returns a serialized representation of the value stored at a key.",
         complexity="O(1) to access the key and additional O(N*M) to serialize it, where N is the number "
                    "of objects composing the value and M their average size. For small string values the "
                    "time complexity is thus O(1)+O(1*M) where M is small, so simply O(1).")
def dump(c: Client, key: bytes) -> bytes | None:
    value = c.db.lookup(key)
    if value is None:
        return None
    return dumpfmt.create(value, c.server.config)


@command("restore", arity=-4, flags="write denyoom", keys=1, key_flags="OW update", group="generic",
         since="2.6.0", acl="keyspace dangerous",
         summary="Creates a key from the serialized representation of a value.",
         complexity="O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, "
                    "where N is the number of objects composing the value and M their average size. For small "
                    "string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1). "
                    "However for sorted set values the complexity is O(N*M*log(N)) because inserting values "
                    "into sorted sets is O(log(N)).",
         history=(("3.0.0", "Added the `REPLACE` modifier."), ("5.0.0", "Added the `ABSTTL` modifier."),
                  ("5.0.0", "Added the `IDLETIME` and `FREQ` options.")))
def restore(c: Client, key: bytes, ttl_arg: bytes, payload: bytes, *opts: bytes) -> Any:
    replace = absttl = False
    idle = freq = -1
    i = 0
    n = len(opts)
    while i < n:
        opt = opts[i].lower()
        more = n - i - 1
        if opt == b"replace":
            replace = True
        elif opt == b"absttl":
            absttl = True
        elif opt == b"idletime" and more >= 1 and freq == -1:
            idle = parse_int(opts[i + 1])
            if idle < 0:
                raise errors.INVALID_IDLETIME
            i += 1
        elif opt == b"freq" and more >= 1 and idle == -1:
            freq = parse_int(opts[i + 1])
            if freq < 0 or freq > 255:
                raise errors.INVALID_FREQ
            i += 1
        else:
            raise errors.SYNTAX
        i += 1
    db = c.db
    server = c.server
    if not replace and db.lookup(key) is not None:
        raise errors.BUSYKEY
    ttl = parse_int(ttl_arg)
    if ttl < 0:
        raise errors.INVALID_TTL
    if not dumpfmt.verify(payload):
        raise errors.DUMP_PAYLOAD
    try:
        value = dumpfmt.load(payload, server.config)
    except RdbError:
        raise errors.BAD_DATA_FORMAT from None
    deleted = db.delete(key) if replace else False
    if ttl and not absttl:
        ttl += server.now_ms
    if ttl and ttl <= server.now_ms:
        # already expired: not stored; a key REPLACE removed goes as DEL/UNLINK
        if deleted:
            c.propagate_argv = [b"UNLINK" if server.config["lazyfree-lazy-server-del"] else b"DEL", key]
            server.notify("g", "del", key, db.id)
            server.dirty += 1
        else:
            c.propagate_argv = []
        return OK
    db.add(key, value)
    if getattr(value, "ttl", None):
        db.volatile_hashes[key] = value
    if ttl:
        db.set_expire(key, ttl)
        if not absttl:
            c.propagate_argv = [b"RESTORE", key, b"%d" % ttl, payload, *opts, b"ABSTTL"]
    _set_lru_lfu(c, key, idle, freq)
    db.signal_ready(key)
    server.notify("g", "restore", key, db.id)
    server.dirty += 1
    return OK


def _set_lru_lfu(c: Client, key: bytes, idle: int, freq: int) -> None:
    """objectSetLRUOrLFU: FREQ counts under an LFU policy, IDLETIME under any other."""
    server = c.server
    db = c.db
    if "lfu" in server.config["maxmemory-policy"]:
        store = getattr(db, "freq", None)
        if freq >= 0 and isinstance(store, dict):
            store[key] = freq
    elif idle >= 0 and server.track_access:
        db.access[key] = (server.lru_clock - idle) & 0xFFFFFF


# ---------------------------------------------------------------------- SAVE / BGSAVE
@command("save", arity=1, flags="no_async_loading admin noscript no_multi", group="server", since="1.0.0",
         summary="Synchronously saves the database(s) to disk.",
         complexity="O(N) where N is the total number of keys in all databases")
def save(c: Client) -> Any:
    snaps = c.server.snapshots
    if snaps.child_purpose in ("disk", "repl"):
        raise errors.BGSAVE_IN_PROGRESS
    snaps.stat_rdb_saves += 1
    try:
        snaps.save()
    except SaveError:
        raise errors.BARE_ERR from None
    return OK


@command("bgsave", arity=-1, flags="no_async_loading admin noscript", group="server", since="1.0.0",
         summary="Asynchronously saves the database(s) to disk.", complexity="O(1)",
         history=(("3.2.2", "Added the `SCHEDULE` option."),))
def bgsave(c: Client, *args: bytes) -> Any:
    schedule = False
    if len(args) == 1 and args[0].lower() == b"schedule":
        schedule = True
    elif args:
        raise errors.SYNTAX
    snaps = c.server.snapshots
    if snaps.child_purpose in ("disk", "repl"):
        raise errors.BGSAVE_IN_PROGRESS
    if snaps.child_active() and not schedule:
        raise errors.BGSAVE_OTHER_CHILD
    in_exec = c.multi is not None
    if snaps.child_active() or in_exec:
        snaps.bgsave_scheduled = True
        return Simple("Background saving scheduled")
    if not snaps.bgsave():
        raise errors.BARE_ERR
    return Simple("Background saving started")


# ---------------------------------------------------------------------- DEBUG RELOAD
@debug_subcommand("reload", args=(0, 3), help=(
    "RELOAD [option ...]",
    "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
    "    * MERGE: Merge the content of the RDB instead of adding it to the current",
    "      dataset. In this mode, keys in the RDB that already exist in the database",
    "      replace the current ones.",
    "    * NOFLUSH: Do not empty the dataset before loading the RDB.",
    "    * NOSAVE: the database will be loaded from an existing RDB file.",
    "    Examples:",
    "    * DEBUG RELOAD: verify that the server is able to persist the dataset in a",
    "      RDB file and reload it back to memory.",
    "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the content of the RDB to the current",
    "      dataset, replacing existing keys."))
def debug_reload(c: Client, *opts: bytes) -> Any:
    merge = False
    flush = save_first = True
    for opt in opts:
        low = opt.lower()
        if low == b"merge":
            merge = True
        elif low == b"noflush":
            flush = False
        elif low == b"nosave":
            save_first = False
        else:
            raise errors.DEBUG_RELOAD_OPTIONS
    server = c.server
    snaps = server.snapshots
    if save_first:
        try:
            snaps.save()
        except SaveError:
            raise errors.BARE_ERR from None
    try:
        with open(snaps.path(), "rb") as f:
            data = f.read()
        res = rdb.parse(data, server)
    except (OSError, RdbError) as e:
        from ..log import log
        log.warning(f"Error trying to load the RDB dump: {e}")
        raise errors.RELOAD_FAILED from None
    if flush:
        empty_data(server)
    elif not merge:
        for dbid, (keys, _exp) in res.dbs.items():
            existing = server.dbs[dbid].data
            for k in keys:
                if k in existing:
                    raise errors.RELOAD_FAILED
    else:
        for dbid, (keys, _exp) in res.dbs.items():
            db = server.dbs[dbid]
            for k in keys:
                if k in db.data:
                    db.delete(k)
    try:
        rdb.install(server, res, merge=merge)
    except RdbError as e:
        from ..log import log
        log.warning(f"Error trying to load the RDB dump: {e}")
        raise errors.RELOAD_FAILED from None
    snaps.last_load_keys_loaded = res.keys_loaded
    snaps.last_load_keys_expired = res.keys_expired
    from ..log import log
    log.notice("DB reloaded by DEBUG RELOAD")
    return OK


# ---------------------------------------------------------------------- AOF
@command("bgrewriteaof", arity=1, flags="no_async_loading admin noscript", group="server", since="1.0.0",
         summary="Asynchronously rewrites the append-only file to disk.", complexity="O(1)")
def bgrewriteaof(c: Client) -> Any:
    server = c.server
    snaps = server.snapshots
    if snaps.child_purpose == "aof":
        raise errors.AOFRW_IN_PROGRESS
    if snaps.child_active() or c.multi is not None:
        server.aof.rewrite_scheduled = True
        server.aof.consecutive_failures = 0
        return Simple("Background append only file rewriting scheduled")
    if not server.aof.rewrite():
        raise errors.AOFRW_FAILED
    return Simple("Background append only file rewriting started")


@debug_subcommand("loadaof", help=(
    "LOADAOF",
    "    Flush the AOF buffers on disk and reload the AOF in memory."))
def debug_loadaof(c: Client) -> Any:
    from ..log import log
    from ..persistence.aof import AofError
    server = c.server
    aof = server.aof
    if aof.state != "off":
        aof.dirty_fsync = True
        aof.fsync()
    empty_data(server)
    try:
        aof.load()
    except (AofError, RdbError, OSError) as e:
        log.warning(f"Error loading the AOF by DEBUG LOADAOF: {e}")
        raise errors.err(f"Error trying to load the AOF: {e}") from None
    server.dirty = 0
    log.notice("Append Only File loaded by DEBUG LOADAOF")
    return OK


def empty_data(server: Any) -> int:
    """emptyData(-1): every database and the function libraries, signalled as a flush."""
    removed = 0
    for db in server.dbs:
        if db.data or db.expires:
            removed += db.flush()
    store = getattr(server, "functions", None)
    if store:
        store.clear()
    server.signal_flushed(-1)
    return removed
