"""redis-benchmark (the system's, Redis 7.0's on Debian) against pykey: its whole default test
list, RESP3, client tracking, many clients, pipelining and a custom command all complete
with no error reply (redis-benchmark exits 1 on the first 'Error from server')."""
from __future__ import annotations

import csv
import io
import subprocess

import pytest
from clienttools import tool, wait_for

DEFAULT_TESTS = ["PING_INLINE", "PING_MBULK", "SET", "GET", "INCR", "LPUSH", "RPUSH", "LPOP", "RPOP", "SADD",
                 "HSET", "SPOP", "ZADD", "ZPOPMIN", "LPUSH (needed to benchmark LRANGE)",
                 "LRANGE_100 (first 100 elements)", "LRANGE_300 (first 300 elements)",
                 "LRANGE_500 (first 500 elements)", "LRANGE_600 (first 600 elements)", "MSET (10 keys)"]


def bench(port: int, *args: str, timeout: float = 120) -> dict[str, float]:
    """Run redis-benchmark with CSV output; fail on any error; return requests/s per test."""
    proc = subprocess.run([tool("redis-benchmark"), "-p", str(port), "--csv", *args], capture_output=True,
                          timeout=timeout)
    stderr = proc.stderr.decode(errors="replace")
    assert proc.returncode == 0 and "Error" not in stderr, (args, stderr, proc.stdout[-2000:])
    rows = list(csv.reader(io.StringIO(proc.stdout.decode())))
    assert rows[0][:2] == ["test", "rps"], rows[:2]
    return {row[0]: float(row[1]) for row in rows[1:]}


@pytest.fixture
def flushed(r, pykey_server):
    yield pykey_server.port
    r.flushall()


def test_default_test_list(flushed):
    results = bench(flushed, "-n", "1000", "-r", "1000")
    missing = [t for t in DEFAULT_TESTS if t not in results]
    assert not missing, (missing, list(results))
    assert all(rps > 0 for rps in results.values()), results


def test_resp3(flushed):
    results = bench(flushed, "-3", "-n", "1000", "-t", "ping,set,get,incr,lpush,hset,zadd,lrange_100,mset")
    assert set(results) >= {"PING_INLINE", "PING_MBULK", "SET", "GET", "HSET", "MSET (10 keys)"}


def test_client_tracking(flushed, r):
    results = bench(flushed, "--enable-tracking", "-n", "1000", "-t", "set,get")
    assert set(results) == {"SET", "GET"}
    wait_for(lambda: r.info("clients")["tracking_clients"] == 0)      # its connections are gone


def test_many_clients_and_pipelining(flushed):
    results = bench(flushed, "-c", "200", "-n", "4000", "-t", "set,get,lpush,lpop")
    assert set(results) == {"SET", "GET", "LPUSH", "LPOP"}
    results = bench(flushed, "-c", "20", "-P", "32", "-n", "20000", "-r", "10000", "-t", "set,get,incr")
    assert set(results) == {"SET", "GET", "INCR"}


def test_custom_commands(flushed, r):
    bench(flushed, "-n", "500", "-r", "100", "HSET", "hash:__rand_int__", "field", "__rand_int__")
    assert 0 < r.dbsize() <= 100
    bench(flushed, "-n", "500", "-r", "100", "ZADD", "z", "__rand_int__", "m:__rand_int__")
    assert 0 < r.zcard("z") <= 100
    if b"eval" in r.command_list():
        bench(flushed, "-n", "300", "EVAL", "return redis.call('INCR', KEYS[1])", "1", "ev")
        assert int(r.get("ev")) == 300
