"""A corpus of string and keyspace commands, errors included, sent to pykey and to
redis-server 7.0; every reply must be byte-identical.

Each case is a little script: commands separated by `` ; ``, words split like a shell.
Every reply of the script is compared, so the setup steps are checked too. Cases avoid what
legitimately differs between runs (remaining TTLs, random keys, hash-table order) and what
7.0 lacks (SET IFEQ and other Valkey 8 additions).
"""
from __future__ import annotations

import shlex

import pytest

STRING_CASES = [
    # SET and its options
    "SET k v ; GET k",
    "SET k v NX ; SET k w NX ; GET k",
    "SET k v XX ; GET k ; SET k v ; SET k w XX ; GET k",
    "SET k v GET ; SET k w GET ; GET k",
    "SET k v NX GET ; SET k w NX GET",
    "SET k v XX GET ; SET k v ; SET k w XX GET",
    "SET k v EX 100 ; TTL k",
    "SET k v PX 100000 ; TTL k",
    "SET k v EXAT 99999999999 ; EXPIRETIME k",
    "SET k v PXAT 99999999999000 ; PEXPIRETIME k",
    "SET k v EX 100 ; SET k w KEEPTTL ; TTL k",
    "SET k v EX 100 ; SET k w ; TTL k",
    "SET k v EX 0",
    "SET k v EX -1",
    "SET k v PX 0",
    "SET k v EX abc",
    "SET k v EX 9223372036854775807",
    "SET k v PX 9223372036854775807",
    "SET k v EXAT 0",
    "SET k v EX 10 PX 10",
    "SET k v NX XX",
    "SET k v KEEPTTL EX 10",
    "SET k v EX",
    "SET k v FOO",
    "SET k",
    "SET k v ex 100 nx ; TTL k",
    "LPUSH l a ; SET l v GET",
    "LPUSH l a ; SET l v ; GET l",
    # GET family
    "GET missing",
    "LPUSH l a ; GET l",
    "GET",
    "SET k v ; GETDEL k ; GET k",
    "GETDEL missing",
    "LPUSH l a ; GETDEL l",
    "SET k v ; GETEX k ; GETEX k EX 100 ; TTL k ; GETEX k PERSIST ; TTL k",
    "SET k v ; GETEX k PX 100000 ; TTL k",
    "SET k v ; GETEX k EX 0",
    "SET k v ; GETEX k EX 10 PX 10",
    "SET k v ; GETEX k FOO",
    "GETEX missing EX 10",
    "SET k v ; GETSET k w ; GET k",
    "GETSET k w ; GET k",
    "LPUSH l a ; GETSET l w",
    "SET k hello ; GETRANGE k 0 -1 ; GETRANGE k 1 2 ; GETRANGE k -3 -1 ; GETRANGE k 5 10",
    "SET k hello ; GETRANGE k 3 1 ; GETRANGE k -100 100 ; GETRANGE k 0 -100",
    "GETRANGE missing 0 -1",
    "SET k hello ; GETRANGE k a 1",
    "SET k hello ; SUBSTR k 1 3",
    "SET k 12345 ; GETRANGE k 0 2",
    # MSET / MGET
    "MSET a 1 b 2 ; MGET a b c",
    "MSET a 1 b",
    "MSET a",
    "MSETNX a 1 b 2 ; MSETNX b 3 c 4 ; MGET a b c",
    "MSETNX a 1 a 2 ; GET a",
    "LPUSH l x ; SET s v ; MGET l s",
    # SETNX / SETEX / PSETEX
    "SETNX k v ; SETNX k w ; GET k",
    "SETEX k 100 v ; TTL k ; GET k",
    "SETEX k 0 v",
    "SETEX k -5 v",
    "SETEX k abc v",
    "PSETEX k 100000 v ; TTL k",
    "PSETEX k 0 v",
    # APPEND / STRLEN / SETRANGE
    "APPEND k hello ; APPEND k ' world' ; GET k ; STRLEN k",
    "SET k 10 ; APPEND k 5 ; GET k",
    "LPUSH l a ; APPEND l x",
    "STRLEN missing ; SET k 12345 ; STRLEN k",
    "LPUSH l a ; STRLEN l",
    "SET k hello ; SETRANGE k 1 EY ; GET k",
    "SETRANGE k 5 x ; GET k ; STRLEN k",
    "SETRANGE k 0 '' ; EXISTS k",
    "SET k abc ; SETRANGE k 10 '' ; GET k",
    "SETRANGE k -1 x",
    "SETRANGE k 536870912 x",
    "SETRANGE k abc x",
    "LPUSH l a ; SETRANGE l 0 x",
    "SET k 12 ; SETRANGE k 1 x ; GET k",
    # counters
    "INCR k ; INCR k ; GET k",
    "SET k 10 ; INCRBY k 5 ; DECRBY k 20 ; DECR k",
    "SET k abc ; INCR k",
    "SET k ' 1' ; INCR k",
    "SET k 1.5 ; INCR k",
    "SET k 9223372036854775807 ; INCR k",
    "SET k -9223372036854775808 ; DECR k",
    "SET k 0 ; INCRBY k 9223372036854775807 ; INCRBY k 1",
    "INCRBY k abc",
    "INCRBY k 99999999999999999999",
    "DECRBY k -9223372036854775808",
    "SET k 007 ; INCR k",
    "SET k -0 ; INCR k",
    "SET k '' ; INCR k",
    "LPUSH l a ; INCR l",
    "INCRBYFLOAT k 1.5 ; INCRBYFLOAT k 2 ; GET k",
    "SET k 10.50 ; INCRBYFLOAT k 0.1",
    "SET k 5.0e3 ; INCRBYFLOAT k 2.0e2",
    "INCRBYFLOAT k abc",
    "INCRBYFLOAT k inf",
    "INCRBYFLOAT k nan",
    "SET k 1 ; INCRBYFLOAT k 1e308 ; INCRBYFLOAT k 1e308",
    "SET k abc ; INCRBYFLOAT k 1",
    "INCRBYFLOAT k 3 ; INCR k",
    "INCRBYFLOAT k 0.1 ; INCRBYFLOAT k 0.2",
    "INCRBYFLOAT k -1e-7",
    "LPUSH l a ; INCRBYFLOAT l 1",
    # LCS
    "MSET a ohmytext b mynewtext ; LCS a b ; LCS a b LEN",
    "MSET a ohmytext b mynewtext ; LCS a b IDX",
    "MSET a ohmytext b mynewtext ; LCS a b IDX MINMATCHLEN 4 WITHMATCHLEN",
    "LCS a b",
    "MSET a x b y ; LCS a b LEN IDX",
    "MSET a x b y ; LCS a b FOO",
    "LPUSH l a ; SET s b ; LCS l s",
    # bits (string values)
    "SETBIT k 7 1 ; GET k ; GETBIT k 7 ; GETBIT k 100 ; STRLEN k",
    "SETBIT k 7 2",
    "SETBIT k -1 1",
    "SETBIT k 4294967296 1",
    "SET k a ; SETBIT k 0 1 ; GET k",
    "LPUSH l a ; SETBIT l 0 1",
    "SET k foobar ; BITCOUNT k ; BITCOUNT k 0 0 ; BITCOUNT k 1 1 ; BITCOUNT k -2 -1",
    "SET k foobar ; BITCOUNT k 5 30 BIT ; BITCOUNT k 0 1 BYTE",
    "SET k foobar ; BITCOUNT k 0 1 FOO",
    "BITCOUNT missing",
    "SET k '\xff\xf0\x00' ; BITPOS k 0 ; BITPOS k 1 2 ; BITPOS k 1 0 -1 BIT",
    "SET k abc ; BITPOS k 2",
    "BITPOS missing 0 ; BITPOS missing 1",
    "SET k abc ; GETBIT k abc",
    # arity
    "GET a b",
    "INCR",
    "APPEND k",
    "GETRANGE k 0",
]

KEY_CASES = [
    "SET a 1 ; DEL a b ; EXISTS a",
    "MSET a 1 b 2 ; DEL a b a ; DBSIZE",
    "MSET a 1 b 2 ; UNLINK a b c",
    "SET a 1 ; EXISTS a a b",
    "MSET a 1 b 2 ; TOUCH a b c",
    "DEL",
    "SET a 1 ; LPUSH l x ; SADD s x ; HSET h f v ; TYPE a ; TYPE l ; TYPE s ; TYPE h ; TYPE none",
    # expiry
    "SET k v ; EXPIRE k 100 ; TTL k ; PERSIST k ; TTL k ; PERSIST k",
    "EXPIRE missing 100 ; TTL missing ; PTTL missing",
    "SET k v ; TTL k ; PTTL k ; EXPIRETIME k ; PEXPIRETIME k",
    "SET k v ; EXPIRE k 100 NX ; EXPIRE k 200 NX ; TTL k",
    "SET k v ; EXPIRE k 100 XX ; EXPIRE k 100 ; EXPIRE k 200 XX ; TTL k",
    "SET k v EX 100 ; EXPIRE k 200 GT ; TTL k ; EXPIRE k 50 GT ; TTL k",
    "SET k v EX 100 ; EXPIRE k 50 LT ; TTL k ; EXPIRE k 200 LT ; TTL k",
    "SET k v ; EXPIRE k 100 GT ; EXPIRE k 100 LT ; TTL k",
    "SET k v ; EXPIRE k 100 NX XX",
    "SET k v ; EXPIRE k 100 GT LT",
    "SET k v ; EXPIRE k 100 NX GT",
    "SET k v ; EXPIRE k 100 FOO",
    "SET k v ; EXPIRE k abc",
    "SET k v ; EXPIRE k 0 ; EXISTS k",
    "SET k v ; EXPIRE k -1 ; EXISTS k",
    "SET k v ; EXPIRE k 9223372036854775807",
    "SET k v ; PEXPIRE k 9223372036854775807",
    "SET k v ; EXPIRE k 9223372036854775",
    "SET k v ; EXPIREAT k 99999999999 ; EXPIRETIME k",
    "SET k v ; PEXPIREAT k 99999999999000 ; PEXPIRETIME k ; EXPIRETIME k",
    "SET k v ; EXPIREAT k 1 ; EXISTS k",
    "SET k v ; PEXPIRE k 100000 ; TTL k",
    # rename / copy / move
    "SET a 1 ; RENAME a b ; GET a ; GET b",
    "RENAME missing b",
    "SET a 1 ; RENAME a a ; GET a",
    "SET a 1 EX 100 ; RENAME a b ; TTL b",
    "MSET a 1 b 2 ; RENAMENX a b ; RENAMENX a c ; MGET a b c",
    "RENAMENX missing b",
    "SET a 1 ; RENAMENX a a",
    "SET a 1 ; COPY a b ; MGET a b ; COPY a b ; COPY a b REPLACE",
    "SET a 1 ; COPY a a",
    "COPY missing b",
    "SET a 1 ; COPY a b DB 1 ; SELECT 1 ; GET b",
    "SET a 1 ; COPY a b DB 99",
    "SET a 1 ; COPY a b DB abc",
    "SET a 1 ; COPY a b FOO",
    "SET a 1 EX 100 ; COPY a b ; TTL b",
    "LPUSH l x y ; COPY l m ; LRANGE m 0 -1",
    "SET a 1 ; MOVE a 1 ; EXISTS a ; SELECT 1 ; GET a",
    "SET a 1 ; MOVE a 0",
    "SET a 1 ; MOVE a 99",
    "SET a 1 ; MOVE a abc",
    "MOVE missing 1",
    "SET a 1 ; SELECT 1 ; SET a 2 ; SELECT 0 ; MOVE a 1",
    # databases
    "SELECT 1 ; SET k v ; SELECT 0 ; EXISTS k ; SELECT 1 ; EXISTS k",
    "SELECT 16",
    "SELECT -1",
    "SELECT abc",
    "SET a 1 ; SWAPDB 0 1 ; EXISTS a ; SELECT 1 ; EXISTS a",
    "SWAPDB 0 99",
    "SWAPDB a 1",
    "MSET a 1 b 2 ; DBSIZE ; FLUSHDB ; DBSIZE",
    "SET a 1 ; SELECT 1 ; SET b 1 ; FLUSHALL ; DBSIZE ; SELECT 0 ; DBSIZE",
    "FLUSHALL SYNC ; FLUSHALL ASYNC ; FLUSHDB SYNC",
    "FLUSHALL FOO",
    # KEYS / SCAN / RANDOMKEY with one key (order-free)
    "SET hello 1 ; KEYS h*llo ; KEYS h?llo ; KEYS h[ae]llo ; KEYS x*",
    "SET hello 1 ; KEYS h[^a]llo ; KEYS h[a-f]llo ; KEYS *",
    "SET a 1 ; SCAN 0",
    "SET a 1 ; SCAN 0 MATCH a COUNT 10 TYPE string",
    "SET a 1 ; SCAN 0 TYPE list",
    "SCAN abc",
    "SCAN 0 COUNT 0",
    "SCAN 0 FOO",
    "RANDOMKEY",
    "SET a 1 ; RANDOMKEY",
    # OBJECT
    "SET k 123 ; OBJECT ENCODING k",
    "SET k abc ; OBJECT ENCODING k",
    "SET k " + "x" * 50 + " ; OBJECT ENCODING k",
    "SET k 1 ; APPEND k 2 ; OBJECT ENCODING k",
    "OBJECT ENCODING missing",
    "SET k v ; OBJECT REFCOUNT k",
    "SET k v ; OBJECT FREQ k",
    "OBJECT FOO k",
    # wrong types across
    "LPUSH l a ; RENAME l m ; TYPE m",
    "SADD s a ; GETRANGE s 0 1",
    "HSET h f v ; MGET h",
]


# Cases where Valkey 8.0 (pykey's reference) deliberately differs from Redis 7.0.
VALKEY_8_CHANGES = {
    "SET k foobar ; BITCOUNT k 0": "8.0.0 made BITCOUNT's end optional (7.0: syntax error)",
}


def _script(case: str) -> list[list[str]]:
    return [shlex.split(part) for part in case.split(" ; ")]


CASES = STRING_CASES + KEY_CASES + [
    pytest.param(case, marks=pytest.mark.skip(reason=why)) for case, why in VALKEY_8_CHANGES.items()
]


@pytest.mark.parametrize("case", CASES)
def test_same_replies(case, pykey_raw, redis_raw):
    for argv in _script(case):
        mine, theirs = pykey_raw.call(*argv), redis_raw.call(*argv)
        assert mine == theirs, f"{argv}: pykey {mine!r} redis-7.0 {theirs!r}"
