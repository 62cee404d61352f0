"""FUNCTION LOAD/DELETE/FLUSH/LIST/STATS/DUMP/RESTORE and FCALL/FCALL_RO."""
from __future__ import annotations

import pytest
import redis

LIB = """#!lua name=mylib
local function incr(keys) return redis.call('incr', keys[1]) end
server.register_function('myincr', function(keys, args) return incr(keys) end)
server.register_function{function_name='myget', callback=function(keys) return redis.call('get', keys[1]) end,
                         flags={'no-writes'}, description='reads a key'}
"""


def as_dict(pairs):
    """A RESP2 map (flat key/value list) as a dict."""
    if isinstance(pairs, dict):
        return pairs
    return {pairs[i]: pairs[i + 1] for i in range(0, len(pairs), 2)}


def libraries(r, *args):
    out = []
    for lib in r.execute_command("FUNCTION", "LIST", *args):
        lib = as_dict(lib)
        lib[b"functions"] = [as_dict(f) for f in lib[b"functions"]]
        out.append(lib)
    return out


@pytest.fixture
def fr(r):
    r.function_flush()
    yield r
    r.function_flush()


def test_load_and_call(fr):
    assert fr.function_load(LIB) == b"mylib"
    assert fr.fcall("myincr", 1, "k") == 1
    assert fr.fcall("MYINCR", 1, "k") == 2              # function names are case-insensitive
    assert fr.fcall_ro("myget", 1, "k") == b"2"
    with pytest.raises(redis.ResponseError, match=r"^Can not execute a script with write flag using \*_ro command"):
        fr.fcall_ro("myincr", 1, "k")
    with pytest.raises(redis.ResponseError, match="^Function not found$"):
        fr.fcall("nosuch", 0)
    with pytest.raises(redis.ResponseError, match="^Bad number of keys provided$"):
        fr.execute_command("FCALL", "myincr", "x")
    with pytest.raises(redis.ResponseError, match="^Number of keys can't be greater than number of args$"):
        fr.fcall("myincr", 3, "a")


def test_list(fr):
    fr.function_load(LIB)
    lib = libraries(fr)[0]
    assert lib[b"library_name"] == b"mylib" and lib[b"engine"] == b"LUA"
    funcs = {f[b"name"]: f for f in lib[b"functions"]}
    assert funcs[b"myget"][b"description"] == b"reads a key"
    assert list(funcs[b"myget"][b"flags"]) == [b"no-writes"]
    assert funcs[b"myincr"][b"description"] is None
    assert libraries(fr, "WITHCODE")[0][b"library_code"] == LIB.encode()
    assert libraries(fr, "LIBRARYNAME", "MY*") != []
    assert libraries(fr, "LIBRARYNAME", "other*") == []
    with pytest.raises(redis.ResponseError, match="^library name argument was not given$"):
        fr.execute_command("FUNCTION", "LIST", "LIBRARYNAME")
    with pytest.raises(redis.ResponseError, match="^Unknown argument foo$"):
        fr.execute_command("FUNCTION", "LIST", "foo")


def test_load_errors(fr):
    fr.function_load(LIB)
    cases = [
        (LIB, "Library 'mylib' already exists"),
        ("#!lua name=other\nserver.register_function('myincr', function() end)", "Function myincr already exists"),
        ("#!lua name=other\nreturn 1", "No functions registered"),
        ("#!lua\nreturn 1", "Library name was not given"),
        ("#!lua name=a name=b\nreturn 1", "Invalid metadata value, name argument was given multiple times"),
        ("#!lua name=a foo=bar\nreturn 1", "Invalid metadata value given: foo=bar"),
        ("#!js name=a\nreturn 1", "Engine 'js' not found"),
        ("no metadata", "Missing library metadata"),
        ("#!lua name=a", "Invalid library metadata"),
        ("#!lua name=bad-name\nreturn 1", "Library names can only contain letters, numbers, or underscores"),
        ("#!lua name=a\nsyntax error", "Error compiling function: user_function:2: '=' expected near 'error'"),
        ("#!lua name=a\nserver.register_function()",
         "Error registering functions: ERR wrong number of arguments to server.register_function"),
        ("#!lua name=a\nredis.call('ping')",
         "Error registering functions: ERR user_function:2: Script attempted to access nonexistent global "
         "variable 'call'"),
        ("#!lua name=a\nlocal x = math.random()",
         "Error registering functions: ERR user_function:2: Script attempted to access nonexistent global "
         "variable 'math'"),
        ("#!lua name=a\na = 1", "Error registering functions: ERR user_function:2: Attempt to modify a readonly table"),
        ("#!lua name=a\nserver.register_function{function_name='f', callback=function() end, flags={'bad'}}",
         "Error registering functions: ERR unknown flag given"),
        ("#!lua name=a\nserver.register_function('f', 'not a function')",
         "Error registering functions: ERR second argument to server.register_function must be a function"),
        ("#!lua name=a\nserver.register_function('f', function() end)\nserver.register_function('f', function() end)",
         "Error registering functions: ERR Function already exists in the library"),
    ]
    for code, error in cases:
        with pytest.raises(redis.ResponseError) as e:
            fr.function_load(code)
        assert str(e.value).startswith(error), (code, str(e.value))
    with pytest.raises(redis.ResponseError, match="^Unknown option given: foo$"):
        fr.execute_command("FUNCTION", "LOAD", "foo", LIB)
    assert fr.fcall("myincr", 1, "k") == 1              # the failed loads changed nothing
    assert len(libraries(fr)) == 1


def test_load_timeout(fr):
    with pytest.raises(redis.ResponseError, match="FUNCTION LOAD timeout"):
        fr.function_load("#!lua name=a\nlocal a = 1 while true do a = a + 1 end")
    assert fr.function_load("#!lua name=a\nserver.register_function('f', function() return 1 end)") == b"a"


def test_replace_keeps_the_old_library_on_failure(fr):
    fr.function_load(LIB)
    with pytest.raises(redis.ResponseError):
        fr.function_load(LIB.replace("return incr(keys)", "return +"), replace=True)
    assert fr.fcall("myincr", 1, "k") == 1
    fr.function_load("#!lua name=mylib\nserver.register_function('other', function() return 'new' end)", replace=True)
    assert fr.fcall("other", 0) == b"new"
    with pytest.raises(redis.ResponseError, match="^Function not found$"):
        fr.fcall("myincr", 1, "k")


def test_delete_flush_and_stats(fr):
    fr.function_load(LIB)
    fr.function_load("#!lua name=lib2\nserver.register_function('f3', function() return 1 end)")
    stats = as_dict(fr.execute_command("FUNCTION", "STATS"))
    assert stats[b"running_script"] is None
    assert as_dict(as_dict(stats[b"engines"])[b"LUA"]) == {b"libraries_count": 2, b"functions_count": 3}
    assert fr.function_delete("lib2") is True
    with pytest.raises(redis.ResponseError, match="^Library not found$"):
        fr.function_delete("lib2")
    fr.flushall()                                       # FLUSHALL leaves functions alone
    assert fr.fcall("myincr", 1, "k") == 1
    with pytest.raises(redis.ResponseError, match=r"^FUNCTION FLUSH only supports SYNC\|ASYNC option$"):
        fr.execute_command("FUNCTION", "FLUSH", "LATER")
    assert fr.function_flush("SYNC") is True
    assert libraries(fr) == []
    mem = fr.info("memory")
    assert mem["number_of_functions"] == 0 and mem["number_of_libraries"] == 0


def test_dump_restore(fr):
    fr.function_load(LIB)
    payload = fr.function_dump()
    assert payload[0] == 0xF5                           # RDB_OPCODE_FUNCTION2
    assert payload[-10:-8] == b"\x0b\x00"               # RDB version 11
    fr.function_flush()
    assert fr.function_restore(payload) is True
    assert fr.fcall("myincr", 1, "k") == 1
    with pytest.raises(redis.ResponseError, match="^Library mylib already exists$"):
        fr.function_restore(payload)
    assert fr.function_restore(payload, "REPLACE") is True
    fr.function_load("#!lua name=other\nserver.register_function('f9', function() return 9 end)")
    assert fr.function_restore(payload, "FLUSH") is True
    assert [lib[b"library_name"] for lib in libraries(fr)] == [b"mylib"]
    with pytest.raises(redis.ResponseError, match="^DUMP payload version or checksum are wrong$"):
        fr.function_restore(b"garbage")
    bad = bytearray(payload)
    bad[3] ^= 1
    with pytest.raises(redis.ResponseError, match="^DUMP payload version or checksum are wrong$"):
        fr.function_restore(bytes(bad))
    with pytest.raises(redis.ResponseError, match="^Wrong restore policy given"):
        fr.function_restore(payload, "MERGE")


def test_restore_collision_changes_nothing(fr):
    fr.function_load(LIB)
    payload = fr.function_dump()
    fr.function_flush()
    fr.function_load("#!lua name=other\nserver.register_function('myget', function() return 'other' end)")
    with pytest.raises(redis.ResponseError, match="^Function myget already exists$"):
        fr.function_restore(payload)
    assert fr.fcall("myget", 0) == b"other"
    assert [lib[b"library_name"] for lib in libraries(fr)] == [b"other"]


def test_library_api_is_limited_at_load(fr):
    fr.function_load("""#!lua name=lib1
local lib = redis
lib.register_function('f1', function() lib.redis = redis return {ok='OK'} end)
lib.register_function('f2', function() lib.register_function('x', function() end) end)
lib.register_function('f3', function() server.register_function('y', function() end) end)
lib.register_function('f4', function() return {redis.REDIS_VERSION_NUM == server.REDIS_VERSION_NUM} end)
""")
    with pytest.raises(redis.ResponseError, match="Attempt to modify a readonly table"):
        fr.fcall("f1", 0)
    with pytest.raises(redis.ResponseError, match="can only be called on FUNCTION LOAD command"):
        fr.fcall("f2", 0)
    with pytest.raises(redis.ResponseError, match=r"attempt to call field 'register_function' \(a nil value\)"):
        fr.fcall("f3", 0)
    assert fr.fcall("f4", 0) == [1]


def test_function_flags_and_oom(fr):
    fr.function_load("""#!lua name=f
server.register_function{function_name='w', callback=function() return redis.call('set', 'x', 1) end}
server.register_function{function_name='ro', callback=function() return redis.call('set', 'x', 1) end,
                         flags={'no-writes'}}
server.register_function{function_name='oom', callback=function() return redis.call('set', 'x', 1) end,
                         flags={'allow-oom'}}
""")
    with pytest.raises(redis.ResponseError, match="^Write commands are not allowed from read-only scripts"):
        fr.fcall("ro", 0)
    fr.config_set("maxmemory", 1)
    try:
        with pytest.raises(redis.exceptions.OutOfMemoryError):
            fr.fcall("w", 0)
        assert fr.fcall("oom", 0) == b"OK"
        with pytest.raises(redis.exceptions.OutOfMemoryError):
            fr.function_load("#!lua name=g\nserver.register_function('g', function() end)")
    finally:
        fr.config_set("maxmemory", 0)


def test_functions_survive_debug_reload(fr):
    fr.function_load(LIB)
    fr.execute_command("DEBUG", "RELOAD")
    assert fr.fcall("myincr", 1, "k") == 1
    assert len(libraries(fr)) == 1
