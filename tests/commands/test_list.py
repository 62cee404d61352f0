"""List commands: replies, errors and encodings as Valkey gives them."""
import pytest
import redis

from pykey.datatypes.listtype import LP_HEADER, ListType, entry_size

WRONGTYPE = "^WRONGTYPE Operation against a key holding the wrong kind of value$"


def test_push_and_range(r):
    assert r.rpush("l", "a", "b", "c") == 3
    assert r.lpush("l", "x", "y") == 5
    assert r.lrange("l", 0, -1) == [b"y", b"x", b"a", b"b", b"c"]
    assert r.lrange("l", -2, 100) == [b"b", b"c"]
    assert r.lrange("l", -100, 1) == [b"y", b"x"]
    assert r.lrange("l", 3, 1) == []
    assert r.lrange("l", 5, 10) == []
    assert r.lrange("nokey", 0, -1) == []
    assert r.llen("l") == 5 and r.llen("nokey") == 0


def test_pushx(r):
    assert r.lpushx("l", "a") == 0 and not r.exists("l")
    assert r.rpushx("l", "a") == 0 and not r.exists("l")
    r.rpush("l", "m")
    assert r.lpushx("l", "a", "b") == 3
    assert r.rpushx("l", "z") == 4
    assert r.lrange("l", 0, -1) == [b"b", b"a", b"m", b"z"]


def test_pop(r):
    r.rpush("l", "a", "b", "c", "d", "e")
    assert r.lpop("l") == b"a"
    assert r.rpop("l") == b"e"
    assert r.lpop("l", 2) == [b"b", b"c"]
    assert r.execute_command("LPOP", "l", 0) == []
    assert r.rpop("l", 10) == [b"d"]
    assert not r.exists("l")
    assert r.lpop("l") is None
    assert r.execute_command("LPOP", "l", 3) is None
    assert r.execute_command("RPOP", "l", 0) is None


def test_pop_errors(r):
    r.rpush("l", "a")
    for bad in ("-1", "x"):
        with pytest.raises(redis.ResponseError, match="^value is out of range, must be positive$"):
            r.execute_command("LPOP", "l", bad)
    with pytest.raises(redis.ResponseError, match="^wrong number of arguments for 'rpop' command$"):
        r.execute_command("RPOP", "l", 1, 2)


def test_wrongtype(r):
    r.set("s", "x")
    for args in (("LPUSH", "s", "a"), ("RPUSHX", "s", "a"), ("LPOP", "s"), ("LLEN", "s"), ("LRANGE", "s", 0, 1),
                 ("LINDEX", "s", "notint"), ("LSET", "s", 0, "a"), ("LINSERT", "s", "BEFORE", "a", "b"),
                 ("LREM", "s", 0, "a"), ("LTRIM", "s", 0, 1), ("LPOS", "s", "a"), ("LMPOP", 1, "s", "LEFT")):
        with pytest.raises(redis.ResponseError, match=WRONGTYPE):
            r.execute_command(*args)


def test_lindex_lset(r):
    r.rpush("l", "a", "b", "c")
    assert r.lindex("l", 0) == b"a" and r.lindex("l", -1) == b"c"
    assert r.lindex("l", 3) is None and r.lindex("l", -4) is None
    assert r.lindex("nokey", "notint") is None   # lookup happens before parsing
    with pytest.raises(redis.ResponseError, match="^value is not an integer or out of range$"):
        r.lindex("l", "x")
    assert r.lset("l", -1, "z") is True
    assert r.lrange("l", 0, -1) == [b"a", b"b", b"z"]
    with pytest.raises(redis.ResponseError, match="^index out of range$"):
        r.lset("l", 3, "q")
    with pytest.raises(redis.ResponseError, match="^no such key$"):
        r.lset("nokey", 0, "q")


def test_linsert(r):
    with pytest.raises(redis.ResponseError, match="^syntax error$"):
        r.execute_command("LINSERT", "l", "middle", "a", "b")
    assert r.linsert("l", "before", "a", "b") == 0
    r.rpush("l", "a", "c")
    assert r.linsert("l", "after", "a", "b") == 3
    assert r.linsert("l", "BEFORE", "a", "0") == 4
    assert r.linsert("l", "before", "zz", "0") == -1
    assert r.lrange("l", 0, -1) == [b"0", b"a", b"b", b"c"]


def test_lrem(r):
    r.rpush("l", "a", "b", "a", "c", "a", "b")
    assert r.lrem("l", -1, "a") == 1
    assert r.lrange("l", 0, -1) == [b"a", b"b", b"a", b"c", b"b"]
    assert r.lrem("l", 1, "b") == 1
    assert r.lrange("l", 0, -1) == [b"a", b"a", b"c", b"b"]
    assert r.lrem("l", 0, "a") == 2
    assert r.lrem("l", 0, "zz") == 0
    assert r.lrem("nokey", 0, "zz") == 0
    assert r.lrem("l", 0, "c") == 1 and r.lrem("l", 0, "b") == 1
    assert not r.exists("l")
    with pytest.raises(redis.ResponseError, match="^value is out of range, value must between "
                       "-9223372036854775807 and 9223372036854775807$"):
        r.lrem("l", -(2**63), "a")


def test_ltrim(r):
    r.rpush("l", *"abcdef")
    assert r.ltrim("l", 1, -2) is True
    assert r.lrange("l", 0, -1) == [b"b", b"c", b"d", b"e"]
    r.ltrim("l", -100, 100)
    assert r.llen("l") == 4
    r.ltrim("l", 2, 1)
    assert not r.exists("l")
    assert r.ltrim("nokey", 0, 1) is True
    r.rpush("big", *range(100))
    r.ltrim("big", 50, 52)
    assert r.lrange("big", 0, -1) == [b"50", b"51", b"52"]


def test_lpos(r):
    r.rpush("l", *"abcbdb")
    assert r.lpos("l", "b") == 1
    assert r.lpos("l", "b", rank=2) == 3
    assert r.lpos("l", "b", rank=-1) == 5
    assert r.lpos("l", "b", rank=-3) == 1
    assert r.lpos("l", "b", rank=4) is None
    assert r.lpos("l", "b", count=0) == [1, 3, 5]
    assert r.lpos("l", "b", count=2, rank=2) == [3, 5]
    assert r.lpos("l", "b", count=2, rank=-1) == [5, 3]
    assert r.lpos("l", "b", maxlen=1) is None
    assert r.lpos("l", "b", maxlen=2, count=0) == [1]
    assert r.lpos("l", "z") is None and r.lpos("l", "z", count=1) == []
    assert r.lpos("nokey", "z") is None and r.lpos("nokey", "z", count=1) == []
    with pytest.raises(redis.ResponseError, match="^RANK can't be zero"):
        r.lpos("l", "b", rank=0)
    with pytest.raises(redis.ResponseError, match="^COUNT can't be negative$"):
        r.lpos("l", "b", count=-1)
    with pytest.raises(redis.ResponseError, match="^MAXLEN can't be negative$"):
        r.lpos("l", "b", maxlen=-1)
    with pytest.raises(redis.ResponseError, match="^syntax error$"):
        r.execute_command("LPOS", "l", "b", "RANK")


def test_lmove_rpoplpush(r):
    r.rpush("src", "a", "b", "c")
    assert r.lmove("src", "dst", "LEFT", "RIGHT") == b"a"
    assert r.lmove("src", "dst", "RIGHT", "LEFT") == b"c"
    assert r.rpoplpush("src", "dst") == b"b"
    assert not r.exists("src")
    assert r.lrange("dst", 0, -1) == [b"b", b"c", b"a"]
    assert r.rpoplpush("src", "dst") is None
    assert r.lmove("dst", "dst", "RIGHT", "LEFT") == b"a"    # rotation
    assert r.lrange("dst", 0, -1) == [b"a", b"b", b"c"]
    with pytest.raises(redis.ResponseError, match="^syntax error$"):
        r.execute_command("LMOVE", "dst", "x", "UP", "LEFT")
    r.set("s", "x")
    with pytest.raises(redis.ResponseError, match=WRONGTYPE):
        r.rpoplpush("dst", "s")
    assert r.llen("dst") == 3
    assert r.rpoplpush("nokey", "s") is None


def test_lmpop(r):
    r.rpush("a", "1", "2", "3")
    assert r.execute_command("LMPOP", 2, "nokey", "a", "LEFT") == [b"a", [b"1"]]
    assert r.execute_command("LMPOP", 1, "a", "RIGHT", "COUNT", 10) == [b"a", [b"3", b"2"]]
    assert r.execute_command("LMPOP", 2, "a", "b", "RIGHT") is None
    for args, msg in (((0, "a", "LEFT"), "^numkeys should be greater than 0$"),
                      (("x", "a", "LEFT"), "^numkeys should be greater than 0$"),
                      ((2, "a", "LEFT"), "^syntax error$"),
                      ((1, "a", "UP"), "^syntax error$"),
                      ((1, "a", "LEFT", "COUNT", 0), "^count should be greater than 0$"),
                      ((1, "a", "LEFT", "COUNT", 1, "COUNT", 1), "^syntax error$"),
                      ((1, "a", "LEFT", "COUNT"), "^syntax error$")):
        with pytest.raises(redis.ResponseError, match=msg):
            r.execute_command("LMPOP", *args)


def test_encoding_listpack_quicklist(r):
    r.config_set("list-max-listpack-size", 4)
    try:
        r.rpush("l", "a", "b", "c", "d")
        assert r.object("encoding", "l") == b"listpack"
        r.rpush("l", "e")
        assert r.object("encoding", "l") == b"quicklist"
        r.rpop("l", 2)                       # 3 > 4 // 2: stays quicklist (hysteresis)
        assert r.object("encoding", "l") == b"quicklist"
        r.rpop("l")
        assert r.object("encoding", "l") == b"listpack"
    finally:
        r.config_set("list-max-listpack-size", -2)


def test_encoding_by_size(r):
    r.config_set("list-max-listpack-size", -1)      # 4096 bytes
    try:
        big = "x" * 5000
        r.rpush("l", "a", "b")
        r.linsert("l", "after", "nomatch", big)     # converts even without a pivot, as Valkey does
        assert r.object("encoding", "l") == b"quicklist"
        r.delete("l")
        r.rpush("l", big, "a", "b")
        assert r.object("encoding", "l") == b"quicklist"
        r.lset("l", 0, "c")
        assert r.object("encoding", "l") == b"listpack"
        r.rpush("m", "a")
        r.lmove("l", "m", "LEFT", "RIGHT")
        assert r.object("encoding", "m") == b"listpack"
    finally:
        r.config_set("list-max-listpack-size", -2)


def test_entry_sizes():
    assert entry_size(b"5") == 2            # 7-bit uint
    assert entry_size(b"-5") == 3           # 13-bit int
    assert entry_size(b"01") == 4           # not canonical: a 2-byte string
    assert entry_size(b"40000") == 5        # 24-bit int
    assert entry_size(b"x" * 63) == 65
    assert entry_size(b"x" * 64) == 67
    assert entry_size(b"x" * 200) == 204
    lst = ListType([b"a", b"1"])
    assert lst.lp_bytes == LP_HEADER + 3 + 2
    lst._check()


def test_dirty_and_keyspace_events(r, pykey_server):
    engine = pykey_server.engine
    events: list = []
    old = engine.notify_sink
    engine.notify_sink = lambda flag, event, key, dbid: events.append((flag, event, key))
    try:
        d0 = engine.dirty
        r.rpush("l", "a", "b", "c")
        r.lpop("l", 2)
        r.lmove("l", "m", "LEFT", "RIGHT")
        r.ltrim("m", 0, -1)
        assert engine.dirty - d0 == 3 + 2 + 1 + 0
    finally:
        engine.notify_sink = old
    assert events == [("l", b"rpush", b"l"), ("l", b"lpop", b"l"), ("l", b"rpush", b"m"),
                      ("l", b"lpop", b"l"), ("g", b"del", b"l"), ("l", b"ltrim", b"m")]


def test_fill_zero_and_below_minus_five(r):
    try:
        r.config_set("list-max-listpack-size", 0)         # treated as 1 entry
        r.rpush("l", "a")
        assert r.object("encoding", "l") == b"listpack"
        r.rpush("l", "b")
        assert r.object("encoding", "l") == b"quicklist"
        r.config_set("list-max-listpack-size", -6)        # treated as -5 (64 KiB)
        r.rpush("m", "x" * 60000)
        assert r.object("encoding", "m") == b"listpack"
        r.rpush("m", "x" * 5536)
        assert r.object("encoding", "m") == b"quicklist"
    finally:
        r.config_set("list-max-listpack-size", -2)


def test_packed_threshold_keeps_quicklist():
    from pykey.datatypes import listtype
    lst = ListType([b"a" * 10, b"b"])
    lst.quick = True
    listtype.set_packed_threshold(5)
    try:
        lst.after_shrink(-2)
        assert lst.encoding() == "quicklist"
    finally:
        listtype.set_packed_threshold(0)
    lst.after_shrink(-2)
    assert lst.encoding() == "listpack"
