"""PFADD PFCOUNT PFMERGE PFDEBUG PFSELFTEST: replies, errors and the exact bytes of the value."""
import pytest
import redis

# what Valkey (and Redis) store after PFADD h a b c, before and after a PFCOUNT caches 3
ABC_STALE = b"HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80`\xf3\x80P\xb1\x84K\xfb\x80BZ"
ABC_CACHED = b"HYLL\x01\x00\x00\x00\x03\x00\x00\x00\x00\x00\x00\x00`\xf3\x80P\xb1\x84K\xfb\x80BZ"
WRONGTYPE = "^WRONGTYPE Operation against a key holding the wrong kind of value$"
NOT_HLL = "^WRONGTYPE Key is not a valid HyperLogLog string value.$"
CORRUPT = "^INVALIDOBJ Corrupted HLL object detected$"


def test_pfadd_bytes_are_valkeys(r):
    assert r.pfadd("h", "a", "b", "c") == 1
    assert r.get("h") == ABC_STALE
    assert r.pfcount("h") == 3
    assert r.get("h") == ABC_CACHED
    assert r.pfadd("h", "a", "b") == 0
    assert r.get("h") == ABC_CACHED            # nothing changed: the cache stays valid
    assert r.execute_command("PFDEBUG", "DECODE", "h") == b"Z:8436 v:1,1 Z:4274 v:2,1 Z:3068 v:1,1 Z:603"
    assert r.object("encoding", "h") == b"raw"


def test_pfadd_without_elements_creates_key(r):
    assert r.execute_command("PFADD", "h") == 1
    assert r.get("h") == b"HYLL\x01" + bytes(10) + b"\x80\x7f\xff"
    assert r.execute_command("PFADD", "h") == 0
    assert r.pfcount("h") == 0
    assert r.get("h")[15] == 0


def test_pfcount_counts(r):
    r.pfadd("h", *range(1000))
    assert abs(r.pfcount("h") - 1000) < 30
    assert r.pfcount("missing") == 0
    r.pfadd("h2", *range(500, 1500))
    assert abs(r.pfcount("h", "h2", "missing") - 1500) < 45


def test_promotion_to_dense(r):
    r.config_set("hll-sparse-max-bytes", 3000)
    try:
        r.pfadd("h", *range(100))
        assert r.execute_command("PFDEBUG", "ENCODING", "h") == b"sparse"
        r.config_set("hll-sparse-max-bytes", 30)
        r.pfadd("h", "one more")
        assert r.execute_command("PFDEBUG", "ENCODING", "h") == b"dense"
        assert r.strlen("h") == 16 + 12288
    finally:
        r.config_set("hll-sparse-max-bytes", 3000)


def test_sparse_and_dense_count_the_same(r):
    for n in (1, 10, 100, 1000):
        r.delete("s", "d")
        r.execute_command("PFADD", "d")
        assert r.execute_command("PFDEBUG", "TODENSE", "d") == 1
        assert r.execute_command("PFDEBUG", "TODENSE", "d") == 0
        elements = [f"e{i}" for i in range(n)]
        r.pfadd("s", *elements)
        r.pfadd("d", *elements)
        assert r.execute_command("PFDEBUG", "ENCODING", "s") == b"sparse"
        assert r.pfcount("s") == r.pfcount("d")
        assert r.execute_command("PFDEBUG", "GETREG", "s") == r.execute_command("PFDEBUG", "GETREG", "d")


def test_pfmerge(r):
    r.pfadd("a", "x", "y", "z")
    r.pfadd("b", "y", "z", "w")
    assert r.pfmerge("d", "a", "b") is True
    assert r.pfcount("d") == 4
    assert r.execute_command("PFMERGE", "empty") is True
    assert r.get("empty") == b"HYLL\x01" + bytes(10) + b"\x80\x7f\xff"
    r.pfmerge("a")                              # dest is also a source
    assert r.pfcount("a") == 3
    r.pfadd("big", *range(5000))
    r.pfmerge("m", "a", "big")
    assert r.execute_command("PFDEBUG", "ENCODING", "m") == b"dense"


def test_type_errors(r):
    r.set("s", "not an hll")
    r.rpush("l", "x")
    with pytest.raises(redis.ResponseError, match=NOT_HLL):
        r.pfadd("s", "a")
    with pytest.raises(redis.ResponseError, match=NOT_HLL):
        r.pfcount("s")
    with pytest.raises(redis.ResponseError, match=NOT_HLL):
        r.pfmerge("d", "s")
    with pytest.raises(redis.ResponseError, match=WRONGTYPE):
        r.pfadd("l", "a")
    with pytest.raises(redis.ResponseError, match=WRONGTYPE):
        r.pfcount("x", "l")


def test_corrupt_values(r):
    r.pfadd("h", "a", "b", "c")
    r.append("h", "hello")                      # opcodes past the 16384 registers
    with pytest.raises(redis.ResponseError, match=CORRUPT):
        r.pfcount("h")
    with pytest.raises(redis.ResponseError, match=CORRUPT):
        r.pfcount("h", "other")
    with pytest.raises(redis.ResponseError, match=CORRUPT):
        r.pfmerge("d", "h")
    r.delete("h")
    r.pfadd("h", "a", "b", "c")
    r.setrange("h", 4, "\x00")                  # claims dense with a sparse length
    with pytest.raises(redis.ResponseError, match=NOT_HLL):
        r.pfcount("h")
    r.setrange("h", 4, "x")
    with pytest.raises(redis.ResponseError, match=NOT_HLL):
        r.pfcount("h")
    r.set("short", "HYLL")
    with pytest.raises(redis.ResponseError, match=NOT_HLL):
        r.pfadd("short", "x")


def test_corruption_fuzz_never_breaks_the_server(r):
    import random
    rng = random.Random(7)
    for _ in range(60):
        r.delete("h")
        r.pfadd("h", *[rng.random() for _ in range(rng.randrange(1, 3000))])
        length = r.strlen("h")
        for _ in range(rng.randrange(1, 5)):
            r.setrange("h", rng.randrange(length), bytes([rng.randrange(256)]))
        for cmd in (("PFCOUNT", "h"), ("PFADD", "h", "x", "y", "z"), ("PFCOUNT", "h", "h"),
                    ("PFMERGE", "h2", "h"), ("PFDEBUG", "GETREG", "h")):
            try:
                r.execute_command(*cmd)
            except redis.ResponseError as e:
                assert str(e).startswith(("INVALIDOBJ", "WRONGTYPE"))
    assert r.ping()


def test_pfdebug(r):
    with pytest.raises(redis.ResponseError, match="^The specified key does not exist$"):
        r.execute_command("PFDEBUG", "GETREG", "missing")
    r.pfadd("h", "a")
    with pytest.raises(redis.ResponseError, match="^Unknown PFDEBUG subcommand 'nope'$"):
        r.execute_command("PFDEBUG", "nope", "h")
    regs = r.execute_command("PFDEBUG", "GETREG", "h")
    assert len(regs) == 16384 and sum(1 for v in regs if v) == 1
    assert r.execute_command("PFDEBUG", "ENCODING", "h") == b"dense"   # GETREG converts
    with pytest.raises(redis.ResponseError, match="^HLL encoding is not sparse$"):
        r.execute_command("PFDEBUG", "DECODE", "h")
    with pytest.raises(redis.ResponseError, match="wrong number of arguments for 'pfdebug'"):
        r.execute_command("PFDEBUG", "GETREG")


def test_pfselftest(r):
    assert r.execute_command("PFSELFTEST") == b"OK"


def test_hll_written_by_set_is_counted_and_unshared(r):
    r.set("h", ABC_STALE)
    r.expire("h", 1000)
    assert r.pfcount("h") == 3
    assert r.get("h") == ABC_CACHED
    assert r.ttl("h") > 0
    r.pfadd("h", "d")
    assert r.pfcount("h") == 4
