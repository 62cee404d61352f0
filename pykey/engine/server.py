"""The server's state and ``execute``, the one path every command takes.

Synchronous and free of I/O: the network server, the embedded server and scripts all call
:meth:`Server.execute`. Timers (blocked-client timeouts) go through ``schedule``, which the
network layer provides.
"""
from __future__ import annotations

import os
import random
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from .. import errors
from ..config import Config
from ..errors import CommandError
from ..keyspace import lazyfree, reads
from ..keyspace.database import Database
from ..keyspace.eviction import EVICT_FAIL
from ..keyspace.scan import Cursors
from ..protocol.replies import QUEUED
from . import latency, monitor, multi, registry
from .client import Client

BLOCKED = object()          # a command parked its client; the reply comes later
_perf_ns = time.perf_counter_ns
_time_ns = time.time_ns

# extra active-expiry passes run by cron beside the key cycle (e.g. hash field expiry)
EXPIRE_JOBS: list[Callable[[Server], None]] = []

# what a RESP2 client may send while subscribed, and what it may send only then
_PUBSUB_CONTEXT = frozenset({"ping", "subscribe", "ssubscribe", "unsubscribe", "sunsubscribe",
                             "psubscribe", "punsubscribe", "quit", "reset"})
_NEEDS_SUBSCRIPTION = frozenset({"unsubscribe", "sunsubscribe", "punsubscribe"})

# commands still allowed while a MULTI is open (the rest are queued)
_MULTI_RUN_NOW = frozenset({"exec", "discard", "multi", "watch", "quit", "reset"})
# clients whose writes a read-only replica obeys (Valkey's mustObeyClient)
_OBEYED = frozenset({"master", "aof"})
# commands a replica (or a MONITOR client, which Valkey flags as one) may not send
_KEYSPACE_FLAGS = frozenset({"write", "readonly", "may_replicate"})


class Server:
    # The attributes the request path reads and writes for every command are slots (a
    # slot is read and written at a fixed offset; an instance dict of ~150 attributes
    # is not split and its lookups cost ~25% more); the rest live in __dict__.
    __slots__ = ("executing", "now_ns", "now_ms", "clock_offset_ms", "dirty", "current_argv", "read_mode",
                 "current_client", "monitors", "latency_tracking", "stat_numcommands", "dt_notable",
                 "latency_monitor_us", "slowlog_threshold", "tracking_clients", "_maxmemory", "propagate_sinks",
                 "ready_keys", "gate", "track_access", "notify_keymiss", "notify_new", "notify_sink",
                 "stat_keyspace_hits", "stat_keyspace_misses", "key_watchers", "blocking_keys", "writing_client",
                 "lru_clock", "dbs", "config", "clients", "clock_ns", "clock_fresh", "dispatch", "__dict__",
                 "__weakref__")

    def __init__(self, config: Config | None = None) -> None:
        self._maxmemory = self._min_replicas_to_write = self._paused_actions = 0
        self._script_busy: Any = None
        self._is_replica = False             # replication/replica.py: REPLICAOF host port
        self.gate = False
        self.config = config or Config()
        for name in _NEEDS_SUBSCRIPTION:        # commands that need a check even on the fast path
            cmd = registry.COMMANDS.get(name.encode())
            if cmd is not None:
                cmd.gated = True
        for cmd in registry.all_commands():
            cmd.read_mode = reads.read_mode(cmd)
        # commands by name as clients send them: lower case and upper case
        self.dispatch = {**{k.upper(): v for k, v in registry.COMMANDS.items()}, **registry.COMMANDS}
        self.read_mode = 0                      # the running command's (Database.lookup reads it)
        self.dbs = [Database(self, i) for i in range(self.config["databases"])]
        self.clients: dict[int, Client] = {}
        self._next_id = 0
        self.run_id = os.urandom(20).hex()
        self.start_time = time.time()
        self.now_ms = _time_ns() // 1_000_000
        self.now_ns = self.now_ms * 1_000_000
        self.clock_ns = self.now_ns           # the last clock reading (call(), the network layer)
        self.clock_fresh = False              # True while a batch runs: clock_ns is current
        self.clock_offset_ms = 0              # tests move time forward through this
        self.lru_clock = (self.now_ms // 1000) & 0xFFFFFF     # right from the start (cron refreshes it)
        # Per-key access times cost ~80 bytes a key in a Python dict (measured with 1M keys:
        # 106 B/key for the keys themselves), so they are kept only while an LRU/LFU eviction
        # policy needs them; OBJECT IDLETIME is approximate otherwise.
        self.track_access = False
        self.dirty = 0
        self.lastsave = int(time.time())
        self.active_expire_enabled = True
        self.cron_paused = False                 # DEBUG PAUSE-CRON
        self.key_watchers: list[Callable[[Database, bytes], None]] = []
        self.deletion_hooks: list[Callable[[Database, bytes, Any], None]] = []
        self.propagate_sinks: list[Callable[[int, list[bytes]], None]] = []
        self.notify_sink: Callable[[str, bytes, int], None] | None = None
        self.ready_keys: list[tuple[Database, bytes]] = []
        self.blocking_keys: dict[tuple[int, bytes], deque] = {}
        self.blocked_clients = 0
        self.schedule: Callable[[float, Callable[[], None]], Any] = _no_timer
        self.cursors = Cursors()
        self.slowlog: deque = deque()
        self.slowlog_next_id = 0
        self.errorstats: dict[str, int] = {}
        self.executing: Client | None = None
        self.loading = False
        self.shutdown_requested: Callable[[list[bytes]], None] | None = None
        # CLIENT PAUSE (engine/pause.py): purpose -> (end ms, actions); their union
        self.pause_purposes: dict[str, tuple[int, int]] = {}
        self.paused_actions = 0
        self.postponed: list[Any] = []            # clients parked by a pause, in order
        # transactions (engine/multi.py) and MONITOR (engine/monitor.py)
        self.watched_keys: dict[tuple[int, bytes], list[Any]] = {}
        self.monitors: list[Client] = []
        # an open execution unit (EXEC, a script) collects what it propagates, see propagate()
        self.also_propagate: list[tuple[int, list[bytes]]] | None = None
        # per-command flag resolvers (scripts declare their flags): name -> fn(client, argv, flags)
        self.flag_resolvers: dict[str, Callable[[Client, list[bytes], frozenset], frozenset]] = \
            dict(registry.FLAG_RESOLVERS)
        # a script past busy-reply-threshold (scripting.run.ScriptRun): other clients get BUSY;
        # the network layer sets events_while_busy to serve them meanwhile (fn(protected client))
        self.script_busy: Any = None
        self.events_while_busy: Callable[[Client], None] | None = None
        self.listeners_info: dict[str, Any] = {}
        self.client_close_hooks: list[Callable[[Client], None]] = []
        # RESET: leave MULTI (unwatching) and MONITOR, among others
        self.reset_hooks: list[Callable[[Client], None]] = [multi.discard_transaction, monitor.stop]
        self.flush_hooks: list[Callable[[int], None]] = []          # FLUSHDB/FLUSHALL (-1)
        self.cron_hooks: list[Callable[[], None]] = []
        self.flushing = False    # FLUSH/SWAPDB signal keys for WATCH only (see signal_flushed)
        self.current_argv: list[bytes] | None = None
        self.current_client: Client | None = None   # who sent the top-level command running
        # INFO stats
        self.stat_numcommands = 0
        self.stat_numconnections = 0
        self.stat_rejected_conn = 0
        self.stat_expiredkeys = 0
        self.stat_expired_fields = 0
        self.stat_expired_stale_perc = 0.0
        self.stat_expired_time_cap_reached_count = 0
        self.stat_expire_cycle_time_used = 0
        self.stat_evictedkeys = 0
        self.stat_keyspace_hits = 0
        self.stat_keyspace_misses = 0
        self.stat_net_input_bytes = 0
        self.stat_net_output_bytes = 0
        self.stat_total_error_replies = 0
        self.stat_unexpected_error_replies = 0
        self.stat_client_qbuf_limit_disconnections = 0
        self.stat_client_outbuf_limit_disconnections = 0
        self.stat_total_active_defrag_time = 0
        self.stat_io_reads = 0
        self.cron_loops = 0
        self.config.watch("databases", self._resize_dbs)
        self.min_replicas_to_write = self.config["min-replicas-to-write"]     # and NOREPLICAS
        self.config.watch("min-replicas-to-write", lambda old, new: setattr(self, "min_replicas_to_write", new))
        self.slowlog_threshold = self.config["slowlog-log-slower-than"]
        self.config.watch("slowlog-log-slower-than", lambda old, new: setattr(self, "slowlog_threshold", new))
        # Pub/Sub, keyspace notifications and client-side caching plug into the hooks above
        from .notify import Notifier
        from .pubsub import PubSub
        from .tracking import Tracking
        self.pubsub = PubSub(self)
        self.notifier = Notifier(self)
        self.tracking = Tracking(self)
        # RDB snapshots (SAVE/BGSAVE, save points) and the primary side of replication
        from ..persistence.snapshot import Snapshots
        from ..replication.primary import Primary
        self.snapshots = Snapshots(self)
        self.replication = Primary(self)
        from ..replication.replica import Replica
        self.replica = Replica(self)          # sets is_replica when replicaof is configured
        from ..persistence.aof import AppendOnly
        self.aof = AppendOnly(self)
        # used_memory (engine/memory.py) and maxmemory eviction, LRU/LFU data (keyspace/eviction.py)
        from ..keyspace.eviction import Evictor
        from .memory import MemoryMeter
        self.memory = MemoryMeter(self)
        self.evictor = Evictor(self)          # sets maxmemory, track_access, touch
        # LATENCY and the per-command histograms (engine/latency.py): sets latency_monitor_ms,
        # latency_monitor_us (NEVER while the monitor is off), dt_notable and latency_tracking
        self.latency = latency.LatencyMonitor(self)
        self.stat_lazyfreed_objects = 0     # INFO lazyfreed_objects (keyspace/lazyfree.py)

    def _resize_dbs(self, old: int, new: int) -> None:
        while len(self.dbs) < new:
            self.dbs.append(Database(self, len(self.dbs)))

    def next_client_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def client_closed(self, client: Client) -> None:
        """A connection went away: forget it everywhere (blocking, subscriptions...)."""
        self.clients.pop(client.id, None)
        if client.blocked is not None:
            from .blocking import forget_client
            forget_client(client)
        if client.watched:
            multi.unwatch_all(client)
        if client.kind == "monitor":
            monitor.stop(client)
        for hook in self.client_close_hooks:
            hook(client)

    # ------------------------------------------------------------------ time
    def update_clock(self) -> None:
        """Read the clock; call() does the same inline for each top-level command. The LRU
        clock (seconds) is refreshed here only, from cron and tests, as Valkey's serverCron
        refreshes server.lruclock: one int object per second shared by every key's access time."""
        ns = _time_ns()
        self.now_ns = ns
        now = ns // 1_000_000 + self.clock_offset_ms
        self.now_ms = now
        self.lru_clock = (now // 1000) & 0xFFFFFF

    @property
    def now_us(self) -> int:
        """The command's instant in microseconds (TIME; cached, as Valkey's ustime)."""
        return self.now_ns // 1000 + self.clock_offset_ms * 1000

    # ------------------------------------------------------------------ gates
    # execute() takes its fast path unless the client (its own test there) or the server
    # (`gate`) is in a state that needs one of the rarer checks; these setters keep `gate` exact.
    def _regate(self) -> None:
        self.gate = bool(self._maxmemory or self._min_replicas_to_write
                         or self._script_busy is not None or self._paused_actions or self._is_replica)

    @property
    def is_replica(self) -> bool:
        """A replica (READONLY, MASTERDOWN and expiry follow its primary)."""
        return self._is_replica

    @is_replica.setter
    def is_replica(self, value: bool) -> None:
        self._is_replica = value
        self._regate()

    def is_readonly_replica(self) -> bool:
        return self._is_replica and self.config["replica-read-only"]

    def serving_stale(self) -> bool:
        """A replica whose link is down while replica-serve-stale-data is no."""
        return (self._is_replica and not self.replica.link_up()
                and not self.config["replica-serve-stale-data"])

    @property
    def maxmemory(self) -> int:
        return self._maxmemory

    @maxmemory.setter
    def maxmemory(self, value: int) -> None:
        self._maxmemory = value
        self._regate()

    @property
    def min_replicas_to_write(self) -> int:
        return self._min_replicas_to_write

    @min_replicas_to_write.setter
    def min_replicas_to_write(self, value: int) -> None:
        self._min_replicas_to_write = value
        self._regate()

    @property
    def script_busy(self) -> Any:
        return self._script_busy

    @script_busy.setter
    def script_busy(self, value: Any) -> None:
        self._script_busy = value
        self._regate()

    @property
    def paused_actions(self) -> int:
        return self._paused_actions

    @paused_actions.setter
    def paused_actions(self, value: int) -> None:
        self._paused_actions = value
        self._regate()

    def expiry_allowed(self) -> bool:
        """False on a replica (its primary expires keys; a writable replica deletes an
        expired key a client writes to) and while writes are paused."""
        if self._is_replica and (self.config["replica-read-only"] or not self._client_writing()):
            return False
        if self.paused_actions:
            from .pause import EXPIRE, update
            update(self)
            return not self.paused_actions & EXPIRE
        return True

    def is_replica_view(self) -> bool:
        """Whether a key past its TTL that expiry may not delete reads as missing: yes,
        except for the commands of a replica's primary, which see it as it is (Valkey's
        expireIfNeeded: "when replicating commands from the primary, keys are never
        considered expired")."""
        c = self.current_client
        return not (self._is_replica and self.executing is not None and c is not None and c.kind == "master")

    def _client_writing(self) -> bool:
        """A client other than the primary runs a write command (Valkey's LOOKUP_WRITE)."""
        c = self.current_client
        if self.executing is None or c is None or c.kind == "master" or not self.current_argv:
            return False
        cmd = registry.COMMANDS.get(self.current_argv[0].lower())
        return cmd is not None and "write" in cmd.flags

    # ------------------------------------------------------------------ signals
    def on_key_deleted(self, db: Database, key: bytes, value: Any) -> None:
        cls = value.__class__
        if cls is not bytes and cls is not bytearray:      # a collection: lazyfreed_objects
            lazyfree.on_deleted(db, key, value)
        for hook in self.deletion_hooks:
            hook(db, key, value)

    def notify(self, type_flag: str, event: str, key: bytes, dbid: int, flag: str | None = None) -> None:
        """A keyspace event of class ``type_flag`` (Valkey's g $ l s h z x e t m d n)."""
        sink = self.notify_sink
        if sink is not None:
            sink(flag or type_flag, event.encode(), key, dbid)

    def signal_flushed(self, dbid: int) -> None:
        """A whole database (-1: all of them) was emptied: tracking clients are told once,
        not key by key (Valkey's signalFlushedDb)."""
        for hook in self.flush_hooks:
            hook(dbid)

    def propagate(self, dbid: int, argv: list[bytes], expired: bool = False) -> None:
        """The one stream that feeds AOF and replicas. Inside an execution unit (EXEC, a
        script) the commands are collected and sent when the unit ends. A sink gets
        ``dbid`` -1 for MULTI and EXEC: no SELECT is due before them (Valkey's rule)."""
        pending = self.also_propagate
        if pending is not None:
            pending.append((dbid, argv))
            return
        for sink in self.propagate_sinks:
            sink(dbid, argv)

    def begin_unit(self) -> bool:
        """Open an execution unit; True if this call opened it (and must end it)."""
        if self.also_propagate is not None:
            return False
        self.also_propagate = []
        return True

    def end_unit(self, opened: bool) -> None:
        """Close the unit: its commands go out, wrapped in MULTI/EXEC when more than one."""
        if not opened:
            return
        ops = self.also_propagate or []
        self.also_propagate = None
        if not ops:
            return
        wrap = len(ops) > 1
        if wrap:
            self.propagate(-1, [b"MULTI"])
        for dbid, argv in ops:
            self.propagate(dbid, argv)
        if wrap:
            self.propagate(-1, [b"EXEC"])

    def _oom_denied(self, client: Client, cmd: registry.Command, argv: list[bytes]) -> bool:
        """processCommand's maxmemory step: performEvictions before every command while
        maxmemory is set (keyspace/eviction.py), then a deny-oom command (or an EXEC that
        queued one) is refused if memory is still over the limit with nothing to evict."""
        self.memory.note_before(client, cmd, argv)
        if self._is_replica and self.config["replica-ignore-maxmemory"]:
            self.pre_command_oom = False    # a replica's primary decides what to evict
            return False
        oom = self.pre_command_oom = self.evictor.perform() == EVICT_FAIL
        if not oom:
            return False
        flags = self.command_flags(client, cmd, argv)
        if "denyoom" not in flags:
            if cmd.name != "exec" or not client.multi or "denyoom" not in multi.queued_flags(client, self):
                return False
        return True

    def _is_write(self, client: Client, cmd: registry.Command, argv: list[bytes]) -> bool:
        """A write command, or an EXEC that queued one (processCommand's is_write_command)."""
        if "write" in self.command_flags(client, cmd, argv):
            return True
        return cmd.name == "exec" and bool(client.multi) and "write" in multi.queued_flags(client, self)

    def _denies_stale(self, client: Client, cmd: registry.Command, argv: list[bytes]) -> bool:
        """A command without the stale flag, or an EXEC that queued one."""
        if "stale" not in self.command_flags(client, cmd, argv):
            return True
        return cmd.name == "exec" and any("stale" not in self.command_flags(client, q, qargv)
                                          for q, qargv in client.multi or ())

    def good_replicas_ok(self) -> bool:
        """Valkey's checkGoodReplicasStatus: enough online replicas that acknowledged within
        min-replicas-max-lag seconds (min-replicas-to-write); a replica always is."""
        if self.is_replica:
            return True
        need = self.min_replicas_to_write
        lag = self.config["min-replicas-max-lag"]
        if not need or not lag:
            return True
        from ..replication.primary import ONLINE
        now = time.time()
        good = sum(1 for link in self.replication.replicas.values()
                   if link.state == ONLINE and now - link.ack_time <= lag)
        return good >= need

    def command_flags(self, client: Client, cmd: registry.Command, argv: list[bytes]) -> frozenset:
        """The flags this call of ``cmd`` has (a script's shebang can change them)."""
        resolver = self.flag_resolvers.get(cmd.name)
        return cmd.flags if resolver is None else resolver(client, argv, cmd.flags)

    def signal_ready(self, db: Database, key: bytes) -> None:
        if (db.id, key) in self.blocking_keys:
            self.ready_keys.append((db, key))

    # ------------------------------------------------------------------ execute
    def execute(self, client: Client, argv: list[bytes]) -> Any:
        """Run one command for ``client`` and return its reply (or BLOCKED)."""
        name = argv[0]
        cmd = self.dispatch.get(name)           # "get" and "GET" without lower()
        if cmd is None:
            cmd = registry.COMMANDS.get(name.lower())
            if cmd is None:
                return self._reject(client, None, errors.unknown_command(name, argv[1:]))
        if cmd.subcommands and (len(argv) > 1 or cmd.func is None):
            if len(argv) == 1:
                return self._reject(client, cmd, errors.wrong_arity(cmd.name))
            sub = cmd.subcommands.get(argv[1].lower())
            if sub is None:
                return self._reject(client, cmd, errors.unknown_subcommand(argv[1], cmd.name))
            cmd = sub
        arity = cmd.arity
        n = len(argv)
        if (arity > 0 and arity != n) or n < -arity:
            return self._reject(client, cmd, errors.wrong_arity(cmd.name))
        if (client.multi is None and not client.pubsub and client.authenticated and client.kind == "normal"
                and not self.gate and not cmd.gated):
            return self.call(client, cmd, argv)     # the common case: no other check applies
        return self._execute_checked(client, cmd, argv)

    def _execute_checked(self, client: Client, cmd: registry.Command, argv: list[bytes]) -> Any:
        """The rest of processCommand's checks, in Valkey's order, for a client or server in
        an unusual state (not authenticated, MULTI, subscribed, paused, OOM, busy script...).

        execute() skips this method while none of those states holds: a new check here needs
        its condition in execute's fast-path test (a client attribute) or in `self.gate`
        (server state, see _regate)."""
        if not client.authenticated and "no_auth" not in cmd.flags:
            return self._reject(client, cmd, errors.NOAUTH)
        if client.multi is not None and "no_multi" in cmd.flags:
            return self._reject(client, cmd, errors.NOT_ALLOWED_IN_MULTI)
        if self.maxmemory and self.executing is None and self._oom_denied(client, cmd, argv):
            return self._reject(client, cmd, errors.OOM)
        if self.min_replicas_to_write and self.executing is None and not self.good_replicas_ok() \
                and self._is_write(client, cmd, argv):
            return self._reject(client, cmd, errors.NOREPLICAS)
        if self._is_replica and client.kind not in _OBEYED and self.config["replica-read-only"] \
                and self._is_write(client, cmd, argv):
            return self._reject(client, cmd, errors.READONLY)
        if client.pubsub:
            if client.resp == 2 and cmd.name not in _PUBSUB_CONTEXT:
                return self._reject(client, cmd, errors.pubsub_context(cmd.name))
        elif cmd.name in _NEEDS_SUBSCRIPTION:
            return self._reject(client, cmd, errors.nosub(cmd.name))
        if self._is_replica and self.serving_stale() and self._denies_stale(client, cmd, argv):
            return self._reject(client, cmd, errors.MASTERDOWN)
        if self.script_busy is not None and "allow_busy" not in cmd.flags:
            busy = errors.BUSY_EVAL if self.script_busy.is_eval else errors.BUSY_FUNCTION
            return self._reject(client, cmd, busy)
        if client.kind != "normal" and client.kind in ("replica", "monitor") \
                and not _KEYSPACE_FLAGS.isdisjoint(self.command_flags(client, cmd, argv)):
            return self._reject(client, cmd, errors.REPLICA_KEYSPACE)
        if self.paused_actions and self.executing is None:
            from . import pause
            if pause.must_postpone(self, client, cmd, argv):
                return pause.postpone(self, client)
        if client.multi is not None and cmd.name not in _MULTI_RUN_NOW:
            return self.queue_multi(client, cmd, argv)
        return self.call(client, cmd, argv)

    def call(self, client: Client, cmd: registry.Command, argv: list[bytes]) -> Any:
        """Run a looked-up, checked command: stats, slowlog, propagation, blocked clients."""
        outer = self.executing          # not None: a nested call (EXEC, scripts)
        if outer is None:               # one instant for a whole command, EXEC or script
            # within a batch of pipelined commands the clock read that ended the previous
            # command starts this one (clock_fresh; see net.connection): one read a command
            t0 = self.clock_ns if self.clock_fresh else _time_ns()
            self.now_ns = t0
            self.now_ms = t0 // 1_000_000 + self.clock_offset_ms
        else:
            t0 = _time_ns()
        dirty = self.dirty
        self.executing = client
        client.propagate_argv = None
        self.current_argv = argv        # what a key miss belongs to ('m' keyspace events)
        self.read_mode = cmd.read_mode  # whether its lookups count as keyspace hits/misses
        if outer is None:
            self.current_client = client    # Valkey's current_client: a script's caller
        if self.monitors and "skip_monitor" in cmd.flags:
            monitor.feed(client, cmd.name, argv)    # scripts show before the commands they run
        try:
            reply = cmd.invoke(client, argv)
        except CommandError as e:
            reply = e
            cmd.failed_calls += 1
            self.count_error(e)
        except RecursionError:
            reply = errors.err("reached maximum nesting depth")
            self.count_error(reply)
        except Exception as e:  # a bug must cost one reply, never the connection or the data
            from ..log import log
            log.warning(f"internal error in '{cmd.name}': {e!r}")
            reply = errors.err(f"internal error in '{cmd.name}': {type(e).__name__}")
            cmd.failed_calls += 1
            self.count_error(reply)
        finally:
            self.executing = outer
        t1 = _time_ns()
        if outer is None:
            self.clock_ns = t1
        dt = (t1 - t0) // 1000                  # one clock for the instant and the duration:
        if dt < 0:                              # a wall clock stepped back costs nothing worse
            dt = 0
        cmd.usec += dt
        client.last_cmd = cmd.name
        if reply is BLOCKED:        # counted and slow-logged when served (blocking.unblock)
            b = client.blocked
            b.cmd, b.argv, b.usec = cmd, argv, dt
        else:
            cmd.calls += 1
            if self.latency_tracking:
                try:
                    cmd.latency_usec[dt] += 1   # LATENCY HISTOGRAM, INFO latencystats
                except IndexError:
                    latency.record_slow(cmd, dt)
            self.stat_numcommands += 1
            self.current_client.tot_cmds += 1   # a script's commands count for its caller
        if self.monitors and "admin" not in cmd.flags and "skip_monitor" not in cmd.flags:
            monitor.feed(client, cmd.name, argv)
        if dt >= self.dt_notable:   # the lower of slowlog-log-slower-than and latency-monitor-threshold
            if dt >= self.latency_monitor_us:
                latency.command_event(self, cmd, dt)    # "command" / "fast-command" events
            if dt >= self.slowlog_threshold >= 0 and "skip_slowlog" not in cmd.flags and reply is not BLOCKED:
                # a script's commands are logged with its caller's address and name, as Valkey's current_client
                self.slowlog_add(self.current_client, monitor.shown_argv(cmd.name, argv), dt)   # secrets redacted
        if self.tracking_clients:
            self.tracking.after_call(client, cmd, argv, outer is None)
        if self._maxmemory and self.dirty > dirty and "denyoom" in cmd.flags:
            self.memory.wrote(client, argv, outer is None)     # used_memory's estimate grows
        # only a command that added changes propagates: SAVE, DEBUG RELOAD/LOADAOF reset the
        # counter and must not reach replicas or the AOF (Valkey's "dirty < 0: 0" in call())
        if self.dirty > dirty and self.propagate_sinks and reply is not BLOCKED:
            # propagate_argv: what to send instead; [] when the command sent its own (EXEC)
            pargv = client.propagate_argv
            self.writing_client = client    # whose write this is (WAIT's offset, replication)
            if pargv is None:
                self.propagate(client.db.id, argv)
            elif pargv:
                self.propagate(client.db.id, pargv)
        if self.ready_keys and outer is None:
            self.serve_blocked()
        return reply

    def _reject(self, client: Client, cmd: registry.Command | None, error: CommandError) -> CommandError:
        """Valkey's rejectCommand: the error, and a doomed transaction if one is open (a
        rejected EXEC aborts it at once)."""
        if cmd is not None:
            cmd.rejected_calls += 1
        if client.multi is not None:
            if cmd is not None and cmd.name == "exec":
                multi.discard_transaction(client)
                error = errors.execabort_because(error)
                if self.monitors:
                    monitor.feed(client, "exec", [b"exec"])
            else:
                client.multi_error = True
                client.multi.clear()
        self.count_error(error)
        return error

    def count_error(self, error: CommandError) -> None:
        """total_error_replies and errorstats. Past 128 distinct codes, a script's own
        error codes (ScriptError: custom_error) count as ERRORSTATS_OVERFLOW, as in Valkey."""
        self.stat_total_error_replies += 1
        prefix = error.prefix
        stats = self.errorstats
        if prefix not in stats and len(stats) >= 128 and getattr(error, "custom_error", False):
            prefix = "ERRORSTATS_OVERFLOW"
        stats[prefix] = stats.get(prefix, 0) + 1

    def queue_multi(self, client: Client, cmd: registry.Command, argv: list[bytes]) -> Any:
        """Inside MULTI: keep the command for EXEC (engine/multi.py) and answer QUEUED."""
        multi.queue_command(client, cmd, argv)
        return QUEUED

    def serve_blocked(self) -> None:
        """Serve clients parked on keys that became ready (see engine.blocking)."""
        from .blocking import serve_ready
        serve_ready(self)

    # ------------------------------------------------------------------ latency monitor
    def latency_add(self, event: str, ms: int) -> None:
        """latencyAddSampleIfNeeded: record ``event`` if it took latency-monitor-threshold
        ms or more (time it with latency.start/latency.end to read no clock while off)."""
        if self.latency_monitor_ms and ms >= self.latency_monitor_ms:
            self.latency.add_sample(event, ms)

    # ------------------------------------------------------------------ slowlog
    def slowlog_add(self, client: Client, argv: list[bytes], usec: int) -> None:
        args = []
        limit = 32
        for i, a in enumerate(argv):
            if i == limit - 1 and len(argv) > limit:
                args.append(b"... (%d more arguments)" % (len(argv) - limit + 1))
                break
            args.append(a if len(a) <= 128 else a[:128] + b"... (%d more bytes)" % (len(a) - 128))
        self.slowlog.appendleft([self.slowlog_next_id, int(time.time()), usec, args,
                                 client.addr.encode(), client.name or b""])
        self.slowlog_next_id += 1
        maxlen = self.config["slowlog-max-len"]
        while len(self.slowlog) > maxlen:
            self.slowlog.pop()

    # ------------------------------------------------------------------ cron
    def cron(self) -> None:
        """Periodic work, ``hz`` times a second: active expiry."""
        if self.cron_paused:
            return
        self.read_mode = 0              # cron's own lookups are not reads of a command
        self.update_clock()
        self.cron_loops += 1
        if self.active_expire_enabled and self.expiry_allowed():
            t0 = _perf_ns()
            self.active_expire_cycle()
            elapsed = (_perf_ns() - t0) // 1000                 # µs, as Valkey's cycle measures it
            self.stat_expire_cycle_time_used += elapsed         # INFO expire_cycle_cpu_milliseconds
            self.latency_add("expire-cycle", elapsed // 1000)
            for job in EXPIRE_JOBS:
                job(self)
        for hook in self.cron_hooks:
            hook()

    def active_expire_cycle(self) -> None:
        """Valkey's adaptive cycle: sample keys with a TTL, delete the expired ones, and keep
        going in a database while more than 10% of a sample was expired, within a time budget
        of 25% of a cron period (scaled by active-expire-effort)."""
        effort = self.config["active-expire-effort"] - 1
        per_loop = 20 + 20 // 4 * effort
        acceptable = 10 - effort
        hz = max(self.config["hz"], 1)
        budget_ns = int((25 + 2 * effort) * 1_000_000_000 / hz / 100)
        start = _perf_ns()
        now = self.now_ms
        sampled_total = expired_total = 0
        for db in self.dbs:
            if not db.expires:
                continue
            while True:
                batch = _next_sample(db, per_loop)
                expired = 0
                for key in batch:
                    when = db.expires.get(key)
                    if when is not None and when <= now:
                        db.delete_expired(key)
                        expired += 1
                sampled_total += len(batch)
                expired_total += expired
                if not batch or expired * 100 <= acceptable * len(batch):
                    break
                if _perf_ns() - start > budget_ns:
                    self.stat_expired_time_cap_reached_count += 1
                    return
        if sampled_total:
            current = expired_total / sampled_total
            self.stat_expired_stale_perc = current * 0.05 + self.stat_expired_stale_perc * 0.95


def _next_sample(db: Database, n: int) -> list[bytes]:
    """The next ``n`` keys of a rolling snapshot of ``db.expires`` (amortised O(1) a key)."""
    snap = db.expire_snapshot
    live = len(db.expires)
    # a snapshot much larger or smaller than the live set is stale (a FLUSHDB, a burst of new
    # TTLs): start a fresh one so new keys do not wait for a full sweep of old ones
    if (snap is None or db.expire_cursor >= len(snap)
            or len(snap) > 2 * live + 4 * n or live > 2 * len(snap) + 4 * n):
        snap = list(db.expires)
        if 4 * n < len(snap) < 100_000:
            random.shuffle(snap)  # spread samples like Valkey's random buckets
        db.expire_snapshot = snap
        db.expire_cursor = 0
    pos = db.expire_cursor
    db.expire_cursor = pos + n
    return snap[pos:pos + n]




def _no_timer(delay: float, fn: Callable[[], None]) -> None:
    raise RuntimeError("no event loop attached to this server")
