"""Client-side caching: CLIENT TRACKING (default, BCAST, REDIRECT, NOLOOP, OPTIN/OPTOUT),
CLIENT CACHING / TRACKINGINFO / GETREDIR, invalidation messages, and redis-py's cache."""
from __future__ import annotations

import time

import pytest
import redis

from pykey.testing.raw import RawConnection


class Conn(RawConnection):
    """A raw connection (RESP3 unless told) that keeps pushes and replies apart."""

    def __init__(self, port: int, resp: int = 3) -> None:
        super().__init__(port)
        if resp == 3:
            self.call("HELLO", "3")

    def nothing_pending(self) -> bool:
        """True if the server sent nothing more (checked with a PING round trip)."""
        self.send("PING")
        return self.read() in (b"PONG", [b"pong", b""])


@pytest.fixture
def conn(pykey_server, r):
    made: list[Conn] = []

    def make(resp: int = 3) -> Conn:
        c = Conn(pykey_server.port, resp)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


def _check(pykey_server) -> None:
    pykey_server.call(pykey_server.engine.tracking._check)


def _invalidate(*keys: bytes) -> bytes:
    return b">2\r\n$10\r\ninvalidate\r\n*%d\r\n" % len(keys) + b"".join(b"$%d\r\n%s\r\n" % (len(k), k) for k in keys)


# ---------------------------------------------------------------------- default mode
def test_resp3_invalidation_after_read(conn, r, pykey_server):
    c = conn()
    assert c.call("CLIENT", "TRACKING", "ON") == b"OK"
    r.set("key1", "1")
    assert c.call("GET", "key1") == b"1"
    r.set("key1", "2")
    c.expect(_invalidate(b"key1"))
    r.set("key1", "3")               # not read again: no second message
    assert c.nothing_pending()
    info = r.info()
    assert info["tracking_clients"] == 1 and info["tracking_total_keys"] == 0
    _check(pykey_server)


def test_own_write_invalidation_follows_the_reply(conn):
    c = conn()
    c.call("CLIENT", "TRACKING", "ON")
    c.call("HSET", "myhash", "f", "1")
    c.call("HGET", "myhash", "f")
    c.send("HDEL", "myhash", "f")
    c.expect(b":1\r\n")
    c.expect(_invalidate(b"myhash"))


def test_invalidation_not_interleaved_with_exec(conn):
    c = conn()
    c.call("CLIENT", "TRACKING", "ON")
    c.call("MSET", "a", "1", "b", "2")
    c.call("GET", "a")
    c.call("MULTI")
    c.call("INCR", "a")
    c.call("GET", "b")
    c.send("EXEC")
    c.expect(b"*2\r\n:2\r\n$1\r\n2\r\n")
    c.expect(_invalidate(b"a"))


def test_noloop(conn, r):
    c = conn()
    c.call("CLIENT", "TRACKING", "ON", "NOLOOP")
    c.call("MGET", "mine", "theirs")
    c.call("SET", "mine", "x")          # own change: no message
    r.set("theirs", "y")
    c.expect(_invalidate(b"theirs"))
    assert c.nothing_pending()


def test_redirect_to_resp2_subscriber(conn, r):
    target = conn(resp=2)
    target_id = target.call("CLIENT", "ID")
    assert target.call("SUBSCRIBE", "__redis__:invalidate") == [b"subscribe", b"__redis__:invalidate", 1]
    c = conn(resp=2)
    assert c.call("CLIENT", "TRACKING", "ON", "REDIRECT", target_id) == b"OK"
    assert c.call("CLIENT", "GETREDIR") == target_id
    r.set("a", "1")
    c.call("GET", "a")
    r.incr("a")
    target.expect(b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*1\r\n$1\r\na\r\n")
    line = [x for x in r.client_list() if int(x["id"]) == int(c.call("CLIENT", "ID"))][0]
    assert line["flags"] == "t" and line["redir"] == str(target_id)


def test_redirect_to_resp3_client_uses_push(conn, r):
    target = conn(resp=3)
    tid = target.call("CLIENT", "ID")
    c = conn(resp=2)
    c.call("CLIENT", "TRACKING", "ON", "REDIRECT", tid)
    c.call("GET", "k")
    r.set("k", "v")
    target.expect(_invalidate(b"k"))


def test_broken_redirect(conn, r):
    target = conn(resp=2)
    tid = target.call("CLIENT", "ID")
    c = conn(resp=3)
    c.call("CLIENT", "TRACKING", "ON", "REDIRECT", tid)
    c.call("GET", "k")
    target.close()
    deadline = time.monotonic() + 5
    while any(int(x["id"]) == tid for x in r.client_list()) and time.monotonic() < deadline:
        time.sleep(0.01)
    r.set("k", "v")
    c.expect(b">2\r\n$21\r\ntracking-redir-broken\r\n:%d\r\n" % tid)
    info = c.call("CLIENT", "TRACKINGINFO")
    assert info == {b"flags": [b"on", b"broken_redirect"], b"redirect": tid, b"prefixes": []}


def test_resp2_without_redirect_gets_nothing(conn, r):
    c = conn(resp=2)
    c.call("CLIENT", "TRACKING", "ON")
    c.call("GET", "k")
    r.set("k", "v")
    assert c.nothing_pending()


def test_optin_and_optout(conn, r):
    c = conn()
    c.call("CLIENT", "TRACKING", "ON", "OPTIN")
    c.call("GET", "a")                   # not cached: no CACHING YES
    assert c.call("CLIENT", "CACHING", "YES") == b"OK"
    assert c.call("CLIENT", "TRACKINGINFO")[b"flags"] == [b"on", b"optin", b"caching-yes"]
    c.call("GET", "b")                   # cached
    c.call("GET", "c")                   # CACHING applies to one command only
    r.mset({"a": 1, "b": 1, "c": 1})
    c.expect(_invalidate(b"b"))
    assert c.nothing_pending()
    c.call("CLIENT", "TRACKING", "OFF")
    c.call("CLIENT", "TRACKING", "ON", "OPTOUT")
    c.call("CLIENT", "CACHING", "NO")
    c.call("GET", "a")                   # excluded
    c.call("GET", "b")
    r.mset({"a": 2, "b": 2})
    c.expect(_invalidate(b"b"))
    assert c.nothing_pending()


def test_caching_inside_multi_covers_the_transaction(conn, r):
    c = conn()
    c.call("CLIENT", "TRACKING", "ON", "OPTIN")
    c.call("CLIENT", "CACHING", "YES")
    c.call("MULTI")
    c.call("GET", "x")
    c.call("GET", "y")
    assert c.call("EXEC") == [None, None]
    r.mset({"x": 1, "y": 1})
    c.expect(_invalidate(b"x"))
    c.expect(_invalidate(b"y"))


# ---------------------------------------------------------------------- BCAST
def test_bcast_prefixes_one_message_per_prefix(conn, r):
    c = conn()
    assert c.call("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "a:", "PREFIX", "b:") == b"OK"
    pipe = r.pipeline(transaction=True)
    for k in ("a:1", "a:2", "b:1", "c:1"):
        pipe.incr(k)
    pipe.execute()
    c.expect(_invalidate(b"a:1", b"a:2"))
    c.expect(_invalidate(b"b:1"))
    info = c.call("CLIENT", "TRACKINGINFO")
    assert info == {b"flags": [b"on", b"bcast"], b"redirect": 0, b"prefixes": [b"a:", b"b:"]}
    assert r.info()["tracking_total_prefixes"] == 2


def test_bcast_noloop_and_empty_prefix(conn, r):
    c = conn()
    c.call("CLIENT", "TRACKING", "ON", "BCAST", "NOLOOP")
    r.set("other", "1")
    c.expect(_invalidate(b"other"))
    c.call("SET", "loop", "1")
    r.set("other2", "1")
    c.expect(_invalidate(b"other2"))
    assert c.call("CLIENT", "TRACKINGINFO")[b"prefixes"] == [b""]


def test_bcast_gets_expired_keys_even_with_noloop(conn, r, pykey_server):
    c = conn()
    c.call("CLIENT", "TRACKING", "ON", "BCAST", "NOLOOP")
    c.call("SET", "mykey", "v", "PX", "50")
    pykey_server.advance(100)
    deadline = time.monotonic() + 5
    while r.exists("mykey") and time.monotonic() < deadline:
        time.sleep(0.01)
    c.expect(_invalidate(b"mykey"))


def test_tracking_option_errors(conn):
    c = conn()
    err = c.call("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "FOOBAR", "PREFIX", "FOO")
    assert str(err) == ("ERR Prefix 'FOOBAR' overlaps with another provided prefix 'FOO'. "
                        "Prefixes for a single client must not overlap.")
    c.call("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "FOO", "PREFIX", "BAR")
    err = c.call("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "FO")
    assert str(err) == ("ERR Prefix 'FO' overlaps with an existing prefix 'FOO'. "
                        "Prefixes for a single client must not overlap.")
    cases = [
        (("ON", "OPTIN"), "ERR You can't switch BCAST mode on/off before disabling tracking for this client, "
                          "and then re-enabling it with a different mode."),
    ]
    for args, text in cases:
        assert str(c.call("CLIENT", "TRACKING", *args)) == text
    c.call("CLIENT", "TRACKING", "OFF")
    cases = [
        (("ON", "PREFIX", "x"), "ERR PREFIX option requires BCAST mode to be enabled"),
        (("ON", "BCAST", "OPTIN"), "ERR OPTIN and OPTOUT are not compatible with BCAST"),
        (("ON", "OPTIN", "OPTOUT"), "ERR You can't specify both OPTIN mode and OPTOUT mode"),
        (("ON", "REDIRECT", "999999"), "ERR The client ID you want redirect to does not exist"),
        (("ON", "REDIRECT", "x"), "ERR value is not an integer or out of range"),
        (("ON", "FOO"), "ERR syntax error"),
        (("MAYBE",), "ERR syntax error"),
    ]
    for args, text in cases:
        assert str(c.call("CLIENT", "TRACKING", *args)) == text
    own = c.call("CLIENT", "ID")
    assert str(c.call("CLIENT", "TRACKING", "ON", "REDIRECT", own, "REDIRECT", own)) == \
        "ERR A client can only redirect to a single other client"
    c.call("CLIENT", "TRACKING", "ON", "OPTIN")
    assert str(c.call("CLIENT", "TRACKING", "ON", "OPTOUT")) == (
        "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, "
        "and then re-enabling it with a different mode.")
    assert str(c.call("CLIENT", "CACHING", "NO")) == \
        "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode."
    assert str(c.call("CLIENT", "CACHING", "MAYBE")) == "ERR syntax error"
    c.call("CLIENT", "TRACKING", "OFF")
    assert str(c.call("CLIENT", "CACHING", "YES")) == (
        "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT "
        "mode enabled")


def test_trackinginfo_and_getredir_when_off(conn):
    c = conn(resp=2)
    assert c.call("CLIENT", "TRACKINGINFO") == [b"flags", [b"off"], b"redirect", -1, b"prefixes", []]
    assert c.call("CLIENT", "GETREDIR") == -1
    c.call("CLIENT", "TRACKING", "ON")
    assert c.call("CLIENT", "GETREDIR") == 0


# ---------------------------------------------------------------------- flush, limits, lifecycle
def test_flush_sends_null_invalidation(conn, r, pykey_server):
    c = conn()
    c.call("CLIENT", "TRACKING", "ON")
    c.call("GET", "k1")
    c.call("GET", "k2")
    assert r.info()["tracking_total_keys"] == 2
    r.flushall()
    c.expect(b">2\r\n$10\r\ninvalidate\r\n_\r\n")
    assert r.info()["tracking_total_keys"] == 0
    r.flushdb()                      # even with nothing tracked, every tracking client hears of it
    c.expect(b">2\r\n$10\r\ninvalidate\r\n_\r\n")
    assert c.nothing_pending()
    _check(pykey_server)


def test_flush_inside_multi_after_exec_reply(conn):
    c = conn()
    c.call("CLIENT", "TRACKING", "ON")
    c.call("SET", "a", "1")
    c.call("GET", "a")
    c.call("MULTI")
    c.call("FLUSHDB")
    c.send("EXEC")
    c.expect(b"*1\r\n+OK\r\n")
    c.expect(b">2\r\n$10\r\ninvalidate\r\n_\r\n")


def test_swapdb_does_not_invalidate(conn, r):
    c = conn()
    c.call("CLIENT", "TRACKING", "ON")
    r.set("k", "v")
    c.call("GET", "k")
    r.swapdb(0, 1)
    assert c.nothing_pending()


def test_tracking_table_max_keys(conn, r, pykey_server):
    c = conn()
    c.call("CLIENT", "TRACKING", "ON")
    for i in range(250):
        c.call("GET", f"key{i}")
    try:
        r.config_set("tracking-table-max-keys", 1)
        seen = set()
        deadline = time.monotonic() + 10
        while len(seen) < 249 and time.monotonic() < deadline:
            kind, keys = c.read()
            assert kind == b"invalidate"
            seen.update(keys)
        assert len(seen) == 249
        assert c.nothing_pending()
        assert r.info()["tracking_total_keys"] == 1
    finally:
        r.config_set("tracking-table-max-keys", 1000000)
    _check(pykey_server)


def test_reset_and_disconnect_turn_tracking_off(conn, r, pykey_server):
    c = conn()
    c.call("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "p")
    assert r.info()["tracking_clients"] == 1
    assert c.call("RESET") == b"RESET"
    assert r.info()["tracking_clients"] == 0 and r.info()["tracking_total_prefixes"] == 0
    d = conn()
    d.call("CLIENT", "TRACKING", "ON")
    d.close()
    deadline = time.monotonic() + 5
    while r.info()["tracking_clients"] and time.monotonic() < deadline:
        time.sleep(0.01)
    assert r.info()["tracking_clients"] == 0
    _check(pykey_server)


def test_redis_py_client_side_cache(pykey_server, r, monkeypatch):
    """redis-py's own cache (RESP3 + CLIENT TRACKING) stays coherent against pykey. redis-py
    only enables it for servers reporting 7.4+; pykey reports Valkey's 7.2.4, so the test
    lowers that gate."""
    cache_mod = pytest.importorskip("redis.cache")
    from redis.connection import CacheProxyConnection
    monkeypatch.setattr(CacheProxyConnection, "MIN_ALLOWED_VERSION", "7.2.0")
    cached = redis.Redis(port=pykey_server.port, protocol=3, cache_config=cache_mod.CacheConfig())
    try:
        r.set("user", "alice")
        assert cached.get("user") == b"alice"
        assert cached.get("user") == b"alice"          # served from the local cache
        assert cached.get_cache().size == 1
        r.set("user", "bob")                            # the server invalidates the entry
        deadline = time.monotonic() + 5
        value = cached.get("user")
        while value != b"bob" and time.monotonic() < deadline:
            time.sleep(0.01)
            value = cached.get("user")
        assert value == b"bob"
        r.flushall()
        deadline = time.monotonic() + 5
        while cached.get("user") is not None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert cached.get("user") is None
    finally:
        cached.close()
