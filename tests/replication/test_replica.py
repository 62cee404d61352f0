"""The replica side of replication: REPLICAOF/SLAVEOF between two (or three) pykey servers,
and against a scripted primary on a raw socket for the forms pykey's primary does not send
(the EOF-marked snapshot, a corrupt snapshot, no PSYNC)."""
from __future__ import annotations

import os
import socket
import threading
import time

import pytest
import redis

import pykey.commands  # noqa: F401
from pykey.engine.server import Server
from pykey.persistence import rdb
from pykey.testing.waiting import link_up, wait_for


def start_replica(replica: redis.Redis, primary_port: int) -> None:
    assert replica.execute_command("REPLICAOF", "127.0.0.1", primary_port) == b"OK"
    wait_for(lambda: link_up(replica), what="the link to come up")


def in_sync(primary: redis.Redis, replica: redis.Redis) -> bool:
    p, r = primary.info("replication"), replica.info("replication")
    return r.get("slave_repl_offset") == p["master_repl_offset"]


def digest(r: redis.Redis) -> bytes:
    return r.execute_command("DEBUG", "DIGEST")


@pytest.fixture
def pair(pykey_factory, tmp_path):
    """A primary and a (not yet attached) replica, each in its own directory."""
    (tmp_path / "p").mkdir()
    (tmp_path / "r").mkdir()
    p = pykey_factory("--dir", str(tmp_path / "p"), "--enable-debug-command", "yes")
    r = pykey_factory("--dir", str(tmp_path / "r"), "--enable-debug-command", "yes")
    pc = redis.Redis(port=p.port, socket_timeout=10)
    rc = redis.Redis(port=r.port, socket_timeout=10)
    yield p, r, pc, rc
    pc.close()
    rc.close()


def fill(r: redis.Redis) -> None:
    """One key of every type and encoding, TTLs, several databases, a function library."""
    r.set("str", "hello")
    r.set("int", 12345)
    r.set("raw", "x" * 500)
    r.append("appended", "grown")
    r.set("ttl", "v", px=500_000)
    r.rpush("list", *range(10))
    r.rpush("biglist", *[f"item-{i}" for i in range(600)])
    r.sadd("intset", *range(20))
    r.sadd("set", "a", "b", "c")
    r.sadd("bigset", *[f"m{i}" for i in range(300)])
    r.hset("hash", mapping={"f": "1", "g": "two"})
    r.hset("bighash", mapping={f"f{i}": i for i in range(300)})
    r.zadd("zset", {"a": 1, "b": 2.5, "c": float("-inf")})
    r.zadd("bigzset", {f"m{i}": i / 7 for i in range(300)})
    r.pfadd("hll", *range(100))
    r.setbit("bits", 1000, 1)
    for i in range(20):
        r.xadd("stream", {"n": i}, id=f"{i + 1}-0")
    r.xgroup_create("stream", "g", id="0")
    r.xreadgroup("g", "alice", {"stream": ">"}, count=3)
    r.execute_command("FUNCTION", "LOAD", "#!lua name=lib\nserver.register_function('answer', function() return 42 end)")
    r9 = redis.Redis(port=r.connection_pool.connection_kwargs["port"], db=9)
    r9.set("in-db-9", "nine")
    r9.close()


def test_full_sync_copies_every_type_and_database(pair):
    _, _, pc, rc = pair
    fill(pc)
    rc.set("stale-local-key", "gone after the sync")
    start_replica(rc, pc.connection_pool.connection_kwargs["port"])
    assert digest(rc) == digest(pc)
    assert rc.exists("stale-local-key") == 0
    assert "'lib'" in repr(rc.execute_command("FUNCTION", "LIST"))
    assert 499 <= rc.ttl("ttl") <= 500
    assert rc.execute_command("OBJECT", "ENCODING", "intset") == b"intset"
    info = rc.info("replication")
    pinfo = pc.info("replication")
    assert info["role"] == "slave" and info["master_sync_in_progress"] == 0
    assert info["master_replid"] == pinfo["master_replid"]
    assert info["slave_read_only"] == 1 and info["slave_priority"] == 100 and info["replica_announced"] == 1
    assert "master_link_down_since_seconds" not in info
    assert pc.info("stats")["sync_full"] == 1


def test_live_stream_is_applied_and_offsets_match(pair):
    p, _, pc, rc = pair
    start_replica(rc, p.port)
    pc.set("a", 1)
    pc.incrbyfloat("f", 1.5)
    pc.lpush("l", "x", "y")
    pc.expire("a", 1000)
    with pc.pipeline(transaction=True) as tx:
        tx.incr("counter")
        tx.sadd("s", "m")
        tx.execute()
    pc.eval("redis.call('set', KEYS[1], ARGV[1]); redis.call('del', 'l')", 1, "from-script", "v")
    p5 = redis.Redis(port=p.port, db=5)
    p5.hset("h5", "f", "v")
    p5.close()
    pc.spop("s")
    assert pc.execute_command("WAIT", 1, 5000) == 1         # the replica answers GETACK
    wait_for(lambda: in_sync(pc, rc), what="offsets")
    assert digest(rc) == digest(pc)
    assert rc.get("from-script") == b"v" and rc.exists("l") == 0
    r5 = redis.Redis(port=rc.connection_pool.connection_kwargs["port"], db=5)
    assert r5.hget("h5", "f") == b"v"
    r5.close()
    info = rc.info("replication")
    assert info["slave_read_repl_offset"] == info["slave_repl_offset"] == info["master_repl_offset"]
    assert rc.info("stats")["total_net_repl_input_bytes"] > info["master_repl_offset"]    # and the snapshot
    assert pc.info("stats")["total_net_repl_output_bytes"] > info["master_repl_offset"]
    role = rc.execute_command("ROLE")
    assert role[:4] == [b"slave", b"127.0.0.1", p.port, b"connected"]
    assert role[4] == info["slave_repl_offset"]
    # the primary's client is listed with flag M and type master; its replies are dropped
    masters = rc.client_list(_type="master")
    assert len(masters) == 1 and masters[0]["flags"] == "M" and masters[0]["user"] == "(superuser)"
    assert masters[0]["addr"] == f"127.0.0.1:{p.port}" and int(masters[0]["fd"]) > 0
    with pytest.raises(redis.ResponseError, match="^WAIT cannot be used with replica instances"):
        rc.execute_command("WAIT", 1, 0)
    with pytest.raises(redis.ResponseError, match="^WAITAOF cannot be used with replica instances"):
        rc.execute_command("WAITAOF", 0, 1, 0)
    # the primary learns our offset from REPLCONF ACK (sent every second and on GETACK)
    wait_for(lambda: pc.info("replication")["slave0"]["offset"] == pc.info("replication")["master_repl_offset"],
             what="the replica's ACK")


def test_partial_resync_after_the_link_drops(pair):
    p, _, pc, rc = pair
    start_replica(rc, p.port)
    pc.set("before", 1)
    wait_for(lambda: rc.get("before") == b"1")
    replid = pc.info("replication")["master_replid"]
    # the replica drops its primary (as on a network error): it reconnects at once with
    # PSYNC <replid> <offset+1>, and gets only what it missed
    rc.client_kill_filter(_type="master")
    pc.set("while-away", 2)
    wait_for(lambda: rc.get("while-away") == b"2", what="the missed write")
    stats = pc.info("stats")
    assert stats["sync_full"] == 1 and stats["sync_partial_ok"] == 1
    assert rc.info("replication")["master_replid"] == replid
    # the same from the primary's side
    pc.client_kill_filter(_type="replica")
    pc.set("again", 3)
    wait_for(lambda: rc.get("again") == b"3", what="the write after the second drop")
    wait_for(lambda: in_sync(pc, rc), what="offsets")
    assert pc.info("stats")["sync_partial_ok"] == 2 and pc.info("stats")["sync_full"] == 1
    assert digest(rc) == digest(pc)


def test_replicaof_no_one_promotes_and_keeps_the_history(pair, pykey_factory):
    p, r, pc, rc = pair
    start_replica(rc, p.port)
    sub = pykey_factory()
    sc = redis.Redis(port=sub.port, socket_timeout=10)
    start_replica(sc, r.port)                     # a replica of the replica
    pc.set("k", "v")
    wait_for(lambda: sc.get("k") == b"v")
    old = rc.info("replication")
    assert rc.execute_command("REPLICAOF", "NO", "ONE") == b"OK"
    info = rc.info("replication")
    assert info["role"] == "master"
    assert info["master_replid2"] == old["master_replid"]
    assert info["second_repl_offset"] == old["master_repl_offset"] + 1
    assert info["master_replid"] != old["master_replid"]
    assert rc.get("k") == b"v"
    rc.set("written-on-the-new-primary", 1)       # no longer read-only
    # the sub-replica was disconnected and continues from the backlog (replid2)
    wait_for(lambda: sc.get("written-on-the-new-primary") == b"1", what="the sub-replica to continue")
    assert rc.info("stats")["sync_partial_ok"] >= 1
    assert sc.info("replication")["master_replid"] == info["master_replid"]
    assert rc.execute_command("ROLE")[0] == b"master"
    assert rc.execute_command("REPLICAOF", "NO", "ONE") == b"OK"      # already a primary: nothing to do
    # the demoted old primary can PSYNC-continue from the new one with its own ID/offset
    pc_offset = pc.info("replication")["master_repl_offset"]
    assert pc_offset == old["master_repl_offset"]
    full = rc.info("stats")["sync_full"]                # the sub-replica's first sync
    start_replica(pc, r.port)
    wait_for(lambda: pc.get("written-on-the-new-primary") == b"1", what="the demoted primary to catch up")
    assert rc.info("stats")["sync_full"] == full
    sc.close()


def test_chained_replicas_get_the_primary_stream_byte_for_byte(pair, pykey_factory):
    p, r, pc, rc = pair
    start_replica(rc, p.port)
    sub = pykey_factory("--enable-debug-command", "yes")
    sc = redis.Redis(port=sub.port, socket_timeout=10)
    pc.set("before-the-sub", 1)
    start_replica(sc, r.port)
    # a raw replica of the middle server sees exactly what the primary sends
    raw_mid = _RawReplica(r.port)
    raw_top = _RawReplica(p.port)
    raw_mid.psync()
    raw_top.psync()
    pc.set("x", "1")
    pc.execute_command("SELECT", 0)
    p3 = redis.Redis(port=p.port, db=3)
    p3.lpush("l3", "a")
    p3.close()
    wait_for(lambda: in_sync(pc, sc), what="the sub-replica")
    top, mid = raw_top.drain(), raw_mid.drain()
    first = b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$1\r\n1\r\n"       # both saw the stream from here
    assert first in top and top[top.index(first):] == mid[mid.index(first):]
    for c in (rc, sc):
        info = c.info("replication")
        assert info["master_replid"] == pc.info("replication")["master_replid"]
        assert info["master_repl_offset"] == pc.info("replication")["master_repl_offset"]
    assert digest(sc) == digest(pc)
    # the middle server does not feed its replicas from its own writes
    with pytest.raises(redis.ReadOnlyError):
        rc.set("no", 1)
    raw_mid.close()
    raw_top.close()
    sc.close()


class _RawReplica:
    """A replica speaking the protocol by hand, to see the exact stream bytes."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""

    def psync(self) -> None:
        self.sock.sendall(b"*3\r\n$5\r\nPSYNC\r\n$1\r\n?\r\n$2\r\n-1\r\n")
        while True:
            while b"\r\n" not in self.buf:
                self.buf += self.sock.recv(65536)
            line, self.buf = self.buf.split(b"\r\n", 1)
            if line.startswith(b"$"):
                size = int(line[1:])
                while len(self.buf) < size:
                    self.buf += self.sock.recv(65536)
                self.buf = self.buf[size:]
                return

    def drain(self) -> bytes:
        self.sock.settimeout(0.3)
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    break
                self.buf += data
        except TimeoutError:
            pass
        out, self.buf = self.buf, b""
        return out

    def close(self) -> None:
        self.sock.close()


def test_read_only_replica_refuses_writes(pair):
    p, _, pc, rc = pair
    start_replica(rc, p.port)
    with pytest.raises(redis.ReadOnlyError, match="You can't write against a read only replica."):
        rc.set("k", "v")
    with pytest.raises(redis.ReadOnlyError):
        rc.eval("#!lua\nreturn redis.call('get', 'x')", 1, "x")     # no flags: it may write
    assert rc.eval("#!lua flags=no-writes\nreturn 1", 0) == 1
    assert rc.eval("return redis.call('get', 'x')", 1, "x") is None  # compatibility mode: only writes fail
    with pytest.raises(redis.ReadOnlyError, match="You can't write against a read only replica. script: "):
        rc.eval("return redis.call('set', 'x', 1)", 1, "x")
    one = redis.Redis(port=rc.connection_pool.connection_kwargs["port"], single_connection_client=True)
    assert one.execute_command("MULTI") == b"OK"
    with pytest.raises(redis.ReadOnlyError):
        one.execute_command("SET", "k", "v")                      # refused while queuing
    with pytest.raises(redis.ResponseError, match="^Transaction discarded because of previous errors"):
        one.execute_command("EXEC")
    one.close()
    assert rc.get("k") is None and rc.ping()
    rc.config_set("replica-read-only", "no")
    assert rc.set("local", "1") and rc.get("local") == b"1"
    assert rc.info("replication")["slave_read_only"] == 0
    rc.config_set("replica-read-only", "yes")


def test_stale_data_and_masterdown(pykey_factory):
    srv = pykey_factory()
    c = redis.Redis(port=srv.port, socket_timeout=10)
    c.set("x", 1)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]                 # nothing listens there
    assert c.execute_command("REPLICAOF", "127.0.0.1", dead) == b"OK"
    info = c.info("replication")
    assert info["master_link_status"] == "down" and info["master_link_down_since_seconds"] == -1
    # the offsets of the primary we were, kept to try a partial resync with the new one
    assert info["slave_repl_offset"] == 0 and info["master_last_io_seconds_ago"] == -1
    assert c.execute_command("ROLE")[3] in (b"connect", b"connecting")
    assert c.get("x") == b"1"                     # stale data is served by default
    c.config_set("replica-serve-stale-data", "no")
    with pytest.raises(redis.ResponseError, match="^Link with MASTER is down and replica-serve-stale-data"):
        c.get("x")
    assert c.info("replication")["role"] == "slave"      # INFO has the stale flag
    assert c.execute_command("SLAVEOF", "NO", "ONE")
    assert c.get("x") == b"1"
    # a transaction queued before the link went down is refused at EXEC
    other = redis.Redis(port=srv.port, socket_timeout=10, single_connection_client=True)
    assert other.execute_command("MULTI") == b"OK"
    assert other.execute_command("GET", "x") == b"QUEUED"
    c.execute_command("REPLICAOF", "127.0.0.1", dead)
    with pytest.raises(redis.ResponseError, match="^Transaction discarded because of: MASTERDOWN Link with MASTER"):
        other.execute_command("EXEC")
    assert other.execute_command("MULTI") == b"OK"         # MULTI itself may run while stale
    c.execute_command("REPLICAOF", "NO", "ONE")
    assert other.execute_command("GET", "x") == b"QUEUED"
    assert other.execute_command("EXEC") == [b"1"]
    other.close()
    c.config_set("replica-serve-stale-data", "yes")


def test_replicaof_arguments_and_config(pair):
    p, r, pc, rc = pair
    with pytest.raises(redis.ResponseError, match="^Invalid master port$"):
        rc.execute_command("REPLICAOF", "127.0.0.1", "abc")
    with pytest.raises(redis.ResponseError, match="^Invalid master port$"):
        rc.execute_command("REPLICAOF", "127.0.0.1", "70000")
    with pytest.raises(redis.ResponseError, match="wrong number of arguments"):
        rc.execute_command("REPLICAOF", "127.0.0.1")
    assert rc.config_get("replicaof") == {"replicaof": ""}
    start_replica(rc, p.port)
    assert rc.execute_command("REPLICAOF", "127.0.0.1", p.port) == b"OK Already connected to specified master"
    assert rc.config_get("slaveof") == {"slaveof": f"127.0.0.1 {p.port}"}
    with pytest.raises(redis.ResponseError, match="immutable"):
        rc.config_set("replicaof", "no one")
    # a replica connection may not run it (it would be disconnected with our replicas)
    raw = socket.create_connection(("127.0.0.1", p.port), timeout=10)
    raw.sendall(b"SYNC\r\n")
    time.sleep(0.1)
    raw.sendall(b"REPLICAOF 127.0.0.1 1\r\n")
    data = b""
    while b"not valid" not in data:
        data += raw.recv(65536)
    assert b"-ERR Command is not valid when client is a replica.\r\n" in data
    raw.close()
    assert rc.execute_command("SLAVEOF", "no", "one")
    assert rc.config_get("replicaof") == {"replicaof": ""}


def test_replicaof_in_the_config_file(pykey_factory, tmp_path):
    p = pykey_factory()
    pc = redis.Redis(port=p.port, socket_timeout=10)
    pc.set("configured", "yes")
    conf = tmp_path / "replica.conf"
    conf.write_text(f"replicaof 127.0.0.1 {p.port}\nreplica-priority 7\n")
    r = pykey_factory(str(conf))
    rc = redis.Redis(port=r.port, socket_timeout=10)
    wait_for(lambda: link_up(rc), what="the configured link")
    assert rc.get("configured") == b"yes"
    assert rc.info("replication")["slave_priority"] == 7
    from pykey.config import ConfigError, load
    with pytest.raises(ConfigError, match="Invalid primary port"):
        load(["--replicaof", "127.0.0.1", "abc"])
    with pytest.raises(ConfigError, match="wrong number of arguments"):
        load(["--replicaof", "127.0.0.1"])
    assert load(["--slaveof", "no", "one"])["replicaof"] is None


def test_primaryauth_and_primaryuser(pykey_factory):
    p = pykey_factory("--requirepass", "s3cret")
    pc = redis.Redis(port=p.port, password="s3cret", socket_timeout=10)
    pc.set("guarded", 1)
    r = pykey_factory()
    rc = redis.Redis(port=r.port, socket_timeout=10)
    rc.config_set("masterauth", "wrong")
    rc.execute_command("REPLICAOF", "127.0.0.1", p.port)
    time.sleep(0.3)
    assert not link_up(rc)
    rc.config_set("primaryauth", "s3cret")
    rc.config_set("masteruser", "default")
    assert rc.config_get("masteruser") == {"masteruser": "default"}
    wait_for(lambda: link_up(rc), timeout=5, what="the authenticated link")
    assert rc.get("guarded") == b"1"


def test_expired_keys_wait_for_the_primarys_del(pair):
    p, r, pc, rc = pair
    start_replica(rc, p.port)
    pc.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", 0)
    pc.set("short", "v", px=200)
    wait_for(lambda: rc.exists("short") == 1)
    r.advance(1000)                                # time passes on the replica only
    assert rc.get("short") is None                 # reported missing...
    assert rc.dbsize() == 1                        # ...but not deleted by the replica
    assert rc.ttl("short") == -2
    p.advance(1000)
    assert pc.get("short") is None                 # the primary expires it: DEL reaches us
    wait_for(lambda: rc.dbsize() == 0, what="the propagated DEL")


def test_becoming_a_replica_unblocks_blocked_clients(pair):
    p, r, pc, rc = pair
    blocked = redis.Redis(port=r.port, socket_timeout=10)
    result: list = []

    def pop() -> None:
        try:
            result.append(blocked.blpop("nothing", 0))
        except (redis.ResponseError, redis.ConnectionError) as e:
            result.append(e)

    t = threading.Thread(target=pop)
    t.start()
    wait_for(lambda: rc.info("clients")["blocked_clients"] == 1)
    rc.execute_command("REPLICAOF", "127.0.0.1", p.port)
    t.join(5)
    assert isinstance(result[0], redis.ResponseError)
    assert "force unblock from blocking operation, instance state changed" in str(result[0])
    blocked.close()


def test_replicaof_inside_multi_stops_propagation(pair):
    p, r, pc, rc = pair
    start_replica(rc, p.port)             # rc will be demoted (to a dead port) inside a transaction
    rc.execute_command("REPLICAOF", "NO", "ONE")
    sub = _RawReplica(r.port)
    sub.sock.sendall(b"SYNC\r\n")
    sub.psync_payload()
    rc.set("foo", "bar")
    tx = rc.pipeline(transaction=True)
    tx.set("foo2", "bar")
    tx.execute_command("REPLICAOF", "127.0.0.1", 1)
    tx.set("foo3", "bar")
    tx.execute()
    with pytest.raises(redis.ReadOnlyError):
        rc.set("foo4", "bar")
    stream = sub.drain()
    assert b"foo" in stream and b"foo2" not in stream and b"foo3" not in stream
    rc.execute_command("REPLICAOF", "NO", "ONE")
    sub.close()


def _payload_reader(self: _RawReplica) -> None:
    while True:
        while b"\n" not in self.buf:
            self.buf += self.sock.recv(65536)
        line, rest = self.buf.split(b"\n", 1)
        if not line.strip():
            self.buf = rest
            continue
        self.buf = rest
        assert line.startswith(b"$"), line
        size = int(line[1:].strip())
        while len(self.buf) < size:
            self.buf += self.sock.recv(65536)
        self.buf = self.buf[size:]
        return


_RawReplica.psync_payload = _payload_reader  # type: ignore[attr-defined]


# ---------------------------------------------------------------- a scripted primary
class FakePrimary:
    """Accepts one replica, answers the handshake, then sends what the test scripts."""

    def __init__(self, psync_reply: bytes, payload: bytes, stream: bytes = b"", after_ack: bytes = b"") -> None:
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(4)
        self.port = self.listener.getsockname()[1]
        self.psync_reply = psync_reply
        self.payload = payload
        self.stream = stream
        self.after_ack = after_ack
        self.received: list[bytes] = []
        self.conns: list[socket.socket] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.conns.append(conn)
            threading.Thread(target=self._session, args=(conn,), daemon=True).start()

    def _session(self, conn: socket.socket) -> None:
        buf = b""
        try:
            while True:
                data = conn.recv(65536)
                if not data:
                    return
                buf += data
                while True:
                    cmd, buf = _take_command(buf)
                    if cmd is None:
                        break
                    self.received.append(b" ".join(cmd))
                    name = cmd[0].upper()
                    if name == b"PING":
                        conn.sendall(b"+PONG\r\n")
                    elif name in (b"REPLCONF", b"AUTH"):
                        if name == b"REPLCONF" and cmd[1].upper() == b"ACK":
                            if self.after_ack:          # as an EOF-capable replica gets it
                                conn.sendall(self.after_ack)
                                self.after_ack = b""
                            continue
                        conn.sendall(b"+OK\r\n")
                    elif name in (b"PSYNC", b"SYNC"):
                        if name == b"PSYNC":
                            conn.sendall(self.psync_reply)
                            if self.psync_reply.startswith(b"-ERR"):
                                continue
                        conn.sendall(b"\n\n" + self.payload + self.stream)
        except OSError:
            return

    def close(self) -> None:
        self.listener.close()
        for c in self.conns:
            c.close()


def _take_command(buf: bytes) -> tuple[list[bytes] | None, bytes]:
    if not buf.startswith(b"*"):
        if b"\n" not in buf:
            return None, buf
        line, rest = buf.split(b"\n", 1)
        return line.strip().split(), rest
    try:
        head, rest = buf.split(b"\r\n", 1)
        out = []
        for _ in range(int(head[1:])):
            size_line, rest = rest.split(b"\r\n", 1)
            size = int(size_line[1:])
            if len(rest) < size + 2:
                return None, buf
            out.append(rest[:size])
            rest = rest[size + 2:]
        return out, rest
    except ValueError:
        return None, buf


def _image(**keys: bytes) -> bytes:
    srv = Server()
    for k, v in keys.items():
        srv.dbs[0].data[k.encode()] = v
    return rdb.dumps(srv, rdb.ReplInfo("a" * 40, 0, 0))


def _cmd(*args: bytes) -> bytes:
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)


def test_eof_marked_snapshot_and_stream(pykey_factory):
    mark = os.urandom(20).hex().encode()
    image = _image(fromfake=b"1")
    stream = _cmd(b"SELECT", b"0") + _cmd(b"SET", b"streamed", b"2") + _cmd(b"PING")
    fake = FakePrimary(b"+FULLRESYNC " + b"b" * 40 + b" 100\r\n", b"$EOF:" + mark + b"\r\n" + image + mark,
                       after_ack=stream)
    r = pykey_factory()
    rc = redis.Redis(port=r.port, socket_timeout=10)
    own = rc.info("replication")["master_replid"]
    try:
        rc.execute_command("REPLICAOF", "127.0.0.1", fake.port)
        wait_for(lambda: rc.get("streamed") == b"2", what="the stream after an EOF-marked snapshot")
        assert rc.get("fromfake") == b"1"
        info = rc.info("replication")
        assert info["master_replid"] == "b" * 40
        assert info["slave_repl_offset"] == 100 + len(stream) == info["master_repl_offset"]
        wait_for(lambda: any(x.startswith(b"REPLCONF ACK") for x in fake.received))
        sent = fake.received
        assert sent[0] == b"PING"
        assert sent[1] == b"REPLCONF listening-port %d" % r.port
        assert sent[2] == b"REPLCONF capa eof capa psync2"
        assert sent[3].startswith(b"REPLCONF version ")
        # a former primary offers its own history: the new primary may be its old replica
        assert sent[4] == b"PSYNC %s 1" % own.encode()
    finally:
        fake.close()


@pytest.mark.parametrize("mode", ["disabled", "swapdb", "on-empty-db"])
def test_corrupt_snapshot_is_never_half_loaded(pykey_factory, tmp_path, mode):
    image = bytearray(_image(good=b"1", other=b"2"))
    image[-3] ^= 0xFF                            # a wrong CRC64
    fake = FakePrimary(b"+FULLRESYNC " + b"c" * 40 + b" 0\r\n", b"$%d\r\n" % len(image) + bytes(image))
    r = pykey_factory("--dir", str(tmp_path), "--repl-diskless-load", mode)
    rc = redis.Redis(port=r.port, socket_timeout=10)
    rc.set("old", "data")
    try:
        rc.execute_command("REPLICAOF", "127.0.0.1", fake.port)
        wait_for(lambda: len(fake.conns) >= 2, what="a second attempt after the bad snapshot")
        assert not link_up(rc)
        assert rc.get("good") is None
        # swapdb keeps the old dataset; the others flush it first (as Valkey does)
        assert rc.get("old") == (b"data" if mode == "swapdb" else None)
        rc.execute_command("REPLICAOF", "NO", "ONE")
        assert not [f for f in os.listdir(tmp_path) if f.startswith("temp-")]
    finally:
        fake.close()


def test_sync_fallback_when_psync_is_unknown(pykey_factory):
    image = _image(old_style=b"yes")
    fake = FakePrimary(b"-ERR unknown command 'PSYNC'\r\n", b"$%d\r\n" % len(image) + image,
                       _cmd(b"SET", b"after", b"1"))
    r = pykey_factory()
    rc = redis.Redis(port=r.port, socket_timeout=10)
    try:
        rc.execute_command("REPLICAOF", "127.0.0.1", fake.port)
        wait_for(lambda: rc.get("after") == b"1", what="the stream after SYNC")
        assert rc.get("old_style") == b"yes"
        assert b"SYNC" in fake.received
        time.sleep(1.1)           # one ACK right after the load, none from cron: no offsets
        assert len([x for x in fake.received if x.startswith(b"REPLCONF ACK")]) == 1
    finally:
        fake.close()


def test_disk_load_keeps_the_snapshot_as_dbfilename(pair):
    p, r, pc, rc = pair
    pc.set("persisted", "v")
    start_replica(rc, p.port)
    path = os.path.join(rc.config_get("dir")["dir"], "dump.rdb")
    res = rdb.parse(open(path, "rb").read(), Server())
    assert res.dbs[0][0] == {b"persisted": b"v"}


def test_writable_replica_expires_its_own_keys(pair):
    p, r, pc, rc = pair
    start_replica(rc, p.port)
    pc.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", 0)
    pc.set("from-primary", "v", px=100)
    wait_for(lambda: rc.exists("from-primary") == 0 and rc.dbsize() == 1, what="the key to replicate")
    rc.config_set("replica-read-only", "no")
    rc.set("mine", "1", px=100)
    rc.set("mine-too", "2")
    rc.pexpire("mine-too", 100)
    assert rc.info("stats")["slave_expires_tracked_keys"] == 2
    r.advance(1000)
    wait_for(lambda: rc.dbsize() == 1, what="the replica's own keys to expire")
    assert rc.info("stats")["slave_expires_tracked_keys"] == 0
    # the primary's key is still there (logically expired): only its DEL removes it
    assert rc.exists("from-primary") == 0
    # a write to an expired key on a writable replica expires it first (INCR starts from 0)
    assert rc.incr("from-primary") == 1 and rc.ttl("from-primary") == -1
    rc.config_set("replica-read-only", "yes")


def test_switching_to_a_sibling_replica_continues(pair, pykey_factory):
    p, r, pc, rc = pair
    start_replica(rc, p.port)
    other = pykey_factory()
    oc = redis.Redis(port=other.port, socket_timeout=10)
    start_replica(oc, p.port)
    pc.set("k", 1)
    wait_for(lambda: in_sync(pc, oc) and in_sync(pc, rc), what="both replicas")
    oc.execute_command("REPLICAOF", "127.0.0.1", r.port)       # same history: PSYNC continues
    wait_for(lambda: link_up(oc), what="the new link")
    pc.set("k", 2)
    wait_for(lambda: oc.get("k") == b"2", what="the write through the sibling")
    assert rc.info("stats")["sync_partial_ok"] == 1 and rc.info("stats")["sync_full"] == 0
    assert pc.info("stats")["sync_full"] == 2
    # a replica that lost its primary refuses to serve SYNC
    rc.execute_command("REPLICAOF", "127.0.0.1", 1)
    raw = socket.create_connection(("127.0.0.1", r.port), timeout=10)
    raw.sendall(b"PSYNC ? -1\r\n")
    assert raw.recv(100) == b"-NOMASTERLINK Can't SYNC while not connected with my master\r\n"
    raw.close()
    oc.close()


def test_repl_timeout_drops_a_silent_primary(pykey_factory):
    image = _image(quiet=b"1")
    fake = FakePrimary(b"+FULLRESYNC " + b"d" * 40 + b" 0\r\n", b"$%d\r\n" % len(image) + image)
    r = pykey_factory("--repl-timeout", "1")
    rc = redis.Redis(port=r.port, socket_timeout=10)
    try:
        rc.execute_command("REPLICAOF", "127.0.0.1", fake.port)
        wait_for(lambda: rc.get("quiet") == b"1")
        # nothing more arrives: after repl-timeout the link is dropped and made again,
        # asking to continue where it stopped
        wait_for(lambda: len(fake.conns) >= 2, what="a reconnection")
        wait_for(lambda: b"PSYNC " + b"d" * 40 + b" 1" in fake.received, what="the PSYNC to continue")
    finally:
        fake.close()


def test_replica_with_aof_logs_the_stream(pykey_factory, tmp_path):
    (tmp_path / "p").mkdir()
    (tmp_path / "r").mkdir()
    p = pykey_factory("--dir", str(tmp_path / "p"), "--enable-debug-command", "yes")
    r = pykey_factory("--dir", str(tmp_path / "r"), "--enable-debug-command", "yes", "--appendonly", "yes")
    pc = redis.Redis(port=p.port, socket_timeout=10)
    rc = redis.Redis(port=r.port, socket_timeout=10)
    pc.set("snap", "1")
    pc.rpush("list", "a", "b")
    start_replica(rc, p.port)             # the AOF is rewritten from the loaded snapshot
    pc.set("streamed", "2")
    pc.lpop("list")
    p4 = redis.Redis(port=p.port, db=4)
    p4.incr("n")
    p4.close()
    wait_for(lambda: in_sync(pc, rc), what="offsets")
    wait_for(lambda: rc.info("persistence")["aof_rewrite_in_progress"] == 0, what="the AOF rewrite")
    assert rc.info("persistence")["aof_enabled"] == 1
    rc.execute_command("DEBUG", "LOADAOF")       # what the replica logged gives the same data
    assert digest(rc) == digest(pc)


def test_paused_replica_reads_but_applies_after_unpause(pair):
    p, r, pc, rc = pair
    pc.config_set("repl-ping-replica-period", 3600)
    start_replica(rc, p.port)
    pc.set("foo", "bar")
    wait_for(lambda: in_sync(pc, rc), what="offsets")
    before = pc.info("replication")["master_repl_offset"]
    rc.execute_command("CLIENT", "PAUSE", 100000, "WRITE")
    pc.set("foo2", "bar2")
    target = pc.info("replication")["master_repl_offset"]
    wait_for(lambda: rc.info("replication")["slave_read_repl_offset"] == target, what="the write to arrive")
    assert rc.info("replication")["slave_repl_offset"] == before      # received, not applied
    assert rc.get("foo2") is None
    rc.execute_command("CLIENT", "UNPAUSE")
    wait_for(lambda: rc.info("replication")["slave_repl_offset"] == target, what="the write to apply")
    assert rc.get("foo2") == b"bar2"


def test_replica_of_itself_keeps_retrying(pykey_factory):
    srv = pykey_factory()
    c = redis.Redis(port=srv.port, socket_timeout=10)
    c.set("k", "v")
    assert c.execute_command("REPLICAOF", "127.0.0.1", srv.port) == b"OK"
    time.sleep(0.3)                      # its own PSYNC is refused: NOMASTERLINK
    assert c.info("replication")["master_link_status"] == "down"
    assert c.get("k") == b"v"
    c.execute_command("REPLICAOF", "NO", "ONE")


def test_min_replicas_to_write_counts_acks_and_is_ignored_by_replicas(pair):
    p, r, pc, rc = pair
    rc.config_set("min-replicas-to-write", 1)      # a replica applies its primary's writes anyway
    start_replica(rc, p.port)
    pc.set("before", 1)
    wait_for(lambda: rc.get("before") == b"1", what="the write despite min-replicas-to-write")
    pc.config_set("min-replicas-to-write", 1)
    wait_for(lambda: pc.info("replication").get("min_slaves_good_slaves") == 1, what="a good replica")
    assert pc.set("k", "v")
    assert pc.eval("return redis.call('set', KEYS[1], 'from-script')", 1, "s") == b"OK"
    pc.config_set("min-replicas-to-write", 2)
    with pytest.raises(redis.ResponseError, match="NOREPLICAS"):
        pc.set("k", "v")
    pc.config_set("min-replicas-to-write", 0)
    rc.config_set("min-replicas-to-write", 0)


@pytest.mark.parametrize("mode", ["swapdb", "on-empty-db"])
def test_diskless_load_keeps_no_file(pair, mode):
    p, r, pc, rc = pair
    fill(pc)
    rc.config_set("repl-diskless-load", mode)
    start_replica(rc, p.port)
    assert digest(rc) == digest(pc)
    directory = rc.config_get("dir")["dir"]
    assert not [f for f in os.listdir(directory) if f.endswith(".rdb")]


def test_randomkey_on_a_replica_whose_keys_all_expired(pair):
    p, r, pc, rc = pair
    start_replica(rc, p.port)
    pc.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", 0)
    pc.set("only", "v", px=100)
    wait_for(lambda: rc.dbsize() == 1)
    r.advance(1000)
    assert rc.exists("only") == 0
    assert rc.randomkey() == b"only"       # Valkey returns one rather than looping forever


def test_random_workload_keeps_primary_and_replica_identical(pair):
    """A mixed workload of every type, TTLs included (as Valkey's createComplexDataset)."""
    import random
    p, r, pc, rc = pair
    start_replica(rc, p.port)
    rnd = random.Random(7)
    pipe = pc.pipeline(transaction=False)
    for i in range(3000):
        k = f"k{rnd.randrange(60)}"
        op = rnd.randrange(16)
        try_cmds = {
            0: ("SET", k, rnd.randrange(1000)), 1: ("INCRBY", f"n{k}", rnd.randrange(-5, 5)),
            2: ("LPUSH", f"l{k}", rnd.randrange(100)), 3: ("RPOP", f"l{k}"),
            4: ("SADD", f"s{k}", rnd.randrange(50)), 5: ("SPOP", f"s{k}"),
            6: ("ZADD", f"z{k}", rnd.random() * 100, rnd.randrange(40)), 7: ("ZPOPMIN", f"z{k}"),
            8: ("HSET", f"h{k}", rnd.randrange(30), rnd.randrange(9)), 9: ("HDEL", f"h{k}", rnd.randrange(30)),
            10: ("EXPIRE", rnd.choice([k, f"l{k}", f"s{k}"]), rnd.randrange(1, 1000)),
            11: ("DEL", rnd.choice([k, f"h{k}"])), 12: ("XADD", f"x{k}", "MAXLEN", "~", 10, "*", "f", i),
            13: ("SETEX", f"e{k}", rnd.randrange(1, 100), "v"), 14: ("SELECT", rnd.randrange(3)),
            15: ("INCRBYFLOAT", f"f{k}", "0.5"),
        }
        pipe.execute_command(*try_cmds[op])
    pipe.execute(raise_on_error=False)
    assert pc.execute_command("WAIT", 1, 5000) == 1
    wait_for(lambda: in_sync(pc, rc), what="offsets")
    assert digest(rc) == digest(pc)


def test_announced_address_reaches_the_primary(pair):
    p, r, pc, rc = pair
    rc.config_set("replica-announce-ip", "replica.example")
    rc.config_set("slave-announce-port", 7777)
    start_replica(rc, p.port)

    def announced() -> bool:
        rows = pc.execute_command("ROLE")[2]
        return bool(rows) and rows[0][:2] == [b"replica.example", b"7777"]

    wait_for(announced, what="ROLE to list the announced address")
    slave0 = pc.info("replication")["slave0"]
    assert slave0["ip"] == "replica.example" and slave0["port"] == 7777


def test_info_during_a_transfer(pykey_factory, tmp_path):
    fake = FakePrimary(b"+FULLRESYNC " + b"e" * 40 + b" 0\r\n", b"$1000\r\n" + b"R" * 10)
    r = pykey_factory("--dir", str(tmp_path))
    rc = redis.Redis(port=r.port, socket_timeout=10)
    try:
        rc.execute_command("REPLICAOF", "127.0.0.1", fake.port)
        wait_for(lambda: rc.info("replication")["master_sync_in_progress"] == 1, what="the transfer")
        wait_for(lambda: rc.info("replication").get("master_sync_read_bytes") == 10, what="the first bytes")
        info = rc.info("replication")
        assert info["master_sync_total_bytes"] == 1000 and info["master_sync_left_bytes"] == 990
        assert info["master_sync_perc"] == 1.0 and info["master_link_status"] == "down"
        assert rc.execute_command("ROLE")[3] == b"sync"
        assert [f for f in os.listdir(tmp_path) if f.startswith("temp-")]      # written to disk as it comes
        rc.execute_command("REPLICAOF", "NO", "ONE")
        assert not [f for f in os.listdir(tmp_path) if f.startswith("temp-")]
        assert rc.info("replication")["role"] == "master"
    finally:
        fake.close()
