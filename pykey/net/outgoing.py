"""Outgoing TCP connections that the server opens itself (a replica's link to its primary).

This module only moves bytes. The engine side is a *handler* with four methods, called on
the event loop's thread:

* ``link_made(link)``: connected; ``link.write``/``link.close`` may be used from now on;
* ``link_data(link, data)``: bytes arrived;
* ``link_lost(link, reason)``: the connection ended (closed by either side);
* ``link_failed(reason)``: the connection could not be made (``reason`` is the OS error).

:func:`open_link` returns a handle whose ``cancel()`` abandons an attempt still under way.
"""
from __future__ import annotations

import asyncio
import socket
from typing import Any


class OutgoingLink(asyncio.Protocol):
    __slots__ = ("handler", "transport", "closed", "local", "peer")

    def __init__(self, handler: Any) -> None:
        self.handler = handler
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.local = ("", 0)
        self.peer = ("", 0)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        sock = transport.get_extra_info("socket")
        if sock is not None:
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass
        self.local = transport.get_extra_info("sockname") or ("", 0)
        self.peer = transport.get_extra_info("peername") or ("", 0)
        self.handler.link_made(self)

    def data_received(self, data: bytes) -> None:
        if not self.closed:
            self.handler.link_data(self, data)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.closed:
            return
        self.closed = True
        self.handler.link_lost(self, str(exc) if exc else "connection lost")

    # ---------------------------------------------------------------- the handler's side
    def write(self, data: bytes) -> None:
        if not self.closed and self.transport is not None:
            self.transport.write(data)

    def close(self) -> None:
        """Close after what was written is sent; ``link_lost`` is not called for it."""
        if not self.closed:
            self.closed = True
            if self.transport is not None:
                self.transport.close()

    def fileno(self) -> int:
        sock = self.transport.get_extra_info("socket") if self.transport is not None else None
        return sock.fileno() if sock is not None else -1

    def buffered(self) -> int:
        return self.transport.get_write_buffer_size() if self.transport is not None else 0

    def pause_reading(self) -> None:
        if self.transport is not None and not self.closed:
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        if self.transport is not None and not self.closed:
            self.transport.resume_reading()


def _addr(pair: Any) -> str:
    if isinstance(pair, tuple) and len(pair) >= 2:
        host = pair[0]
        return f"[{host}]:{pair[1]}" if ":" in host else f"{host}:{pair[1]}"
    return str(pair or "")


def local_addr(link: OutgoingLink) -> str:
    return _addr(link.local)


def peer_addr(link: OutgoingLink) -> str:
    return _addr(link.peer)


def open_link(loop: asyncio.AbstractEventLoop, host: str, port: int, handler: Any) -> asyncio.Task:
    """Start connecting to ``host:port`` in the background."""

    async def connect() -> None:
        try:
            await loop.create_connection(lambda: OutgoingLink(handler), host, port)
        except asyncio.CancelledError:
            raise
        except (OSError, UnicodeError, ValueError) as e:
            handler.link_failed(e.strerror if isinstance(e, OSError) and e.strerror else str(e))

    return loop.create_task(connect())
