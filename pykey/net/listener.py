"""The network server: listeners, the cron timer, idle timeouts, shutdown."""
from __future__ import annotations

import asyncio
import errno
import os
import socket
import time
from collections.abc import Callable
from typing import Any

from ..config import ConfigError
from ..engine.client import Client
from ..engine.server import Server
from ..log import Log
from ..log import log as default_log
from .connection import Connection
from .limits import adjust_open_files_limit


class NetServer:
    def __init__(self, engine: Server, logger: Log | None = None) -> None:
        self.engine = engine
        self.log = logger or default_log
        self.servers: list[asyncio.AbstractServer] = []
        self.tcp_servers: list[asyncio.AbstractServer] = []
        self.listening: tuple[list[str], int] = ([], 0)    # what the TCP listeners are bound to
        self.loop: asyncio.AbstractEventLoop | None = None
        self.port = 0
        self.stopped: asyncio.Event | None = None
        self._cron_handle: asyncio.TimerHandle | None = None
        self.before_exit: list[Callable[[], None]] = []
        # connections with pushes (Pub/Sub, invalidations) waiting for the end of this loop
        # turn, written then in one call each (Valkey's clients_pending_write)
        self.to_flush: list[Connection] = []
        self.flush_scheduled = False

    def flush_pending(self) -> None:
        conns = self.to_flush
        self.to_flush = []
        self.flush_scheduled = False
        for conn in conns:
            conn.flush()

    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.stopped = asyncio.Event()
        engine = self.engine
        cfg = engine.config
        adjust_open_files_limit(cfg, self.log)      # room for maxclients connections
        engine.schedule = self._schedule
        engine.shutdown_requested = self.request_shutdown
        engine.events_while_busy = self.serve_while_busy
        engine.open_link = self.open_link           # outgoing links (a replica's primary)
        port = cfg["port"]
        if port:
            for sock in self._listen_sockets(cfg["bind"], port):
                await self._serve(sock)
        self.listening = (list(cfg["bind"]), port)
        cfg.watch("port", lambda old, new: self._relisten(old != new, "Unable to listen on this port. "
                                                                     "Check server logs."))
        cfg.watch("bind", lambda old, new: self._relisten(old != new, "Failed to bind to specified addresses."))
        path = cfg["unixsocket"]
        if path:
            if os.path.exists(path):
                os.unlink(path)
            srv = await self.loop.create_unix_server(lambda: Connection(self), path=path,
                                                     backlog=cfg["tcp-backlog"])
            perm = cfg["unixsocketperm"]
            if perm:
                os.chmod(path, perm)
            self.servers.append(srv)
        self._schedule_cron()
        engine.listeners_info["port"] = self.port

    def _listen_sockets(self, bind: list[str], port: int, keep: dict | None = None) -> list[Any]:
        """Bound, listening TCP sockets for the ``bind`` addresses (``-addr``: optional) on
        ``port``, opened synchronously so CONFIG SET can report a failure at once; an address
        ``keep`` (sockname -> server) already listens on is reused, not bound twice. Raises
        OSError (after closing what it opened) if a required address cannot be bound."""
        addrs = [a.lstrip("-") for a in bind] or ["*"]
        optional = {a.lstrip("-") for a in bind if a.startswith("-")}
        backlog = self.engine.config["tcp-backlog"]
        socks: list[Any] = []
        try:
            for raw in addrs:
                host = "0.0.0.0" if raw == "*" else ("::" if raw == "::*" else raw)
                try:
                    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
                    for family, type_, proto, _, addr in infos:
                        if keep and addr in keep:
                            socks.append(keep[addr])
                            continue
                        sock = socket.socket(family, type_, proto)
                        try:
                            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                            if family == socket.AF_INET6:
                                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                            sock.bind(addr)
                            sock.listen(backlog)
                            sock.setblocking(False)
                        except OSError:
                            sock.close()
                            raise
                        socks.append(sock)
                except OSError as e:
                    if raw in optional or (host == "::" and e.errno in (errno.EAFNOSUPPORT, errno.EADDRNOTAVAIL)):
                        continue
                    raise
            if not socks:
                raise OSError(f"Could not create server TCP listening socket *:{port}")
        except OSError:
            for sock in socks:
                if isinstance(sock, socket.socket):
                    sock.close()
            raise
        return socks

    async def _serve(self, sock: socket.socket) -> None:
        # create_server listens again, with its own backlog (100) unless given Valkey's
        srv = await self.loop.create_server(lambda: Connection(self), sock=sock,
                                            backlog=self.engine.config["tcp-backlog"])
        self.servers.append(srv)
        self.tcp_servers.append(srv)
        if not self.port:
            self.port = sock.getsockname()[1]
            self.engine.listeners_info["port"] = self.port

    def _relisten(self, changed: bool, error: str) -> None:
        """CONFIG SET port/bind: listen on the new addresses before closing the old ones, so
        a failure leaves the server as it was (Valkey's changeListener, with its errors)."""
        cfg = self.engine.config
        port = cfg["port"]
        if not changed or (list(cfg["bind"]), port) == self.listening:
            return                      # unchanged, or a rollback to what is in place
        keep = {srv.sockets[0].getsockname(): srv for srv in self.tcp_servers if srv.sockets}
        try:
            items = self._listen_sockets(cfg["bind"], port, keep) if port else []
        except OSError as e:
            self.log.warning(f"Failed listening on port {port} (tcp), aborting: {e.strerror or e}")
            raise ConfigError(error) from None
        kept = [x for x in items if not isinstance(x, socket.socket)]
        for srv in self.tcp_servers:
            if srv not in kept:
                srv.close()
                self.servers.remove(srv)
        self.tcp_servers = kept
        self.port = port if kept else 0
        self.listening = (list(cfg["bind"]), port)
        self.engine.listeners_info["port"] = port
        for sock in items:
            if isinstance(sock, socket.socket):
                self.loop.create_task(self._serve(sock))

    def open_link(self, host: str, port: int, handler: Any) -> Any:
        """Connect to ``host:port`` for the engine (see net/outgoing.py)."""
        from .outgoing import open_link
        assert self.loop is not None
        return open_link(self.loop, host, port, handler)

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
            if (client.kind == "normal" and client.blocked is None and not client.pubsub
                    and now - client.last_interaction > timeout):
                self.log.verbose("Closing idle client")
                client.close()

    def serve_while_busy(self, protected: Client) -> None:
        """Called from inside a script past busy-reply-threshold (see net/busy.py)."""
        from .busy import serve_while_busy
        serve_while_busy(self, protected)

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
        self.engine.replica.shutdown()
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
