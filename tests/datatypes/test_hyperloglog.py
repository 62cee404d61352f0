"""The HLL structure: the fast paths (bulk packing, the batch sparse editor, SWAR maximum)
must give exactly what the register-by-register and byte-by-byte paths give."""
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from pykey.datatypes import hyperloglog as H


def test_murmurhash64a_known_values():
    # from Valkey: PFADD h a b c sets registers 8436=1, 12711=2, 15780=1
    assert sorted(H.pat_len(e) for e in (b"a", b"b", b"c")) == [(8436, 1), (12711, 2), (15780, 1)]
    assert H.murmurhash64a(b"") == H.murmurhash64a(b"", H.HASH_SEED)
    assert H.murmurhash64a(b"12345678abc") != H.murmurhash64a(b"12345678abd")


def _random_registers(seed: int, top: int = 63) -> bytes:
    rng = random.Random(seed)
    return bytes(rng.randint(0, top) if rng.random() < 0.7 else 0 for _ in range(H.REGISTERS))


@given(st.integers(0, 2**32))
@settings(max_examples=20, deadline=None)
def test_dense_packing_round_trip(seed):
    raw = _random_registers(seed)
    dense = H.raw_to_dense(raw)
    assert len(dense) == H.DENSE_BYTES
    assert H.dense_to_raw(dense) == raw
    buf = bytearray(b"HYLL" + bytes(12)) + dense
    for i in (0, 1, 2, 3, 4, 5, 1000, 16382, 16383):
        assert H.dense_get(buf, i) == raw[i]


@given(st.integers(0, 2**32), st.integers(0, 2**32))
@settings(max_examples=20, deadline=None)
def test_raw_max(seed_a, seed_b):
    a = _random_registers(seed_a)
    b = _random_registers(seed_b, 20)
    assert H.raw_max(a, b) == bytes(max(x, y) for x, y in zip(a, b, strict=True))


def _byte_path(seq, max_bytes):
    buf = H.new_sparse()
    for index, count in seq:
        if buf[4] == H.DENSE:
            H.dense_set(buf, index, count)
        else:
            assert H.sparse_set(buf, index, count, max_bytes) >= 0
    return buf


registers = st.tuples(st.integers(0, H.REGISTERS - 1), st.integers(1, 40))
clustered = st.tuples(st.integers(8000, 8040), st.integers(1, 6))


@given(st.lists(st.one_of(registers, clustered), max_size=400),
       st.sampled_from([30, 300, 3000]))
@settings(max_examples=60, deadline=None)
def test_sparse_editor_writes_the_bytes_of_the_byte_path(seq, max_bytes):
    expected = _byte_path(seq, max_bytes)
    buf = H.new_sparse()
    editor = H.SparseEditor.parse(buf, max_bytes)
    for k, (index, count) in enumerate(seq):
        if editor.set(index, count) == 2:
            editor.write(buf)
            H._promote(buf, index, count)
            for index, count in seq[k + 1:]:
                H.dense_set(buf, index, count)
            break
    else:
        editor.write(buf)
    assert buf[H.HDR:] == expected[H.HDR:]
    hll = H.HyperLogLog(buf)
    hll._check()
    assert H.estimate(H.histogram(buf)) == H.estimate(H.histogram(expected))


def test_add_batch_equals_one_by_one():
    rng = random.Random(3)
    elements = [str(rng.random()).encode() for _ in range(2500)]
    one = H.HyperLogLog()
    for e in elements:
        one.add((e,), 3000)
    batch = H.HyperLogLog()
    batch.add(elements, 3000)
    assert one.buf == batch.buf
    assert one.count() == batch.count()


def test_merge_into_sparse_keeps_valkey_order():
    rng = random.Random(5)
    src = H.HyperLogLog()
    src.add([str(rng.random()).encode() for _ in range(200)], 3000)
    dest = H.HyperLogLog()
    dest.set_registers(H.registers(src.buf), 3000)
    byte_path = H.new_sparse()
    raw = H.registers(src.buf)
    for j in range(H.REGISTERS):
        if raw[j]:
            H.sparse_set(byte_path, j, raw[j], 3000)
    assert dest.buf[H.HDR:] == byte_path[H.HDR:]
    dest._check()


def test_estimate_and_selftest():
    assert H.estimate([H.REGISTERS] + [0] * 63) == 0
    assert H.selftest(random.Random(1), cycles=1, max_checkpoint=10_000) is None


def test_corrupt_sparse_detected():
    buf = H.new_sparse() + b"\x00"               # one register too many
    try:
        H.sparse_to_raw(buf)
    except H.CorruptHLL:
        pass
    else:
        raise AssertionError("not detected")
    assert not H.to_dense(buf)
    assert H.sparse_set(H.new_sparse()[:H.HDR], 5, 1, 3000) == -1
