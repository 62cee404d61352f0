"""The replica side of replication (Valkey's replication.c, replica half).

``REPLICAOF host port`` (or ``replicaof`` in the config) makes this server a replica. The
link to the primary goes through the states Valkey names in ROLE and INFO:

* ``connect``: to be connected (cron tries once a second);
* ``connecting``: the TCP connection is being made (net/outgoing.py);
* the handshake: ``PING``; then, written at once, ``AUTH [primaryuser] primaryauth`` when
  set, ``REPLCONF listening-port``, ``REPLCONF ip-address`` (replica-announce-ip),
  ``REPLCONF capa eof capa psync2`` and ``REPLCONF version``, whose replies are read one by
  one; then ``PSYNC <replid> <offset+1>`` when a previous primary is cached (a partial
  resync is possible) or ``PSYNC ? -1``, and ``SYNC`` if the primary does not know PSYNC;
* ``sync`` (TRANSFER): ``+FULLRESYNC <replid> <offset>`` is followed by the snapshot, as
  ``$<len>`` and that many bytes, or ``$EOF:<40-byte mark>`` and bytes up to the mark. It
  is loaded with the RDB codec once complete (repl-diskless-load: ``disabled`` keeps it as
  dbfilename first; ``swapdb`` parses it while the old dataset stays, and keeps that one if
  the file is bad); ``+CONTINUE [<new replid>]`` goes straight to the stream;
* ``connected``: the stream is applied through ``Server.execute`` as the primary's client
  (kind ``master``; its replies are dropped), and the exact bytes applied are proxied to
  our own replicas and backlog (chained replication shares the primary's replication ID
  and offsets). ``REPLCONF ACK <offset>`` goes back every second and on ``GETACK``.

When the link drops, the primary's replication ID and applied offset are cached so the
next attempt can ask for a partial resync; it reconnects at once, then once a second.
``REPLICAOF NO ONE`` keeps the dataset, moves the replication ID to ``replid2`` (valid up
to our offset, so our replicas can continue with PSYNC) and takes a new one.

Synchronous and engine-level: bytes move through the link object the network layer gives
(``server.open_link``), as Connection does for clients.
"""
from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any

from .. import errors
from ..engine.client import Client
from ..errors import CommandError
from ..log import log
from ..persistence import rdb
from ..protocol.encoder import encode_command

if TYPE_CHECKING:
    from ..engine.server import Server

NONE = "none"
CONNECT = "connect"
CONNECTING = "connecting"
RECEIVE_PING = "receive_ping_reply"
RECEIVE_AUTH = "receive_auth_reply"
RECEIVE_PORT = "receive_port_reply"
RECEIVE_IP = "receive_ip_reply"
RECEIVE_CAPA = "receive_capa_reply"
RECEIVE_VERSION = "receive_version_reply"
RECEIVE_PSYNC = "receive_psync_reply"
TRANSFER = "transfer"
CONNECTED = "connected"
HANDSHAKE = frozenset({RECEIVE_PING, RECEIVE_AUTH, RECEIVE_PORT, RECEIVE_IP, RECEIVE_CAPA, RECEIVE_VERSION,
                       RECEIVE_PSYNC})
EOF_MARK_SIZE = 40
_MAX_LINE = 64 * 1024             # a handshake reply or an inline command longer than this is garbage
_MAX_MULTIBULK = 1024 * 1024


class ProtocolError(Exception):
    pass


def parse_commands(buf: bytearray, pos: int) -> tuple[list[tuple[list[bytes], int]], str | None]:
    """The complete commands of the replication stream from ``buf[pos:]``, each with the
    position after it: multibulk as the primary sends it, or an inline line (``[]`` for an
    empty one). The second item is the protocol error met after them, if any (bytes no
    primary sends).

    O(arguments) per command: a large value still arriving is skipped over, not scanned."""
    out: list[tuple[list[bytes], int]] = []
    n = len(buf)
    find = buf.find
    with memoryview(buf) as mv:
        while pos < n:
            if buf[pos] != 42:                               # inline
                nl = find(b"\n", pos)
                if nl < 0:
                    return out, ("too big inline request" if n - pos > _MAX_LINE else None)
                out.append((mv[pos:nl].tobytes().split(), nl + 1))
                pos = nl + 1
                continue
            nl = find(b"\r\n", pos)
            if nl < 0:
                return out, ("too big mbulk count string" if n - pos > _MAX_LINE else None)
            try:
                count = int(buf[pos + 1:nl])
            except ValueError:
                return out, "invalid mbulk count"
            if count > _MAX_MULTIBULK:
                return out, "invalid mbulk count"
            p = nl + 2
            argv: list[bytes] = []
            for _ in range(count):
                if p >= n:
                    return out, None
                if buf[p] != 36:
                    return out, f"expected '$', got '{chr(buf[p])}'"
                nl = find(b"\r\n", p)
                if nl < 0:
                    return out, ("too big bulk count string" if n - p > _MAX_LINE else None)
                try:
                    size = int(buf[p + 1:nl])
                except ValueError:
                    return out, "invalid bulk length"
                if size < 0:
                    return out, "invalid bulk length"
                p = nl + 2 + size
                if p + 2 > n:
                    return out, None
                argv.append(mv[nl + 2:p].tobytes())
                p += 2
            out.append((argv, p))
            pos = p
    return out, None


class CachedPrimary:
    """What a partial resync needs from a primary we were (or will be) streaming from."""
    __slots__ = ("replid", "reploff", "dbid")

    def __init__(self, replid: str, reploff: int, dbid: int) -> None:
        self.replid = replid
        self.reploff = reploff
        self.dbid = dbid


class _Attempt:
    """Forwards one connection attempt's events to the replica while it is the current one."""
    __slots__ = ("replica", "gen")

    def __init__(self, replica: Replica, gen: int) -> None:
        self.replica = replica
        self.gen = gen

    def _current(self) -> bool:
        return self.replica.gen == self.gen

    def link_made(self, link: Any) -> None:
        if self._current():
            self.replica._link_made(link)
        else:
            link.close()

    def link_data(self, link: Any, data: bytes) -> None:
        if self._current():
            self.replica._link_data(link, data)

    def link_lost(self, link: Any, reason: str) -> None:
        if self._current():
            self.replica._link_lost(link, reason)

    def link_failed(self, reason: str) -> None:
        if self._current():
            self.replica._link_failed(reason)


class Replica:
    """The replica state of one server (``server.replica``); ``host`` is None on a primary."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.host: str | None = None
        self.port = 0
        self.state = NONE
        self.gen = 0                         # connection attempts; stale ones are ignored
        self.stopping = False                # the server shuts down: never reconnect
        self.attempt: Any = None             # the connect task while CONNECTING
        self.link: Any = None                # net/outgoing.OutgoingLink once connected
        self.inbuf = bytearray()             # handshake replies and snapshot bytes
        self.lastio = 0.0                    # repl_transfer_lastio
        self.down_since = 0.0
        # the live primary
        self.master: Client | None = None
        self.master_replid = ""
        self.reploff = 0                     # applied (slave_repl_offset)
        self.read_reploff = 0                # received (slave_read_repl_offset)
        self.pre_psync = False
        self.stream = bytearray()            # received, not yet trimmed
        self.pos = 0                         # next command in ``stream``
        self.applied_pos = 0                 # bytes before this were applied and counted
        self.proxied_pos = 0                 # ...and these were proxied to our replicas
        self.cached: CachedPrimary | None = None
        # PSYNC / full resync
        self.psync_replid = ""
        self.initial_offset = -1
        self.transfer_size = -1
        self.transfer_read = 0
        self.eofmark: bytes | None = None
        self.diskless = False
        self.payload = bytearray()
        self.tmpfile = ""
        self.tmpfd = -1
        self._last_second = 0
        self.stat_input_bytes = 0            # INFO total_net_repl_input_bytes
        # keys a writable replica's own clients gave a TTL: key -> ids of the databases
        # (expireReplicaKeys deletes them when due; the primary's keys wait for its DEL)
        self.expiring: dict[bytes, set[int]] = {}
        server.cron_hooks.append(self.cron)
        server.flush_hooks.append(self._flushed)
        configured = server.config["replicaof"]
        if configured:
            self.host, self.port = configured
            self.state = CONNECT
            self._set_role(True)

    # ------------------------------------------------------------ role
    def _set_role(self, replica: bool) -> None:
        server = self.server
        server.is_replica = replica
        server.replication.proxying = replica
        server.config.values["replicaof"] = (self.host, self.port) if replica else None
        log.role = "S" if replica else "M"

    def link_up(self) -> bool:
        return self.state == CONNECTED

    def set_primary(self, host: str, port: int) -> None:
        """REPLICAOF host port (replicationSetPrimary)."""
        server = self.server
        was_primary = self.host is None
        self.host = None
        if self.master is not None:
            self._free_master(cache=True)
        _unblock_all(server)
        self.host, self.port = host, port
        self._set_role(True)
        self._cancel_handshake(reconnect=False)
        if was_primary:                 # the new primary may be our former replica
            self.cache_myself(-1)
        self.state = CONNECT
        log.notice(f"Connecting to PRIMARY {host}:{port}")
        self._connect()

    def cache_myself(self, dbid: int) -> None:
        """replicationCachePrimaryUsingMyself: our own replication ID and offset stand for
        the primary we will connect to, so that the first PSYNC may continue."""
        log.notice("Before turning into a replica, using my own primary parameters to synthesize a cached "
                   "primary: I may be able to synchronize with the new primary with just a partial transfer.")
        primary = self.server.replication
        self.cached = CachedPrimary(primary.replid, primary.offset, dbid)

    def unset_primary(self) -> None:
        """REPLICAOF NO ONE (replicationUnsetPrimary): keep the data, start a new history."""
        if self.host is None:
            return
        server = self.server
        self.host = None
        if self.master is not None:
            self._free_master(cache=False)
        self.cached = None
        self._cancel_handshake(reconnect=False)
        primary = server.replication
        primary.shift_replid()
        self._disconnect_replicas()
        self.state = NONE
        self.expiring = {}
        self._set_role(False)
        primary.seldb = -1
        primary.backlog_idle_since = time.time()
        self.down_since = 0.0
        aof = server.aof
        if server.config["appendonly"] and aof.state == "off":
            aof.start()

    # ------------------------------------------------------------ connecting
    def _connect(self) -> bool:
        """connectWithPrimary: start a non-blocking connection."""
        open_link = getattr(self.server, "open_link", None)
        if open_link is None or self.host is None or self.stopping:
            return False
        self.gen += 1
        try:
            self.attempt = open_link(self.host, self.port, _Attempt(self, self.gen))
        except Exception as e:  # noqa: BLE001 - a bad address must not take the server down
            log.warning(f"Unable to connect to PRIMARY: {e}")
            return False
        self.lastio = time.time()
        self.state = CONNECTING
        log.notice("PRIMARY <-> REPLICA sync started")
        return True

    def _link_failed(self, reason: str) -> None:
        self.attempt = None
        if self.state == CONNECTING:
            log.warning(f"Error condition on socket for SYNC: {reason}")
            self.state = CONNECT

    def _link_made(self, link: Any) -> None:
        self.attempt = None
        if self.state != CONNECTING:
            link.close()
            return
        self.link = link
        self.inbuf = bytearray()
        log.notice("Non blocking connect for SYNC fired the event.")
        self.state = RECEIVE_PING
        self.lastio = time.time()
        link.write(encode_command([b"PING"]))

    def _link_data(self, link: Any, data: bytes) -> None:
        if link is not self.link:
            return
        self.stat_input_bytes += len(data)
        if self.state == CONNECTED:
            self._feed_stream(data)
            return
        self.inbuf += data
        self._advance()

    def _link_lost(self, link: Any, reason: str) -> None:
        if link is not self.link:
            return
        if self.state == CONNECTED:
            self.link = None
            self._free_master(cache=True)
        elif self.state == TRANSFER:
            log.warning(f"I/O error trying to sync with PRIMARY: {reason}")
            self._cancel_handshake(reconnect=True)
        else:
            log.warning(f"Failed to read response from the server: {reason}")
            self._handshake_error()

    def _handshake_error(self) -> None:
        """syncWithPrimary's error path: drop the link, cron tries again."""
        self._close_link()
        self._remove_tmpfile()
        self.state = CONNECT

    def _close_link(self) -> None:
        link = self.link
        self.link = None
        if link is not None:
            link.close()
        if self.attempt is not None:
            self.attempt.cancel()
            self.attempt = None
        self.gen += 1
        self.inbuf = bytearray()

    def _cancel_handshake(self, reconnect: bool) -> bool:
        """cancelReplicationHandshake: abort a connection attempt or a snapshot transfer."""
        if self.state == TRANSFER:
            self._close_link()
            self._remove_tmpfile()
            self.payload = bytearray()
            self.state = CONNECT
        elif self.state == CONNECTING or self.state in HANDSHAKE:
            self._close_link()
            self.state = CONNECT
        else:
            return False
        if reconnect and self.host is not None:
            log.notice(f"Reconnecting to PRIMARY {self.host}:{self.port} after failure")
            self._connect()
        return True

    # ------------------------------------------------------------ the handshake
    def _line(self) -> str | None:
        buf = self.inbuf
        nl = buf.find(b"\n")
        if nl < 0:
            if len(buf) > _MAX_LINE:
                return ""
            return None
        line = bytes(buf[:nl]).rstrip(b"\r")
        del buf[:nl + 1]
        return line.decode("latin-1")

    def _advance(self) -> None:
        """Consume handshake replies and snapshot bytes as they arrive (syncWithPrimary)."""
        while self.link is not None:
            state = self.state
            if state == TRANSFER:
                self._transfer()
                return
            if state not in HANDSHAKE:
                return
            line = self._line()
            if line is None:
                return
            self.lastio = time.time()
            if state == RECEIVE_PING:
                if not line.startswith("+") and not line.startswith(("-NOAUTH", "-NOPERM",
                                                                     "-ERR operation not permitted")):
                    log.warning(f"Error reply to PING from primary: '{line}'")
                    self._handshake_error()
                    return
                log.notice("Primary replied to PING, replication can continue...")
                self._send_handshake()
            elif state == RECEIVE_AUTH:
                if line.startswith("-"):
                    log.warning(f"Unable to AUTH to PRIMARY: {line}")
                    self._handshake_error()
                    return
                self.state = RECEIVE_PORT
            elif state == RECEIVE_PORT:
                if line.startswith("-"):
                    log.notice(f"(Non critical) Primary does not understand REPLCONF listening-port: {line}")
                self.state = RECEIVE_IP if self.server.config["replica-announce-ip"] else RECEIVE_CAPA
            elif state == RECEIVE_IP:
                if line.startswith("-"):
                    log.notice(f"(Non critical) Primary does not understand REPLCONF ip-address: {line}")
                self.state = RECEIVE_CAPA
            elif state == RECEIVE_CAPA:
                if line.startswith("-"):
                    log.notice(f"(Non critical) Primary does not understand REPLCONF capa: {line}")
                self.state = RECEIVE_VERSION
            elif state == RECEIVE_VERSION:
                if line.startswith("-"):
                    log.notice(f"(Non critical) Primary does not understand REPLCONF VERSION: {line}")
                self._send_psync()
            elif state == RECEIVE_PSYNC:
                if not line:
                    continue                    # newlines keep the link alive meanwhile
                self._psync_reply(line)

    def _send_handshake(self) -> None:
        from ..commands.server import VALKEY_VERSION
        config = self.server.config
        out = []
        auth = config["primaryauth"]
        if auth:
            user = config["primaryuser"]
            out.append(encode_command([b"AUTH", *([user.encode()] if user else []), auth.encode()]))
        port = config["replica-announce-port"] or config["port"]
        out.append(encode_command([b"REPLCONF", b"listening-port", b"%d" % port]))
        ip = config["replica-announce-ip"]
        if ip:
            out.append(encode_command([b"REPLCONF", b"ip-address", ip.encode()]))
        out.append(encode_command([b"REPLCONF", b"capa", b"eof", b"capa", b"psync2"]))
        out.append(encode_command([b"REPLCONF", b"version", VALKEY_VERSION.encode()]))
        self.link.write(b"".join(out))
        self.state = RECEIVE_AUTH if auth else RECEIVE_PORT

    def _send_psync(self) -> None:
        """replicaTryPartialResynchronization, the writing half."""
        self.initial_offset = -1
        cached = self.cached
        if cached is not None:
            replid, offset = cached.replid, b"%d" % (cached.reploff + 1)
            log.notice(f"Trying a partial resynchronization (request {replid}:{offset.decode()}).")
        else:
            log.notice("Partial resynchronization not possible (no cached primary)")
            replid, offset = "?", b"-1"
        self.link.write(encode_command([b"PSYNC", replid.encode(), offset]))
        self.state = RECEIVE_PSYNC

    def _psync_reply(self, line: str) -> None:
        """replicaTryPartialResynchronization, the reading half."""
        if line.startswith("+FULLRESYNC"):
            parts = line.split(" ")
            if len(parts) >= 3 and len(parts[1]) == 40:
                self.psync_replid = parts[1]
                try:
                    self.initial_offset = int(parts[2])
                except ValueError:
                    self.initial_offset = 0
                log.notice(f"Full resync from primary: {self.psync_replid}:{self.initial_offset}")
            else:
                log.warning("Primary replied with wrong +FULLRESYNC syntax.")
                self.psync_replid = "\0" * 40      # so that the next PSYNC cannot continue
            self._begin_transfer()
            return
        if line.startswith("+CONTINUE"):
            self._continue(line[10:].strip())
            return
        if line.startswith(("-NOMASTERLINK", "-LOADING")):
            log.notice(f"Primary is currently unable to PSYNC but should be in the future: {line}")
            self._handshake_error()
            return
        if not line.startswith("-ERR"):
            log.warning(f"Unexpected reply to PSYNC from primary: {line}")
        else:
            log.notice(f"Primary does not support PSYNC or is in error state (reply: {line})")
        log.notice("Retrying with SYNC...")
        self.link.write(b"SYNC\r\n")
        self._begin_transfer()

    def _continue(self, new_id: str) -> None:
        """+CONTINUE: resurrect the cached primary and go on with the stream."""
        log.notice("Successful partial resynchronization with primary.")
        cached = self.cached
        self.cached = None
        primary = self.server.replication
        if cached is None:            # cannot happen: PSYNC ? -1 is never continued
            cached = CachedPrimary(primary.replid, primary.offset, -1)
        if len(new_id) == 40 and new_id != cached.replid:
            log.notice(f"Primary replication ID changed to {new_id}")
            primary.replid2 = cached.replid
            primary.second_offset = primary.offset + 1
            primary.replid = new_id
            cached.replid = new_id
            self._disconnect_replicas()           # they must learn the new ID
        rest = bytes(self.inbuf)
        self.inbuf = bytearray()
        self._create_master(cached.replid, cached.reploff, cached.dbid)
        primary.ensure_backlog()
        log.notice("PRIMARY <-> REPLICA sync: Primary accepted a Partial Resynchronization.")
        if rest:
            self._feed_stream(rest)

    # ------------------------------------------------------------ full resync
    def _use_diskless_load(self) -> bool:
        mode = self.server.config["repl-diskless-load"]
        return mode == "swapdb" or (mode == "on-empty-db" and not any(db.data for db in self.server.dbs))

    def _begin_transfer(self) -> None:
        self.diskless = self._use_diskless_load()
        self.tmpfd = -1
        self.tmpfile = ""
        if not self.diskless:
            directory = self.server.config["dir"] or os.getcwd()
            for tries in range(5):
                name = os.path.join(directory, f"temp-{int(time.time()) + tries}.{os.getpid()}.rdb")
                try:
                    self.tmpfd = os.open(name, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o644)
                    self.tmpfile = name
                    break
                except OSError as e:
                    err = e
            if self.tmpfd < 0:
                log.warning(f"Opening the temp file needed for PRIMARY <-> REPLICA synchronization: "
                            f"{err.strerror or err}")
                self._handshake_error()
                return
        self.state = TRANSFER
        self.transfer_size = -1
        self.transfer_read = 0
        self.eofmark = None
        self.payload = bytearray()
        self.lastio = time.time()

    def shutdown(self) -> None:
        """The server is going away: no reconnecting to the primary when its link closes
        (a dying replica must not start a sync that races its successor's), and a
        half-received snapshot goes (a restart names its temp file anew)."""
        self.stopping = True
        self._cancel_handshake(reconnect=False)
        self._remove_tmpfile()

    def _remove_tmpfile(self) -> None:
        if self.tmpfd >= 0:
            os.close(self.tmpfd)
            self.tmpfd = -1
        if self.tmpfile:
            try:
                os.unlink(self.tmpfile)
            except OSError:
                pass
            self.tmpfile = ""

    def _transfer(self) -> None:
        """readSyncBulkPayload: the ``$`` line, then the snapshot bytes."""
        while self.transfer_size == -1:
            line = self._line()
            if line is None:
                return
            self.lastio = time.time()
            if line.startswith("-"):
                log.warning(f"PRIMARY aborted replication with an error: {line[1:]}")
                self._cancel_handshake(reconnect=True)
                return
            if not line:
                continue
            if not line.startswith("$"):
                log.warning(f"Bad protocol from PRIMARY, the first byte is not '$' (we received '{line}'), are you "
                            f"sure the host and port are right?")
                self._cancel_handshake(reconnect=True)
                return
            target = "to parser" if self.diskless else "to disk"
            if line[1:5] == "EOF:" and len(line) - 5 >= EOF_MARK_SIZE:
                self.eofmark = line[5:5 + EOF_MARK_SIZE].encode("latin-1")
                self.transfer_size = 0
                log.notice(f"PRIMARY <-> REPLICA sync: receiving streamed RDB from primary with EOF {target}")
            else:
                try:
                    self.transfer_size = max(int(line[1:]), 0)
                except ValueError:
                    self.transfer_size = 0
                log.notice(f"PRIMARY <-> REPLICA sync: receiving {self.transfer_size} bytes from primary {target}")
        buf = self.inbuf
        if not buf and not (self.eofmark is None and self.transfer_size == self.transfer_read):
            return
        if self.eofmark is not None:
            chunk, rest = bytes(buf), b""
        else:
            left = self.transfer_size - self.transfer_read
            chunk, rest = bytes(buf[:left]), bytes(buf[left:])
        self.inbuf = bytearray()
        self.lastio = time.time()
        self.transfer_read += len(chunk)
        self.payload += chunk if self.diskless or self.eofmark is not None else b""
        if self.tmpfd >= 0:
            try:
                os.write(self.tmpfd, chunk)
            except OSError as e:
                log.warning(f"Write error or short write writing to the DB dump file needed for PRIMARY <-> "
                            f"REPLICA synchronization: {e.strerror or e}")
                self._cancel_handshake(reconnect=True)
                return
        if self.eofmark is not None:
            if len(self.payload) < EOF_MARK_SIZE or self.payload[-EOF_MARK_SIZE:] != self.eofmark:
                if not self.diskless:      # only the last bytes are needed to spot the mark
                    del self.payload[:-EOF_MARK_SIZE]
                return
        elif self.transfer_read < self.transfer_size:
            return
        self._load(rest)

    def _load(self, rest: bytes) -> None:
        """The whole snapshot arrived: load it, become connected, apply what follows."""
        server = self.server
        aof = server.aof
        if aof.state != "off":
            aof.stop()
        snaps = server.snapshots
        if snaps.child_active() and snaps.child_purpose in ("disk", "repl"):
            if not self.diskless:
                log.notice("Replica is about to load the RDB file received from the primary, but there is a pending "
                           "RDB child running. Killing process and removing its temp file to avoid any race")
            snaps.kill_child()
        mode = server.config["repl-diskless-load"]
        if self.diskless:
            data = bytes(self.payload[:-EOF_MARK_SIZE] if self.eofmark is not None else self.payload)
            self.payload = bytearray()
            if mode == "swapdb":
                res = self._parse(data, "from socket")
                if res is None:
                    return                         # the old dataset stays
                self._attach_to_new_primary()
                log.notice("PRIMARY <-> REPLICA sync: Swapping active DB with loaded DB")
                if not self._install(res, "from socket"):
                    return
            else:
                self._attach_to_new_primary()
                log.notice("PRIMARY <-> REPLICA sync: Flushing old data")
                _empty_data(server)
                log.notice("PRIMARY <-> REPLICA sync: Loading DB in memory")
                res = self._parse(data, "from socket")
                if res is None or not self._install(res, "from socket"):
                    return
            server.dirty += 1
        else:
            res = self._load_from_disk()
            if res is None:
                return
        stream_db = res.aux.get(b"repl-stream-db", b"0")
        try:
            dbid = int(stream_db)
        except ValueError:
            dbid = 0
        snaps.last_load_keys_loaded = res.keys_loaded
        snaps.last_load_keys_expired = res.keys_expired
        self._create_master(self.psync_replid, self.initial_offset, dbid)
        self.send_ack()                 # puts us online on the primary at once
        primary = server.replication
        primary.replid = self.psync_replid
        primary.offset = self.reploff
        primary.replid2 = "0" * 40
        primary.second_offset = -1
        primary.ensure_backlog()
        log.notice("PRIMARY <-> REPLICA sync: Finished with success")
        if server.config["appendonly"] and aof.state == "off":
            aof.start()
        if rest:
            self._feed_stream(rest)

    def _load_from_disk(self) -> rdb.LoadResult | None:
        """repl-diskless-load disabled: the file becomes dbfilename, then it is loaded."""
        server = self.server
        path = server.snapshots.path()
        fd, tmp = self.tmpfd, self.tmpfile
        self.tmpfd, self.tmpfile = -1, ""
        try:
            if self.eofmark is not None:
                os.ftruncate(fd, self.transfer_read - EOF_MARK_SIZE)
            os.fsync(fd)
            os.close(fd)
            os.replace(tmp, path)
        except OSError as e:
            log.warning(f"Failed trying to rename the temp DB into {os.path.basename(path)} in PRIMARY <-> REPLICA "
                        f"synchronization: {e.strerror or e}")
            try:
                os.close(fd)
            except OSError:
                pass
            self.tmpfile = tmp
            self._cancel_handshake(reconnect=True)
            return None
        self._attach_to_new_primary()
        log.notice("PRIMARY <-> REPLICA sync: Flushing old data")
        _empty_data(server)
        log.notice("PRIMARY <-> REPLICA sync: Loading DB in memory")
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as e:
            log.warning(f"Failed trying to load the PRIMARY synchronization DB from disk, check server logs. ({e})")
            self._cancel_handshake(reconnect=True)
            return None
        res = self._parse(data, "from disk")
        if res is None or not self._install(res, "from disk"):
            return None
        return res

    def _parse(self, data: bytes, where: str) -> rdb.LoadResult | None:
        try:
            return rdb.parse(data, self.server, keep_expired=True)
        except Exception as e:  # noqa: BLE001 - a bad snapshot must cost the sync, not the server
            self._load_failed(where, e)
            return None

    def _install(self, res: rdb.LoadResult, where: str) -> bool:
        server = self.server
        server.loading = True
        try:
            if self.diskless and server.config["repl-diskless-load"] == "swapdb":
                _empty_data(server)
            rdb.install(server, res)
        except Exception as e:  # noqa: BLE001
            self._load_failed(where, e)
            log.notice("PRIMARY <-> REPLICA sync: Discarding the half-loaded data")
            _empty_data(server)
            return False
        finally:
            server.loading = False
        return True

    def _load_failed(self, where: str, e: Exception) -> None:
        log.warning(f"Failed trying to load the PRIMARY synchronization DB {where}, check server logs. ({e})")
        self._cancel_handshake(reconnect=True)

    def _attach_to_new_primary(self) -> None:
        """A different dataset: no partial resync with the old primary, and our replicas
        (and backlog) cannot continue either."""
        self.cached = None
        self._disconnect_replicas()
        self.server.replication.free_backlog()

    def _disconnect_replicas(self) -> None:
        replicas = self.server.replication.replicas
        for cid in list(replicas):
            link = replicas.pop(cid)
            link.client.close()

    # ------------------------------------------------------------ the primary's client
    def _create_master(self, replid: str, reploff: int, dbid: int) -> None:
        server = self.server
        link = self.link
        from ..net.outgoing import local_addr, peer_addr
        c = Client(server, peer_addr(link), local_addr(link), link.fileno(), kind="master")
        c.authenticated = True
        c.user = "(superuser)"
        c.closer = self._kill_master
        c.resume = self._master_resumed
        if 0 <= dbid < len(server.dbs):
            c.db = server.dbs[dbid]
        server.clients[c.id] = c
        self.master = c
        self.master_replid = replid
        self.reploff = self.read_reploff = reploff
        self.pre_psync = reploff == -1
        self.stream = bytearray()
        self.pos = self.applied_pos = self.proxied_pos = 0
        self.state = CONNECTED
        self.down_since = 0.0

    def _kill_master(self) -> None:
        """CLIENT KILL of the primary's client: as if the link dropped."""
        if self.master is not None:
            self._free_master(cache=True)

    def _free_master(self, cache: bool, protocol_error: bool = False) -> None:
        """freeClient(primary): cache it for a partial resync, then reconnect."""
        m = self.master
        if m is None:
            return
        self._proxy()
        log.notice("Connection with primary lost.")
        self.master = None
        link = self.link
        self.link = None
        if link is not None:
            link.close()
        self.gen += 1
        self.server.client_closed(m)
        if cache and not protocol_error:
            log.notice("Caching the disconnected primary state.")
            self.cached = CachedPrimary(self.master_replid, self.reploff, m.db.id)
        self.stream = bytearray()
        self.pos = self.applied_pos = self.proxied_pos = 0
        # replicationHandlePrimaryDisconnection
        self.state = CONNECT
        self.down_since = time.time()
        if self.host is not None and not self.stopping:
            log.notice(f"Reconnecting to PRIMARY {self.host}:{self.port}")
            self._connect()

    def _feed_stream(self, data: bytes) -> None:
        m = self.master
        if m is None:
            return
        m.last_interaction = time.time()
        m.tot_net_in += len(data)
        self.read_reploff += len(data)
        self.stream += data
        if m.blocked is None:
            self._process()

    def _master_resumed(self) -> None:
        self.server.schedule(0, self._resume_now)

    def _resume_now(self) -> None:
        m = self.master
        if m is None or m.blocked is not None:
            return
        if m.multi is None and self.applied_pos < self.pos:   # a blocked command completed
            self.reploff += self.pos - self.applied_pos
            self.applied_pos = self.pos
        self._process()

    def _process(self) -> None:
        """Apply the complete commands received (processInputBuffer for the primary): the
        offset advances by each command's bytes once applied (at EXEC for a transaction)."""
        from ..engine.server import BLOCKED
        m = self.master
        server = self.server
        execute = server.execute
        pos = self.pos
        cmds, error = parse_commands(self.stream, pos)
        try:
            for argv, end in cmds:
                if m is not self.master or m.blocked is not None:
                    error = None
                    break
                start, pos = pos, end
                if not argv:
                    continue
                reply = execute(m, argv)
                if reply is BLOCKED:
                    b = m.blocked
                    if b is not None and b.kind == "postpone":
                        pos = start                 # runs again when the pause ends
                    error = None
                    break
                if isinstance(reply, CommandError):
                    server.stat_unexpected_error_replies += 1
                    log.warning(f"== CRITICAL == This replica is sending an error to its primary: '{reply.message}' "
                                f"after processing the command '{argv[0].decode('latin-1')}'")
                if m.multi is None and m is self.master:
                    self.reploff += pos - self.applied_pos
                    self.applied_pos = pos
        finally:
            if m is self.master:
                self.pos = pos
                self._proxy()
        if error is not None and m is self.master:
            log.warning(f"Protocol error ({error}) from client: id={m.id} addr={m.addr} (primary)")
            self._free_master(cache=False, protocol_error=True)

    def _proxy(self, trim: bool = True) -> None:
        """Send the applied bytes to our replicas and backlog (replicationFeedStreamFromPrimaryStream),
        then drop them from the buffer unless a command is being applied (``trim`` False)."""
        start, end = self.proxied_pos, self.applied_pos
        buf = self.stream
        if end > start:
            self.server.replication.proxy(bytes(buf[start:end]))
            self.proxied_pos = end
        if end and trim:
            del buf[:end]
            self.pos -= end
            self.applied_pos = self.proxied_pos = 0

    def send_ack(self) -> None:
        """REPLCONF ACK <applied offset> [FACK <fsynced offset>] (replicationSendAck)."""
        m, link = self.master, self.link
        if m is None or link is None:
            return
        self._proxy(trim=False)         # GETACK arrives while the stream is being applied
        argv = [b"REPLCONF", b"ACK", b"%d" % self.reploff]
        fack = self.server.aof.fsynced_offset()
        if fack != -1:
            argv += [b"FACK", b"%d" % fack]
        link.write(encode_command(argv))

    # ------------------------------------------------------------ writable replicas
    def expire_set(self, db: Any, key: bytes) -> None:
        """A TTL was set on a replica: remember it when a client of a writable replica set
        it (rememberReplicaKeyWithExpire), so that the key expires here."""
        server = self.server
        c = server.current_client
        if server.config["replica-read-only"] or c is None or c.kind == "master" or server.executing is None:
            return
        self.expiring.setdefault(key, set()).add(db.id)

    def _flushed(self, dbid: int) -> None:
        if dbid == -1:
            self.expiring = {}

    def expire_tracked_keys(self) -> None:
        """expireReplicaKeys: delete the tracked keys whose time has come; stop after three
        that are not due yet or a millisecond of work."""
        tracked = self.expiring
        server = self.server
        now = server.now_ms
        start = time.perf_counter()
        noexpire = cycles = 0
        for key in list(tracked):
            dbids = tracked[key]
            for dbid in list(dbids):
                db = server.dbs[dbid] if dbid < len(server.dbs) else None
                when = db.expires.get(key) if db is not None else None
                if when is not None and when <= now:
                    db.delete_expired(key)
                    dbids.discard(dbid)
                elif when is None:
                    dbids.discard(dbid)
                else:
                    noexpire += 1
            if not dbids:
                del tracked[key]
            else:
                tracked[key] = tracked.pop(key)     # round robin: the others come first next time
            cycles += 1
            if noexpire > 3 or (cycles % 64 == 0 and time.perf_counter() - start > 0.001):
                break

    # ------------------------------------------------------------ cron
    def cron(self) -> None:
        """replicationCron, replica part, once a second: timeouts, reconnection, ACKs.
        Each tick, a writable replica expires the keys its clients gave a TTL."""
        if self.host is None:
            return
        if self.expiring and self.server.active_expire_enabled:
            self.expire_tracked_keys()
        now = time.time()
        second = int(now)
        if second == self._last_second:
            return
        self._last_second = second
        timeout = self.server.config["repl-timeout"]
        state = self.state
        if (state == CONNECTING or state in HANDSHAKE) and now - self.lastio > timeout:
            log.warning("Timeout connecting to the PRIMARY...")
            self._cancel_handshake(reconnect=True)
        if self.state == TRANSFER and now - self.lastio > timeout:
            log.warning("Timeout receiving bulk data from PRIMARY... If the problem persists try to set the "
                        "'repl-timeout' parameter in valkey.conf to a larger value.")
            self._cancel_handshake(reconnect=True)
        m = self.master
        if self.state == CONNECTED and m is not None and now - m.last_interaction > timeout:
            log.warning("PRIMARY timeout: no data nor PING received...")
            self._free_master(cache=True)
        if self.state == CONNECT:
            log.notice(f"Connecting to PRIMARY {self.host}:{self.port}")
            self._connect()
        if self.master is not None and not self.pre_psync:
            self.send_ack()

    # ------------------------------------------------------------ introspection
    def role_state(self) -> str:
        if self.state in HANDSHAKE:
            return "handshake"
        return {NONE: "none", CONNECT: "connect", CONNECTING: "connecting", TRANSFER: "sync",
                CONNECTED: "connected"}.get(self.state, "unknown")

    def role(self) -> list[Any]:
        """ROLE on a replica: slave, host, port, state, applied offset (-1 unconnected)."""
        return [b"slave", (self.host or "").encode(), self.port, self.role_state().encode(),
                self.reploff if self.master is not None else -1]

    def offsets(self) -> tuple[int, int]:
        """(applied, received) offsets for INFO: the live primary's, else the cached one's, else 1."""
        if self.master is not None:
            return self.reploff, self.read_reploff
        if self.cached is not None:
            return self.cached.reploff, self.cached.reploff
        return 1, 1

    def info_fields(self) -> list[tuple[str, Any]]:
        """The replica lines of INFO replication (after role:slave)."""
        now = time.time()
        config = self.server.config
        applied, read = self.offsets()
        m = self.master
        out: list[tuple[str, Any]] = [
            ("master_host", self.host), ("master_port", self.port),
            ("master_link_status", "up" if self.state == CONNECTED else "down"),
            ("master_last_io_seconds_ago", int(now - m.last_interaction) if m is not None else -1),
            ("master_sync_in_progress", int(self.state == TRANSFER)),
            ("slave_read_repl_offset", read), ("slave_repl_offset", applied),
            ("replicas_repl_buffer_size", 0), ("replicas_repl_buffer_peak", 0),
        ]
        if self.state == TRANSFER:
            size, done = self.transfer_size, self.transfer_read
            perc = done / size * 100 if size > 0 else 0.0
            out += [("master_sync_total_bytes", size), ("master_sync_read_bytes", done),
                    ("master_sync_left_bytes", size - done), ("master_sync_perc", f"{perc:.2f}"),
                    ("master_sync_last_io_seconds_ago", int(now - self.lastio))]
        if self.state != CONNECTED:
            out.append(("master_link_down_since_seconds", int(now - self.down_since) if self.down_since else -1))
        out += [("slave_priority", config["replica-priority"]), ("slave_read_only", int(config["replica-read-only"])),
                ("replica_announced", int(config["replica-announced"]))]
        return out

    def stream_db(self) -> int | None:
        """The database the primary's stream is in (rdbPopulateSaveInfo on a replica)."""
        if self.master is not None:
            return self.master.db.id
        if self.cached is not None:
            return max(self.cached.dbid, 0)
        return None


def _empty_data(server: Server) -> None:
    from ..commands.persistence import empty_data
    empty_data(server)


def _unblock_all(server: Server) -> None:
    """disconnectAllBlockedClients: clients blocked on keys get an error and are closed
    (a pause's postponed clients just wait: they run again from the start)."""
    from ..engine.blocking import unblock
    for c in list(server.clients.values()):
        b = c.blocked
        if b is not None and b.kind != "postpone":
            c.close_after_reply = True
            unblock(b, errors.UNBLOCKED_NOW_REPLICA)
