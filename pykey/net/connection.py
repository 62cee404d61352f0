"""One client connection: bytes in from the socket, replies out, nothing else.

Replies to a batch of pipelined commands are joined and written with one ``write`` call
(several times faster than a write per reply). A client that is blocked (BLPOP...) keeps
its later commands queued until the engine wakes it, as Valkey keeps them in the query buffer.
"""
from __future__ import annotations

import asyncio
import os
import socket
import time
from collections import deque
from typing import TYPE_CHECKING

from ..engine.client import Client
from ..engine.server import BLOCKED
from ..protocol.encoder import _INT_CACHE, NULL2, NULL3, encode
from ..protocol.reader import RequestReader
from ..protocol.replies import Pushes, Raw

if TYPE_CHECKING:
    from .listener import NetServer

NOREPLY = object()      # CLIENT REPLY OFF|SKIP: this command answers nothing


class Connection(asyncio.Protocol):
    __slots__ = ("net", "engine", "transport", "client", "reader", "queue", "closing", "running",
                 "deferred", "soft_since", "soft_timer", "shutdown_fd", "pending_out", "pending_size",
                 "flush_queued", "obuf_total", "obuf_ok_until", "obuf_limits", "pre_reply")

    def __init__(self, net: NetServer) -> None:
        self.net = net
        self.engine = net.engine
        self.transport: asyncio.Transport | None = None
        self.client: Client | None = None
        self.reader = RequestReader(self.engine.config["proto-max-bulk-len"])
        self.queue: deque[list[bytes]] = deque()
        self.closing = False
        self.shutdown_fd = -1            # see close(): a fork child holds a copy of the socket
        # Pushes (Pub/Sub messages, invalidations) for this client that arrive while it runs
        # commands wait here and follow the reply of the command that produced them (Valkey's
        # pending_push_messages), so a push never lands inside or before a reply.
        self.running = False
        self.deferred: list[bytes] = []
        # pushes made by the checks before a command runs (invalidations of keys evicted
        # for it) go before its reply, as Valkey's trackingHandlePendingKeyInvalidations
        self.pre_reply: list[bytes] = []
        self.soft_since = 0.0            # when the output buffer went over its soft limit
        self.soft_timer: asyncio.TimerHandle | None = None
        # pushes to a client that is not running commands gather until the end of the loop
        # turn: one write for all the messages a burst of PUBLISHes sends it
        self.pending_out: list[bytes] = []
        self.pending_size = 0
        self.flush_queued = False
        # output limit bookkeeping: bytes ever queued, and up to what total no limit can be
        # reached (so most pushes skip the full check); obuf_limits is the config value the
        # bound was computed with
        self.obuf_total = 0
        self.obuf_ok_until = 0
        self.obuf_limits: object = None

    # ---------------------------------------------------------------- lifecycle
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        engine = self.engine
        sock = transport.get_extra_info("socket")
        peer = transport.get_extra_info("peername")
        local = transport.get_extra_info("sockname")
        addr, laddr = _fmt_addr(peer, sock), _fmt_addr(local, sock)
        if sock is not None and sock.family == socket.AF_UNIX:
            addr = laddr            # Valkey names a unix socket client by the socket's path
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
        client.obuf_size = self.output_buffer_size
        self.client = client
        engine.clients[client.id] = client
        engine.stat_numconnections += 1
        self.reader.unauthenticated = not client.authenticated

    def connection_lost(self, exc: Exception | None) -> None:
        self.closing = True
        if self.shutdown_fd >= 0:
            _shutdown(self.shutdown_fd)
            self.shutdown_fd = -1
        self.deferred.clear()
        self.pending_out.clear()
        self.pending_size = 0
        if self.soft_timer is not None:
            self.soft_timer.cancel()
            self.soft_timer = None
        client = self.client
        if client is not None:
            self.net.client_gone(client)
            self.client = None

    def close(self) -> None:
        if not self.closing and self.transport is not None:
            self.closing = True
            snapshots = getattr(self.engine, "snapshots", None)
            if snapshots is not None and snapshots.child_active():
                # a forked child (BGSAVE) holds a copy of the socket, so closing ours would
                # not end the connection: shut it down once the transport has flushed it
                # (Valkey's connShutdown while a child is active)
                sock = self.transport.get_extra_info("socket")
                if sock is not None:
                    self.shutdown_fd = os.dup(sock.fileno())
            self.transport.close()

    # ---------------------------------------------------------------- input
    def data_received(self, data: bytes) -> None:
        client = self.client
        if client is None or self.closing:
            return
        engine = self.engine
        engine.stat_net_input_bytes += len(data)
        client.tot_net_in += len(data)
        now = time.time_ns()
        client.last_interaction = now / 1e9
        reader = self.reader
        cmds = reader.feed(data)
        if self.queue or client.blocked is not None:
            self.queue.extend(cmds)
            return
        if cmds:
            # the batch's first command starts at this reading, each later one at the
            # reading that ended the one before (Server.call)
            engine.clock_ns = now
            engine.clock_fresh = True
            try:
                self._run(cmds)
            finally:
                engine.clock_fresh = False
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
        deferred = self.deferred
        i = 0
        n = len(cmds)
        self.running = True
        try:
            while i < n:
                if deferred:     # pushes produced by the previous command follow its reply
                    out.extend(deferred)
                    deferred.clear()
                argv = cmds[i]
                i += 1
                reply = execute(client, argv)
                if self.pre_reply:
                    out.extend(self.pre_reply)
                    self.pre_reply.clear()
                if reply is BLOCKED:
                    # a paused (postponed) command runs again when the pause ends
                    b = client.blocked
                    self.queue.extend(cmds[i - 1:] if b is not None and b.kind == "postpone" else cmds[i:])
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
        finally:
            self.running = False
            self.obuf_ok_until = 0      # its commands may have changed its class (SUBSCRIBE...)
        if deferred:
            out.extend(deferred)
            deferred.clear()
        if out:
            self._write(b"".join(out))
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
        # SUBSCRIBE-family confirmations are pushes: they ignore CLIENT REPLY OFF/SKIP
        if mode == "skip":
            client.reply_mode = "on"
            return reply.__class__ is Pushes
        return mode == "on" or reply.__class__ is Pushes

    def _resume(self) -> None:
        """The engine woke this client: run what it sent while it was blocked."""
        loop = asyncio.get_event_loop()
        loop.call_soon(self._drain_queue)

    def _drain_queue(self) -> None:
        client = self.client
        if client is None or client.blocked is not None or self.closing:
            return
        if client.close_after_reply:        # woken with an error that ends it (now a replica)
            self.flush()
            self.close()
            return
        cmds = list(self.queue)
        self.queue.clear()
        if cmds:
            self._run(cmds)
        if self.reader.error is not None and not self.queue and not self.closing:
            self._protocol_error(self.reader.error)

    # ---------------------------------------------------------------- output
    def _push(self, data: bytes) -> None:
        """Out-of-band data: a push, or the reply of a command that was blocked."""
        if self.transport is None or self.closing:
            return
        if self.running or (self.client is not None and self.engine.executing is self.client):
            if self.running and self.engine.evictor.evicting:
                self.pre_reply.append(data)  # before the reply of the command about to run
            else:
                self.deferred.append(data)   # after the reply of the running command
            return
        if self.deferred:                   # a woken client: its reply, then its pushes
            data = b"".join([data, *self.deferred])
            self.deferred.clear()
        n = len(data)
        total = self.obuf_total + n
        if (total >= self.obuf_ok_until
                or self.obuf_limits is not self.engine.config.values["client-output-buffer-limit"]):
            if self._over_limit(n + self.pending_size, total):
                self._write_abort()
                return
        self.obuf_total = total
        self.pending_out.append(data)
        self.pending_size += n
        if not self.flush_queued:
            net = self.net
            if net.loop is None:            # no event loop (a bare engine): write now
                self.flush()
                return
            self.flush_queued = True
            net.to_flush.append(self)
            if not net.flush_scheduled:
                net.flush_scheduled = True
                net.loop.call_soon(net.flush_pending)

    def flush(self) -> None:
        """Write the pushes gathered during this loop turn."""
        self.flush_queued = False
        if self.pending_out and not self.closing and self.transport is not None:
            self._write(b"")

    def _write(self, data: bytes) -> None:
        """Hand ``data`` (after any pending pushes) to the transport unless that takes the
        output buffer over its client-output-buffer-limit: then the client is dropped with
        what it had pending."""
        client = self.client
        pending = self.pending_out
        total = self.obuf_total + len(data)
        if self._over_limit(len(data) + self.pending_size, total):
            self._write_abort()
            return
        self.obuf_total = total
        if pending:
            pending.append(data)
            data = b"".join(pending)
            pending.clear()
            self.pending_size = 0
        self.engine.stat_net_output_bytes += len(data)
        client.tot_net_out += len(data)
        self.transport.write(data)

    def _over_limit(self, extra: int, total: int | None = None) -> bool:
        """Valkey's checkClientOutputBufferLimits: the hard limit at once, the soft limit
        when it stays exceeded for more than its seconds. ``extra``: bytes about to be added
        to what the transport holds; ``total``: obuf_total after adding them, to set how far
        later pushes may go before the next full check (the buffer only grows by them)."""
        client = self.client
        limits = self.engine.config.values["client-output-buffer-limit"]
        self.obuf_limits = limits
        kind = client.kind
        cls = "replica" if kind == "replica" else ("pubsub" if client.pubsub else "normal")
        hard, soft, seconds = limits[cls]
        if not hard and not soft:
            self.obuf_ok_until = 1 << 62 if total is not None else 0
            return False
        used = self.transport.get_write_buffer_size() + extra
        if cls == "replica" and hard:
            hard = max(hard, self.engine.config["repl-backlog-size"])
        if hard and used >= hard:
            return True
        self.obuf_ok_until = 0
        if soft and used >= soft:
            now = time.monotonic()
            if not self.soft_since:
                self.soft_since = now
                self._arm_soft_timer(seconds)
                return False
            return now - self.soft_since > seconds
        self.soft_since = 0.0
        if total is not None:
            self.obuf_ok_until = total + min(x for x in (hard, soft) if x) - used
        return False

    def _arm_soft_timer(self, seconds: float) -> None:
        """Valkey's cron also enforces the soft limit on a client that receives nothing more."""
        if self.soft_timer is None and self.net.loop is not None:
            delay = max(0.0, self.soft_since + seconds - time.monotonic()) + 0.1
            self.soft_timer = self.net.loop.call_later(delay, self._soft_check)

    def _soft_check(self) -> None:
        self.soft_timer = None
        if self.closing or self.client is None or self.transport is None or not self.soft_since:
            return
        if self._over_limit(self.pending_size):
            self._write_abort()
        elif self.soft_since:
            c = self.client
            cls = "replica" if c.kind == "replica" else ("pubsub" if c.pubsub else "normal")
            self._arm_soft_timer(self.engine.config["client-output-buffer-limit"][cls][2])

    def _write_abort(self) -> None:
        client = self.client
        self.engine.stat_client_outbuf_limit_disconnections += 1
        self.net.log.warning(f"Client id={client.id} addr={client.addr} name={_name(client)} "
                             "closed for overcoming of output buffer limits.")
        self.closing = True
        self.pending_out.clear()
        self.pending_size = 0
        self.transport.abort()          # close() would keep the buffer until it drains

    def output_buffer_size(self) -> int:
        if self.transport is None:
            return 0
        return self.transport.get_write_buffer_size() + self.pending_size


def _name(client: Client) -> str:
    return client.name.decode("utf-8", "replace") if client.name else ""


def _shutdown(fd: int) -> None:
    """shutdown(SHUT_RDWR) on a duplicate of a client socket, then close the duplicate."""
    try:
        with socket.socket(fileno=fd) as s:
            s.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def _fmt_addr(addr, sock) -> str:
    if isinstance(addr, tuple):
        host = addr[0]
        return f"[{host}]:{addr[1]}" if ":" in host else f"{host}:{addr[1]}"
    if sock is not None and sock.family == socket.AF_UNIX:
        return (addr or "") + ":0" if addr else "/unixsocket:0"
    return str(addr or "")
