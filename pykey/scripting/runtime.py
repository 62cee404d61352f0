"""One Lua state (lupa's Lua 5.1) with Valkey's sandbox and server API.

Valkey keeps two: one for EVAL scripts (reset by SCRIPT FLUSH) and one for the function
libraries. :class:`LuaEngine` is either, by ``mode``. The Lua half lives in
:mod:`.prelude`; this module holds the Python functions it calls (``server.call`` and the
rest of the API, the libraries), compiles code and runs it, and turns results and errors
into replies.
"""
from __future__ import annotations

import hashlib
import time
from typing import TYPE_CHECKING, Any

from lupa import lua51

from .. import REDIS_VERSION, errors
from ..errors import CommandError
from ..protocol.dtoa import d2string
from ..protocol.replies import OK, PONG, QUEUED, Raw, Simple
from . import bytecode
from .convert import ErrorReply, ToLua, arg_bytes, error_message, parse_resp
from .libs import LuaRaise, bit, lstruct, str_to_number, to_integer
from .libs.cjson import CJson
from .libs.cmsgpack import Unpacker
from .prelude import PRELUDE

if TYPE_CHECKING:
    from .run import ScriptRun
    from .state import Scripting

VALKEY_VERSION = "8.0.1"
_STATUS = {OK: b"OK", PONG: b"PONG", QUEUED: b"QUEUED"}
_GC_PERIOD = 50               # a Lua GC step every 50 scripts, as Valkey does
_ARGS_INLINE = 200            # KEYS/ARGV passed as arguments (else as tables) into Lua
_monotonic_ns = time.monotonic_ns


def _version_num(v: str) -> int:
    major, minor, patch = (int(x) for x in v.split("."))
    return (major << 16) | (minor << 8) | patch


VERSION_FIELDS = {
    b"REDIS_VERSION": REDIS_VERSION.encode(), b"REDIS_VERSION_NUM": _version_num(REDIS_VERSION),
    b"VALKEY_VERSION": VALKEY_VERSION.encode(), b"VALKEY_VERSION_NUM": _version_num(VALKEY_VERSION),
    b"SERVER_NAME": b"valkey",
}


def _deny_attributes(obj: Any, name: Any, is_setting: bool) -> Any:
    """lupa's attribute filter: Lua code never reaches a Python attribute."""
    raise AttributeError("access denied")


class ScriptError(CommandError):
    """An error reply made by a script; ``ignore_stats``: the error was already counted
    (it came from a command the script called), as Valkey's ignore_error_stats_update;
    ``custom_error``: an error table the script returned (ERR_REPLY_FLAG_CUSTOM: its code
    counts as ERRORSTATS_OVERFLOW once errorstats holds 128 codes)."""

    __slots__ = ("ignore_stats", "custom_error")

    def __init__(self, message: str, ignore_stats: bool = False, custom_error: bool = False) -> None:
        super().__init__(message)
        self.ignore_stats = ignore_stats
        self.custom_error = custom_error

    @property
    def prefix(self) -> str:
        return error_prefix(self.message)


def error_prefix(message: str) -> str:
    """The errorstats name of a script's error: its first word when the space comes within
    Valkey's 32-character window, else ERR."""
    sp = message.find(" ", 0, 31)
    return message[:sp] if sp > 0 else "ERR"


class LuaEngine:
    """A Lua state running either EVAL scripts (``mode='eval'``) or function libraries."""

    def __init__(self, scripting: Scripting, mode: str) -> None:
        self.scripting = scripting
        self.server = scripting.server
        self.mode = mode
        self.run: ScriptRun | None = None
        self.loading: Any = None              # the library being loaded (FUNCTION LOAD)
        self.load_deadline = 0
        self.calls = 0
        lua = lua51.LuaRuntime(encoding=None, unpack_returned_tuples=True, register_eval=False,
                               register_builtins=False, attribute_filter=_deny_attributes)
        self.lua = lua
        self.to_lua = ToLua(lua)
        null = lua.eval(b"newproxy(false)")
        rawequal = lua.eval(b"rawequal")
        self.cjson = CJson(lua, null, lambda v: rawequal(v, null))
        self.unpacker = Unpacker(lua)
        rand = scripting.rand
        table = lua.table_from
        api = {b"sha1hex": self.api_sha1hex,
               b"error_reply": self.api_error_reply, b"status_reply": self.api_status_reply,
               b"log": self.api_log, b"setresp": self.api_setresp, b"set_repl": self.api_set_repl,
               b"acl_check_cmd": self.api_acl_check_cmd}
        eval_api = {b"breakpoint": self.api_breakpoint, b"debug": self.api_debug,
                    b"replicate_commands": self.api_replicate_commands}
        funcs = {
            b"api": table(api), b"eval_api": table(eval_api), b"version": table(VERSION_FIELDS),
            b"math": table({b"random": rand.random, b"randomseed": rand.randomseed}),
            b"cjson": table({k.encode(): v for k, v in self.cjson.functions().items()}),
            b"cmsgpack": table({k.encode(): v for k, v in self.unpacker.functions().items()}),
            b"bit": table({k.encode(): v for k, v in bit.FUNCTIONS.items()}),
            b"struct": table({k.encode(): v for k, v in lstruct.FUNCTIONS.items()}),
            b"errinfo": self.errinfo, b"interrupt": self.interrupt, b"fmt_double": self.fmt_double,
            b"register_function": self.register_function, b"load_timeout": self.load_timeout,
            b"command": self.api_command, b"command_packed": self.api_command_packed,
            b"notail": bytecode.without_tail_calls,
        }
        loadstring = lua.eval(b"loadstring")
        dump = lua.eval(b"string.dump")
        source = loadstring(PRELUDE.encode(), b"=[pykey]")
        if isinstance(source, tuple):
            raise RuntimeError(f"the Lua prelude does not compile: {source[1]!r}")
        chunk = loadstring(bytecode.strip(dump(source)), b"=[pykey]")
        if isinstance(chunk, tuple):
            raise RuntimeError(f"the stripped Lua prelude does not load: {chunk[1]!r}")
        ex = chunk(table(funcs), mode.encode(), null)
        self._run = ex[b"run"]
        self._run_tables = ex[b"run_tables"]
        self._compile = ex[b"compile"]
        self._to_resp = ex[b"to_resp"]
        self._error_fields = ex[b"error_fields"]
        self._memory = ex[b"memory"]
        self._clear_hook = ex[b"clear_hook"]
        self._gc_step = ex[b"gc_step"]
        self._load_library = ex[b"load_library"]
        self._is_function = ex[b"is_function"]
        lua.execute(b"collectgarbage()")        # drop what building the sandbox left behind

    # ------------------------------------------------------------------ compile and run
    def compile(self, code: bytes, chunkname: bytes) -> tuple[Any, bytes | None]:
        """(function, None) or (None, Lua's error message)."""
        res = self._compile(code, chunkname)
        if isinstance(res, tuple):
            return (res[0], None) if res[0] is not None else (None, res[1])
        return res, None

    def memory(self) -> int:
        """Bytes in use by this Lua state (used_memory_vm_eval / _functions)."""
        return int(self._memory() * 1024)

    def call(self, run: ScriptRun, fn: Any, keys: list[bytes], args: list[bytes]) -> Any:
        """Run ``fn`` for ``run`` and return its reply (a ScriptError for an error, already
        counted in the error stats and the command's failed calls)."""
        lua = self.lua
        self.run = run
        try:
            if len(keys) + len(args) <= _ARGS_INLINE:
                res = self._run(fn, len(keys), *keys, *args)
            else:
                res = self._run_tables(fn, lua.table_from(keys), lua.table_from(args))
        except lua51.LuaError as e:          # cannot happen unless the sandbox is broken
            self._clear_hook()
            res = (False, str(e).encode())
        finally:
            self.run = None
        if res.__class__ is not tuple:
            res = (res,)
        self.calls += 1
        if self.calls % _GC_PERIOD == 0:
            self._gc_step(_GC_PERIOD)
        if res[0]:
            return self._reply(res[1] if len(res) > 1 else None, run)
        return self._runtime_error(res[1] if len(res) > 1 else None, run)

    def _reply(self, value: Any, run: ScriptRun) -> Any:
        cls = value.__class__
        if cls is bytes or cls is int:
            return value
        if value is None:
            return None
        if cls is float:
            return to_integer(value)
        if cls is bool:
            if run.sclient.resp == 3:
                return value
            return 1 if value else None
        ok, payload, extra = self._to_resp(value, run.caller.resp == 3, run.sclient.resp == 3)
        if not ok:
            e = ScriptError(payload.decode("utf-8", "surrogateescape"), bool(extra), True)
            self._count(run, e)
            return e
        if extra:
            self._count_nested(run, extra)
        return Raw(payload)

    def _runtime_error(self, value: Any, run: ScriptRun) -> ScriptError:
        fields = self._error_fields(value)
        if fields is None or fields[0] is None:
            if isinstance(value, bytes):
                msg = value[:100]
            elif isinstance(value, (int, float)):
                msg = b"%.14g" % value
            else:
                msg = b"execution failure"
            text = (b"ERR Error running script %s, %s" % (run.name, msg)).decode("utf-8", "surrogateescape")
            e = ScriptError(text)
        else:
            msg, source, line, ignore = fields
            text = msg
            if line is not None and source is not None:
                text = msg + b" script: %s, on %s:%s." % (run.name, source, line)
            e = ScriptError(text.decode("utf-8", "surrogateescape"), bool(ignore))
        self._count(run, e)
        return e

    def _count(self, run: ScriptRun, e: ScriptError) -> None:
        """Valkey's afterErrorReply for the script's command: the error stats unless already
        counted, and one failed call either way."""
        if not e.ignore_stats:
            self.server.count_error(e)
        run.cmd.failed_calls += 1

    def _count_nested(self, run: ScriptRun, errs: Any) -> None:
        n = len(errs)
        counted = False
        for i in range(1, n, 2):
            msg, ignore = errs[i], errs[i + 1]
            if ignore:
                run.cmd.failed_calls += 1
            else:
                self.server.count_error(ScriptError(msg.decode("utf-8", "surrogateescape"), custom_error=True))
                counted = True
        if counted:
            run.cmd.failed_calls += 1

    # ------------------------------------------------------------------ called from Lua
    def errinfo(self, e: Any) -> tuple:
        """What a Python exception raised through Lua stands for: (1, msg, ignore) an error
        table; (2, msg) a message to position like luaL_error; (0,) not ours."""
        if isinstance(e, LuaRaise):
            if e.table:
                return 1, e.message, e.ignore_stats
            return (2 if e.where else 3), e.message, False
        if isinstance(e, BaseException):
            from ..log import log
            log.warning(f"internal error in a script library: {e!r}")
            return 1, b"ERR internal error in a script library: " + type(e).__name__.encode(), False
        return (0,)

    def interrupt(self) -> bool:
        """The Lua hook, every few thousand instructions: past busy-reply-threshold, let
        other clients in (they get BUSY); True once SCRIPT/FUNCTION KILL asked to stop."""
        run = self.run
        if run is None:
            return False
        return run.tick(_monotonic_ns())

    def fmt_double(self, d: float, caller3: bool) -> bytes:
        s = d2string(float(d))
        return b",%s\r\n" % s if caller3 else b"$%d\r\n%s\r\n" % (len(s), s)

    # server.call / server.pcall
    def api_command(self, *args: Any) -> Any:
        """The reply of one command for the script, or (text, kind): 1 a status reply, 2 an
        error reply (already counted), 3 an error of the call itself (see the prelude)."""
        run = self.run
        if run is None:
            return errors.SCRIPT_CALL_OUTSIDE.encode(), 3
        if not args:
            return b"ERR " + errors.SCRIPT_NO_ARGS.encode(), 3
        argv = list(args)
        for a in argv:
            if a.__class__ is not bytes:           # numbers (or junk): convert them all
                argv = [arg_bytes(x) for x in args]
                if None in argv:
                    return b"ERR " + errors.SCRIPT_BAD_ARGS.encode(), 3
                break
        rejected, reply = run.command(argv)
        if rejected is not None:
            return rejected, 2
        cls = reply.__class__
        if cls is bytes or cls is int:
            return reply
        if cls is Raw:
            status = _STATUS.get(reply)
            if status is not None:
                return status, 1
            reply = parse_resp(reply)
            cls = reply.__class__
        if cls is Simple:
            return reply.encode("utf-8", "surrogateescape"), 1
        if isinstance(reply, CommandError):
            return error_message(b"-" + reply.message.encode("utf-8", "surrogateescape")), 2
        if cls is ErrorReply:
            return error_message(b"-" + reply.message), 2
        return self.to_lua.convert(reply, run.sclient.resp == 3)

    def api_command_packed(self, args: Any, n: int) -> Any:
        return self.api_command(*(args[i] for i in range(1, n + 1)))

    def api_sha1hex(self, *args: Any) -> bytes:
        if len(args) != 1:
            raise LuaRaise(b"ERR wrong number of arguments", table=True)
        v = args[0]
        data = v if isinstance(v, bytes) else (b"%.14g" % v if isinstance(v, (int, float)) and
                                               not isinstance(v, bool) else b"")
        return hashlib.sha1(data).hexdigest().encode()

    def api_error_reply(self, *args: Any) -> Any:
        if len(args) != 1 or not isinstance(args[0], bytes):
            return self.lua.table_from({b"err": b"ERR wrong number or type of arguments"})
        text = args[0].split(b"\0", 1)[0]
        if text[:1] != b"-":
            text = b"-" + text
        return self.lua.table_from({b"err": error_message(text)})

    def api_status_reply(self, *args: Any) -> Any:
        if len(args) != 1 or not isinstance(args[0], bytes):
            return self.lua.table_from({b"err": b"ERR wrong number or type of arguments"})
        return self.lua.table_from({b"ok": args[0]})

    def api_log(self, *args: Any) -> tuple:
        if len(args) < 2:
            raise LuaRaise(b"ERR server.log() requires two arguments or more.", table=True)
        level = args[0]
        if isinstance(level, bytes):
            level = str_to_number(level)
        if not isinstance(level, (int, float)) or isinstance(level, bool):
            raise LuaRaise(b"ERR First argument must be a number (log level).", table=True)
        level = to_integer(level)
        level = (level + 2**31) % 2**32 - 2**31
        if not 0 <= level <= 3:
            raise LuaRaise(b"ERR Invalid log level.", table=True)
        from ..log import log
        if level < log.level:
            return ()
        parts = []
        for a in args[1:]:
            if isinstance(a, bytes):
                parts.append(a)
            elif isinstance(a, (int, float)) and not isinstance(a, bool):
                parts.append(b"%.14g" % a)
        log.write(("debug", "verbose", "notice", "warning")[level],
                  b" ".join(parts).decode("utf-8", "replace"))
        return ()

    def api_setresp(self, *args: Any) -> tuple:
        run = self.run
        if run is None:
            raise LuaRaise(errors.SCRIPT_CALL_OUTSIDE.encode(), table=True)
        if len(args) != 1:
            raise LuaRaise(b"ERR server.setresp() requires one argument.", table=True)
        resp = _lua_int(args[0])
        if resp not in (2, 3):
            raise LuaRaise(b"ERR RESP version must be 2 or 3.", table=True)
        run.sclient.resp = resp
        return ()

    def api_set_repl(self, *args: Any) -> tuple:
        run = self.run
        if run is None:
            raise LuaRaise(errors.SCRIPT_CALL_OUTSIDE.encode(), table=True)
        if len(args) != 1:
            raise LuaRaise(b"ERR server.set_repl() requires one argument.", table=True)
        flags = _lua_int(args[0])
        if flags & ~3:
            raise LuaRaise(b"ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.",
                           table=True)
        run.repl_flags = flags
        return ()

    def api_acl_check_cmd(self, *args: Any) -> Any:
        if self.run is None:
            raise LuaRaise(errors.SCRIPT_CALL_OUTSIDE.encode(), table=True)
        if not args:
            raise LuaRaise(b"ERR " + errors.SCRIPT_NO_ARGS.encode(), table=True)
        argv = []
        for a in args:
            b = arg_bytes(a)
            if b is None:
                raise LuaRaise(b"ERR " + errors.SCRIPT_BAD_ARGS.encode(), table=True)
            argv.append(b)
        from ..engine.registry import lookup
        cmd = lookup(argv)
        if cmd is None:
            raise LuaRaise(b"ERR Invalid command passed to server.acl_check_cmd()", table=True)
        return self.run.acl_allows(cmd, argv)

    def api_breakpoint(self, *args: Any) -> bool:
        return False          # true only inside a SCRIPT DEBUG session

    def api_debug(self, *args: Any) -> tuple:
        return ()             # logs only inside a SCRIPT DEBUG session

    def api_replicate_commands(self, *args: Any) -> bool:
        return True           # always on since 7.0

    # ------------------------------------------------------------------ function libraries
    def load_library(self, fn: Any, library: Any, timeout_ms: int) -> bytes | None:
        """Run a library's code so it registers its functions into ``library``; the error
        text on failure."""
        self.loading = library
        self.load_deadline = _monotonic_ns() + timeout_ms * 1_000_000 if timeout_ms else 0
        try:
            ok, err = self._load_library(fn, bool(timeout_ms))
        except lua51.LuaError as e:          # cannot happen unless the sandbox is broken
            self._clear_hook()
            ok, err = False, str(e).encode()
        finally:
            self.loading = None
        if ok:
            return None
        if isinstance(err, bytes):
            return b"ERR " + err
        fields = self._error_fields(err)
        if fields is not None and fields[0] is not None:
            return fields[0]
        return b"ERR (null)"

    def load_timeout(self) -> bool:
        return bool(self.load_deadline) and _monotonic_ns() > self.load_deadline

    def register_function(self, *args: Any) -> tuple:
        library = self.loading
        if library is None:
            raise LuaRaise(b"ERR server.register_function can only be called on FUNCTION LOAD command",
                           table=True)
        from .library import register_from_lua
        register_from_lua(self, library, args)
        return ()

    def is_function(self, v: Any) -> bool:
        return bool(self._is_function(v))


def _lua_int(v: Any) -> int:
    """``(int)lua_tonumber(v)``: 0 for what is not a number."""
    if isinstance(v, bytes):
        v = str_to_number(v)
    if not isinstance(v, (int, float)) or isinstance(v, bool):
        return 0
    return (to_integer(v) + 2**31) % 2**32 - 2**31
