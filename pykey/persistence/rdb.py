"""Whole RDB files: the ``REDIS0011`` header, aux fields, function libraries, every
database (SELECTDB, RESIZEDB, then each key with its EXPIRETIME_MS/IDLE/FREQ, type, name
and value), EOF and the CRC64 trailer (``rdbSaveRio``/``rdbLoadRio``).

Values are written with the types Valkey 8 uses; the header names the oldest version
that holds them (:func:`dataset_version`): ``REDIS0010`` (Redis 7.0 loads it) unless a set
is a listpack or a stream exists (``REDIS0011``, Redis 7.2 / Valkey 8), or a hash has
per-field TTLs (``VALKEY080``, Valkey 9's format, the hash as TYPE_HASH_2). Loading
accepts RDB versions 1 to 11 (Redis and Valkey 8) and 80 (Valkey 9).

Loading is all or nothing: :func:`parse` checks the CRC64 first, then decodes every key
into fresh dicts; only :func:`install` touches the server, after the whole file was read.
A corrupt or truncated file raises :class:`RdbError` with the reason and leaves the server
as it was.
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, BinaryIO

from . import values
from .crc64 import crc64
from .encoding import (
    OPCODE_AUX,
    OPCODE_EOF,
    OPCODE_EXPIRETIME,
    OPCODE_EXPIRETIME_MS,
    OPCODE_FREQ,
    OPCODE_FUNCTION2,
    OPCODE_FUNCTION_PRE_GA,
    OPCODE_IDLE,
    OPCODE_MODULE_AUX,
    OPCODE_RESIZEDB,
    OPCODE_SELECTDB,
    RDB_VERSION,
    RDB_VERSION_VALKEY9,
    RdbError,
    RdbReader,
    RdbWriter,
)

if TYPE_CHECKING:
    from ..engine.server import Server

REDIS_VER = b"7.2.4"
LFU_INIT_VAL = 5

# The scripting engine sets this to load one library's code from an RDB/replication
# stream (RDB_OPCODE_FUNCTION2): fn(server, code, replace) raising ValueError with the reason.
function_loader: Callable[[Any, bytes, bool], None] | None = None


@dataclass
class ReplInfo:
    """The replication aux fields a full resync writes (``rdbSaveInfo``)."""
    replid: str
    offset: int
    stream_db: int

    @classmethod
    def from_aux(cls, aux: dict[bytes, bytes]) -> ReplInfo | None:
        """The fields a loaded file carries, when all three are there and usable
        (loadDataFromDisk's rsi_is_valid: an old server may have saved stream db -1)."""
        replid, offset, db = aux.get(b"repl-id"), aux.get(b"repl-offset"), aux.get(b"repl-stream-db")
        if replid is None or offset is None or db is None or len(replid) != 40:
            return None
        try:
            off, dbid = int(offset), int(db)
        except ValueError:
            return None
        if off == -1 or dbid == -1:
            return None
        return cls(replid.decode("latin-1"), off, dbid)


@dataclass
class LoadResult:
    """Everything :func:`parse` read; :func:`install` applies it."""
    version: int = 0
    aux: dict[bytes, bytes] = field(default_factory=dict)
    dbs: dict[int, tuple[dict, dict]] = field(default_factory=dict)       # id -> (data, expires)
    idle: dict[tuple[int, bytes], int] = field(default_factory=dict)      # LRU idle seconds
    freq: dict[tuple[int, bytes], int] = field(default_factory=dict)      # LFU counters
    functions: list[bytes] = field(default_factory=list)
    keys_loaded: int = 0
    keys_expired: int = 0
    expired: list[tuple[int, bytes]] = field(default_factory=list)     # (db, key) of those
    empty_keys_skipped: int = 0


# ====================================================================== writing
def dataset_version(server: Server) -> int:
    """The RDB version the dataset needs (see :func:`values.min_version`): 80 when some
    hash has field TTLs, 11 when a set is a listpack or a stream exists, else 10."""
    for db in server.dbs:
        for key, h in db.volatile_hashes.items():
            if h.ttl and db.data.get(key) is h:
                return RDB_VERSION_VALKEY9
    min_version = values.min_version
    best = RDB_VERSION - 1
    for db in server.dbs:
        for value in db.data.values():
            if value.__class__ is not bytes:
                v = min_version(value)
                if v > best:
                    if v == RDB_VERSION_VALKEY9:
                        return v
                    best = v
    return best


def _used_memory() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def write(out: BinaryIO | None, server: Server, repl: ReplInfo | None = None,
          aof_base: bool = False, progress: Callable[[int], None] | None = None,
          key_delay_us: int = 0) -> RdbWriter:
    """Serialize the whole dataset to ``out`` (or into the returned writer's buffer when
    ``out`` is None). ``progress`` is called with the number of keys written so far;
    ``key_delay_us`` (the ``rdb-key-save-delay`` test knob) sleeps after each key."""
    config = server.config
    w = RdbWriter(out, compress=config["rdbcompression"], checksum=config["rdbchecksum"])
    version = dataset_version(server)
    valkey9 = version == RDB_VERSION_VALKEY9
    w.raw(b"VALKEY%03d" % version if valkey9 else b"REDIS%04d" % version)
    _aux(w, b"redis-ver", REDIS_VER)
    _aux(w, b"redis-bits", b"64")
    _aux(w, b"ctime", b"%d" % int(time.time()))
    _aux(w, b"used-mem", b"%d" % _used_memory())
    if repl is not None:
        _aux(w, b"repl-stream-db", b"%d" % repl.stream_db)
        _aux(w, b"repl-id", repl.replid.encode())
        _aux(w, b"repl-offset", b"%d" % repl.offset)
    _aux(w, b"aof-base", b"1" if aof_base else b"0")
    for code in function_codes(server):
        w.byte(OPCODE_FUNCTION2)
        w.string(code)
    policy = config["maxmemory-policy"]
    save_lru = "lru" in policy
    save_lfu = "lfu" in policy
    count = 0
    write_value = values.write_value
    object_type = values.object_type
    for db in server.dbs:
        data = db.data
        if not data:
            continue
        expires = db.expires
        w.byte(OPCODE_SELECTDB)
        w.length(db.id)
        w.byte(OPCODE_RESIZEDB)
        w.length(len(data))
        w.length(len(expires))
        evictor = server.evictor
        for key, value in data.items():
            if expires:
                when = expires.get(key)
                if when is not None:
                    w.byte(OPCODE_EXPIRETIME_MS)
                    w.ms_time(when)
            if save_lru:
                w.byte(OPCODE_IDLE)
                w.length(evictor.idle_ms(db, key) // 1000)
            elif save_lfu:
                w.byte(OPCODE_FREQ)
                w.byte(evictor.lfu_counter(db, key))
            w.byte(object_type(value, valkey9))
            w.string(key)
            write_value(w, value, config, valkey9)
            count += 1
            if key_delay_us:
                _debug_delay(key_delay_us)
            if len(w.buf) >= 1 << 16:
                w.flush()
                if progress is not None:
                    progress(count)
    w.byte(OPCODE_EOF)
    if out is None:
        crc = crc64(w.buf) if w.checksum else 0
        w.raw(crc.to_bytes(8, "little"))
    else:
        w.flush()
        out.write((w.crc if w.checksum else 0).to_bytes(8, "little"))
        w.written += 8
    return w


def _debug_delay(usec: int) -> None:
    """Valkey's debugDelay: sleep ``usec``; a negative value sleeps 1us once in -usec."""
    if usec < 0:
        import random
        usec = 1 if random.randrange(-usec) == 0 else 0
    if usec:
        time.sleep(usec / 1_000_000)


def _aux(w: RdbWriter, key: bytes, value: bytes) -> None:
    w.byte(OPCODE_AUX)
    w.string(key)
    w.string(value)


def function_codes(server: Server) -> list[bytes]:
    """The code of every function library (``server.functions``: name -> library whose
    ``code`` attribute holds the source)."""
    store = getattr(server, "functions", None)
    if not store:
        return []
    out = []
    for lib in store.values():
        code = getattr(lib, "code", lib)
        out.append(code if isinstance(code, bytes) else str(code).encode())
    return out


def dumps(server: Server, repl: ReplInfo | None = None) -> bytes:
    """The whole dataset as RDB bytes (for tests and small datasets)."""
    return bytes(write(None, server, repl).buf)


def save(server: Server, path: str, repl: ReplInfo | None = None,
         progress: Callable[[int], None] | None = None, key_delay_us: int = 0) -> int:
    """Write the dataset to ``path`` safely: a temporary file in the same directory,
    fsynced, then renamed over ``path`` (and the directory fsynced). Returns the size."""
    directory = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(directory, f"temp-{os.getpid()}.rdb")
    try:
        with open(tmp, "wb") as f:
            w = write(f, server, repl, progress=progress, key_delay_us=key_delay_us)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass
    return w.written


# ====================================================================== reading
def check_header(data: bytes | memoryview) -> int:
    """The RDB version named by the 9-byte header; RdbError when it is not one we read."""
    head = bytes(data[:9])
    if len(head) < 9:
        raise RdbError("Short read: the file is shorter than an RDB header")
    if head.startswith(b"REDIS") and head[5:].isdigit():
        version = int(head[5:])
        if 1 <= version <= RDB_VERSION:
            return version
    elif head.startswith(b"VALKEY") and head[6:].isdigit():
        version = int(head[6:])
        if version == RDB_VERSION_VALKEY9:
            return version
    else:
        raise RdbError("Wrong signature trying to load DB from file")
    raise RdbError(f"Can't handle RDB format version {head.decode('latin-1')}")


def parse(data: bytes | memoryview, server: Server, now_ms: int | None = None,
          keep_expired: bool = False) -> LoadResult:
    """Decode a whole RDB image without touching the server. Keys whose TTL is already in
    the past are dropped (counted in ``keys_expired``) unless ``keep_expired``.

    The CRC64 trailer is checked before anything is decoded; when it does not match, the
    image is still walked so that a truncated or garbled file is reported as such."""
    version = check_header(data)
    size = len(data)
    if version >= 5 and size >= 17 and server.config["rdbchecksum"]:
        stored = int.from_bytes(bytes(data[-8:]), "little")
        if stored:
            actual = crc64(memoryview(data)[:-8])
            if actual != stored:
                res = _parse(data, server, now_ms, keep_expired)   # raises the precise error
                return res                                          # (data after the trailer)
    return _parse(data, server, now_ms, keep_expired)


def _parse(data: bytes | memoryview, server: Server, now_ms: int | None, keep_expired: bool) -> LoadResult:
    res = LoadResult()
    res.version = version = check_header(data)
    size = len(data)
    config = server.config
    ndbs = len(server.dbs)
    if now_ms is None:
        now_ms = int(time.time() * 1000)
    r = RdbReader(data, 9)
    dbid = 0
    data_dict: dict = {}
    expires: dict = {}
    res.dbs[0] = (data_dict, expires)
    expire = -1
    idle = -1
    freq = -1
    read_value = values.read_value
    is_object_type = values.is_object_type
    try:
        while True:
            t = r.byte()
            if t == OPCODE_EXPIRETIME_MS:
                expire = r.ms_time()
                continue
            if t == OPCODE_EXPIRETIME:
                expire = r.s_time() * 1000
                continue
            if t == OPCODE_FREQ:
                freq = r.byte()
                continue
            if t == OPCODE_IDLE:
                idle = r.length()
                continue
            if t == OPCODE_EOF:
                break
            if t == OPCODE_SELECTDB:
                dbid = r.length()
                if dbid >= ndbs:
                    raise RdbError(f"Data file was created with a server configured to handle more than "
                                   f"{ndbs} databases")
                if dbid not in res.dbs:
                    res.dbs[dbid] = ({}, {})
                data_dict, expires = res.dbs[dbid]
                continue
            if t == OPCODE_RESIZEDB:
                r.length()
                r.length()
                continue
            if t == OPCODE_AUX:
                k = r.string()
                res.aux[k] = r.string()
                continue
            if t == OPCODE_MODULE_AUX:
                raise RdbError("The RDB file contains AUX module data I can't load: no modules in this server")
            if t == OPCODE_FUNCTION_PRE_GA:
                raise RdbError("Pre-release function format not supported.")
            if t == OPCODE_FUNCTION2:
                res.functions.append(r.string())
                continue
            key = r.string()
            if t == 0:                                    # strings: most keys, read inline
                value = r.string()
            else:
                if not is_object_type(t):
                    raise RdbError(f"Unknown RDB encoding type {t}")
                try:
                    value = read_value(r, t, config)
                except values.EmptyKey:
                    res.empty_keys_skipped += 1
                    expire = idle = freq = -1
                    continue
            if expire != -1 and expire < now_ms and not keep_expired:
                res.keys_expired += 1
                res.expired.append((dbid, key))
            else:
                if key in data_dict:
                    raise RdbError(f"Duplicated key '{key.decode('latin-1')}' in DB {dbid}")
                data_dict[key] = value
                if expire != -1:
                    expires[key] = expire
                if idle != -1:
                    res.idle[(dbid, key)] = idle
                if freq != -1:
                    res.freq[(dbid, key)] = freq
                res.keys_loaded += 1
            expire = idle = freq = -1
    except RdbError:
        raise
    except (ValueError, TypeError, OverflowError, MemoryError) as e:
        raise RdbError(f"Corrupt RDB data at offset {r.pos}: {e}") from None
    # The 8-byte CRC64 follows EOF from version 5 on; zero means "not computed".
    if version >= 5:
        end = r.pos
        if end + 8 > size:
            raise RdbError("Short read: the file ends before its checksum")
        stored = int.from_bytes(bytes(data[end:end + 8]), "little")
        if stored and config["rdbchecksum"]:
            actual = crc64(memoryview(data)[:end])
            if actual != stored:
                raise RdbError(f"Wrong RDB checksum expected: ({stored:x}) got ({actual:x}). Aborting now.")
    return res


def install(server: Server, res: LoadResult, merge: bool = False) -> None:
    """Put a parsed image into the server: keys go into their databases (over existing ones),
    LRU/LFU hints and volatile hashes are registered. Function libraries load first; with
    ``merge`` (DEBUG RELOAD MERGE) one that exists is replaced, else it is an error."""
    loader = function_loader
    if res.functions:
        if loader is None:
            raise RdbError("Failed loading library: this server has no function engine")
        for code in res.functions:
            try:
                loader(server, code, merge)
            except ValueError as e:
                raise RdbError(f"Failed loading library, {e}") from None
    track = server.track_access
    lru_clock = server.lru_clock
    for dbid, (data, expires) in res.dbs.items():
        db = server.dbs[dbid]
        if not db.data:
            db.data = data
            db.expires = expires
        else:
            db.data.update(data)
            db.expires.update(expires)
        db.expire_snapshot = None
        for key, value in data.items():
            ttl = getattr(value, "ttl", None)
            if ttl:
                db.volatile_hashes[key] = value
            if track:
                server.evictor.created(db, key)
    if track:       # objectSetLRUOrLFU: FREQ under an LFU policy, IDLE under LRU
        if server.evictor.lfu:
            for (dbid, key), f in res.freq.items():
                server.evictor.set_lfu(server.dbs[dbid], key, f)
        else:
            for (dbid, key), idle in res.idle.items():
                server.dbs[dbid].access[key] = (lru_clock - idle) & 0xFFFFFF


def load_file(server: Server, path: str) -> LoadResult:
    """Read ``path`` whole, parse it and install it (all or nothing)."""
    with open(path, "rb") as f:
        data = f.read()
    res = parse(data, server)
    install(server, res)
    return res


def iter_keys(res: LoadResult) -> Iterable[tuple[int, bytes, Any, int]]:
    """(db, key, value, expire or -1) for every key a parse kept."""
    for dbid, (data, expires) in res.dbs.items():
        for key, value in data.items():
            yield dbid, key, value, expires.get(key, -1)
