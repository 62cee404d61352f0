"""Whole RDB images and DUMP payloads, in process: every type and encoding round-trips
(values, encodings, TTLs, databases), the header names the oldest version that holds the
content, and damaged or truncated images are refused without touching the server."""
from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pykey.commands  # noqa: F401  (registers the commands)
from pykey.datatypes.settype import SetType
from pykey.engine.client import Client
from pykey.engine.server import Server
from pykey.persistence import dump, rdb
from pykey.persistence.crc64 import crc64
from pykey.persistence.encoding import RdbError
from pykey.protocol.encoder import encode


def _server(**config):
    s = Server()
    for k, v in config.items():
        s.config.set_words(k.replace("_", "-"), [str(v)])
    return s, Client(s)


def _run(s, c, *args):
    return s.execute(c, [a if isinstance(a, bytes) else str(a).encode() for a in args])


def _fill(s, c):
    x = lambda *a: _run(s, c, *a)  # noqa: E731
    x("set", "str", "hello")
    x("set", "int", "12345")
    x("set", "bigint", "-9000000000")
    x("set", "long", "z" * 300)
    x("set", "empty", "")
    x("append", "raw", "grown")
    x("rpush", "lp", *range(10), "text")
    x("rpush", "ql", *[f"element-{i}" for i in range(3000)])
    x("sadd", "si", 1, 2, 3, -70000)
    x("sadd", "sl", "a", "b", "c")
    x("sadd", "sh", *range(1000))
    x("hset", "hl", "f", "v", "n", "1")
    x("hset", "hh", *[f"f{i}" for i in range(400)])
    x("zadd", "zl", 1, "a", 2.5, "b", "-inf", "c", "inf", "d")
    x("zadd", "zs", *[v for i in range(300) for v in (i / 7, f"m{i}")])
    x("xadd", "st", "1-1", "f", "v")
    x("xadd", "st", "2-0", "f", "w", "g", "x")
    x("xgroup", "create", "st", "grp", "0")
    x("xreadgroup", "group", "grp", "alice", "count", "1", "streams", "st", ">")
    x("pexpire", "str", 100000)
    x("select", 5)
    x("set", "in5", "five")
    x("select", 0)


def _snapshot(s):
    """Everything observable about the dataset: values, encodings, TTLs per database."""
    out = {}
    for db in s.dbs:
        for key, value in db.data.items():
            if isinstance(value, (bytes, bytearray)):
                v = bytes(value)
            elif hasattr(value, "nodes"):
                v = [(n.master, n.ids, n.items) for n in value.nodes], value.last_id, sorted(value.groups or {})
            elif hasattr(value, "items"):
                v = list(value.items())
            else:
                v = sorted(value) if isinstance(value, (set, SetType)) else list(value)
            enc = value.encoding() if hasattr(value, "encoding") else None
            out[(db.id, key)] = (v, enc, db.expires.get(key))
    return out


def test_every_type_round_trips_with_encodings_and_ttls():
    s, c = _server()
    _fill(s, c)
    image = rdb.dumps(s)
    assert image.startswith(b"REDIS0011")               # a listpack set and a stream need 7.2's format
    s2, _ = _server()
    res = rdb.parse(image, s2)
    rdb.install(s2, res)
    assert _snapshot(s2) == _snapshot(s)
    for db in s2.dbs:
        for value in db.data.values():
            if hasattr(value, "_check"):
                value._check()
    assert res.aux[b"redis-ver"] == b"7.2.4" and res.aux[b"redis-bits"] == b"64"
    assert res.aux[b"aof-base"] == b"0" and int(res.aux[b"ctime"]) > 0


def test_header_version_follows_content():
    s, c = _server()
    _run(s, c, "set", "k", "v")
    _run(s, c, "sadd", "ints", 1, 2)
    assert rdb.dumps(s).startswith(b"REDIS0010")        # Redis 7.0 loads this one
    _run(s, c, "hset", "h", "a", "1", "b", "2")
    _run(s, c, "hpexpire", "h", 100000, "FIELDS", 1, "a")
    image = rdb.dumps(s)
    assert image.startswith(b"VALKEY080")               # field TTLs exist only in Valkey 9's format
    s2, _ = _server()
    rdb.install(s2, rdb.parse(image, s2))
    h = s2.dbs[0].data[b"h"]
    assert dict(h) == {b"a": b"1", b"b": b"2"} and set(h.ttl) == {b"a"}
    assert s2.dbs[0].volatile_hashes[b"h"] is h


def test_encodings_follow_the_loading_servers_config():
    s, c = _server()
    _run(s, c, "rpush", "l", *range(5))
    _run(s, c, "hset", "h", "a", "1")
    _run(s, c, "zadd", "z", 1, "a")
    _run(s, c, "sadd", "s", 1, 2)
    image = rdb.dumps(s)
    small, _ = _server(list_max_listpack_size=2, hash_max_listpack_entries=0, zset_max_listpack_entries=0,
                       set_max_intset_entries=1)
    rdb.install(small, rdb.parse(image, small))
    data = small.dbs[0].data
    assert [data[k].encoding() for k in (b"l", b"h", b"z", b"s")] == ["quicklist", "hashtable", "skiplist",
                                                                         "hashtable"]


def test_expired_keys_are_skipped_and_counted():
    s, c = _server()
    _run(s, c, "set", "gone", "x")
    _run(s, c, "set", "kept", "y")
    s.dbs[0].expires[b"gone"] = 1000            # long past
    image = rdb.dumps(s)
    s2, _ = _server()
    res = rdb.parse(image, s2)
    assert res.keys_loaded == 1 and res.keys_expired == 1
    assert rdb.parse(image, s2, keep_expired=True).keys_loaded == 2


def test_rdbchecksum_no_writes_zero_and_loads():
    s, c = _server(rdbchecksum="no")
    _run(s, c, "set", "k", "v")
    image = rdb.dumps(s)
    assert image[-8:] == b"\0" * 8
    s2, _ = _server()
    assert rdb.parse(image, s2).keys_loaded == 1


def test_every_truncation_is_refused_and_leaves_the_server_alone():
    s, c = _server()
    _fill(s, c)
    image = rdb.dumps(s)
    target, tc = _server()
    _run(target, tc, "set", "mine", "untouched")
    before = _snapshot(target)
    for cut in sorted(random.Random(7).sample(range(len(image) - 1), 200)) + [len(image) - 1, 9, 0]:
        with pytest.raises(RdbError):
            rdb.parse(image[:cut], target)
    assert _snapshot(target) == before


def test_flipped_bytes_are_refused_by_the_checksum():
    s, c = _server()
    _fill(s, c)
    image = bytearray(rdb.dumps(s))
    rng = random.Random(3)
    for _ in range(100):
        bad = bytearray(image)
        pos = rng.randrange(9, len(bad) - 8)
        bad[pos] ^= 1 << rng.randrange(8)
        with pytest.raises(RdbError):
            rdb.parse(bytes(bad), s)


def test_damaged_bodies_with_valid_checksums_are_refused():
    """With the CRC recomputed, the decoders themselves must catch the damage."""
    s, c = _server()
    _fill(s, c)
    image = rdb.dumps(s)
    rng = random.Random(5)
    refused = 0
    for _ in range(300):
        bad = bytearray(image[:-8])
        pos = rng.randrange(9, len(bad))
        bad[pos] = rng.randrange(256)
        bad += crc64(bytes(bad)).to_bytes(8, "little")
        try:
            rdb.parse(bytes(bad), s)
        except RdbError:
            refused += 1
    assert refused > 0      # anything else raised would have failed the test


@pytest.mark.parametrize("head, why", [(b"REDIX0011", "Wrong signature"), (b"REDIS0012", "Can't handle"),
                                       (b"VALKEY079", "Can't handle")])
def test_headers_refused(head, why):
    s, _ = _server()
    with pytest.raises(RdbError, match=why):
        rdb.parse(head + b"\xff" + b"\0" * 8, s)
    with pytest.raises(RdbError, match="Short read"):
        rdb.parse(b"REDIS00", s)


def test_duplicate_keys_and_bad_db_refused():
    s, c = _server()
    _run(s, c, "set", "k", "v")
    body = rdb.dumps(s)[:-9]                        # without EOF and checksum
    key_record = b"\x00\x01k\x01v"
    dup = body + key_record + b"\xff"
    with pytest.raises(RdbError, match="Duplicated key"):
        rdb.parse(dup + crc64(dup).to_bytes(8, "little"), s)
    far = body + b"\xfe\x40\x63" + key_record + b"\xff"      # SELECTDB 99
    with pytest.raises(RdbError, match="databases"):
        rdb.parse(far + crc64(far).to_bytes(8, "little"), s)


# ---------------------------------------------------------------------- DUMP payloads
@given(st.lists(st.binary(max_size=80), min_size=1, max_size=60), st.sampled_from(["list", "set", "hash", "zset"]))
@settings(max_examples=60, deadline=None)
def test_dump_payload_round_trip(items, kind):
    s, c = _server()
    if kind == "list":
        _run(s, c, "rpush", "k", *items)
    elif kind == "set":
        _run(s, c, "sadd", "k", *items)
    elif kind == "hash":
        _run(s, c, "hset", "k", *[x for i, v in enumerate(items) for x in (b"f%d" % i, v)])
    else:
        _run(s, c, "zadd", "k", *[x for i, v in enumerate(items) for x in (b"%d.5" % i, v)])
    value = s.dbs[0].data[b"k"]
    payload = dump.create(value, s.config)
    assert dump.verify(payload)
    back = dump.load(payload, s.config)
    assert type(back) is type(value) and back.encoding() == value.encoding()
    same = list(back.items()) == list(value.items()) if hasattr(value, "items") else back == value
    assert same


def test_dump_payload_footer_and_refusals():
    s, c = _server()
    _run(s, c, "set", "k", "hello")
    payload = dump.create(s.dbs[0].data[b"k"], s.config)
    assert payload[:7] == b"\x00\x05hello" and payload[7:9] == b"\x0a\x00"
    assert payload[9:] == crc64(payload[:9]).to_bytes(8, "little")
    assert not dump.verify(payload[:-1] + bytes([payload[-1] ^ 1]))
    newer = payload[:7] + b"\x0c\x00"
    assert not dump.verify(newer + crc64(newer).to_bytes(8, "little"))
    assert not dump.verify(b"short")
    bad = b"\x63\x05hello\x0a\x00"                           # type 99
    with pytest.raises(RdbError):
        dump.load(bad + crc64(bad).to_bytes(8, "little"), s.config)
    empty = b"\x02\x00\x0a\x00"                              # a set with no members
    with pytest.raises(RdbError):
        dump.load(empty + crc64(empty).to_bytes(8, "little"), s.config)


def _old_file() -> bytes:
    """A version-9 file in the encodings Redis 2.x-6.x wrote: a plain list, a quicklist of
    ziplists, ziplist hashes and sorted sets, a zipmap, ZSET v1 with ASCII scores, an intset,
    an expiry in seconds, and a v1 stream."""
    from pykey.persistence import intset, listpack
    from pykey.persistence.encoding import RdbWriter

    def zl(entries: list[bytes]) -> bytes:
        body, prev, tail = b"", 0, 10
        for e in entries:
            enc = bytes((len(e),)) + e                  # 6-bit strings
            tail = 10 + len(body)
            rec = bytes((prev,)) + enc
            body += rec
            prev = len(rec)
        return (10 + len(body) + 1).to_bytes(4, "little") + tail.to_bytes(4, "little") \
            + len(entries).to_bytes(2, "little") + body + b"\xff"

    w = RdbWriter(compress=False)
    w.raw(b"REDIS0009")
    w.byte(0xFE)
    w.length(0)
    w.byte(0xFD)                                        # EXPIRETIME in seconds
    w.raw((2_000_000_000).to_bytes(4, "little"))
    w.byte(1)
    w.string(b"plain-list")
    w.length(2)
    w.string(b"a")
    w.string(b"b")
    w.byte(14)                                          # quicklist v1: ziplist nodes
    w.string(b"ql")
    w.length(2)
    w.raw_string(zl([b"x", b"y"]))
    w.raw_string(zl([b"z"]))
    w.byte(13)
    w.string(b"zl-hash")
    w.raw_string(zl([b"f", b"v", b"g", b"w"]))
    w.byte(12)
    w.string(b"zl-zset")
    w.raw_string(zl([b"m", b"1.5", b"n", b"2"]))
    w.byte(9)
    w.string(b"zipmap")
    w.raw_string(b"\x01\x01k\x01\x00v\xff")
    w.byte(3)                                           # ZSET v1: ASCII scores
    w.string(b"old-zset")
    w.length(2)
    w.string(b"a")
    w.raw(b"\x031.5")
    w.string(b"b")
    w.raw(b"\xfe")                                      # +inf
    w.byte(11)
    w.string(b"iset")
    w.raw_string(intset.encode([3, 1, 2]))
    w.byte(15)                                          # stream v1
    w.string(b"st")
    w.length(1)
    w.raw_string((1).to_bytes(8, "big") + (0).to_bytes(8, "big"))     # node master ID 1-0
    w.raw_string(listpack.encode([1, 0, 1, b"f", 0, 2, 0, 0, b"v", 4]))
    w.length(1)                                         # length
    w.length(1)                                         # last id 1-0
    w.length(0)
    w.length(0)                                         # no groups
    w.byte(0xFF)
    body = bytes(w.buf)
    return body + crc64(body).to_bytes(8, "little")


def test_old_encodings_load():
    s, c = _server()
    res = rdb.parse(_old_file(), s, now_ms=0)
    rdb.install(s, res)
    d = s.dbs[0].data
    assert list(d[b"plain-list"]) == [b"a", b"b"] and list(d[b"ql"]) == [b"x", b"y", b"z"]
    assert dict(d[b"zl-hash"]) == {b"f": b"v", b"g": b"w"} and dict(d[b"zipmap"]) == {b"k": b"v"}
    assert list(d[b"zl-zset"].items()) == [(b"m", 1.5), (b"n", 2.0)]
    assert list(d[b"old-zset"].items()) == [(b"a", 1.5), (b"b", float("inf"))]
    assert sorted(d[b"iset"]) == [b"1", b"2", b"3"] and d[b"iset"].encoding() == "intset"
    assert s.dbs[0].expires[b"plain-list"] == 2_000_000_000_000
    assert encode(_run(s, c, "xrange", "st", "-", "+")) == encode([[b"1-0", [b"f", b"v"]]])  # a Raw reply
    assert _run(s, c, "object", "encoding", "zl-hash") == b"listpack"
