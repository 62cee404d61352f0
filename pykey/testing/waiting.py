"""Waiting for what a server does on its own time: a condition to hold, clients to block,
a replication link to come up, a command run on another connection to return."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import redis

from .embedded import EmbeddedServer
from .raw import raw_reply


def wait_for(pred: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> None:
    """Poll ``pred`` until it is true; AssertionError naming ``what`` after ``timeout`` s."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def link_up(r: redis.Redis) -> bool:
    """Whether the replica ``r`` has its link to the primary up."""
    return r.info("replication").get("master_link_status") == "up"


def wait_blocked(r: redis.Redis, n: int) -> None:
    """Until INFO's blocked_clients is ``n`` (at most 5 s)."""
    deadline = time.time() + 5
    while int(r.info("clients")["blocked_clients"]) != n:
        assert time.time() < deadline, "client did not block"
        time.sleep(0.005)


def in_background(srv: EmbeddedServer, *args: Any) -> tuple[threading.Thread, list]:
    """Run a (blocking) command on a RESP2 connection of its own in a thread: returns the
    thread and a list that gets the command's reply (or its error's text)."""
    out: list = []

    def run() -> None:
        c = redis.Redis(port=srv.port, socket_timeout=10, protocol=2)
        try:
            out.append(raw_reply(c, *args))
        except redis.ResponseError as e:
            out.append(str(e))
        finally:
            c.close()

    t = threading.Thread(target=run)
    t.start()
    return t, out
