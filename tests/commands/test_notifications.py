"""Keyspace notifications: notify-keyspace-events classes, Valkey's event names and channels.

Which events each command publishes, and in what order, is compared with redis-server 7.0
in tests/interop/test_notify_interop.py; here: the configuration, the channel formats, the
class masks, expiry, and delivery over RESP2 and RESP3."""
from __future__ import annotations

import time

import pytest
import redis
from hypothesis import given, settings
from hypothesis import strategies as st

from pykey.config import notify_flags


@pytest.fixture
def events(r, pykey_server):
    """A pattern subscriber on everything; call it with notify-keyspace-events classes."""
    subs = []

    def listen(classes: str, resp: int = 2):
        r.config_set("notify-keyspace-events", classes)
        client = redis.Redis(port=pykey_server.port, protocol=resp)
        p = client.pubsub()
        p.psubscribe("*")
        assert p.get_message(timeout=5)["type"] == "psubscribe"
        subs.append((client, p))
        return p

    yield listen
    r.config_set("notify-keyspace-events", "")
    for client, p in subs:
        p.close()
        client.close()


def drain(p, marker: bytes = b"__end__") -> list[tuple[bytes, bytes]]:
    """Messages up to a marker published by the test (so nothing is missed or waited for)."""
    p.connection  # noqa: B018 - the subscriber exists
    out = []
    while True:
        m = p.get_message(timeout=5)
        assert m is not None, "marker never arrived"
        if m["channel"] == marker:
            return out
        out.append((m["channel"], m["data"]))


def test_config_canonical_forms(r):
    try:
        for given_, shown in (("gKE", "gKE"), ("$lshzxeKE", "$lshzxeKE"), ("KA", "AK"), ("EA", "AE"),
                              ("Ex", "xE"), ("KEA", "AKE"), ("nK", "nK"), ("mE", "Em"), ("KEAnm", "AKEm"),
                              ("", ""), ("tdK", "tdK")):
            r.config_set("notify-keyspace-events", given_)
            assert r.config_get("notify-keyspace-events")["notify-keyspace-events"] == shown, given_
        with pytest.raises(redis.ResponseError, match="Invalid event class character"):
            r.config_set("notify-keyspace-events", "KEq")
    finally:
        r.config_set("notify-keyspace-events", "")


def _valkey_flags_to_string(text: str) -> str:
    """Valkey's keyspaceEventsFlagsToString over keyspaceEventsStringToFlags, as bit masks."""
    bits = {c: 1 << i for i, c in enumerate("KEg$lshzxetmdn")}
    all_ = sum(bits[c] for c in "g$lshzxetd")
    flags = 0
    for c in text:
        flags |= all_ if c == "A" else bits[c]
    if flags & all_ == all_:
        out = "A"
    else:
        out = "".join(c for c in "g$lshzxetdn" if flags & bits[c])
    return out + "".join(c for c in "KEm" if flags & bits[c])


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="KEg$lshzxetmdnA", max_size=12))
def test_canonical_form_matches_valkey(text):
    assert notify_flags(text) == _valkey_flags_to_string(text)


def test_keyspace_and_keyevent_channels(r, events):
    p = events("KEA")
    r.set("foo", "bar")
    r.publish("__end__", "")
    assert drain(p) == [(b"__keyspace@0__:foo", b"set"), (b"__keyevent@0__:set", b"foo")]


def test_only_keyspace_or_only_keyevent(r, events):
    p = events("K$")
    r.set("foo", "bar")
    r.publish("__end__", "")
    assert drain(p) == [(b"__keyspace@0__:foo", b"set")]
    p2 = events("E$")
    r.set("foo", "bar")
    r.publish("__end__", "")
    assert drain(p2) == [(b"__keyevent@0__:set", b"foo")]


def test_classes_mask_events(r, events):
    p = events("KEl")
    r.set("foo", "bar")
    r.lpush("mylist", "a")
    r.sadd("s", "a")
    r.delete("s")
    r.publish("__end__", "")
    assert drain(p) == [(b"__keyspace@0__:mylist", b"lpush"), (b"__keyevent@0__:lpush", b"mylist")]


def test_class_without_k_or_e_publishes_nothing(r, events):
    p = events("A")
    r.set("foo", "bar")
    r.publish("__end__", "")
    assert drain(p) == []


def test_generic_events_and_database_number(r, events, pykey_server):
    p = events("Kg")
    other = redis.Redis(port=pykey_server.port, db=5)
    other.set("k", "v")
    other.expire("k", 100)
    other.rename("k", "k2")
    other.delete("k2")
    other.close()
    r.publish("__end__", "")
    assert drain(p) == [(b"__keyspace@5__:k", b"expire"), (b"__keyspace@5__:k", b"rename_from"),
                        (b"__keyspace@5__:k2", b"rename_to"), (b"__keyspace@5__:k2", b"del")]


def test_new_key_event(r, events):
    p = events("En")
    r.set("foo", "bar")
    r.set("foo", "baz")
    r.rpush("l", "a")
    r.rpush("l", "b")
    r.publish("__end__", "")
    assert drain(p) == [(b"__keyevent@0__:new", b"foo"), (b"__keyevent@0__:new", b"l")]


def test_keymiss_only_for_reads(r, events):
    p = events("Em")
    r.get("nokey")
    r.lpush("nolist", "a")          # a write looks the key up without a miss event
    r.exists("gone")
    r.publish("__end__", "")
    assert drain(p) == [(b"__keyevent@0__:keymiss", b"nokey"), (b"__keyevent@0__:keymiss", b"gone")]


def test_expired_events_lazy_and_active(r, events, pykey_server):
    p = events("KEx")
    r.set("lazy", "v", px=100)
    r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    try:
        pykey_server.advance(200)
        assert r.get("lazy") is None
        r.publish("__end__", "")
        assert drain(p) == [(b"__keyspace@0__:lazy", b"expired"), (b"__keyevent@0__:expired", b"lazy")]
    finally:
        r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "1")
    r.set("active", "v", px=100)
    pykey_server.advance(200)
    deadline = time.monotonic() + 5
    got = []
    while not got and time.monotonic() < deadline:
        m = p.get_message(timeout=0.2)
        if m is not None:
            got.append((m["channel"], m["data"]))
    assert got == [(b"__keyspace@0__:active", b"expired")]


def test_overwriting_an_expired_key_expires_then_creates(r, events, pykey_server):
    p = events("KEA" + "n")
    r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    try:
        r.set("k", "v", px=50)
        pykey_server.advance(100)
        r.set("k", "w")
        r.publish("__end__", "")
        got = [e for e in drain(p) if e[0].startswith(b"__keyspace")]
        assert got == [(b"__keyspace@0__:k", b"new"), (b"__keyspace@0__:k", b"set"),
                       (b"__keyspace@0__:k", b"expire"), (b"__keyspace@0__:k", b"expired"),
                       (b"__keyspace@0__:k", b"new"), (b"__keyspace@0__:k", b"set")]
    finally:
        r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "1")


def test_resp3_subscriber_gets_pushes(r, events):
    p = events("E$", resp=3)
    r.set("foo", "bar")
    r.publish("__end__", "")
    assert drain(p) == [(b"__keyevent@0__:set", b"foo")]


def test_engine_notify_is_open_to_every_group(r, events, pykey_server):
    """Groups call server.notify(class, event, key, dbid): any class letter and event name
    reaches subscribers when its class is on."""
    p = events("KEz")
    engine = pykey_server.engine
    pykey_server.call(engine.notify, "z", "zadd", b"myzset", 0)
    pykey_server.call(engine.notify, "h", "hexpired", b"myhash", 0)   # class h is off
    r.publish("__end__", "")
    assert drain(p) == [(b"__keyspace@0__:myzset", b"zadd"), (b"__keyevent@0__:zadd", b"myzset")]


def test_redis_py_keyspace_notifications_helper(r, events):
    ksn_mod = pytest.importorskip("redis.keyspace_notifications")
    r.config_set("notify-keyspace-events", "KEA")
    ksn = ksn_mod.KeyspaceNotifications(r)
    ksn.subscribe(ksn_mod.KeyspaceChannel("user:*"))
    try:
        r.set("user:1", "x")
        deadline = time.monotonic() + 5
        note = None
        while note is None and time.monotonic() < deadline:
            note = ksn.get_message(timeout=0.2)
        assert note is not None
        assert note.key in ("user:1", b"user:1") and str(note.event_type).endswith("set")
    finally:
        ksn.close()
        r.config_set("notify-keyspace-events", "")
