"""Persistence commands: DUMP, RESTORE, SAVE, BGSAVE and DEBUG RELOAD (Valkey's
cluster.c dump/restore, rdb.c save/bgsave, debug.c reload).

The file format lives in :mod:`pykey.persistence`; these functions only check arguments,
reply with Valkey's texts and keep the keyspace signals (WATCH, notifications,
propagation) right.
"""
from __future__ import annotations

import random
import socket
import time
from typing import Any

from .. import errors
from ..engine.client import Client
from ..engine.registry import KeySpec, command
from ..persistence import dump as dumpfmt
from ..persistence import rdb
from ..persistence.encoding import RdbError
from ..persistence.snapshot import SaveError
from ..protocol.encoder import encode_command
from ..protocol.replies import OK, Simple
from .debug import debug_subcommand
from .util import parse_int

# ---------------------------------------------------------------------- DUMP / RESTORE


@command("dump", arity=2, flags="readonly", keys=1, key_flags="RO access", group="generic", since="2.6.0",
         tips="nondeterministic_output",
         summary="Returns a serialized representation of the value stored at a key.",
         complexity="O(1) to access the key and additional O(N*M) to serialize it, where N is the number "
                    "of objects composing the value and M their average size. For small string values the "
                    "time complexity is thus O(1)+O(1*M) where M is small, so simply O(1).",
         args="key:key")
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
                  ("5.0.0", "Added the `IDLETIME` and `FREQ` options.")),
         args="key:key ttl:integer serialized-value [REPLACE]@3.0.0 [ABSTTL]@5.0.0 [IDLETIME seconds:integer]@5.0.0 "
              "[FREQ frequency:integer]@5.0.0")
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
        if freq >= 0:
            server.evictor.set_lfu(db, key, freq)
    elif idle >= 0 and server.track_access:
        db.access[key] = (server.lru_clock - idle) & 0xFFFFFF


# ---------------------------------------------------------------------- MIGRATE
_MIGRATE_CACHE_ITEMS = 64          # MIGRATE_SOCKET_CACHE_ITEMS
_MIGRATE_CACHE_TTL = 10            # seconds an idle cached connection is kept
_IOERR_CONNECT = errors.CommandError("IOERR error or timeout connecting to the client")


def _migrate_keys(argv: list[bytes]) -> list[int]:
    """migrateGetKeys: argv[3], or everything after KEYS (option arguments skipped)."""
    skips = {b"copy": 0, b"replace": 0, b"auth": 1, b"auth2": 2}
    i = 6
    while i < len(argv):
        low = argv[i].lower()
        if low == b"keys":
            return list(range(i + 1, len(argv))) if not argv[3] else []
        i += skips.get(low, 0) + 1
    return [3]


class _MigrateLink:
    """One cached connection to a MIGRATE target (Valkey keeps them for 10 seconds)."""

    __slots__ = ("sock", "reader", "last_dbid", "last_use")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.reader = sock.makefile("rb")
        self.last_dbid = -1
        self.last_use = time.time()

    def close(self) -> None:
        try:
            self.reader.close()
            self.sock.close()
        except OSError:
            pass


def _migrate_cache(server: Any) -> dict[bytes, _MigrateLink]:
    cache = getattr(server, "migrate_sockets", None)
    if cache is None:
        cache = server.migrate_sockets = {}

        def expire() -> None:
            now = time.time()
            for name, link in list(cache.items()):
                if now - link.last_use > _MIGRATE_CACHE_TTL:
                    link.close()
                    del cache[name]
        server.cron_hooks.append(expire)
    return cache


def _migrate_link(server: Any, host: bytes, port: bytes, timeout: float) -> _MigrateLink:
    cache = _migrate_cache(server)
    name = host + b":" + port
    link = cache.get(name)
    if link is not None:
        link.last_use = time.time()
        return link
    if len(cache) >= _MIGRATE_CACHE_ITEMS:
        victim = random.choice(list(cache))
        cache.pop(victim).close()
    try:
        sock = socket.create_connection((host.decode("latin-1"), int(port)), timeout=timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (OSError, ValueError, UnicodeError):
        raise _IOERR_CONNECT from None
    link = cache[name] = _MigrateLink(sock)
    return link


def _drop_link(server: Any, host: bytes, port: bytes) -> None:
    link = _migrate_cache(server).pop(host + b":" + port, None)
    if link is not None:
        link.close()


@command("migrate", arity=-6, flags="write", group="generic", since="2.6.0", acl="keyspace dangerous",
         tips="nondeterministic_output", keys=(3, 3, 1), getkeys=_migrate_keys,
         key_specs=(KeySpec(("RW", "access", "delete"), ("index", 3), ("range", 0, 1, 0)),
                    KeySpec(("RW", "access", "delete", "incomplete"), ("keyword", "KEYS", -2),
                            ("range", -1, 1, 0))),
         summary="Atomically transfers a key from one instance to another.",
         complexity="This command actually executes a DUMP+DEL in the source instance, and a RESTORE in the "
                    "target instance. See the pages of these commands for time complexity. Also an O(N) data "
                    "transfer between the two instances is performed.",
         history=(("3.0.0", "Added the `COPY` and `REPLACE` options."), ("3.0.6", "Added the `KEYS` option."),
                  ("4.0.7", "Added the `AUTH` option."), ("6.0.0", "Added the `AUTH2` option.")),
         args="host port:integer (key-selector: key:key | empty-string='\"\"') destination-db:integer timeout:integer "
              "[COPY]@3.0.0 [REPLACE]@3.0.0 "
              "[authentication: AUTH auth<password>@4.0.7 | AUTH2 (username password)@6.0.0] "
              "[KEYS keys:key<key>...]@3.0.6")
def migrate(c: Client, host: bytes, port: bytes, key: bytes, dbarg: bytes, timeout_arg: bytes,
            *opts: bytes) -> Any:
    copy = replace = False
    username = password = None
    keys = [key]
    i = 0
    while i < len(opts):
        low = opts[i].lower()
        more = len(opts) - 1 - i
        if low == b"copy":
            copy = True
        elif low == b"replace":
            replace = True
        elif low == b"auth":
            if not more:
                raise errors.SYNTAX
            i += 1
            password = opts[i]
        elif low == b"auth2":
            if more < 2:
                raise errors.SYNTAX
            username, password = opts[i + 1], opts[i + 2]
            i += 2
        elif low == b"keys":
            if key:
                raise errors.err("When using MIGRATE KEYS option, the key argument must be set to the empty string")
            keys = list(opts[i + 1:])
            break
        else:
            raise errors.SYNTAX
        i += 1
    timeout_ms = parse_int(timeout_arg)
    dbid = parse_int(dbarg)
    if timeout_ms <= 0:
        timeout_ms = 1000
    db = c.db
    server = c.server
    found = [(k, v) for k in keys if (v := db.lookup(k)) is not None]
    if not found:
        return Simple("NOKEY")
    timeout = timeout_ms / 1000
    for attempt in (0, 1):
        link = _migrate_link(server, host, port, timeout)
        parts = []
        if password is not None:
            parts.append(encode_command((b"AUTH", username, password) if username is not None else (b"AUTH", password)))
        select = link.last_dbid != dbid
        if select:
            parts.append(encode_command((b"SELECT", b"%d" % dbid)))
        sent = []
        for k, v in found:
            ttl = 0
            when = db.get_expire(k)
            if when != -1:
                ttl = when - server.now_ms
                if ttl < 0:
                    continue
                ttl = max(ttl, 1)
            payload = dumpfmt.create(v, server.config)
            parts.append(encode_command((b"RESTORE", k, b"%d" % ttl, payload, *((b"REPLACE",) if replace else ()))))
            sent.append(k)
        link.sock.settimeout(timeout)
        try:
            link.sock.sendall(b"".join(parts))
        except OSError as e:
            _drop_link(server, host, port)
            if attempt == 0 and not isinstance(e, TimeoutError):
                continue
            raise errors.CommandError("IOERR error or timeout writing to target instance") from None
        try:
            auth_reply = link.reader.readline() if password is not None else b"+OK"
            select_reply = link.reader.readline() if select else b"+OK"
        except OSError as e:
            _drop_link(server, host, port)
            if attempt == 0 and not isinstance(e, TimeoutError):
                continue
            raise errors.CommandError("IOERR error or timeout reading to target instance") from None
        target_error = None
        socket_error = None
        deleted = []
        for k in sent:
            try:
                line = link.reader.readline()
                if not line:
                    raise ConnectionError("closed")
            except (OSError, ConnectionError) as e:
                socket_error = e
                break
            failed = next((r for r in (auth_reply, select_reply, line) if r[:1] == b"-"), None)
            if failed is not None:
                if target_error is None:
                    link.last_dbid = -1
                    target_error = failed[1:].rstrip(b"\r\n")
            elif not copy:
                db.delete(k)
                server.notify("g", "del", k, db.id)
                server.dirty += 1
                deleted.append(k)
        if socket_error is not None and target_error is None and not deleted and attempt == 0 \
                and not isinstance(socket_error, TimeoutError):
            _drop_link(server, host, port)
            continue
        c.propagate_argv = [b"DEL", *deleted] if deleted else []
        if socket_error is not None:
            _drop_link(server, host, port)
            if target_error is None:
                raise errors.CommandError("IOERR error or timeout reading to target instance")
        if target_error is not None:
            raise errors.err("Target instance replied with error: " + target_error.decode("utf-8", "replace"))
        link.last_dbid = dbid
        return OK
    raise _IOERR_CONNECT


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
         history=(("3.2.2", "Added the `SCHEDULE` option."),),
         args="[SCHEDULE]@3.2.2")
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
