"""How much memory the server uses: INFO's ``used_memory``, what ``maxmemory`` compares.

Valkey counts every byte it asks its allocator for (zmalloc's counter): the figure falls as
soon as a key is deleted, and it is read before every command. A Python process has two
allocators and neither keeps such a counter, so :class:`MemoryMeter` combines an exact
reading, taken when it is affordable, with an estimate kept between readings.

The exact reading adds up

* CPython's small-object allocator (pymalloc: objects of up to 512 bytes, i.e. most keys,
  small values, small collections): the bytes in allocated blocks, from
  ``_PyObject_DebugMallocStats`` written into an in-memory stream (``open_memstream``).
  pymalloc takes its 1 MiB arenas with mmap, so glibc does not see them.
* glibc malloc (larger objects: big strings, the keyspace dicts' tables, long lists'
  arrays, Lua, hiredis buffers): ``mallinfo2()``'s ``uordblks + hblkhd``.

Measured (Python 3.11, glibc 2.36, this repository's engine without the network):

* A reading costs 40-60 us on an empty server, 73 us with 1,000,000 small string keys,
  113 us after deleting half of them at random (pymalloc's walk is linear in its pools).
  ``mallinfo2`` alone is 0.4-2 us on a compact heap but walks every free chunk: 34 ms with
  50,000 free chunks (200,000 values of 0.6-3 KB, half deleted at random).
* Exactness: 1M SETs (16-byte keys, 10-byte values) grew the reading by 153.95 MB and the
  resident size by 153.73 MB; deleting half of them at random took 56.0 MB off the reading
  while the resident size did not fall (it rose: freed pools and chunks stay resident).
* Rejected: RSS (never falls after deletes), ``sys.getallocatedblocks()`` (counts blocks,
  not bytes, and costs 110-250 us at 1M keys), tracemalloc (filling 1M keys 6.2x slower,
  +98 MB of traces, ``get_traced_memory`` 1.4 ms), ``PYTHONMALLOC=malloc`` with mallinfo2
  alone (+10% RSS, the free-chunk walk above, and it must be set before Python starts).

So an exact reading is taken at most once per 100 times its own last cost (at most 1% of
the CPU): from cron every 100 ms, before an eviction decision when the estimate is within
1/64 of ``maxmemory``, on INFO, after a flush, on CONFIG SET maxmemory. Between readings,
while maxmemory is set, the meter adds after each deny-oom write (``wrote``) the bytes of
its arguments plus :data:`ARG_OVERHEAD` each (for SETBIT/SETRANGE/BITOP/*STORE/COPY: the
growth of the key they wrote, if larger), and subtracts the estimated size of every key
deleted, expired or evicted (``key_size``, the estimate of MEMORY USAGE). Estimated growth
against a reading, per command: SET with 10 B / 100 B / 1 KB values -6% / -7% / -3%, SETEX
-16%, ZADD +13%, SADD +29%, HSET +46%, RPUSH to existing lists +155% (the key is counted
again); deleting 500,000 keys: -4%. The cost while maxmemory is set: +0.3 us per command
for the eviction check and +0.25 us per write for the estimate (GET 1.6 -> 2.3 us, SET
1.7 -> 2.8 us through the engine, which also leaves its fast path then); nothing with
maxmemory 0, when ``used_memory`` is read only for INFO and cron.

The reading is of the whole process, as Valkey's is: the interpreter and pykey's modules
take about 16 MB before the first key (``used_memory_startup``), and an embedded server
counts what its host program allocates. Where the statistics are missing (no glibc, or a
Python without pymalloc), the missing part is replaced by the resident set size.
"""
from __future__ import annotations

import ctypes
import os
import resource
import sys
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..keyspace.database import Database
    from .client import Client
    from .server import Server

_PAGE = os.sysconf("SC_PAGE_SIZE")
_perf_ns = time.perf_counter_ns

# What one stored argument costs beyond its bytes: a bytes object's header (33 bytes), its
# rounding to pymalloc's 16-byte classes and a share of the dict slot and table growth
# (measured: 1M SETs of 16-byte keys and 10-byte values take 154 bytes a key, 26 of argv).
ARG_OVERHEAD = 64
DICT_ENTRY = 24 + 8 * 2         # a dict slot (hash, key, value) plus its index entry, roughly
# commands whose result can be far larger than their arguments: the position of the key
# they write (note_before measures it before, wrote after)
RESULT_KEY = {"setbit": 1, "setrange": 1, "bitfield": 1, "bitop": 2, "copy": 2, "pfmerge": 1,
              "sunionstore": 1, "sinterstore": 1, "sdiffstore": 1, "zunionstore": 1,
              "zinterstore": 1, "zdiffstore": 1, "zrangestore": 1, "geosearchstore": 1}
COST_FACTOR = 100               # an exact reading at most every COST_FACTOR times its cost
CRON_PERIOD_NS = 100_000_000    # cron reads at most every 100 ms


def rss() -> int:
    """Resident set size in bytes: one small read of /proc/self/statm where there is one."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


# ------------------------------------------------------------------ allocator statistics
class _MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]


def _bind() -> tuple[Any, Any, Any, Any, Any]:
    """ctypes handles: (mallinfo2, pymalloc stats, open_memstream, fclose, free)."""
    try:
        libc = ctypes.CDLL(None)
    except OSError:
        return None, None, None, None, None
    mallinfo2 = getattr(libc, "mallinfo2", None)
    if mallinfo2 is not None:
        mallinfo2.restype = _MallInfo2
        mallinfo2.argtypes = []
    stats = getattr(ctypes.pythonapi, "_PyObject_DebugMallocStats", None)
    memstream = getattr(libc, "open_memstream", None)
    fclose = getattr(libc, "fclose", None)
    free = getattr(libc, "free", None)
    if stats is None or memstream is None or fclose is None or free is None:
        stats = memstream = fclose = free = None
    else:
        stats.argtypes = [ctypes.c_void_p]
        stats.restype = ctypes.c_int
        memstream.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_size_t)]
        memstream.restype = ctypes.c_void_p
        fclose.argtypes = [ctypes.c_void_p]
        free.argtypes = [ctypes.c_void_p]
    return mallinfo2, stats, memstream, fclose, free


_MALLINFO2, _PYMALLOC_STATS, _OPEN_MEMSTREAM, _FCLOSE, _FREE = _bind()


def pymalloc_report() -> bytes:
    """pymalloc's own statistics text (empty when pymalloc is not in use)."""
    if _PYMALLOC_STATS is None:
        return b""
    buf = ctypes.c_void_p()
    size = ctypes.c_size_t()
    stream = _OPEN_MEMSTREAM(ctypes.byref(buf), ctypes.byref(size))
    if not stream:
        return b""
    try:
        used = _PYMALLOC_STATS(stream)
    finally:
        _FCLOSE(stream)
    try:
        return ctypes.string_at(buf, size.value) if used else b""
    finally:
        _FREE(buf)


def pymalloc_stats() -> tuple[int, int] | None:
    """(bytes in allocated blocks, bytes of arenas held) or None without pymalloc."""
    text = pymalloc_report()
    allocated = _number_after(text, b"# bytes in allocated blocks")
    if allocated < 0:
        return None
    return allocated, max(_number_after(text, b" bytes/arena"), 0)


def _number_after(text: bytes, label: bytes) -> int:
    """The number after the ``=`` on the line holding ``label`` (-1 if absent)."""
    i = text.find(label)
    if i < 0:
        return -1
    j = text.find(b"=", i)
    k = text.find(b"\n", j)
    try:
        return int(text[j + 1:k if k >= 0 else None].replace(b",", b""))
    except ValueError:
        return -1


def malloc_stats() -> tuple[int, int] | None:
    """glibc: (bytes in use, bytes taken from the system), or None without mallinfo2."""
    if _MALLINFO2 is None:
        return None
    mi = _MALLINFO2()
    return mi.uordblks + mi.hblkhd, mi.arena + mi.hblkhd


# ------------------------------------------------------------------ size estimates
def _item_size(item: Any) -> int:
    if isinstance(item, tuple):
        return sys.getsizeof(item) + sum(sys.getsizeof(x) for x in item)
    return sys.getsizeof(item)


def key_size(key: bytes, value: Any, samples: int = 5) -> int:
    """An estimate of the bytes ``key`` and its value hold (MEMORY USAGE): the objects' own
    sizes, and for a collection its container plus the average of ``samples`` elements
    times its length. O(samples)."""
    size = sys.getsizeof(key) + DICT_ENTRY
    cls = value.__class__
    if cls is bytes or cls is bytearray:
        return size + sys.getsizeof(value)
    fn = getattr(value, "memory_usage", None)
    if callable(fn):
        return size + int(fn(samples))
    size += sys.getsizeof(value)
    try:
        n = len(value)
    except TypeError:
        return size
    if not n:
        return size
    if isinstance(value, dict):
        it = iter(value.items())
    else:
        try:
            it = iter(value)
        except TypeError:
            return size
    total = taken = 0
    for item in it:
        total += _item_size(item)
        taken += 1
        if taken >= samples:
            break
    if taken:
        size += total * n // taken
    return size


# ------------------------------------------------------------------ the meter
class MemoryMeter:
    """``used_memory``: the last exact reading plus the changes estimated since (see the
    module docstring). ``used()`` is O(1); ``refresh()`` costs an exact reading."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.base = 0                  # the last exact reading
        self.delta = 0                 # estimated change since it
        self.read_ns = 0               # when it was taken (perf_counter_ns)
        self.cost_ns = 0               # what it cost
        self.pymalloc = (0, 0)         # (allocated, arenas) of the last reading
        self.malloc = (0, 0)           # (in use, system) of the last reading
        self.rss_part = 0              # RSS standing in for a missing statistic
        self.peak = 0
        self.before: tuple[Database, bytes, int] | None = None    # see note_before()
        self.startup = self.refresh()
        server.cron_hooks.append(self.cron)
        server.flush_hooks.append(self.on_flush)

    # ------------------------------------------------------------ readings
    def used(self) -> int:
        used = self.base + self.delta
        return used if used > 0 else 0

    def refresh(self) -> int:
        """Take an exact reading now; returns used_memory."""
        t0 = _perf_ns()
        pym = pymalloc_stats()
        mal = malloc_stats()
        total = 0
        if pym is not None:
            self.pymalloc = pym
            total += pym[0]
        if mal is not None:
            self.malloc = mal
            total += mal[0]
        if pym is None or mal is None:
            # the part nobody counts for us: stand in with the resident size
            self.rss_part = max(rss() - total, 0)
            total += self.rss_part
        t1 = _perf_ns()
        self.base = total
        self.delta = 0
        self.read_ns = t1
        self.cost_ns = t1 - t0
        if total > self.peak:
            self.peak = total
        return total

    def due(self, factor: int = COST_FACTOR) -> bool:
        """May an exact reading be taken now (at most once per ``factor`` times its cost)?"""
        return _perf_ns() - self.read_ns >= self.cost_ns * factor

    def current(self) -> int:
        """used_memory for INFO and MEMORY STATS. With maxmemory set: a fresh reading when
        one is due, else the estimate the eviction check before this command compared.
        Without: a fresh reading unless one was taken in the last 10 times its cost."""
        if self.due() if self.server.maxmemory else self.due(10):
            return self.refresh()
        used = self.used()
        if used > self.peak:
            self.peak = used
        return used

    def cron(self) -> None:
        if _perf_ns() - self.read_ns >= CRON_PERIOD_NS and self.due():
            self.refresh()

    def not_counted(self) -> int:
        """Valkey's freeMemoryGetNotCountedMemory: replica output buffers (the AOF is
        written straight to its file, with no buffer to count)."""
        total = 0
        for c in self.server.clients.values():
            if c.kind == "replica":
                total += c.obuf_size() if c.obuf_size is not None else c.obuf_bytes
        return total

    # ------------------------------------------------------------ the estimate
    def note_before(self, client: Client, cmd: Any, argv: list[bytes]) -> None:
        """Before a top-level command whose result can be much larger than its arguments
        (SETBIT/SETRANGE offsets, BITOP, the *STORE commands, COPY): the size of the key it
        writes, so that the growth is what :meth:`wrote` adds."""
        pos = RESULT_KEY.get(cmd.name)
        if pos is None or pos >= len(argv):
            self.before = None
            return
        db = client.db
        value = db.data.get(argv[pos])
        self.before = (db, argv[pos], 0 if value is None else key_size(argv[pos], value))

    def wrote(self, client: Client, argv: list[bytes], top: bool) -> None:
        """A deny-oom command changed the data: add its estimated growth."""
        n = len(argv)
        grew = sum(map(len, argv)) - len(argv[0]) + ARG_OVERHEAD * (n - 1)
        before = self.before
        if top and before is not None:
            self.before = None
            db, key, old = before
            value = db.data.get(key)
            if value is not None:
                size = key_size(key, value) - old
                if size > grew:
                    grew = size
        self.delta += grew

    def on_deleted(self, db: Database, key: bytes, value: Any) -> None:
        """A key went (deleted, expired, evicted): subtract its estimated size."""
        self.delta -= key_size(key, value) - DICT_ENTRY + 16     # the slot stays; blocks round up

    def on_flush(self, dbid: int) -> None:
        """FLUSHDB/FLUSHALL/SWAPDB: whatever was freed, read it now (it is rare, and already
        O(keys))."""
        self.refresh()

    def track(self, on: bool) -> None:
        """Keep the estimate (deletion hook) only while maxmemory is set."""
        hooks = self.server.deletion_hooks
        if on and self.on_deleted not in hooks:
            hooks.append(self.on_deleted)
        elif not on and self.on_deleted in hooks:
            hooks.remove(self.on_deleted)

    # ------------------------------------------------------------ INFO / MEMORY STATS
    def overhead(self) -> dict[str, Any]:
        """Valkey's getMemoryOverheadData, from a current reading."""
        server = self.server
        used = self.current()
        resident = rss()
        clients_normal = clients_replicas = 0
        for c in server.clients.values():
            size = (c.obuf_size() if c.obuf_size is not None else c.obuf_bytes) + c.qbuf_bytes
            if c.kind == "replica":
                clients_replicas += size
            else:
                clients_normal += size
        backlog = getattr(server.replication, "backlog", None)
        repl_backlog = getattr(backlog, "histlen", 0) if backlog is not None else 0
        from .. import scripting
        lua_caches = functions_caches = 0
        try:
            fields = dict(scripting.get(server).memory_fields())
            lua_caches = int(fields.get("used_memory_scripts_eval", 0))
            functions_caches = int(fields.get("used_memory_functions", 0))
        except Exception:          # scripting not loaded in a bare engine
            pass
        dbs = []
        total_keys = 0
        db_overhead = 0
        for db in server.dbs:
            if not db.data:
                continue
            main = sys.getsizeof(db.data) + sys.getsizeof(db.access)
            expires = sys.getsizeof(db.expires) if db.expires else 0
            dbs.append((db.id, main, expires))
            db_overhead += main + expires
            total_keys += len(db.data)
        startup = self.startup
        overhead = (startup + repl_backlog + clients_replicas + clients_normal + lua_caches
                    + functions_caches + db_overhead)
        dataset = max(used - overhead, 0)
        net = used - startup if used > startup else 1
        peak = max(self.peak, used)
        pym_alloc, pym_arenas = self.pymalloc
        mal_used, mal_system = self.malloc
        allocated = pym_alloc + mal_used + self.rss_part
        active = pym_arenas + mal_system + self.rss_part
        return {
            "used": used, "rss": resident, "peak": peak, "startup": startup,
            "overhead": overhead, "dataset": dataset, "dataset_perc": dataset * 100 / net,
            "peak_perc": used * 100 / peak if peak else 100.0,
            "allocated": allocated, "active": active, "resident": resident,
            "frag_ratio": active / allocated if allocated else 1.0, "frag_bytes": active - allocated,
            "rss_ratio": resident / active if active else 1.0, "rss_bytes": resident - active,
            "total_frag": resident / used if used else 1.0, "total_frag_bytes": resident - used,
            "repl_backlog": repl_backlog, "clients_replicas": clients_replicas,
            "clients_normal": clients_normal, "aof_buffer": 0, "lua_caches": lua_caches,
            "functions_caches": functions_caches, "dbs": dbs, "keys": total_keys,
            "bytes_per_key": dataset // total_keys if total_keys else 0,
            "not_counted": self.not_counted(),
        }
