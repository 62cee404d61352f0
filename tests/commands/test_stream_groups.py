"""Consumer groups: XGROUP XREADGROUP XACK XPENDING XCLAIM XAUTOCLAIM XINFO GROUPS/CONSUMERS,
blocking XREADGROUP, propagation of group state, and an at-least-once queue under failure."""
from __future__ import annotations

import threading

import pytest
import redis

from pykey.testing.raw import raw_reply
from pykey.testing.waiting import in_background, wait_blocked

WRONGTYPE = "^WRONGTYPE Operation against a key holding the wrong kind of value$"
BAD_ID = "^Invalid stream ID specified as stream command argument$"


@pytest.fixture
def r(pykey_server):
    """A RESP2 client (redis-py 8 speaks RESP3 by default)."""
    client = redis.Redis(host=pykey_server.host, port=pykey_server.port, socket_timeout=10, protocol=2)
    client.flushall()
    yield client
    client.close()


@pytest.fixture
def own(pykey_factory):
    """A client on a server of its own, for tests that move the server's clock forward."""
    srv = pykey_factory()
    client = redis.Redis(port=srv.port, socket_timeout=10, protocol=2)
    yield client, srv
    client.close()


def as_map(reply):
    return dict(zip(*[iter(reply)] * 2, strict=True))


def entries(*ids: str, f: str = "f", v: str = "v") -> list:
    return [[i.encode(), [f.encode(), v.encode()]] for i in ids]


def fill(r, key="s", n=5):
    for i in range(1, n + 1):
        raw_reply(r, "XADD", key, f"{i}-0", "f", "v")


def group_info(r, key="s", idx=0):
    return as_map(raw_reply(r, "XINFO", "GROUPS", key)[idx])


def engine_stream(srv, key: bytes, db: int = 0):
    return srv.call(lambda: srv.engine.dbs[db].data[key])


# ---------------------------------------------------------------------- XGROUP
def test_xgroup_create(r):
    fill(r, n=3)
    assert raw_reply(r, "XGROUP", "CREATE", "s", "g", "$") == b"OK"
    with pytest.raises(redis.ResponseError, match="^BUSYGROUP Consumer Group name already exists$"):
        raw_reply(r, "XGROUP", "CREATE", "s", "g", "0")
    assert raw_reply(r, "XGROUP", "create", "s", "g2", "1-5", "ENTRIESREAD", "1") == b"OK"
    assert group_info(r, idx=0)[b"last-delivered-id"] == b"3-0"
    g2 = group_info(r, idx=1)
    assert (g2[b"last-delivered-id"], g2[b"entries-read"], g2[b"lag"]) == (b"1-5", 1, 2)
    with pytest.raises(redis.ResponseError, match="^The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.$"):
        raw_reply(r, "XGROUP", "CREATE", "nokey", "g", "$")
    assert raw_reply(r, "XGROUP", "CREATE", "new", "g", "$", "MKSTREAM") == b"OK"
    assert r.type("new") == b"stream" and raw_reply(r, "XLEN", "new") == 0
    with pytest.raises(redis.ResponseError, match="^value for ENTRIESREAD must be positive or -1$"):
        raw_reply(r, "XGROUP", "CREATE", "s", "g3", "$", "ENTRIESREAD", "-2")
    with pytest.raises(redis.ResponseError, match="^value is not an integer or out of range$"):
        raw_reply(r, "XGROUP", "CREATE", "s", "g3", "$", "ENTRIESREAD", "x")
    with pytest.raises(redis.ResponseError, match="^unknown subcommand or wrong number of arguments for 'CREATE'. Try XGROUP HELP.$"):
        raw_reply(r, "XGROUP", "CREATE", "s", "g3", "$", "FOO")
    with pytest.raises(redis.ResponseError, match="^unknown subcommand or wrong number of arguments for 'CREATE'. Try XGROUP HELP.$"):
        raw_reply(r, "XGROUP", "CREATE", "s2", "g3", "$", "MKSTREAM", "MKSTREAM", "ENTRIESREAD", "1")
    assert not r.exists("s2")
    for bad in ("-", "+", "x"):
        with pytest.raises(redis.ResponseError, match=BAD_ID):
            raw_reply(r, "XGROUP", "CREATE", "s", "g3", bad)
    with pytest.raises(redis.ResponseError, match="^wrong number of arguments for 'xgroup\\|create' command$"):
        raw_reply(r, "XGROUP", "CREATE", "s", "g3")
    r.set("k", "v")
    with pytest.raises(redis.ResponseError, match=WRONGTYPE):
        raw_reply(r, "XGROUP", "CREATE", "k", "g", "$", "MKSTREAM")


def test_xgroup_setid_destroy_consumers(r):
    fill(r, n=3)
    raw_reply(r, "XGROUP", "CREATE", "s", "g", "$")
    assert raw_reply(r, "XGROUP", "SETID", "s", "g", "1-0", "ENTRIESREAD", "1") == b"OK"
    assert group_info(r)[b"lag"] == 2
    assert raw_reply(r, "XGROUP", "SETID", "s", "g", "-") == b"OK"         # - and + are accepted here
    assert group_info(r)[b"last-delivered-id"] == b"0-0"
    assert raw_reply(r, "XGROUP", "SETID", "s", "g", "$") == b"OK"
    assert group_info(r)[b"last-delivered-id"] == b"3-0" and group_info(r)[b"entries-read"] is None
    with pytest.raises(redis.ResponseError, match="^NOGROUP No such consumer group 'nog' for key name 's'$"):
        raw_reply(r, "XGROUP", "SETID", "s", "nog", "0")
    with pytest.raises(redis.ResponseError, match="^unknown subcommand or wrong number of arguments for 'SETID'. Try XGROUP HELP.$"):
        raw_reply(r, "XGROUP", "SETID", "s", "g", "0", "MKSTREAM")
    assert raw_reply(r, "XGROUP", "CREATECONSUMER", "s", "g", "alice") == 1
    assert raw_reply(r, "XGROUP", "CREATECONSUMER", "s", "g", "alice") == 0
    with pytest.raises(redis.ResponseError, match="^NOGROUP No such consumer group 'nog' for key name 's'$"):
        raw_reply(r, "XGROUP", "CREATECONSUMER", "s", "nog", "alice")
    raw_reply(r, "XGROUP", "SETID", "s", "g", "0")
    raw_reply(r, "XREADGROUP", "GROUP", "g", "bob", "COUNT", "2", "STREAMS", "s", ">")
    assert raw_reply(r, "XGROUP", "DELCONSUMER", "s", "g", "bob") == 2
    assert raw_reply(r, "XGROUP", "DELCONSUMER", "s", "g", "bob") == 0
    assert raw_reply(r, "XPENDING", "s", "g")[0] == 0
    assert raw_reply(r, "XGROUP", "DESTROY", "s", "g") == 1
    assert raw_reply(r, "XGROUP", "DESTROY", "s", "g") == 0
    with pytest.raises(redis.ResponseError, match="^The XGROUP subcommand requires the key"):
        raw_reply(r, "XGROUP", "DESTROY", "nokey", "g")
    with pytest.raises(redis.ResponseError, match="^unknown subcommand 'FOO'. Try XGROUP HELP.$"):
        raw_reply(r, "XGROUP", "FOO", "s", "g")
    lines = raw_reply(r, "XGROUP", "HELP")
    assert lines[0] == b"XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    assert b"SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]" in lines
    with pytest.raises(redis.ResponseError, match="^wrong number of arguments for 'xgroup\\|help' command$"):
        raw_reply(r, "XGROUP", "HELP", "x")


# ---------------------------------------------------------------------- XREADGROUP
def test_xreadgroup_new_entries_and_history(r):
    fill(r, n=3)
    raw_reply(r, "XGROUP", "CREATE", "s", "g", "0")
    assert raw_reply(r, "XREADGROUP", "GROUP", "g", "a", "COUNT", "2", "STREAMS", "s", ">") == [
        [b"s", entries("1-0", "2-0")]]
    assert raw_reply(r, "XREADGROUP", "GROUP", "g", "b", "STREAMS", "s", ">") == [[b"s", entries("3-0")]]
    assert raw_reply(r, "XREADGROUP", "GROUP", "g", "b", "STREAMS", "s", ">") is None
    # history: each consumer sees only what it was given
    assert raw_reply(r, "XREADGROUP", "GROUP", "g", "a", "STREAMS", "s", "0") == [[b"s", entries("1-0", "2-0")]]
    assert raw_reply(r, "XREADGROUP", "GROUP", "g", "a", "STREAMS", "s", "1-0") == [[b"s", entries("2-0")]]
    assert raw_reply(r, "XREADGROUP", "GROUP", "g", "a", "COUNT", "1", "STREAMS", "s", "0") == [[b"s", entries("1-0")]]
    assert raw_reply(r, "XREADGROUP", "GROUP", "g", "new", "STREAMS", "s", "0") == [[b"s", []]]
    pend = {e[0]: e[3] for e in raw_reply(r, "XPENDING", "s", "g", "-", "+", "10")}
    assert pend == {b"1-0": 3, b"2-0": 3, b"3-0": 1}      # history reads count as deliveries
    # a deleted entry still pending shows with null fields
    raw_reply(r, "XDEL", "s", "1-0")
    assert raw_reply(r, "XREADGROUP", "GROUP", "g", "a", "STREAMS", "s", "0") == [
        [b"s", [[b"1-0", None], [b"2-0", [b"f", b"v"]]]]]
    info = group_info(r)
    assert (info[b"consumers"], info[b"pending"], info[b"last-delivered-id"]) == (3, 3, b"3-0")


def test_xreadgroup_noack_and_multiple_streams(r):
    fill(r, "a", 2)
    fill(r, "b", 2)
    raw_reply(r, "XGROUP", "CREATE", "a", "g", "0")
    raw_reply(r, "XGROUP", "CREATE", "b", "g", "1")
    got = raw_reply(r, "XREADGROUP", "GROUP", "g", "c", "NOACK", "STREAMS", "a", "b", ">", ">")
    assert got == [[b"a", entries("1-0", "2-0")], [b"b", entries("2-0")]]
    assert raw_reply(r, "XPENDING", "a", "g")[0] == 0 and raw_reply(r, "XPENDING", "b", "g")[0] == 0
    assert group_info(r, "a")[b"entries-read"] == 2
    consumers = [as_map(c) for c in raw_reply(r, "XINFO", "CONSUMERS", "a", "g")]
    assert consumers[0][b"name"] == b"c" and consumers[0][b"pending"] == 0


def test_xreadgroup_errors(r):
    fill(r, n=1)
    raw_reply(r, "XGROUP", "CREATE", "s", "g", "$")
    r.set("k", "v")
    cases = [
        (("XREADGROUP", "GROUP", "nog", "c", "STREAMS", "s", ">"),
         "^NOGROUP No such key 's' or consumer group 'nog' in XREADGROUP with GROUP option$"),
        (("XREADGROUP", "GROUP", "g", "c", "STREAMS", "nokey", ">"),
         "^NOGROUP No such key 'nokey' or consumer group 'g' in XREADGROUP with GROUP option$"),
        (("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "$"),
         "^The \\$ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The \\$ ID would just return an empty result set.$"),
        (("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "+"),
         "^The \\+ ID is meaningless in the context of XREADGROUP"),
        (("XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "s"),
         "^Unbalanced 'xreadgroup' list of streams: for each stream key an ID or '>' must be specified.$"),
        (("XREADGROUP", "COUNT", "1", "BLOCK", "0", "STREAMS", "s", ">"), "^Missing GROUP option for XREADGROUP$"),
        (("XREADGROUP", "GROUP", "g", "c", "STREAMS", "k", ">"), WRONGTYPE),
        (("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "x"), BAD_ID),
    ]
    for args, msg in cases:
        with pytest.raises(redis.ResponseError, match=msg):
            raw_reply(r, *args)


def test_pel_reassignment_after_setid(r):
    fill(r, n=3)
    raw_reply(r, "XGROUP", "CREATE", "s", "g", "0")
    raw_reply(r, "XREADGROUP", "GROUP", "g", "a", "STREAMS", "s", ">")
    raw_reply(r, "XGROUP", "SETID", "s", "g", "0")
    raw_reply(r, "XREADGROUP", "GROUP", "g", "b", "COUNT", "1", "STREAMS", "s", ">")
    summary = raw_reply(r, "XPENDING", "s", "g")
    assert summary == [3, b"1-0", b"3-0", [[b"a", b"2"], [b"b", b"1"]]]
    assert raw_reply(r, "XPENDING", "s", "g", "-", "+", "10", "b")[0][3] == 1     # delivery count restarts


def test_non_gt_id_never_blocks(r):
    raw_reply(r, "XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
    raw_reply(r, "XADD", "s", "666", "k", "v")
    raw_reply(r, "XDEL", "s", "666")
    for i in ("0", "600", "666", "700"):
        assert raw_reply(r, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", i) == [[b"s", []]]


# ---------------------------------------------------------------------- XACK / XPENDING
def test_xack(r):
    fill(r)
    raw_reply(r, "XGROUP", "CREATE", "s", "g", "0")
    raw_reply(r, "XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">")
    assert raw_reply(r, "XACK", "s", "g", "1-0", "1-0", "3-0", "9-0") == 2
    with pytest.raises(redis.ResponseError, match=BAD_ID):
        raw_reply(r, "XACK", "s", "g", "2-0", "bad")
    assert raw_reply(r, "XPENDING", "s", "g")[0] == 3           # nothing acked by the failed call
    assert raw_reply(r, "XACK", "s", "nog", "2-0") == 0
    assert raw_reply(r, "XACK", "nokey", "g", "bad") == 0       # no key or group: 0 before parsing IDs
    r.set("k", "v")
    with pytest.raises(redis.ResponseError, match=WRONGTYPE):
        raw_reply(r, "XACK", "k", "g", "1-0")


def test_xpending(own):
    r, pykey_server = own
    fill(r)
    raw_reply(r, "XGROUP", "CREATE", "s", "g", "0")
    assert raw_reply(r, "XPENDING", "s", "g") == [0, None, None, None]
    raw_reply(r, "XREADGROUP", "GROUP", "g", "a", "COUNT", "2", "STREAMS", "s", ">")
    pykey_server.advance(1000)
    raw_reply(r, "XREADGROUP", "GROUP", "g", "b", "STREAMS", "s", ">")
    assert raw_reply(r, "XPENDING", "s", "g") == [5, b"1-0", b"5-0", [[b"a", b"2"], [b"b", b"3"]]]
    rows = raw_reply(r, "XPENDING", "s", "g", "-", "+", "10")
    assert [(e[0], e[1], e[3]) for e in rows] == [(b"1-0", b"a", 1), (b"2-0", b"a", 1), (b"3-0", b"b", 1),
                                                  (b"4-0", b"b", 1), (b"5-0", b"b", 1)]
    assert rows[0][2] >= 1000 and rows[2][2] < 1000
    assert [e[0] for e in raw_reply(r, "XPENDING", "s", "g", "IDLE", "1000", "-", "+", "10")] == [b"1-0", b"2-0"]
    assert [e[0] for e in raw_reply(r, "XPENDING", "s", "g", "(1-0", "(5-0", "10")] == [b"2-0", b"3-0", b"4-0"]
    assert [e[0] for e in raw_reply(r, "XPENDING", "s", "g", "-", "+", "2", "b")] == [b"3-0", b"4-0"]
    assert raw_reply(r, "XPENDING", "s", "g", "-", "+", "10", "nobody") == []
    assert raw_reply(r, "XPENDING", "s", "g", "-", "+", "0") == []
    assert raw_reply(r, "XPENDING", "s", "g", "-", "+", "-5") == []
    assert raw_reply(r, "XPENDING", "s", "g", "+", "-", "10") == []
    cases = [
        (("XPENDING", "s", "g", "-"), "^syntax error$"),
        (("XPENDING", "s", "g", "IDLE", "10", "-", "+"), "^syntax error$"),
        (("XPENDING", "s", "g", "-", "+", "10", "a", "b", "c", "d"), "^syntax error$"),
        (("XPENDING", "s", "g", "IDLE", "x", "-", "+", "10"), "^value is not an integer or out of range$"),
        (("XPENDING", "s", "g", "-", "+", "x"), "^value is not an integer or out of range$"),
        (("XPENDING", "s", "g", "(-", "+", "10"), BAD_ID),
        (("XPENDING", "s", "nog"), "^NOGROUP No such key 's' or consumer group 'nog'$"),
        (("XPENDING", "nokey", "g"), "^NOGROUP No such key 'nokey' or consumer group 'g'$"),
    ]
    for args, msg in cases:
        with pytest.raises(redis.ResponseError, match=msg):
            raw_reply(r, *args)


# ---------------------------------------------------------------------- XCLAIM / XAUTOCLAIM
def test_xclaim(own):
    r, pykey_server = own
    fill(r, n=3)
    raw_reply(r, "XGROUP", "CREATE", "s", "g", "0")
    raw_reply(r, "XREADGROUP", "GROUP", "g", "a", "STREAMS", "s", ">")
    assert raw_reply(r, "XCLAIM", "s", "g", "b", "100", "1-0") == []           # not idle long enough
    pykey_server.advance(200)
    assert raw_reply(r, "XCLAIM", "s", "g", "b", "100", "1-0") == entries("1-0")
    row = raw_reply(r, "XPENDING", "s", "g", "-", "+", "10", "b")[0]
    assert (row[1], row[3]) == (b"b", 2)
    assert raw_reply(r, "XCLAIM", "s", "g", "c", "0", "1-0", "JUSTID") == [b"1-0"]
    assert raw_reply(r, "XPENDING", "s", "g", "-", "+", "10", "c")[0][3] == 2    # JUSTID does not count
    assert raw_reply(r, "XCLAIM", "s", "g", "c", "0", "2-0", "IDLE", "5000", "RETRYCOUNT", "7", "JUSTID") == [b"2-0"]
    row = raw_reply(r, "XPENDING", "s", "g", "-", "+", "10", "c")[1]
    assert row[0] == b"2-0" and row[2] >= 5000 and row[3] == 7
    assert raw_reply(r, "XCLAIM", "s", "g", "c", "0", "3-0", "TIME", "1", "JUSTID") == [b"3-0"]
    assert raw_reply(r, "XPENDING", "s", "g", "-", "+", "10", "c")[2][2] >= 1000    # TIME in the past is kept
    # FORCE creates the pending entry for an existing entry; LASTID moves the group forward
    raw_reply(r, "XADD", "s", "4-0", "f", "v")
    assert raw_reply(r, "XCLAIM", "s", "g", "d", "0", "4-0", "FORCE", "LASTID", "4-0") == entries("4-0")
    assert raw_reply(r, "XPENDING", "s", "g", "-", "+", "10", "d")[0][3] == 2
    assert group_info(r)[b"last-delivered-id"] == b"4-0"
    assert raw_reply(r, "XCLAIM", "s", "g", "d", "0", "9-0", "FORCE") == []     # no such entry
    # a deleted entry is dropped from the PEL
    raw_reply(r, "XDEL", "s", "1-0")
    assert raw_reply(r, "XCLAIM", "s", "g", "b", "0", "1-0", "2-0") == entries("2-0")
    assert raw_reply(r, "XPENDING", "s", "g")[0] == 3
    cases = [
        (("XCLAIM", "s", "g", "b", "x", "1-0"), "^Invalid min-idle-time argument for XCLAIM$"),
        (("XCLAIM", "s", "g", "b", "0", "1-0", "IDLE", "x"), "^Invalid IDLE option argument for XCLAIM$"),
        (("XCLAIM", "s", "g", "b", "0", "1-0", "TIME", "x"), "^Invalid TIME option argument for XCLAIM$"),
        (("XCLAIM", "s", "g", "b", "0", "1-0", "RETRYCOUNT", "x"), "^Invalid RETRYCOUNT option argument for XCLAIM$"),
        (("XCLAIM", "s", "g", "b", "0", "1-0", "LASTID", "x"), BAD_ID),
        (("XCLAIM", "s", "g", "b", "0", "1-0", "FOO"), "^Unrecognized XCLAIM option 'FOO'$"),
        (("XCLAIM", "s", "g", "b", "0", "1-0", "IDLE"), "^Unrecognized XCLAIM option 'IDLE'$"),
        (("XCLAIM", "s", "nog", "b", "0", "1-0"), "^NOGROUP No such key 's' or consumer group 'nog'$"),
        (("XCLAIM", "s", "g", "b", "0"), "^wrong number of arguments for 'xclaim' command$"),
    ]
    for args, msg in cases:
        with pytest.raises(redis.ResponseError, match=msg):
            raw_reply(r, *args)


def test_xautoclaim(own):
    r, pykey_server = own
    fill(r)
    raw_reply(r, "XGROUP", "CREATE", "s", "g", "0")
    raw_reply(r, "XREADGROUP", "GROUP", "g", "a", "STREAMS", "s", ">")
    assert raw_reply(r, "XAUTOCLAIM", "s", "g", "b", "100", "0") == [b"0-0", [], []]
    pykey_server.advance(200)
    assert raw_reply(r, "XAUTOCLAIM", "s", "g", "b", "100", "-", "COUNT", "2") == [b"3-0", entries("1-0", "2-0"), []]
    raw_reply(r, "XDEL", "s", "3-0", "4-0")
    assert raw_reply(r, "XAUTOCLAIM", "s", "g", "b", "0", "3-0", "COUNT", "1") == [b"4-0", [], [b"3-0"]]
    assert raw_reply(r, "XAUTOCLAIM", "s", "g", "b", "0", "(3-0", "JUSTID") == [b"0-0", [b"5-0"], [b"4-0"]]
    assert raw_reply(r, "XPENDING", "s", "g") == [3, b"1-0", b"5-0", [[b"b", b"3"]]]
    assert raw_reply(r, "XPENDING", "s", "g", "-", "+", "10")[2][3] == 1          # JUSTID: count unchanged
    cases = [
        (("XAUTOCLAIM", "s", "g", "b", "0", "0", "COUNT", "0"), "^COUNT must be > 0$"),
        (("XAUTOCLAIM", "s", "g", "b", "0", "0", "COUNT", "8070450532247928833"), "^COUNT must be > 0$"),
        (("XAUTOCLAIM", "s", "g", "b", "x", "0"), "^Invalid min-idle-time argument for XAUTOCLAIM$"),
        (("XAUTOCLAIM", "s", "g", "b", "0", "0", "FOO"), "^syntax error$"),
        (("XAUTOCLAIM", "s", "g", "b", "0", "(18446744073709551615-18446744073709551615"),
         "^invalid start ID for the interval$"),
        (("XAUTOCLAIM", "s", "nog", "b", "0", "0"), "^NOGROUP No such key 's' or consumer group 'nog'$"),
        (("XAUTOCLAIM", "nokey", "g", "b", "0", "0", "COUNT", "0"), "^COUNT must be > 0$"),
    ]
    for args, msg in cases:
        with pytest.raises(redis.ResponseError, match=msg):
            raw_reply(r, *args)


# ---------------------------------------------------------------------- XINFO GROUPS / CONSUMERS / FULL
def test_xinfo_consumers_idle_and_inactive(own):
    r, pykey_server = own
    raw_reply(r, "XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
    raw_reply(r, "XREADGROUP", "GROUP", "g", "alice", "COUNT", "1", "STREAMS", "s", ">")
    pykey_server.advance(100)
    c = as_map(raw_reply(r, "XINFO", "CONSUMERS", "s", "g")[0])
    assert list(c) == [b"name", b"pending", b"idle", b"inactive"]
    assert c[b"idle"] >= 100 and c[b"inactive"] == -1
    raw_reply(r, "XADD", "s", "*", "f", "v")
    raw_reply(r, "XREADGROUP", "GROUP", "g", "alice", "COUNT", "1", "STREAMS", "s", ">")
    pykey_server.advance(100)
    raw_reply(r, "XREADGROUP", "GROUP", "g", "alice", "COUNT", "1", "STREAMS", "s", ">")
    c = as_map(raw_reply(r, "XINFO", "CONSUMERS", "s", "g")[0])
    assert c[b"idle"] < 100 and c[b"inactive"] >= 100 and c[b"pending"] == 1
    with pytest.raises(redis.ResponseError, match="^NOGROUP No such consumer group 'nog' for key name 's'$"):
        raw_reply(r, "XINFO", "CONSUMERS", "s", "nog")
    assert raw_reply(r, "XINFO", "GROUPS", "s")[0][:2] == [b"name", b"g"]
    raw_reply(r, "XADD", "e", "1-0", "f", "v")
    assert raw_reply(r, "XINFO", "GROUPS", "e") == []


def test_xinfo_full_output(r):
    for i, f in zip((100, 101, 102, 103, 104), "abcef", strict=True):
        raw_reply(r, "XADD", "x", str(i), f, "1")
    raw_reply(r, "XGROUP", "CREATE", "x", "g1", "0")
    raw_reply(r, "XGROUP", "CREATE", "x", "g2", "0")
    raw_reply(r, "XREADGROUP", "GROUP", "g1", "Alice", "COUNT", "1", "STREAMS", "x", ">")
    raw_reply(r, "XREADGROUP", "GROUP", "g1", "Bob", "COUNT", "1", "STREAMS", "x", ">")
    raw_reply(r, "XREADGROUP", "GROUP", "g1", "Bob", "NOACK", "COUNT", "1", "STREAMS", "x", ">")
    raw_reply(r, "XREADGROUP", "GROUP", "g2", "Charlie", "COUNT", "4", "STREAMS", "x", ">")
    raw_reply(r, "XDEL", "x", "103")
    full = as_map(raw_reply(r, "XINFO", "STREAM", "x", "FULL"))
    assert full[b"length"] == 4 and len(full[b"entries"]) == 4
    g1 = as_map(full[b"groups"][0])
    assert list(g1) == [b"name", b"last-delivered-id", b"entries-read", b"lag", b"pel-count", b"pending",
                        b"consumers"]
    assert (g1[b"name"], g1[b"last-delivered-id"], g1[b"entries-read"], g1[b"lag"], g1[b"pel-count"]) == \
        (b"g1", b"102-0", 3, None, 2)
    assert [p[0:2] + [p[3]] for p in g1[b"pending"]] == [[b"100-0", b"Alice", 1], [b"101-0", b"Bob", 1]]
    alice = as_map(g1[b"consumers"][0])
    assert list(alice) == [b"name", b"seen-time", b"active-time", b"pel-count", b"pending"]
    assert alice[b"pel-count"] == 1 and alice[b"pending"][0][0] == b"100-0" and alice[b"pending"][0][2] == 1
    g2 = as_map(full[b"groups"][1])
    assert [p[0] for p in as_map(g2[b"consumers"][0])[b"pending"]] == [b"100-0", b"101-0", b"102-0", b"103-0"]
    one = as_map(raw_reply(r, "XINFO", "STREAM", "x", "FULL", "COUNT", "1"))
    assert one[b"entries"] == [[b"100-0", [b"a", b"1"]]]
    assert len(as_map(one[b"groups"][1])[b"pending"]) == 1


def test_read_counter_and_lag(r):
    for i in range(1, 6):
        raw_reply(r, "XADD", "x", f"{i}-0", "data", "a")
    raw_reply(r, "XGROUP", "CREATE", "x", "g1", "0")
    lag = []
    for count in ("1", "10"):
        raw_reply(r, "XREADGROUP", "GROUP", "g1", "c", "COUNT", count, "STREAMS", "x", ">")
        g = group_info(r, "x")
        lag.append((g[b"entries-read"], g[b"lag"]))
    raw_reply(r, "XADD", "x", "6-0", "data", "f")
    g = group_info(r, "x")
    lag.append((g[b"entries-read"], g[b"lag"]))
    assert lag == [(1, 4), (5, 0), (5, 1)]
    raw_reply(r, "XGROUP", "CREATE", "e", "g", "0", "MKSTREAM")
    assert (group_info(r, "e")[b"entries-read"], group_info(r, "e")[b"lag"]) == (None, 0)
    raw_reply(r, "XADD", "e", "1-0", "data", "a")
    raw_reply(r, "XDEL", "e", "1-0")
    assert group_info(r, "e")[b"lag"] == 0


# ---------------------------------------------------------------------- blocking XREADGROUP
def _block_reader(r, pykey_server, key="s"):
    return in_background(pykey_server, "XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", key, ">")


def test_blocking_xreadgroup_woken_by_xadd(r, pykey_server):
    raw_reply(r, "XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
    t, out = _block_reader(r, pykey_server)
    wait_blocked(r, 1)
    assert r.info("clients")["total_blocking_keys_on_nokey"] == 1
    raw_reply(r, "XADD", "s", "1-0", "f", "v")
    t.join(5)
    assert out == [[[b"s", entries("1-0")]]]
    assert raw_reply(r, "XPENDING", "s", "g")[3] == [[b"alice", b"1"]]
    assert r.info("clients")["total_blocking_keys_on_nokey"] == 0


@pytest.mark.parametrize("change,error", [
    (lambda r: r.delete("s"), "NOGROUP No such key 's' or consumer group 'g' in XREADGROUP with GROUP option"),
    (lambda r: raw_reply(r, "XGROUP", "DESTROY", "s", "g"), "NOGROUP No such key 's'"),
    (lambda r: r.set("s", "x"), "WRONGTYPE Operation against a key holding the wrong kind of value"),
    (lambda r: r.flushall(), "NOGROUP No such key 's'"),
    (lambda r: (raw_reply(r, "XADD", "s2", "1-0", "f", "v"), r.rename("s2", "s")), "NOGROUP No such key 's'"),
])
def test_blocking_xreadgroup_unblocked_with_error(r, pykey_server, change, error):
    raw_reply(r, "XADD", "s", "1-0", "f", "v")
    raw_reply(r, "XGROUP", "CREATE", "s", "g", "$")
    t, out = _block_reader(r, pykey_server)
    wait_blocked(r, 1)
    change(r)
    t.join(5)
    assert len(out) == 1 and out[0].startswith(error)
    assert int(r.info("clients")["blocked_clients"]) == 0


def test_blocking_xreadgroup_after_rename_with_group(r, pykey_server):
    raw_reply(r, "XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
    t, out = _block_reader(r, pykey_server)
    wait_blocked(r, 1)
    raw_reply(r, "XGROUP", "CREATE", "s2", "g", "$", "MKSTREAM")
    raw_reply(r, "XADD", "s2", "100", "f1", "v1")
    r.rename("s2", "s")
    t.join(5)
    assert out == [[[b"s", [[b"100-0", [b"f1", b"v1"]]]]]]


def test_blocking_xreadgroup_times_out_and_two_readers_share(r, pykey_server):
    raw_reply(r, "XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
    assert raw_reply(r, "XREADGROUP", "GROUP", "g", "a", "BLOCK", "20", "STREAMS", "s", ">") is None
    t1, out1 = in_background(pykey_server, "XREADGROUP", "GROUP", "g", "a", "BLOCK", "0", "STREAMS", "s", ">")
    wait_blocked(r, 1)
    t2, out2 = in_background(pykey_server, "XREADGROUP", "GROUP", "g", "b", "BLOCK", "0", "STREAMS", "s", ">")
    wait_blocked(r, 2)
    raw_reply(r, "XADD", "s", "1-0", "f", "v")
    t1.join(5)
    assert out1 == [[[b"s", entries("1-0")]]]
    assert t2.is_alive()                          # the entry went to the first reader only
    raw_reply(r, "XADD", "s", "2-0", "f", "v")
    t2.join(5)
    assert out2 == [[[b"s", entries("2-0")]]]


# ---------------------------------------------------------------------- propagation
@pytest.fixture
def prop(pykey_factory):
    srv = pykey_factory()
    seen: list[list[bytes]] = []
    srv.call(srv.engine.propagate_sinks.append, lambda dbid, argv: seen.append([bytes(a) for a in argv]))
    c = redis.Redis(port=srv.port, socket_timeout=10, protocol=2)
    yield c, seen, srv
    c.close()


def _claim(consumer, eid, count, lastid, when=None):
    return [b"XCLAIM", b"s", b"g", consumer, b"0", eid, b"TIME", when, b"RETRYCOUNT", count, b"FORCE",
            b"JUSTID", b"LASTID", lastid]


def _strip_time(cmds):
    return [c[:7] + [None] + c[8:] if c[0] == b"XCLAIM" else c for c in cmds]


def test_xreadgroup_propagates_claims_and_setid(prop):
    c, seen, srv = prop
    fill(c, n=3)
    raw_reply(c, "XGROUP", "CREATE", "s", "g", "0")
    del seen[:]
    raw_reply(c, "XREADGROUP", "GROUP", "g", "alice", "COUNT", "2", "STREAMS", "s", ">")
    assert _strip_time(seen) == [_claim(b"alice", b"1-0", b"1", b"1-0"), _claim(b"alice", b"2-0", b"1", b"2-0"),
                                 [b"XGROUP", b"SETID", b"s", b"g", b"2-0", b"ENTRIESREAD", b"2"]]
    del seen[:]
    raw_reply(c, "XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "0")     # history: nothing to send
    raw_reply(c, "XREADGROUP", "GROUP", "g", "bob", "NOACK", "STREAMS", "s", ">")
    assert seen == [[b"XGROUP", b"CREATECONSUMER", b"s", b"g", b"bob"],
                    [b"XGROUP", b"SETID", b"s", b"g", b"3-0", b"ENTRIESREAD", b"3"]]
    del seen[:]
    raw_reply(c, "XCLAIM", "s", "g", "carol", "0", "1-0", "JUSTID")
    assert _strip_time(seen) == [_claim(b"carol", b"1-0", b"2", b"3-0")]   # 2 deliveries: > and 0
    del seen[:]
    raw_reply(c, "XDEL", "s", "2-0")
    raw_reply(c, "XAUTOCLAIM", "s", "g", "dave", "0", "0")
    assert _strip_time(seen[1:]) == [_claim(b"dave", b"1-0", b"3", b"3-0"), _claim(b"alice", b"2-0", b"2", b"3-0")]
    del seen[:]
    raw_reply(c, "XCLAIM", "s", "g", "erin", "0", "9-0", "LASTID", "5-0")       # nothing claimed: just the position
    assert seen == [[b"XGROUP", b"SETID", b"s", b"g", b"5-0", b"ENTRIESREAD", b"3"]]
    # replaying what was propagated rebuilds the same group state
    replica = redis.Redis(port=srv.port, db=1, socket_timeout=10, protocol=2)
    try:
        c.execute_command("XADD", "t", "1-0", "f", "v")
        raw_reply(c, "XGROUP", "CREATE", "t", "g", "0")
        del seen[:]
        raw_reply(c, "XREADGROUP", "GROUP", "g", "alice", "STREAMS", "t", ">")
        sent = list(seen)
        raw_reply(replica, "XADD", "t", "1-0", "f", "v")
        raw_reply(replica, "XGROUP", "CREATE", "t", "g", "0")
        for cmd in sent:
            raw_reply(replica, *cmd)
        assert raw_reply(replica, "XPENDING", "t", "g") == raw_reply(c, "XPENDING", "t", "g")
        assert raw_reply(replica, "XINFO", "GROUPS", "t") == raw_reply(c, "XINFO", "GROUPS", "t")
    finally:
        replica.close()


# ---------------------------------------------------------------------- at-least-once under failure
def test_queue_with_a_crashed_consumer_loses_nothing(pykey_factory):
    """Producers add 10,000 messages while four consumers read and acknowledge them; one
    consumer dies midway with a batch unacknowledged, and a rescuer claims what it left."""
    srv = pykey_factory()
    admin = redis.Redis(port=srv.port, socket_timeout=10, protocol=2)
    admin.execute_command("XGROUP", "CREATE", "q", "workers", "$", "MKSTREAM")
    total = 10_000
    processed: dict[bytes, int] = {}
    lock = threading.Lock()
    produced = threading.Event()

    def produce():
        c = redis.Redis(port=srv.port, socket_timeout=10, protocol=2)
        for start in range(0, total, 500):
            pipe = c.pipeline(transaction=False)
            for i in range(start, start + 500):
                pipe.execute_command("XADD", "q", "*", "n", str(i))
            pipe.execute()
        produced.set()
        c.close()

    def consume(name: str, crash_after: int | None):
        c = redis.Redis(port=srv.port, socket_timeout=10, protocol=2)
        batches = 0
        while True:
            got = raw_reply(c, "XREADGROUP", "GROUP", "workers", name, "COUNT", "100", "BLOCK", "50", "STREAMS",
                       "q", ">")
            if got is None:
                if produced.is_set():
                    break
                continue
            msgs = got[0][1]
            batches += 1
            if crash_after is not None and batches > crash_after:
                c.close()          # dies holding this batch, never acknowledged
                return
            with lock:
                for _eid, fields in msgs:
                    processed[fields[1]] = processed.get(fields[1], 0) + 1
            raw_reply(c, "XACK", "q", "workers", *[eid for eid, _ in msgs])
        c.close()

    threads = [threading.Thread(target=produce)]
    threads += [threading.Thread(target=consume, args=(f"w{i}", 3 if i == 2 else None)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    summary = raw_reply(admin, "XPENDING", "q", "workers")
    assert summary[0] > 0 and summary[3] == [[b"w2", b"%d" % summary[0]]]
    # the rescuer walks the PEL with XAUTOCLAIM until the cursor comes back to 0-0
    cursor = b"0-0"
    rescued = 0
    while True:
        cursor, claimed, deleted = raw_reply(admin, "XAUTOCLAIM", "q", "workers", "rescuer", "0", cursor, "COUNT", "37")
        assert deleted == []
        for _eid, fields in claimed:
            processed[fields[1]] = processed.get(fields[1], 0) + 1
        if claimed:
            raw_reply(admin, "XACK", "q", "workers", *[eid for eid, _ in claimed])
        rescued += len(claimed)
        if cursor == b"0-0":
            break
    assert rescued == summary[0]
    assert set(processed) == {b"%d" % i for i in range(total)}
    assert all(n == 1 for n in processed.values())
    assert raw_reply(admin, "XPENDING", "q", "workers") == [0, None, None, None]
    g = group_info(admin, "q")
    assert (g[b"entries-read"], g[b"lag"], g[b"pending"]) == (total, 0, 0)
    srv.call(lambda: srv.engine.dbs[0].data[b"q"]._check())
    admin.close()


def test_dump_restore_keeps_groups_consumers_and_times(r):
    fill(r, n=4)
    raw_reply(r, "XDEL", "s", "2-0")
    raw_reply(r, "XGROUP", "CREATE", "s", "g", "0")
    raw_reply(r, "XREADGROUP", "GROUP", "g", "alice", "COUNT", "2", "STREAMS", "s", ">")
    raw_reply(r, "XGROUP", "CREATECONSUMER", "s", "g", "bob")
    raw_reply(r, "XGROUP", "CREATE", "s", "h", "$", "ENTRIESREAD", "3")
    before = raw_reply(r, "XINFO", "STREAM", "s", "FULL")
    payload = r.dump("s")
    r.delete("s")
    r.restore("s", 0, payload)
    assert raw_reply(r, "XINFO", "STREAM", "s", "FULL") == before
    full = as_map(before)
    assert (full[b"length"], full[b"max-deleted-entry-id"], full[b"entries-added"]) == (3, b"2-0", 4)
    g = as_map(full[b"groups"][0])
    # a tombstone behind the group's position: its read counter is unknown (Valkey's rule)
    assert (g[b"entries-read"], g[b"pel-count"], [p[0] for p in g[b"pending"]]) == (None, 2, [b"1-0", b"3-0"])
    alice, bob = (as_map(c) for c in g[b"consumers"])
    assert alice[b"active-time"] == alice[b"seen-time"] and bob[b"active-time"] == -1
    assert as_map(full[b"groups"][1])[b"entries-read"] == 3
    r.restore("copy", 0, payload)
    assert raw_reply(r, "XACK", "copy", "g", "1-0") == 1 and raw_reply(r, "XPENDING", "s", "g")[0] == 2
    bad = payload[:-12] + bytes([payload[-12] ^ 0xFF]) + payload[-11:]
    with pytest.raises(redis.ResponseError, match="^DUMP payload version or checksum are wrong$"):
        r.restore("bad", 0, bad)


def test_aof_rewrite_commands_rebuild_the_stream(r, pykey_server):
    fill(r, n=4)
    raw_reply(r, "XDEL", "s", "4-0")
    raw_reply(r, "XGROUP", "CREATE", "s", "g", "0")
    raw_reply(r, "XREADGROUP", "GROUP", "g", "alice", "COUNT", "2", "STREAMS", "s", ">")
    raw_reply(r, "XGROUP", "CREATECONSUMER", "s", "g", "bob")
    raw_reply(r, "XGROUP", "CREATE", "e", "g", "$", "MKSTREAM")
    for key in (b"s", b"e"):
        cmds = list(engine_stream(pykey_server, key).rewrite_commands(b"copy-" + key))
        for cmd in cmds:
            raw_reply(r, *cmd)
        ours = as_map(raw_reply(r, "XINFO", "STREAM", b"copy-" + key, "FULL"))
        theirs = as_map(raw_reply(r, "XINFO", "STREAM", key, "FULL"))
        for info in (ours, theirs):        # consumers' times are not part of the rewrite
            for g in info[b"groups"]:
                g[13] = [c[:2] + c[6:] for c in g[13]]
        assert ours == theirs
    assert cmds[0] == [b"XADD", b"copy-e", b"MAXLEN", b"0", b"0-1", b"x", b"y"]
