"""keyspace_hits and keyspace_misses count what Valkey's lookupKeyRead counts: the keys
read by read commands and by the write commands that read (GETDEL, SORT, *STORE sources),
not the keys writes look up, nor OBJECT/SCAN/KEYS inspections."""
from __future__ import annotations

import shlex

import pytest

SCRIPTS = [
    "GET missing ; SET k v ; GET k ; GET k",
    "SET k v ; EXISTS k missing k ; TYPE k ; TYPE missing ; TTL k ; STRLEN k",
    "SET k v ; SET k w ; INCR n ; APPEND k x ; DEL k missing",
    "SET k v ; GETDEL k ; GETDEL k ; GETEX missing",
    "RPUSH l a b ; LRANGE l 0 -1 ; LPOP l ; LLEN l ; LLEN missing ; SORT l ALPHA",
    "SADD a 1 2 ; SADD b 2 3 ; SINTERSTORE d a b missing ; SMEMBERS d ; SCARD nope",
    "HSET h f v ; HGET h f ; HGETALL h ; HINCRBY h n 1 ; HGET missing f",
    "ZADD z 1 a ; ZRANGESTORE d z 0 -1 ; ZSCORE z a ; ZUNIONSTORE u 2 z missing",
    "SET k v ; OBJECT ENCODING k ; SCAN 0 ; KEYS * ; RANDOMKEY ; DBSIZE ; MEMORY USAGE k",
    "SET k v ; MGET k missing k ; COPY k k2 ; COPY missing k3",
]


def _stats(conn) -> tuple[int, int]:
    info = conn.call("INFO", "stats").decode()
    fields = dict(line.split(":", 1) for line in info.split("\r\n") if ":" in line)
    return int(fields["keyspace_hits"]), int(fields["keyspace_misses"])


@pytest.mark.parametrize("script", SCRIPTS)
def test_hits_and_misses_like_redis(script, pykey_raw, redis_raw):
    counts = []
    for conn in (pykey_raw, redis_raw):
        before = _stats(conn)
        for part in script.split(" ; "):
            conn.call(*shlex.split(part))
        after = _stats(conn)
        counts.append((after[0] - before[0], after[1] - before[1]))
    assert counts[0] == counts[1], f"pykey (hits, misses) {counts[0]}, redis {counts[1]}"
