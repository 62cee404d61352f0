"""The argument spec grammar of pykey.engine.argspec: what each construct parses to, the
COMMAND DOCS entries it yields, the errors a bad spec raises at import, and the round trip
spec -> tree -> spec."""
from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pykey.engine import argspec, registry
from pykey.engine.argspec import Arg, ArgSpecError, parse, usage
from pykey.protocol.replies import SetReply

SET_SPEC = ("key:key value [condition: NX | XX]@2.6.12 [GET]@6.2.0 [expiration: EX seconds:integer@2.6.12 | "
            "PX milliseconds:integer@2.6.12 | EXAT unix-time-seconds:unix-time@6.2.0 | "
            "PXAT unix-time-milliseconds:unix-time@6.2.0 | KEEPTTL@6.0.0]")


def test_set_spec_is_valkeys_tree():
    assert parse(SET_SPEC) == (
        Arg("key", "key", key_spec_index=0),
        Arg("value", "string"),
        Arg("condition", "oneof", since="2.6.12", flags=("optional",), arguments=(
            Arg("nx", "pure-token", token="NX"), Arg("xx", "pure-token", token="XX"))),
        Arg("get", "pure-token", token="GET", since="6.2.0", flags=("optional",)),
        Arg("expiration", "oneof", flags=("optional",), arguments=(
            Arg("seconds", "integer", token="EX", since="2.6.12"),
            Arg("milliseconds", "integer", token="PX", since="2.6.12"),
            Arg("unix-time-seconds", "unix-time", token="EXAT", since="6.2.0"),
            Arg("unix-time-milliseconds", "unix-time", token="PXAT", since="6.2.0"),
            Arg("keepttl", "pure-token", token="KEEPTTL", since="6.0.0"))),
    )


def test_empty_spec_has_no_arguments():
    assert parse("") == ()


@pytest.mark.parametrize("spec, expected", [
    # types; string is the default
    ("a b:integer c:double d:pattern e:unix-time", (
        Arg("a", "string"), Arg("b", "integer"), Arg("c", "double"), Arg("d", "pattern"),
        Arg("e", "unix-time"))),
    # a token before an argument is its token; alone it is a pure token named after it
    ("COUNT count:integer WITHSCORES", (
        Arg("count", "integer", token="COUNT"), Arg("withscores", "pure-token", token="WITHSCORES"))),
    # a pure token right before an argument is written in parentheses
    ("(FULL) count", (Arg("full", "pure-token", token="FULL"), Arg("count", "string"))),
    # named and quoted tokens
    ("change=CH [operator: equal='=' | approximately='~'] empty='\"\"'", (
        Arg("change", "pure-token", token="CH"),
        Arg("operator", "oneof", flags=("optional",), arguments=(
            Arg("equal", "pure-token", token="="), Arg("approximately", "pure-token", token="~"))),
        Arg("empty", "pure-token", token='""'))),
    # tokens are upper case in the reply, as Valkey's generator forces them
    ("[TYPE (client-type: NORMAL | PUBSUB)]", (
        Arg("client-type", "oneof", token="TYPE", flags=("optional",), arguments=(
            Arg("normal", "pure-token", token="NORMAL"), Arg("pubsub", "pure-token", token="PUBSUB"))),)),
    # a token before a group: a block named after the token unless labelled
    ("[LIMIT (offset:integer count:integer)] STREAMS (key:key... id...)", (
        Arg("limit", "block", token="LIMIT", flags=("optional",), arguments=(
            Arg("offset", "integer"), Arg("count", "integer"))),
        Arg("streams", "block", token="STREAMS", arguments=(
            Arg("key", "key", key_spec_index=0, flags=("multiple",)), Arg("id", "string", flags=("multiple",)))))),
    # multiple: after the value the token comes once; after a group holding the token, it repeats
    ("[WEIGHTS weight:integer...] [GET pattern:pattern]... (GET x)...", (
        Arg("weight", "integer", token="WEIGHTS", flags=("optional", "multiple")),
        Arg("pattern", "pattern", token="GET", flags=("optional", "multiple", "multiple_token")),
        Arg("x", "string", token="GET", flags=("multiple", "multiple_token")))),
    ("[GET (get-block: encoding offset:integer)]...", (
        Arg("get-block", "block", token="GET", flags=("optional", "multiple", "multiple_token"), arguments=(
            Arg("encoding", "string"), Arg("offset", "integer"))),)),
    ("(data: key:key value)... [more: a | b]...", (
        Arg("data", "block", flags=("multiple",), arguments=(Arg("key", "key", key_spec_index=0), Arg("value", "string"))),
        Arg("more", "oneof", flags=("optional", "multiple"), arguments=(Arg("a", "string"), Arg("b", "string"))))),
    # nested groups: an alternative of several arguments is a labelled group
    ("(by: (circle: BYRADIUS radius:double (unit: M | KM)) | BYBOX width:double)", (
        Arg("by", "oneof", arguments=(
            Arg("circle", "block", arguments=(
                Arg("radius", "double", token="BYRADIUS"),
                Arg("unit", "oneof", arguments=(Arg("m", "pure-token", token="M"), Arg("km", "pure-token", token="KM"))))),
            Arg("width", "double", token="BYBOX"))),)),
    # suffixes: display text, summary, deprecated since, since, in any order
    ("old<ip:port>!2.8.12 x{Some text.}@7.0.0", (
        Arg("old", "string", display_text="ip:port", deprecated_since="2.8.12"),
        Arg("x", "string", summary="Some text.", since="7.0.0"))),
    # keys count their key specs in order; #n says otherwise (LCS, SORT), also on other types
    ("key1:key key2:key#0", (Arg("key1", "key", key_spec_index=0), Arg("key2", "key", key_spec_index=0))),
    ("key:key [BY p:pattern#1] [STORE d:key#2] n:integer#0 other:key", (
        Arg("key", "key", key_spec_index=0), Arg("p", "pattern", token="BY", key_spec_index=1, flags=("optional",)),
        Arg("d", "key", token="STORE", key_spec_index=2, flags=("optional",)),
        Arg("n", "integer", key_spec_index=0), Arg("other", "key", key_spec_index=3))),
])
def test_constructs(spec, expected):
    assert parse(spec) == expected


def test_reply_fields_in_valkeys_order():
    (cond, key) = parse("[c: NX | old<ip:port>!2.8.12] [STORE k:key#0{Where.}...]@6.2.0")
    assert list(cond.reply()) == [b"name", b"type", b"flags", b"arguments"]   # no display_text for groups
    assert cond.reply()[b"arguments"][1] == {
        b"name": b"old", b"type": b"string", b"display_text": b"ip:port", b"deprecated_since": b"2.8.12"}
    assert cond.reply()[b"arguments"][0][b"display_text"] == b"nx"   # defaults to the name
    r = key.reply()
    assert list(r) == [b"name", b"type", b"display_text", b"key_spec_index", b"token", b"summary", b"since", b"flags"]
    assert r[b"key_spec_index"] == 0 and r[b"token"] == b"STORE" and r[b"since"] == b"6.2.0"
    assert isinstance(r[b"flags"], SetReply) and r[b"flags"] == ["optional", "multiple"]
    assert argspec.reply(parse("a b")) == [
        {b"name": b"a", b"type": b"string", b"display_text": b"a"},
        {b"name": b"b", b"type": b"string", b"display_text": b"b"}]


@pytest.mark.parametrize("spec, message", [
    ("key:key [NX", "'[' at column 9 is not closed by ']' at column 12"),
    ("(a b]", "'(' at column 1 is not closed by ')' at column 5"),
    ("a:int", "unknown type 'int'"),
    ("(a b)", "a block needs a name: (name: ...) at column 1"),
    ("[a | b]", "a oneof needs a name"),
    ("(x: a b | c)", "an alternative of several arguments must be a named group"),
    ("a a", "two arguments named 'a' side by side at column 3"),
    ("(x: NX | nx=XX)", "two arguments named 'nx'"),
    ("a@7.0", "bad version '7.0' (write it like 7.0.0)"),
    ("a@7.0.0@7.0.0", "a second since"),
    ("[[a]]", "a is made optional twice"),
    ("[x: a]", "the label 'x' names a single argument"),
    ("a;b", "unexpected ';' at column 2"),
    ("'='", "the token '=' needs a name: name='='"),
    ("(x: a b)#1", "a key spec index on a block"),
    ("()", "an empty group or alternative"),
    ("a )", "unexpected ')' at column 3"),
    ("EX (COUNT n)", "the token 'EX' comes before an argument that has one"),
    ("(x: a b)<d>", "a display text on a group or a second one"),
])
def test_errors_name_the_problem_and_the_column(spec, message):
    with pytest.raises(ArgSpecError) as e:
        parse(spec)
    assert message in str(e.value)
    assert "\u2038" in str(e.value)   # the spec is quoted with a caret where it went wrong


def test_key_spec_index_must_name_a_key_spec():
    parse("a:key b:key", key_specs=2)
    with pytest.raises(ArgSpecError, match="argument 'b' names key spec 1, but the command has 1"):
        parse("a:key b:key", key_specs=1)


def test_a_bad_declaration_fails_at_import_naming_the_command():
    before = set(registry.COMMANDS)
    with pytest.raises(ArgSpecError, match=r"^nosuchcmd: unknown type 'int'"):
        registry.command("nosuchcmd", arity=2, keys=1, args="key:key n:int")(lambda c, k, n: None)
    with pytest.raises(ArgSpecError, match="names key spec 0, but the command has 0"):
        registry.command("nosuchcmd", arity=2, args="key:key")(lambda c, k: None)
    assert set(registry.COMMANDS) == before


def test_usage_of_set_is_the_spec():
    assert usage(parse(SET_SPEC)) == SET_SPEC


# --- round trip: any tree Valkey could declare prints to a spec that parses back to it -------

_names = st.sampled_from(["a", "key", "b2", "x-y", "count", "nx", "get", "limit"])
_tokens = st.sampled_from(["NX", "GET", "LIMIT", "A_B", "COUNT", "=", "~", "*", "$", '""'])
_versions = st.none() | st.sampled_from(["2.6.12", "7.0.0", "10.1.20"])
_texts = st.none() | st.sampled_from(["ip:port", "Some text.", "x"])


@st.composite
def _arg(draw, depth: int) -> Arg:
    kind = draw(st.sampled_from(["value", "token"] + (["group"] if depth < 2 else [])))
    optional, multiple = draw(st.booleans()), draw(st.booleans())
    common = dict(since=draw(_versions), deprecated_since=draw(st.none() | _versions), summary=draw(_texts))
    if kind == "token":
        token = draw(_tokens)
        name = token.lower() if draw(st.booleans()) and re.fullmatch(r"[a-z0-9-]+", token.lower()) else draw(_names)
        flags = tuple(f for f, on in (("optional", optional), ("multiple", multiple)) if on)
        return Arg(name, "pure-token", token=token, flags=flags, **common)
    token = draw(st.none() | st.sampled_from(["NX", "GET", "LIMIT", "COUNT"]))
    repeat = multiple and token is not None and draw(st.booleans())
    flags = tuple(f for f, on in (("optional", optional), ("multiple", multiple), ("multiple_token", repeat)) if on)
    if kind == "value":
        typ = draw(st.sampled_from(sorted(argspec.VALUE_TYPES)))
        index = draw(st.integers(0, 3)) if typ == "key" or draw(st.booleans()) else -1
        return Arg(draw(_names), typ, token=token, display_text=draw(_texts), key_spec_index=index,
                   flags=flags, **common)
    members = draw(st.lists(_arg(depth + 1), min_size=2, max_size=3, unique_by=lambda a: a.name))
    name = token.lower() if token is not None and draw(st.booleans()) else draw(_names)
    return Arg(name, draw(st.sampled_from(["oneof", "block"])), token=token, flags=flags,
               arguments=tuple(members), **common)


@settings(max_examples=200, deadline=None)
@given(st.lists(_arg(0), max_size=5, unique_by=lambda a: a.name))
def test_round_trip(args):
    args = tuple(args)
    spec = usage(args)
    assert parse(spec) == args, spec
