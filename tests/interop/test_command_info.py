"""COMMAND INFO facts (arity, flags, first/last/step keys, ACL categories) of every command
and subcommand pykey implements, against redis-server 7.0.

pykey follows Valkey 8.0, which changed a few facts since Redis 7.0; those are listed in
KNOWN_DIFFERENCES with the Valkey value, and a separate test checks each listed Valkey value
against Valkey's own command table (src/commands/*.json) when a checkout is at hand.
"""
from __future__ import annotations

import glob
import json
import os

import hiredis
import pytest

FIELDS = ("arity", "flags", "first", "last", "step", "acl")

# (command, field) -> (Redis 7.0 value, Valkey 8.0 value). Keep short, say why.
KNOWN_DIFFERENCES: dict[tuple[str, str], tuple[object, object]] = {
    # Valkey allows COMMAND GETKEYS with only a command name (GETKEYS PING -> no keys error).
    ("command|getkeys", "arity"): (-4, -3),
    ("command|getkeysandflags", "arity"): (-4, -3),
    # Valkey 8 lets scripts call the blocking list commands (they act as non-blocking there).
    ("blpop", "flags"): (["blocking", "noscript", "write"], ["blocking", "write"]),
    ("brpop", "flags"): (["blocking", "noscript", "write"], ["blocking", "write"]),
    ("blmove", "flags"): (["blocking", "denyoom", "noscript", "write"], ["blocking", "denyoom", "write"]),
    ("brpoplpush", "flags"): (["blocking", "denyoom", "noscript", "write"], ["blocking", "denyoom", "write"]),
    ("bzpopmin", "flags"): (["blocking", "fast", "noscript", "write"], ["blocking", "fast", "write"]),
    ("bzpopmax", "flags"): (["blocking", "fast", "noscript", "write"], ["blocking", "fast", "write"]),
    # ZRANK/ZREVRANK gained WITHSCORE in 7.2.
    ("zrank", "arity"): (3, -3),
    ("zrevrank", "arity"): (3, -3),
    # Valkey 8 lets scripts call WAIT (it answers at once there): blocking instead of noscript.
    ("wait", "flags"): (["noscript"], ["blocking"]),
    ("wait", "acl"): (["@connection", "@slow"], ["@blocking", "@connection", "@slow"]),
    # Valkey 8 refuses MULTI and WATCH inside MULTI through the no_multi flag.
    ("multi", "flags"): (["allow_busy", "fast", "loading", "noscript", "stale"],
                         ["allow_busy", "fast", "loading", "no_multi", "noscript", "stale"]),
    ("watch", "flags"): (["allow_busy", "fast", "loading", "noscript", "stale"],
                         ["allow_busy", "fast", "loading", "no_multi", "noscript", "stale"]),
}

VALKEY_JSON = "/tmp/valkey/src/commands"


def _parse(raw: bytes):
    r = hiredis.Reader()
    r.feed(raw)
    return r.gets()


def _facts(entry) -> dict[str, object]:
    name, arity, flags, first, last, step, acl = entry[:7]
    return {
        "name": name.decode().lower(),
        "arity": arity,
        "flags": sorted(f.decode() for f in flags),
        "first": first, "last": last, "step": step,
        "acl": sorted(a.decode() for a in acl),
    }


def _all_facts(entries) -> dict[str, dict[str, object]]:
    out: dict[str, dict[str, object]] = {}
    for entry in entries:
        if entry is None:
            continue
        facts = _facts(entry)
        out[facts["name"]] = facts
        if len(entry) > 9:
            for sub in entry[9] or []:
                sf = _facts(sub)
                out[sf["name"]] = sf
    return out


@pytest.fixture(scope="module")
def both_tables(redis_port, pykey_server, raw_client):
    pk = raw_client(pykey_server.port)
    rd = raw_client(redis_port)
    try:
        ours = _all_facts(_parse(pk.call("COMMAND")))
        theirs = _all_facts(_parse(rd.call("COMMAND")))
    finally:
        pk.close()
        rd.close()
    return ours, theirs


def test_pykey_implements_commands(both_tables):
    ours, theirs = both_tables
    assert len(set(ours) & set(theirs)) > 50


def test_command_facts_match_redis_7(both_tables):
    ours, theirs = both_tables
    mismatches = []
    for name in sorted(set(ours) & set(theirs)):
        for field in FIELDS:
            mine, real = ours[name][field], theirs[name][field]
            if mine == real:
                continue
            known = KNOWN_DIFFERENCES.get((name, field))
            if known is not None and _norm(known[0]) == real and _norm(known[1]) == mine:
                continue
            mismatches.append(f"{name} {field}: pykey {mine!r} redis-7.0 {real!r}")
    assert not mismatches, "\n".join(mismatches)


def _norm(v: object) -> object:
    return sorted(v) if isinstance(v, (list, tuple, set)) else v


def _valkey_table() -> dict[str, dict]:
    table = {}
    for path in glob.glob(os.path.join(VALKEY_JSON, "*.json")):
        with open(path) as f:
            for name, spec in json.load(f).items():
                full = (spec["container"].lower() + "|" + name.lower()
                        if "container" in spec else name.lower())
                table[full] = spec
    return table


@pytest.mark.parametrize("key", sorted(KNOWN_DIFFERENCES), ids=lambda k: f"{k[0]}-{k[1]}")
def test_known_differences_are_valkey_facts(key):
    """Each allowlisted value must be what Valkey 8.0's command table says."""
    if not os.path.isdir(VALKEY_JSON):
        pytest.skip("no Valkey source checkout")
    name, field = key
    spec = _valkey_table()[name]
    valkey_value = KNOWN_DIFFERENCES[key][1]
    if field == "arity":
        assert spec["arity"] == valkey_value
    elif field == "flags":
        flags = {f.lower() for f in spec.get("command_flags", [])}
        assert flags <= set(valkey_value)  # COMMAND adds derived flags such as movablekeys
    elif field == "acl":
        cats = {c.lower() for c in spec.get("acl_categories", [])}
        assert cats <= {v.lstrip("@") for v in valkey_value}  # COMMAND adds categories implied by flags
    else:
        pytest.fail(f"no check for {field}")
