"""CLIENT PAUSE / UNPAUSE (clients are delayed, not refused) and CLIENT KILL's filters."""
from __future__ import annotations

import time

import pytest
import redis

from pykey.testing import EmbeddedServer
from pykey.testing.raw import RawConnection


class Raw(RawConnection):
    """A raw RESP2 connection: send now, read the reply later line by line (or check there
    is none yet)."""

    def __init__(self, srv: EmbeddedServer) -> None:
        super().__init__(srv.port)

    def call(self, *args: str) -> bytes:
        self.send(*args)
        return self.line()


def unpause(srv: EmbeddedServer) -> None:
    """End the pause from inside the server (under PAUSE ALL every client waits, CLIENT
    UNPAUSE included, as in Valkey)."""
    from pykey.engine import pause
    srv.call(lambda: pause.unpause(srv.engine, pause.BY_CLIENT_COMMAND))


@pytest.fixture
def c(pykey_server, r):
    client = redis.Redis(host=pykey_server.host, port=pykey_server.port, socket_timeout=10,
                         single_connection_client=True)
    yield client
    unpause(pykey_server)
    client.close()


@pytest.fixture
def raws(pykey_server):
    opened: list[Raw] = []

    def make() -> Raw:
        conn = Raw(pykey_server)
        opened.append(conn)
        return conn

    yield make
    for conn in opened:
        conn.close()


def wait_blocked(c: redis.Redis, n: int, srv: EmbeddedServer | None = None) -> None:
    """Until INFO blocked_clients is ``n`` (paused clients count as blocked, as in Valkey);
    read from the engine with ``srv`` when every client is paused."""
    for _ in range(500):
        if srv is not None:
            blocked = srv.call(lambda: srv.engine.blocked_clients)
        else:
            blocked = c.info("clients")["blocked_clients"]
        if blocked == n:
            return
        time.sleep(0.01)
    raise AssertionError(f"blocked_clients never reached {n}")


# ------------------------------------------------------------------ PAUSE WRITE
def test_write_pause_lets_reads_through(c, raws):
    assert c.execute_command("CLIENT", "PAUSE", "100000", "WRITE") == b"OK"
    rd = raws()
    assert rd.call("GET", "foo") == b"$-1"
    assert rd.call("PING") == b"+PONG"
    assert rd.call("CLIENT", "LIST").startswith(b"$")
    assert c.info("clients")["blocked_clients"] == 0


def test_write_pause_delays_writes_until_unpause(c, raws):
    c.execute_command("CLIENT", "PAUSE", "100000", "WRITE")
    rd = raws()
    rd.send("SET", "foo", "bar")
    rd.send("GET", "foo")                                # queued behind the paused SET
    wait_blocked(c, 1)
    line = [x for x in c.execute_command("CLIENT", "LIST").decode().splitlines() if "cmd=client|list" not in x]
    assert any(" flags=b " in x for x in line)
    assert c.get("foo") is None
    c.execute_command("CLIENT", "UNPAUSE")
    assert rd.line() == b"+OK"
    assert rd.line() == b"$3" and rd.line() == b"bar"
    wait_blocked(c, 0)


def test_pause_ends_by_itself(c, raws):
    c.execute_command("CLIENT", "PAUSE", "50", "WRITE")
    rd = raws()
    assert rd.call("SET", "foo", "bar") == b"+OK"      # answered once the 50 ms are over
    assert c.get("foo") == b"bar"


def test_may_replicate_and_write_multi_exec_are_paused(c, raws):
    rd = raws()
    assert rd.call("MULTI") == b"+OK"
    assert rd.call("SET", "foo", "bar") == b"+QUEUED"
    c.execute_command("CLIENT", "PAUSE", "100000", "WRITE")
    rd.send("EXEC")
    wait_blocked(c, 1)
    ro = raws()
    assert ro.call("MULTI") == b"+OK"
    assert ro.call("GET", "foo") == b"+QUEUED"
    assert ro.call("EXEC") == b"*1"                      # read-only EXEC is not paused
    assert ro.line() == b"$-1"
    ro.send("MULTI")
    ro.send("SET", "x", "1")                             # a write is paused even while queueing
    assert ro.line() == b"+OK"
    wait_blocked(c, 2)
    c.execute_command("CLIENT", "UNPAUSE")
    assert rd.line() == b"*1" and rd.line() == b"+OK"
    assert ro.line() == b"+QUEUED"


def test_syntax_errors_are_answered_at_once(c, raws):
    c.execute_command("CLIENT", "PAUSE", "100000", "WRITE")
    rd = raws()
    assert rd.call("SET", "foo") == b"-ERR wrong number of arguments for 'set' command"
    assert rd.call("NOSUCH") .startswith(b"-ERR unknown command 'NOSUCH'")


def test_clients_resume_in_order(c, raws):
    c.execute_command("CLIENT", "PAUSE", "100000", "WRITE")
    clients = [raws() for _ in range(3)]
    for i, rd in enumerate(clients):
        rd.send("RPUSH", "order", str(i))
        wait_blocked(c, i + 1)
    c.execute_command("CLIENT", "UNPAUSE")
    for i, rd in enumerate(clients):
        assert rd.line() == b":%d" % (i + 1)
    assert c.lrange("order", 0, -1) == [b"0", b"1", b"2"]


def test_pause_inside_a_transaction_starts_after_it(c, raws):
    c.execute_command("MULTI")
    c.execute_command("SET", "foo1", "bar")
    c.execute_command("CLIENT", "PAUSE", "100000", "WRITE")
    c.execute_command("SET", "foo2", "bar")
    assert c.execute_command("EXEC") == [b"OK", b"OK", b"OK"]
    rd = raws()
    rd.send("SET", "foo3", "bar")
    wait_blocked(c, 1)
    assert c.mget("foo1", "foo2", "foo3") == [b"bar", b"bar", None]
    c.execute_command("CLIENT", "UNPAUSE")
    assert rd.line() == b"+OK"


def test_expiry_is_suspended_while_paused(c, pykey_server):
    expired = c.info("stats")["expired_keys"]
    c.set("foo", "bar", px=10)
    c.set("bar", "foo", px=10)
    c.execute_command("CLIENT", "PAUSE", "100000", "WRITE")
    pykey_server.advance(1000)
    pykey_server.call(pykey_server.engine.cron)           # active expiry is skipped too
    assert c.get("foo") is None and c.get("bar") is None    # logically expired...
    assert c.info("stats")["expired_keys"] == expired      # ...but not deleted
    assert c.dbsize() == 2
    c.execute_command("CLIENT", "UNPAUSE")
    assert c.get("foo") is None and c.get("bar") is None
    assert c.info("stats")["expired_keys"] == expired + 2


# ------------------------------------------------------------------ PAUSE ALL
def test_pause_all_delays_every_command(c, raws, pykey_server):
    c.execute_command("CLIENT", "PAUSE", "100000")
    rd = raws()
    rd.send("GET", "foo")
    admin = raws()
    admin.send("CLIENT", "UNPAUSE")                        # even this waits: ALL means all
    wait_blocked(c, 2, pykey_server)
    unpause(pykey_server)
    assert rd.line() == b"$-1"
    assert admin.line() == b"+OK"


def test_pause_all_wins_over_a_later_write_pause(c, raws, pykey_server):
    from pykey.engine import pause
    mon = raws()                                            # monitors are never paused
    assert mon.call("MONITOR") == b"+OK"
    c.execute_command("CLIENT", "PAUSE", "100000", "ALL")
    assert mon.call("CLIENT", "PAUSE", "10", "WRITE") == b"+OK"
    assert pykey_server.call(lambda: pykey_server.engine.paused_actions) & pause.CLIENT_ALL
    rd = raws()
    rd.send("GET", "foo")
    wait_blocked(c, 1, pykey_server)
    assert mon.call("CLIENT", "UNPAUSE") == b"+OK"
    assert rd.line() == b"$-1"


def test_shorter_pause_keeps_the_longer_end(c, raws):
    c.execute_command("CLIENT", "PAUSE", "100000", "WRITE")
    c.execute_command("CLIENT", "PAUSE", "10", "WRITE")
    time.sleep(0.05)
    rd = raws()
    rd.send("SET", "foo", "bar")
    wait_blocked(c, 1)
    c.execute_command("CLIENT", "UNPAUSE")
    assert rd.line() == b"+OK"


def test_monitor_clients_are_not_paused(c, raws):
    mon = raws()
    assert mon.call("MONITOR") == b"+OK"
    c.execute_command("CLIENT", "PAUSE", "100000")
    assert mon.call("PING") == b"+PONG"


def test_client_unblock_leaves_paused_clients_alone(c, raws):
    c.execute_command("CLIENT", "PAUSE", "100000", "WRITE")
    rd = raws()
    rid = int(rd.call("CLIENT", "ID")[1:])
    rd.send("SET", "foo", "bar")
    wait_blocked(c, 1)
    assert c.execute_command("CLIENT", "UNBLOCK", rid) == 0
    c.execute_command("CLIENT", "UNPAUSE")
    assert rd.line() == b"+OK"


def test_paused_client_disconnecting(c, raws):
    c.execute_command("CLIENT", "PAUSE", "100000", "WRITE")
    rd = raws()
    rd.send("SET", "foo", "bar")
    wait_blocked(c, 1)
    rd.close()
    wait_blocked(c, 0)
    c.execute_command("CLIENT", "UNPAUSE")
    assert c.get("foo") is None


@pytest.mark.parametrize("args,error", [
    (("abc",), "timeout is not an integer or out of range"),
    (("-1",), "timeout is negative"),
    (("1.5",), "timeout is not an integer or out of range"),
    (("100", "READ"), "CLIENT PAUSE mode must be WRITE or ALL"),
    (("abc", "READ"), "CLIENT PAUSE mode must be WRITE or ALL"),
    (("9223372036854775807",), "timeout is out of range"),
    (("100", "WRITE", "x"), "unknown subcommand or wrong number of arguments for 'PAUSE'. Try CLIENT HELP."),
])
def test_pause_errors(c, args, error):
    with pytest.raises(redis.ResponseError) as e:
        c.execute_command("CLIENT", "PAUSE", *args)
    assert str(e.value) == error


def test_pause_zero_and_unpause_without_pause(c, raws):
    assert c.execute_command("CLIENT", "PAUSE", "0") == b"OK"
    assert raws().call("SET", "foo", "bar") == b"+OK"
    assert c.execute_command("CLIENT", "UNPAUSE") == b"OK"


# ------------------------------------------------------------------ CLIENT KILL filters
def _info(conn: Raw) -> dict[str, str]:
    conn.send("CLIENT", "INFO")
    n = int(conn.line()[1:])
    data = b""
    while len(data) < n:
        data += conn.line() + b"\r\n"
    return dict(kv.split("=", 1) for kv in data.decode().split())


def _gone(conn: Raw) -> bool:
    try:
        conn.send("PING")
        return conn.line() != b"+PONG"
    except (ConnectionError, OSError):
        return True


def test_kill_by_addr_and_laddr(c, raws):
    a, b = raws(), raws()
    ia = _info(a)
    assert c.execute_command("CLIENT", "KILL", "ADDR", ia["addr"]) == 1
    assert _gone(a)
    ib = _info(b)
    me = c.client_info()
    n = c.execute_command("CLIENT", "KILL", "LADDR", ib["laddr"])
    assert n >= 1 and _gone(b)                             # everyone on that local address but me
    assert c.client_info()["id"] == me["id"]
    assert c.execute_command("CLIENT", "KILL", "LADDR", "10.9.9.9:1") == 0


def test_kill_by_user_and_type(c, raws):
    a = raws()
    assert c.execute_command("CLIENT", "KILL", "USER", "default", "ID", _info(a)["id"]) == 1
    assert _gone(a)
    sub = raws()
    assert sub.call("SUBSCRIBE", "ch") == b"*3"
    plain = raws()
    plain.call("PING")
    assert c.execute_command("CLIENT", "KILL", "TYPE", "master") == 0
    assert c.execute_command("CLIENT", "KILL", "TYPE", "replica") == 0
    assert c.execute_command("CLIENT", "KILL", "TYPE", "slave") == 0
    assert c.execute_command("CLIENT", "KILL", "TYPE", "pubsub") == 1
    assert not _gone(plain)
    assert c.execute_command("CLIENT", "KILL", "TYPE", "NORMAL", "ID", _info(plain)["id"]) == 1
    assert _gone(plain)


def test_kill_maxage(c, raws, pykey_server):
    old, young = raws(), raws()
    old_id = int(_info(old)["id"])
    young_id = int(_info(young)["id"])

    def age_old() -> None:
        pykey_server.engine.clients[old_id].created -= 100
    pykey_server.call(age_old)
    assert c.execute_command("CLIENT", "KILL", "MAXAGE", "50", "ID", str(young_id)) == 0
    assert c.execute_command("CLIENT", "KILL", "MAXAGE", "50", "ID", str(old_id)) == 1
    assert _gone(old) and not _gone(young)


def test_kill_filter_errors(c):
    for args, msg in [(("MAXAGE", "str"), "maxage is not an integer or out of range"),
                      (("MAXAGE", "9999999999999999999"), "maxage is not an integer or out of range"),
                      (("MAXAGE", "-1"), "maxage should be greater than 0"),
                      (("ID", "0"), "client-id should be greater than 0"),
                      (("LADDR", "x", "ID"), "syntax error"),
                      (("FOO", "bar"), "syntax error")]:
        with pytest.raises(redis.ResponseError) as e:
            c.execute_command("CLIENT", "KILL", *args)
        assert str(e.value) == msg
    for addr in ("000.123.321.567:0000", "LADDR"):          # one argument: the old form
        with pytest.raises(redis.ResponseError) as e:
            c.execute_command("CLIENT", "KILL", addr)
        assert str(e.value) == "No such client"


def test_kill_closes_connections_while_a_fork_child_runs(pykey_factory, tmp_path):
    """A BGSAVE child holds copies of every socket: killed clients must still see the
    connection end at once (Valkey shuts the socket down)."""
    srv = pykey_factory("--dir", str(tmp_path), "--save", "", "--enable-protected-configs", "yes")
    c = redis.Redis(port=srv.port, socket_timeout=10)
    try:
        c.set("k", "v")
        c.config_set("rdb-key-save-delay", 10_000_000)
        c.bgsave()
        victim = Raw(srv)
        assert victim.call("PING") == b"+PONG"
        assert c.execute_command("CLIENT", "KILL", "ID", _info(victim)["id"]) == 1
        assert _gone(victim)
        assert c.info("persistence")["rdb_bgsave_in_progress"] == 1
        victim.close()
    finally:
        c.config_set("rdb-key-save-delay", 0)
        c.flushall()                                     # stops the child
        c.close()


def test_blocked_command_counts_when_served(c, raws):
    """tot-cmds and commandstats count a blocking command when it completes, not when it parks."""
    c.execute_command("CONFIG", "RESETSTAT")
    c.config_set("slowlog-log-slower-than", 0)
    c.slowlog_reset()
    rd = raws()
    rid = _info(rd)["id"]

    def tot_cmds() -> int:
        lines = c.execute_command("CLIENT", "LIST", "ID", rid).decode()
        return int(dict(kv.split("=", 1) for kv in lines.split())["tot-cmds"])
    before = tot_cmds()
    rd.send("BLPOP", "mylist", "0")
    wait_blocked(c, 1)
    assert tot_cmds() == before
    assert "cmdstat_blpop" not in c.info("commandstats")
    assert b"BLPOP mylist 0" not in [entry["command"] for entry in c.slowlog_get(100)]
    c.lpush("mylist", "a")
    assert rd.line() == b"*2"
    assert tot_cmds() == before + 1
    assert c.info("commandstats")["cmdstat_blpop"]["calls"] == 1
    logged = [entry["command"] for entry in c.slowlog_get(100)]
    c.config_set("slowlog-log-slower-than", 10000)
    assert logged.count(b"BLPOP mylist 0") == 1             # once, when it was served
