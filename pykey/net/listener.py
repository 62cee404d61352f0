"""The network server: listeners, the cron timer, idle timeouts, shutdown."""
from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import Callable
from typing import Any

from ..engine.client import Client
from ..engine.server import Server
from ..log import Log
from ..log import log as default_log
from .connection import Connection


class NetServer:
    def __init__(self, engine: Server, logger: Log | None = None) -> None:
        self.engine = engine
        self.log = logger or default_log
        self.servers: list[asyncio.AbstractServer] = []
        self.loop: asyncio.AbstractEventLoop | None = None
        self.port = 0
        self.stopped: asyncio.Event | None = None
        self._cron_handle: asyncio.TimerHandle | None = None
        self.before_exit: list[Callable[[], None]] = []

    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.stopped = asyncio.Event()
        engine = self.engine
        cfg = engine.config
        engine.schedule = self._schedule
        engine.shutdown_requested = self.request_shutdown
        port = cfg["port"]
        if port:
            addrs = [a.lstrip("-") for a in cfg["bind"]] or ["*"]
            optional = {a.lstrip("-") for a in cfg["bind"] if a.startswith("-")}
            hosts: list[str | None] = []
            for a in addrs:
                hosts.append(None if a == "*" else ("::" if a == "::*" else a))
            bound = False
            for host, raw in zip(hosts, addrs, strict=True):
                try:
                    if host is None:
                        srv = await self.loop.create_server(lambda: Connection(self), host="0.0.0.0",
                                                            port=port, reuse_address=True,
                                                            backlog=cfg["tcp-backlog"], family=socket.AF_INET)
                    else:
                        srv = await self.loop.create_server(lambda: Connection(self), host=host, port=port,
                                                            reuse_address=True, backlog=cfg["tcp-backlog"])
                except OSError as e:
                    if raw in optional or (host == "::" and e.errno in (97, 99)):
                        continue
                    raise
                self.servers.append(srv)
                bound = True
                if port == 0 or not self.port:
                    self.port = srv.sockets[0].getsockname()[1]
            if not bound:
                raise OSError(f"Could not create server TCP listening socket *:{port}")
        path = cfg["unixsocket"]
        if path:
            if os.path.exists(path):
                os.unlink(path)
            srv = await self.loop.create_unix_server(lambda: Connection(self), path=path)
            perm = cfg["unixsocketperm"]
            if perm:
                os.chmod(path, perm)
            self.servers.append(srv)
        self._schedule_cron()
        engine.listeners_info["port"] = self.port

    def _schedule(self, delay: float, fn: Callable[[], None]) -> Any:
        assert self.loop is not None
        return self.loop.call_later(delay, fn)

    def _schedule_cron(self) -> None:
        hz = max(1, min(self.engine.config["hz"], 500))
        self._cron_handle = self.loop.call_later(1 / hz, self._cron)

    def _cron(self) -> None:
        try:
            self.engine.cron()
            self._client_timeouts()
        except Exception as e:  # the cron must never die
            self.log.warning(f"cron error: {e!r}")
        self._schedule_cron()

    def _client_timeouts(self) -> None:
        timeout = self.engine.config["timeout"]
        if not timeout or self.engine.cron_loops % 10:
            return
        now = time.time()
        for client in list(self.engine.clients.values()):
            if (client.kind == "normal" and client.blocked is None and not client.subscriptions()
                    and now - client.last_interaction > timeout):
                self.log.verbose("Closing idle client")
                client.close()

    def client_gone(self, client: Client) -> None:
        self.engine.client_closed(client)

    def request_shutdown(self, args: list[bytes]) -> None:
        if self.stopped is not None:
            self.stopped.set()

    async def serve_until_stopped(self) -> None:
        assert self.stopped is not None
        await self.stopped.wait()
        await self.close()

    async def close(self) -> None:
        if self._cron_handle is not None:
            self._cron_handle.cancel()
        for srv in self.servers:
            srv.close()
        for client in list(self.engine.clients.values()):
            client.close()
        for srv in self.servers:
            try:
                await asyncio.wait_for(srv.wait_closed(), 1)
            except (TimeoutError, Exception):
                pass
        self.servers = []
        path = self.engine.config["unixsocket"]
        if path and os.path.exists(path):
            try:
                os.unlink(path)
            except OSError:
                pass
        for fn in self.before_exit:
            fn()
