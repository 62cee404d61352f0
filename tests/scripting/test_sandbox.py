"""The Lua sandbox: what scripts can reach, and that the shared globals stay untouched."""
from __future__ import annotations

import pytest
import redis

READONLY = r"Attempt to modify a readonly table"


@pytest.mark.parametrize("script", [
    "setmetatable(_G, {})",
    "local g = getmetatable(_G); g.__index = {}",
    "redis = function() return 1 end",
    "_G = {}",
    "redis.call = function() return 1 end",
    "server.call = nil",
    "cjson.encode = function() return 1 end",
    "cmsgpack.pack = function() return 1 end",
    "bit.lshift = function() return 1 end",
    "struct.pack = nil",
    "string.rep = nil",
    "math.random = nil",
    "table.insert = nil",
    "os.clock = nil",
    "rawset(_G, 'x', 1)",
    "rawset(redis, 'x', 1)",
    "table.insert(redis, 1)",
    "getmetatable('').__index.rep = nil",
    "setfenv(0, {})",
])
def test_protected_tables(r, script):
    with pytest.raises(redis.ResponseError, match=READONLY):
        r.eval(script, 0)
    # nothing leaked into the next script
    assert r.eval("return type(redis.call) .. type(string.rep) .. type(cjson.encode)", 0) == b"functionfunctionfunction"


@pytest.mark.parametrize("name", ["print", "dofile", "loadfile", "require", "module", "io", "debug",
                                  "package", "python", "newglobal"])
def test_unreachable_globals(r, name):
    with pytest.raises(redis.ResponseError, match=f"Script attempted to access nonexistent global variable '{name}'"):
        r.eval(f"return {name}", 0)


def test_os_has_only_clock(r):
    assert r.eval("local t = {} for k, v in pairs(os) do t[#t + 1] = k .. type(v) end return t", 0) == \
        [b"clockfunction"]
    with pytest.raises(redis.ResponseError, match=r"attempt to call field 'execute' \(a nil value\)"):
        r.eval("os.execute('true')", 0)


def test_no_escape_through_environments(r):
    # every path to a global table gives the protected one
    assert r.eval("return getfenv(0) == _G and getfenv(1) == _G and getfenv(string.rep) == _G", 0) == 1
    assert r.eval("return getfenv(redis.call) == _G", 0) == 1
    assert r.eval("local f = loadstring('return _G') return f() == _G", 0) == 1
    with pytest.raises(redis.ResponseError, match="nonexistent global variable 'io'"):
        r.eval("return loadstring('return io')()", 0)
    with pytest.raises(redis.ResponseError, match="attempt to call a nil value"):
        r.eval("return loadstring(string.dump(function() return 1 end))()", 0)
    with pytest.raises(redis.ResponseError, match="cannot change environment of given object"):
        r.eval("setfenv(redis.call, {})", 0)


def test_python_objects_are_not_reachable(r):
    # the API functions are real Lua functions; errors never carry Python objects
    assert r.eval("return type(redis.call) .. type(bit.band) .. type(cjson.decode)", 0) == b"functionfunctionfunction"
    assert r.eval("local ok, e = pcall(bit.band, {}) return type(e)", 0) == b"string"
    assert r.eval("local ok, e = pcall(redis.call, 'nosuch') return type(e)", 0) == b"string"
    assert r.eval("local ok, e = xpcall(function() redis.call('nosuch') end, function(e) return type(e) end) "
                  "return e", 0) == b"table"
    assert r.eval("local co = coroutine.create(function() redis.call('nosuch') end) "
                  "local ok, e = coroutine.resume(co) return type(e)", 0) == b"table"


def test_iteration_sees_through_protection(r):
    names = r.eval("local t = {} for k in pairs(_G) do t[#t + 1] = k end table.sort(t) return t", 0)
    for name in (b"redis", b"server", b"cjson", b"bit", b"cmsgpack", b"struct", b"string", b"math", b"table",
                 b"os", b"KEYS", b"ARGV", b"pcall", b"_G"):
        assert name in names
    assert r.eval("local n = 0 for k, v in pairs(bit) do n = n + 1 end return n", 0) == 12
    assert r.eval("return rawget(redis, 'call') == redis.call", 0) == 1
    assert r.eval("return next(cjson) ~= nil", 0) == 1


def test_globals_are_shared_but_locals_are_not(r):
    with pytest.raises(redis.ResponseError, match=READONLY):
        r.eval("counter = 1", 0)
    assert r.eval("local counter = 1 return counter", 0) == 1
    assert r.eval("KEYS[1] = 'changed' return KEYS[1]", 1, "k") == b"changed"


def test_user_tables_keep_full_lua(r):
    assert r.eval("local t = setmetatable({}, {__index = function(t, k) return k .. '!' end}) return t.x", 0) == b"x!"
    assert r.eval("local t = {3, 1, 2} table.sort(t) return t", 0) == [1, 2, 3]
    assert r.eval("return select('#', unpack({1, 2, 3}))", 0) == 3
    assert r.eval("local co = coroutine.wrap(function(a) local b = coroutine.yield(a + 1) return b * 2 end) "
                  "return {co(1), co(5)}", 0) == [2, 10]


def test_random(r):
    a = r.eval("math.randomseed(10) return tostring(math.random())", 0)
    assert a == r.eval("math.randomseed(10) return tostring(math.random())", 0)
    assert a != r.eval("math.randomseed(20) return tostring(math.random())", 0)
    assert r.eval("math.randomseed(10) return tostring(math.random())", 0) == b"0.87885112309775"
    assert 1 <= r.eval("return math.random(6)", 0) <= 6
    with pytest.raises(redis.ResponseError, match=r"bad argument #1 to 'random' \(interval is empty\)"):
        r.eval("return math.random(0)", 0)


def test_api_constants(r):
    assert r.eval("return {redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL}",
                  0) == [0, 1, 2, 2, 3]
    assert r.eval("return {redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING}", 0) == [0, 1, 2, 3]
    assert r.eval("return {redis.REDIS_VERSION, redis.REDIS_VERSION_NUM, server.VALKEY_VERSION, server.SERVER_NAME}",
                  0) == [b"7.2.4", 0x070204, b"8.0.1", b"valkey"]
    assert r.eval("return redis.replicate_commands()", 0) == 1
    assert r.eval("return redis.breakpoint()", 0) is None
    assert r.eval("return redis.debug('x')", 0) is None
    assert r.eval("return redis.acl_check_cmd('set', 'xx', 1)", 0) == 1
    with pytest.raises(redis.ResponseError, match=r"^Invalid command passed to server.acl_check_cmd\(\)"):
        r.eval("return redis.acl_check_cmd('invalid-cmd', 'arg')", 0)
    with pytest.raises(redis.ResponseError, match=r"^wrong number of arguments script"):
        r.eval("return redis.sha1hex()", 0)
    assert r.eval("return redis.sha1hex('')", 0) == b"da39a3ee5e6b4b0d3255bfef95601890afd80709"


def test_api_errors(r):
    with pytest.raises(redis.ResponseError, match=r"^Invalid replication flags\. Use REPL_AOF"):
        r.eval("redis.set_repl(12345)", 0)
    with pytest.raises(redis.ResponseError, match=r"^RESP version must be 2 or 3\."):
        r.eval("redis.setresp(4)", 0)
    with pytest.raises(redis.ResponseError, match=r"^server\.log\(\) requires two arguments or more\."):
        r.eval("redis.log(redis.LOG_WARNING)", 0)
    with pytest.raises(redis.ResponseError, match=r"^Invalid log level\."):
        r.eval("redis.log(9, 'x')", 0)
    assert r.eval("redis.log(redis.LOG_DEBUG, 'quiet') return 1", 0) == 1
    assert r.eval("return redis.status_reply()['err']", 0) == b"ERR wrong number or type of arguments"
