"""EVAL, EVALSHA, EVAL_RO, SCRIPT: conversions, errors, the script cache, shebang flags."""
from __future__ import annotations

import hashlib

import pytest
import redis

from pykey.testing import EmbeddedServer


def sha(body: str) -> str:
    return hashlib.sha1(body.encode()).hexdigest()


@pytest.fixture
def r2(pykey_server: EmbeddedServer, r):
    client = redis.Redis(host=pykey_server.host, port=pykey_server.port, protocol=2, socket_timeout=10)
    yield client
    client.close()


@pytest.fixture
def r3(pykey_server: EmbeddedServer, r):
    client = redis.Redis(host=pykey_server.host, port=pykey_server.port, protocol=3, socket_timeout=10)
    yield client
    client.close()


# ---------------------------------------------------------------------- Lua -> reply
@pytest.mark.parametrize("script, expected", [
    ("return 'hello'", b"hello"),
    ("return 100.5", 100),
    ("return -3.9", -3),
    ("return true", 1),
    ("return false", None),
    ("return nil", None),
    ("return {1, 2, 3, 'ciao', {1, 2}}", [1, 2, 3, b"ciao", [1, 2]]),
    ("return {1, 2, nil, 4}", [1, 2]),                       # an array stops at its first nil
    ("return {ok='fine'}", b"fine"),
    ("return redis.status_reply('FINE')", b"FINE"),
    ("return {double=3.5}", b"3.5"),
    ("return {big_number='123456789012345678901234567890'}", b"123456789012345678901234567890"),
    ("return {map={a=1}}", [b"a", 1]),
    ("return {set={a=true}}", [b"a"]),
    ("return {1, {ok='nested'}, false}", [1, b"nested", None]),
    ("return _G", []),
])
def test_return_values_resp2(r2, script, expected):
    assert r2.eval(script, 0) == expected


def test_return_values_resp3(r3):
    assert r3.eval("return true", 0) == 1          # the script speaks RESP2 unless it says so
    assert r3.eval("redis.setresp(3); return true", 0) is True
    assert r3.eval("redis.setresp(3); return false", 0) is False
    assert r3.eval("return {double=3.5}", 0) == 3.5
    assert r3.eval("return {map={a=1}}", 0) == {b"a": 1}
    assert list(r3.eval("return {set={a=true}}", 0)) == [b"a"]
    assert r3.eval("return false", 0) is None


def test_error_replies(r):
    with pytest.raises(redis.ResponseError, match="^this is an error$"):
        r.eval("return {err='ERR this is an error'}", 0)
    with pytest.raises(redis.ResponseError, match="^MY_ERR_CODE custom msg$"):
        r.eval("return redis.error_reply('MY_ERR_CODE custom msg')", 0)
    with pytest.raises(redis.ResponseError) as e:
        r.eval("return redis.error_reply('NOCODE')", 0)
    assert str(e.value) == "NOCODE"            # sent as "-ERR NOCODE"
    stats = r.info("errorstats")
    assert stats["errorstat_MY_ERR_CODE"]["count"] >= 1


def test_keys_and_argv(r):
    assert r.eval("return {KEYS[1], KEYS[2], ARGV[1], ARGV[2]}", 2, "a", "b", "c", "d") == [b"a", b"b", b"c", b"d"]
    assert r.eval("return #KEYS + #ARGV", 0) == 0


# ---------------------------------------------------------------------- server.call
def test_call_conversions(r):
    r.set("x", "0")
    assert r.eval("local v = redis.pcall('incr', KEYS[1]) return {type(v), v}", 1, "x") == [b"number", 1]
    r.rpush("l", "a", "b")
    assert r.eval("local v = redis.call('lrange', KEYS[1], 0, -1) return {type(v), #v}", 1, "l") == [b"table", 2]
    assert r.eval("local v = redis.call('set', 'k', 'v') return {type(v), v.ok}", 0) == [b"table", b"OK"]
    assert r.eval("return redis.call('get', 'nokey') == false", 0) == 1
    r.set("s", "x")
    assert r.eval("local v = redis.pcall('incr', 's') return v.err", 0) == b"ERR value is not an integer or out of range"


def test_number_arguments(r):
    r.eval("redis.call('set', 'a', 9007199254740991)", 0)
    assert r.get("a") == b"9007199254740991"
    r.eval("redis.call('set', 'a', 3.5)", 0)
    assert r.get("a") == b"3.5"
    r.eval("redis.call('set', 'a', 0.1)", 0)
    assert r.get("a") == b"0.1"
    r.eval("redis.call('set', 'a', 2^63)", 0)
    assert r.get("a") == b"9223372036854776000"     # Valkey's fpconv_dtoa
    r.eval("redis.call('set', 'a', 1e30)", 0)
    assert r.get("a") == b"1e+30"


def test_call_errors_carry_the_script_position(r):
    body = "redis.call('set', 's', 'x')\nreturn redis.call('lpush', 's', 'a')"
    with pytest.raises(redis.ResponseError) as e:
        r.eval(body, 0)
    assert str(e.value) == (f"WRONGTYPE Operation against a key holding the wrong kind of value script: "
                            f"{sha(body)}, on @user_script:2.")
    with pytest.raises(redis.ResponseError, match=r"^Unknown command called from script script: "):
        r.eval("redis.call('nosuchcommand')", 0)
    with pytest.raises(redis.ResponseError, match=r"^Wrong number of args calling command from script"):
        r.eval("redis.call('get', 'a', 'b')", 0)
    with pytest.raises(redis.ResponseError, match=r"^Please specify at least one argument for this call"):
        r.eval("redis.call()", 0)
    with pytest.raises(redis.ResponseError, match=r"^Command arguments must be strings or integers"):
        r.eval("redis.call('get', {})", 0)
    with pytest.raises(redis.ResponseError, match=r"^This Redis command is not allowed from script"):
        r.eval("redis.call('multi')", 0)


def test_lua_errors(r):
    with pytest.raises(redis.ResponseError) as e:
        r.eval("return a", 0)
    assert str(e.value) == ("user_script:1: Script attempted to access nonexistent global variable 'a' "
                            f"script: {sha('return a')}, on @user_script:1.")
    with pytest.raises(redis.ResponseError, match=r"^user_script:1: Attempt to modify a readonly table"):
        r.eval("a = 10", 0)
    with pytest.raises(redis.ResponseError, match=r"^Error compiling script \(new function\): user_script:1: "):
        r.eval("return +", 0)
    with pytest.raises(redis.ResponseError, match=r"^user_script:1: boom script: "):
        r.eval("error('boom')", 0)
    with pytest.raises(redis.ResponseError, match=r"^CUSTOM raised script: "):
        r.eval("error({err='CUSTOM raised'})", 0)


def test_pcall_turns_error_tables_into_messages(r):
    assert r.eval("local ok, e = pcall(redis.call, 'incr') return {tostring(ok), e}", 0) == \
        [b"false", b"ERR Wrong number of args calling command from script"]
    assert r.eval("local ok, e = pcall(function() return foo end) return e", 0) == \
        b"user_script:1: Script attempted to access nonexistent global variable 'foo'"


def test_many_arguments(r):
    assert r.eval("local a = {} for i = 1, 7999 do a[i] = i end return redis.call('rpush', 'l', unpack(a))", 0) == 7999
    assert r.llen("l") == 7999


def test_select_inside_script_leaves_the_caller_alone(r):
    r.set("k", "db0")
    assert r.eval("redis.call('select', 9) redis.call('set', 'k', 'db9') return redis.call('get', 'k')", 0) == b"db9"
    assert r.get("k") == b"db0"
    r.execute_command("SELECT", 9)
    assert r.get("k") == b"db9"
    r.execute_command("SELECT", 0)


def test_blocking_commands_do_not_block(r):
    assert r.eval("return redis.pcall('blpop', 'empty', 0)", 0) is None
    assert r.eval("return redis.pcall('brpoplpush', 'e1', 'e2', 0)", 0) is None


def test_time_is_frozen_during_a_script(r):
    r.execute_command("DEBUG", "SET-DISABLE-DENY-SCRIPTS", 1)      # DEBUG SLEEP from a script
    try:
        _frozen_time(r)
    finally:
        r.execute_command("DEBUG", "SET-DISABLE-DENY-SCRIPTS", 0)


def _frozen_time(r):
    res = r.eval("local a = redis.call('time') redis.call('debug', 'sleep', 0.01) "
                 "local b = redis.call('time') return {a[1], a[2], b[1], b[2]}", 0)
    assert res[:2] == res[2:]
    assert r.eval("redis.call('set', 'k', 'v', 'px', 1) redis.call('debug', 'sleep', 0.01) "
                  "return redis.call('exists', 'k')", 0) == 1


# ---------------------------------------------------------------------- cache
def test_evalsha_and_script_commands(r):
    body = "return redis.call('get', KEYS[1])"
    r.set("mykey", "myval")
    assert r.script_load(body) == sha(body)
    assert r.evalsha(sha(body), 1, "mykey") == b"myval"
    assert r.evalsha(sha(body).upper(), 1, "mykey") == b"myval"
    assert r.execute_command("EVALSHA_RO", sha(body), 1, "mykey") == b"myval"
    assert r.script_exists(sha(body), "0" * 40) == [True, False]
    assert r.execute_command("SCRIPT", "SHOW", sha(body)) == body.encode()
    with pytest.raises(redis.ResponseError, match="^No matching script"):
        r.execute_command("SCRIPT", "SHOW", "abc")
    with pytest.raises(redis.ResponseError, match="^No matching script"):
        r.evalsha("NotValidShaSUM", 0)
    assert r.script_flush() is True
    with pytest.raises(redis.exceptions.NoScriptError):
        r.evalsha(sha(body), 1, "mykey")
    with pytest.raises(redis.ResponseError, match="^SCRIPT FLUSH only support SYNC|ASYNC option"):
        r.execute_command("SCRIPT", "FLUSH", "LATER")


def test_eval_scripts_are_evicted_lru(r):
    r.script_flush()
    r.config_resetstat()
    for j in range(1, 501):
        r.eval(f"return {j}", 0)
    r.script_load("return 'kept'")
    r.eval("return 1", 0)                     # most recently used now
    r.eval("return 'new'", 0)                 # evicts "return 2"
    assert r.evalsha(sha("return 1"), 0) == 1
    with pytest.raises(redis.exceptions.NoScriptError):
        r.evalsha(sha("return 2"), 0)
    assert r.evalsha(sha("return 'kept'"), 0) == b"kept"
    assert r.info("stats")["evicted_scripts"] == 1
    assert r.info("memory")["number_of_cached_scripts"] == 501
    r.script_flush()
    assert r.info("memory")["number_of_cached_scripts"] == 0


def test_numkeys_errors(r):
    with pytest.raises(redis.ResponseError, match="^Number of keys can't be negative$"):
        r.eval("return 1", -1)
    with pytest.raises(redis.ResponseError, match="^Number of keys can't be greater than number of args$"):
        r.eval("return 1", 2, "a")
    with pytest.raises(redis.ResponseError, match="^value is not an integer or out of range$"):
        r.execute_command("EVAL", "return 1", "x")


def test_command_getkeys(r):
    assert r.command_getkeys("EVAL", "return 1", 2, "a", "b", "c") == ["a", "b"]
    assert r.command_getkeys("EVALSHA_RO", "x" * 40, 1, "k") == ["k"]


# ---------------------------------------------------------------------- read-only and flags
def test_eval_ro_refuses_writes(r):
    with pytest.raises(redis.ResponseError, match=r"^Write commands are not allowed from read-only scripts\. "):
        r.execute_command("EVAL_RO", "return redis.call('set', 'x', 1)", 1, "x")
    r.set("x", "1")
    assert r.execute_command("EVAL_RO", "return redis.call('get', KEYS[1])", 1, "x") == b"1"
    with pytest.raises(redis.ResponseError, match=r"^Can not execute a script with write flag using \*_ro command"):
        r.execute_command("EVAL_RO", "#!lua\nreturn 1", 0)


def test_shebang(r):
    assert r.eval("#!lua\nreturn 1", 0) == 1
    with pytest.raises(redis.ResponseError, match="^Unexpected engine in script shebang: #!js$"):
        r.eval("#!js\nreturn 1", 0)
    with pytest.raises(redis.ResponseError, match="^Unknown lua shebang option: badger=data$"):
        r.eval("#!lua badger=data\nreturn 1", 0)
    with pytest.raises(redis.ResponseError, match=r"^Unexpected flag in script shebang: what\?$"):
        r.eval("#!lua flags=allow-oom,what?\nreturn 1", 0)
    with pytest.raises(redis.ResponseError, match="^Invalid script shebang$"):
        r.eval("#!lua", 0)
    with pytest.raises(redis.ResponseError, match=r"^Write commands are not allowed from read-only scripts"):
        r.eval("#!lua flags=no-writes\nredis.call('set', 'x', 1)", 0)
    # the line numbers of a script with a shebang stay the script's
    with pytest.raises(redis.ResponseError, match=r"on @user_script:3\.$"):
        r.eval("#!lua\n\nerror('x')", 0)


def test_oom_rules(r):
    r.set("x", "123")
    r.config_set("maxmemory", 1)
    try:
        with pytest.raises(redis.ResponseError, match=r"^command not allowed when used memory > 'maxmemory'\. "):
            r.eval("redis.call('set', 'x', 1)", 1, "x")
        assert r.eval("return redis.call('get', 'x')", 1, "x") == b"123"
        with pytest.raises(redis.exceptions.OutOfMemoryError):
            r.eval("#!lua flags=\nreturn 1", 0)
        assert r.eval("#!lua flags=allow-oom\nredis.call('set', 'x', 1) return 1", 1, "x") == 1
        assert r.eval("#!lua flags=no-writes\nreturn redis.call('get', 'x')", 1, "x") == b"1"
        assert r.eval("return redis.pcall('set', 'x', 2)['err']", 1, "x") == \
            b"OOM command not allowed when used memory > 'maxmemory'."
    finally:
        r.config_set("maxmemory", 0)


def test_min_replicas(r):
    r.config_set("min-replicas-to-write", 1)
    try:
        assert r.eval("return 1", 0) == 1
        assert r.eval("#!lua flags=no-writes\nreturn 1", 0) == 1
        with pytest.raises(redis.ResponseError, match="^NOREPLICAS Not enough good replicas to write."):
            r.eval("#!lua\nreturn 1", 0)
        with pytest.raises(redis.ResponseError, match="^NOREPLICAS Not enough good replicas to write. script:"):
            r.eval("return redis.call('set', 'x', 1)", 0)
    finally:
        r.config_set("min-replicas-to-write", 0)


def test_error_stats(r):
    r.config_resetstat()
    with pytest.raises(redis.ResponseError):
        r.eval("return redis.call('select', 99)", 0)
    info = r.info("commandstats")
    assert info["cmdstat_select"]["failed_calls"] == 1
    assert info["cmdstat_eval"]["failed_calls"] == 1
    assert r.info("stats")["total_error_replies"] == 1
    r.config_resetstat()
    assert r.eval_ro("return redis.pcall('set','x','y')['err']", 1, "x").startswith(b"ERR Write commands")
    info = r.info("commandstats")
    assert info["cmdstat_set"]["rejected_calls"] == 1
    assert r.info("stats")["total_error_replies"] == 1


def test_script_inside_multi(r):
    with r.pipeline() as p:
        p.eval("return redis.call('incr', KEYS[1])", 1, "c")
        p.eval("return redis.call('incr', KEYS[1])", 1, "c")
        assert p.execute() == [1, 2]


def test_debug_set_disable_deny_scripts(r):
    r.execute_command("DEBUG", "SET-DISABLE-DENY-SCRIPTS", 1)
    try:
        assert r.eval("return redis.call('debug', 'protocol', 'integer')", 0) == 12345
        assert b"id=" in r.eval("return redis.call('client', 'list')", 0)
    finally:
        r.execute_command("DEBUG", "SET-DISABLE-DENY-SCRIPTS", 0)
    with pytest.raises(redis.ResponseError, match="not allowed from script"):
        r.eval("return redis.call('debug', 'protocol', 'integer')", 0)


def test_info_memory_fields(r):
    r.script_flush()
    r.set("x", 0)
    for _ in range(200):                      # Lua collects garbage in steps, every 50 scripts
        r.eval("return redis.call('incr', KEYS[1])", 1, "x")
    mem = r.info("memory")
    for field in ("used_memory_lua", "used_memory_vm_eval", "used_memory_scripts_eval", "number_of_cached_scripts",
                  "number_of_functions", "number_of_libraries", "used_memory_vm_functions", "used_memory_vm_total",
                  "used_memory_functions", "used_memory_scripts"):
        assert field in mem
    assert mem["number_of_cached_scripts"] == 1
    assert 0 < mem["used_memory_lua"] < 100 * 1024
