"""Every data type through redis-py's high-level helpers, in RESP2 and RESP3: each helper's
response callback must read pykey's reply into the same Python value it makes of
redis-server's. The same script runs against pykey and Debian's redis-server 7.0 and the
results are compared (skipped where redis-server is absent); Valkey-8-only commands are
checked against fixed values in test_redis_py_sync.py."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import redis

Op = tuple[str, Callable[[redis.Redis], Any]]

_VOLATILE = {"idle", "seen-time", "active-time", "inactive", "time_since_delivered"}


def _norm(value: Any) -> Any:
    """Make a result comparable: sets sorted, idle and delivery times of streams dropped."""
    if isinstance(value, (set, frozenset)):
        return sorted(_norm(v) for v in value)
    if isinstance(value, dict):
        return {k: _norm(v) for k, v in value.items() if k not in _VOLATILE and k not in
                {x.encode() for x in _VOLATILE}}
    if isinstance(value, (list, tuple)):
        return type(value)(_norm(v) for v in value)
    if isinstance(value, int) and 10**12 < value < 10**13:
        return "<unix time ms>"            # delivery times in XINFO STREAM FULL
    return value


def _strings(r: redis.Redis) -> list[Op]:
    return [
        ("set", lambda r: r.set("s", "hello")),
        ("set nx existing", lambda r: r.set("s", "x", nx=True)),
        ("set get", lambda r: r.set("s", "v2", get=True)),
        ("set ex keepttl", lambda r: (r.set("t", "1", ex=100), r.set("t", "2", keepttl=True), r.ttl("t"))),
        ("get missing", lambda r: r.get("nokey")),
        ("getex persist", lambda r: (r.getex("t", persist=True), r.ttl("t"))),
        ("getdel", lambda r: (r.getdel("t"), r.exists("t"))),
        ("getset", lambda r: r.getset("s", "v3")),
        ("mset mget", lambda r: (r.mset({"a": 1, "b": 2}), r.mget("a", "b", "nokey"))),
        ("msetnx", lambda r: r.msetnx({"a": 1, "c": 3})),
        ("setnx setex psetex", lambda r: (r.setnx("n1", 1), r.setex("n2", 50, "v"), r.psetex("n3", 50000, "v"),
                                          r.ttl("n2"), r.pttl("n3") > 49000)),
        ("append strlen", lambda r: (r.append("s", "!!"), r.strlen("s"))),
        ("getrange setrange", lambda r: (r.setrange("s", 1, "XY"), r.getrange("s", 0, -1), r.substr("s", 1, 2))),
        ("incr family", lambda r: (r.incr("i"), r.incrby("i", 10), r.decr("i"), r.decrby("i", 5),
                                   r.incrbyfloat("f", 2.5), r.incrbyfloat("f", -1))),
        ("lcs", lambda r: (r.mset({"k1": "ohmytext", "k2": "mynewtext"}), r.lcs("k1", "k2"),
                           r.lcs("k1", "k2", len=True), r.lcs("k1", "k2", idx=True, minmatchlen=2,
                                                              withmatchlen=True))),
        ("incr error", lambda r: r.incr("s")),
        ("wrongtype", lambda r: r.lpush("s", "x")),
    ]


def _keys(r: redis.Redis) -> list[Op]:
    return [
        ("setup", lambda r: r.mset({"k": "v", "n": 12, "long": "x" * 100})),
        ("exists type", lambda r: (r.exists("k", "n", "nokey"), r.type("k"), r.type("nokey"))),
        ("object encoding", lambda r: [r.object("encoding", k) for k in ("k", "n", "long")]),
        ("expire options", lambda r: (r.expire("k", 100), r.expire("k", 50, gt=True), r.expire("k", 50, lt=True),
                                      r.expire("k", 10, xx=True), r.expire("n", 10, nx=True), r.ttl("k"))),
        ("pexpire persist", lambda r: (r.pexpire("k", 100000), r.persist("k"), r.persist("k"), r.ttl("k"))),
        ("expireat", lambda r: (r.expireat("n", 4102444800), r.expiretime("n"), r.pexpiretime("n"))),
        ("rename", lambda r: (r.rename("k", "k2"), r.renamenx("k2", "n"), r.get("k2"))),
        ("copy move", lambda r: (r.copy("k2", "k3"), r.copy("k2", "k3"), r.copy("k2", "k3", replace=True),
                                 r.move("k3", 5), r.exists("k3"))),
        ("keys", lambda r: sorted(r.keys("k*"))),
        ("dump restore", lambda r: (r.restore("k4", 0, r.dump("long")), r.get("k4") == b"x" * 100,
                                    r.restore("k4", 0, r.dump("long"), replace=True))),
        ("restore busy", lambda r: r.restore("k4", 0, r.dump("long"))),
        ("touch unlink del", lambda r: (r.touch("k2", "nokey"), r.unlink("k2"), r.delete("k4", "nokey"))),
        ("dbsize", lambda r: r.dbsize()),
        ("randomkey one", lambda r: (r.flushdb(), r.set("only", 1), r.randomkey())),
    ]


def _hashes(r: redis.Redis) -> list[Op]:
    return [
        ("hset", lambda r: r.hset("h", mapping={"f1": "v1", "f2": "2", "f3": "x" * 70})),
        ("hset one", lambda r: r.hset("h", "f4", "v4")),
        ("hget hmget", lambda r: (r.hget("h", "f1"), r.hget("h", "no"), r.hmget("h", ["f1", "no", "f2"]))),
        ("hgetall", lambda r: r.hgetall("h")),
        ("hgetall missing", lambda r: r.hgetall("nokey")),
        ("hkeys hvals hlen", lambda r: (sorted(r.hkeys("h")), sorted(r.hvals("h")), r.hlen("h"))),
        ("hexists hstrlen", lambda r: (r.hexists("h", "f1"), r.hexists("h", "no"), r.hstrlen("h", "f3"))),
        ("hincr", lambda r: (r.hincrby("h", "f2", 5), r.hincrbyfloat("h", "f2", 0.5), r.hincrbyfloat("h", "fx", 3))),
        ("hsetnx hdel", lambda r: (r.hsetnx("h", "f1", "x"), r.hsetnx("h", "new", "y"), r.hdel("h", "new", "no"))),
        ("hrandfield one", lambda r: (r.hset("h1", "only", "v"), r.hrandfield("h1"), r.hrandfield("h1", 3),
                                      r.hrandfield("h1", 2, withvalues=True))),
        ("object encoding", lambda r: (r.object("encoding", "h1"), r.object("encoding", "h"))),
        ("hincrby error", lambda r: r.hincrby("h", "f1", 1)),
    ]


def _lists(r: redis.Redis) -> list[Op]:
    return [
        ("push", lambda r: (r.rpush("l", "a", "b", "c", "b"), r.lpush("l", "z"), r.lpushx("nokey", "a"),
                            r.rpushx("l", "end"))),
        ("lrange lindex llen", lambda r: (r.lrange("l", 0, -1), r.lindex("l", 1), r.lindex("l", 99), r.llen("l"))),
        ("lset linsert", lambda r: (r.lset("l", 0, "Z"), r.linsert("l", "before", "c", "bc"),
                                    r.linsert("l", "after", "nope", "x"))),
        ("lpos", lambda r: (r.lpos("l", "b"), r.lpos("l", "b", rank=-1), r.lpos("l", "b", count=0),
                            r.lpos("l", "b", rank=2, maxlen=3), r.lpos("l", "zz"))),
        ("lrem ltrim", lambda r: (r.lrem("l", 1, "b"), r.ltrim("l", 0, 3), r.lrange("l", 0, -1))),
        ("pops", lambda r: (r.lpop("l"), r.rpop("l", 2), r.lpop("nokey"), r.lpop("nokey", 2))),
        ("lmove rpoplpush", lambda r: (r.rpush("m", 1, 2, 3), r.lmove("m", "m2", "LEFT", "RIGHT"),
                                       r.rpoplpush("m", "m2"), r.lrange("m2", 0, -1))),
        ("lmpop", lambda r: (r.lmpop(2, "nokey", "m2", direction="RIGHT", count=5), r.lmpop(1, "nokey",
                                                                                          direction="LEFT"))),
        ("blocking pops with data", lambda r: (r.rpush("b", 1, 2, 3, 4), r.blpop(["nokey", "b"], 1),
                                               r.brpop(["b"], 1), r.blmove("b", "b2", 1, "LEFT", "LEFT"),
                                               r.brpoplpush("b", "b2", 1),
                                               r.blmpop(1, 1, "b2", direction="LEFT", count=10))),
        ("blocking pops time out", lambda r: (r.blpop(["nokey"], 0.01), r.brpop("nokey", 0.01),
                                              r.blmove("nokey", "x", 0.01, "LEFT", "LEFT"),
                                              r.blmpop(0.01, 1, "nokey", direction="LEFT"))),
        ("lset error", lambda r: (r.rpush("e", "a"), r.lset("e", 99, "x"))),
    ]


def _sets(r: redis.Redis) -> list[Op]:
    return [
        ("sadd", lambda r: (r.sadd("s1", "a", "b", "c", "d"), r.sadd("s2", "c", "d", "e"), r.sadd("n", 1, 2, 3))),
        ("smembers", lambda r: (r.smembers("s1"), r.smembers("nokey"))),
        ("sismember", lambda r: (r.sismember("s1", "a"), r.sismember("s1", "z"), r.smismember("s1", ["a", "z"]))),
        ("scard srem", lambda r: (r.scard("s1"), r.srem("s1", "d", "zz"), r.scard("s1"))),
        ("algebra", lambda r: (r.sinter("s1", "s2"), r.sunion("s1", "s2"), r.sdiff("s1", "s2"),
                               r.sintercard(2, ["s1", "s2"]), r.sintercard(2, ["s1", "s2"], limit=1))),
        ("store", lambda r: (r.sinterstore("d1", "s1", "s2"), r.sunionstore("d2", "s1", "s2"),
                             r.sdiffstore("d3", "s1", "s2"), r.smembers("d2"))),
        ("smove", lambda r: (r.smove("s1", "s2", "a"), r.smove("s1", "s2", "zz"), r.smembers("s2"))),
        ("whole-set random", lambda r: (sorted(r.srandmember("n", 10)), sorted(r.spop("n", 10)), r.exists("n"))),
        # (small non-integer sets are listpacks since 7.2: redis-server 7.0 says hashtable)
        ("encodings", lambda r: (r.sadd("i", 1, 2), r.object("encoding", "i"))),
    ]


def _zsets(r: redis.Redis) -> list[Op]:
    return [
        ("zadd", lambda r: (r.zadd("z", {"a": 1, "b": 2, "c": 3.5, "d": -1}), r.zadd("z", {"a": 5}, nx=True),
                            r.zadd("z", {"a": 5, "x": 1}, xx=True, ch=True), r.zadd("z", {"b": 1}, gt=True),
                            r.zadd("z", {"b": 10}, lt=True), r.zadd("z", {"b": 2}, incr=True))),
        ("zrange", lambda r: (r.zrange("z", 0, -1), r.zrange("z", 0, -1, withscores=True),
                              r.zrange("z", 0, 1, desc=True, withscores=True),
                              r.zrange("z", "(1", "+inf", byscore=True, offset=0, num=2),
                              r.zrange("z", 5, 0, byscore=True, desc=True, withscores=True))),
        ("zrangebyscore", lambda r: (r.zrangebyscore("z", "-inf", 3, withscores=True),
                                     r.zrevrangebyscore("z", "+inf", "(0", start=0, num=2, withscores=True),
                                     r.zrevrange("z", 0, -1, withscores=True))),
        ("score rank count", lambda r: (r.zscore("z", "c"), r.zscore("z", "no"), r.zmscore("z", ["a", "no"]),
                                        r.zrank("z", "c"), r.zrevrank("z", "c"), r.zrank("z", "no"),
                                        r.zcount("z", 0, 4), r.zcard("z"))),
        ("zincrby", lambda r: (r.zincrby("z", 2, "c"), r.zincrby("z", 1.5, "new"))),
        ("lex", lambda r: (r.zadd("lx", {"a": 0, "b": 0, "c": 0, "d": 0}), r.zrangebylex("lx", "[b", "+"),
                           r.zrevrangebylex("lx", "(d", "-", start=0, num=2), r.zlexcount("lx", "[a", "(c"),
                           r.zrange("lx", "[a", "[c", bylex=True), r.zremrangebylex("lx", "[a", "[b"))),
        ("pops", lambda r: (r.zpopmin("z"), r.zpopmax("z", 2), r.bzpopmin(["nokey", "z"], 1),
                            r.bzpopmax("z", 1), r.zmpop(1, ["z"], min=True, count=2),
                            r.bzmpop(0.01, 1, ["z"], max=True), r.bzpopmin("nokey", 0.01))),
        ("algebra", lambda r: (r.zadd("z1", {"a": 1, "b": 2, "c": 3}), r.zadd("z2", {"b": 10, "c": 20, "d": 1}),
                               r.zunion(["z1", "z2"], withscores=True),
                               r.zinter({"z1": 2, "z2": 1}, aggregate="MAX", withscores=True),
                               r.zdiff(["z1", "z2"], withscores=True), r.zintercard(2, ["z1", "z2"]),
                               r.zunionstore("u", ["z1", "z2"], aggregate="MIN"), r.zrange("u", 0, -1, withscores=True),
                               r.zinterstore("i", ["z1", "z2"]), r.zdiffstore("d", ["z2", "z1"]),
                               r.zrangestore("rs", "z2", 0, 1), r.zrange("rs", 0, -1, withscores=True))),
        ("remrange", lambda r: (r.zremrangebyrank("z2", 0, 0), r.zremrangebyscore("z2", 0, 15), r.zrem("z2", "c", "no"),
                                r.exists("z2"))),
        ("random one", lambda r: (r.zadd("one", {"m": 2.5}), r.zrandmember("one"),
                                  r.zrandmember("one", 2, withscores=True))),
        ("encoding", lambda r: (r.object("encoding", "z1"), r.object("encoding", "one"))),
        ("nan error", lambda r: r.zadd("z1", {"a": "nan"})),
    ]


def _streams(r: redis.Redis) -> list[Op]:
    return [
        ("xadd", lambda r: [r.xadd("x", {"f": i, "g": "v"}, id=f"1-{i}") for i in range(1, 6)]),
        ("xadd maxlen nomkstream", lambda r: (r.xadd("x", {"f": 6}, id="2-0", maxlen=10, approximate=False),
                                              r.xadd("nos", {"a": 1}, nomkstream=True))),
        ("xlen xrange", lambda r: (r.xlen("x"), r.xrange("x", "1-2", "1-4"), r.xrange("x", count=2),
                                   r.xrevrange("x", "+", "-", count=2), r.xrange("x", "(1-4", "+"))),
        ("xread", lambda r: (r.xread({"x": "1-4"}), r.xread({"x": "1-5", "nokey": "0"}, count=1),
                             r.xread({"x": "$"}, block=10))),
        ("xgroup create", lambda r: (r.xgroup_create("x", "g", id="0"), r.xgroup_create("ms", "g2", mkstream=True),
                                     r.xgroup_createconsumer("x", "g", "cx"))),
        ("xreadgroup", lambda r: (r.xreadgroup("g", "c1", {"x": ">"}, count=2),
                                  r.xreadgroup("g", "c2", {"x": ">"}, count=1, noack=False),
                                  r.xreadgroup("g", "c1", {"x": "0"}))),
        ("xpending", lambda r: (r.xpending("x", "g"), [
            {k: v for k, v in e.items() if k != "time_since_delivered"}
            for e in r.xpending_range("x", "g", "-", "+", 10)],
            r.xpending_range("x", "g", "-", "+", 10, consumername="c2") != [])),
        ("xclaim", lambda r: (r.xclaim("x", "g", "c3", 0, ["1-1"], justid=True),
                              r.xclaim("x", "g", "c3", 0, ["1-2"]))),
        ("xautoclaim", lambda r: (r.xautoclaim("x", "g", "c4", 0, start_id="0-0", count=1),
                                  r.xautoclaim("x", "g", "c4", 0, justid=True))),
        ("xack", lambda r: (r.xack("x", "g", "1-1", "1-2", "9-9"), r.xpending("x", "g")["pending"])),
        ("xinfo", lambda r: (r.xinfo_groups("x"), r.xinfo_consumers("x", "g"), r.xinfo_stream("x"))),
        ("xinfo full", lambda r: r.xinfo_stream("x", full=True)),
        ("xgroup maintenance", lambda r: (r.xgroup_setid("x", "g", "1-3"), r.xgroup_delconsumer("x", "g", "cx"),
                                          r.xgroup_destroy("ms", "g2"))),
        ("xdel xtrim", lambda r: (r.xdel("x", "1-1", "9-9"), r.xtrim("x", minid="1-4"), r.xtrim("x", maxlen=2),
                                  r.xlen("x"))),
        ("xreadgroup nogroup", lambda r: r.xreadgroup("nog", "c", {"x": ">"})),
    ]


def _other_types(r: redis.Redis) -> list[Op]:
    return [
        ("pfadd pfcount", lambda r: (r.pfadd("h1", "a", "b", "c"), r.pfadd("h1", "a"), r.pfadd("h2", "c", "d"),
                                     r.pfcount("h1"), r.pfcount("h1", "h2"), r.pfmerge("h3", "h1", "h2"),
                                     r.pfcount("h3"), r.get("h1"))),
        ("geoadd", lambda r: r.geoadd("g", [13.361389, 38.115556, "Palermo", 15.087269, 37.502669, "Catania",
                                            12.496366, 41.902782, "Rome"])),
        ("geo queries", lambda r: (r.geodist("g", "Palermo", "Catania"), r.geodist("g", "Palermo", "Rome", "km"),
                                   r.geopos("g", "Palermo", "nope"), r.geohash("g", "Palermo", "Catania"))),
        ("geosearch", lambda r: (
            r.geosearch("g", longitude=15, latitude=37, radius=300, unit="km", sort="ASC"),
            r.geosearch("g", member="Palermo", width=600, height=900, unit="km", withcoord=True, withdist=True,
                        withhash=True, sort="DESC"),
            r.geosearch("g", longitude=15, latitude=37, radius=1000, unit="km", count=1, sort="ASC"),
            r.geosearchstore("gs", "g", member="Rome", radius=500, unit="km", storedist=True),
            r.zrange("gs", 0, -1, withscores=True))),
        ("georadius", lambda r: (r.georadius("g", 15, 37, 200, unit="km", withdist=True, sort="ASC"),
                                 r.georadiusbymember("g", "Palermo", 200, unit="km", withcoord=True))),
        ("bits", lambda r: (r.setbit("b", 7, 1), r.setbit("b", 100, 1), r.getbit("b", 7), r.bitcount("b"),
                            r.bitcount("b", 0, 0), r.bitcount("b", 0, 9, "BIT"), r.bitpos("b", 1),
                            r.bitpos("b", 0, 1), r.bitop("NOT", "nb", "b"), r.bitop("AND", "ab", "b", "nb"),
                            r.get("ab"))),
        ("bitfield", lambda r: (
            r.bitfield("bf").set("u8", 0, 255).get("u8", 0).incrby("u8", 0, 10).execute(),
            r.bitfield("bf", default_overflow="SAT").incrby("i8", 8, 200).execute(),
            r.bitfield("bf").overflow("FAIL").incrby("u2", 16, 5).get("i16", "#1").execute(),
            r.bitfield_ro("bf", "u8", 0, items=[("i4", 4)]))),
        ("sort", lambda r: (r.rpush("sl", 3, 1, 2), r.mset({"w_1": 30, "w_2": 10, "w_3": 20, "o_1": "one",
                                                             "o_2": "two", "o_3": "three"}),
                            r.sort("sl"), r.sort("sl", desc=True, start=0, num=2), r.sort("sl", by="w_*"),
                            r.sort("sl", by="w_*", get=["#", "o_*"]), r.sort("sl", store="sorted"),
                            r.lrange("sorted", 0, -1), r.sort_ro("sl", alpha=True),
                            r.sort("sl", by="nosort", get="o_*", groups=False))),
        ("type names", lambda r: [r.type(k) for k in ("h1", "g", "b", "sl")]),
    ]


GROUPS = {"strings": _strings, "keys": _keys, "hashes": _hashes, "lists": _lists, "sets": _sets,
          "zsets": _zsets, "streams": _streams, "other types": _other_types}


def _run(client: redis.Redis, ops: list[Op]) -> list[tuple[str, Any]]:
    client.flushall()
    out = []
    for name, fn in ops:
        try:
            out.append((name, _norm(fn(client))))
        except redis.ResponseError as e:
            out.append((name, f"ResponseError: {e}"))
    return out


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("group", list(GROUPS))
def test_helpers_agree_with_redis_server(group, pykey_server, reference_port, protocol):
    ops = GROUPS[group](None)
    pk = redis.Redis(port=pykey_server.port, protocol=protocol, socket_timeout=10)
    rd = redis.Redis(port=reference_port, protocol=protocol, socket_timeout=10)
    try:
        got, want = _run(pk, ops), _run(rd, ops)
    finally:
        pk.close()
        rd.close()
    diffs = [f"{name}:\n  pykey: {a!r}\n  redis: {b!r}" for (name, a), (_, b) in zip(got, want, strict=True) if a != b]
    assert not diffs, "\n".join(diffs)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_helpers_run_without_reference(rp):
    """Without redis-server the same scripts still run: no helper fails to parse a reply."""
    for group in GROUPS.values():
        for name, value in _run(rp, group(None)):
            assert not (isinstance(value, str) and "Protocol" in value), (name, value)
