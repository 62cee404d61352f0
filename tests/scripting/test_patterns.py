"""What people build with scripts, from several clients at once: redis-py's Script objects
and Lock (its lock is Lua), a token-bucket rate limiter, a reliable queue. Scripts are atomic,
so the totals must come out exact."""
from __future__ import annotations

import threading

import redis

from pykey.testing import EmbeddedServer

TOKEN_BUCKET = """
local key, rate, capacity, now, want = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local state = redis.call('hmget', key, 'tokens', 'ts')
local tokens = tonumber(state[1]) or capacity
local ts = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + (now - ts) * rate)
local allowed = tokens >= want
if allowed then tokens = tokens - want end
redis.call('hset', key, 'tokens', tokens, 'ts', now)
redis.call('pexpire', key, 60000)
return allowed and 1 or 0
"""

# take a job from the queue into a processing list, remembering when
TAKE = """
local job = redis.call('lmove', KEYS[1], KEYS[2], 'RIGHT', 'LEFT')
if job then redis.call('zadd', KEYS[3], ARGV[1], job) end
return job
"""
# acknowledge: drop it from the processing list and the deadlines
ACK = """
local n = redis.call('lrem', KEYS[1], 1, ARGV[1])
redis.call('zrem', KEYS[2], ARGV[1])
if n == 1 then redis.call('incr', KEYS[3]) end
return n
"""


def _clients(srv: EmbeddedServer, n: int) -> list[redis.Redis]:
    return [redis.Redis(host=srv.host, port=srv.port, socket_timeout=10) for _ in range(n)]


def _run(threads: list[threading.Thread]) -> None:
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
        assert not t.is_alive()


def test_register_script_counter(r, pykey_server):
    clients = _clients(pykey_server, 4)
    scripts = [c.register_script("return redis.call('incrby', KEYS[1], ARGV[1])") for c in clients]
    r.script_flush()                     # the first call of each Script object falls back to EVAL

    def work(script):
        for _ in range(200):
            script(keys=["counter"], args=[2])

    _run([threading.Thread(target=work, args=(s,)) for s in scripts])
    assert int(r.get("counter")) == 4 * 200 * 2


def test_lock_guards_a_read_modify_write(r, pykey_server):
    clients = _clients(pykey_server, 4)
    r.set("balance", 0)

    def work(c: redis.Redis):
        for _ in range(25):
            with c.lock("account-lock", timeout=5, blocking_timeout=20, sleep=0.001):
                value = int(c.get("balance"))
                c.set("balance", value + 1)

    _run([threading.Thread(target=work, args=(c,)) for c in clients])
    assert int(r.get("balance")) == 100
    assert r.exists("account-lock") == 0
    lock = r.lock("l2", timeout=10)
    assert lock.acquire(blocking=False)
    assert not r.lock("l2", timeout=10).acquire(blocking=False)
    assert lock.extend(5)
    assert lock.release() is None


def test_token_bucket(r, pykey_server):
    clients = _clients(pykey_server, 4)
    allowed = []
    lock = threading.Lock()

    def work(c: redis.Redis):
        bucket = c.register_script(TOKEN_BUCKET)
        got = sum(bucket(keys=["bucket:user1"], args=[0, 50, 1000, 1]) for _ in range(30))
        with lock:
            allowed.append(got)

    _run([threading.Thread(target=work, args=(c,)) for c in clients])
    assert sum(allowed) == 50                 # capacity 50, no refill: exactly 50 of 120 pass
    bucket = r.register_script(TOKEN_BUCKET)
    assert bucket(keys=["bucket:user1"], args=[10, 50, 1001, 5]) == 1     # refilled 10 after 1s
    assert bucket(keys=["bucket:user1"], args=[10, 50, 1001, 6]) == 0


def test_reliable_queue(r, pykey_server):
    jobs = [f"job-{i}" for i in range(200)]
    r.lpush("queue", *jobs)
    clients = _clients(pykey_server, 4)
    done: list[str] = []
    lock = threading.Lock()

    def work(c: redis.Redis):
        take = c.register_script(TAKE)
        ack = c.register_script(ACK)
        while True:
            job = take(keys=["queue", "processing", "deadlines"], args=[1000])
            if job is None:
                return
            assert ack(keys=["processing", "deadlines", "acked"], args=[job]) == 1
            with lock:
                done.append(job.decode())

    _run([threading.Thread(target=work, args=(c,)) for c in clients])
    assert sorted(done) == sorted(jobs)
    assert int(r.get("acked")) == 200
    assert r.llen("processing") == 0 and r.zcard("deadlines") == 0
