"""BITFIELD and BITFIELD_RO: types, # offsets, overflow modes, errors, dirty counting."""
import random

import pytest
import redis


def bf(r, *args):
    return r.execute_command("BITFIELD", *args)


def test_set_get_incrby(r):
    assert bf(r, "k", "SET", "i8", 0, -100) == [0]
    assert bf(r, "k", "SET", "i8", 0, 101) == [-100]
    assert bf(r, "k", "GET", "i8", 0) == [101]
    assert bf(r, "k", "SET", "u8", 0, 255, "INCRBY", "u8", 0, 100, "GET", "u8", 0) == [101, 99, 99]
    assert bf(r, "k") == []
    assert r.execute_command("BITFIELD_RO", "k", "GET", "u4", 0) == [6]
    r.delete("k")
    bf(r, "k", "SET", "u8", "#0", 65, "SET", "u8", "#1", 66, "SET", "u8", "#2", 67)
    assert r.get("k") == b"ABC"
    assert bf(r, "k", "GET", "u16", "#1", "GET", "u16", 8) == [0x4300, 0x4243]
    assert bf(r, "k", "GET", "i64", 0) == [0x4142430000000000]
    assert bf(r, "k", "GET", "u63", 1) == [0x4142430000000000 & (2**63 - 1)]


def test_unaligned_fields(r):
    bf(r, "k", "SET", "u5", 7, 23)
    assert r.get("k") == b"\x01\x70"
    assert bf(r, "k", "GET", "u5", 7, "GET", "i5", 7, "GET", "u1", 7) == [23, -9, 1]


def test_overflow_modes(r):
    bf(r, "k", "SET", "u8", "#0", 100)
    assert bf(r, "k", "OVERFLOW", "WRAP", "INCRBY", "u8", "#0", 257) == [101]
    assert bf(r, "k", "OVERFLOW", "SAT", "INCRBY", "u8", "#0", 257) == [255]
    assert bf(r, "k", "OVERFLOW", "SAT", "INCRBY", "u8", "#0", -300) == [0]
    assert bf(r, "k", "OVERFLOW", "FAIL", "INCRBY", "u8", "#0", -1, "GET", "u8", "#0") == [None, 0]
    assert bf(r, "k", "SET", "i8", 0, 100, "OVERFLOW", "SAT", "INCRBY", "i8", 0, 257) == [0, 127]
    assert bf(r, "k", "OVERFLOW", "SAT", "INCRBY", "i8", 0, -255) == [-128]
    assert bf(r, "k", "OVERFLOW", "SAT", "SET", "u8", 0, -1) == [128]
    assert bf(r, "k", "GET", "u8", 0) == [255]
    assert bf(r, "k", "OVERFLOW", "WRAP", "SET", "i8", 0, 200, "GET", "i8", 0) == [-1, -56]
    assert bf(r, "m", "SET", "i8", 0, 10, "SET", "i8", 64, 10, "INCRBY", "i8", 10, 99900) == [0, 0, 60]


def test_wrap_fuzz_against_a_model(r):
    rng = random.Random(9)
    for _ in range(300):
        bits = rng.randint(1, 64)
        signed = bits == 64 or rng.random() < 0.5
        rng_size = 2 ** bits
        lo = -(rng_size // 2) if signed else 0
        value = max(min(lo * 2 + rng.randrange(rng_size * 2), 2**63 - 1), -2**63)
        incr = max(min(lo * 2 + rng.randrange(rng_size * 2), 2**63 - 1), -2**63)
        t = f"{'i' if signed else 'u'}{bits}"
        r.delete("k")
        bf(r, "k", "OVERFLOW", "WRAP", "SET", t, 0, value)
        bf(r, "k", "OVERFLOW", "WRAP", "INCRBY", t, 0, incr)
        expected = ((rng_size // 2 if signed else 0) + value + incr) % rng_size + lo
        assert bf(r, "k", "GET", t, 0) == [expected], (t, value, incr)
        mx = lo + rng_size - 1
        overflow = not (lo <= value <= mx) or not (lo <= value + incr <= mx)
        r.delete("k")
        res1 = bf(r, "k", "OVERFLOW", "FAIL", "SET", t, 0, value)
        res2 = bf(r, "k", "OVERFLOW", "FAIL", "INCRBY", t, 0, incr)
        if overflow:
            assert res1 == [None] or res2 == [None]
        else:
            assert res1 != [None] and res2 != [None]


def test_errors(r):
    for bad in ("u64", "i65", "i0", "x8", "I8", "u", "u-1"):
        with pytest.raises(redis.ResponseError, match="^Invalid bitfield type. Use something like "
                           "i16 u8. Note that u64 is not supported but i64 is.$"):
            bf(r, "k", "GET", bad, 0)
    with pytest.raises(redis.ResponseError, match="^bit offset is not an integer or out of range$"):
        bf(r, "k", "GET", "u8", -1)
    with pytest.raises(redis.ResponseError, match="^bit offset is not an integer or out of range$"):
        bf(r, "k", "SET", "u8", 2**32 * 8, 1)
    with pytest.raises(redis.ResponseError, match="^bit offset is not an integer or out of range$"):
        bf(r, "k", "SET", "u8", "#x", 1)
    with pytest.raises(redis.ResponseError, match="^Invalid OVERFLOW type specified$"):
        bf(r, "k", "OVERFLOW", "NOPE", "GET", "u8", 0)
    with pytest.raises(redis.ResponseError, match="^syntax error$"):
        bf(r, "k", "GET", "u8")
    with pytest.raises(redis.ResponseError, match="^syntax error$"):
        bf(r, "k", "FOO", "u8", 0)
    with pytest.raises(redis.ResponseError, match="value is not an integer"):
        bf(r, "k", "SET", "u8", 0, "x")
    with pytest.raises(redis.ResponseError, match="^BITFIELD_RO only supports the GET subcommand$"):
        r.execute_command("BITFIELD_RO", "k", "SET", "u8", 0, 100, "GET", "u8", 0)
    assert not r.exists("k")                    # nothing ran
    r.rpush("l", "x")
    with pytest.raises(redis.ResponseError, match="^WRONGTYPE"):
        bf(r, "l", "GET", "u8", 0)
    with pytest.raises(redis.ResponseError, match="^WRONGTYPE"):
        bf(r, "l", "SET", "u8", 0, 1)


def test_dirty_counting(r):
    def dirty():
        return r.info("persistence")["rdb_changes_since_last_save"]
    d0 = dirty()
    bf(r, "k", "SET", "i5", 0, 0)
    assert dirty() == d0 + 1
    bf(r, "k", "SET", "i5", 0, 0)
    bf(r, "k", "GET", "i5", 0)
    assert dirty() == d0 + 1
    bf(r, "k", "SET", "i5", 0, 1, "SET", "i5", 0, 1)
    assert dirty() == d0 + 2
    bf(r, "k", "INCRBY", "i5", 0, 1, "INCRBY", "i5", 0, 1)
    assert dirty() == d0 + 4
    bf(r, "k", "SET", "i5", 90, 0)
    assert dirty() == d0 + 5
