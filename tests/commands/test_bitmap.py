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


def test_setbit_dirty_only_on_change(r):
    def dirty():
        return r.info("persistence")["rdb_changes_since_last_save"]
    d0 = dirty()
    r.setbit("b", 0, 0)                       # creates the key: a change
    assert dirty() == d0 + 1
    r.setbit("b", 0, 0)
    assert dirty() == d0 + 1
    r.setbit("b", 0, 1)
    r.setbit("b", 0, 1)
    assert dirty() == d0 + 2
    r.setbit("b", 90, 0)                      # only grows the string: still a change
    assert dirty() == d0 + 3 and r.strlen("b") == 12


def test_setbit_value_and_offset_errors_order(r):
    r.rpush("l", "x")
    with pytest.raises(redis.ResponseError, match="^bit offset is not an integer or out of range$"):
        r.execute_command("SETBIT", "l", "x", 2)
    with pytest.raises(redis.ResponseError, match="^bit is not an integer or out of range$"):
        r.execute_command("SETBIT", "l", 0, "01")
    with pytest.raises(redis.ResponseError, match="^WRONGTYPE"):
        r.setbit("l", 0, 1)
    with pytest.raises(redis.ResponseError, match="^bit offset is not an integer or out of range$"):
        r.setbit("b", 512 * 1024 * 1024 * 8, 1)
    r.setbit("ok", 7, 1)
    assert r.getbit("ok", 7) == 1


def test_bitcount_and_bitpos_argument_errors(r):
    for key_setup in (lambda: None, lambda: r.set("s", "1")):
        r.delete("s")
        key_setup()
        with pytest.raises(redis.ResponseError, match="syntax error"):
            r.execute_command("BITCOUNT", "s", 0, 1, "hello")
        with pytest.raises(redis.ResponseError, match="syntax error"):
            r.execute_command("BITCOUNT", "s", 0, 1, "hello", "hello2")
        with pytest.raises(redis.ResponseError, match="syntax error"):
            r.execute_command("BITPOS", "s", 0, 1, "hello", "hello2")
        with pytest.raises(redis.ResponseError, match="syntax error"):
            r.execute_command("BITPOS", "s", 0, 0, 1, "hello")
        with pytest.raises(redis.ResponseError, match="not an integer"):
            r.execute_command("BITCOUNT", "s", "a", "b")
        with pytest.raises(redis.ResponseError, match="not an integer"):
            r.execute_command("BITPOS", "s", "a")


def test_bitcount_bit_ranges_match_a_model(r):
    import random
    rng = random.Random(11)
    data = bytes(rng.randrange(256) for _ in range(20))
    r.set("x", data)
    bits = "".join(f"{b:08b}" for b in data)
    n = len(bits)
    for _ in range(200):
        s, e = rng.randrange(-n - 5, n + 5), rng.randrange(-n - 5, n + 5)
        if s < 0 and e < 0 and s > e:
            expected = 0
        else:
            a, b = (s + n if s < 0 else s), (e + n if e < 0 else e)
            a, b = max(a, 0), min(max(b, 0), n - 1)
            expected = bits[a:b + 1].count("1") if a <= b else 0
        assert r.execute_command("BITCOUNT", "x", s, e, "BIT") == expected
        for bit in (0, 1):
            if a <= b and not (s < 0 and e < 0 and s > e):
                pos = bits.find(str(bit), a, b + 1)
            else:
                pos = -1
            assert r.execute_command("BITPOS", "x", bit, s, e, "BIT") == pos


def test_bitop(r):
    r.set("a", b"\xf0\x0f\xff")
    r.set("b", b"\xff\x00")
    r.set("c", b"\x0f")
    assert r.bitop("AND", "d", "a", "b") == 3 and r.get("d") == b"\xf0\x00\x00"
    assert r.bitop("OR", "d", "a", "b") == 3 and r.get("d") == b"\xff\x0f\xff"
    assert r.bitop("XOR", "d", "a", "b", "c") == 3 and r.get("d") == b"\x00\x0f\xff"
    assert r.bitop("NOT", "d", "b") == 2 and r.get("d") == b"\x00\xff"
    assert r.object("encoding", "d") == b"raw"
    assert r.bitop("AND", "d", "a") == 3 and r.get("d") == b"\xf0\x0f\xff"
    assert r.bitop("AND", "d", "a", "missing") == 3 and r.get("d") == b"\x00\x00\x00"
    r.expire("d", 100)
    assert r.bitop("OR", "d", "missing", "missing2") == 0 and not r.exists("d")
    r.set("d", "x", ex=100)
    assert r.bitop("OR", "d", "a") == 3 and r.ttl("d") == -1
    r.rpush("l", "x")
    with pytest.raises(redis.ResponseError, match="^WRONGTYPE"):
        r.bitop("OR", "d", "a", "l")
    r.set("d", "unchanged")
    with pytest.raises(redis.ResponseError, match="^WRONGTYPE"):
        r.bitop("OR", "d", "l")
    assert r.get("d") == b"unchanged"
    with pytest.raises(redis.ResponseError, match="^BITOP NOT must be called with a single source key.$"):
        r.bitop("NOT", "d", "a", "b")
    with pytest.raises(redis.ResponseError, match="^syntax error$"):
        r.bitop("NAND", "d", "a", "b")
    r.set("i", 123)
    assert r.bitop("OR", "d", "i") == 3 and r.get("d") == b"123"


def test_bitop_valkey9_operations(r):
    r.set("x", b"\xf0\xf0")
    r.set("y1", b"\xcc")
    r.set("y2", b"\x0f\x01\x80")
    assert r.execute_command("BITOP", "DIFF", "d", "x", "y1", "y2") == 3
    assert r.get("d") == b"\x30\xf0\x00"                  # x & ~(y1 | y2)
    assert r.execute_command("BITOP", "DIFF1", "d", "x", "y1", "y2") == 3
    assert r.get("d") == b"\x0f\x01\x80"                  # ~x & (y1 | y2)
    assert r.execute_command("BITOP", "ANDOR", "d", "x", "y1", "y2") == 3
    assert r.get("d") == b"\xc0\x00\x00"                  # x & (y1 | y2)
    assert r.execute_command("BITOP", "ONE", "d", "x", "y1", "y2") == 3
    assert r.get("d") == b"\x33\xf1\x80"                  # set in exactly one source
    assert r.execute_command("BITOP", "ONE", "d", "x") == 2 and r.get("d") == b"\xf0\xf0"
    for op in ("DIFF", "diff1", "AndOr"):
        with pytest.raises(redis.ResponseError,
                           match=f"^BITOP {op.upper()} must be called with at least two source keys.$"):
            r.execute_command("BITOP", op, "d", "x")


def test_bitop_fuzz_against_a_model(r):
    import random
    rng = random.Random(4)
    ops = {"AND": lambda a, b: a & b, "OR": lambda a, b: a | b, "XOR": lambda a, b: a ^ b}
    for _ in range(50):
        n = rng.randrange(1, 5)
        vals = [bytes(rng.randrange(256) for _ in range(rng.randrange(0, 12))) for _ in range(n)]
        for i, v in enumerate(vals):
            r.set(f"k{i}", v)
        op = rng.choice(list(ops))
        size = max(len(v) for v in vals)
        padded = [v.ljust(size, b"\x00") for v in vals]
        expected = bytearray(padded[0])
        for v in padded[1:]:
            expected = bytearray(ops[op](x, y) for x, y in zip(expected, v, strict=True))
        assert r.bitop(op, "dest", *[f"k{i}" for i in range(n)]) == size
        assert (r.get("dest") or b"") == bytes(expected)
