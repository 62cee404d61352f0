"""One script or function invocation (Valkey's scriptRunCtx, script.c).

:func:`prepare` makes the checks Valkey makes before a script starts (flags against the
server state) and sets up the script client; :meth:`ScriptRun.command` is ``server.call``:
the checks on each command a script sends, then the same ``Server.call`` every client's
commands go through; :meth:`ScriptRun.tick` is the time-limit hook.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from .. import errors
from ..engine import registry
from ..engine.client import Client
from ..errors import CommandError

if TYPE_CHECKING:
    from .state import Scripting

# script flags (shebang "flags=" and server.register_function{flags=...}); COMPAT is an EVAL
# script without a shebang, which keeps the pre-7.0 behaviour
NO_WRITES, ALLOW_OOM, ALLOW_STALE, NO_CLUSTER, ALLOW_CROSS_SLOT, COMPAT = 1, 2, 4, 8, 16, 1 << 10
FLAG_NAMES = (("no-writes", NO_WRITES), ("allow-oom", ALLOW_OOM), ("allow-stale", ALLOW_STALE),
              ("no-cluster", NO_CLUSTER), ("allow-cross-slot-keys", ALLOW_CROSS_SLOT))
FLAG_BY_NAME = {name.encode(): bit for name, bit in FLAG_NAMES}

_monotonic_ns = time.monotonic_ns
_EVENTS_EVERY_NS = 1_000_000           # let other clients in at most once a millisecond


def command_flags(cmd_flags: frozenset, script_flags: int) -> frozenset:
    """Valkey's scriptFlagsToCmdFlags: what EVAL/FCALL of a script with declared flags is."""
    if script_flags & COMPAT:
        return cmd_flags
    f = set(cmd_flags) - {"stale", "denyoom", "write", "may_replicate"}
    if not script_flags & (ALLOW_OOM | NO_WRITES):
        f.add("denyoom")
    if not script_flags & NO_WRITES:
        f.add("write")
    if script_flags & ALLOW_STALE:
        f.add("stale")
    return frozenset(f)


def oom_state(server: Any) -> bool:
    """Valkey's pre_command_oom_state: was the server over maxmemory, with nothing left to
    evict, when the command that runs the script started (engine/server.py sets it)?"""
    return bool(server.maxmemory) and server.pre_command_oom


def good_replicas_ok(server: Any) -> bool:
    """Valkey's checkGoodReplicasStatus (min-replicas-to-write)."""
    config = server.config
    try:
        need = config["min-replicas-to-write"]
        lag = config["min-replicas-max-lag"]
    except KeyError:
        return True
    if not need or not lag:
        return True
    good = getattr(server, "repl_good_replicas_count", None)
    if callable(good):
        good = good()
    return (good or 0) >= need


class ScriptRun:
    """The state of the script running now."""

    __slots__ = ("scripting", "server", "caller", "sclient", "cmd", "name", "is_eval", "read_only",
                 "allow_oom", "write_dirty", "killed", "timedout", "start", "threshold_ns",
                 "last_events", "repl_flags", "oom", "argv", "stale")

    def __init__(self, scripting: Scripting, caller: Client, sclient: Client, cmd: registry.Command,
                 name: bytes, is_eval: bool, argv: list[bytes]) -> None:
        self.scripting = scripting
        self.server = scripting.server
        self.caller = caller
        self.sclient = sclient
        self.cmd = cmd
        self.name = name
        self.is_eval = is_eval
        self.read_only = False
        self.allow_oom = False
        self.write_dirty = False
        self.killed = False
        self.timedout = False
        self.start = _monotonic_ns()
        self.threshold_ns = self.server.config["busy-reply-threshold"] * 1_000_000
        self.last_events = 0
        self.repl_flags = 3                  # REPL_ALL
        self.oom = False
        self.argv = argv
        self.stale = False                   # a replica serving stale data (set by prepare)

    # ------------------------------------------------------------------ server.call
    def command(self, argv: list[bytes]) -> tuple[bytes | None, Any]:
        """Run one command for the script: (rejection message, None) when a check refuses
        it (counted as Valkey counts it), else (None, reply)."""
        server = self.server
        if self.threshold_ns > 0:
            now = _monotonic_ns()
            if now - self.start >= self.threshold_ns:
                self.tick(now)             # busy: let the others in, between two commands too
        cmd = registry.lookup(argv)
        n = len(argv)
        if cmd is None or (cmd.arity > 0 and cmd.arity != n) or n < -cmd.arity:
            text = errors.SCRIPT_WRONG_ARITY if cmd is not None else errors.SCRIPT_UNKNOWN_COMMAND
            return self._reject(cmd, b"ERR " + text.encode()), None
        flags = cmd.flags
        if "noscript" in flags and not self.scripting.disable_deny_scripts:
            return self._reject(cmd, b"ERR " + errors.SCRIPT_NOSCRIPT_COMMAND.encode()), None
        if self.stale and "stale" not in flags:
            return self._reject(cmd, b"ERR " + errors.SCRIPT_STALE_COMMAND.encode()), None
        write = "write" in flags
        if self.read_only and (write or "may_replicate" in flags):
            return self._reject(cmd, b"ERR " + errors.SCRIPT_WRITE_IN_READONLY.encode()), None
        if write and not self.write_dirty:
            if self.scripting.readonly_replica(self.caller):
                return self._reject(cmd, errors.READONLY.message.encode()), None
            if not good_replicas_ok(server):
                return self._reject(cmd, errors.NOREPLICAS.message.encode()), None
        if (not self.allow_oom and self.oom and not self.write_dirty and "denyoom" in flags
                and server.config["maxmemory"]):
            return self._reject(cmd, errors.OOM.message.encode()), None
        if write:
            self.write_dirty = True
        pending = server.also_propagate
        mark = len(pending) if pending is not None else 0
        reply = server.call(self.sclient, cmd, argv)
        if self.repl_flags != 3 and pending is not None and len(pending) > mark:
            _retarget(pending, mark, self.repl_flags)
        if self.sclient.blocked is not None:       # a command that should not block here did
            from ..engine.blocking import forget_client
            forget_client(self.sclient)
            reply = None
        return None, reply

    def _reject(self, cmd: registry.Command | None, message: bytes) -> bytes:
        """afterErrorReply + incrCommandStatsOnError(REJECTED) for a refused command;
        ``message`` is the whole error text (``CODE msg``)."""
        self.server.count_error(CommandError(message.decode("utf-8", "surrogateescape")))
        if cmd is not None:
            cmd.rejected_calls += 1
        return message

    def acl_allows(self, cmd: registry.Command, argv: list[bytes]) -> bool:
        """server.acl_check_cmd: may the calling user run this command? (Every user is the
        default user, who may run everything, until ACLs exist.)"""
        check = getattr(self.server, "acl_check", None)
        return True if check is None else bool(check(self.caller, cmd, argv))

    # ------------------------------------------------------------------ time limit
    def tick(self, now: int) -> bool:
        """Called from the Lua hook: past busy-reply-threshold, let the other clients in (in
        BUSY mode); True once the script is to be killed."""
        if self.killed:
            return True
        if not self.timedout:
            if self.threshold_ns <= 0 or now - self.start < self.threshold_ns:
                return False
            self.timedout = True
            self.server.script_busy = self
            from ..log import log
            log.warning(f"Slow script detected: still in execution after {(now - self.start) // 1_000_000} "
                        f"milliseconds. You can try killing the script using the "
                        f"{'SCRIPT KILL' if self.is_eval else 'FUNCTION KILL'} command. Script name is: "
                        f"{self.name.decode('utf-8', 'replace')}.")
        if now - self.last_events >= _EVENTS_EVERY_NS:
            self.last_events = now
            serve = self.server.events_while_busy
            if serve is not None:
                serve(self.caller)
            self.last_events = _monotonic_ns()
        return self.killed

    def duration_ms(self) -> int:
        return (_monotonic_ns() - self.start) // 1_000_000


def _retarget(pending: list, mark: int, flags: int) -> None:
    """server.set_repl: drop what this command propagated (REPL_NONE), or send it to the AOF
    or the replicas only (the argv says so in its ``target``: 1 AOF, 2 replicas)."""
    if flags == 0:
        del pending[mark:]
        return
    for i in range(mark, len(pending)):
        dbid, argv = pending[i]
        pending[i] = (dbid, TargetedArgv(argv, flags))


class TargetedArgv(list):
    """A propagated command meant for the AOF only (target 1) or the replicas only (2)."""

    __slots__ = ("target",)

    def __init__(self, argv: list[bytes], target: int) -> None:
        super().__init__(argv)
        self.target = target


def prepare(scripting: Scripting, caller: Client, sclient: Client, cmd: registry.Command,
            name: bytes, script_flags: int, ro: bool, is_eval: bool, argv: list[bytes]) -> ScriptRun:
    """Valkey's scriptPrepareForRun: refuse a script its flags forbid now, then set up the
    script client (the caller's database, RESP2) and the run."""
    server = scripting.server
    compat = bool(script_flags & COMPAT)
    stale = scripting.running_stale()
    if not compat:
        if script_flags & NO_CLUSTER and server.config["cluster-enabled"]:
            raise errors.err(errors.SCRIPT_NO_CLUSTER)
        if stale and not script_flags & ALLOW_STALE:
            raise errors.SCRIPT_MASTERDOWN
        if not script_flags & NO_WRITES:
            if scripting.readonly_replica(caller):
                raise errors.SCRIPT_READONLY_REPLICA
            if ro:
                raise errors.err(errors.SCRIPT_WRITE_FLAG_RO)
            if not good_replicas_ok(server):
                raise errors.NOREPLICAS
        oom = oom_state(server)
        if oom and not script_flags & (ALLOW_OOM | NO_WRITES):
            raise errors.SCRIPT_OOM
    else:
        if stale:
            raise errors.MASTERDOWN
        oom = oom_state(server)
    run = ScriptRun(scripting, caller, sclient, cmd, name, is_eval, argv)
    run.oom = oom
    run.stale = stale
    sclient.db = caller.db
    sclient.resp = 2
    sclient.user = caller.user
    run.read_only = ro or (not compat and bool(script_flags & NO_WRITES))
    run.allow_oom = not compat and bool(script_flags & ALLOW_OOM)
    return run
