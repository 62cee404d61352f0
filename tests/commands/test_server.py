"""COMMAND, INFO, CONFIG, TIME, LASTSAVE, SLOWLOG, SHUTDOWN and DEBUG."""
from __future__ import annotations

import time

import pytest
import redis

from pykey.testing import EmbeddedServer
from pykey.testing.raw import raw_reply


def _info_text(r: redis.Redis, *sections: str) -> str:
    data = raw_reply(r, "INFO", *sections)
    return data.decode() if isinstance(data, bytes) else str(data)


@pytest.fixture
def r2(pykey_server: EmbeddedServer):
    """A RESP2 client that returns raw replies (no redis-py callbacks)."""
    client = redis.Redis(host=pykey_server.host, port=pykey_server.port, protocol=2, socket_timeout=10)
    client.flushall()
    yield client
    client.close()


# ------------------------------------------------------------------ COMMAND
def test_command_count_matches_command(r2):
    count = raw_reply(r2, "COMMAND", "COUNT")
    assert count == len(raw_reply(r2, "COMMAND"))


def test_command_info_get(r2):
    info = raw_reply(r2, "COMMAND", "INFO", "get")[0]
    assert info[:6] == [b"get", 2, [b"readonly", b"fast"], 1, 1, 1]
    assert info[6] == [b"@read", b"@string", b"@fast"]
    assert info[8] == [[b"flags", [b"RO", b"access"],
                        b"begin_search", [b"type", b"index", b"spec", [b"index", 1]],
                        b"find_keys", [b"type", b"range", b"spec",
                                       [b"lastkey", 0, b"keystep", 1, b"limit", 0]]]]
    assert info[9] == []


def test_command_info_unknown_and_subcommand(r2):
    unknown, sub = raw_reply(r2, "COMMAND", "INFO", "nosuch", "config|get")
    assert unknown is None
    assert sub[0] == b"config|get" and sub[1] == -3
    assert sub[6] == [b"@admin", b"@slow", b"@dangerous"]


def test_command_info_container_lists_subcommands(r2):
    info = raw_reply(r2, "COMMAND", "INFO", "config")[0]
    names = {s[0] for s in info[9]}
    assert {b"config|get", b"config|set", b"config|resetstat", b"config|rewrite"} <= names


def test_command_docs(r2):
    docs = raw_reply(r2, "COMMAND", "DOCS", "info", "nosuch")
    assert docs[0] == b"info"
    d = dict(zip(docs[1][::2], docs[1][1::2], strict=True))
    assert d[b"group"] == b"server" and d[b"since"] == b"1.0.0"
    assert len(docs) == 2


def test_command_list_and_filters(r2):
    names = set(raw_reply(r2, "COMMAND", "LIST"))
    assert {b"get", b"config|get", b"client|list"} <= names
    assert set(raw_reply(r2, "COMMAND", "LIST", "FILTERBY", "PATTERN", "config|*")) == {
        n for n in names if n.startswith(b"config|")}
    conn = set(raw_reply(r2, "COMMAND", "LIST", "FILTERBY", "ACLCAT", "connection"))
    assert b"ping" in conn and b"get" not in conn
    assert raw_reply(r2, "COMMAND", "LIST", "FILTERBY", "MODULE", "x") == []
    with pytest.raises(redis.ResponseError, match="syntax error"):
        raw_reply(r2, "COMMAND", "LIST", "FILTERBY", "foo", "bar")


def test_command_getkeys(r2):
    assert raw_reply(r2, "COMMAND", "GETKEYS", "set", "k", "v") == [b"k"]
    assert raw_reply(r2, "COMMAND", "GETKEYSANDFLAGS", "set", "k", "v") == [[b"k", [b"OW", b"update"]]]
    assert raw_reply(r2, "COMMAND", "GETKEYSANDFLAGS", "set", "k", "v", "get") == [
        [b"k", [b"RW", b"access", b"update"]]]
    for args, msg in [(("nosuch", "a"), "Invalid command specified"),
                      (("ping", "x"), "The command has no key arguments"),
                      (("get", "a", "b"), "Invalid number of arguments specified for command")]:
        with pytest.raises(redis.ResponseError, match=msg):
            raw_reply(r2, "COMMAND", "GETKEYS", *args)


def test_command_help(r2):
    lines = raw_reply(r2, "COMMAND", "HELP")
    assert lines[0].startswith(b"COMMAND <subcommand>")
    assert lines[-2:] == [b"HELP", b"    Print this help."]


# ------------------------------------------------------------------ INFO
def test_info_default_sections(r2):
    text = _info_text(r2)
    assert "\r\n" in text
    for title in ("# Server", "# Clients", "# Memory", "# Persistence", "# Stats", "# Replication",
                  "# CPU", "# Modules", "# Errorstats", "# Cluster", "# Keyspace"):
        assert title in text
    assert "# Commandstats" not in text
    assert "redis_version:7.2.4" in text and "role:master" in text


def test_info_all_and_specific(r2):
    assert "# Commandstats" in _info_text(r2, "all")
    text = _info_text(r2, "server", "clients")
    assert text.startswith("# Server\r\n") and "# Clients" in text and "# Memory" not in text
    assert _info_text(r2, "nosuchsection") == ""


def test_info_keyspace_and_commandstats(r2):
    r2.set("a", "1")
    r2.set("b", "2")
    r2.pexpire("b", 100000) if "pexpire" in raw_reply(r2, "COMMAND", "LIST") else None
    text = _info_text(r2, "keyspace")
    assert "db0:keys=2," in text
    raw_reply(r2, "CONFIG", "RESETSTAT")
    r2.get("a")
    stats = _info_text(r2, "commandstats")
    assert "cmdstat_get:calls=1,usec=" in stats
    assert ",rejected_calls=0,failed_calls=0" in stats


def test_info_errorstats(r2):
    raw_reply(r2, "CONFIG", "RESETSTAT")
    with pytest.raises(redis.ResponseError):
        raw_reply(r2, "nosuchcommand")
    text = _info_text(r2, "errorstats")
    assert "errorstat_ERR:count=1" in text
    assert "cmdstat_" not in text
    stats = _info_text(r2, "stats")
    assert "total_error_replies:1\r\n" in stats


def test_info_rdb_changes(r2):
    before = int(_info_text(r2, "persistence").split("rdb_changes_since_last_save:")[1].split("\r\n")[0])
    r2.set("x", "y")
    after = int(_info_text(r2, "persistence").split("rdb_changes_since_last_save:")[1].split("\r\n")[0])
    assert after == before + 1


def test_info_resp3_is_verbatim(pykey_server):
    import socket
    s = socket.create_connection((pykey_server.host, pykey_server.port))
    s.sendall(b"HELLO 3\r\n")
    time.sleep(0.2)
    s.recv(65536)
    s.sendall(b"INFO server\r\n")
    time.sleep(0.2)
    data = s.recv(65536)
    s.close()
    assert data.startswith(b"=") and b"\r\ntxt:# Server\r\n" in data


# ------------------------------------------------------------------ CONFIG
def test_config_get_set(r2):
    assert raw_reply(r2, "CONFIG", "SET", "maxmemory-samples", "7") == b"OK"
    assert raw_reply(r2, "CONFIG", "GET", "maxmemory-samples") == [b"maxmemory-samples", b"7"]
    raw_reply(r2, "CONFIG", "SET", "maxmemory-samples", "5")


def test_config_set_errors(r2):
    with pytest.raises(redis.ResponseError,
                       match="^Unknown option or number of arguments for CONFIG SET - 'nosuch'$"):
        raw_reply(r2, "CONFIG", "SET", "nosuch", "1")
    with pytest.raises(redis.ResponseError, match="wrong number of arguments for 'config|set' command"):
        raw_reply(r2, "CONFIG", "SET", "maxmemory", "1", "hz")


def test_config_rewrite_without_file(r2):
    with pytest.raises(redis.ResponseError, match="^The server is running without a config file$"):
        raw_reply(r2, "CONFIG", "REWRITE")


def test_config_rewrite_with_file(tmp_path):
    conf = tmp_path / "pykey.conf"
    conf.write_text("# my comment\nhz 10\n")
    srv = EmbeddedServer(str(conf), "--bind", "127.0.0.1").start()
    try:
        c = redis.Redis(port=srv.port, protocol=2)
        raw_reply(c, "CONFIG", "SET", "hz", "20")
        raw_reply(c, "CONFIG", "SET", "maxmemory-samples", "9")
        assert raw_reply(c, "CONFIG", "REWRITE") == b"OK"
        text = conf.read_text()
        assert "# my comment" in text and "hz 20" in text and "maxmemory-samples 9" in text
        c.close()
    finally:
        srv.stop()


def test_config_resetstat(r2):
    r2.get("a")
    raw_reply(r2, "CONFIG", "RESETSTAT")
    text = _info_text(r2, "stats")
    assert "total_error_replies:0\r\n" in text


def test_config_help(r2):
    assert raw_reply(r2, "CONFIG", "HELP")[0].startswith(b"CONFIG <subcommand>")


# ------------------------------------------------------------------ TIME, LASTSAVE, SLOWLOG
def test_time_and_lastsave(r2):
    secs, usecs = raw_reply(r2, "TIME")
    assert abs(int(secs) - time.time()) < 5 and 0 <= int(usecs) < 1_000_000
    assert isinstance(raw_reply(r2, "LASTSAVE"), int)


def test_slowlog(r2):
    raw_reply(r2, "CONFIG", "SET", "slowlog-log-slower-than", "0")
    try:
        raw_reply(r2, "SLOWLOG", "RESET")
        raw_reply(r2, "PING")
        assert raw_reply(r2, "SLOWLOG", "LEN") >= 1
        entries = raw_reply(r2, "SLOWLOG", "GET", "-1")
        assert any(e[3] == [b"PING"] for e in entries)
        assert len(raw_reply(r2, "SLOWLOG", "GET", "1")) == 1
        with pytest.raises(redis.ResponseError, match="count should be greater than or equal to -1"):
            raw_reply(r2, "SLOWLOG", "GET", "-2")
    finally:
        raw_reply(r2, "CONFIG", "SET", "slowlog-log-slower-than", "10000")


# ------------------------------------------------------------------ DEBUG
def test_debug_denied_by_default():
    with EmbeddedServer() as srv:
        c = redis.Redis(port=srv.port, protocol=2)
        with pytest.raises(redis.ResponseError, match="^DEBUG command not allowed"):
            raw_reply(c, "DEBUG", "DIGEST")
        c.close()


def test_debug_digest(r2):
    assert raw_reply(r2, "DEBUG", "DIGEST") == b"0" * 40
    r2.set("k", "v")
    d1 = raw_reply(r2, "DEBUG", "DIGEST")
    assert len(d1) == 40 and d1 != b"0" * 40
    r2.set("k", "w")
    assert raw_reply(r2, "DEBUG", "DIGEST") != d1
    vals = raw_reply(r2, "DEBUG", "DIGEST-VALUE", "k", "missing")
    assert len(vals[0]) == 40 and vals[1] == b"0" * 40


def test_debug_object_and_protocol(r2):
    r2.set("n", "12345")
    text = raw_reply(r2, "DEBUG", "OBJECT", "n").decode()
    assert text.startswith("Value at:") and "encoding:int" in text and "lru_seconds_idle:" in text
    with pytest.raises(redis.ResponseError, match="no such key"):
        raw_reply(r2, "DEBUG", "OBJECT", "missing")
    assert raw_reply(r2, "DEBUG", "PROTOCOL", "string") == b"Hello World"
    assert raw_reply(r2, "DEBUG", "PROTOCOL", "integer") == 12345
    assert raw_reply(r2, "DEBUG", "PROTOCOL", "map") == [0, 0, 1, 1, 2, 0]
    assert raw_reply(r2, "DEBUG", "PROTOCOL", "bignum") == b"1234567999999999999999999999999999999"
    with pytest.raises(redis.ResponseError, match="RESP2 is not supported"):
        raw_reply(r2, "DEBUG", "PROTOCOL", "push")
    assert raw_reply(r2, "DEBUG", "SET-ACTIVE-EXPIRE", "0") == b"OK"
    assert raw_reply(r2, "DEBUG", "SET-ACTIVE-EXPIRE", "1") == b"OK"
    assert raw_reply(r2, "DEBUG", "SLEEP", "0") == b"OK"


# ------------------------------------------------------------------ SHUTDOWN
def test_shutdown_closes_server():
    srv = EmbeddedServer().start()
    c = redis.Redis(port=srv.port, protocol=2)
    with pytest.raises(redis.ResponseError, match="syntax error"):
        raw_reply(c, "SHUTDOWN", "BOGUS")
    with pytest.raises(redis.ConnectionError):
        raw_reply(c, "SHUTDOWN", "NOSAVE")
    srv.thread.join(10)
    assert not srv.thread.is_alive()
