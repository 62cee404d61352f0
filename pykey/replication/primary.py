"""The primary side of replication (Valkey's replication.c, primary half).

A client that sends ``SYNC`` or ``PSYNC <replid> <offset>`` becomes a replica:

* ``PSYNC`` with our replication ID and an offset the backlog still holds gets
  ``+CONTINUE <replid>`` and the stream from that offset (a partial resync);
* otherwise a full resync: ``+FULLRESYNC <replid> <offset>`` (PSYNC only), a snapshot
  written by a forked child (:mod:`pykey.persistence.snapshot`), sent as ``$<len>\\r\\n``
  and the RDB bytes (no trailing CRLF), then every command propagated since the fork.

From then on every propagated command reaches the replica as a RESP array, preceded by
``SELECT <db>`` whenever the database changes (a sink of ``server.propagate``); the same
bytes feed the backlog and advance ``master_repl_offset``. Cron sends ``PING`` every
``repl-ping-replica-period`` seconds, a newline each second to replicas still waiting for
their snapshot, and drops replicas whose ``REPLCONF ACK`` stopped for ``repl-timeout``.

Engine-level and synchronous: bytes go out through ``Client.send``.
"""
from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any

from ..log import log
from ..persistence import rdb
from ..protocol.encoder import encode_in_db
from .backlog import Backlog

if TYPE_CHECKING:
    from ..engine.client import Client
    from ..engine.server import Server

WAIT_BGSAVE_START = "wait_bgsave_start"     # a non-replication child runs: wait for the next
WAIT_BGSAVE_END = "wait_bgsave_end"         # our snapshot is being written
SEND_BULK = "send_bulk"                     # the snapshot is on its way
ONLINE = "online"
_STATE_NAMES = {WAIT_BGSAVE_START: "wait_bgsave", WAIT_BGSAVE_END: "wait_bgsave", SEND_BULK: "send_bulk",
                ONLINE: "online"}
# The snapshot goes out in chunks while the replica's socket buffer stays under this, so
# that it never counts against client-output-buffer-limit (Valkey sends it from the file).
BULK_CHUNK = 4 << 20


def new_replid() -> str:
    return os.urandom(20).hex()


class ReplicaLink:
    """What the primary knows about one replica connection."""

    __slots__ = ("client", "state", "pending", "psync_offset", "listening_port", "ack_offset", "ack_time",
                 "pre_psync", "capa_eof", "capa_psync2", "announced_ip", "bulk", "bulk_pos", "aof_ack_offset")

    def __init__(self, client: Client, pre_psync: bool) -> None:
        self.client = client
        self.state = WAIT_BGSAVE_START
        self.pending: list[bytes] = []
        self.psync_offset = 0
        conf = client.extra.get("replconf", {})
        self.listening_port = conf.get("listening-port", 0)
        self.capa_eof = "eof" in conf.get("capa", ())
        self.capa_psync2 = "psync2" in conf.get("capa", ())
        self.announced_ip = conf.get("ip-address", "")
        self.ack_offset = 0
        self.ack_time = time.time()
        self.pre_psync = pre_psync
        self.bulk = b""
        self.bulk_pos = 0
        self.aof_ack_offset = 0

    def ip(self) -> str:
        if self.announced_ip:
            return self.announced_ip
        addr = self.client.addr
        host = addr.rsplit(":", 1)[0]
        return host.strip("[]")


class Primary:
    """Replication state of one server (``server.replication``)."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.replid = new_replid()
        self.replid2 = "0" * 40
        self.second_offset = -1
        self.offset = 0                          # master_repl_offset
        self.backlog: Backlog | None = None
        self.backlog_idle_since = time.time()
        self.replicas: dict[int, ReplicaLink] = {}
        self.seldb = -1
        self.stat_sync_full = 0
        self.stat_sync_partial_ok = 0
        self.stat_sync_partial_err = 0
        self.stat_repl_output_bytes = 0
        self._last_second = 0
        self._loops = 0
        self._snapshot_path = ""
        self._inline_done: list[str] = []
        self.waiting: list[Any] = []             # WAIT: (blocked handle, offset, numreplicas)
        # a replica proxies its primary's stream (replication/replica.py) instead of feeding
        # its own writes: they reach the AOF only (replicationFeedReplicas returns early)
        self.proxying = False
        server.cron_hooks.append(self.cron)
        server.client_close_hooks.append(self.client_gone)
        server.config.watch("repl-backlog-size", self._backlog_size_changed)
        server.change_replication_id = self.change_replid      # DEBUG CHANGE-REPL-ID
        server.repl_good_replicas_count = self.good_replicas_count  # scripts' min-replicas check

    # ------------------------------------------------------------ the stream
    def feed(self, dbid: int, argv: list[bytes]) -> None:
        """A propagate sink: one command into the backlog and to every replica (not one
        meant for the AOF only: ``target`` 1, from server.set_repl(server.REPL_AOF))."""
        if self.proxying or getattr(argv, "target", 2) == 1:
            return
        data = encode_in_db(dbid, self.seldb, argv)
        if dbid >= 0:
            self.seldb = dbid
        self._write(data)

    def _write(self, data: bytes) -> None:
        if self.backlog is None:
            return
        self._send(data)
        writer = self.server.executing or getattr(self.server, "writing_client", None)
        if writer is not None:              # WAIT waits for the offset after a client's last write
            writer.extra["woff"] = self.offset

    def _send(self, data: bytes) -> None:
        """Into the backlog (advancing the offset) and to every replica: online ones at
        once, those waiting for their snapshot once it is through."""
        self.backlog.feed(data)
        self.offset += len(data)
        for link in self.replicas.values():
            state = link.state
            if state == ONLINE:
                link.client.send(data)
                self.stat_repl_output_bytes += len(data)
            elif state == WAIT_BGSAVE_END or state == SEND_BULK:
                link.pending.append(data)

    def bump_offset(self) -> None:
        """No backlog: the offset still counts writes (by one each), so that WAITAOF can
        tell which writes the AOF has fsynced (Valkey's replicationFeedReplicas)."""
        if self.proxying:
            return
        self.offset += 1
        writer = self.server.executing or getattr(self.server, "writing_client", None)
        if writer is not None:
            writer.extra["woff"] = self.offset

    def proxy(self, data: bytes) -> None:
        """A replica's share of its primary's stream, byte for byte, to its own replicas and
        backlog (replicationFeedStreamFromPrimaryStream): it advances our offset as it did
        the primary's, so sub-replicas share the primary's replication ID and offsets."""
        if self.backlog is not None:
            self._send(data)

    def ensure_backlog(self) -> None:
        """A replica keeps a backlog from its first sync on, under its primary's ID, so that
        it can serve PSYNC once promoted (createReplicationBacklog)."""
        if self.backlog is None:
            self.backlog = Backlog(self.server.config["repl-backlog-size"], self.offset + 1)
        if self.feed not in self.server.propagate_sinks:
            self.server.propagate_sinks.append(self.feed)

    def free_backlog(self) -> None:
        self._free_backlog()

    def shift_replid(self) -> None:
        """A replica turned primary (shiftReplicationId): the old ID stays valid up to our
        offset as replid2, so the replicas of the same history can PSYNC-continue."""
        self.replid2 = self.replid
        self.second_offset = self.offset + 1
        self.replid = new_replid()
        log.notice(f"Setting secondary replication ID to {self.replid2}, valid up to offset: {self.second_offset}. "
                   f"New replication ID is {self.replid}")

    def save_info(self) -> rdb.ReplInfo | None:
        """The aux fields a snapshot carries (rdbPopulateSaveInfo): on a replica, the
        database its primary's stream is in, or nothing while it has no primary."""
        if self.proxying:
            dbid = self.server.replica.stream_db()
            return None if dbid is None else rdb.ReplInfo(self.replid, self.offset, dbid)
        if self.backlog is None:        # in no replication chain: nothing to continue
            return None
        return rdb.ReplInfo(self.replid, self.offset, self.seldb if self.seldb >= 0 else 0)

    def restore(self, info: rdb.ReplInfo, expired: list[tuple[int, bytes]]) -> None:
        """A snapshot loaded at startup carried replication info (loadDataFromDisk), so
        that a partial resync stays possible across the restart. A replica takes the ID
        and offset back as its cached primary and will ask ``PSYNC <id> <offset+1>``; a
        primary keeps its new ID but accepts the old one up to that offset (as replid2),
        with a backlog that starts there and holds a DEL for every key the load dropped
        as expired, so that its replicas drop them too."""
        server = self.server
        replica = server.replica
        if replica.host is not None:
            self.replid, self.offset = info.replid, info.offset
            replica.cache_myself(info.stream_db)
            return
        self.replid2 = info.replid
        self.second_offset = info.offset + 1
        self.offset = info.offset
        self.backlog = Backlog(server.config["repl-backlog-size"], self.offset + 1)
        self.backlog_idle_since = time.time()
        if self.feed not in server.propagate_sinks:
            server.propagate_sinks.append(self.feed)
        verb = b"UNLINK" if server.config["lazyfree-lazy-expire"] else b"DEL"
        for dbid, key in expired:
            self.feed(dbid, [verb, key])

    def _create_backlog(self) -> None:
        """On the first replica: a new replication ID and an empty backlog
        (createReplicationBacklog after changeReplicationId/clearReplicationId2)."""
        self.replid = new_replid()
        self.replid2 = "0" * 40
        self.second_offset = -1
        self.backlog = Backlog(self.server.config["repl-backlog-size"], self.offset + 1)
        if self.feed not in self.server.propagate_sinks:
            self.server.propagate_sinks.append(self.feed)

    def _free_backlog(self) -> None:
        self.backlog = None
        if self.feed in self.server.propagate_sinks:
            self.server.propagate_sinks.remove(self.feed)

    def _backlog_size_changed(self, old: int, new: int) -> None:
        if self.backlog is not None:
            self.backlog.resize(new)

    # ------------------------------------------------------------ SYNC / PSYNC
    def sync(self, client: Client, replid: bytes | None, offset: int) -> bytes | None:
        """Serve SYNC (``replid`` None) or PSYNC; returns the raw bytes to answer now
        (``+CONTINUE...``/``+FULLRESYNC...``) or None."""
        if replid is not None:
            cont = self._try_partial(client, replid, offset)
            if cont is not None:
                self.stat_sync_partial_ok += 1
                return cont
            if not replid.startswith(b"?"):
                self.stat_sync_partial_err += 1
        self.stat_sync_full += 1
        link = ReplicaLink(client, pre_psync=replid is None)
        client.kind = "replica"
        self.replicas[client.id] = link
        log.notice(f"Replica {link.ip()}:{link.listening_port} asks for synchronization")
        if self.backlog is None:
            if self.proxying:           # a replica keeps its primary's replication ID
                self.ensure_backlog()
            else:
                self._create_backlog()
        snaps = self.server.snapshots
        if snaps.child_purpose == "repl":
            donor = next((x for x in self.replicas.values() if x.state == WAIT_BGSAVE_END and x is not link), None)
            if donor is not None:
                link.state = WAIT_BGSAVE_END
                link.pending = list(donor.pending)
                link.psync_offset = donor.psync_offset
                log.notice("Waiting for end of BGSAVE for SYNC")
                return self._fullresync_line(link)
        if snaps.child_active():
            log.notice("Can't attach the replica to the current BGSAVE. Waiting for next BGSAVE for SYNC")
            return None
        started = self._start_snapshot()
        if not started:
            return None
        return self._fullresync_line(link, send=False)

    def _fullresync_line(self, link: ReplicaLink, send: bool = False) -> bytes | None:
        if link.pre_psync:
            return None
        line = b"+FULLRESYNC %s %d\r\n" % (self.replid.encode(), link.psync_offset)
        if send:
            link.client.send(line)
            return None
        return line

    def _try_partial(self, client: Client, replid: bytes, offset: int) -> bytes | None:
        """primaryTryPartialResynchronization: +CONTINUE and the missing stream, or None."""
        rid = replid.decode("latin-1")
        backlog = self.backlog
        if rid != self.replid and not (rid == self.replid2 and offset <= self.second_offset):
            return None
        if backlog is None or not backlog.covers(offset):
            return None
        link = ReplicaLink(client, pre_psync=False)
        link.state = ONLINE
        link.ack_offset = offset - 1 if offset > 0 else 0
        client.kind = "replica"
        self.replicas[client.id] = link
        log.notice(f"Partial resynchronization request from {link.ip()}:{link.listening_port} accepted. "
                   f"Sending {self.offset + 1 - offset} bytes of backlog starting from offset {offset}.")
        head = b"+CONTINUE %s\r\n" % self.replid.encode() if link.capa_psync2 else b"+CONTINUE\r\n"
        return head + backlog.since(offset)

    def _start_snapshot(self) -> bool:
        """Fork a snapshot for every replica waiting to start one (startBgsaveForReplication)."""
        waiting = [x for x in self.replicas.values() if x.state == WAIT_BGSAVE_START]
        if not waiting:
            return False
        server = self.server
        if self.proxying:               # the proxied stream goes on in the primary's database
            info = rdb.ReplInfo(self.replid, self.offset, self.server.replica.stream_db() or 0)
        else:
            self.seldb = -1             # the stream after the snapshot starts with a SELECT
            info = rdb.ReplInfo(self.replid, self.offset, 0)
        directory = server.config["dir"] or os.getcwd()
        if not os.access(directory, os.W_OK):       # a read-only data dir must not stop a sync
            import tempfile
            directory = tempfile.gettempdir()
        path = os.path.join(directory, f"temp-sync-{os.getpid()}.rdb")
        self._snapshot_path = path
        for link in waiting:
            link.state = WAIT_BGSAVE_END
            link.psync_offset = self.offset
            link.pending = []
        if server.snapshots.bgsave("repl", path, self._snapshot_done, info):
            return True
        # no fork (or it failed): write it here and now, deliver from the next cron
        try:
            rdb.save(server, path, info)
        except OSError as e:
            log.warning(f"SYNC failed: can't write the snapshot: {e}")
            for link in waiting:
                link.client.close()
            return False
        self._inline_done.append(path)
        return True

    def _snapshot_done(self, ok: bool, path: str) -> None:
        """The snapshot child ended: send it to its replicas, then what they missed."""
        links = [x for x in self.replicas.values() if x.state == WAIT_BGSAVE_END]
        data = b""
        if ok:
            try:
                with open(path, "rb") as f:
                    data = f.read()
            except OSError as e:
                log.warning(f"SYNC failed: can't read the snapshot: {e}")
                ok = False
        try:
            os.unlink(path)
        except OSError:
            pass
        if not ok:
            for link in links:
                log.warning("SYNC failed. BGSAVE child returned an error")
                link.client.close()
            return
        log.notice(f"Background RDB transfer terminated with success ({len(data)} bytes)")
        for link in links:
            link.client.send(b"$%d\r\n" % len(data))
            link.state = SEND_BULK
            link.bulk = data
            link.bulk_pos = 0
            self._send_bulk(link)

    def _send_bulk(self, link: ReplicaLink) -> None:
        """Hand the snapshot to the replica's socket a chunk at a time, then what it missed
        meanwhile; the replica is online after that (sendBulkToReplica)."""
        client = link.client
        size = client.obuf_size
        data = link.bulk
        while link.bulk_pos < len(data):
            if size is not None and size() >= BULK_CHUNK:
                return                                     # cron goes on once it drained
            chunk = data[link.bulk_pos:link.bulk_pos + BULK_CHUNK]
            link.bulk_pos += len(chunk)
            client.send(chunk)
            self.stat_repl_output_bytes += len(chunk)
        for chunk in link.pending:
            client.send(chunk)
            self.stat_repl_output_bytes += len(chunk)
        link.pending = []
        link.bulk = b""
        link.state = ONLINE
        link.ack_time = time.time()
        log.notice(f"Synchronization with replica {link.ip()}:{link.listening_port} succeeded")

    # ------------------------------------------------------------ REPLCONF
    def ack(self, client: Client, offset: int, aof_offset: int | None = None) -> None:
        link = self.replicas.get(client.id)
        if link is None:
            return
        if offset > link.ack_offset:
            link.ack_offset = offset
        if aof_offset is not None and aof_offset > link.aof_ack_offset:
            link.aof_ack_offset = aof_offset
        link.ack_time = time.time()
        if self.waiting:
            self.serve_waiting()

    # ------------------------------------------------------------ WAIT
    def acked(self, offset: int) -> int:
        """Replicas that acknowledged ``offset`` (replicationCountAcksByOffset)."""
        return sum(1 for x in self.replicas.values() if x.state == ONLINE and x.ack_offset >= offset)

    def aof_acked(self, offset: int) -> int:
        """Replicas whose AOF holds ``offset`` (replicationCountAOFAcksByOffset)."""
        return sum(1 for x in self.replicas.values() if x.state == ONLINE and x.aof_ack_offset >= offset)

    def _counts(self, kind: str, offset: int) -> Any:
        if kind == "wait":
            return self.acked(offset)
        aof = getattr(self.server, "aof", None)
        local = int(aof is not None and aof.fsynced_offset() >= offset)
        return [local, self.aof_acked(offset)]

    @staticmethod
    def _enough(kind: str, counts: Any, numreplicas: int, numlocal: int) -> bool:
        if kind == "wait":
            return counts >= numreplicas
        return counts[0] >= numlocal and counts[1] >= numreplicas

    def wait(self, client: Client, numreplicas: int, timeout_ms: int, numlocal: int = -1) -> Any:
        """WAIT (``numlocal`` -1) and WAITAOF: the counts at once when they suffice (or the
        client may not block), else park the client until they do or the timeout passes,
        asking every replica for an ACK now."""
        from ..engine.blocking import block, deny_blocking
        kind = "wait" if numlocal < 0 else "waitaof"
        offset = client.extra.get("woff", 0)
        counts = self._counts(kind, offset)
        if self._enough(kind, counts, numreplicas, numlocal) or deny_blocking(client):
            return counts
        result = block(client, [], timeout_ms / 1000, lambda: counts, counts, kind=kind)
        b = client.blocked
        if b is not None:
            self.waiting.append([b, offset, numreplicas, numlocal, kind])
            if self.replicas:            # not counted as this client's write
                saved = client.extra.get("woff", 0)
                self.feed(-1, [b"REPLCONF", b"GETACK", b"*"])
                client.extra["woff"] = saved
        return result

    def serve_waiting(self) -> None:
        """Release WAIT/WAITAOF clients whose acknowledgements arrived."""
        from ..engine.blocking import unblock
        keep = []
        for entry in self.waiting:
            b, offset, want, local, kind = entry
            if b.client.blocked is not b:
                continue                                   # timed out or disconnected
            counts = self._counts(kind, offset)
            b.timeout_reply = counts
            if self._enough(kind, counts, want, local):
                unblock(b, counts)
            else:
                keep.append(entry)
        self.waiting = keep

    # ------------------------------------------------------------ cron and lifecycle
    def client_gone(self, client: Client) -> None:
        link = self.replicas.pop(client.id, None)
        if link is not None:
            log.notice(f"Connection with replica {link.ip()}:{link.listening_port} lost.")
            if not self.replicas:
                self.backlog_idle_since = time.time()

    def cron(self) -> None:
        if self.waiting:
            self.serve_waiting()
        for path in self._inline_done:
            self._snapshot_done(True, path)
        self._inline_done = []
        replicas = self.replicas
        for link in list(replicas.values()):
            if link.state == SEND_BULK:
                self._send_bulk(link)
        if any(x.state == WAIT_BGSAVE_START for x in replicas.values()) and \
                not self.server.snapshots.child_active():
            waiting = [x for x in replicas.values() if x.state == WAIT_BGSAVE_START]
            if self._start_snapshot():
                for link in waiting:
                    self._fullresync_line(link, send=True)
        now = time.time()
        second = int(now)
        if second == self._last_second:
            return
        self._last_second = second
        self._loops += 1
        config = self.server.config
        if replicas:
            if self._loops % max(config["repl-ping-replica-period"], 1) == 0:
                self.feed(-1, [b"PING"])
            for link in list(replicas.values()):
                if link.state == WAIT_BGSAVE_START or link.state == WAIT_BGSAVE_END:
                    link.client.send(b"\n")
                elif not link.pre_psync and now - link.ack_time > config["repl-timeout"]:
                    log.warning(f"Disconnecting timedout replica: {link.ip()}:{link.listening_port}")
                    link.client.close()
        elif self.backlog is not None and not self.proxying:     # a replica keeps its backlog
            ttl = config["repl-backlog-ttl"]
            if ttl and now - self.backlog_idle_since > ttl:
                log.notice(f"Replication backlog freed after {ttl} seconds without connected replicas.")
                self._free_backlog()

    # ------------------------------------------------------------ introspection
    def good_replicas_count(self) -> int:
        """Online replicas whose last ACK is at most min-replicas-max-lag seconds old
        (refreshGoodReplicasCount)."""
        lag = self.server.config["min-replicas-max-lag"]
        now = time.time()
        return sum(1 for link in self.replicas.values() if link.state == ONLINE and now - link.ack_time <= lag)

    def info_fields(self) -> list[tuple[str, Any]]:
        server = self.server
        replica = server.replica
        if replica.host is not None:
            out: list[tuple[str, Any]] = [("role", "slave"), *replica.info_fields()]
        else:
            out = [("role", "master")]
        out.append(("connected_slaves", len(self.replicas)))
        config = server.config
        if config["min-replicas-to-write"] and config["min-replicas-max-lag"]:
            out.append(("min_slaves_good_slaves", self.good_replicas_count()))
        now = time.time()
        for i, link in enumerate(self.replicas.values()):
            lag = int(now - link.ack_time) if link.state == ONLINE else 0
            out.append((f"slave{i}", f"ip={link.ip()},port={link.listening_port},state={_STATE_NAMES[link.state]},"
                                     f"offset={link.ack_offset},lag={lag},type=replica"))
        backlog = self.backlog
        out += [
            ("replicas_waiting_psync", 0), ("master_failover_state", "no-failover"),
            ("master_replid", self.replid), ("master_replid2", self.replid2),
            ("master_repl_offset", self.offset), ("second_repl_offset", self.second_offset),
            ("repl_backlog_active", int(backlog is not None)),
            ("repl_backlog_size", self.server.config["repl-backlog-size"]),
            ("repl_backlog_first_byte_offset", backlog.first_offset if backlog else 0),
            ("repl_backlog_histlen", backlog.histlen if backlog else 0),
        ]
        return out

    def role(self) -> list[Any]:
        """ROLE: ["master", offset, [[ip, port, ack offset], ...]] for online replicas (a
        replica answers its own form, see replica.py)."""
        if self.server.replica.host is not None:
            return self.server.replica.role()
        rows = [[link.ip().encode(), b"%d" % link.listening_port, b"%d" % link.ack_offset]
                for link in self.replicas.values() if link.state == ONLINE]
        return [b"master", self.offset, rows]

    def change_replid(self) -> None:
        """DEBUG CHANGE-REPL-ID: a new ID, the old one forgotten."""
        self.replid = new_replid()
        self.replid2 = "0" * 40
        self.second_offset = -1
