"""RDB snapshots of the running server: SAVE (in process), BGSAVE (a forked child writes
the file while the parent keeps serving), the ``save <seconds> <changes>`` rules checked
from cron, loading at startup, and the INFO persistence fields.

A background save forks: ``gc.freeze()`` first, so the collector does not walk (and so
copy) every object of the child's inherited heap; the child writes ``temp-<pid>.rdb``,
fsyncs, renames it over the target and leaves with ``os._exit``; the parent reaps it from
cron (``waitpid(WNOHANG)``) and records the outcome as Valkey's
backgroundSaveDoneHandlerDisk does. Replication asks for snapshots through the same
child (``purpose="repl"``): then the file is private and handed to a callback.

Nothing here touches sockets or asyncio.
"""
from __future__ import annotations

import gc
import os
import signal
import stat
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..engine import latency
from ..log import log
from . import rdb
from .encoding import RdbError

if TYPE_CHECKING:
    from ..engine.server import Server

BGSAVE_RETRY_DELAY = 5        # seconds before a failed automatic save is tried again


class SaveError(Exception):
    """A snapshot could not be written (the text says why)."""


class Snapshots:
    """The persistence state of one server (``server.snapshots``)."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.child_pid = -1
        self.child_purpose = ""               # "disk" | "repl"
        self.child_path = ""
        self.child_done: Callable[[bool, str], None] | None = None
        self.child_start = 0.0
        self.dirty_before_bgsave = 0
        self.lastbgsave_try = 0
        self.lastbgsave_ok = True
        self.last_bgsave_time_sec = -1
        self.bgsave_scheduled = False
        self.stat_rdb_saves = 0
        self.last_load_keys_expired = 0
        self.last_load_keys_loaded = 0
        self.fork_usec = 0
        self.total_forks = 0
        server.cron_hooks.append(self.cron)

    # ------------------------------------------------------------ paths
    def path(self) -> str:
        cfg = self.server.config
        return os.path.join(cfg["dir"] or os.getcwd(), cfg["dbfilename"])

    # ------------------------------------------------------------ SAVE
    def save(self, path: str | None = None) -> None:
        """Write the dataset now, in this process (SAVE, DEBUG RELOAD, FLUSHALL,
        SHUTDOWN). On success the change counter is reset, as rdbSave does."""
        server = self.server
        target = path or self.path()
        try:
            rdb.save(server, target, self._repl_info())
        except OSError as e:
            log.warning(f"Failed opening the temp RDB file temp-{os.getpid()}.rdb (in server root dir "
                        f"{os.getcwd()}) for saving: {e.strerror or e}")
            self.lastbgsave_ok = False
            raise SaveError(str(e)) from None
        log.notice("DB saved on disk")
        server.dirty = 0
        server.lastsave = int(time.time())
        self.lastbgsave_ok = True

    def _repl_info(self) -> rdb.ReplInfo | None:
        primary = getattr(self.server, "replication", None)
        if primary is None:
            return None
        return primary.save_info()

    # ------------------------------------------------------------ BGSAVE
    def child_active(self) -> bool:
        return self.child_pid > 0

    def bgsave(self, purpose: str = "disk", path: str | None = None,
               done: Callable[[bool, str], None] | None = None,
               repl: rdb.ReplInfo | None = None) -> bool:
        """Fork a child that writes the snapshot. False when another child runs or the
        fork failed. ``done(ok, path)`` is called from cron when the child ends."""
        if self.child_active():
            return False
        server = self.server
        self.stat_rdb_saves += 1
        self.dirty_before_bgsave = server.dirty
        self.lastbgsave_try = int(time.time())
        target = path or self.path()
        if repl is None:
            repl = self._repl_info()
        delay = server.config["rdb-key-save-delay"]

        def work() -> None:
            rdb.save(server, target, repl, key_delay_us=delay)

        if not self.fork_child(purpose, target, work, done):
            if purpose == "disk":
                self.lastbgsave_ok = False
            return False
        if purpose == "disk":
            log.notice(f"Background saving started by pid {self.child_pid}")
        else:
            log.notice(f"Starting BGSAVE for SYNC with target: disk (pid {self.child_pid})")
        return True

    def fork_child(self, purpose: str, path: str, work: Callable[[], None],
                   done: Callable[[bool, str], None] | None) -> bool:
        """Fork a child that runs ``work`` and exits (0 on success); the parent records it
        for :meth:`reap`. One child at a time (Valkey's hasActiveChildProcess)."""
        if self.child_active():
            return False
        t0 = time.perf_counter()
        gc.freeze()
        try:
            pid = os.fork()
        except OSError as e:
            gc.unfreeze()
            log.warning(f"Can't fork for {purpose}: {e.strerror or e}")
            return False
        if pid == 0:                                         # the child
            code = 1
            try:
                _reset_signals()
                _close_inherited_sockets()
                work()
                code = 0
            except BaseException:
                code = 1
            finally:
                os._exit(code)
        gc.unfreeze()
        self.fork_usec = int((time.perf_counter() - t0) * 1_000_000)
        self.total_forks += 1
        server = self.server        # the fork's rate (LATENCY DOCTOR) and its "fork" latency event
        server.latency.fork_rate = server.memory.used() * 1_000_000 / max(self.fork_usec, 1) / 1024**3
        server.latency_add("fork", self.fork_usec // 1000)
        self.child_pid = pid
        self.child_purpose = purpose
        self.child_path = path
        self.child_done = done
        self.child_start = time.time()
        return True

    def kill_child(self) -> None:
        """Stop a running child (FLUSHALL, SHUTDOWN) and remove its temporary file;
        SIGUSR1 is not counted as a failure, as in Valkey."""
        pid = self.child_pid
        if pid <= 0:
            return
        try:
            os.kill(pid, signal.SIGUSR1)
            os.waitpid(pid, 0)
        except (OSError, ChildProcessError):
            pass
        _remove_temp(pid, self.child_path)
        done = self.child_done
        self._clear_child()
        if done is not None:
            done(False, "")

    def _clear_child(self) -> None:
        self.child_pid = -1
        self.child_purpose = ""
        self.child_done = None

    def reap(self) -> None:
        """Collect a finished child, if any (called from cron)."""
        pid = self.child_pid
        if pid <= 0:
            return
        try:
            done_pid, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            done_pid, status = pid, 1 << 8              # someone else reaped it: count as failed
        if done_pid == 0:
            return
        now = time.time()
        purpose, path, done = self.child_purpose, self.child_path, self.child_done
        if purpose == "disk":
            self.last_bgsave_time_sec = int(now - self.child_start)
        self._clear_child()
        ok = os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
        by_signal = os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0
        if purpose == "disk":
            if ok:
                log.notice("Background saving terminated with success")
                self.server.dirty -= self.dirty_before_bgsave
                self.server.lastsave = int(now)
                self.lastbgsave_ok = True
            elif not by_signal:
                log.warning("Background saving error")
                self.lastbgsave_ok = False
            else:
                log.warning(f"Background saving terminated by signal {by_signal}")
                t0 = latency.start(self.server)
                _remove_temp(pid, path)
                latency.end(self.server, "rdb-unlink-temp-file", t0)
                if by_signal != signal.SIGUSR1:
                    self.lastbgsave_ok = False
        elif not ok:
            _remove_temp(pid, path)
        if done is not None:
            done(ok, path)

    # ------------------------------------------------------------ cron
    def cron(self) -> None:
        """Reap a finished child; start a scheduled BGSAVE or one a ``save`` rule asks for."""
        self.reap()
        if self.child_active():
            return
        server = self.server
        now = int(time.time())
        retry_ok = now - self.lastbgsave_try > BGSAVE_RETRY_DELAY or self.lastbgsave_ok
        if self.bgsave_scheduled and retry_ok:
            if self.bgsave():
                self.bgsave_scheduled = False
            return
        for seconds, changes in server.config["save"]:
            if server.dirty >= changes and now - server.lastsave > seconds and retry_ok:
                log.notice(f"{changes} changes in {seconds} seconds. Saving...")
                self.bgsave()
                break

    # ------------------------------------------------------------ shutdown
    def prepare_shutdown(self, save: bool = False, nosave: bool = False, force: bool = False) -> bool:
        """prepareForShutdown: stop a running child, then save when asked to (SAVE) or when
        save points are configured (unless NOSAVE). False when the save failed and FORCE
        was not given: the server must keep running."""
        if self.child_active():
            log.warning("There is a child saving an .rdb. Killing it!" if self.child_purpose != "aof"
                        else "There is a child rewriting the AOF. Killing it!")
            self.kill_child()
        aof = getattr(self.server, "aof", None)
        if aof is not None and aof.state != "off":
            log.notice("Calling fsync() on the AOF file.")
            aof.fsync()
        if save or (self.server.config["save"] and not nosave):
            log.notice("Saving the final RDB snapshot before exiting.")
            try:
                self.save()
            except SaveError:
                if not force:
                    log.warning("Error trying to save the DB, can't exit.")
                    return False
                log.warning("Error trying to save the DB. Exit anyway.")
        return True

    # ------------------------------------------------------------ loading
    def load(self, path: str | None = None) -> rdb.LoadResult:
        """Parse ``path`` (default: dir/dbfilename) and install it; RdbError or OSError
        leave the server as it was."""
        server = self.server
        target = path or self.path()
        with open(target, "rb") as f:
            data = f.read()
        server.loading = True
        try:
            res = rdb.parse(data, server)
            rdb.install(server, res)
        finally:
            server.loading = False
        self.last_load_keys_loaded = res.keys_loaded
        self.last_load_keys_expired = res.keys_expired
        return res

    def load_at_startup(self) -> bool:
        """Load dir/dbfilename when it exists (as Valkey's loadDataFromDisk). Returns
        False when the file is corrupt (the caller refuses to start). With appendonly on,
        the AOF is loaded instead."""
        if self.server.config["appendonly"]:
            return self.server.aof.load_at_startup()
        path = self.path()
        if not os.path.exists(path):
            return True
        t0 = time.perf_counter()
        try:
            res = self.load(path)
        except (RdbError, OSError) as e:
            log.warning(f"Fatal error loading the DB, check server logs. Exiting. ({e})")
            return False
        ver = res.aux.get(b"redis-ver") or res.aux.get(b"valkey-ver")
        if ver:
            log.notice(f"Loading RDB produced by version {ver.decode('latin-1')}")
        log.notice(f"Done loading RDB, keys loaded: {res.keys_loaded}, keys expired: {res.keys_expired}.")
        log.notice(f"DB loaded from disk: {time.perf_counter() - t0:.3f} seconds")
        info = rdb.ReplInfo.from_aux(res.aux)
        if info is not None:
            self.server.replication.restore(info, res.expired)
        return True

    # ------------------------------------------------------------ INFO
    def info_fields(self) -> list[tuple[str, Any]]:
        """The ``rdb_*`` lines of INFO persistence."""
        s = self.server
        active = self.child_active()
        return [
            ("rdb_changes_since_last_save", s.dirty), ("rdb_bgsave_in_progress", int(active)),
            ("rdb_last_save_time", s.lastsave),
            ("rdb_last_bgsave_status", "ok" if self.lastbgsave_ok else "err"),
            ("rdb_last_bgsave_time_sec", self.last_bgsave_time_sec),
            ("rdb_current_bgsave_time_sec", int(time.time() - self.child_start) if active else -1),
            ("rdb_saves", self.stat_rdb_saves), ("rdb_last_cow_size", 0),
            ("rdb_last_load_keys_expired", self.last_load_keys_expired),
            ("rdb_last_load_keys_loaded", self.last_load_keys_loaded),
        ]


def _reset_signals() -> None:
    """In the child: the parent's handlers write to the event loop's wakeup fd, which the
    child shares; a SIGTERM sent to the child must end the child, not shut the parent down."""
    try:
        signal.set_wakeup_fd(-1)
    except (ValueError, OSError):
        pass
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1):
        try:
            signal.signal(sig, signal.SIG_DFL)
        except (ValueError, OSError):
            pass


def _close_inherited_sockets() -> None:
    """In the child: drop its copies of the client and listening sockets, so that a
    connection the parent closes is closed at once (a socket stays open while any process
    holds it), as Valkey's children do."""
    try:
        names = os.listdir("/proc/self/fd")
    except OSError:
        return
    for name in names:
        fd = int(name)
        if fd < 3:
            continue
        try:
            if stat.S_ISSOCK(os.fstat(fd).st_mode):
                os.close(fd)
        except OSError:
            pass


def _remove_temp(pid: int, target: str) -> None:
    directory = os.path.dirname(target) or "."
    try:
        os.unlink(os.path.join(directory, f"temp-{pid}.rdb"))
    except OSError:
        pass
