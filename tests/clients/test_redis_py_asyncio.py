"""redis-py's asyncio client against pykey, RESP2 and RESP3: concurrent commands over a pool,
pipelines, Pub/Sub, blocking commands, SCAN iterators, locks, health checks."""
from __future__ import annotations

import asyncio

import pytest
import redis
import redis.asyncio as aredis
from clienttools import PASSWORD


def run(coro):
    return asyncio.run(coro)


def test_commands_and_concurrency(pykey_server, protocol):
    async def main():
        pool = aredis.BlockingConnectionPool(port=pykey_server.port, protocol=protocol, max_connections=8,
                                             timeout=10)
        r = aredis.Redis(connection_pool=pool)
        await r.flushall()
        assert await r.set("k", "v") is True and await r.get("k") == b"v"
        assert (await r.client_info())["lib-name"] == "redis-py"
        # 500 commands in flight over 8 connections
        assert sorted(await asyncio.gather(*[r.incr("n") for _ in range(500)])) == list(range(1, 501))
        await r.hset("h", mapping={"a": 1, "b": 2})
        assert await r.hgetall("h") == {b"a": b"1", b"b": b"2"}
        await r.zadd("z", {"m": 1.5})
        assert await r.zrange("z", 0, -1, withscores=True) in ([(b"m", 1.5)], [[b"m", 1.5]])
        assert await r.smembers("nokey") == set()
        with pytest.raises(redis.ResponseError, match="^WRONGTYPE"):
            await r.lpush("k", "x")
        await r.aclose()
        await pool.disconnect()
    run(main())


def test_pipelines(pykey_server, protocol):
    async def main():
        r = aredis.Redis(port=pykey_server.port, protocol=protocol)
        await r.flushall()
        async with r.pipeline(transaction=True) as p:
            p.set("x", 1).incr("x").get("x")
            assert await p.execute() == [True, 2, b"2"]
        async with r.pipeline(transaction=False) as p:
            for i in range(1000):
                p.set(f"k{i}", i)
            assert await p.execute() == [True] * 1000
        async with r.pipeline(transaction=False) as p:
            p.get("k1").lpush("k1", "x").get("k2")
            res = await p.execute(raise_on_error=False)
        assert res[0] == b"1" and isinstance(res[1], redis.ResponseError) and res[2] == b"2"
        async with r.pipeline() as p:
            await p.watch("w")
            await r.set("w", "other")          # from the same client, another connection
            p.multi()
            p.set("w", "mine")
            with pytest.raises(redis.WatchError):
                await p.execute()
        assert await r.get("w") == b"other"
        await r.aclose()
    run(main())


def test_pubsub(pykey_server, protocol):
    async def main():
        r = aredis.Redis(port=pykey_server.port, protocol=protocol)
        p = r.pubsub()
        await p.subscribe("ach")
        await p.psubscribe("ap*")
        assert (await p.get_message(timeout=2))["type"] == "subscribe"
        assert (await p.get_message(timeout=2))["type"] == "psubscribe"
        assert await r.publish("ach", "m1") == 1
        assert await r.publish("apx", "m2") == 1
        assert await p.get_message(timeout=2) == {"type": "message", "pattern": None, "channel": b"ach",
                                                  "data": b"m1"}
        assert await p.get_message(timeout=2) == {"type": "pmessage", "pattern": b"ap*", "channel": b"apx",
                                                  "data": b"m2"}

        async def reader():
            got = []
            async for m in p.listen():
                if m["type"] in ("message", "pmessage"):
                    got.append(m["data"])
                    if len(got) == 3:
                        return got

        task = asyncio.create_task(reader())
        for i in range(3):
            await r.publish("ach", f"l{i}")
        assert await asyncio.wait_for(task, 5) == [b"l0", b"l1", b"l2"]
        await p.unsubscribe()
        await p.punsubscribe()
        await p.aclose()
        sp = r.pubsub()
        await sp.ssubscribe("ash")
        assert (await sp.get_message(timeout=2))["type"] == "ssubscribe"
        assert await r.spublish("ash", "s") == 1
        assert await sp.get_message(timeout=2) == {"type": "smessage", "pattern": None, "channel": b"ash",
                                                   "data": b"s"}
        await sp.aclose()
        await r.aclose()
    run(main())


def test_blocking_commands(pykey_server, protocol):
    async def main():
        r = aredis.Redis(port=pykey_server.port, protocol=protocol)
        w = aredis.Redis(port=pykey_server.port, protocol=protocol)
        await r.delete("q", "s")
        waiter = asyncio.create_task(r.blpop(["q"], 5))
        while (await w.info("clients"))["blocked_clients"] < 1:
            await asyncio.sleep(0.01)
        await w.rpush("q", "job")
        assert await waiter in ((b"q", b"job"), [b"q", b"job"])
        assert await r.blpop(["q"], 0.05) is None
        reader = asyncio.create_task(r.xread({"s": "$"}, block=5000))
        while (await w.info("clients"))["blocked_clients"] < 1:
            await asyncio.sleep(0.01)
        await w.xadd("s", {"f": "v"}, id="1-1")
        got = await reader
        assert got in ([[b"s", [(b"1-1", {b"f": b"v"})]]], {b"s": [[(b"1-1", {b"f": b"v"})]]})
        await r.aclose()
        await w.aclose()
    run(main())


def test_scan_iter_and_lock(pykey_server, protocol):
    async def main():
        r = aredis.Redis(port=pykey_server.port, protocol=protocol)
        await r.flushall()
        await r.mset({f"a:{i}": i for i in range(250)})
        assert len([k async for k in r.scan_iter(match="a:*", count=30)]) == 250
        await r.hset("h", mapping={f"f{i}": i for i in range(100)})
        assert len([kv async for kv in r.hscan_iter("h", count=10)]) == 100
        await r.zadd("z", {f"m{i}": i for i in range(100)})
        assert len([kv async for kv in r.zscan_iter("z", count=10)]) == 100
        if b"eval" not in await r.command_list():
            pytest.skip("EVAL is not implemented yet: redis-py's Lock runs Lua scripts")
        lock = r.lock("alock", timeout=5)
        assert await lock.acquire(blocking=False)
        assert not await r.lock("alock", timeout=5).acquire(blocking=False)
        assert await lock.extend(5)
        await lock.release()
        assert not await lock.locked()
        await r.aclose()
    run(main())


def test_url_auth_and_health_check(auth_server, protocol):
    async def main():
        r = aredis.from_url(f"redis://:{PASSWORD}@127.0.0.1:{auth_server.port}/4?protocol={protocol}",
                            health_check_interval=0.05)
        assert (await r.client_info())["db"] == 4
        await asyncio.sleep(0.1)
        assert await r.ping() is True          # health check PING, then PING
        await r.aclose()
        bad = aredis.from_url(f"redis://:nope@127.0.0.1:{auth_server.port}/0")
        with pytest.raises(redis.AuthenticationError):
            await bad.ping()
        await bad.aclose()
    run(main())
