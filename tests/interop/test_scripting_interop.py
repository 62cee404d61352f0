"""The same scripts against pykey and redis-server 7.0: every reply byte for byte.

The corpus covers the conversions in both directions (numbers truncated, false to null,
ok/err tables, arrays stopping at nil, nested errors, RESP3 types through setresp), the
error replies with their script position, the sandbox, cjson/cmsgpack/bit/struct and
math.random's sequence. Left out: what Valkey 8 changed since Redis 7.0 (error texts that
lost the word "Redis", os.clock, blocking commands allowed in scripts, shortest double
formatting of arguments, the RDB version in FUNCTION DUMP).
"""
from __future__ import annotations

import pytest

# each case: one command, or a list of commands run in order (all replies compared)
CASES = [
    ['EVAL', "return 'hello'", 0],
    ['EVAL', "return {1,2,3,'ciao',{1,2}}", 0],
    ['EVAL', 'return 100.5', 0],
    ['EVAL', 'return -100.9', 0],
    ['EVAL', 'return 0/0', 0],
    ['EVAL', 'return 1/0', 0],
    ['EVAL', 'return 1e30', 0],
    ['EVAL', 'return true', 0],
    ['EVAL', 'return false', 0],
    ['EVAL', 'return nil', 0],
    ['EVAL', 'return {1, 2, nil, 4}', 0],
    ['EVAL', "return {ok='fine'}", 0],
    ['EVAL', "return {ok='a\\r\\nb'}", 0],
    ['EVAL', "return {err='ERR this is an error'}", 0],
    ['EVAL', "return {err='MYERR'}", 0],
    ['EVAL', "return {err='my error with\\nnewline'}", 0],
    ['EVAL', "return {1, {err='nested error'}, 3}", 0],
    ['EVAL', "return {1, {ok='nested ok'}, 3}", 0],
    ['EVAL', "return redis.error_reply('MY_ERR_CODE custom msg')", 0],
    ['EVAL', "return redis.error_reply('')", 0],
    ['EVAL', "return redis.error_reply('NOSPACE')", 0],
    ['EVAL', "return redis.error_reply('-ERR x')", 0],
    ['EVAL', "return redis.status_reply('MY_OK')", 0],
    ['EVAL', 'return redis.status_reply()', 0],
    ['EVAL', 'return redis.error_reply(1)', 0],
    ['EVAL', 'return {map={a=1}}', 0],
    ['EVAL', 'return {set={a=true}}', 0],
    ['EVAL', "return {big_number='123'}", 0],
    ['EVAL', 'return _G', 0],
    ['EVAL', 'return {KEYS[1],KEYS[2],ARGV[1],ARGV[2]}', 2, 'a', 'b', 'c', 'd'],
    [['SET', 'mykey', 'myval'], ['EVAL', "return redis.call('get',KEYS[1])", 1, 'mykey'], ['EVALSHA', 'fd758d1589d044dd850a6f05d52f2eefd27f033f', 1, 'mykey'], ['EVALSHA', 'FD758D1589D044DD850A6F05D52F2EEFD27F033F', 1, 'mykey'], ['EVALSHA', 'NotValidShaSUM', 0], ['EVALSHA', 'ffd632c7d33e571e9f24556ebed26c3479a87130', 0]],
    [['SET', 'x', '0'], ['EVAL', "local foo = redis.pcall('incr',KEYS[1]) return {type(foo),foo}", 1, 'x']],
    [['SET', 'mykey', 'myval'], ['EVAL', "local foo = redis.pcall('incr',KEYS[1]) return {type(foo),foo['err']}", 1, 'mykey'], ['EVAL', "return redis.call('incr',KEYS[1])", 1, 'mykey'], ['EVAL', "return redis.pcall('incr',KEYS[1])", 1, 'mykey'], ['EVAL', "redis.call('incr',KEYS[1])", 1, 'mykey'], ['EVAL', "local t = redis.pcall('incr',KEYS[1]) return t", 1, 'mykey']],
    ['EVAL', 'return a', 0],
    ['EVAL', 'a = 10', 0],
    ['EVAL', "return redis.sha1hex('Pizza & Mandolino')", 0],
    ['EVAL', 'return redis.sha1hex()', 0],
    ['EVAL', 'return redis.sha1hex(1)', 0],
    ['EVAL', 'setmetatable(_G, {})', 0],
    ['EVAL', 'local g = getmetatable(_G); g.__index = {}', 0],
    ['EVAL', 'redis = function() return 1 end', 0],
    ['EVAL', '_G = {}', 0],
    ['EVAL', 'redis.call = function() return 1 end', 0],
    ['EVAL', 'cjson.encode = function() return 1 end', 0],
    ['EVAL', 'return loadstring(string.dump(function() return 1 end))()', 0],
    ['EVAL', "loadfile('some file')", 0],
    ['EVAL', "print('x')", 0],
    ['EVAL', 'local ok, e = pcall(function() return foo end) return {tostring(ok), e}', 0],
    ['EVAL', 'local ok, e = pcall(error, {x=1}) return {tostring(ok), type(e)}', 0],
    ['EVAL', "local ok, e = pcall(error, 'boom') return {tostring(ok), e}", 0],
    ['EVAL', "local ok, e = pcall(function() error('boom') end) return {tostring(ok), e}", 0],
    ['EVAL', "error('boom')", 0],
    ['EVAL', "error({err='CUSTOM raised'})", 0],
    ['EVAL', 'error()', 0],
    ['EVAL', 'error(123)', 0],
    ['EVAL', 'local t = nil; return t.x', 0],
    ['EVAL', 'return 1 + {}', 0],
    ['EVAL', "return bit.band('x')", 0],
    ['EVAL', 'return bit.tohex(65535, -2147483648)', 0],
    ['EVAL', 'return {bit.tobit(2^32+5), bit.bnot(0), bit.band(7,3), bit.bor(1,2,4), bit.bxor(5,3), bit.lshift(1,31), bit.rshift(-1, 28), bit.arshift(-256, 4), bit.rol(1, 33), bit.ror(1, 1), bit.bswap(0x12345678), bit.tohex(-1), bit.tohex(255, 2), bit.tohex(255, -4)}', 0],
    ['EVAL', "return {bit.tobit(1.5), bit.tobit(2.5), bit.tobit(-1.5), bit.tobit('10'), bit.tobit(2^52+1)}", 0],
    ['EVAL', 'return cjson.encode({1,2,3,{a=1,b={true,false}},\'x"y/z\\\\\'})', 0],
    ['EVAL', 'return cjson.encode({})', 0],
    ['EVAL', 'return cjson.encode({[1]=1,[3]=3})', 0],
    ['EVAL', 'return cjson.encode({[1]=1,[20]=3})', 0],
    ['EVAL', 'return cjson.encode(1/3)', 0],
    ['EVAL', 'return cjson.encode(1e100)', 0],
    ['EVAL', 'return cjson.encode(0/0)', 0],
    ['EVAL', 'return cjson.encode(cjson.null)', 0],
    ['EVAL', 'return cjson.encode({a=cjson.null})', 0],
    ['EVAL', "return cjson.encode('\\1\\2\\127\\255')", 0],
    ['EVAL', 'return cjson.encode(function() end)', 0],
    ['EVAL', 'return cjson.encode({[true]=1})', 0],
    ['EVAL', 'return cjson.encode()', 0],
    ['EVAL', "return table.concat(cjson.decode('[0.0, -5e3, -1, 0.3e-3, 1023.2, 0e10]'), ' ')", 0],
    ['EVAL', 'local d = cjson.decode(\'{"a": [1, 2, {"b": null}], "c": "\\\\u00e9\\\\ud83d\\\\ude00"}\') return {d.a[1], d.a[2], tostring(d.a[3].b == cjson.null), d.c}', 0],
    ['EVAL', "return cjson.decode('[1, 2')", 0],
    ['EVAL', 'return cjson.decode(\'{"a" 1}\')', 0],
    ['EVAL', "return cjson.decode('[1,]')", 0],
    ['EVAL', "return cjson.decode('nul')", 0],
    ['EVAL', 'return cjson.decode(\'"abc\')', 0],
    ['EVAL', 'return cjson.decode(\'"\\\\x"\')', 0],
    ['EVAL', "return cjson.decode('[1] x')", 0],
    ['EVAL', "return cjson.decode('[[[[1]]]]')[1][1][1][1]", 0],
    ['EVAL', "return {cjson.decode('[inf, -inf, nan, 0x10, 1e2]')[4], cjson.decode('1e2')}", 0],
    ['EVAL', "return cjson.decode('+1')", 0],
    ['EVAL', "return cjson.decode('01')", 0],
    ['EVAL', "cjson.decode_max_depth(2) local ok, e = pcall(cjson.decode, '[[[1]]]') cjson.decode_max_depth(1000) return e", 0],
    ['EVAL', 'cjson.encode_max_depth(2) local ok, e = pcall(cjson.encode, {{{1}}}) cjson.encode_max_depth(1000) return e', 0],
    ['EVAL', 'return {cjson.encode_max_depth(), cjson.decode_max_depth(), cjson.encode_number_precision(), tostring(cjson.encode_keep_buffer()), tostring(cjson.encode_invalid_numbers())}', 0],
    ['EVAL', 'return cjson.encode_max_depth(0)', 0],
    ['EVAL', "return cjson.encode_keep_buffer('maybe')", 0],
    ['EVAL', 'return {cjson.encode_sparse_array()}', 0],
    ['EVAL', "local e = cmsgpack.pack({1,2,3}, {a=1}, 'x', true, false, nil, -1, -200, 70000, 2^40, -2^40, 1.5, 'yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy') local h = '' for i=1,#e do h = h .. string.format('%02x', string.byte(e,i)) end return h", 0],
    ['EVAL', "local t = {cmsgpack.unpack(cmsgpack.pack(1, 'a', {1,2,{x='y'}}, 3.5, -7))} return {t[1], t[2], t[3][3].x, tostring(t[4]), t[5]}", 0],
    ['EVAL', 'return {cmsgpack.unpack_one(cmsgpack.pack(1, 2), 0)}', 0],
    ['EVAL', 'return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2, 0)}', 0],
    ['EVAL', "return cmsgpack.unpack('\\145')", 0],
    ['EVAL', "return cmsgpack.unpack('\\193')", 0],
    ['EVAL', 'return cmsgpack.pack()', 0],
    ['EVAL', "return {struct.pack('>i2', 258), struct.pack('<I4', 1), struct.pack('b', -1), struct.pack('s', 'abc'), struct.pack('c3', 'abcdef'), struct.pack('d', 1.5), struct.pack('!4 b i', 1, 2)}", 0],
    ['EVAL', "return {struct.unpack('>i2', struct.pack('>i2', -2)), struct.unpack('s', 'ab\\0c')}", 0],
    ['EVAL', "return {struct.size('i4 d b'), struct.size('!8 b d')}", 0],
    ['EVAL', "return struct.size('s')", 0],
    ['EVAL', "return struct.pack('q', 1)", 0],
    ['EVAL', "return struct.unpack('i4', 'ab')", 0],
    ['EVAL', 'math.randomseed(10); return {tostring(math.random()), math.random(10), math.random(5, 20)}', 0],
    ['EVAL', 'return math.random(0)', 0],
    ['EVAL', 'return math.random(1,2,3)', 0],
    ['EVAL', 'return {redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL, redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING}', 0],
    ['EVAL', 'redis.set_repl(12345)', 0],
    ['EVAL', 'redis.setresp(4)', 0],
    ['EVAL', "redis.log('x', 'y')", 0],
    ['EVAL', "return redis.log(redis.LOG_DEBUG, 'y')", 0],
    ['EVAL', 'return redis.replicate_commands()', 0],
    ['EVAL', 'return redis.breakpoint()', 0],
    ['EVAL', "return redis.debug('x')", 0],
    [['HSET', 'h', 'f', 'v'], ['EVAL', "redis.setresp(3); return redis.call('hgetall', KEYS[1])", 1, 'h'], ['EVAL', "redis.setresp(3); local t = redis.call('hgetall', KEYS[1]); return t.map.f", 1, 'h'], ['EVAL', "return redis.call('hgetall', KEYS[1])", 1, 'h']],
    [['EVAL', "redis.setresp(3); return redis.call('debug', 'protocol', 'double')", 0], ['EVAL', "redis.setresp(3); return redis.call('debug', 'protocol', 'bignum')", 0], ['EVAL', "redis.setresp(3); return redis.call('debug', 'protocol', 'true')", 0], ['EVAL', "redis.setresp(3); return redis.call('debug', 'protocol', 'false')", 0], ['EVAL', "redis.setresp(3); return redis.call('debug', 'protocol', 'null')", 0], ['EVAL', "redis.setresp(3); return redis.call('debug', 'protocol', 'verbatim')", 0], ['EVAL', "redis.setresp(3); return redis.call('debug', 'protocol', 'set')", 0], ['EVAL', "redis.setresp(3); return redis.call('debug', 'protocol', 'map')", 0], ['EVAL', "redis.setresp(3); return redis.call('debug', 'protocol', 'attrib')", 0], ['EVAL', "redis.setresp(3); local v = redis.call('debug', 'protocol', 'double'); return {type(v), v.double}", 0], ['EVAL', "redis.setresp(3); local v = redis.call('debug', 'protocol', 'verbatim'); return {v.verbatim_string.format, v.verbatim_string.string}", 0], ['EVAL', "return redis.call('debug', 'protocol', 'double')", 0], ['EVAL', "return redis.call('debug', 'protocol', 'true')", 0], ['EVAL', "return redis.call('debug', 'protocol', 'false')", 0], ['EVAL', "return redis.call('debug', 'protocol', 'null')", 0]],
    ['EVAL', "return 'hello'", -12],
    ['EVAL', "return 'hello'", 5],
    ['EVAL', "return 'hello'", 'x'],
    ['EVAL', "return 'hello'", 1],
    ['EVAL', '#!lua\nreturn 1', 0],
    ['EVAL', '#!not-lua\nreturn 1', 0],
    ['EVAL', '#!lua badger=data\nreturn 1', 0],
    ['EVAL', '#!lua flags=allow-oom,what?\nreturn 1', 0],
    ['EVAL', "#!lua flags=no-writes\nreturn redis.call('set','x',1)", 1, 'x'],
    ['EVAL', '#!lua', 0],
    ['EVAL', '#!lua flags=\nreturn 1', 0],
    ['EVAL_RO', "return redis.call('set','x',1)", 1, 'x'],
    ['EVAL_RO', '#!lua\nreturn 1', 0],
    ['EVAL', "return redis.call('multi')", 0],
    ['EVAL', "return redis.call('eval', 'return 1', 0)", 0],
    ['EVAL', "return redis.pcall('select', 99)", 0],
    ['EVAL', "return redis.call('select', 99)", 0],
    ['EVAL', 'return syntax error here', 0],
    ['EVAL', "return 'unfinished", 0],
    [['SCRIPT', 'LOAD', "return 'loaded'"], ['SCRIPT', 'EXISTS', 'b534286061d4b9e4026607613b95c06c06015ae8', 'B534286061D4B9E4026607613B95C06C06015AE8', 'x'], ['SCRIPT', 'LOAD', 'return +'], ['SCRIPT', 'FLUSH', 'x'], ['SCRIPT', 'FLUSH', 'SYNC', 'x'], ['SCRIPT', 'KILL'], ['SCRIPT', 'FOO'], ['SCRIPT']],
]

# a library per function: the order of libraries and functions in FUNCTION LIST is a hash
# table's, which differs between servers
FUNCTION_STEPS = [
    ["FUNCTION", "LOAD", "#!lua name=mylib\nredis.register_function('f1', function(keys, args) "
                         "return {keys[1], args[1]} end)"],
    ["FUNCTION", "LIST"], ["FUNCTION", "LIST", "WITHCODE"],
    ["FUNCTION", "LOAD", "#!lua name=lib2\nredis.register_function{function_name='f2', callback=function() "
                         "return redis.call('ping') end, flags={'no-writes'}, description='desc'}"],
    ["FCALL", "f1", 1, "k", "a"], ["FCALL", "F1", 1, "k", "a"], ["FCALL_RO", "f2", 0], ["FCALL_RO", "f1", 0],
    ["FCALL", "nosuch", 0], ["FCALL", "f1", "x"], ["FCALL", "f1", 3, "a"],
    ["FUNCTION", "LIST", "LIBRARYNAME", "my*"], ["FUNCTION", "LIST", "LIBRARYNAME", "lib*", "WITHCODE"],
    ["FUNCTION", "LIST", "LIBRARYNAME"], ["FUNCTION", "LIST", "FOO"], ["FUNCTION", "STATS"],
    ["FUNCTION", "DELETE", "nosuch"],
    ["FUNCTION", "LOAD", "#!lua name=mylib\nredis.register_function('f3', function() return 1 end)"],
    ["FUNCTION", "LOAD", "REPLACE", "#!lua name=mylib\nredis.register_function('f3', function() return 1 end)"],
    ["FUNCTION", "LOAD", "#!lua name=other\nredis.register_function('f3', function() return 1 end)"],
    ["FUNCTION", "LOAD", "#!lua name=other\nreturn 1"],
    ["FUNCTION", "LOAD", "#!lua name=other\nredis.register_function('bad name', function() end)"],
    ["FUNCTION", "LOAD", "#!lua name=other\nredis.register_function{function_name='x', callback=function() end, "
                         "flags={'bad'}}"],
    ["FUNCTION", "LOAD", "#!lua name=other\nredis.call('ping')"],
    ["FUNCTION", "LOAD", "#!lua name=other\na = 1"],
    ["FUNCTION", "LOAD", "#!lua name=other\nsyntax error"],
    ["FUNCTION", "LOAD", "#!lua\nreturn 1"], ["FUNCTION", "LOAD", "#!lua name=a name=b\nreturn 1"],
    ["FUNCTION", "LOAD", "#!lua name=a foo=bar\nreturn 1"], ["FUNCTION", "LOAD", "#!foo name=a\nreturn 1"],
    ["FUNCTION", "LOAD", "no metadata"], ["FUNCTION", "LOAD", "#!lua name=x"],
    ["FUNCTION", "LOAD", "#!lua name=bad-name\nreturn 1"], ["FUNCTION", "LOAD", "FOO", "#!lua name=x\nreturn 1"],
    ["FUNCTION", "RESTORE", "garbage"], ["FUNCTION", "RESTORE", "garbage", "FOO"], ["FUNCTION", "FLUSH", "FOO"],
    ["FUNCTION", "KILL"], ["FUNCTION", "DELETE", "mylib"], ["FUNCTION", "DELETE", "lib2"], ["FUNCTION", "LIST"],
]


def _steps(case):
    return case if isinstance(case[0], list) else [case]


def _fresh(*clients):
    for c in clients:
        c.call("FLUSHALL")
        c.call("SCRIPT", "FLUSH")
        c.call("FUNCTION", "FLUSH")


@pytest.mark.parametrize("case", CASES, ids=[str(i) for i in range(len(CASES))])
def test_same_replies(case, pykey_raw, redis_raw):
    _fresh(pykey_raw, redis_raw)
    for step in _steps(case):
        assert pykey_raw.call(*step) == redis_raw.call(*step), step


def test_same_function_replies(pykey_raw, redis_raw):
    _fresh(pykey_raw, redis_raw)
    for step in FUNCTION_STEPS:
        assert pykey_raw.call(*step) == redis_raw.call(*step), step
    _fresh(pykey_raw, redis_raw)


def test_redis_function_dump_restores_here(pykey_raw, redis_raw):
    """A FUNCTION DUMP from redis-server (LZF-compressed code, RDB 10) restores into pykey,
    and pykey's dump carries the same bytes but for the version (11, Valkey 8's)."""
    _fresh(pykey_raw, redis_raw)
    code = ("#!lua name=mylib\nredis.register_function('hello', function(keys, args) "
            "return 'hello ' .. (args[1] or 'world') end)")
    redis_raw.call("FUNCTION", "LOAD", code)
    payload = redis_raw.call("FUNCTION", "DUMP")
    blob = payload[payload.index(b"\r\n") + 2:-2]
    assert pykey_raw.call("FUNCTION", "RESTORE", blob) == b"+OK\r\n"
    assert pykey_raw.call("FCALL", "hello", 0, "you") == b"$9\r\nhello you\r\n"
    ours = pykey_raw.call("FUNCTION", "DUMP")
    mine = ours[ours.index(b"\r\n") + 2:-2]
    assert mine[:-10] == blob[:-10]
    assert mine[-10:-8] == b"\x0b\x00" and blob[-10:-8] == b"\x0a\x00"
    _fresh(pykey_raw, redis_raw)
