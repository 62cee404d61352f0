"""The primary side of replication over raw sockets: SYNC and PSYNC full resyncs (the
snapshot as ``$<len>`` and RDB bytes with no trailing CRLF), the command stream with
SELECT, partial resyncs from the backlog, REPLCONF, ROLE, INFO replication, CLIENT LIST."""
from __future__ import annotations

import socket
import time

import pytest
import redis

import pykey.commands  # noqa: F401
from pykey.engine.server import Server
from pykey.persistence import rdb


class Replica:
    """Talks to the primary as a replica does, reading the stream byte by byte."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""

    def send(self, *args: str | bytes) -> None:
        parts = [a if isinstance(a, bytes) else a.encode() for a in args]
        self.sock.sendall(b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts))

    def _fill(self) -> None:
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("closed")
        self.buf += data

    def line(self) -> bytes:
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def payload(self) -> bytes:
        """Skip keep-alive newlines, then read ``$<len>\\r\\n`` and exactly len bytes."""
        while True:
            while not self.buf:
                self._fill()
            if self.buf[:1] == b"\n":
                self.buf = self.buf[1:]
                continue
            break
        head = self.line()
        assert head.startswith(b"$"), head
        return self.exact(int(head[1:]))

    def command(self) -> list[bytes]:
        head = self.line()
        assert head.startswith(b"*"), head
        out = []
        for _ in range(int(head[1:])):
            n = int(self.line()[1:])
            out.append(self.exact(n + 2)[:-2])
        return out

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def srv(pykey_factory, tmp_path):
    return pykey_factory("--dir", str(tmp_path), "--save", "", "--repl-ping-replica-period", "3600")


@pytest.fixture
def rc(srv):
    client = redis.Redis(port=srv.port, socket_timeout=10)
    yield client
    client.close()


def _parse(image: bytes):
    return rdb.parse(image, Server())


def test_sync_sends_snapshot_then_stream_with_select(srv, rc):
    rc.set("before", "1")
    rc.execute_command("SELECT", 0)
    rep = Replica(srv.port)
    rep.send("SYNC")
    image = rep.payload()
    res = _parse(image)
    assert res.dbs[0][0] == {b"before": b"1"}
    assert res.aux[b"repl-id"].decode() == rc.info("replication")["master_replid"]
    rc.set("after", "2")
    assert rep.command() == [b"SELECT", b"0"]
    assert rep.command() == [b"SET", b"after", b"2"]
    r9 = redis.Redis(port=srv.port, db=9)
    r9.execute_command("INCR", "counter")
    r9.expire("counter", 100)
    assert rep.command() == [b"SELECT", b"9"]
    assert rep.command() == [b"INCR", b"counter"]
    cmd = rep.command()
    assert cmd[0] == b"PEXPIREAT" and cmd[1] == b"counter"
    rc.get("before")                                     # reads are not propagated
    rc.delete("before")
    assert rep.command() == [b"SELECT", b"0"]
    assert rep.command() == [b"DEL", b"before"]
    rep.close()


def test_psync_full_then_continue_from_backlog(srv, rc):
    rep = Replica(srv.port)
    rep.send("REPLCONF", "listening-port", "7777")
    assert rep.line() == b"+OK"
    rep.send("REPLCONF", "capa", "eof", "capa", "psync2")
    assert rep.line() == b"+OK"
    rep.send("PSYNC", "?", "-1")
    full = rep.line().split()
    assert full[0] == b"+FULLRESYNC" and len(full[1]) == 40
    replid, offset = full[1].decode(), int(full[2])
    rep.payload()
    rc.set("a", "1")
    stream = b""
    for expected in ([b"SELECT", b"0"], [b"SET", b"a", b"1"]):
        cmd = rep.command()
        assert cmd == expected
        stream += b"*%d\r\n" % len(cmd) + b"".join(b"$%d\r\n%s\r\n" % (len(x), x) for x in cmd)
    info = rc.info("replication")
    assert info["master_replid"] == replid and info["master_repl_offset"] == offset + len(stream)
    assert info["connected_slaves"] == 1 and info["repl_backlog_active"] == 1
    assert info["slave0"]["port"] == 7777 and info["slave0"]["state"] == "online"
    rep.send("REPLCONF", "ACK", str(offset + len(stream)))       # never answered
    want = [b"master", offset + len(stream), [[b"127.0.0.1", b"7777", b"%d" % (offset + len(stream))]]]
    deadline = time.monotonic() + 5
    while rc.execute_command("ROLE") != want and time.monotonic() < deadline:
        time.sleep(0.01)                                  # the ACK travels on another connection
    assert rc.execute_command("ROLE") == want
    assert [c["flags"] for c in rc.client_list()].count("S") == 1
    rep.close()
    # a write while disconnected, then a partial resync from where the replica stopped
    rc.set("b", "2")
    rep2 = Replica(srv.port)
    rep2.send("REPLCONF", "capa", "psync2")
    assert rep2.line() == b"+OK"
    rep2.send("PSYNC", replid, str(offset + len(stream) + 1))
    assert rep2.line() == b"+CONTINUE " + replid.encode()
    assert rep2.command() == [b"SET", b"b", b"2"]
    stats = rc.info("stats")
    assert stats["sync_full"] == 1 and stats["sync_partial_ok"] == 1
    rep2.close()
    # an unknown ID or an offset outside the backlog: a full resync
    rep3 = Replica(srv.port)
    rep3.send("PSYNC", "0" * 40, "5")
    assert rep3.line().startswith(b"+FULLRESYNC")
    rep3.payload()
    assert rc.info("stats")["sync_partial_err"] == 1
    rep3.close()


def test_ping_period_and_replconf_errors(srv, rc):
    rep = Replica(srv.port)
    rep.send("SYNC")
    rep.payload()
    rc.config_set("repl-ping-replica-period", 1)
    try:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if rep.command() == [b"PING"]:
                break
        else:
            pytest.fail("no PING")
    finally:
        rc.config_set("repl-ping-replica-period", 3600)
    with pytest.raises(redis.ResponseError, match="^syntax error$"):
        rc.execute_command("REPLCONF", "listening-port")
    with pytest.raises(redis.ResponseError, match="^Unrecognized REPLCONF option: bogus$"):
        rc.execute_command("REPLCONF", "bogus", "1")
    assert rc.execute_command("REPLCONF", "listening-port", "1", "capa", "eof") == b"OK"
    rep.close()


def test_role_without_replicas(rc):
    assert rc.execute_command("ROLE") == [b"master", 0, []]
    info = rc.info("replication")
    assert info["role"] == "master" and info["connected_slaves"] == 0 and info["repl_backlog_active"] == 0


def test_replicas_attach_to_a_running_snapshot(srv, rc):
    rc.set("k", "v")
    rc.config_set("rdb-key-save-delay", 300000)      # the snapshot child takes a while
    try:
        a, b = Replica(srv.port), Replica(srv.port)
        a.send("PSYNC", "?", "-1")
        line_a = a.line()
        rc.set("during", "x")                          # after the fork: goes to the buffer
        b.send("PSYNC", "?", "-1")
        line_b = b.line()
        assert line_a == line_b and line_a.startswith(b"+FULLRESYNC")
        for rep in (a, b):
            assert _parse(rep.payload()).dbs[0][0] == {b"k": b"v"}
            assert rep.command() == [b"SELECT", b"0"]
            assert rep.command() == [b"SET", b"during", b"x"]
            rep.close()
    finally:
        rc.config_set("rdb-key-save-delay", 0)


def test_a_snapshot_larger_than_a_chunk_arrives_whole_before_the_stream(srv, rc):
    import os
    big = os.urandom(9 << 20)                         # incompressible: more than two 4 MB chunks
    rc.set("big", big)
    rep = Replica(srv.port)
    rep.send("SYNC")
    image = rep.payload()
    rc.set("after", "1")
    assert _parse(image).dbs[0][0][b"big"] == big
    assert rep.command() == [b"SELECT", b"0"]
    assert rep.command() == [b"SET", b"after", b"1"]
    rep.close()


def test_wait_counts_acks_and_blocks_until_enough(srv, rc):
    assert rc.execute_command("WAIT", 0, 0) == 0
    assert rc.execute_command("WAIT", 1, 50) == 0              # no replica: times out with 0
    with pytest.raises(redis.ResponseError, match="^timeout is negative$"):
        rc.execute_command("WAIT", 1, -1)
    with pytest.raises(redis.ResponseError, match="^timeout is not an integer or out of range$"):
        rc.execute_command("WAIT", 1, "x")
    for cmd in (["WAIT", 1], ["WAITAOF", 0, 0], ["CLIENT", "PAUSE"]):       # deadline past LLONG_MAX
        with pytest.raises(redis.ResponseError, match="^timeout is out of range$"):
            rc.execute_command(*cmd, 2**63 - 1)
    rep = Replica(srv.port)
    rep.send("PSYNC", "?", "-1")
    offset = int(rep.line().split()[2])
    rep.payload()
    rc.set("k", "v")
    select, setk = rep.command(), rep.command()
    done = offset + sum(len(b"*%d\r\n" % len(c) + b"".join(b"$%d\r\n%s\r\n" % (len(x), x) for x in c))
                        for c in (select, setk))
    import threading
    answer = []
    t = threading.Thread(target=lambda: answer.append(rc.execute_command("WAIT", 1, 5000)))
    t.start()
    assert rep.command() == [b"REPLCONF", b"GETACK", b"*"]     # the primary asks at once
    rep.send("REPLCONF", "ACK", str(done))
    t.join(10)
    assert answer == [1]
    assert rc.execute_command("WAIT", 1, 0) == 1               # already acknowledged
    rep.close()


def test_debug_change_repl_id(pykey_factory, tmp_path):
    srv = pykey_factory("--dir", str(tmp_path), "--enable-debug-command", "yes")
    rc = redis.Redis(port=srv.port)
    before = rc.info("replication")["master_replid"]
    assert rc.execute_command("DEBUG", "CHANGE-REPL-ID") == b"OK"
    after = rc.info("replication")
    assert after["master_replid"] != before and len(after["master_replid"]) == 40
    assert after["master_replid2"] == 0                  # forty zeros, parsed as a number by redis-py
