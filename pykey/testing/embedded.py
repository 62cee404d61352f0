"""A real pykey server in a background thread, on a free port: the same code path as
``pykey-server``, so tests exercise what users run."""
from __future__ import annotations

import asyncio
import threading
from typing import Any

from ..config import load
from ..engine.server import Server
from ..log import Log
from ..net.listener import NetServer


class EmbeddedServer:
    def __init__(self, *args: str, **config: Any) -> None:
        """``EmbeddedServer("--maxclients", "10")`` or ``EmbeddedServer(maxclients=10)``."""
        import pykey.commands  # noqa: F401
        argv = list(args)
        if not any(a == "--port" for a in argv) and "port" not in config:
            argv += ["--port", str(free_port())]
        if "bind" not in config and "--bind" not in argv:
            argv += ["--bind", "127.0.0.1"]
        if "save" not in config and "--save" not in argv:
            argv += ["--save", ""]          # a test server persists nothing unless asked to
        for k, v in config.items():
            argv += ["--" + k.replace("_", "-"), str(v)]
        self.config = load(argv)
        self.engine = Server(self.config)
        self.net = NetServer(self.engine, Log("warning"))
        self.loop: asyncio.AbstractEventLoop | None = None
        self.thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def port(self) -> int:
        return self.net.port

    @property
    def host(self) -> str:
        return "127.0.0.1"

    def start(self) -> EmbeddedServer:
        self.thread = threading.Thread(target=self._run, name="pykey-embedded", daemon=True)
        self.thread.start()
        self._ready.wait(10)
        if self._error is not None:
            raise self._error
        return self

    def _run(self) -> None:
        try:
            import uvloop
            loop = uvloop.new_event_loop()
        except ImportError:
            loop = asyncio.new_event_loop()
        self.loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self.net.start())
        except BaseException as e:  # surfaced to start()
            self._error = e
            self._ready.set()
            return
        self._ready.set()
        loop.run_until_complete(self.net.serve_until_stopped())
        loop.close()

    def call(self, fn, *args: Any) -> Any:
        """Run ``fn(*args)`` on the server's loop thread and return its result."""
        fut = asyncio.run_coroutine_threadsafe(_acall(fn, *args), self.loop)
        return fut.result(10)

    def advance(self, ms: int) -> None:
        """Move the server's clock forward: expire keys without sleeping."""
        def bump() -> None:
            self.engine.clock_offset_ms += ms
            self.engine.update_clock()
        self.call(bump)

    def reset_clock(self) -> None:
        """Undo every :meth:`advance`: the server reads real time again."""
        def reset() -> None:
            self.engine.clock_offset_ms = 0
            self.engine.update_clock()
        self.call(reset)

    def stop(self) -> None:
        if self.loop is not None and self.thread is not None and self.thread.is_alive():
            self.loop.call_soon_threadsafe(self.net.request_shutdown, [])
            self.thread.join(10)

    def __enter__(self) -> EmbeddedServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _acall(fn, *args):
    return fn(*args)
