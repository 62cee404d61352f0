"""The server's scripting state: the two Lua engines, the EVAL script cache, the function
libraries, the script running now, and the checks and stats shared by the commands.

One :class:`Scripting` per server (``scripting.get(server)``), made on first use.
"""
from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from .. import errors
from ..engine.client import Client
from .library import Libraries
from .libs.rand48 import Rand48
from .run import COMPAT, FLAG_BY_NAME, ScriptRun

if TYPE_CHECKING:
    from ..engine.server import Server
    from .runtime import LuaEngine

LRU_LENGTH = 500          # EVAL scripts kept (SCRIPT LOAD ones are never evicted)


class Script:
    """A cached EVAL script: its body, shebang flags and compiled function."""

    __slots__ = ("sha", "body", "flags", "fn")

    def __init__(self, sha: bytes, body: bytes, flags: int, fn: Any) -> None:
        self.sha = sha
        self.body = body
        self.flags = flags
        self.fn = fn


def sha1hex(data: bytes) -> bytes:
    return hashlib.sha1(data).hexdigest().encode()


def shebang_flags(body: bytes) -> tuple[int, int]:
    """(script flags, length of the shebang line) of an EVAL script (evalExtractShebangFlags);
    CommandError for a bad shebang."""
    if not body.startswith(b"#!"):
        return COMPAT, 0
    text = body.split(b"\0", 1)[0]
    nl = text.find(b"\n")
    if nl < 0:
        raise errors.err("Invalid script shebang")
    from ..protocol.parser import split_args
    parts = split_args(text[:nl])
    if not parts:
        raise errors.err("Invalid engine in script shebang")
    if parts[0] != b"#!lua":
        raise errors.err(f"Unexpected engine in script shebang: {errors.text(parts[0])}")
    flags = 0
    for part in parts[1:]:
        if part.startswith(b"flags="):
            value = part[6:]
            for name in value.split(b",") if value else ():
                bit = FLAG_BY_NAME.get(name)
                if bit is None:
                    raise errors.err(f"Unexpected flag in script shebang: {errors.text(name)}")
                flags |= bit
        else:
            raise errors.err(f"Unknown lua shebang option: {errors.text(part)}")
    return flags, nl


class Scripting:
    def __init__(self, server: Server) -> None:
        self.server = server
        self.rand = Rand48()
        self._eval: LuaEngine | None = None
        self._functions: LuaEngine | None = None
        self.scripts: dict[bytes, Script] = {}
        self.lru: OrderedDict[bytes, None] = OrderedDict()   # EVAL-created scripts, oldest first
        self.scripts_bytes = 0
        self.current: ScriptRun | None = None
        self.disable_deny_scripts = False
        self.eval_client = self._script_client()
        self.function_client = self._script_client()
        server.stat_evictedscripts = 0                  # INFO evicted_scripts (CONFIG RESETSTAT)
        libs = getattr(server, "functions", None)
        if not isinstance(libs, Libraries):
            libs = Libraries()
            server.functions = libs
        self.libraries = libs

    def _script_client(self) -> Client:
        c = Client(self.server, kind="script")
        c.in_script = True
        c.authenticated = True
        c.flags = "script"
        return c

    # ------------------------------------------------------------------ engines
    @property
    def eval_engine(self) -> LuaEngine:
        if self._eval is None:
            from .runtime import LuaEngine
            self._eval = LuaEngine(self, "eval")
        return self._eval

    @property
    def function_engine(self) -> LuaEngine:
        if self._functions is None:
            from .runtime import LuaEngine
            self._functions = LuaEngine(self, "function")
        return self._functions

    # ------------------------------------------------------------------ the EVAL cache
    def script(self, sha: bytes) -> Script | None:
        return self.scripts.get(sha)

    def create_script(self, body: bytes, from_load: bool) -> Script:
        """Valkey's luaCreateFunction: compile ``body`` (or find it); an EVAL'd script joins
        the LRU of 500 evictable scripts, SCRIPT LOAD makes it permanent."""
        sha = sha1hex(body)
        found = self.scripts.get(sha)
        if found is not None:
            if from_load and sha in self.lru:
                del self.lru[sha]
            return found
        flags, skip = shebang_flags(body)
        fn, err = self.eval_engine.compile(body[skip:], b"@user_script")
        if fn is None:
            raise errors.err("Error compiling script (new function): " + err.decode("utf-8", "surrogateescape"))
        script = Script(sha, body, flags, fn)
        if not from_load:
            while len(self.lru) >= LRU_LENGTH:
                oldest, _ = self.lru.popitem(last=False)
                old = self.scripts.pop(oldest)
                self.scripts_bytes -= len(old.body) + 40
                self.server.stat_evictedscripts = getattr(self.server, "stat_evictedscripts", 0) + 1
            self.lru[sha] = None
        self.scripts[sha] = script
        self.scripts_bytes += len(body) + 40
        return script

    def touch(self, sha: bytes) -> None:
        """An EVAL'd script ran: it is now the most recently used."""
        if sha in self.lru:
            self.lru.move_to_end(sha)

    def flush_scripts(self) -> None:
        """SCRIPT FLUSH: forget every script and start a fresh Lua state."""
        self.scripts.clear()
        self.lru.clear()
        self.scripts_bytes = 0
        self._eval = None

    # ------------------------------------------------------------------ the running script
    def start(self, run: ScriptRun) -> None:
        self.current = run

    def finish(self, run: ScriptRun) -> None:
        self.current = None
        if run.timedout:
            self.server.script_busy = None

    def kill(self, from_script_kill: bool) -> None:
        """SCRIPT KILL / FUNCTION KILL (Valkey's scriptKill); raises the refusal."""
        run = self.current
        if run is None:
            raise errors.NOTBUSY
        if run.caller.kind == "master":
            raise errors.UNKILLABLE_PRIMARY
        if run.write_dirty:
            raise errors.UNKILLABLE_WRITES
        if from_script_kill and not run.is_eval:
            raise errors.BUSY_FUNCTION
        if not from_script_kill and run.is_eval:
            raise errors.BUSY_EVAL
        run.killed = True

    # ------------------------------------------------------------------ server state
    def running_stale(self) -> bool:
        """A replica whose link to its primary is down, with replica-serve-stale-data no."""
        server = self.server
        check = getattr(server, "serving_stale", None)
        return bool(check()) if callable(check) else False

    def readonly_replica(self, client: Client) -> bool:
        """Writes refused here: a read-only replica, for a client other than its primary."""
        server = self.server
        check = getattr(server, "is_readonly_replica", None)
        return bool(check()) and client.kind != "master" if callable(check) else False

    # ------------------------------------------------------------------ INFO
    def memory_fields(self) -> list[tuple[str, Any]]:
        """The scripting lines of INFO memory."""
        from ..commands.server import bytes_to_human
        vm_eval = self._eval.memory() if self._eval is not None else 31744
        vm_functions = self._functions.memory() if self._functions is not None else 32768
        scripts_eval = self.scripts_bytes + 24 * len(self.scripts) + 16 * len(self.lru)
        libs = self.libraries
        functions_mem = sum(len(lib.code) + len(lib.name) + 64 * (1 + len(lib.functions))
                            for lib in libs.values())
        return [
            ("used_memory_lua", vm_eval), ("used_memory_vm_eval", vm_eval),
            ("used_memory_lua_human", bytes_to_human(vm_eval)), ("used_memory_scripts_eval", scripts_eval),
            ("number_of_cached_scripts", len(self.scripts)), ("number_of_functions", libs.function_count()),
            ("number_of_libraries", len(libs)), ("used_memory_vm_functions", vm_functions),
            ("used_memory_vm_total", vm_eval + vm_functions),
            ("used_memory_vm_total_human", bytes_to_human(vm_eval + vm_functions)),
            ("used_memory_functions", functions_mem), ("used_memory_scripts", scripts_eval + functions_mem),
            ("used_memory_scripts_human", bytes_to_human(scripts_eval + functions_mem)),
        ]


def get(server: Server) -> Scripting:
    """The server's scripting state, made on first use."""
    s = server.__dict__.get("scripting")
    if s is None:
        s = Scripting(server)
        server.scripting = s
    return s
