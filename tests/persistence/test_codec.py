"""The RDB building blocks: CRC64, LZF, lengths and string encodings, listpacks, intsets,
ziplists and zipmaps, byte for byte where the format is fixed, and refusal of bad bytes."""
from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pykey.persistence import intset, listpack, lzf, ziplist
from pykey.persistence.crc64 import crc64
from pykey.persistence.encoding import RdbError, RdbReader, RdbWriter, encode_length


def _crc64_bitwise(data: bytes) -> int:
    """The definition: reflected Jones polynomial, init 0, no final xor, bit by bit."""
    poly = 0x95AC9329AC4BC9B5          # 0xad93d23594c935a9 reflected
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
    return crc


@given(st.binary(max_size=200))
@settings(max_examples=50, deadline=None)
def test_crc64_matches_the_definition(data):
    assert crc64(data) == _crc64_bitwise(data)


def test_crc64_is_valkeys_variant():
    assert crc64(b"123456789") == 0xE9C6D914C4B8D9CA      # the catalogue's check value
    assert crc64(b"56789", crc64(b"1234")) == crc64(b"123456789")
    assert crc64(b"") == 0


def test_lzf_round_trip_and_refusals():
    data = b"abcabcabcabcabcabcabcabcabc" * 10
    packed = lzf.compress(data)
    assert packed is not None and len(packed) <= len(data) - 4
    assert lzf.decompress(packed, len(data)) == data
    assert lzf.compress(b"abcd") is None                      # too short to pay
    with pytest.raises(lzf.LzfError):
        lzf.decompress(packed, len(data) + 5)                 # wrong announced length
    with pytest.raises(lzf.LzfError):
        lzf.decompress(b"\xff\xff\xff", 10)


@pytest.mark.parametrize("n, encoded", [
    (0, b"\x00"), (63, b"\x3f"), (64, b"\x40\x40"), (16383, b"\x7f\xff"),
    (16384, b"\x80\x00\x00\x40\x00"), (2**32 - 1, b"\x80\xff\xff\xff\xff"),
    (2**32, b"\x81\x00\x00\x00\x01\x00\x00\x00\x00"),
])
def test_length_encoding(n, encoded):
    assert encode_length(n) == encoded
    assert RdbReader(encoded).length() == n


@pytest.mark.parametrize("s, encoded", [
    (b"0", b"\xc0\x00"), (b"-128", b"\xc0\x80"), (b"127", b"\xc0\x7f"), (b"128", b"\xc1\x80\x00"),
    (b"-32768", b"\xc1\x00\x80"), (b"32768", b"\xc2\x00\x80\x00\x00"),
    (b"2147483647", b"\xc2\xff\xff\xff\x7f"), (b"2147483648", b"\x0a2147483648"),
    (b"-0", b"\x02-0"), (b"01", b"\x0201"), (b"+1", b"\x02+1"), (b"", b"\x00"), (b"abc", b"\x03abc"),
])
def test_string_encodings_match_valkey(s, encoded):
    w = RdbWriter()
    w.string(s)
    assert bytes(w.buf) == encoded
    assert RdbReader(encoded).string() == s


def test_lzf_string_round_trip_and_uncompressed_when_disabled():
    s = b"hello world " * 20
    w = RdbWriter()
    w.string(s)
    assert w.buf[0] == 0xC3 and len(w.buf) < len(s)
    assert RdbReader(bytes(w.buf)).string() == s
    w = RdbWriter(compress=False)
    w.string(s)
    assert bytes(w.buf) == encode_length(len(s)) + s


def test_reader_refuses_truncation_and_unknown_encodings():
    with pytest.raises(RdbError, match="Short read"):
        RdbReader(b"\x05abc").string()
    with pytest.raises(RdbError):
        RdbReader(b"\xc5").string()                             # special encoding 5 does not exist
    w = RdbWriter()
    w.string(b"z" * 200)
    with pytest.raises(RdbError):
        RdbReader(bytes(w.buf[:-3])).string()


# ---------------------------------------------------------------------- listpacks
def test_listpack_bytes_match_valkey():
    # lpNew + lpAppend("a") + lpAppend("1024") + lpAppend("-1"), as Valkey lays them out
    blob = listpack.encode([b"a", b"1024", b"-1"])
    assert blob == (struct.pack("<IH", len(blob), 3) + b"\x81a\x02" + b"\xc4\x00\x02" + b"\xdf\xff\x02" + b"\xff")
    assert listpack.decode(blob) == [b"a", b"1024", b"-1"]


@pytest.mark.parametrize("value", [0, 127, 128, -1, 4095, -4096, 4096, 32767, -32768, 32768, 8388607,
                                   -8388608, 8388608, 2**31 - 1, -(2**31), 2**31, 2**63 - 1, -(2**63)])
def test_listpack_integer_widths_round_trip(value):
    blob = listpack.encode([b"%d" % value])
    assert listpack.decode(blob) == [b"%d" % value]
    assert listpack.decode(blob, as_int=True) == [value]


@given(st.lists(st.one_of(st.binary(max_size=300), st.integers(-(2**63), 2**63 - 1).map(lambda i: b"%d" % i)),
                max_size=40))
@settings(max_examples=150, deadline=None)
def test_listpack_round_trip(items):
    blob = listpack.encode(items)
    assert listpack.decode(blob) == items
    assert sum(map(listpack.entry_bytes, items)) + 7 == len(blob)


def test_listpack_long_strings_use_wider_headers():
    items = [b"x" * 63, b"y" * 64, b"z" * 4095, b"w" * 4096, b"v" * 70000]
    assert listpack.decode(listpack.encode(items)) == items


@pytest.mark.parametrize("mutate", [
    lambda b: b[:-1],                                  # no terminator
    lambda b: b[:6] + b"\xf5" + b[7:],                 # invalid entry encoding
    lambda b: b[:4] + b"\x09\x00" + b[6:],             # count header wrong
    lambda b: struct.pack("<I", len(b) + 1) + b[4:],   # size header wrong
    lambda b: b[:8] + b"\x7f" + b[9:],                 # back length wrong
])
def test_listpack_corruption_is_refused(mutate):
    blob = listpack.encode([b"a", b"hello", b"12"])
    with pytest.raises(listpack.ListpackError):
        listpack.decode(mutate(blob))


# ---------------------------------------------------------------------- intsets
def test_intset_widths_and_bytes():
    assert intset.encode([3, 1, 2]) == struct.pack("<II3h", 2, 3, 1, 2, 3)
    assert intset.encode([1, 70000]) == struct.pack("<II2i", 4, 2, 1, 70000)
    assert intset.encode([-(2**40)]) == struct.pack("<IIq", 8, 1, -(2**40))
    assert intset.decode(intset.encode([5, -7, 2**62])) == [-7, 5, 2**62]


@pytest.mark.parametrize("blob", [
    struct.pack("<II2h", 2, 2, 5, 1),          # not sorted
    struct.pack("<II2h", 2, 2, 5, 5),          # duplicate
    struct.pack("<II2h", 3, 2, 1, 5),          # bad width
    struct.pack("<II2h", 2, 3, 1, 5),          # length mismatch
    struct.pack("<II", 2, 0),                  # empty
])
def test_intset_corruption_is_refused(blob):
    with pytest.raises(intset.IntsetError):
        intset.decode(blob)


# ---------------------------------------------------------------------- ziplists and zipmaps
def _ziplist(entries: list[bytes]) -> bytes:
    """A ziplist built by hand from raw entry encodings (prevlen added here)."""
    body = b""
    prev = 0
    tail = 10
    for enc in entries:
        tail = 10 + len(body)
        e = bytes((prev,)) + enc
        body += e
        prev = len(e)
    total = 10 + len(body) + 1
    return struct.pack("<IIH", total, tail, len(entries)) + body + b"\xff"


def test_ziplist_every_encoding():
    entries = [b"\x03abc",                               # 6-bit string
               b"\x40\x41" + b"q" * 65,                  # 14-bit string (big endian length)
               b"\xc0" + struct.pack("<h", -300),        # int16
               b"\xd0" + struct.pack("<i", 70000),       # int32
               b"\xe0" + struct.pack("<q", -(2**40)),    # int64
               b"\xf0" + (100000).to_bytes(3, "little"), # int24
               b"\xfe\x85",                              # int8 (-123)
               b"\xf1", b"\xfd"]                         # immediates 0 and 12
    assert ziplist.decode(_ziplist(entries)) == [b"abc", b"q" * 65, b"-300", b"70000", b"%d" % -(2**40),
                                                 b"100000", b"-123", b"0", b"12"]


def test_ziplist_corruption_is_refused():
    good = _ziplist([b"\x03abc", b"\x01x"])
    for bad in (good[:-1], good[:10] + b"\x07" + good[11:], struct.pack("<IIH", len(good), 10, 5) + good[10:]):
        with pytest.raises(ziplist.ZiplistError):
            ziplist.decode(bad)


def test_zipmap():
    zm = b"\x02" + b"\x03foo" + b"\x03\x00bar" + b"\x01k" + b"\x02\x01vvX" + b"\xff"
    assert ziplist.decode_zipmap(zm) == [b"foo", b"bar", b"k", b"vv"]
    with pytest.raises(ziplist.ZiplistError):
        ziplist.decode_zipmap(zm[:-2] + b"\xff")
