"""EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT: Lua scripts (see pykey/scripting).

A script runs through :func:`run_script`, shared with FCALL: the checks its declared flags
call for, then the script in its Lua engine, as one execution unit whose writes propagate
wrapped in MULTI/EXEC (EVAL itself is never propagated).
"""
from __future__ import annotations

from typing import Any

from .. import errors
from ..engine.client import Client
from ..engine.registry import FLAG_RESOLVERS, Command, KeySpec, command, container
from ..protocol.replies import OK
from ..scripting import state
from ..scripting.run import COMPAT, command_flags, good_replicas_ok, oom_state, prepare
from .debug import debug_subcommand
from .server import help_reply
from .util import parse_int


def atoi(b: bytes) -> int:
    """C's atoi: leading blanks, a sign, digits; 0 when none."""
    s = b.lstrip(b" \t\n\v\f\r")
    sign = 1
    if s[:1] in (b"-", b"+"):
        sign = -1 if s[:1] == b"-" else 1
        s = s[1:]
    n = 0
    for c in s:
        if not 48 <= c <= 57:
            break
        n = n * 10 + c - 48
    return sign * n


def numkeys_keys(argv: list[bytes]) -> list[int]:
    """Key positions of ``CMD script numkeys key... arg...`` (Valkey's evalGetKeys)."""
    if len(argv) < 3:
        return []
    num = atoi(argv[2])
    if num < 1 or num > len(argv) - 3:
        return []
    return list(range(3, 3 + num))


def parse_numkeys(arg: bytes, nargs: int, bad: errors.CommandError) -> int:
    try:
        n = parse_int(arg)
    except errors.CommandError:
        raise bad from None
    if n > nargs:
        raise errors.NUMKEYS_GREATER
    if n < 0:
        raise errors.NUMKEYS_NEGATIVE
    return n


def run_script(c: Client, cmd: Command, fn: Any, engine: Any, sclient: Client, name: bytes, flags: int,
               ro: bool, is_eval: bool, keys: list[bytes], args: list[bytes], argv: list[bytes]) -> Any:
    """Run a compiled script or function for ``c`` and return its reply."""
    s = state.get(c.server)
    server = c.server
    if not flags & COMPAT:
        # what processCommand refuses for the flags the script declared
        effective = command_flags(cmd.flags, flags)
        if "denyoom" in effective and oom_state(server):
            raise errors.OOM
        if "write" in effective and not good_replicas_ok(server):
            raise errors.NOREPLICAS
    run = prepare(s, c, sclient, cmd, name, flags, ro, is_eval, argv)
    opened = server.begin_unit()
    s.start(run)
    try:
        reply = engine.call(run, fn, keys, args)
    finally:
        s.finish(run)
        server.end_unit(opened)
    c.propagate_argv = []          # the script's writes propagate, not the script
    return reply


def _flags_of_eval(evalsha: bool):
    """The flag resolver of EVAL*/EVALSHA*: a cached or shebang'd script declares its flags
    (Valkey's evalGetCommandFlags)."""
    def resolve(c: Client, argv: list[bytes], flags: frozenset) -> frozenset:
        if len(argv) < 2:
            return flags
        s = state.get(c.server)
        if evalsha:
            if len(argv[1]) != 40:
                return flags
            script = s.script(argv[1].lower())
            if script is None:
                return flags
            script_flags = script.flags
        else:
            script = s.script(state.sha1hex(argv[1]))
            if script is not None:
                script_flags = script.flags
            else:
                try:
                    script_flags, _ = state.shebang_flags(argv[1])
                except errors.CommandError:
                    return flags
        return command_flags(flags, script_flags)
    return resolve


def _eval(c: Client, cmd: Command, body: bytes, numkeys: bytes, rest: tuple[bytes, ...], evalsha: bool,
          ro: bool) -> Any:
    if evalsha and len(body) != 40:
        raise errors.NOSCRIPT
    n = parse_numkeys(numkeys, len(rest), errors.NOT_INTEGER)
    s = state.get(c.server)
    if evalsha:
        script = s.script(body.lower())
        if script is None:
            raise errors.NOSCRIPT
    else:
        script = s.script(state.sha1hex(body)) or s.create_script(body, from_load=False)
    argv = c.server.current_argv or [cmd.name.encode(), body, numkeys, *rest]
    reply = run_script(c, cmd, script.fn, s.eval_engine, s.eval_client, script.sha, script.flags, ro, True,
                       list(rest[:n]), list(rest[n:]), argv)
    s.touch(script.sha)
    return reply


_EVAL_SPEC = KeySpec(("RW", "access", "update"), ("index", 2), ("keynum", 0, 1, 1),
                     notes="We cannot tell how the keys will be used so we assume the worst, RW and UPDATE")
_EVAL_RO_SPEC = KeySpec(("RO", "access"), ("index", 2), ("keynum", 0, 1, 1),
                        notes="We cannot tell how the keys will be used so we assume the worst, RO and ACCESS")
_SCRIPT_FLAGS = "noscript skip_monitor may_replicate no_mandatory_keys stale"
_SCRIPT_RO_FLAGS = "noscript skip_monitor no_mandatory_keys stale readonly"
_DEPENDS = "Depends on the script that is executed."


@command("eval", arity=-3, flags=_SCRIPT_FLAGS, group="scripting", since="2.6.0",
         summary="Executes a server-side Lua script.", complexity=_DEPENDS,
         key_specs=(_EVAL_SPEC,), getkeys=numkeys_keys,
         args="script numkeys:integer [key:key...] [arg...]")
def eval_(c: Client, body: bytes, numkeys: bytes, *rest: bytes):
    return _eval(c, eval_.command, body, numkeys, rest, False, False)


@command("evalsha", arity=-3, flags=_SCRIPT_FLAGS, group="scripting", since="2.6.0",
         summary="Executes a server-side Lua script by SHA1 digest.", complexity=_DEPENDS,
         key_specs=(KeySpec(("RW", "access", "update"), ("index", 2), ("keynum", 0, 1, 1)),),
         getkeys=numkeys_keys,
         args="sha1 numkeys:integer [key:key...] [arg...]")
def evalsha(c: Client, sha: bytes, numkeys: bytes, *rest: bytes):
    return _eval(c, evalsha.command, sha, numkeys, rest, True, False)


@command("eval_ro", arity=-3, flags=_SCRIPT_RO_FLAGS, group="scripting", since="7.0.0",
         summary="Executes a read-only server-side Lua script.", complexity=_DEPENDS,
         key_specs=(_EVAL_RO_SPEC,), getkeys=numkeys_keys,
         args="script numkeys:integer [key:key...] [arg...]")
def eval_ro(c: Client, body: bytes, numkeys: bytes, *rest: bytes):
    return _eval(c, eval_ro.command, body, numkeys, rest, False, True)


@command("evalsha_ro", arity=-3, flags=_SCRIPT_RO_FLAGS, group="scripting", since="7.0.0",
         summary="Executes a read-only server-side Lua script by SHA1 digest.", complexity=_DEPENDS,
         key_specs=(KeySpec(("RO", "access"), ("index", 2), ("keynum", 0, 1, 1)),), getkeys=numkeys_keys,
         args="sha1 numkeys:integer [key:key...] [arg...]")
def evalsha_ro(c: Client, sha: bytes, numkeys: bytes, *rest: bytes):
    return _eval(c, evalsha_ro.command, sha, numkeys, rest, True, True)


# ---------------------------------------------------------------------- SCRIPT
container("script", group="scripting", since="2.6.0", complexity="Depends on subcommand.",
          summary="A container for Lua scripts management commands.")


@command("load", parent="script", arity=3, flags="noscript stale", group="scripting", since="2.6.0",
         summary="Loads a server-side Lua script to the script cache.",
         complexity="O(N) with N being the length in bytes of the script body.",
         tips="request_policy:all_nodes response_policy:all_succeeded",
         args="script")
def script_load(c: Client, body: bytes):
    return state.get(c.server).create_script(body, from_load=True).sha


@command("exists", parent="script", arity=-3, flags="noscript", group="scripting", since="2.6.0",
         summary="Determines whether server-side Lua scripts exist in the script cache.",
         complexity="O(N) with N being the number of scripts to check (so checking a single script is an "
                    "O(1) operation).",
         tips="request_policy:all_shards response_policy:agg_logical_and",
         args="sha1...")
def script_exists(c: Client, *shas: bytes):
    s = state.get(c.server)
    return [1 if s.script(sha.lower()) is not None else 0 for sha in shas]


@command("flush", parent="script", arity=-2, flags="noscript", group="scripting", since="2.6.0",
         summary="Removes all server-side Lua scripts from the script cache.",
         complexity="O(N) with N being the number of scripts in cache",
         history=(("6.2.0", "Added the `ASYNC` and `SYNC` flushing mode modifiers."),),
         tips="request_policy:all_nodes response_policy:all_succeeded",
         args="[flush-type: ASYNC | SYNC]@6.2.0")
def script_flush(c: Client, *opts: bytes):
    if len(opts) > 1 or (opts and opts[0].lower() not in (b"sync", b"async")):
        raise errors.SCRIPT_FLUSH_MODE
    state.get(c.server).flush_scripts()
    return OK


@command("kill", parent="script", arity=2, flags="noscript allow_busy", group="scripting", since="2.6.0",
         summary="Terminates a server-side Lua script during execution.", complexity="O(1)",
         tips="request_policy:all_shards response_policy:one_succeeded")
def script_kill(c: Client):
    state.get(c.server).kill(True)
    return OK


@command("show", parent="script", arity=3, flags="noscript", group="scripting", since="8.0.0",
         summary="Show server-side Lua script in the script cache.", complexity="O(1).",
         args="sha1")
def script_show(c: Client, sha: bytes):
    script = state.get(c.server).script(sha.lower()) if len(sha) == 40 else None
    if script is None:
        raise errors.NOSCRIPT
    return script.body


@command("help", parent="script", arity=2, flags="loading stale", group="scripting", since="5.0.0",
         summary="Returns helpful text about the different subcommands.", complexity="O(1)")
def script_help(c: Client):
    return help_reply("script", [
        "DEBUG (YES|SYNC|NO)",
        "    Set the debug mode for subsequent scripts executed.",
        "EXISTS <sha1> [<sha1> ...]",
        "    Return information about the existence of the scripts in the script cache.",
        "FLUSH [ASYNC|SYNC]",
        "    Flush the Lua scripts cache. Very dangerous on replicas.",
        "    When called without the optional mode argument, the behavior is determined",
        "     by the lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the scripts cache.",
        "    * SYNC: Synchronously flush the scripts cache.",
        "KILL",
        "    Kill the currently executing Lua script.",
        "LOAD <script>",
        "    Load a script into the scripts cache without executing it.",
        "SHOW <sha1>",
        "    Show a script from the scripts cache.",
    ])


@debug_subcommand("set-disable-deny-scripts", args=(1, 1), help=(
    "SET-DISABLE-DENY-SCRIPTS <0|1>",
    "    Enable or disable the script command restrictions (noscript commands callable from scripts)."))
def debug_set_disable_deny_scripts(c: Client, flag: bytes):
    state.get(c.server).disable_deny_scripts = atoi(flag) != 0
    return OK


FLAG_RESOLVERS["eval"] = FLAG_RESOLVERS["eval_ro"] = _flags_of_eval(False)
FLAG_RESOLVERS["evalsha"] = FLAG_RESOLVERS["evalsha_ro"] = _flags_of_eval(True)
