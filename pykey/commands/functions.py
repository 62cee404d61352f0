"""FUNCTION: the library store of server-side functions.

The store lives on the server (``server.functions``: library name -> library) so that
FLUSHALL, persistence and replication can reach it; the Lua engine that compiles library
code plugs into the same store.
"""
from __future__ import annotations

from .. import errors
from ..engine.client import Client
from ..engine.registry import command, container
from ..protocol.replies import OK

container("function", group="scripting", since="7.0.0", summary="A container for function commands.")


def _flush_mode(c: Client, opts: tuple[bytes, ...]) -> None:
    if len(opts) > 1:
        raise errors.subcommand_syntax(b"function", b"flush")
    if opts and opts[0].lower() not in (b"sync", b"async"):
        raise errors.err("FUNCTION FLUSH only supports SYNC|ASYNC option")


@command("flush", parent="function", arity=-2, flags="write noscript", group="scripting",
         since="7.0.0", summary="Deletes all libraries and functions.",
         complexity="O(N) where N is the number of functions deleted",
         tips="request_policy:all_shards response_policy:all_succeeded")
def function_flush(c: Client, *opts: bytes):
    _flush_mode(c, opts)
    store = getattr(c.server, "functions", None)
    if store:
        store.clear()
        c.server.dirty += 1
    return OK


