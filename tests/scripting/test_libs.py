"""cjson, cmsgpack, bit and struct, as Valkey's Lua has them (the interop tests compare them
byte for byte with redis-server)."""
from __future__ import annotations

import pytest
import redis

HEX = "local h = '' for i = 1, #e do h = h .. string.format('%02x', string.byte(e, i)) end return h"


# ---------------------------------------------------------------------- cjson
@pytest.mark.parametrize("value, text", [
    ("{1, 2, 3}", b"[1,2,3]"),
    ("{}", b"{}"),
    ("{a={true, false}}", b'{"a":[true,false]}'),
    ("'a\"b/c\\\\d\\n\\1'", b'"a\\"b\\/c\\\\d\\n\\u0001"'),
    ("0.1", b"0.1"),
    ("1/3", b"0.33333333333333"),
    ("1e100", b"1e+100"),
    ("cjson.null", b"null"),
    ("{[1]=1, [3]=3}", b"[1,null,3]"),
    ("{[2.5]=1}", b'{"2.5":1}'),
])
def test_cjson_encode(r, value, text):
    assert r.eval(f"return cjson.encode({value})", 0) == text


@pytest.mark.parametrize("value, error", [
    ("{[1]=1, [20]=3}", "Cannot serialise table: excessively sparse array"),
    ("function() end", "Cannot serialise function: type not supported"),
    ("{[true]=1}", "Cannot serialise boolean: table key must be a number or string"),
    ("0/0", "Cannot serialise number: must not be NaN or Inf"),
])
def test_cjson_encode_errors(r, value, error):
    with pytest.raises(redis.ResponseError, match=f"^user_script:1: {error} script"):
        r.eval(f"return cjson.encode({value})", 0)


def test_cjson_decode(r):
    assert r.eval("return table.concat(cjson.decode('[0.0, -5e3, -1, 0.3e-3, 1023.2, 0e10]'), ' ')", 0) == \
        b"0 -5000 -1 0.0003 1023.2 0"
    assert r.eval("local d = cjson.decode('{\"keya\": \"a\", \"keyb\": \"b\"}') return {d.keya, d.keyb}", 0) == \
        [b"a", b"b"]
    assert r.eval("return cjson.decode('\"\\\\u00e9\\\\ud83d\\\\ude00\"')", 0) == "é😀".encode()
    assert r.eval("return cjson.decode('[null]')[1] == cjson.null", 0) == 1
    assert r.eval("return cjson.decode('[inf, 0x10]')[2]", 0) == 16


@pytest.mark.parametrize("text, error", [
    ("[1, 2", "Expected comma or array end but found T_END at character 6"),
    ('{"a" 1}', "Expected colon but found T_NUMBER at character 6"),
    ("[1,]", "Expected value but found T_ARR_END at character 4"),
    ("nul", "Expected value but found invalid token at character 1"),
    ('"abc', "Expected value but found unexpected end of string at character 5"),
    ("[1] x", "Expected the end but found invalid token at character 5"),
])
def test_cjson_decode_errors(r, text, error):
    with pytest.raises(redis.ResponseError, match=f"^user_script:1: {error} script"):
        r.eval("return cjson.decode(ARGV[1])", 0, text)


def test_cjson_settings(r):
    assert r.eval("cjson.encode_max_depth(2) local ok, e = pcall(cjson.encode, {{{1}}}) "
                  "cjson.encode_max_depth(1000) return e", 0) == b"Cannot serialise, excessive nesting (3)"
    assert r.eval("cjson.decode_max_depth(2) local ok, e = pcall(cjson.decode, '[[[1]]]') "
                  "cjson.decode_max_depth(1000) return e", 0) == b"Found too many nested data structures (3) at character 3"
    assert r.eval("cjson.encode_invalid_numbers(true) local s = cjson.encode({0/0}) "
                  "cjson.encode_invalid_numbers(false) return s", 0) == b"[nan]"
    with pytest.raises(redis.ResponseError, match=r"bad argument #1 to 'encode_max_depth' \(expected integer between 1 and"):
        r.eval("cjson.encode_max_depth(0)", 0)


def test_cjson_round_trip_of_a_circular_table_fails_cleanly(r):
    with pytest.raises(redis.ResponseError, match=r"Cannot serialise, excessive nesting \(1001\)"):
        r.eval("local a = {} a[1] = a return cjson.encode(a)", 0)


# ---------------------------------------------------------------------- cmsgpack
def test_cmsgpack_pack(r):
    assert r.eval(f"local e = cmsgpack.pack(0.1) {HEX}", 0) == b"cb3fb999999999999a"
    assert r.eval(f"local e = cmsgpack.pack(-1099511627776) {HEX}", 0) == b"d3ffffff0000000000"
    assert r.eval(f"local e = cmsgpack.pack({{1, 2}}, {{a=1}}, 'x', true, nil, -1, 1.5) {HEX}", 0) == \
        b"92010281a16101a178c3c0ffca3fc00000"


def test_cmsgpack_circular_reference_depth(r):
    res = r.eval(f"local a = {{x=nil, y=5}} local b = {{x=a}} a['x'] = b local e = cmsgpack.pack(a) {HEX}", 0)
    assert res == (b"82a17905a17881a17882a17905a17881a17882a17905a17881a17882a17905a17881a17882a17905a178"
                   b"81a17882a17905a17881a17882a17905a17881a17882a17905a17881a178c0")


def test_cmsgpack_unpack(r):
    assert r.eval("local t = {cmsgpack.unpack(cmsgpack.pack(1, 'a', {1, 2, {x='y'}}, -7))} "
                  "return {t[1], t[2], t[3][3].x, t[4]}", 0) == [1, b"a", b"y", -7]
    assert r.eval("return {cmsgpack.unpack_one(cmsgpack.pack(1, 2), 0)}", 0) == [1, 1]
    assert r.eval("return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2, 0)}", 0) == [2, 1, 2]
    assert r.eval("return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2), 5, 0)}", 0) == [-1, 1, 2]
    with pytest.raises(redis.ResponseError, match=r"Missing bytes in input\."):
        r.eval("return cmsgpack.unpack('\\145')", 0)
    with pytest.raises(redis.ResponseError, match=r"Bad data format in input\."):
        r.eval("return cmsgpack.unpack('\\193')", 0)


def test_cmsgpack_large_values(r):
    assert r.eval("local big = {} for i = 1, 100000 do big[i] = i end "
                  "local m = {} for i = 1, 1000 do m[tostring(i)] = i end "
                  "local s = string.rep('x', 70000) "
                  "local t = cmsgpack.unpack(cmsgpack.pack({big, m, s})) "
                  "return {#t[1], t[1][100000], t[2]['500'], #t[3]}", 0) == [100000, 100000, 500, 70000]


# ---------------------------------------------------------------------- bit
def test_bit(r):
    assert r.eval("return {bit.tobit(2^32 + 5), bit.bnot(0), bit.band(7, 3), bit.bor(1, 2, 4, 8, 16, 32, 64, 128), "
                  "bit.bxor(5, 3), bit.lshift(1, 31), bit.rshift(-1, 28), bit.arshift(-256, 4), bit.rol(1, 33), "
                  "bit.ror(1, 1), bit.bswap(0x12345678)}", 0) == \
        [5, -1, 3, 255, 6, -2147483648, 15, -16, 2, -2147483648, 0x78563412]
    assert r.eval("return {bit.tohex(65535, -2147483648), bit.tohex(-1), bit.tohex(255, 2), bit.tohex(255, -4)}",
                  0) == [b"0000FFFF", b"ffffffff", b"ff", b"00FF"]
    assert r.eval("return {bit.tobit(1.5), bit.tobit(2.5), bit.tobit('10')}", 0) == [2, 2, 10]
    with pytest.raises(redis.ResponseError, match=r"bad argument #1 to 'band' \(number expected, got string\)"):
        r.eval("return bit.band('x')", 0)


# ---------------------------------------------------------------------- struct
def test_struct(r):
    assert r.eval("return {struct.pack('>i2', 258), struct.pack('<I4', 1), struct.pack('b', -1), "
                  "struct.pack('s', 'abc'), struct.pack('c3', 'abcdef'), struct.pack('!4 b i', 1, 2)}", 0) == \
        [b"\x01\x02", b"\x01\x00\x00\x00", b"\xff", b"abc\x00", b"abc", b"\x01\x00\x00\x00\x02\x00\x00\x00"]
    assert r.eval("return {struct.unpack('>i2', struct.pack('>i2', -2))}", 0) == [-2, 3]
    assert r.eval("return {struct.unpack('s', 'ab\\0c')}", 0) == [b"ab", 4]
    assert r.eval("return {struct.size('i4 d b'), struct.size('!8 b d')}", 0) == [13, 16]
    assert r.eval("return struct.unpack('d', struct.pack('d', 1.5)) * 2", 0) == 3
    with pytest.raises(redis.ResponseError, match=r"bad argument #1 to 'size' \(option 's' has no fixed size\)"):
        r.eval("return struct.size('s')", 0)
    with pytest.raises(redis.ResponseError, match=r"bad argument #2 to 'unpack' \(data string too short\)"):
        r.eval("return struct.unpack('i4', 'ab')", 0)
    with pytest.raises(redis.ResponseError, match=r"bad argument #1 to 'pack' \(invalid format option 'q'\)"):
        r.eval("return struct.pack('q', 1)", 0)
