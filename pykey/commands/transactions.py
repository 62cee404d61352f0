"""Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH.

The engine queues commands while a client is in MULTI (``Server.queue_multi``) and keeps
the WATCH table (engine/multi.py); this module holds the commands themselves. EXEC runs
the queue through ``Server.call`` (stats, MONITOR, keyspace signals as for any command),
inside one execution unit, so what the block writes is propagated wrapped in MULTI/EXEC.
"""
from __future__ import annotations

from typing import Any

from .. import errors
from ..engine import multi
from ..engine.client import Client
from ..engine.registry import KeySpec, command
from ..engine.server import BLOCKED
from ..net.connection import NOREPLY
from ..protocol.replies import NULL_ARRAY, OK

_TX = "noscript loading stale fast allow_busy"


@command("multi", arity=1, flags="noscript loading stale fast no_multi allow_busy", group="transactions",
         since="1.2.0", summary="Starts a transaction: later commands are queued until EXEC.",
         complexity="O(1)")
def multi_(c: Client):
    c.multi = multi.MultiState()
    return OK


@command("exec", arity=1, flags="noscript loading stale skip_slowlog", group="transactions",
         since="1.2.0", summary="Runs every command queued since MULTI, as one atomic block.",
         complexity="Depends on commands in the transaction")
def exec_(c: Client) -> Any:
    queued = c.multi
    if queued is None:
        raise errors.EXEC_WITHOUT_MULTI
    if multi.watched_key_expired(c):
        c.dirty_cas = True
    if c.multi_error:
        multi.discard_transaction(c)
        raise errors.EXECABORT
    if c.dirty_cas:
        multi.discard_transaction(c)
        return NULL_ARRAY
    multi.unwatch_all(c)
    server = c.server
    opened = server.begin_unit()
    replies: list[Any] = []
    try:
        # c.multi stays set while the block runs: blocking commands act non-blocking
        for cmd, argv in queued:
            reply = server.call(c, cmd, argv)
            if reply is NOREPLY:           # CLIENT REPLY inside MULTI: keep the array whole
                reply = OK
            elif reply is BLOCKED:         # cannot happen (deny_blocking); never hang EXEC
                from ..engine.blocking import forget_client
                forget_client(c)
                reply = None
            replies.append(reply)
    finally:
        multi.discard_transaction(c)
        server.end_unit(opened)
    c.propagate_argv = []                  # the queued commands propagated themselves
    return replies


@command("discard", arity=1, flags=_TX, group="transactions", since="2.0.0",
         summary="Drops the commands queued since MULTI and leaves the transaction.",
         complexity="O(N), when N is the number of queued commands")
def discard(c: Client):
    if c.multi is None:
        raise errors.DISCARD_WITHOUT_MULTI
    multi.discard_transaction(c)
    return OK


@command("watch", arity=-2, flags="noscript loading stale fast no_multi allow_busy", group="transactions",
         since="2.2.0", summary="Makes the next EXEC fail if any of these keys changes before it.",
         complexity="O(1) for every key.",
         key_specs=(KeySpec(("RO",), ("index", 1), ("range", -1, 1, 0)),), keys=(1, -1, 1),
         args="key:key...")
def watch(c: Client, *keys: bytes):
    if not c.dirty_cas:                    # already doomed: nothing worth watching
        for key in keys:
            multi.watch_key(c, key)
    return OK


@command("unwatch", arity=1, flags=_TX, group="transactions", since="2.2.0",
         summary="Forgets every key this connection watches.", complexity="O(1)")
def unwatch(c: Client):
    multi.unwatch_all(c)
    c.dirty_cas = False
    return OK

