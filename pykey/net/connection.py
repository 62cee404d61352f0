"""One client connection: bytes in from the socket, replies out, nothing else.

Replies to a batch of pipelined commands are joined and written with one ``write`` call
(several times faster than a write per reply). A client that is blocked (BLPOP...) keeps
its later commands queued until the engine wakes it, as Valkey keeps them in the query buffer.
"""
from __future__ import annotations

import asyncio
import socket
import time
from collections import deque
from typing import TYPE_CHECKING

from ..engine.client import Client
from ..engine.server import BLOCKED
from ..protocol.encoder import _INT_CACHE, NULL2, NULL3, encode
from ..protocol.reader import RequestReader
from ..protocol.replies import Raw

if TYPE_CHECKING:
    from .listener import NetServer

NOREPLY = object()      # CLIENT REPLY OFF|SKIP: this command answers nothing


class Connection(asyncio.Protocol):
    __slots__ = ("net", "engine", "transport", "client", "reader", "queue", "closing")

    def __init__(self, net: NetServer) -> None:
        self.net = net
        self.engine = net.engine
        self.transport: asyncio.Transport | None = None
        self.client: Client | None = None
        self.reader = RequestReader(self.engine.config["proto-max-bulk-len"])
        self.queue: deque[list[bytes]] = deque()
        self.closing = False

    # ---------------------------------------------------------------- lifecycle
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        engine = self.engine
        sock = transport.get_extra_info("socket")
        peer = transport.get_extra_info("peername")
        local = transport.get_extra_info("sockname")
        addr, laddr = _fmt_addr(peer, sock), _fmt_addr(local, sock)
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                ka = engine.config["tcp-keepalive"]
                if ka:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
            except OSError:
                pass
        if len(engine.clients) >= engine.config["maxclients"]:
            engine.stat_rejected_conn += 1
            transport.write(b"-ERR max number of clients reached\r\n")
            transport.close()
            self.closing = True
            return
        client = Client(engine, addr, laddr, sock.fileno() if sock is not None else -1)
        client.sink = self._push
        client.closer = self.close
        client.resume = self._resume
        self.client = client
        engine.clients[client.id] = client
        engine.stat_numconnections += 1
        self.reader.unauthenticated = not client.authenticated

    def connection_lost(self, exc: Exception | None) -> None:
        self.closing = True
        client = self.client
        if client is not None:
            self.net.client_gone(client)
            self.client = None

    def close(self) -> None:
        if not self.closing and self.transport is not None:
            self.closing = True
            self.transport.close()

    # ---------------------------------------------------------------- input
    def data_received(self, data: bytes) -> None:
        client = self.client
        if client is None or self.closing:
            return
        engine = self.engine
        engine.stat_net_input_bytes += len(data)
        client.tot_net_in += len(data)
        client.last_interaction = time.time()
        reader = self.reader
        cmds = reader.feed(data)
        if self.queue or client.blocked is not None:
            self.queue.extend(cmds)
            return
        if cmds:
            self._run(cmds)
        if reader.error is not None and not self.closing:
            self._protocol_error(reader.error)
        elif reader.pending_bytes > engine.config["client-query-buffer-limit"]:
            engine.stat_client_qbuf_limit_disconnections += 1
            self.net.log.warning("Closing client that reached max query buffer length")
            self.close()

    def _protocol_error(self, text: str) -> None:
        self.net.log.verbose(f"Protocol error ({text}) from client: id={self.client.id}")
        self.engine.stat_total_error_replies += 1
        self.engine.errorstats["ERR"] = self.engine.errorstats.get("ERR", 0) + 1
        self.transport.write(b"-ERR " + text.encode() + b"\r\n")
        self.close()

    def _run(self, cmds) -> None:
        """Execute commands in order and write all their replies at once."""
        client = self.client
        execute = self.engine.execute
        out: list[bytes] = []
        append = out.append
        i = 0
        n = len(cmds)
        while i < n:
            argv = cmds[i]
            i += 1
            reply = execute(client, argv)
            if reply is BLOCKED:
                self.queue.extend(cmds[i:])
                break
            if client.reply_mode != "on" or reply is NOREPLY:
                if not self._reply_allowed(reply):
                    continue
            cls = reply.__class__
            if cls is bytes:
                append(b"$%d\r\n%s\r\n" % (len(reply), reply))
            elif cls is Raw:
                append(reply)
            elif cls is int and 0 <= reply <= 10000:
                append(_INT_CACHE[reply])
            elif reply is None:
                append(NULL3 if client.resp == 3 else NULL2)
            else:
                append(encode(reply, client.resp == 3))
            if client.close_after_reply:
                break
        if out:
            data = b"".join(out)
            self.engine.stat_net_output_bytes += len(data)
            client.tot_net_out += len(data)
            self.transport.write(data)
        if client.close_after_reply:
            self.close()
        elif self.reader.unauthenticated and client.authenticated:
            self.reader.unauthenticated = False

    def _reply_allowed(self, reply: object) -> bool:
        client = self.client
        mode = client.reply_mode
        if reply is NOREPLY:
            if mode == "skip-next":
                client.reply_mode = "skip"
            return False
        if mode == "skip":
            client.reply_mode = "on"
            return False
        return mode == "on"

    def _resume(self) -> None:
        """The engine woke this client: run what it sent while it was blocked."""
        loop = asyncio.get_event_loop()
        loop.call_soon(self._drain_queue)

    def _drain_queue(self) -> None:
        client = self.client
        if client is None or client.blocked is not None or self.closing:
            return
        cmds = list(self.queue)
        self.queue.clear()
        if cmds:
            self._run(cmds)
        if self.reader.error is not None and not self.queue and not self.closing:
            self._protocol_error(self.reader.error)

    # ---------------------------------------------------------------- output
    def _push(self, data: bytes) -> None:
        if self.transport is not None and not self.closing:
            self.engine.stat_net_output_bytes += len(data)
            if self.client is not None:
                self.client.tot_net_out += len(data)
            self.transport.write(data)

    def output_buffer_size(self) -> int:
        return self.transport.get_write_buffer_size() if self.transport is not None else 0


def _fmt_addr(addr, sock) -> str:
    if isinstance(addr, tuple):
        host = addr[0]
        return f"[{host}]:{addr[1]}" if ":" in host else f"{host}:{addr[1]}"
    if sock is not None and sock.family == socket.AF_UNIX:
        return (addr or "") + ":0" if addr else "/unixsocket:0"
    return str(addr or "")
