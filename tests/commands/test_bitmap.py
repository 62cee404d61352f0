"""SETBIT GETBIT BITCOUNT BITPOS."""
import pytest
import redis


def test_setbit_getbit_grow(r):
    assert r.setbit("b", 7, 1) == 0
    assert r.setbit("b", 7, 0) == 1
    assert r.setbit("b", 100, 1) == 0
    assert r.strlen("b") == 13
    assert r.getbit("b", 100) == 1 and r.getbit("b", 10_000) == 0


def test_setbit_errors(r):
    with pytest.raises(redis.ResponseError, match="^bit offset is not an integer or out of range$"):
        r.setbit("b", -1, 1)
    with pytest.raises(redis.ResponseError, match="^bit offset is not an integer or out of range$"):
        r.setbit("b", 4 * 1024 * 1024 * 1024, 1)
    with pytest.raises(redis.ResponseError, match="^bit is not an integer or out of range$"):
        r.execute_command("SETBIT", "b", 1, 2)
    r.execute_command("SET", "s", "x")
    assert r.setbit("s", 0, 1) == 0 and r.get("s") == b"\xf8"


def test_bitcount_ranges(r):
    r.set("x", b"\xff\xf0\x00")
    assert r.bitcount("x") == 12
    assert r.bitcount("x", 1, 1) == 4
    assert r.execute_command("BITCOUNT", "x", 1, 5, "BIT") == 5
    assert r.bitcount("x", -1, -2) == 0
    assert r.bitcount("missing") == 0
    with pytest.raises(redis.ResponseError, match="syntax error"):
        r.execute_command("BITCOUNT", "x", 0, 1, "WORD")


def test_bitpos(r):
    r.set("x", b"\xff\xf0\x00")
    assert r.bitpos("x", 0) == 12
    assert r.bitpos("x", 1, 1) == 8
    assert r.execute_command("BITPOS", "x", 0, 2, 20, "BIT") == 12
    r.set("ones", b"\xff")
    assert r.bitpos("ones", 0) == 8
    assert r.bitpos("ones", 0, 0, -1) == -1
    assert r.bitpos("missing", 0) == 0 and r.bitpos("missing", 1) == -1
    with pytest.raises(redis.ResponseError, match="The bit argument must be 1 or 0."):
        r.execute_command("BITPOS", "x", 2)
