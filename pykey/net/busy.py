"""Serving the other clients while a script runs past busy-reply-threshold.

A script runs on the event loop's thread, so the loop is stopped for as long as it runs.
Valkey has the same situation and, once the script is slow, handles its events from inside
the script (processEventsWhileBlocked): other clients are read and answered, most of them
with ``-BUSY``, and SCRIPT KILL / FUNCTION KILL can reach the script. The engine calls
:func:`serve_while_busy` from the script's Lua hook for the same purpose (see
pykey/scripting/__init__.py for why this design).

As the loop cannot run, this polls the sockets itself, without blocking: a connection's
bytes go through its own parser and ``execute`` (``Connection.data_received``); its replies
are written straight to the socket while nothing of it is queued in the transport, and
queued behind what is otherwise, so their order holds. New connections are accepted the same
way and handed over to the loop when it runs again. Left alone: the script's own client (its
pipelined commands wait, as Valkey "protects" it), blocked clients, TLS connections.
"""
from __future__ import annotations

import asyncio
import os
import select
import socket
from typing import TYPE_CHECKING, Any

from .connection import Connection

if TYPE_CHECKING:
    from ..engine.client import Client
    from .listener import NetServer

_READ_SIZE = 1 << 16


class DirectWriter:
    """Stands in for a connection's transport while the loop is stopped: writes go to the
    socket now, or behind what the real transport already holds."""

    def __init__(self, real: Any, sock: Any) -> None:
        self.real = real
        self.sock = sock
        self.fd = sock.fileno()
        self.pending = bytearray()

    def write(self, data: bytes) -> None:
        if not self.pending and (self.real is None or not self.real.get_write_buffer_size()):
            try:
                n = os.write(self.fd, data)
            except (BlockingIOError, InterruptedError):
                n = 0
            except OSError:
                return                       # the peer is gone; the loop will notice
            data = data[n:]
        self.pending += data

    def get_write_buffer_size(self) -> int:
        real = self.real.get_write_buffer_size() if self.real is not None else 0
        return real + len(self.pending)

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        if self.real is not None:
            return self.real.get_extra_info(name, default)
        if name == "socket":
            return self.sock
        if name == "peername":
            try:
                return self.sock.getpeername()
            except OSError:
                return default
        if name == "sockname":
            return self.sock.getsockname()
        return default

    def hand_over(self) -> None:
        """Whatever could not be written yet goes to the real transport, in order."""
        if self.pending and self.real is not None:
            self.real.write(bytes(self.pending))
            self.pending.clear()

    def close(self) -> None:
        if self.real is not None:
            self.hand_over()
            self.real.close()
        else:
            self.closed = True

    def abort(self) -> None:
        self.pending.clear()
        if self.real is not None:
            self.real.abort()
        else:
            self.closed = True

    closed = False


class EarlyConnection(Connection):
    """A connection accepted while the loop was stopped; when the loop gives it its real
    transport, the client it already has stays (and so does what it was told)."""

    __slots__ = ("early",)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        early = getattr(self, "early", None)
        if early is None or self.client is None:
            Connection.connection_made(self, transport)
            return
        self.early = None
        if early.pending:
            transport.write(bytes(early.pending))
            early.pending.clear()
        self.transport = transport  # type: ignore[assignment]
        if self.closing:
            transport.close()


def _socket_of(conn: Connection) -> Any:
    transport = conn.transport
    if transport is None or transport.get_extra_info("sslcontext") is not None:
        return None
    return transport.get_extra_info("socket")


def serve_while_busy(net: NetServer, protected: Client) -> None:
    """One pass: read what the other clients sent and answer it, accept new clients."""
    engine = net.engine
    by_fd: dict[int, Connection] = {}
    for client in list(engine.clients.values()):
        if client is protected or client.blocked is not None:
            continue
        conn = getattr(client.sink, "__self__", None)
        if not isinstance(conn, Connection) or conn.closing or conn.running or conn.queue:
            continue
        sock = _socket_of(conn)
        if sock is None:
            continue
        by_fd[sock.fileno()] = conn
    listeners: dict[int, Any] = {}
    for srv in net.servers:
        for s in srv.sockets or ():
            listeners[s.fileno()] = s
    poller = select.poll()
    for fd in by_fd:
        poller.register(fd, select.POLLIN)
    for fd in listeners:
        poller.register(fd, select.POLLIN)
    try:
        ready = poller.poll(0)
    except OSError:
        return
    for fd, _ in ready:
        if fd in listeners:
            _accept(net, listeners[fd])
            continue
        conn = by_fd.get(fd)
        if conn is None:
            continue
        try:
            data = os.read(fd, _READ_SIZE)
        except (BlockingIOError, InterruptedError):
            continue
        except OSError:
            continue
        if not data:
            continue                         # end of stream: the loop closes it later
        _feed(conn, data)
    if net.stopped is not None and net.stopped.is_set():
        run = engine.script_busy               # SHUTDOWN NOSAVE: the script ends here, written
        if run is not None:                    # to or not, and the loop then shuts down
            run.killed = True


def _feed(conn: Connection, data: bytes) -> None:
    real = conn.transport
    direct = real if isinstance(real, DirectWriter) else DirectWriter(real, real.get_extra_info("socket"))
    conn.transport = direct  # type: ignore[assignment]
    try:
        conn.data_received(data)
    finally:
        if conn.transport is direct and direct.real is not None:
            direct.hand_over()
            conn.transport = real


def _accept(net: NetServer, listener: Any) -> None:
    """A client connecting while the script runs: served now, given to the loop later."""
    try:
        fd = os.dup(listener.fileno())
    except OSError:
        return
    lsock = socket.socket(fileno=fd)
    try:
        lsock.setblocking(False)
        try:
            sock, _ = lsock.accept()
        except (BlockingIOError, InterruptedError, OSError):
            return
    finally:
        lsock.detach()
        os.close(fd)
    sock.setblocking(False)
    conn = EarlyConnection(net)
    early = DirectWriter(None, sock)
    conn.early = early
    Connection.connection_made(conn, early)  # type: ignore[arg-type]
    loop = net.loop
    if loop is not None and conn.client is not None:
        asyncio.ensure_future(loop.connect_accepted_socket(lambda: conn, sock), loop=loop)
    else:
        sock.close()
