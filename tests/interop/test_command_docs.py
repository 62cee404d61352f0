"""COMMAND DOCS ``arguments`` of every command and subcommand pykey implements, against
redis-server 7.0 and against Valkey 8.0's own command table (src/commands/*.json).

pykey declares the arguments of Valkey 8, which took Redis 7.2's rework of the argument
tables; Redis 7.0 predates it. Two of 7.2's changes are normalised away:
- ``display_text`` (7.2 gives one to every argument that is not a oneof/block; Valkey
  defaults it to the name): dropped from pykey's reply before comparing;
  test_display_text checks it is on every value argument and nowhere else.
- argument names with ``_`` (7.2's generator refuses them, so every one was renamed:
  ``offset_count`` became ``limit``...): not compared where Redis 7.0's name has one.
Every other difference is listed in RENAMED or KNOWN_DIFFERENCES with its reason, and
test_matches_valkey_8_table checks pykey's side of each against Valkey's JSON, so the list
cannot hide a mistake of ours.
"""
from __future__ import annotations

import os
import socket

import hiredis
import pytest
from test_command_info import VALKEY_JSON, _valkey_table  # the same directory (on sys.path)

# (command, Redis 7.0 path) -> Valkey 8 name: arguments 7.2 renamed though their name had no '_'.
RENAMED: dict[tuple[str, str], str] = {
    ("bitcount", "/index"): "range",
    ("bitpos", "/index"): "range",
    ("client|kill", "/filter/ip:port"): "old-format",
    ("client|list", "/id"): "client-id",
    ("flushall", "/async"): "flush-type",
    ("flushdb", "/async"): "flush-type",
    ("function|flush", "/async"): "flush-type",
    ("script|flush", "/async"): "flush-type",
    ("georadius_ro", "/count"): "count-block",
    ("georadiusbymember_ro", "/count"): "count-block",
    ("geosearch", "/count"): "count-block",
    ("geosearchstore", "/count"): "count-block",
    ("lcs", "/len[2]"): "min-match-len",
    ("migrate", "/authentication/password"): "auth",
    ("migrate", "/key"): "keys",
    ("sort", "/pattern[1]"): "by-pattern",
    ("sort", "/pattern[2]"): "get-pattern",
    ("sort_ro", "/pattern[1]"): "by-pattern",
    ("sort_ro", "/pattern[2]"): "get-pattern",
    ("xclaim", "/id[2]"): "lastid",
    ("xgroup|create", "/groupname"): "group",
    ("xgroup|create", "/id"): "id-selector",
    ("xgroup|createconsumer", "/groupname"): "group",
    ("xgroup|createconsumer", "/consumername"): "consumer",
    ("xgroup|delconsumer", "/groupname"): "group",
    ("xgroup|delconsumer", "/consumername"): "consumer",
    ("xgroup|destroy", "/groupname"): "group",
    ("xgroup|setid", "/groupname"): "group",
    ("xgroup|setid", "/id"): "id-selector",
    ("xinfo|consumers", "/groupname"): "group",
    ("xinfo|stream", "/full"): "full-block",
}

# (command, path, field) -> (Redis 7.0 value, pykey/Valkey value); the field "arguments"
# compares the names of the arguments a level holds.
KNOWN_DIFFERENCES: dict[tuple[str, str, str], tuple[object, object]] = {
    # 7.2 split BITCOUNT/BITPOS ranges so that BYTE|BIT goes with the end it qualifies.
    ("bitcount", "/index", "arguments"): (["start", "end", "index_unit"], ["start", "end-unit-block"]),
    # 7.2 declared BITOP's operation as tokens; Valkey 9 (and Redis 8.2) added four operations.
    ("bitop", "/operation", "type"): ("string", "oneof"),
    ("bitop", "/operation", "arguments"): ([], ["and", "or", "xor", "not", "diff", "diff1", "andor", "one"]),
    # 7.2 named the filters and made SKIPME a choice of tokens; Valkey 8.0 added MAXAGE.
    ("client|kill", "/filter/new-format", "arguments"): (
        ["client-id", "normal_master_slave_pubsub", "username", "ip:port", "ip:port", "yes/no"],
        ["client-id", "client-type", "username", "addr", "laddr", "skipme", "maxage"]),
    # 7.2: ID takes the client IDs directly instead of a block of one argument.
    ("client|list", "/id", "type"): ("block", "integer"),
    ("client|list", "/id", "flags"): (["optional"], ["multiple", "optional"]),
    ("client|list", "/id", "arguments"): (["client-id"], []),
    # 7.2 replaced blocks of one argument by the argument.
    ("config|get", "/parameter", "type"): ("block", "string"),
    ("config|get", "/parameter", "arguments"): (["parameter"], []),
    ("module|loadex", "/args", "type"): ("block", "string"),
    ("module|loadex", "/args", "arguments"): (["arg"], []),
    ("psubscribe", "/pattern", "type"): ("block", "pattern"),
    ("psubscribe", "/pattern", "arguments"): (["pattern"], []),
    # 7.2 declared COMMAND GETKEYS's arguments (7.0 had none).
    ("command|getkeys", "", "arguments"): ([], ["command", "arg"]),
    ("command|getkeysandflags", "", "arguments"): ([], ["command", "arg"]),
    # 7.2: these commands accept no member/source at all, so the list is optional.
    ("geohash", "/member", "flags"): (["multiple"], ["multiple", "optional"]),
    ("geopos", "/member", "flags"): (["multiple"], ["multiple", "optional"]),
    ("pfmerge", "/sourcekey", "flags"): (["multiple"], ["multiple", "optional"]),
    # 7.2 grouped STORE and STOREDIST into one choice ("store") and named the COUNT block.
    ("georadius", "", "arguments"): (
        ["key", "longitude", "latitude", "radius", "unit", "withcoord", "withdist", "withhash", "count", "order",
         "key", "key"],
        ["key", "longitude", "latitude", "radius", "unit", "withcoord", "withdist", "withhash", "count-block",
         "order", "store"]),
    ("georadiusbymember", "", "arguments"): (
        ["key", "member", "radius", "unit", "withcoord", "withdist", "withhash", "count", "order", "key", "key"],
        ["key", "member", "radius", "unit", "withcoord", "withdist", "withhash", "count-block", "order", "store"]),
    # Valkey 8.0 added HSCAN NOVALUES and ZSCAN NOSCORES; 7.2 added ZRANK/ZREVRANK WITHSCORE.
    ("hscan", "", "arguments"): (["key", "cursor", "pattern", "count"], ["key", "cursor", "pattern", "count", "novalues"]),
    ("zscan", "", "arguments"): (["key", "cursor", "pattern", "count"], ["key", "cursor", "pattern", "count", "noscores"]),
    ("zrank", "", "arguments"): (["key", "member"], ["key", "member", "withscore"]),
    ("zrevrank", "", "arguments"): (["key", "member"], ["key", "member", "withscore"]),
    # 7.2: MIGRATE's empty key is the token "" (7.0 sent an empty token); the arguments of
    # AUTH/AUTH2 inside the optional choice are no longer themselves optional.
    ("migrate", "/key_or_empty_string/empty_string", "token"): ("", '""'),
    ("migrate", "/authentication/password", "flags"): (["optional"], None),
    ("migrate", "/authentication/username_password", "flags"): (["optional"], None),
    # Valkey 8.1 added SET ... IFEQ to the condition; the 2.6.12 "since" moved to NX and XX.
    ("set", "/condition", "since"): ("2.6.12", None),
    ("set", "/condition", "arguments"): (["nx", "xx"], ["nx", "xx", "comparison-value"]),
    # 7.2: ABORT excludes the other SHUTDOWN options, so they are a choice.
    ("shutdown", "", "arguments"): (["nosave_save", "now", "force", "abort"], ["abort-selector"]),
    # 7.2: a block needs two arguments, so FULL became a pure token inside "full-block".
    ("xinfo|stream", "/full", "token"): ("FULL", None),
    ("xinfo|stream", "/full", "arguments"): (["count"], ["full", "count"]),
}

# Commands whose arguments pykey takes from a Valkey newer than 8.0.1 (so they differ from
# the checkout's table on purpose), and what changed.
NEWER_THAN_8_0 = {
    "set": "Valkey 8.1 added IFEQ comparison-value to the condition (since moved to NX/XX); "
           "pykey leaves out Valkey's argument summary, as it writes its own texts",
    "bitop": "Valkey 9 / Redis 8.2 added DIFF, DIFF1, ANDOR and ONE",
}
# Commands that Valkey 8.0.1 does not have (Valkey 9 hash field expiry): checked to have arguments.
NOT_IN_8_0 = {"hexpire", "hpexpire", "hexpireat", "hpexpireat", "httl", "hpttl", "hexpiretime",
              "hpexpiretime", "hpersist", "hgetex", "hsetex", "hgetdel"}


def _pairs(flat: list) -> dict[str, object]:
    return {flat[i].decode(): flat[i + 1] for i in range(0, len(flat), 2)}


def _arg_tree(flat: list) -> dict[str, object]:
    d = _pairs(flat)
    out: dict[str, object] = {k: v.decode() if isinstance(v, bytes) else v
                              for k, v in d.items() if k not in ("arguments", "flags")}
    if "flags" in d:
        out["flags"] = sorted(f.decode() for f in d["flags"])
    if "arguments" in d:
        out["arguments"] = [_arg_tree(a) for a in d["arguments"]]
    return out


def _docs(port: int, raw_client) -> dict[str, list[dict]]:
    """name -> argument trees, commands and subcommands, from a RESP2 COMMAND DOCS."""
    c = raw_client(port)
    try:
        reader = hiredis.Reader()
        reader.feed(c.call("COMMAND", "DOCS"))
        flat = reader.gets()
    finally:
        c.close()
    out: dict[str, list[dict]] = {}

    def walk(entries: list) -> None:
        for i in range(0, len(entries), 2):
            d = _pairs(entries[i + 1])
            out[entries[i].decode()] = [_arg_tree(a) for a in d.get("arguments", [])]
            if "subcommands" in d:
                walk(d["subcommands"])
    walk(flat)
    return out


@pytest.fixture(scope="module")
def ours(pykey_server, raw_client) -> dict[str, list[dict]]:
    return _docs(pykey_server.port, raw_client)


@pytest.fixture(scope="module")
def redis_7(redis_port, raw_client) -> dict[str, list[dict]]:
    return _docs(redis_port, raw_client)


def _differences(name: str, mine: list[dict], real: list[dict], renamed: set, path: str = "") -> list[tuple]:
    """(command, path, field, Redis 7.0 value, pykey value) for each difference; the RENAMED
    entries it applied go into ``renamed``."""
    out: list[tuple] = []
    if len(mine) != len(real):
        return [(name, path, "arguments", [a["name"] for a in real], [a["name"] for a in mine])]
    seen: dict[str, int] = {}
    names = [a["name"] for a in real]
    for m, r in zip(mine, real, strict=True):
        seen[r["name"]] = seen.get(r["name"], 0) + 1
        here = f"{path}/{r['name']}" + (f"[{seen[r['name']]}]" if names.count(r["name"]) > 1 else "")
        for field in sorted((set(m) | set(r)) - {"arguments", "display_text"}):
            a, b = r.get(field), m.get(field)
            if field == "name" and RENAMED.get((name, here)) == b:
                renamed.add((name, here))
                continue
            if field == "name" and "_" in a:
                continue
            if a != b:
                out.append((name, here, field, a, b))
        out += _differences(name, m.get("arguments", []), r.get("arguments", []), renamed, here)
    return out


def test_pykey_documents_arguments(ours, redis_7):
    assert sum(1 for args in ours.values() if args) > 250


def test_arguments_match_redis_7(ours, redis_7):
    found = {}
    renamed: set = set()
    for name in sorted(set(ours) & set(redis_7)):
        for cmd, path, field, real, mine in _differences(name, ours[name], redis_7[name], renamed):
            found[(cmd, path, field)] = (real, mine)
    unexplained = [f"{k}: redis-7.0 {v[0]!r} pykey {v[1]!r}" for k, v in found.items()
                   if KNOWN_DIFFERENCES.get(k) != v]
    assert not unexplained, "\n".join(unexplained)
    stale = [k for k in KNOWN_DIFFERENCES if k not in found]
    assert not stale, f"listed differences that no longer exist: {stale}"
    assert renamed == set(RENAMED), f"renames that no longer apply: {set(RENAMED) - renamed}"


def test_display_text(ours):
    def check(args: list[dict]) -> None:
        for a in args:
            grouped = a["type"] in ("oneof", "block")
            assert ("display_text" in a) != grouped, a
            check(a.get("arguments", []))
    for args in ours.values():
        check(args)
    names = {a["display_text"] for a in ours["georadius"][-1]["arguments"]}
    assert names == {"key"}          # STORE storekey / STOREDIST storedistkey show as "key"


def _resp3_docs(port: int, name: str) -> bytes:
    """The raw RESP3 bytes of COMMAND DOCS <name>."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        out = b""
        for request in (b"HELLO 3\r\n", b"COMMAND DOCS %s\r\n" % name.encode()):
            sock.sendall(request)
            reader, out = hiredis.Reader(), b""
            while True:
                chunk = sock.recv(65536)
                assert chunk, "connection closed"
                out += chunk
                reader.feed(chunk)
                if reader.gets() is not False:
                    break
    return out


def _bulk(*words: str) -> bytes:
    return b"".join(b"$%d\r\n%s\r\n" % (len(w), w.encode()) for w in words)


def test_resp3_reply_shape(pykey_server, redis_port):
    """RESP3: each argument is a map, its flags a set of simple strings, as both servers send."""
    get_arg = (_bulk("name", "get", "type", "pure-token"), _bulk("display_text", "get"),
               _bulk("token", "GET", "since", "6.2.0", "flags") + b"~1\r\n+optional\r\n")
    assert b"%6\r\n" + b"".join(get_arg) in _resp3_docs(pykey_server.port, "set")
    assert b"%5\r\n" + get_arg[0] + get_arg[2] in _resp3_docs(redis_port, "set")   # no display_text in 7.0


# --- Valkey 8.0's own table ------------------------------------------------------------------

def _valkey_arg(d: dict) -> dict[str, object]:
    """An argument as Valkey's generator (utils/generate-command-code.py) builds it from the JSON
    and addReplyCommandArgList sends it."""
    grouped = d["type"] in ("oneof", "block")
    out: dict[str, object] = {"name": d["name"].lower(), "type": d["type"]}
    if not grouped:
        out["display_text"] = d.get("display", d["name"]).lower()
    if "key_spec_index" in d:
        out["key_spec_index"] = d["key_spec_index"]
    if "token" in d:
        out["token"] = d["token"].upper()
    for field in ("summary", "since", "deprecated_since"):
        if field in d:
            out[field] = d[field]
    flags = sorted(f for f in ("optional", "multiple", "multiple_token") if d.get(f))
    if flags:
        out["flags"] = flags
    if grouped:
        out["arguments"] = [_valkey_arg(a) for a in d["arguments"]]
    return out


def _valkey_args() -> dict[str, list[dict]]:
    return {name: [_valkey_arg(a) for a in spec.get("arguments", [])] for name, spec in _valkey_table().items()}


def test_matches_valkey_8_table(ours):
    """Every command Valkey 8.0 has: the same arguments, field for field, display_text included
    (so every command with arguments in Valkey has them here)."""
    if not os.path.isdir(VALKEY_JSON):
        pytest.skip("no Valkey source checkout")
    valkey = _valkey_args()
    wrong = [name for name in sorted(set(ours) & set(valkey))
             if name not in NEWER_THAN_8_0 and ours[name] != valkey[name]]
    assert not wrong, wrong
    for name in NEWER_THAN_8_0:
        assert ours[name] != valkey[name]
    newer = set(ours) - set(valkey)
    assert newer == NOT_IN_8_0, f"commands newer than Valkey 8.0.1: list them in NOT_IN_8_0 ({newer})"
    assert all(ours[name] for name in NOT_IN_8_0)
