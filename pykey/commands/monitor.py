"""MONITOR: stream every command the server runs to this connection (engine/monitor.py)."""
from __future__ import annotations

from .. import errors
from ..engine import monitor as feed
from ..engine.blocking import deny_blocking
from ..engine.client import Client
from ..engine.registry import command
from ..net.connection import NOREPLY
from ..protocol.replies import OK


@command("monitor", arity=1, flags="admin noscript loading stale", group="server", since="1.0.0",
         summary="Streams every command the server runs, as it runs it, to this connection.")
def monitor(c: Client):
    if deny_blocking(c):
        raise errors.MONITOR_DENY_BLOCKING
    if c.kind in ("replica", "monitor"):   # already streaming: Valkey answers nothing
        return NOREPLY
    feed.start(c)
    return OK
