"""Stream commands without consumer groups: XADD XLEN XRANGE XREVRANGE XDEL XTRIM XREAD
XSETID XINFO STREAM, the generic key commands on streams, notifications and propagation."""
from __future__ import annotations

import time

import pytest
import redis

from pykey.testing.raw import raw_reply
from pykey.testing.waiting import in_background, wait_blocked

WRONGTYPE = "^WRONGTYPE Operation against a key holding the wrong kind of value$"
BAD_ID = "^Invalid stream ID specified as stream command argument$"


@pytest.fixture
def r(pykey_server):
    """A RESP2 client (redis-py 8 speaks RESP3 by default); RESP3 has its own tests."""
    client = redis.Redis(host=pykey_server.host, port=pykey_server.port, socket_timeout=10, protocol=2)
    client.flushall()
    yield client
    client.close()


def entries(*ids: str, f: str = "f", v: str = "v") -> list:
    return [[i.encode(), [f.encode(), v.encode()]] for i in ids]


# ---------------------------------------------------------------------- XADD
def test_xadd_explicit_and_auto_ids(r):
    assert raw_reply(r, "XADD", "s", "1-1", "a", "1") == b"1-1"
    assert raw_reply(r, "XADD", "s", "1-*", "a", "2") == b"1-2"
    assert raw_reply(r, "XADD", "s", "5", "a", "3") == b"5-0"
    auto = raw_reply(r, "XADD", "s", "*", "a", "4", "b", "5")
    ms, seq = map(int, auto.split(b"-"))
    assert ms > 5 and seq == 0
    assert raw_reply(r, "XLEN", "s") == 4
    assert raw_reply(r, "XRANGE", "s", "-", "5") == [[b"1-1", [b"a", b"1"]], [b"1-2", [b"a", b"2"]],
                                                [b"5-0", [b"a", b"3"]]]
    assert raw_reply(r, "XRANGE", "s", auto, auto) == [[auto, [b"a", b"4", b"b", b"5"]]]


def test_xadd_id_errors(r):
    raw_reply(r, "XADD", "s", "5-5", "a", "1")
    for bad in ("5-5", "5-4", "4", "4-*"):
        with pytest.raises(redis.ResponseError, match="^The ID specified in XADD is equal or smaller than the target stream top item$"):
            raw_reply(r, "XADD", "s", bad, "a", "1")
    with pytest.raises(redis.ResponseError, match="^The ID specified in XADD must be greater than 0-0$"):
        raw_reply(r, "XADD", "z", "0-0", "a", "1")
    assert not r.exists("z")
    assert raw_reply(r, "XADD", "z", "0-*", "a", "1") == b"0-1"
    for bad in ("-", "+", "abc", "1-x", "-1", "1-2-3x"):
        with pytest.raises(redis.ResponseError, match=BAD_ID):
            raw_reply(r, "XADD", "s", bad, "a", "1")
    raw_reply(r, "XADD", "m", "1-18446744073709551615", "a", "1")
    with pytest.raises(redis.ResponseError, match="equal or smaller"):
        raw_reply(r, "XADD", "m", "1-*", "a", "1")
    assert raw_reply(r, "XADD", "m", "*", "a", "1").endswith(b"-0")
    raw_reply(r, "XADD", "e", "18446744073709551615-18446744073709551615", "a", "1")
    with pytest.raises(redis.ResponseError, match="^The stream has exhausted the last possible ID, unable to add more items$"):
        raw_reply(r, "XADD", "e", "*", "a", "1")


def test_xadd_arity_and_syntax(r):
    for args in (("XADD", "s"), ("XADD", "s", "*"), ("XADD", "s", "*", "f"), ("XADD", "s", "*", "f", "v", "g"),
                 ("XADD", "s", "MAXLEN", "5"), ("XADD", "s", "NOMKSTREAM", "*", "f")):
        with pytest.raises(redis.ResponseError, match="^wrong number of arguments for 'xadd' command$"):
            raw_reply(r, *args)
    with pytest.raises(redis.ResponseError, match="^syntax error, MAXLEN and MINID options at the same time are not compatible$"):
        raw_reply(r, "XADD", "s", "MAXLEN", "1", "MINID", "0", "*", "f", "v")
    with pytest.raises(redis.ResponseError, match="^The MAXLEN argument must be >= 0.$"):
        raw_reply(r, "XADD", "s", "MAXLEN", "-1", "*", "f", "v")
    with pytest.raises(redis.ResponseError, match="^value is not an integer or out of range$"):
        raw_reply(r, "XADD", "s", "MAXLEN", "x", "*", "f", "v")
    with pytest.raises(redis.ResponseError, match="^The LIMIT argument must be >= 0.$"):
        raw_reply(r, "XADD", "s", "MAXLEN", "~", "1", "LIMIT", "-1", "*", "f", "v")
    with pytest.raises(redis.ResponseError, match="^syntax error, LIMIT cannot be used without specifying a trimming strategy$"):
        raw_reply(r, "XADD", "s", "LIMIT", "5", "*", "f", "v")
    with pytest.raises(redis.ResponseError, match="^syntax error, LIMIT cannot be used without the special ~ option$"):
        raw_reply(r, "XADD", "s", "MAXLEN", "1", "LIMIT", "5", "*", "f", "v")
    assert not r.exists("s")


def test_xadd_nomkstream(r):
    assert raw_reply(r, "XADD", "s", "NOMKSTREAM", "*", "a", "1") is None
    assert not r.exists("s")
    raw_reply(r, "XADD", "s", "1", "a", "1")
    assert raw_reply(r, "XADD", "s", "nomkstream", "2", "a", "2") == b"2-0"
    assert raw_reply(r, "XLEN", "s") == 2


def test_xadd_maxlen_and_minid(r):
    for j in range(100):
        raw_reply(r, "XADD", "s", "MAXLEN", "5", "*", "x", str(j))
    assert [e[1][1] for e in raw_reply(r, "XRANGE", "s", "-", "+")] == [b"95", b"96", b"97", b"98", b"99"]
    for j in range(1, 101):
        raw_reply(r, "XADD", "m", "MINID", "=", str(max(j - 5, 0)), str(j), "x", str(j))
    assert [e[0] for e in raw_reply(r, "XRANGE", "m", "-", "+")] == [b"95-0", b"96-0", b"97-0", b"98-0", b"99-0",
                                                               b"100-0"]
    assert raw_reply(r, "XADD", "e", "MAXLEN", "0", "*", "a", "b")
    assert raw_reply(r, "XLEN", "e") == 0 and r.exists("e") == 1


def test_xadd_approximate_trim_keeps_whole_nodes(r):
    r.config_set("stream-node-max-entries", 100)
    for j in range(1000):
        raw_reply(r, "XADD", "s", "MAXLEN", "~", "555", "*", "x", str(j))
    assert raw_reply(r, "XLEN", "s") == 600
    r.config_set("stream-node-max-entries", 10)
    try:
        for _ in range(100):
            raw_reply(r, "XADD", "t", "*", "x", "v")
        raw_reply(r, "XADD", "t", "MAXLEN", "~", "55", "LIMIT", "30", "*", "x", "v")
        assert raw_reply(r, "XLEN", "t") == 71
        raw_reply(r, "XADD", "t", "MAXLEN", "~", "55", "LIMIT", "30", "*", "x", "v")
        assert raw_reply(r, "XLEN", "t") == 62
    finally:
        r.config_set("stream-node-max-entries", 100)


def test_xadd_wrongtype(r):
    r.set("k", "v")
    with pytest.raises(redis.ResponseError, match=WRONGTYPE):
        raw_reply(r, "XADD", "k", "*", "a", "1")
    with pytest.raises(redis.ResponseError, match=WRONGTYPE):
        raw_reply(r, "XADD", "k", "NOMKSTREAM", "*", "a", "1")


# ---------------------------------------------------------------------- XRANGE / XREVRANGE / XLEN
def fill(r, key="s", n=5):
    for i in range(1, n + 1):
        raw_reply(r, "XADD", key, f"{i}-0", "f", "v")


def test_xrange_bounds_and_count(r):
    fill(r)
    raw_reply(r, "XADD", "s", "5-1", "f", "v")
    assert raw_reply(r, "XRANGE", "s", "-", "+", "COUNT", "2") == entries("1-0", "2-0")
    assert raw_reply(r, "XRANGE", "s", "2", "4") == entries("2-0", "3-0", "4-0")
    assert raw_reply(r, "XRANGE", "s", "5", "5") == entries("5-0", "5-1")          # <ms> end covers every seq
    assert raw_reply(r, "XRANGE", "s", "(1-0", "(4-0") == entries("2-0", "3-0")
    assert raw_reply(r, "XRANGE", "s", "(5", "+") == entries("5-1")
    assert raw_reply(r, "XRANGE", "s", "4", "2") == []
    assert raw_reply(r, "XRANGE", "s", "-", "+", "COUNT", "0") is None
    assert raw_reply(r, "XRANGE", "s", "-", "+", "COUNT", "-3") is None
    assert raw_reply(r, "XRANGE", "s", "-", "+", "count", "2", "COUNT", "1") == entries("1-0")
    assert raw_reply(r, "XREVRANGE", "s", "+", "-", "COUNT", "2") == entries("5-1", "5-0")
    assert raw_reply(r, "XREVRANGE", "s", "(5-0", "(1") == entries("4-0", "3-0", "2-0")
    assert raw_reply(r, "XRANGE", "nokey", "-", "+") == []
    assert raw_reply(r, "XRANGE", "nokey", "-", "+", "COUNT", "0") == []     # the key is looked up first


def test_xrange_errors(r):
    fill(r)
    with pytest.raises(redis.ResponseError, match="^invalid start ID for the interval$"):
        raw_reply(r, "XRANGE", "s", "(18446744073709551615-18446744073709551615", "+")
    with pytest.raises(redis.ResponseError, match="^invalid end ID for the interval$"):
        raw_reply(r, "XRANGE", "s", "-", "(0-0")
    for bad in (("(-", "+"), ("-", "(+"), ("x", "+"), ("-", "1-x")):
        with pytest.raises(redis.ResponseError, match=BAD_ID):
            raw_reply(r, "XRANGE", "s", *bad)
    with pytest.raises(redis.ResponseError, match="^syntax error$"):
        raw_reply(r, "XRANGE", "s", "-", "+", "COUNT")
    with pytest.raises(redis.ResponseError, match="^value is not an integer or out of range$"):
        raw_reply(r, "XRANGE", "s", "-", "+", "COUNT", "x")
    r.set("k", "v")
    for cmd in ("XRANGE", "XREVRANGE"):
        with pytest.raises(redis.ResponseError, match=WRONGTYPE):
            raw_reply(r, cmd, "k", "-", "+")
    with pytest.raises(redis.ResponseError, match=WRONGTYPE):
        raw_reply(r, "XLEN", "k")
    assert raw_reply(r, "XLEN", "nokey") == 0


def test_xrange_across_many_nodes(r):
    r.config_set("stream-node-max-entries", 3)
    try:
        pipe = r.pipeline(transaction=False)
        for i in range(1, 101):
            pipe.execute_command("XADD", "s", f"{i}-{i % 3}", "n", str(i))
        pipe.execute()
        got = raw_reply(r, "XRANGE", "s", "17", "42")
        assert [int(e[1][1]) for e in got] == list(range(17, 43))
        got = raw_reply(r, "XREVRANGE", "s", "42", "17", "COUNT", "5")
        assert [int(e[1][1]) for e in got] == [42, 41, 40, 39, 38]
        assert raw_reply(r, "XINFO", "STREAM", "s")[3] == 34        # radix-tree-keys
    finally:
        r.config_set("stream-node-max-entries", 100)


# ---------------------------------------------------------------------- XDEL / XTRIM
def test_xdel(r):
    fill(r)
    assert raw_reply(r, "XDEL", "s", "1-0", "4-0", "9-0", "4-0") == 2
    assert raw_reply(r, "XLEN", "s") == 3
    assert raw_reply(r, "XRANGE", "s", "-", "+") == entries("2-0", "3-0", "5-0")
    info = dict(zip(*[iter(raw_reply(r, "XINFO", "STREAM", "s"))] * 2, strict=True))
    assert info[b"max-deleted-entry-id"] == b"4-0" and info[b"recorded-first-entry-id"] == b"2-0"
    assert raw_reply(r, "XDEL", "nokey", "1-0") == 0
    assert raw_reply(r, "XDEL", "nokey", "bad") == 0       # the key is looked up before the IDs are parsed
    with pytest.raises(redis.ResponseError, match=BAD_ID):
        raw_reply(r, "XDEL", "s", "2-0", "bad")
    assert raw_reply(r, "XLEN", "s") == 3                   # all IDs are checked before deleting
    assert raw_reply(r, "XDEL", "s", "2-0", "3-0", "5-0") == 3
    assert r.exists("s") == 1 and raw_reply(r, "XLEN", "s") == 0   # an emptied stream stays


def test_xtrim(r):
    for j in range(1000):
        raw_reply(r, "XADD", "s", "*", "x", str(j))
    assert raw_reply(r, "XTRIM", "s", "MAXLEN", "666") == 334
    assert raw_reply(r, "XTRIM", "s", "MAXLEN", "=", "555") == 111
    assert raw_reply(r, "XTRIM", "s", "MAXLEN", "~", "444") == 55
    assert raw_reply(r, "XLEN", "s") == 500
    assert raw_reply(r, "XTRIM", "s", "MAXLEN", "~", "400") == 100
    fill(r, "m")
    assert raw_reply(r, "XTRIM", "m", "MINID", "3-0") == 2
    assert raw_reply(r, "XRANGE", "m", "-", "+") == entries("3-0", "4-0", "5-0")
    assert raw_reply(r, "XTRIM", "nokey", "MAXLEN", "0") == 0
    with pytest.raises(redis.ResponseError, match="^syntax error, XTRIM must be called with a trimming strategy$"):
        raw_reply(r, "XTRIM", "s", "LIMIT", "0")
    with pytest.raises(redis.ResponseError, match="^syntax error$"):
        raw_reply(r, "XTRIM", "s", "MAXLEN", "1", "NOMKSTREAM")
    with pytest.raises(redis.ResponseError, match=BAD_ID):
        raw_reply(r, "XTRIM", "s", "MINID", "+")
    r.set("k", "v")
    with pytest.raises(redis.ResponseError, match=WRONGTYPE):
        raw_reply(r, "XTRIM", "k", "MAXLEN", "1")


def test_xtrim_limit(r):
    r.config_set("stream-node-max-entries", 1)
    try:
        for _ in range(102):
            raw_reply(r, "XADD", "s", "*", "x", "v")
        assert raw_reply(r, "XTRIM", "s", "MAXLEN", "~", "1") == 100      # default limit: 100 nodes
        assert raw_reply(r, "XLEN", "s") == 2
        r.config_set("stream-node-max-entries", 2)
        r.delete("t")
        for _ in range(3):
            raw_reply(r, "XADD", "t", "*", "x", "v")
        assert raw_reply(r, "XTRIM", "t", "MAXLEN", "~", "0", "LIMIT", "1") == 0
        assert raw_reply(r, "XTRIM", "t", "MAXLEN", "~", "0", "LIMIT", "2") == 2
    finally:
        r.config_set("stream-node-max-entries", 100)


# ---------------------------------------------------------------------- XREAD
def test_xread_non_blocking(r):
    fill(r, "a", 3)
    fill(r, "b", 2)
    assert raw_reply(r, "XREAD", "COUNT", "2", "STREAMS", "a", "b", "0", "1") == [
        [b"a", entries("1-0", "2-0")], [b"b", entries("2-0")]]
    assert raw_reply(r, "XREAD", "STREAMS", "a", "nokey", "3", "0") is None
    assert raw_reply(r, "XREAD", "STREAMS", "a", "$") is None
    assert raw_reply(r, "XREAD", "STREAMS", "a", "b", "+", "+") == [[b"a", entries("3-0")], [b"b", entries("2-0")]]
    assert raw_reply(r, "XREAD", "STREAMS", "nokey", "+") is None
    assert raw_reply(r, "XREAD", "COUNT", "0", "STREAMS", "a", "1") == [[b"a", entries("2-0", "3-0")]]


def test_xread_resp3_is_a_map(pykey_server):
    c = redis.Redis(port=pykey_server.port, protocol=3)
    try:
        c.execute_command("XADD", "r3", "1-0", "f", "v")
        got = raw_reply(c, "XREAD", "STREAMS", "r3", "0")
        assert got == {b"r3": [[b"1-0", [b"f", b"v"]]]}
    finally:
        c.delete("r3")
        c.close()


def test_xread_resp3_repeated_key_keeps_both_entries(pykey_server):
    import socket
    with socket.create_connection((pykey_server.host, pykey_server.port), timeout=5) as sock:
        def call(*args: bytes) -> bytes:
            sock.sendall(b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args))
            time.sleep(0.05)
            return sock.recv(65536)
        call(b"HELLO", b"3")
        call(b"XADD", b"dup", b"1-0", b"f", b"v")
        got = call(b"XREAD", b"STREAMS", b"dup", b"dup", b"0", b"0")
        call(b"DEL", b"dup")
    entry = b"*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n"
    assert got == b"%2\r\n" + (b"$3\r\ndup\r\n" + entry) * 2


def test_xread_errors(r):
    fill(r, "a", 1)
    cases = [
        (("XREAD", "STREAMS", "a"), "^wrong number of arguments for 'xread' command$"),
        (("XREAD", "COUNT", "1", "STREAMS", "a", "b", "0"),
         "^Unbalanced 'xread' list of streams: for each stream key an ID or '\\$' must be specified.$"),
        (("XREAD", "GROUP", "g", "c", "STREAMS", "a", "0"),
         "^The GROUP option is only supported by XREADGROUP. You called XREAD instead.$"),
        (("XREAD", "NOACK", "STREAMS", "a", "0"),
         "^The NOACK option is only supported by XREADGROUP. You called XREAD instead.$"),
        (("XREAD", "STREAMS", "a", ">"),
         "^The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.$"),
        (("XREAD", "FOO", "STREAMS", "a", "0"), "^syntax error$"),
        (("XREAD", "COUNT", "1", "a", "0"), "^syntax error$"),
        (("XREAD", "BLOCK", "x", "STREAMS", "a", "0"), "^timeout is not an integer or out of range$"),
        (("XREAD", "BLOCK", "-1", "STREAMS", "a", "0"), "^timeout is negative$"),
        (("XREAD", "STREAMS", "a", "-"), BAD_ID),
    ]
    for args, msg in cases:
        with pytest.raises(redis.ResponseError, match=msg):
            raw_reply(r, *args)
    raw_reply(r, "XGROUP", "CREATE", "e", "g", "$", "MKSTREAM")
    with pytest.raises(redis.ResponseError, match="^the stream last element ID is 0-0$"):
        raw_reply(r, "XREAD", "STREAMS", "e", "+")
    r.set("k", "v")
    with pytest.raises(redis.ResponseError, match=WRONGTYPE):
        raw_reply(r, "XREAD", "STREAMS", "a", "k", "0", "0")


def test_xread_block_woken_by_xadd(r, pykey_server):
    raw_reply(r, "XADD", "b", "1-0", "old", "x")
    t, out = in_background(pykey_server, "XREAD", "BLOCK", "0", "STREAMS", "a", "b", "c", "$", "$", "$")
    wait_blocked(r, 1)
    raw_reply(r, "XADD", "b", "2-0", "new", "y")
    t.join(5)
    assert out == [[[b"b", [[b"2-0", [b"new", b"y"]]]]]]


def test_xread_block_dollar_is_pinned_at_block_time(r, pykey_server):
    raw_reply(r, "XADD", "s", "666-0", "f", "v")
    t, out = in_background(pykey_server, "XREAD", "BLOCK", "0", "STREAMS", "s", "$")
    wait_blocked(r, 1)
    r.delete("s")                                  # a deleted key does not wake XREAD
    time.sleep(0.05)
    assert t.is_alive()
    raw_reply(r, "XADD", "s", "667-0", "f", "v")
    t.join(5)
    assert out == [[[b"s", entries("667-0")]]]


def test_xread_block_ignores_other_types_and_times_out(r, pykey_server):
    t, out = in_background(pykey_server, "XREAD", "BLOCK", "0", "STREAMS", "s", "$")
    wait_blocked(r, 1)
    r.rpush("s", "x")
    time.sleep(0.05)
    assert t.is_alive()
    r.delete("s")
    raw_reply(r, "XADD", "s", "1-0", "f", "v")
    t.join(5)
    assert out == [[[b"s", entries("1-0")]]]
    t0 = time.time()
    assert raw_reply(r, "XREAD", "BLOCK", "50", "STREAMS", "s", "$") is None
    assert time.time() - t0 >= 0.04
    r.set("str", "x")
    assert raw_reply(r, "XREAD", "BLOCK", "10", "STREAMS", "s", "+") == [[b"s", entries("1-0")]]


def test_xread_block_in_multi_does_not_block(r):
    conn = r.connection_pool.get_connection()
    try:
        for cmd in (("MULTI",), ("XREAD", "BLOCK", "0", "STREAMS", "s", "$"), ("EXEC",)):
            conn.send_command(*cmd)
        assert [conn.read_response() for _ in range(3)] == [b"OK", b"QUEUED", [None]]
    finally:
        r.connection_pool.release(conn)


def test_xread_block_sees_all_entries_of_a_transaction(r, pykey_server):
    raw_reply(r, "XADD", "s", "1-0", "f", "v")
    t, out = in_background(pykey_server, "XREAD", "BLOCK", "0", "STREAMS", "s", "s", "$", "$")
    wait_blocked(r, 1)
    pipe = r.pipeline(transaction=True)
    for i in (2, 3, 4):
        pipe.execute_command("XADD", "s", f"{i}-0", "f", "v")
    pipe.execute()
    t.join(5)
    assert out == [[[b"s", entries("2-0", "3-0", "4-0")], [b"s", entries("2-0", "3-0", "4-0")]]]


# ---------------------------------------------------------------------- XSETID
def test_xsetid(r):
    raw_reply(r, "XADD", "s", "MAXLEN", "0", "*", "a", "b")
    assert raw_reply(r, "XSETID", "s", "200-0") == b"OK"
    info = dict(zip(*[iter(raw_reply(r, "XINFO", "STREAM", "s"))] * 2, strict=True))
    assert info[b"last-generated-id"] == b"200-0" and info[b"entries-added"] == 1
    fill(r, "x", 3)
    raw_reply(r, "XDEL", "x", "2-0", "3-0")
    cases = [
        (("XSETID", "x", "1-0"), "^The ID specified in XSETID is smaller than current max_deleted_entry_id$"),
        (("XSETID", "nokey", "1-1"), "^no such key$"),
        (("XSETID", "x", "5-0", "0"), "^syntax error$"),
        (("XSETID", "x", "5-0", "ENTRIESADDED", "-1", "MAXDELETEDID", "0-0"), "^entries_added must be positive$"),
        (("XSETID", "x", "5-0", "ENTRIESADDED", "3", "MAXDELETEDID", "6-0"),
         "^The ID specified in XSETID is smaller than the provided max_deleted_entry_id$"),
        (("XSETID", "x", "5-0", "ENTRIESADDED", "0"),
         "^The entries_added specified in XSETID is smaller than the target stream length$"),
        (("XSETID", "x", "-"), BAD_ID),
    ]
    for args, msg in cases:
        with pytest.raises(redis.ResponseError, match=msg):
            raw_reply(r, *args)
    assert raw_reply(r, "XSETID", "x", "9-9", "ENTRIESADDED", "10", "MAXDELETEDID", "8-0") == b"OK"
    info = dict(zip(*[iter(raw_reply(r, "XINFO", "STREAM", "x"))] * 2, strict=True))
    assert (info[b"last-generated-id"], info[b"entries-added"], info[b"max-deleted-entry-id"]) == (b"9-9", 10, b"8-0")
    with pytest.raises(redis.ResponseError, match="^The ID specified in XSETID is smaller than current max_deleted_entry_id$"):
        raw_reply(r, "XSETID", "x", "0-5")
    fill(r, "y", 3)
    with pytest.raises(redis.ResponseError, match="^The ID specified in XSETID is smaller than the target stream top item$"):
        raw_reply(r, "XSETID", "y", "2-0")
    assert raw_reply(r, "XSETID", "y", "3-0") == b"OK"


# ---------------------------------------------------------------------- XINFO STREAM
def info_map(reply):
    return dict(zip(*[iter(reply)] * 2, strict=True))


def test_xinfo_stream(r):
    assert raw_reply(r, "XADD", "s", "1-0", "a", "1") == b"1-0"
    raw_reply(r, "XADD", "s", "2-0", "b", "2")
    info = info_map(raw_reply(r, "XINFO", "STREAM", "s"))
    assert list(info) == [b"length", b"radix-tree-keys", b"radix-tree-nodes", b"last-generated-id",
                          b"max-deleted-entry-id", b"entries-added", b"recorded-first-entry-id", b"groups",
                          b"first-entry", b"last-entry"]
    assert info[b"length"] == 2 and info[b"radix-tree-keys"] == 1 and info[b"radix-tree-nodes"] == 2
    assert info[b"first-entry"] == [b"1-0", [b"a", b"1"]] and info[b"last-entry"] == [b"2-0", [b"b", b"2"]]
    raw_reply(r, "XDEL", "s", "1-0", "2-0")
    info = info_map(raw_reply(r, "XINFO", "STREAM", "s"))
    assert info[b"first-entry"] is None and info[b"last-entry"] is None and info[b"radix-tree-keys"] == 0
    full = info_map(raw_reply(r, "XINFO", "STREAM", "s", "FULL"))
    assert list(full) == [b"length", b"radix-tree-keys", b"radix-tree-nodes", b"last-generated-id",
                          b"max-deleted-entry-id", b"entries-added", b"recorded-first-entry-id", b"entries",
                          b"groups"]
    assert full[b"entries"] == [] and full[b"groups"] == []
    for i in range(3, 20):
        raw_reply(r, "XADD", "s", f"{i}-0", "f", "v")
    assert len(info_map(raw_reply(r, "XINFO", "STREAM", "s", "FULL"))[b"entries"]) == 10
    assert len(info_map(raw_reply(r, "XINFO", "STREAM", "s", "FULL", "COUNT", "0"))[b"entries"]) == 17
    assert len(info_map(raw_reply(r, "XINFO", "STREAM", "s", "FULL", "COUNT", "3"))[b"entries"]) == 3
    for bad in (("FULL", "COUNT"), ("COUNT", "3", "FULL"), ("FOO",)):
        with pytest.raises(redis.ResponseError, match="^unknown subcommand or wrong number of arguments for 'STREAM'. Try XINFO HELP.$"):
            raw_reply(r, "XINFO", "STREAM", "s", *bad)
    with pytest.raises(redis.ResponseError, match="^no such key$"):
        raw_reply(r, "XINFO", "STREAM", "nokey")
    r.set("k", "v")
    with pytest.raises(redis.ResponseError, match=WRONGTYPE):
        raw_reply(r, "XINFO", "STREAM", "k")


def test_xinfo_help(r):
    lines = raw_reply(r, "XINFO", "HELP")
    assert lines[0] == b"XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    assert b"STREAM <key> [FULL [COUNT <count>]" in lines and lines[-2:] == [b"HELP", b"    Print this help."]
    with pytest.raises(redis.ResponseError, match="^wrong number of arguments for 'xinfo\\|help' command$"):
        raw_reply(r, "XINFO", "HELP", "x")
    with pytest.raises(redis.ResponseError, match="^unknown subcommand 'FOO'. Try XINFO HELP.$"):
        raw_reply(r, "XINFO", "FOO", "s")


# ---------------------------------------------------------------------- generic key commands
def test_type_encoding_copy_rename_memory_digest(r):
    fill(r, "s", 3)
    raw_reply(r, "XGROUP", "CREATE", "s", "g", "0")
    raw_reply(r, "XREADGROUP", "GROUP", "g", "c", "COUNT", "2", "STREAMS", "s", ">")
    assert r.type("s") == b"stream"
    assert r.object("encoding", "s") == b"stream"
    assert r.copy("s", "s2") == 1
    raw_reply(r, "XACK", "s2", "g", "1-0")
    raw_reply(r, "XADD", "s2", "9-0", "f", "v")
    assert raw_reply(r, "XLEN", "s") == 3 and raw_reply(r, "XLEN", "s2") == 4
    assert raw_reply(r, "XPENDING", "s", "g")[0] == 2 and raw_reply(r, "XPENDING", "s2", "g")[0] == 1
    assert r.execute_command("DEBUG", "DIGEST-VALUE", "s") != r.execute_command("DEBUG", "DIGEST-VALUE", "s2")
    raw_reply(r, "XDEL", "s2", "9-0")
    assert r.execute_command("DEBUG", "DIGEST-VALUE", "s") == r.execute_command("DEBUG", "DIGEST-VALUE", "s2")
    assert r.memory_usage("s") > 100
    r.rename("s", "s3")
    assert raw_reply(r, "XRANGE", "s3", "-", "+") == entries("1-0", "2-0", "3-0")
    assert r.scan(0, _type="stream")[1] and set(r.scan(0, _type="stream")[1]) == {b"s2", b"s3"}
    r.expire("s3", 100)
    assert r.ttl("s3") > 0


# ---------------------------------------------------------------------- notifications
def test_keyspace_events(r, pykey_server):
    r.config_set("notify-keyspace-events", "KEt")
    p = r.pubsub()
    p.psubscribe("__keyevent@0__:*")
    p.get_message(timeout=1)
    try:
        raw_reply(r, "XADD", "s", "MAXLEN", "1", "1-0", "f", "v")
        raw_reply(r, "XADD", "s", "MAXLEN", "1", "2-0", "f", "v")
        raw_reply(r, "XDEL", "s", "2-0")
        raw_reply(r, "XDEL", "s", "2-0")                         # nothing deleted: no event
        raw_reply(r, "XADD", "s", "3-0", "f", "v")
        raw_reply(r, "XTRIM", "s", "MAXLEN", "0")
        raw_reply(r, "XSETID", "s", "10-0")
        raw_reply(r, "XGROUP", "CREATE", "s", "g", "$")
        raw_reply(r, "XGROUP", "CREATECONSUMER", "s", "g", "c")
        raw_reply(r, "XGROUP", "SETID", "s", "g", "0")
        raw_reply(r, "XGROUP", "DELCONSUMER", "s", "g", "c")
        raw_reply(r, "XGROUP", "DESTROY", "s", "g")
        raw_reply(r, "XGROUP", "CREATE", "s", "g", "$")
        raw_reply(r, "XREADGROUP", "GROUP", "g", "new", "STREAMS", "s", ">")
        got = []
        deadline = time.time() + 2
        while time.time() < deadline and len(got) < 14:
            m = p.get_message(timeout=0.2)
            if m and m["type"] == "pmessage":
                got.append(m["channel"].split(b":", 1)[1].decode())
        assert got == ["xadd", "xadd", "xtrim", "xdel", "xadd", "xtrim", "xsetid", "xgroup-create",
                       "xgroup-createconsumer", "xgroup-setid", "xgroup-delconsumer", "xgroup-destroy",
                       "xgroup-create", "xgroup-createconsumer"]
    finally:
        p.close()
        r.config_set("notify-keyspace-events", "")


# ---------------------------------------------------------------------- propagation
@pytest.fixture
def prop(pykey_factory):
    """A dedicated server whose propagated commands are collected."""
    srv = pykey_factory()
    seen: list[list[bytes]] = []
    srv.call(srv.engine.propagate_sinks.append, lambda dbid, argv: seen.append([bytes(a) for a in argv]))
    c = redis.Redis(port=srv.port, socket_timeout=10, protocol=2)
    yield c, seen
    c.close()


def test_xadd_propagates_the_generated_id_and_exact_trim(prop):
    c, seen = prop
    auto = raw_reply(c, "XADD", "s", "*", "f", "v")
    assert seen[-1] == [b"XADD", b"s", auto, b"f", b"v"]
    raw_reply(c, "XADD", "s", "5000000000000-*", "f", "v")
    assert seen[-1] == [b"XADD", b"s", b"5000000000000-0", b"f", b"v"]
    raw_reply(c, "xadd", "s", "5000000000001-0", "f", "v")
    assert seen[-1] == [b"xadd", b"s", b"5000000000001-0", b"f", b"v"]
    c.config_set("stream-node-max-entries", 10)
    for i in range(100):
        raw_reply(c, "XADD", "t", f"{i + 1}-0", "x", "v")
    raw_reply(c, "XADD", "t", "MAXLEN", "~", "55", "LIMIT", "30", "*", "x", "v")
    assert seen[-1][:7] == [b"XADD", b"t", b"MAXLEN", b"=", b"71", b"LIMIT", b"30"]
    raw_reply(c, "XADD", "t", "MINID", "~", "50", "*", "x", "v")
    assert seen[-1][2:5] == [b"MINID", b"=", b"41-0"]
    raw_reply(c, "XTRIM", "t", "MAXLEN", "~", "25")
    assert seen[-1] == [b"XTRIM", b"t", b"MAXLEN", b"=", b"32"]
    n = len(seen)
    raw_reply(c, "XTRIM", "t", "MAXLEN", "~", "25")        # nothing trimmed: nothing propagated
    assert len(seen) == n
    raw_reply(c, "XTRIM", "t", "MAXLEN", "1")
    assert seen[-1] == [b"XTRIM", b"t", b"MAXLEN", b"1"]
