"""maxmemory eviction, as Valkey's evict.c does it, and the per-key access data it reads.

Before every command while ``maxmemory`` is set, the engine calls :meth:`Evictor.perform`
(Valkey's performEvictions): when used memory (engine/memory.py) is over the limit, keys
are evicted by ``maxmemory-policy`` until it is not, for at most the time
``maxmemory-eviction-tenacity`` allows (then a timer carries on); ``noeviction``, or
nothing left to evict, makes deny-oom commands fail with OOM.

* LRU, LFU and volatile-ttl fill a pool of the 16 best candidates (``EVPOOL_SIZE``) with
  ``maxmemory-samples`` random keys from each database and evict the best one still there.
* allkeys-random / volatile-random evict a random key, visiting the databases in turn.
* volatile-* policies sample the keys with a TTL only.

An evicted key is deleted through the keyspace's signals (WATCH, client-side caching), an
``evicted`` keyspace event (class ``e``) is published, the deletion is propagated as DEL or
UNLINK (``lazyfree-lazy-eviction``) and INFO's ``evicted_keys`` counts it.

Per-key access data lives in ``Database.access`` only while an LRU or LFU policy is set
(one dict slot a key, ~80 bytes in Python): under LRU the LRU clock of the last access
(seconds, 24 bits), under LFU Valkey's 24 bits: the last decrement time in minutes (16
bits) and a logarithmic 8-bit counter (``lfu-log-factor``) that decays by one every
``lfu-decay-time`` minutes. A key with no entry (it was created before the policy was set)
counts as accessed when tracking began. Switching between LRU and LFU starts afresh.

Random sampling: a Python dict has no random access, so each sampled dict has a snapshot
of its keys (a list, 8 bytes a key, kept only while evictions happen: dropped after a
minute unused and on FLUSHDB/FLUSHALL) rebuilt when more than an eighth of what it returns
is gone, or when the dict has grown by a quarter; the rebuild is O(n) once per O(n)
evictions. An evicted key's slot is cleared, so the snapshot does not keep its name alive
(nor does the active expire cycle's snapshot: it is dropped once an eighth of it was
evicted). Sampling is O(samples), an eviction O(databases x samples).

Evictions from a timer (CONFIG SET maxmemory, or when ``maxmemory-eviction-tenacity``
stopped a run) go a millisecond apart, so that what they queued for clients
(invalidations) is written out in between, as Valkey's beforeSleep does: counting those
buffers would feed the loop. Not implemented: client eviction (``maxmemory-clients``).
"""
from __future__ import annotations

import random
import time
from typing import TYPE_CHECKING

from ..log import log

if TYPE_CHECKING:
    from ..engine.server import Server
    from .database import Database

EVICT_OK, EVICT_RUNNING, EVICT_FAIL = 0, 1, 2
EVPOOL_SIZE = 16
LFU_INIT_VAL = 5
LRU_CLOCK_MAX = (1 << 24) - 1
LRU_CLOCK_RESOLUTION = 1000            # ms per LRU clock tick
_ULLONG_MAX = (1 << 64) - 1
_IDLE_DROP_NS = 60 * 1_000_000_000     # snapshots unused this long are dropped (cron)

_perf_ns = time.perf_counter_ns
_rand = random.random


# ------------------------------------------------------------------ LFU arithmetic
def lfu_minutes(server: Server) -> int:
    """LFUGetTimeInMinutes: the server's time in minutes, 16 bits."""
    return (server.now_ms // 60000) & 65535


def lfu_elapsed(server: Server, ldt: int) -> int:
    now = lfu_minutes(server)
    return now - ldt if now >= ldt else 65535 - ldt + now


def lfu_decr_and_return(server: Server, packed: int) -> int:
    """LFUDecrAndReturn: the counter after the decay periods elapsed (not stored)."""
    counter = packed & 255
    decay = server.config["lfu-decay-time"]
    periods = lfu_elapsed(server, packed >> 8) // decay if decay else 0
    if periods:
        counter = 0 if periods > counter else counter - periods
    return counter


def lfu_log_incr(server: Server, counter: int) -> int:
    """LFULogIncr: add one with probability 1 / ((counter - LFU_INIT_VAL) * factor + 1)."""
    if counter == 255:
        return 255
    base = counter - LFU_INIT_VAL
    if base < 0:
        base = 0
    if _rand() < 1.0 / (base * server.config["lfu-log-factor"] + 1):
        counter += 1
    return counter


class _Packed:
    """The packed LFU values of the current minute, shared so a key's entry costs no int of
    its own (as the LRU clock value is shared by every key touched in the same second)."""
    __slots__ = ("minute", "values")

    def __init__(self) -> None:
        self.minute = -1
        self.values: list[int] = []

    def get(self, minute: int, counter: int) -> int:
        if minute != self.minute:
            self.minute = minute
            base = minute << 8
            self.values = [base | c for c in range(256)]
        return self.values[counter]


# ------------------------------------------------------------------ sampling
class _Sampler:
    """Random keys of one dict, drawn from a snapshot of its keys (see the module doc). An
    evicted key's slot in the snapshot is cleared (:meth:`forget`), so the snapshot does not
    keep evicted keys' memory alive."""
    __slots__ = ("source", "keys", "taken", "missed", "used_ns")

    def __init__(self) -> None:
        self.source = 0               # id() of the dict sampled (not a reference: a flushed
        self.keys: list[bytes | None] = []      # database must not stay alive for it)
        self.taken = 0
        self.missed = 0
        self.used_ns = 0

    def sample(self, d: dict, n: int) -> list[tuple[bytes, int]]:
        """Up to ``n`` distinct random live keys, each with its snapshot index (-1: none)."""
        size = len(d)
        if size <= n:
            return [(k, -1) for k in d]
        keys = self.keys
        if (self.source != id(d) or self.missed * 8 > self.taken + 32
                or size * 4 > len(keys) * 5 + 64):
            keys = self.keys = list(d)
            self.source = id(d)
            self.taken = self.missed = 0
        self.used_ns = _perf_ns()
        live = []
        for i in random.sample(range(len(keys)), n):
            k = keys[i]
            if k is not None and k in d:
                live.append((k, i))
        self.taken += n
        self.missed += n - len(live)
        return live

    def forget(self, key: bytes, i: int) -> None:
        keys = self.keys
        if 0 <= i < len(keys) and keys[i] is key:
            keys[i] = None

    def random_key(self, d: dict) -> tuple[bytes, int] | None:
        for _ in range(8):
            got = self.sample(d, 1)
            if got:
                return got[0]
        key = next(iter(d), None)
        return None if key is None else (key, -1)


# ------------------------------------------------------------------ the evictor
class Evictor:
    """performEvictions and the per-key access data (see the module docstring)."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.pool: list[tuple[int, int, bytes, int]] = []  # (score, dbid, key, index), best last
        self.samplers: dict[tuple[int, bool], _Sampler] = {}
        self.expire_dead: dict[int, tuple[int, int]] = {}   # see _expire_snapshot_dead
        self.next_db = 0
        self.proc_running = False
        self.evicting = False         # in the loop: what it sends a client precedes its reply
        self.fast_limit = 0           # below this estimate no reading is taken (limit - 1/64)
        self.lfu = False
        self.lru = False
        self.packed = _Packed()
        self.epoch = 0                # access value of keys with no entry (see module doc)
        server.stat_total_eviction_exceeded_time = 0      # us (CONFIG RESETSTAT zeroes these)
        server.stat_last_eviction_exceeded_time = 0       # perf_counter_ns when it began, or 0
        server.pre_command_oom = False                    # Valkey's pre_command_oom_state
        server.touch = self._touch_lru
        config = server.config
        config.watch("maxmemory-policy", self._policy_changed)
        config.watch("maxmemory", self._maxmemory_changed)
        server.cron_hooks.append(self.cron)
        server.flush_hooks.insert(0, self.on_flush)    # before the meter reads again
        self._policy_changed(None, config["maxmemory-policy"])
        server.maxmemory = config["maxmemory"]
        self.fast_limit = server.maxmemory - (server.maxmemory >> 6)
        server.memory.track(bool(server.maxmemory))

    # ------------------------------------------------------------ configuration
    def _policy_changed(self, old: object, new: str) -> None:
        server = self.server
        lfu = "lfu" in new
        lru = "lru" in new
        if (lfu, lru) != (self.lfu, self.lru):
            # access values mean something else now (or nothing): start afresh
            for db in server.dbs:
                db.access = {}
            server.update_clock()
            self.epoch = (self.packed.get(lfu_minutes(server), LFU_INIT_VAL) if lfu
                          else server.lru_clock)
        self.lfu, self.lru = lfu, lru
        server.track_access = lfu or lru
        server.touch = self._touch_lfu if lfu else self._touch_lru
        self.pool = []

    def _maxmemory_changed(self, old: int, new: int) -> None:
        """updateMaxmemory: warn when already over the new limit, and start evicting now."""
        server = self.server
        server.maxmemory = new
        self.fast_limit = new - (new >> 6)
        server.memory.track(bool(new))
        if not new:
            return
        used = server.memory.refresh() - server.memory.not_counted()
        if new < used:
            log.warning(f"WARNING: the new maxmemory value set via CONFIG SET ({new}) is smaller than "
                        f"the current memory usage ({used}). This will result in key eviction and/or "
                        "the inability to accept new write commands depending on the maxmemory-policy.")
        self.start_time_proc()

    # ------------------------------------------------------------ access data
    def _touch_lru(self, db: Database, key: bytes) -> None:
        """lookupKey's access update under an LRU (or no) policy."""
        server = self.server
        c = server.current_client
        if c is not None and c.no_touch and not _is_touch(server):
            return
        if server.snapshots.child_pid > 0:      # no copy-on-write storm while a child saves
            return
        db.access[key] = server.lru_clock

    def _touch_lfu(self, db: Database, key: bytes) -> None:
        """updateLFU: decay, then a logarithmic increment, stamped with the current minute."""
        server = self.server
        c = server.current_client
        if c is not None and c.no_touch and not _is_touch(server):
            return
        if server.snapshots.child_pid > 0:
            return
        counter = lfu_decr_and_return(server, db.access.get(key, self.epoch))
        counter = lfu_log_incr(server, counter)
        db.access[key] = self.packed.get(lfu_minutes(server), counter)

    def created(self, db: Database, key: bytes) -> None:
        """A new key: accessed now (LRU), or the initial LFU counter stamped now."""
        server = self.server
        if self.lfu:
            db.access[key] = self.packed.get(lfu_minutes(server), LFU_INIT_VAL)
        else:
            db.access[key] = server.lru_clock

    def written(self, db: Database, key: bytes, existed: bool) -> None:
        """Database.set: an existing key was looked up for writing (touched), a new one made."""
        if existed:
            self.server.touch(db, key)
        else:
            self.created(db, key)

    def set_lfu(self, db: Database, key: bytes, freq: int) -> None:
        """RESTORE ... FREQ and RDB loading (objectSetLRUOrLFU)."""
        if self.lfu:
            db.access[key] = self.packed.get(lfu_minutes(self.server), freq)

    def lfu_counter(self, db: Database, key: bytes) -> int:
        """OBJECT FREQ and the RDB writer: the decayed counter (LFU_INIT_VAL when unknown)."""
        if not self.lfu:
            return LFU_INIT_VAL
        return lfu_decr_and_return(self.server, db.access.get(key, self.epoch))

    def idle_ms(self, db: Database, key: bytes) -> int:
        """estimateObjectIdleTime, in ms."""
        clock = self.server.lru_clock
        last = db.access.get(key, self.epoch)
        if clock >= last:
            return (clock - last) * LRU_CLOCK_RESOLUTION
        return (clock + (LRU_CLOCK_MAX - last)) * LRU_CLOCK_RESOLUTION

    # ------------------------------------------------------------ performEvictions
    def perform(self) -> int:
        """EVICT_OK, EVICT_RUNNING (over the limit, a timer keeps evicting) or EVICT_FAIL
        (over the limit and nothing can be evicted)."""
        server = self.server
        meter = server.memory
        used = meter.base + meter.delta
        if used <= self.fast_limit:          # well below the limit: the hot path
            if server.stat_last_eviction_exceeded_time:
                self._update_metrics(EVICT_OK)
            return EVICT_OK
        limit = server.maxmemory
        if not self._safe():
            return EVICT_OK
        if meter.due():
            used = meter.refresh()
        if used <= limit or used - meter.not_counted() <= limit:
            return self._update_metrics(EVICT_OK)
        policy = server.config["maxmemory-policy"]
        if policy == "noeviction":
            return self._update_metrics(EVICT_FAIL)
        limit_ns = _time_limit_us(server.config["maxmemory-eviction-tenacity"]) * 1000
        target = limit + meter.not_counted()
        tofree = used - target
        lazy = server.config["lazyfree-lazy-eviction"]
        start = _perf_ns()
        freed = keys_freed = 0
        result = EVICT_OK
        allkeys = policy.startswith("allkeys")
        randomly = policy.endswith("random")
        # Valkey's loop: free what was over when it started, counting what each deletion
        # alone releases (not the invalidations or replica traffic it causes: those would
        # feed the loop), looking at the real figure every 16 keys
        self.evicting = True
        try:
            while freed < tofree:
                found = self._random_pick(allkeys) if randomly else self._pool_pick(allkeys)
                if found is None:
                    result = EVICT_FAIL         # nothing left to free
                    break
                freed += self._evict(found[0], found[1], allkeys, found[2], lazy)
                keys_freed += 1
                if keys_freed % 16 == 0:
                    if meter.due() and meter.refresh() <= target:
                        break
                    if _perf_ns() - start > limit_ns:
                        self.start_time_proc()   # still over: carry on from a timer
                        break
        finally:
            self.evicting = False
        if server.latency_monitor_ms:        # the "eviction-cycle" latency event
            server.latency_add("eviction-cycle", (_perf_ns() - start) // 1_000_000)
        if result == EVICT_OK and self.proc_running:
            result = EVICT_RUNNING
        return self._update_metrics(result)

    def _safe(self) -> bool:
        """isSafeToPerformEvictions: not while loading, a busy script, or EVICT paused."""
        server = self.server
        if server.loading or server.script_busy is not None:
            return False
        if server.paused_actions:
            from ..engine.pause import EVICT, update
            update(server)
            if server.paused_actions & EVICT:
                return False
        return True

    def _update_metrics(self, result: int) -> int:
        server = self.server
        if result == EVICT_OK:
            began = server.stat_last_eviction_exceeded_time
            if began:
                server.stat_total_eviction_exceeded_time += (_perf_ns() - began) // 1000
                server.stat_last_eviction_exceeded_time = 0
        elif not server.stat_last_eviction_exceeded_time:
            server.stat_last_eviction_exceeded_time = _perf_ns()
        return result

    def exceeded_times_ms(self) -> tuple[int, int]:
        """INFO's total_eviction_exceeded_time and current_eviction_exceeded_time (ms)."""
        server = self.server
        began = server.stat_last_eviction_exceeded_time
        current = (_perf_ns() - began) // 1000 if began else 0
        return (server.stat_total_eviction_exceeded_time + current) // 1000, current // 1000

    def start_time_proc(self) -> None:
        """startEvictionTimeProc: keep evicting from the event loop until done."""
        if self.proc_running:
            return
        self.proc_running = True
        try:
            self.server.schedule(0, self._time_proc)
        except RuntimeError:          # no event loop (the engine used alone): run it now
            while self.proc_running:
                self._time_proc()

    def _time_proc(self) -> None:
        server = self.server
        if not server.maxmemory:
            self.proc_running = False
            return
        server.update_clock()
        if self.perform() == EVICT_RUNNING:
            try:
                # after a millisecond: the event loop first writes out what the evictions
                # queued for clients (invalidations), as Valkey's beforeSleep does between
                # two runs; counting those buffers would feed the eviction loop
                server.schedule(0.001, self._time_proc)
                return
            except RuntimeError:
                return                # start_time_proc's loop calls again
        self.proc_running = False

    # ------------------------------------------------------------ choosing keys
    def _sampler(self, dbid: int, allkeys: bool) -> _Sampler:
        s = self.samplers.get((dbid, allkeys))
        if s is None:
            s = self.samplers[(dbid, allkeys)] = _Sampler()
        return s

    def _pool_pick(self, allkeys: bool) -> tuple[Database, bytes, int] | None:
        """The eviction pool: sample every database into it, then take the best candidate
        that still exists (evictionPoolPopulate and the loop around it)."""
        server = self.server
        dbs = server.dbs
        pool = self.pool
        samples = server.config["maxmemory-samples"]
        while True:
            total = 0
            for db in dbs:
                d = db.data if allkeys else db.expires
                if not d:
                    continue
                total += len(d)
                self._populate(db, d, allkeys, samples)
            if not total:
                return None
            while pool:
                _, dbid, key, i = pool.pop()
                db = dbs[dbid]
                if key in (db.data if allkeys else db.expires):
                    return db, key, i
                # a ghost (deleted since it was sampled): try the next one

    def _populate(self, db: Database, d: dict, allkeys: bool, samples: int) -> None:
        pool = self.pool
        for key, i in self._sampler(db.id, allkeys).sample(d, samples):
            if self.lru:
                score = self.idle_ms(db, key)
            elif self.lfu:
                score = 255 - lfu_decr_and_return(self.server, db.access.get(key, self.epoch))
            else:                                   # volatile-ttl: the sooner the better
                score = _ULLONG_MAX - d[key]
            n = len(pool)
            k = 0
            while k < n and pool[k][0] < score:
                k += 1
            if k == 0 and n == EVPOOL_SIZE:
                continue                            # worse than every candidate held
            if n < EVPOOL_SIZE:
                pool.insert(k, (score, db.id, key, i))
            else:                                   # full: drop the worst, keep the order
                del pool[0]
                pool.insert(k - 1, (score, db.id, key, i))

    def _random_pick(self, allkeys: bool) -> tuple[Database, bytes, int] | None:
        dbs = self.server.dbs
        n = len(dbs)
        for _ in range(n):
            self.next_db += 1
            db = dbs[self.next_db % n]
            d = db.data if allkeys else db.expires
            if d:
                got = self._sampler(db.id, allkeys).random_key(d)
                if got is not None:
                    return db, got[0], got[1]
        return None

    # ------------------------------------------------------------ evicting a key
    def _evict(self, db: Database, key: bytes, allkeys: bool, index: int, lazy: bool) -> int:
        """Delete an evicted key through the keyspace's signals; returns the bytes its
        deletion released, as the memory meter estimates them."""
        server = self.server
        meter = server.memory
        before = meter.delta
        t0 = _perf_ns() if server.latency_monitor_ms else 0     # the "eviction-del" latency event
        value = db.data.pop(key, None)
        if value is None:
            return 0
        sampler = self.samplers.get((db.id, allkeys))
        if sampler is not None:
            sampler.forget(key, index)
        if db.expires and db.expires.pop(key, None) is not None and db.expire_snapshot is not None:
            self._expire_snapshot_dead(db)
        if db.access:
            db.access.pop(key, None)
        server.on_key_deleted(db, key, value)
        if t0:
            del value                               # freed now, within the measured time
            server.latency_add("eviction-del", (_perf_ns() - t0) // 1_000_000)
        released = before - meter.delta
        server.stat_evictedkeys += 1
        db.signal_modified(key)
        server.notify("e", "evicted", key, db.id)
        if server.propagate_sinks:
            server.propagate(db.id, [b"UNLINK" if lazy else b"DEL", key])
        return released

    def _expire_snapshot_dead(self, db: Database) -> None:
        """The active expire cycle samples from a snapshot of the keys with a TTL, which keeps
        evicted keys' names alive: once an eighth of it was evicted, drop it (the cycle takes
        a new one), so evicting frees what it should."""
        snap = db.expire_snapshot
        ident, dead = self.expire_dead.get(db.id, (0, 0))
        if ident != id(snap):
            ident, dead = id(snap), 0
        dead += 1
        if dead * 8 > len(snap) + 64:
            db.expire_snapshot = None
            dead = 0
        self.expire_dead[db.id] = (ident, dead)

    def on_flush(self, dbid: int) -> None:
        """FLUSHDB/FLUSHALL: forget the sampled keys (they would keep deleted keys alive)."""
        self.samplers.clear()
        self.pool.clear()

    def cron(self) -> None:
        """Drop key snapshots nobody sampled for a minute (their memory is 8 bytes a key)."""
        if self.samplers and self.server.cron_loops % 100 == 0:
            now = _perf_ns()
            for k, s in list(self.samplers.items()):
                if now - s.used_ns > _IDLE_DROP_NS:
                    del self.samplers[k]


def _is_touch(server: Server) -> bool:
    argv = server.current_argv
    return bool(argv) and argv[0].lower() == b"touch"


def _time_limit_us(tenacity: int) -> int:
    """evictionTimeLimitUs: 0..500 us linearly up to 10, then +15% a step, none at 100."""
    if tenacity <= 10:
        return 50 * tenacity
    if tenacity < 100:
        return int(500.0 * 1.15 ** (tenacity - 10.0))
    return 1 << 62

