"""Pub/Sub: SUBSCRIBE family, PUBLISH, sharded channels, PUBSUB introspection, the RESP2
subscribed context, RESP3 pushes, and client-output-buffer-limit for slow clients."""
from __future__ import annotations

import threading
import time

import pytest
import redis

from pykey.testing.raw import RawConnection


@pytest.fixture
def raw(pykey_server):
    conns: list[RawConnection] = []

    def make(**kw) -> RawConnection:
        c = RawConnection(pykey_server.port, **kw)
        conns.append(c)
        return c

    yield make
    for c in conns:
        c.close()


def _engine_check(pykey_server) -> None:
    pykey_server.call(pykey_server.engine.pubsub._check)


# ---------------------------------------------------------------------- basics
def test_subscribe_publish_unsubscribe(r, raw, pykey_server):
    sub = raw()
    sub.send("SUBSCRIBE", "chan1", "chan2", "chan1")
    assert [sub.read() for _ in range(3)] == [[b"subscribe", b"chan1", 1], [b"subscribe", b"chan2", 2],
                                              [b"subscribe", b"chan1", 2]]
    assert r.publish("chan1", "hello") == 1
    assert r.publish("nobody", "x") == 0
    assert sub.read() == [b"message", b"chan1", b"hello"]
    sub.send("UNSUBSCRIBE", "chan1", "nope")
    assert [sub.read() for _ in range(2)] == [[b"unsubscribe", b"chan1", 1], [b"unsubscribe", b"nope", 1]]
    assert r.publish("chan1", "x") == 0
    sub.send("UNSUBSCRIBE")
    assert sub.read() == [b"unsubscribe", b"chan2", 0]
    assert r.pubsub_channels() == []
    _engine_check(pykey_server)


def test_patterns_use_valkey_glob_rules(r, raw, pykey_server):
    sub = raw()
    pats = ["news.*", "h?llo", "h[ae]llo", "h[^e]llo", r"a\*b", "x[a-c]y", "[z-x]"]
    sub.send("PSUBSCRIBE", *pats)
    for i, p in enumerate(pats, 1):
        assert sub.read() == [b"psubscribe", p.encode(), i]
    assert r.pubsub_numpat() == len(pats)
    cases = {"news.tech": ["news.*"], "hello": ["h?llo", "h[ae]llo"], "hallo": ["h?llo", "h[ae]llo", "h[^e]llo"],
             "a*b": [r"a\*b"], "axb": [], "xby": ["x[a-c]y"], "y": ["[z-x]"], "nope": []}
    for channel, matched in cases.items():
        assert r.publish(channel, "m") == len(matched), channel
        got = [sub.read() for _ in matched]
        assert got == [[b"pmessage", p.encode(), channel.encode(), b"m"] for p in matched]
    sub.send("PUNSUBSCRIBE", "news.*")
    assert sub.read() == [b"punsubscribe", b"news.*", len(pats) - 1]
    sub.send("PUNSUBSCRIBE")
    assert sorted(sub.read()[1] for _ in range(len(pats) - 1)) == sorted(p.encode() for p in pats[1:])
    assert r.pubsub_numpat() == 0
    _engine_check(pykey_server)


def test_channel_and_pattern_both_deliver(r, raw):
    sub = raw()
    sub.send("SUBSCRIBE", "foo.bar")
    sub.read()
    sub.send("PSUBSCRIBE", "foo.*")
    assert sub.read() == [b"psubscribe", b"foo.*", 2]
    assert r.publish("foo.bar", "hi") == 2
    assert sub.read() == [b"message", b"foo.bar", b"hi"]
    assert sub.read() == [b"pmessage", b"foo.*", b"foo.bar", b"hi"]


def test_pubsub_introspection(r, raw):
    a, b = raw(), raw()
    a.call("SUBSCRIBE", "c1")
    b.call("SUBSCRIBE", "c1")
    b.call("SUBSCRIBE", "c2")
    a.call("PSUBSCRIBE", "p*")
    b.call("PSUBSCRIBE", "p*")
    a.call("SSUBSCRIBE", "s1")
    assert sorted(r.pubsub_channels()) == [b"c1", b"c2"]
    assert r.pubsub_channels("*1") == [b"c1"]
    assert r.pubsub_numsub("c1", "c2", "zz") == [(b"c1", 2), (b"c2", 1), (b"zz", 0)]
    assert r.execute_command("PUBSUB", "NUMSUB") == []
    assert r.pubsub_numpat() == 1
    assert r.execute_command("PUBSUB", "SHARDCHANNELS") == [b"s1"]
    assert r.execute_command("PUBSUB", "SHARDCHANNELS", "x*") == []
    assert r.execute_command("PUBSUB", "SHARDNUMSUB", "s1", "c1") == [b"s1", 1, b"c1", 0]
    with pytest.raises(redis.ResponseError, match="^unknown subcommand or wrong number of arguments "
                                                  "for 'channels'. Try PUBSUB HELP.$"):
        r.execute_command("PUBSUB", "CHANNELS", "a", "b")
    with pytest.raises(redis.ResponseError, match="wrong number of arguments for 'pubsub|numpat' command"):
        r.execute_command("PUBSUB", "NUMPAT", "x")
    assert r.execute_command("PUBSUB", "HELP")[0].startswith(b"PUBSUB <subcommand>")
    info = r.info()
    assert info["pubsub_channels"] == 2 and info["pubsub_patterns"] == 1
    assert info["pubsubshard_channels"] == 1 and info["pubsub_clients"] == 2
    line = [x for x in r.client_list() if x["cmd"] == "ssubscribe"][0]
    assert (line["sub"], line["psub"], line["ssub"], line["flags"]) == ("1", "1", "1", "P")


# ---------------------------------------------------------------------- the RESP2 context
def test_resp2_subscribed_context(raw):
    c = raw()
    c.call("SUBSCRIBE", "ch")
    c.send("GET", "k")
    c.expect(b"-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / "
             b"QUIT / RESET are allowed in this context\r\n")
    c.send("CLIENT", "ID")
    assert c.read().args[0].startswith("ERR Can't execute 'client|id'")
    assert c.call("PING") == [b"pong", b""]
    assert c.call("PING", "x") == [b"pong", b"x"]
    assert c.call("PSUBSCRIBE", "p") == [b"psubscribe", b"p", 2]
    assert c.call("RESET") == b"RESET"
    assert c.call("GET", "k") is None         # RESET left the subscribed context
    assert c.call("PING") == b"PONG"


def test_shard_subscription_is_a_subscribed_context(raw):
    c = raw()
    assert c.call("SSUBSCRIBE", "s") == [b"ssubscribe", b"s", 1]
    assert c.call("PING") == [b"pong", b""]
    assert "only (P|S)SUBSCRIBE" in str(c.call("SET", "a", "b"))
    assert c.call("SUNSUBSCRIBE") == [b"sunsubscribe", b"s", 0]
    assert c.call("SET", "a", "b") == b"OK"


def test_unsubscribe_outside_subscribed_mode_is_nosub(r, raw):
    for cmd in ("UNSUBSCRIBE", "PUNSUBSCRIBE", "SUNSUBSCRIBE"):
        with pytest.raises(redis.ResponseError) as e:
            r.execute_command(cmd, "foo")
        assert str(e.value) == f"NOSUB '{cmd.lower()}' command executed not in subscribed mode"
    c = raw()
    c.send("UNSUBSCRIBE")
    c.expect(b"-NOSUB 'unsubscribe' command executed not in subscribed mode\r\n")
    # subscribed to a pattern only: UNSUBSCRIBE (channels) says there was nothing
    c.call("PSUBSCRIBE", "p*")
    assert c.call("UNSUBSCRIBE") == [b"unsubscribe", None, 1]
    assert c.call("SUNSUBSCRIBE") == [b"sunsubscribe", None, 0]


def test_subscribe_in_multi_and_ssubscribe_refused(raw):
    c = raw()
    c.call("HELLO", "3")
    assert c.call("MULTI") == b"OK"
    assert c.call("SSUBSCRIBE", "s") == b"QUEUED"
    assert c.call("SUBSCRIBE", "ch") == b"QUEUED"
    reply = c.call("EXEC")
    assert str(reply[0]) == "ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client"
    assert reply[1] == [b"subscribe", b"ch", 1]


# ---------------------------------------------------------------------- RESP3
def test_resp3_pushes_interleave_with_replies(raw, r):
    c = raw()
    c.call("HELLO", "3")
    c.send("SUBSCRIBE", "ch")
    c.expect(b">3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n")
    c.sock.sendall(b"*1\r\n$4\r\nPING\r\n")
    c.expect(b"+PONG\r\n")
    assert c.call("SET", "k", "v") == b"OK"      # any command works while subscribed in RESP3
    r.publish("ch", "from-other")
    c.expect(b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$10\r\nfrom-other\r\n")
    # a message to oneself follows the reply of the PUBLISH that sent it
    c.sock.sendall(b"*3\r\n$7\r\nPUBLISH\r\n$2\r\nch\r\n$2\r\nme\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n")
    c.expect(b":1\r\n")
    c.expect(b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nme\r\n")
    c.expect(b"$1\r\nv\r\n")


def test_resp3_publish_to_self_inside_multi(raw):
    c = raw()
    c.call("HELLO", "3")
    c.call("SUBSCRIBE", "foo")
    c.call("MULTI")
    for args in (("PING", "abc"), ("PUBLISH", "foo", "bar"), ("PUBLISH", "foo", "vaz"), ("PING", "def")):
        assert c.call(*args) == b"QUEUED"
    assert c.call("EXEC") == [b"abc", 1, 1, b"def"]
    assert c.read() == [b"message", b"foo", b"bar"]
    assert c.read() == [b"message", b"foo", b"vaz"]


def test_subscribe_confirmations_ignore_client_reply_off(raw, r):
    c = raw()
    c.call("HELLO", "3")
    c.send("CLIENT", "REPLY", "OFF")
    c.send("SUBSCRIBE", "channel")
    assert c.read() == [b"subscribe", b"channel", 1]
    c.send("PSUBSCRIBE", "ch*")
    assert c.read() == [b"psubscribe", b"ch*", 2]
    c.send("PING")                                   # silenced
    assert r.publish("channel", "hello") == 2
    assert c.read() == [b"message", b"channel", b"hello"]
    assert c.read() == [b"pmessage", b"ch*", b"channel", b"hello"]
    c.send("CLIENT", "REPLY", "ON")
    assert c.read() == b"OK"


def test_redis_py_pubsub_object(r):
    p = r.pubsub()
    p.subscribe("a", "b")
    p.psubscribe("z*")
    for _ in range(3):
        assert p.get_message(timeout=5)["type"] in ("subscribe", "psubscribe")
    assert r.publish("a", "1") == 1
    assert r.publish("zed", "2") == 1
    m1 = p.get_message(timeout=5)
    m2 = p.get_message(timeout=5)
    assert (m1["type"], m1["channel"], m1["data"]) == ("message", b"a", b"1")
    assert (m2["type"], m2["pattern"], m2["channel"], m2["data"]) == ("pmessage", b"z*", b"zed", b"2")
    p.ping()
    assert p.get_message(timeout=5)["data"] == b""
    p.unsubscribe()
    p.punsubscribe()
    kinds = sorted(p.get_message(timeout=5)["type"] for _ in range(3))
    assert kinds == ["punsubscribe", "unsubscribe", "unsubscribe"]
    p.close()


def test_redis_py_resp3_pubsub_and_sharded(pykey_server):
    r3 = redis.Redis(port=pykey_server.port, protocol=3)
    p = r3.pubsub()
    p.subscribe("x")
    p.ssubscribe("shard")
    assert p.get_message(timeout=5)["type"] == "subscribe"
    assert p.get_sharded_message(timeout=5)["type"] == "ssubscribe"
    assert r3.publish("x", "v") == 1
    assert r3.spublish("shard", "w") == 1
    assert r3.publish("shard", "nobody") == 0     # shard channels are a separate namespace
    msg = p.get_message(timeout=5)
    assert (msg["type"], msg["data"]) == ("message", b"v")
    smsg = p.get_sharded_message(timeout=5)
    assert (smsg["type"], smsg["channel"], smsg["data"]) == ("smessage", b"shard", b"w")
    p.close()
    r3.close()


def test_spublish_ignores_patterns(r, raw):
    c = raw()
    c.call("PSUBSCRIBE", "*")
    assert r.execute_command("SPUBLISH", "chan", "m") == 0
    assert r.publish("chan", "m") == 1


def test_disconnect_and_reset_forget_subscriptions(r, raw, pykey_server):
    a = raw()
    a.call("SUBSCRIBE", "c")
    a.call("PSUBSCRIBE", "p*")
    a.call("SSUBSCRIBE", "s")
    a.close()
    deadline = time.monotonic() + 5
    while r.pubsub_numsub("c")[0][1] and time.monotonic() < deadline:
        time.sleep(0.01)
    assert r.pubsub_numsub("c") == [(b"c", 0)] and r.pubsub_numpat() == 0
    assert r.execute_command("PUBSUB", "SHARDCHANNELS") == []
    assert r.info()["pubsub_clients"] == 0
    _engine_check(pykey_server)


def test_command_facts(raw):
    spublish, subscribe, pubsub = raw().call("COMMAND", "INFO", "spublish", "subscribe", "pubsub")
    assert spublish[1:6] == [3, [b"pubsub", b"loading", b"stale", b"fast"], 1, 1, 1]
    assert spublish[6] == [b"@pubsub", b"@fast"]
    assert subscribe[2] == [b"pubsub", b"noscript", b"loading", b"stale"]
    assert b"pubsub|numsub" in [s[0] for s in pubsub[9]]


# ---------------------------------------------------------------------- output buffer limits
def test_output_buffer_limit_config(r):
    default = r.config_get("client-output-buffer-limit")["client-output-buffer-limit"]
    assert default == "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
    try:
        r.config_set("client-output-buffer-limit", "normal 1mb 2mb 60 replica 3mb 4mb 70 pubsub 5mb 6mb 80")
        got = r.config_get("client-output-buffer-limit")["client-output-buffer-limit"]
        assert got == "normal 1048576 2097152 60 slave 3145728 4194304 70 pubsub 5242880 6291456 80"
        for bad, why in (("wrong number", "Wrong number of arguments"), ("master 1 1 1", "Invalid client class"),
                         ("normal 10mbs 1 1", "Error in hard"), ("pubsub 1 1 60s", "soft_seconds")):
            with pytest.raises(redis.ResponseError, match=why):
                r.config_set("client-output-buffer-limit", bad)
    finally:
        r.config_set("client-output-buffer-limit", default)


def _wait(cond, what: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


@pytest.mark.parametrize("limit", ["pubsub 1mb 0 0", "pubsub 0 512kb 0"])
def test_slow_subscriber_is_disconnected_others_unaffected(pykey_factory, limit):
    """A subscriber that stops reading is dropped once its output buffer passes the pubsub
    limit (hard, or soft held past its seconds); its buffer never grows past the limit, and a
    subscriber that reads and a plain client carry on."""
    srv = pykey_factory()
    admin = redis.Redis(port=srv.port)
    admin.config_set("client-output-buffer-limit", limit)
    cap = 1024 * 1024
    slow = RawConnection(srv.port, rcvbuf=4096)
    slow.call("CLIENT", "SETNAME", "slow")
    slow.call("SUBSCRIBE", "flood")
    good = redis.Redis(port=srv.port).pubsub()
    good.subscribe("flood")
    assert good.get_message(timeout=5)["type"] == "subscribe"
    received = []
    stop = threading.Event()

    def consume() -> None:
        while not stop.is_set():
            m = good.get_message(timeout=0.1)
            if m is not None:
                received.append(len(m["data"]))

    reader = threading.Thread(target=consume)
    reader.start()
    payload = b"x" * 16384
    sent = 0
    max_omem = 0
    try:
        pub = redis.Redis(port=srv.port)
        for _ in range(4000):      # at most 64 MB: far beyond kernel buffers plus the limit
            n = pub.publish("flood", payload)
            sent += 1
            if n < 2:
                break
            if sent % 8 == 0:
                mine = [c for c in pub.client_list() if c["name"] == "slow"]
                if mine:
                    max_omem = max(max_omem, int(mine[0]["omem"]))
        assert n == 1, "the slow subscriber was never disconnected"
        assert 0 < max_omem <= cap          # visible in CLIENT LIST, and bounded
        assert pub.info()["client_output_buffer_limit_disconnections"] == 1
        assert not [c for c in pub.client_list() if c["name"] == "slow"]
        # everybody else is fine: the reading subscriber got every message
        assert pub.set("k", "v") and pub.get("k") == b"v"
        _wait(lambda: len(received) == sent, "the reading subscriber")
        assert set(received) == {len(payload)}
        # the slow one drains what the kernel held, then sees the connection closed
        with pytest.raises((ConnectionError, OSError)):
            while True:
                slow.read()
    finally:
        stop.set()
        reader.join()
        good.close()
        slow.close()


def test_normal_client_hard_limit_drops_big_reply(pykey_factory):
    srv = pykey_factory()
    r = redis.Redis(port=srv.port)
    r.set("big", b"x" * 200_000)
    r.config_set("client-output-buffer-limit", "normal 100kb 0 0")
    c = RawConnection(srv.port)
    c.send("GET", "big")
    with pytest.raises(ConnectionError):
        c.read()                       # closed without a byte of the reply
    assert r.info()["client_output_buffer_limit_disconnections"] == 1
    # small replies are fine (the limit counts what is pending, not what was sent)
    other = RawConnection(srv.port)
    for _ in range(20):
        assert other.call("GET", "nothing") is None
    c.close()
    other.close()


def test_output_buffer_shown_in_client_list_and_info(r):
    line = r.client_list()[0]
    assert {"obl", "oll", "omem", "tot-mem"} <= set(line)
    info = r.info("clients")
    assert "client_recent_max_output_buffer" in info
    assert "client_output_buffer_limit_disconnections" in r.info("stats")


def test_publish_goes_to_the_replication_stream(pykey_factory):
    """Valkey forces PUBLISH and SPUBLISH into the replication stream (the replica's own
    subscribers get the messages), even though they change no key."""
    srv = pykey_factory()
    replica = RawConnection(srv.port)
    assert replica.call("REPLCONF", "capa", "psync2") == b"OK"
    replica.send("PSYNC", "?", "-1")
    head = replica.read_bytes(11)
    assert head == b"+FULLRESYNC"
    line = b""
    while not line.endswith(b"\r\n"):
        line += replica.read_bytes(1)
    size = b""
    while not size.endswith(b"\r\n"):
        size += replica.read_bytes(1)
    replica.read_bytes(int(size[1:-2]))           # the RDB payload
    pub = redis.Redis(port=srv.port)
    assert pub.publish("ch", "hi") == 0
    assert pub.execute_command("SPUBLISH", "sh", "yo") == 0
    replica.expect(b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$7\r\nPUBLISH\r\n$2\r\nch\r\n$2\r\nhi\r\n"
                   b"*3\r\n$8\r\nSPUBLISH\r\n$2\r\nsh\r\n$2\r\nyo\r\n")
    replica.close()
    pub.close()


def test_soft_limit_enforced_without_further_traffic(pykey_factory):
    """Over the soft limit, then silence: the client is still dropped once the soft seconds
    have passed (Valkey's cron check), not only on the next write."""
    srv = pykey_factory()
    admin = redis.Redis(port=srv.port)
    admin.config_set("client-output-buffer-limit", "pubsub 0 256kb 1")
    slow = RawConnection(srv.port, rcvbuf=4096)
    slow.call("CLIENT", "SETNAME", "slow")
    slow.call("SUBSCRIBE", "flood")
    payload = b"x" * 16384

    def omem() -> int | None:
        mine = [c for c in admin.client_list() if c["name"] == "slow"]
        return int(mine[0]["omem"]) if mine else None

    for _ in range(2000):
        admin.publish("flood", payload)
        if (omem() or 0) >= 256 * 1024:
            break
    assert (omem() or 0) >= 256 * 1024
    _wait(lambda: omem() is None, "the soft limit to drop the idle subscriber")
    assert admin.info()["client_output_buffer_limit_disconnections"] == 1
    slow.close()
