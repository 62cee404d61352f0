"""The append-only file, in Valkey's multi-part layout (``aof.c``, Valkey/Redis 7+).

``<dir>/<appenddirname>/`` holds a *base* file (an RDB with ``aof-base:1`` when
``aof-use-rdb-preamble`` is on, else the commands that rebuild the dataset), *incr* files
(every propagated write, as RESP arrays with a ``SELECT`` whenever the database changes)
and the manifest naming them in order::

    file appendonly.aof.1.base.rdb seq 1 type b
    file appendonly.aof.1.incr.aof seq 1 type i

BGREWRITEAOF opens the next incr file at once (the manifest names it before anything is
written to it), forks a child that writes a new base, and on success makes the new base
and the incr files opened since the fork the whole AOF; the old files are deleted. Turning
``appendonly`` on at run time writes to a temporary incr file until the first rewrite has
produced a base (Valkey's AOF_WAIT_REWRITE). ``appendfsync`` is honoured: ``always`` fsyncs
each write, ``everysec`` from cron once a second, ``no`` leaves it to the kernel.

Loading replays the base (RDB or commands) and every incr file through the server's
``execute`` with a client of kind ``aof``; a truncated last command is cut off when
``aof-load-truncated`` is on (as Valkey does), anything else malformed is refused.
Free of sockets and asyncio.
"""
from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..engine import latency
from ..log import log
from ..protocol.dtoa import d2string
from ..protocol.encoder import encode_command, encode_in_db
from . import rdb
from .encoding import RdbError

if TYPE_CHECKING:
    from ..engine.server import Server

OFF, ON, WAIT_REWRITE = "off", "on", "wait_rewrite"
ITEMS_PER_CMD = 64                 # AOF_REWRITE_ITEMS_PER_CMD


class AofError(RdbError):
    """An AOF that cannot be loaded (the text says why)."""


# ====================================================================== the manifest
@dataclass
class Manifest:
    base: str | None = None
    base_seq: int = 0
    incrs: list[tuple[str, int]] = field(default_factory=list)

    def text(self) -> str:
        lines = []
        if self.base:
            lines.append(f"file {self.base} seq {self.base_seq} type b\n")
        lines += [f"file {name} seq {seq} type i\n" for name, seq in self.incrs]
        return "".join(lines)

    @classmethod
    def parse(cls, text: str) -> Manifest:
        m = cls()
        for raw in text.splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            words = line.split()
            if len(words) % 2:
                raise AofError(f"Invalid AOF manifest file format: {line!r}")
            kv = dict(zip(words[0::2], words[1::2], strict=True))
            try:
                name, seq, kind = kv["file"], int(kv["seq"]), kv["type"]
            except (KeyError, ValueError):
                raise AofError(f"Invalid AOF manifest file format: {line!r}") from None
            if kind == "b":
                if m.base is not None:
                    raise AofError("Found duplicate base file information")
                m.base, m.base_seq = name, seq
            elif kind == "i":
                if m.incrs and seq <= m.incrs[-1][1]:
                    raise AofError("Found a non-monotonic sequence number")
                m.incrs.append((name, seq))
            elif kind != "h":
                raise AofError(f"Unknown AOF file type {kind!r}")
        return m


# ====================================================================== command parsing
def parse_commands(data: bytes, pos: int = 0) -> tuple[list[list[bytes]], int, str | None]:
    """The complete RESP arrays in ``data[pos:]``, the offset just after the last one, and
    why parsing stopped early (None at a clean end; "truncated" for a cut-off tail)."""
    out: list[list[bytes]] = []
    n = len(data)
    while pos < n:
        start = pos
        if data[pos] != 42:                                # '*'
            return out, start, "Bad file format reading the append only file"
        nl = data.find(b"\r\n", pos)
        if nl < 0:
            return out, start, "truncated"
        try:
            argc = int(data[pos + 1:nl])
        except ValueError:
            return out, start, "Bad file format reading the append only file"
        if argc < 1:
            return out, start, "Bad file format reading the append only file"
        pos = nl + 2
        argv = []
        for _ in range(argc):
            if pos >= n:
                return out, start, "truncated"
            if data[pos] != 36:                            # '$'
                return out, start, "Bad file format reading the append only file"
            nl = data.find(b"\r\n", pos)
            if nl < 0:
                return out, start, "truncated"
            try:
                size = int(data[pos + 1:nl])
            except ValueError:
                return out, start, "Bad file format reading the append only file"
            pos = nl + 2
            if pos + size + 2 > n:
                return out, start, "truncated"
            argv.append(data[pos:pos + size])
            pos += size + 2
        out.append(argv)
    return out, pos, None


# ====================================================================== rewrite as commands
def rewrite_commands(server: Server) -> Iterator[bytes]:
    """The commands that rebuild the dataset (aof.c's rewriteAppendOnlyFileRio), encoded:
    function libraries, then per database a SELECT and each key with its TTL."""
    from ..datatypes.hashtype import HashType
    from ..datatypes.listtype import ListType
    from ..datatypes.settype import SetType
    from ..datatypes.zset import ZSet
    for code in rdb.function_codes(server):
        yield encode_command([b"FUNCTION", b"LOAD", code])
    for db in server.dbs:
        if not db.data:
            continue
        yield encode_command([b"SELECT", b"%d" % db.id])
        for key, value in list(db.data.items()):
            cls = value.__class__
            if cls is bytes or cls is bytearray:
                yield encode_command([b"SET", key, bytes(value)])
            elif cls is ListType:
                yield from _batched(b"RPUSH", key, list(value))
            elif cls is SetType:
                yield from _batched(b"SADD", key, list(value))
            elif cls is ZSet:
                flat = []
                for m, s in value.items():
                    flat += (d2string(s), m)
                yield from _batched(b"ZADD", key, flat, 2)
            elif cls is HashType:
                flat = []
                for f, v in value.items():
                    flat += (f, v)
                yield from _batched(b"HSET", key, flat, 2)
                for f, when in (value.ttl or {}).items():
                    yield encode_command([b"HPEXPIREAT", key, b"%d" % when, b"FIELDS", b"1", f])
            elif hasattr(value, "rewrite_commands"):
                for argv in value.rewrite_commands(key):
                    yield encode_command(argv)
            else:
                raise TypeError(f"no AOF rewrite for {cls.__name__}")
            when = db.expires.get(key)
            if when is not None:
                yield encode_command([b"PEXPIREAT", key, b"%d" % when])


def _batched(verb: bytes, key: bytes, items: list[bytes], width: int = 1) -> Iterator[bytes]:
    step = ITEMS_PER_CMD * width
    for i in range(0, len(items), step):
        yield encode_command([verb, key, *items[i:i + step]])


# ====================================================================== the live AOF
class AppendOnly:
    """The AOF state of one server (``server.aof``)."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.state = OFF
        self.fd = -1
        self.path_open = ""
        self.seldb = -1
        self.manifest = Manifest()
        self.dirty_fsync = False
        self.synced_offset = 0              # the replication offset the last fsync covered
        self.last_fsync = time.monotonic()
        self.rewrite_scheduled = False
        self.rewrite_base_seq = 0
        self.rewrite_first_incr = 0         # the first incr seq that belongs after the rewrite
        self.rewrite_start = 0.0
        self.last_rewrite_time = -1
        self.last_rewrite_ok = True
        self.last_write_ok = True
        self.stat_rewrites = 0
        self.consecutive_failures = 0
        server.cron_hooks.append(self.cron)
        server.config.watch("appendonly", self._appendonly_changed)

    # ------------------------------------------------------------ paths
    def dirpath(self) -> str:
        cfg = self.server.config
        return os.path.join(cfg["dir"] or os.getcwd(), cfg["appenddirname"])

    def _path(self, name: str) -> str:
        return os.path.join(self.dirpath(), name)

    def _name(self) -> str:
        return self.server.config["appendfilename"]

    def _write_manifest(self, m: Manifest) -> None:
        path = self._path(self._name() + ".manifest")
        tmp = self._path("temp-" + self._name() + ".manifest")
        with open(tmp, "w") as f:
            f.write(m.text())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        self.manifest = m

    def read_manifest(self) -> Manifest | None:
        path = self._path(self._name() + ".manifest")
        if not os.path.exists(path):
            return None
        with open(path) as f:
            return Manifest.parse(f.read())

    # ------------------------------------------------------------ writing
    def feed(self, dbid: int, argv: list[bytes]) -> None:
        """A propagate sink: one write appended to the current incr file (not one meant for
        the replicas only: ``target`` 2, from server.set_repl or PUBLISH)."""
        if self.fd < 0 or getattr(argv, "target", 1) == 2:
            return
        data = encode_in_db(dbid, self.seldb, argv)
        if dbid >= 0:
            self.seldb = dbid
        t0 = latency.start(self.server)
        try:
            os.write(self.fd, data)
            self.last_write_ok = True
        except OSError as e:
            log.warning(f"Error writing to the AOF file: {e.strerror or e}")
            self.last_write_ok = False
            return
        finally:
            if t0:      # the monitor's AOF write events (fsyncs never run in the background here)
                ms = latency.elapsed_ms(t0)
                alone = not self.server.snapshots.child_active()
                self.server.latency_add("aof-write-alone" if alone else "aof-write-active-child", ms)
                self.server.latency_add("aof-write", ms)
        primary = getattr(self.server, "replication", None)
        if primary is not None and primary.backlog is None:
            primary.bump_offset()
        if self.server.config["appendfsync"] == "always":
            t0 = latency.start(self.server)
            os.fsync(self.fd)
            latency.end(self.server, "aof-fsync-always", t0)
        else:
            self.dirty_fsync = True

    def fsync(self) -> None:
        if self.fd >= 0 and self.dirty_fsync:
            try:
                os.fsync(self.fd)
            except OSError:
                pass
            self.dirty_fsync = False
            primary = getattr(self.server, "replication", None)
            self.synced_offset = primary.offset if primary is not None else 0
        self.last_fsync = time.monotonic()

    def fsynced_offset(self) -> int:
        """How far the fsynced AOF reaches in the replication stream (fsynced_reploff): all
        of it when nothing written is waiting for an fsync (appendfsync no never fsyncs);
        -1 when the AOF is off."""
        if self.state == OFF:
            return -1
        if not self.dirty_fsync and self.server.config["appendfsync"] != "no":
            primary = getattr(self.server, "replication", None)
            return primary.offset if primary is not None else 0
        return self.synced_offset

    def _open_incr(self, name: str) -> None:
        self._close_incr()
        os.makedirs(self.dirpath(), exist_ok=True)
        self.fd = os.open(self._path(name), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self.path_open = name
        self.seldb = -1                    # each incr file starts with a SELECT
        if self.feed not in self.server.propagate_sinks:
            self.server.propagate_sinks.append(self.feed)

    def _close_incr(self) -> None:
        if self.fd >= 0:
            self.dirty_fsync = True
            self.fsync()
            os.close(self.fd)
            self.fd = -1

    def _next_incr(self) -> tuple[str, int]:
        seq = (self.manifest.incrs[-1][1] if self.manifest.incrs else 0) + 1
        return f"{self._name()}.{seq}.incr.aof", seq

    # ------------------------------------------------------------ on / off
    def _appendonly_changed(self, old: bool, new: bool) -> None:
        if new and self.state == OFF:
            self.start()
        elif not new and self.state != OFF:
            self.stop()

    def start(self) -> None:
        """CONFIG SET appendonly yes: write to a temporary incr file and rewrite, so that
        the first base holds the dataset as it is now."""
        self.state = WAIT_REWRITE
        self._open_incr("temp-" + self._name() + ".incr")
        if self.server.snapshots.child_active():
            self.rewrite_scheduled = True
        elif not self.rewrite():
            self.rewrite_scheduled = True

    def stop(self) -> None:
        """CONFIG SET appendonly no: close the file, stop a rewrite, stop feeding."""
        snaps = self.server.snapshots
        if snaps.child_purpose == "aof":
            snaps.kill_child()
        self._close_incr()
        if self.feed in self.server.propagate_sinks:
            self.server.propagate_sinks.remove(self.feed)
        if self.state == WAIT_REWRITE:
            try:
                os.unlink(self._path("temp-" + self._name() + ".incr"))
            except OSError:
                pass
        self.state = OFF
        self.rewrite_scheduled = False

    # ------------------------------------------------------------ rewrite
    def rewrite(self) -> bool:
        """BGREWRITEAOF: next incr file now, a new base from a forked child."""
        server = self.server
        snaps = server.snapshots
        if snaps.child_active():
            return False
        os.makedirs(self.dirpath(), exist_ok=True)
        if self.state == ON:
            name, seq = self._next_incr()
            m = Manifest(self.manifest.base, self.manifest.base_seq, [*self.manifest.incrs, (name, seq)])
            self._write_manifest(m)
            self._open_incr(name)
            self.rewrite_first_incr = seq
        self.rewrite_base_seq = self.manifest.base_seq + 1
        preamble = server.config["aof-use-rdb-preamble"]
        target = self._path(f"temp-rewriteaof-bg-{os.getpid()}.aof")

        def work() -> None:
            with open(target, "wb") as f:
                if preamble:
                    rdb.write(f, server, aof_base=True)
                else:
                    for chunk in rewrite_commands(server):
                        f.write(chunk)
                f.flush()
                os.fsync(f.fileno())

        if not snaps.fork_child("aof", target, work, self._rewrite_done):
            self.last_rewrite_ok = False
            return False
        self.rewrite_start = time.time()
        self.rewrite_scheduled = False
        log.notice(f"Background append only file rewriting started by pid {snaps.child_pid}")
        return True

    def _rewrite_done(self, ok: bool, path: str) -> None:
        self.last_rewrite_time = int(time.time() - self.rewrite_start)
        if not ok or not path:
            log.warning("Background AOF rewrite terminated with error")
            self.last_rewrite_ok = False
            self.consecutive_failures += 1
            try:
                os.unlink(path)
            except OSError:
                pass
            if self.state == WAIT_REWRITE:
                self.rewrite_scheduled = True
            return
        preamble = self.server.config["aof-use-rdb-preamble"]
        base = f"{self._name()}.{self.rewrite_base_seq}.base.{'rdb' if preamble else 'aof'}"
        old = self.manifest
        t0 = latency.start(self.server)
        os.replace(path, self._path(base))
        latency.end(self.server, "aof-rename", t0)
        if self.state == WAIT_REWRITE:
            name, seq = f"{self._name()}.1.incr.aof", 1
            t0 = latency.start(self.server)
            os.replace(self._path("temp-" + self._name() + ".incr"), self._path(name))
            latency.end(self.server, "aof-rename", t0)
            self.path_open = name
            new = Manifest(base, self.rewrite_base_seq, [(name, seq)])
            self.state = ON
        elif self.state == ON:
            new = Manifest(base, self.rewrite_base_seq,
                           [x for x in self.manifest.incrs if x[1] >= self.rewrite_first_incr])
        else:
            new = Manifest(base, self.rewrite_base_seq, [])
        self._write_manifest(new)
        keep = {new.base, *(n for n, _ in new.incrs)}
        for name in [old.base, *(n for n, _ in old.incrs)]:
            if name and name not in keep:
                try:
                    os.unlink(self._path(name))
                except OSError:
                    pass
        self.last_rewrite_ok = True
        self.consecutive_failures = 0
        self.stat_rewrites += 1
        log.notice("Background AOF rewrite finished successfully")

    # ------------------------------------------------------------ cron
    def cron(self) -> None:
        if self.state != OFF and self.server.config["appendfsync"] == "everysec" and \
                time.monotonic() - self.last_fsync >= 1:
            self.fsync()
            primary = getattr(self.server, "replication", None)
            if primary is not None and primary.waiting:
                primary.serve_waiting()
        if self.rewrite_scheduled and not self.server.snapshots.child_active():
            self.rewrite()
            return
        cfg = self.server.config
        pct = cfg["auto-aof-rewrite-percentage"]
        if self.state == ON and pct and not self.server.snapshots.child_active():
            size, base = self.sizes()
            if size > cfg["auto-aof-rewrite-min-size"] and base and (size - base) * 100 // base >= pct:
                log.notice(f"Starting automatic rewriting of AOF on {(size - base) * 100 // base}% growth")
                self.rewrite()

    def sizes(self) -> tuple[int, int]:
        """(aof_current_size, aof_base_size)."""
        total = base = 0
        m = self.manifest
        for name in [m.base, *(n for n, _ in m.incrs)]:
            if not name:
                continue
            t0 = latency.start(self.server)
            try:
                size = os.path.getsize(self._path(name))
            except OSError:
                size = 0
            latency.end(self.server, "aof-fstat", t0)
            total += size
            if name == m.base:
                base = size
        return total, base

    # ------------------------------------------------------------ loading
    def load(self) -> int:
        """Replay the AOF the manifest names into the (empty) dataset; the number of
        commands executed. AofError/RdbError when it cannot be loaded."""
        server = self.server
        m = self.read_manifest()
        if m is None:
            return 0
        from ..engine.client import Client
        client = Client(server, kind="aof")
        client.authenticated = True
        sinks = server.propagate_sinks
        server.propagate_sinks = []
        server.loading = True
        count = 0
        try:
            files = ([m.base] if m.base else []) + [n for n, _ in m.incrs]
            for i, name in enumerate(files):
                path = self._path(name)
                try:
                    with open(path, "rb") as f:
                        data = f.read()
                except OSError as e:
                    raise AofError(f"The AOF file {name} doesn't exist or can't be read: {e}") from None
                if name == m.base and data.startswith((b"REDIS", b"VALKEY")):
                    res = rdb.parse(data, server, keep_expired=True)
                    rdb.install(server, res)
                    continue
                count += self._replay(client, data, name, last=i == len(files) - 1)
        finally:
            server.propagate_sinks = sinks
            server.loading = False
            client.db = server.dbs[0]
        self.manifest = m
        server.dirty = 0
        return count

    def _replay(self, client: Any, data: bytes, name: str, last: bool) -> int:
        server = self.server
        cmds, end, why = parse_commands(data)
        client.db = server.dbs[0]
        if why == "truncated":
            if not (last and server.config["aof-load-truncated"]):
                raise AofError(f"Unexpected end of file reading the append only file {name}")
            log.warning(f"!!! Warning: short read while loading the AOF file {name}!!! "
                        f"AOF loaded anyway because aof-load-truncated is enabled; "
                        f"{len(data) - end} bytes cut off")
            with open(self._path(name), "r+b") as f:
                f.truncate(end)
        elif why is not None:
            raise AofError(f"{why} {name}")
        from ..engine import registry
        in_multi = -1
        for i, argv in enumerate(cmds):
            if registry.lookup(argv) is None:
                raise AofError(f"Unknown command '{argv[0].decode('latin-1')}' reading the append only file {name}")
            low = argv[0].lower()
            if low == b"multi":
                in_multi = i
            elif low == b"exec":
                in_multi = -1
            server.execute(client, argv)
        if in_multi >= 0:
            # a MULTI without its EXEC at the end: Valkey reverts it
            if client.multi is not None:
                from ..engine import multi
                multi.discard_transaction(client)
            if not server.config["aof-load-truncated"]:
                raise AofError(f"Revert incomplete MULTI/EXEC transaction in AOF file {name}")
        return len(cmds)

    def load_at_startup(self) -> bool:
        """Boot with appendonly yes: load the AOF (never dump.rdb); with no AOF yet, create
        the base and the first incr file now. False when the AOF cannot be loaded."""
        t0 = time.perf_counter()
        try:
            n = self.load()
        except (AofError, RdbError, OSError) as e:
            log.warning(f"Fatal error loading the AOF, check server logs. Exiting. ({e})")
            return False
        if self.manifest.base is None and not self.manifest.incrs:
            os.makedirs(self.dirpath(), exist_ok=True)
            base = f"{self._name()}.1.base.{'rdb' if self.server.config['aof-use-rdb-preamble'] else 'aof'}"
            with open(self._path(base), "wb") as f:
                if self.server.config["aof-use-rdb-preamble"]:
                    rdb.write(f, self.server, aof_base=True)
                else:
                    for chunk in rewrite_commands(self.server):
                        f.write(chunk)
                f.flush()
                os.fsync(f.fileno())
            self._write_manifest(Manifest(base, 1, []))
            log.notice(f"Creating AOF base file {base} on server start")
        name, seq = self._next_incr()
        self._write_manifest(Manifest(self.manifest.base, self.manifest.base_seq, [*self.manifest.incrs, (name, seq)]))
        self._open_incr(name)
        self.state = ON
        log.notice(f"DB loaded from append only file: {time.perf_counter() - t0:.3f} seconds ({n} commands)")
        return True

    # ------------------------------------------------------------ INFO
    def info_fields(self) -> list[tuple[str, Any]]:
        snaps = self.server.snapshots
        rewriting = snaps.child_purpose == "aof"
        out: list[tuple[str, Any]] = [
            ("aof_enabled", int(self.state != OFF)), ("aof_rewrite_in_progress", int(rewriting)),
            ("aof_rewrite_scheduled", int(self.rewrite_scheduled)),
            ("aof_last_rewrite_time_sec", self.last_rewrite_time),
            ("aof_current_rewrite_time_sec", int(time.time() - self.rewrite_start) if rewriting else -1),
            ("aof_last_bgrewrite_status", "ok" if self.last_rewrite_ok else "err"),
            ("aof_rewrites", self.stat_rewrites),
            ("aof_rewrites_consecutive_failures", self.consecutive_failures),
            ("aof_last_write_status", "ok" if self.last_write_ok else "err"),
            ("aof_last_cow_size", 0), ("module_fork_in_progress", 0), ("module_fork_last_cow_size", 0),
        ]
        if self.state != OFF:
            size, base = self.sizes()
            out += [("aof_current_size", size), ("aof_base_size", base),
                    ("aof_pending_rewrite", int(self.rewrite_scheduled)), ("aof_buffer_length", 0),
                    ("aof_pending_bio_fsync", 0), ("aof_delayed_fsync", 0)]
        return out
