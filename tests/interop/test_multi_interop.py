"""MULTI/EXEC/DISCARD/WATCH replies, byte for byte, against redis-server 7.0.

Each case is a script run on one connection of each server (commands separated by `` ; ``);
``@other`` runs a command on a second connection, to touch watched keys from elsewhere.
Every reply is compared, so QUEUED, the EXEC array (errors inside it included), EXECABORT
and the null array of a failed WATCH are all checked.
"""
from __future__ import annotations

import shlex

import pytest

CASES = [
    "MULTI ; SET a 1 ; INCR a ; GET a ; EXEC",
    "MULTI ; EXEC",
    "MULTI ; SET a x ; INCR a ; LPUSH a 1 ; GET a ; EXEC",
    "MULTI ; PING ; ECHO hi ; PING x ; EXEC",
    "MULTI ; SET a 1 ; NOSUCH ; SET b 2 ; EXEC ; EXISTS a b",
    "MULTI ; SET a 1 ; GET ; EXEC ; EXISTS a",
    "MULTI ; SET a ; SET b 2 ; EXEC ; GET b",
    "MULTI ; SET a 1 ; DISCARD ; GET a",
    "EXEC",
    "DISCARD",
    "MULTI ; DISCARD ; DISCARD",
    "MULTI ; EXEC ; EXEC",
    "MULTI ; SET a 1 ; EXEC extra ; EXEC ; GET a",
    "WATCH a ; MULTI ; SET a 1 ; EXEC ; GET a",
    "SET a 1 ; WATCH a ; @other SET a 2 ; MULTI ; GET a ; EXEC ; GET a",
    "SET a 1 ; WATCH a ; @other GET a ; MULTI ; GET a ; EXEC",
    "WATCH a ; @other SET a 2 ; UNWATCH ; MULTI ; GET a ; EXEC",
    "WATCH a ; @other DEL a ; MULTI ; PING ; EXEC",
    "SET a 1 ; WATCH a ; @other DEL a ; MULTI ; PING ; EXEC",
    "SET a 1 ; WATCH a ; @other EXPIRE a 100 ; MULTI ; PING ; EXEC",
    "SET a 1 ; WATCH a ; @other FLUSHALL ; MULTI ; PING ; EXEC",
    "WATCH a ; @other FLUSHALL ; MULTI ; PING ; EXEC",
    "SET a 1 ; WATCH a ; @other SWAPDB 0 1 ; MULTI ; PING ; EXEC",
    "WATCH a ; @other SELECT 1 ; @other SET a 1 ; MULTI ; PING ; EXEC",
    "SET src 1 ; WATCH a ; @other RENAME src a ; MULTI ; PING ; EXEC",
    "SET a 1 ; WATCH a ; SET a 2 ; MULTI ; PING ; EXEC",
    "WATCH a ; MULTI ; PING ; DISCARD ; @other SET a 1 ; MULTI ; PING ; EXEC",
    "MULTI ; BLPOP nolist 0 ; BRPOP nolist 0 ; BLMOVE nolist d LEFT LEFT 0 ; EXEC",
    "MULTI ; BRPOPLPUSH nolist d 0 ; BLMPOP 0 1 nolist LEFT ; RPUSH l a ; BLPOP l 0 ; EXEC",
    "MULTI ; SELECT 2 ; SET a 1 ; EXEC ; GET a ; SELECT 0 ; GET a",
    "MULTI ; SELECT 99 ; PING ; EXEC",
    "MULTI ; HSET h f v ; HGETALL h ; SMEMBERS nos ; EXEC",
    "MULTI ; SET k v ; UNWATCH ; EXEC",
    "MULTI ; SHUTDOWN ; EXEC",
    "MULTI ; SET a 1 ; RESET ; EXEC ; GET a",
    "MULTI ; CLIENT PAUSE abc ; CLIENT PAUSE 100 READ ; CLIENT PAUSE -1 ; EXEC",
    "CLIENT PAUSE abc",
    "CLIENT PAUSE -1",
    "CLIENT PAUSE 1 READ",
    "CLIENT PAUSE 1 WRITE x",
    "client Pause 1 WRITE x",
    "CLIENT PAUSE 0 ; CLIENT UNPAUSE ; CLIENT UNPAUSE",
    "CLIENT KILL 127.0.0.1:1",
    "CLIENT KILL ID 0 ; CLIENT KILL TYPE foo ; CLIENT KILL SKIPME x",
    "CLIENT KILL ID 999999 ; CLIENT KILL TYPE master ; CLIENT KILL USER nobody ; CLIENT KILL ID 1 x",
]

# Where Valkey 8.0 (pykey's reference) deliberately differs from Redis 7.0.
VALKEY_8_CHANGES = {
    # MULTI and WATCH carry the no_multi flag in Valkey 8: a generic error that also dooms
    # the transaction (Redis 7.0: "MULTI calls can not be nested", EXEC still runs).
    "MULTI ; MULTI ; PING ; EXEC": "Valkey: Command not allowed inside a transaction + EXECABORT",
    "MULTI ; WATCH a ; PING ; EXEC": "Valkey: Command not allowed inside a transaction + EXECABORT",
}


def _run(raw_client, port: int, case: str) -> list[bytes]:
    main, other = raw_client(port), raw_client(port)
    try:
        main.call("FLUSHALL")
        out = []
        for part in case.split(" ; "):
            words = shlex.split(part)
            if words[0] == "@other":
                out.append(other.call(*words[1:]))
            else:
                out.append(main.call(*words))
        return out
    finally:
        main.close()
        other.close()


@pytest.mark.parametrize("case", CASES + [
    pytest.param(case, marks=pytest.mark.skip(reason=why)) for case, why in VALKEY_8_CHANGES.items()])
def test_same_replies_as_redis(case, redis_port, pykey_server, raw_client):
    assert _run(raw_client, pykey_server.port, case) == _run(raw_client, redis_port, case)


def test_valkey_8_differences(pykey_server, raw_client):
    """What pykey answers where Valkey 8 changed Redis 7.0's behaviour."""
    assert _run(raw_client, pykey_server.port, "MULTI ; MULTI ; PING ; EXEC") == [
        b"+OK\r\n", b"-ERR Command not allowed inside a transaction\r\n", b"+QUEUED\r\n",
        b"-EXECABORT Transaction discarded because of previous errors.\r\n"]
    assert _run(raw_client, pykey_server.port, "MULTI ; WATCH a ; PING ; EXEC")[1] == \
        b"-ERR Command not allowed inside a transaction\r\n"
