"""FUNCTION and FCALL: libraries of server-side Lua functions (see pykey/scripting).

The library store lives on the server (``server.functions``, a
:class:`pykey.scripting.library.Libraries`), so that persistence can save and load it;
FLUSHALL leaves it alone, as in Valkey.
"""
from __future__ import annotations

from typing import Any

from .. import errors
from ..datatypes.glob import compile_glob
from ..engine.client import Client
from ..engine.registry import FLAG_RESOLVERS, KeySpec, command, container
from ..persistence import rdb
from ..protocol.replies import OK, SetReply, Simple
from ..scripting import library as lib
from ..scripting import state
from ..scripting.run import command_flags, oom_state
from .scripting import numkeys_keys, parse_numkeys, run_script
from .server import help_reply

container("function", group="scripting", since="7.0.0", complexity="Depends on subcommand.",
          summary="A container for function commands.")


def _refuse_oom(c: Client) -> None:
    """FUNCTION LOAD and RESTORE are deny-oom."""
    if oom_state(c.server):
        raise errors.OOM


@command("load", parent="function", arity=-3, flags="noscript write denyoom", group="scripting",
         since="7.0.0", summary="Creates a library.",
         complexity="O(1) (considering compilation time is redundant)",
         tips="request_policy:all_shards response_policy:all_succeeded",
         args="[REPLACE] function-code")
def function_load(c: Client, *args: bytes):
    replace = False
    i = 0
    while i < len(args) - 1:
        opt = args[i]
        i += 1
        if opt.lower() == b"replace":
            replace = True
            continue
        raise errors.function_load_option(opt)
    if i >= len(args):
        raise errors.FUNCTION_CODE_MISSING
    _refuse_oom(c)
    s = state.get(c.server)
    timeout = 0 if c.kind == "master" else lib.LOAD_TIMEOUT_MS
    try:
        name = lib.create(s.function_engine, s.libraries, args[i], replace, timeout)
    except lib.LibraryError as e:
        raise errors.err(str(e)) from None
    c.server.dirty += 1
    return name


@command("delete", parent="function", arity=3, flags="noscript write", group="scripting", since="7.0.0",
         summary="Deletes a library and its functions.", complexity="O(1)",
         tips="request_policy:all_shards response_policy:all_succeeded",
         args="library-name")
def function_delete(c: Client, name: bytes):
    libs = state.get(c.server).libraries
    found = libs.get(name)
    if found is None:
        raise errors.LIBRARY_NOT_FOUND
    libs.unlink(found)
    c.server.dirty += 1
    return OK


@command("flush", parent="function", arity=-2, flags="noscript write", group="scripting", since="7.0.0",
         summary="Deletes all libraries and functions.",
         complexity="O(N) where N is the number of functions deleted",
         tips="request_policy:all_shards response_policy:all_succeeded",
         args="[flush-type: ASYNC | SYNC]")
def function_flush(c: Client, *opts: bytes):
    if len(opts) > 1:
        raise errors.subcommand_syntax(b"function", b"flush")
    if opts and opts[0].lower() not in (b"sync", b"async"):
        raise errors.FUNCTION_FLUSH_MODE
    state.get(c.server).libraries.clear()
    c.server.dirty += 1
    return OK


@command("list", parent="function", arity=-2, flags="noscript", group="scripting", since="7.0.0",
         summary="Returns information about all libraries.",
         complexity="O(N) where N is the number of functions", tips="nondeterministic_output_order",
         args="[LIBRARYNAME library-name-pattern] [WITHCODE]")
def function_list(c: Client, *args: bytes):
    with_code = False
    pattern = None
    i = 0
    while i < len(args):
        a = args[i]
        low = a.lower()
        if not with_code and low == b"withcode":
            with_code = True
        elif pattern is None and low == b"libraryname":
            if i >= len(args) - 1:
                raise errors.LIBRARY_NAME_MISSING_ARG
            i += 1
            pattern = args[i]
        else:
            raise errors.function_list_argument(a)
        i += 1
    match = compile_glob(pattern, nocase=True) if pattern is not None else None
    out = []
    for library in state.get(c.server).libraries.values():
        if match is not None and not match(library.name):
            continue
        functions = [{b"name": f.name, b"description": f.desc,
                      b"flags": SetReply(Simple(n.decode()) for n in f.flag_names())}
                     for f in library.functions.values()]
        entry: dict[bytes, Any] = {b"library_name": library.name, b"engine": library.engine.encode(),
                                   b"functions": functions}
        if with_code:
            entry[b"library_code"] = library.code
        out.append(entry)
    return out


@command("stats", parent="function", arity=2, flags="noscript allow_busy", group="scripting",
         since="7.0.0", summary="Returns information about a function during execution.", complexity="O(1)",
         tips="nondeterministic_output request_policy:all_shards response_policy:special")
def function_stats(c: Client):
    s = state.get(c.server)
    run = s.current
    if run is not None and run.is_eval:
        raise errors.BUSY_EVAL
    running = None
    if run is not None:
        running = {b"name": run.name, b"command": list(run.argv), b"duration_ms": run.duration_ms()}
    libs = s.libraries
    return {b"running_script": running,
            b"engines": {b"LUA": {b"libraries_count": len(libs), b"functions_count": libs.function_count()}}}


@command("dump", parent="function", arity=2, flags="noscript", group="scripting", since="7.0.0",
         summary="Dumps all libraries into a serialized binary payload.",
         complexity="O(N) where N is the number of functions")
def function_dump(c: Client):
    return lib.dump(state.get(c.server).libraries, c.server.config["rdbcompression"])


@command("restore", parent="function", arity=-3, flags="noscript write denyoom", group="scripting",
         since="7.0.0", summary="Restores all libraries from a payload.",
         complexity="O(N) where N is the number of functions on the payload",
         tips="request_policy:all_shards response_policy:all_succeeded",
         args="serialized-value [policy: FLUSH | APPEND | REPLACE]")
def function_restore(c: Client, payload: bytes, *opts: bytes):
    if len(opts) > 1:
        raise errors.subcommand_syntax(b"function", b"restore")
    policy = b"append"
    if opts:
        policy = opts[0].lower()
        if policy not in (b"append", b"replace", b"flush"):
            raise errors.RESTORE_POLICY
    _refuse_oom(c)
    s = state.get(c.server)
    try:
        codes = lib.restore_codes(payload)
        loaded = lib.Libraries()
        for code in codes:
            lib.create(s.function_engine, loaded, code, False, 0)
        if policy == b"flush":
            s.libraries.clear()
            for library in list(loaded.values()):
                s.libraries.link(library)
        else:
            lib.join(s.libraries, loaded, policy == b"replace")
    except lib.LibraryError as e:
        raise errors.err(str(e)) from None
    c.server.dirty += 1
    return OK


@command("kill", parent="function", arity=2, flags="noscript allow_busy", group="scripting", since="7.0.0",
         summary="Terminates a function during execution.", complexity="O(1)",
         tips="request_policy:all_shards response_policy:one_succeeded")
def function_kill(c: Client):
    state.get(c.server).kill(False)
    return OK


@command("help", parent="function", arity=2, flags="loading stale", group="scripting", since="7.0.0",
         summary="Returns helpful text about the different subcommands.", complexity="O(1)")
def function_help(c: Client):
    return help_reply("function", [
        "LOAD [REPLACE] <FUNCTION CODE>",
        "    Create a new library with the given library name and code.",
        "DELETE <LIBRARY NAME>",
        "    Delete the given library.",
        "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
        "    Return general information on all the libraries:",
        "    * Library name",
        "    * The engine used to run the Library",
        "    * Functions list",
        "    * Library code (if WITHCODE is given)",
        "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
        "STATS",
        "    Return information about the current function running:",
        "    * Function name",
        "    * Command used to run the function",
        "    * Duration in MS that the function is running",
        "    If no function is running, return nil",
        "    In addition, returns a list of available engines.",
        "KILL",
        "    Kill the current running function.",
        "FLUSH [ASYNC|SYNC]",
        "    Delete all the libraries.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the libraries.",
        "    * SYNC: Synchronously flush the libraries.",
        "DUMP",
        "    Return a serialized payload representing the current libraries, can be restored using FUNCTION "
        "RESTORE command",
        "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
        "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
        "    control how to handle existing libraries (default APPEND):",
        "    * FLUSH: delete all existing libraries.",
        "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
        "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
        "      libraries with the new libraries (notice that even on this option there is a chance of failure",
        "      in case of functions name collision with another library).",
    ])


# ---------------------------------------------------------------------- FCALL
def _fcall(c: Client, name: bytes, numkeys: bytes, rest: tuple[bytes, ...], ro: bool) -> Any:
    s = state.get(c.server)
    fi = s.libraries.by_function.get(name.lower())
    if fi is None:
        raise errors.FUNCTION_NOT_FOUND
    n = parse_numkeys(numkeys, len(rest), errors.FUNCTION_BAD_NUMKEYS)
    cmd = fcall_ro.command if ro else fcall.command
    argv = c.server.current_argv or [cmd.name.encode(), name, numkeys, *rest]
    return run_script(c, cmd, fi.fn, s.function_engine, s.function_client, fi.name, fi.flags, ro, False,
                      list(rest[:n]), list(rest[n:]), argv)


_FCALL_NOTES_RW = "We cannot tell how the keys will be used so we assume the worst, RW and UPDATE"
_FCALL_NOTES_RO = "We cannot tell how the keys will be used so we assume the worst, RO and ACCESS"
_DEPENDS = "Depends on the function that is executed."


@command("fcall", arity=-3, flags="noscript skip_monitor may_replicate no_mandatory_keys stale",
         group="scripting", since="7.0.0", summary="Invokes a function.", complexity=_DEPENDS,
         key_specs=(KeySpec(("RW", "access", "update"), ("index", 2), ("keynum", 0, 1, 1),
                            notes=_FCALL_NOTES_RW),),
         getkeys=numkeys_keys,
         args="function numkeys:integer [key:key...] [arg...]")
def fcall(c: Client, name: bytes, numkeys: bytes, *rest: bytes):
    return _fcall(c, name, numkeys, rest, False)


@command("fcall_ro", arity=-3, flags="noscript skip_monitor no_mandatory_keys stale readonly",
         group="scripting", since="7.0.0", summary="Invokes a read-only function.", complexity=_DEPENDS,
         key_specs=(KeySpec(("RO", "access"), ("index", 2), ("keynum", 0, 1, 1), notes=_FCALL_NOTES_RO),),
         getkeys=numkeys_keys,
         args="function numkeys:integer [key:key...] [arg...]")
def fcall_ro(c: Client, name: bytes, numkeys: bytes, *rest: bytes):
    return _fcall(c, name, numkeys, rest, True)


def _fcall_flags(c: Client, argv: list[bytes], flags: frozenset) -> frozenset:
    """Valkey's fcallGetCommandFlags: the function's flags make FCALL what it is."""
    if len(argv) < 2:
        return flags
    fi = state.get(c.server).libraries.by_function.get(argv[1].lower())
    return flags if fi is None else command_flags(flags, fi.flags)


def load_code(server: Any, code: bytes, replace: bool = False) -> None:
    """Load one library's code read from an RDB file or a replication stream."""
    s = state.get(server)
    try:
        lib.create(s.function_engine, s.libraries, code, replace, 0)
    except lib.LibraryError as e:
        raise ValueError(str(e)) from None


rdb.function_loader = load_code
FLAG_RESOLVERS["fcall"] = FLAG_RESOLVERS["fcall_ro"] = _fcall_flags
