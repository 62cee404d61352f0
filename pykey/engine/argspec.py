"""Command argument specs: one usage-like line per command, parsed once at import into the
argument tree that COMMAND DOCS replies with (Valkey's ``serverCommandArg``).

The syntax reads like a command's usage line::

    key:key value [condition: NX | XX]@2.6.12 [GET]@6.2.0
    [expiration: EX seconds:integer@2.6.12 | PX milliseconds:integer@2.6.12 | KEEPTTL@6.0.0]

- ``name`` or ``name:type`` is an argument; the type is one of ``key string integer double
  pattern unix-time`` and defaults to ``string``. Names are lower case (``a-z0-9-``).
- An upper-case word (or a quoted one: ``'~'``, ``'""'``) is a token. Followed by an argument
  or by a ``( )`` group it is that argument's token (``EX seconds:integer``); otherwise it is a
  ``pure-token`` argument named after it in lower case, or ``name=TOKEN`` (``change=CH``).
  Write ``(TOKEN)`` for a pure token that comes right before an argument.
- ``( )`` groups, ``[ ]`` optional groups. ``a | b`` inside makes a ``oneof``; several
  arguments make a ``block``. Such a group is named by a leading ``label:`` or, when a token
  introduces it, after the token (``[LIMIT (offset:integer count:integer)]``). A group of one
  argument is that argument (``[GET]`` is an optional pure token).
- Suffixes on an argument, token or group: ``...`` multiple (after a group that holds a token
  and its argument, the token repeats too: ``[GET pattern:pattern]...`` is ``multiple_token``);
  ``@7.0.0`` since; ``!2.8.12`` deprecated since; ``<ip:port>`` display text; ``{text}``
  summary; ``#2`` key_spec_index.
- Key arguments get the index of their key spec in order of appearance (0, 1, ...) unless
  ``#n`` says otherwise; ``#n`` may also tie another argument to a key spec (SORT's BY
  pattern names keys; Valkey 9 ties HGETEX's numfields to its key).
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from ..protocol.replies import SetReply, Simple

TYPES = ("key", "string", "integer", "double", "pattern", "unix-time", "pure-token", "oneof", "block")
VALUE_TYPES = frozenset(TYPES[:6])
FLAG_ORDER = ("optional", "multiple", "multiple_token")


class ArgSpecError(ValueError):
    """A malformed argument spec; raised at import, naming the command and the column."""


@dataclass(frozen=True)
class Arg:
    """One argument as COMMAND DOCS describes it (Valkey's serverCommandArg)."""
    name: str
    type: str
    token: str | None = None
    display_text: str | None = None
    key_spec_index: int = -1
    summary: str | None = None
    since: str | None = None
    deprecated_since: str | None = None
    flags: tuple[str, ...] = ()
    arguments: tuple[Arg, ...] = ()

    def reply(self) -> dict:
        """Valkey's addReplyCommandArgList entry: its fields, in its order."""
        out: dict = {b"name": self.name.encode(), b"type": self.type.encode()}
        if self.type not in ("oneof", "block"):
            out[b"display_text"] = (self.display_text or self.name).encode()
        if self.key_spec_index != -1:
            out[b"key_spec_index"] = self.key_spec_index
        for name in ("token", "summary", "since", "deprecated_since"):
            value = getattr(self, name)
            if value is not None:
                out[name.encode()] = value.encode()
        if self.flags:
            out[b"flags"] = SetReply([Simple(f) for f in self.flags])
        if self.type in ("oneof", "block"):
            out[b"arguments"] = [a.reply() for a in self.arguments]
        return out


def reply(args: tuple[Arg, ...]) -> list[dict]:
    """The ``arguments`` list of a COMMAND DOCS entry."""
    return [a.reply() for a in args]


# --- lexer -----------------------------------------------------------------------------------

_NAME = r"[a-z0-9][a-z0-9-]*"
_TOKEN = r"[A-Z][A-Z0-9_-]*"
_LEXEME = re.compile(r"""
    (?P<space>\s+)
  | (?P<open>[(\[])
  | (?P<close>[)\]])
  | (?P<bar>\|)
  | (?P<label>(?P<lname>""" + _NAME + r"""):)(?=\s)
  | (?:(?P<tname>""" + _NAME + r""")=)?(?P<token>""" + _TOKEN + r"""|'[^']*')
  | (?P<value>(?P<vname>""" + _NAME + r""")(?::(?P<vtype>[a-z-]+))?)
  | (?P<multiple>\.\.\.)
  | @(?P<since>\d+(?:\.\d+)*|[^\s()\[\]|]*)
  | !(?P<deprecated>\d+(?:\.\d+)*|[^\s()\[\]|]*)
  | \#(?P<index>\d+|[^\s()\[\]|]*)
  | <(?P<display>[^>]*)>
  | \{(?P<summary>[^}]*)\}
""", re.VERBOSE)
_VERSION = re.compile(r"\d+\.\d+\.\d+")
_SUFFIXES = ("multiple", "index", "display", "since", "deprecated", "summary")


@dataclass
class _Lexeme:
    kind: str
    text: str
    col: int
    match: re.Match


def _lex(spec: str) -> list[_Lexeme]:
    out = []
    pos = 0
    while pos < len(spec):
        m = _LEXEME.match(spec, pos)
        if m is None:
            raise _error(spec, pos, f"unexpected {spec[pos]!r}")
        if m.lastgroup != "space":           # the outer group closes last: lastgroup names it
            out.append(_Lexeme(m.lastgroup or "", m.group(0), pos, m))
        pos = m.end()
    return out


def _error(spec: str, col: int, message: str) -> ArgSpecError:
    return ArgSpecError(f"{message} at column {col + 1}: {spec[:col]}\u2038{spec[col:]}")


# --- parser ----------------------------------------------------------------------------------

@dataclass
class _Node:
    """An argument being built: its Arg, where it was written, and its members if a group."""
    arg: Arg
    col: int
    members: list[_Node] = field(default_factory=list)
    explicit_index: bool = False
    bound: bool = False          # a token written before it is its token


class _Parser:
    def __init__(self, spec: str) -> None:
        self.spec = spec
        self.lex = _lex(spec)
        self.i = 0

    def peek(self) -> _Lexeme | None:
        return self.lex[self.i] if self.i < len(self.lex) else None

    def error(self, message: str, col: int | None = None) -> ArgSpecError:
        return _error(self.spec, len(self.spec) if col is None else col, message)

    def parse(self) -> list[_Node]:
        items = self.sequence()
        extra = self.peek()
        if extra is not None:
            raise self.error(f"unexpected {extra.text!r}", extra.col)
        return items

    def sequence(self) -> list[_Node]:
        items = []
        while (lx := self.peek()) is not None and lx.kind not in ("close", "bar"):
            items.append(self.item())
        return items

    def item(self) -> _Node:
        lx = self.peek()
        assert lx is not None
        if lx.kind != "token":
            return self.unit()
        self.i += 1
        token = lx.match.group("token")
        if token.startswith("'"):
            token = token[1:-1]
        name = lx.match.group("tname")
        nxt = self.peek()
        if name is None and nxt is not None and (nxt.kind == "value" or nxt.text == "("):
            node = self.unit()
            if node.arg.token is not None:
                raise self.error(f"the token {token!r} comes before an argument that has one", lx.col)
            node.arg = replace(node.arg, token=token.upper())
            node.bound = True
            return node
        if name is None:
            name = token.lower()
            if not re.fullmatch(_NAME, name):
                raise self.error(f"the token {token!r} needs a name: name={lx.text}", lx.col)
        node = _Node(Arg(name, "pure-token", token=token.upper()), lx.col)
        self.suffixes(node)
        return node

    def unit(self) -> _Node:
        lx = self.peek()
        assert lx is not None
        self.i += 1
        if lx.kind == "value":
            kind = lx.match.group("vtype") or "string"
            if kind not in VALUE_TYPES:
                raise self.error(f"unknown type {kind!r} (one of {', '.join(sorted(VALUE_TYPES))})", lx.col)
            node = _Node(Arg(lx.match.group("vname"), kind), lx.col)
            self.suffixes(node)
            return node
        if lx.kind != "open":
            raise self.error(f"expected an argument, found {lx.text!r}", lx.col)
        return self.group(lx)

    def group(self, opener: _Lexeme) -> _Node:
        label = None
        if (lx := self.peek()) is not None and lx.kind == "label":
            label = lx.match.group("lname")
            self.i += 1
        alternatives = [self.sequence()]
        while (lx := self.peek()) is not None and lx.kind == "bar":
            self.i += 1
            alternatives.append(self.sequence())
        closer = self.peek()
        want = ")" if opener.text == "(" else "]"
        if closer is None or closer.text != want:
            raise self.error(f"{opener.text!r} at column {opener.col + 1} is not closed by {want!r}",
                             closer.col if closer is not None else None)
        self.i += 1
        if not all(alternatives):
            raise self.error("an empty group or alternative", closer.col)
        if len(alternatives) > 1:
            for alt in alternatives:
                if len(alt) > 1:
                    raise self.error("an alternative of several arguments must be a named group: "
                                     "(name: ...)", alt[0].col)
            kind, members = "oneof", [alt[0] for alt in alternatives]
        elif len(alternatives[0]) > 1:
            kind, members = "block", alternatives[0]
        else:                                # a group of one argument is that argument
            if label is not None:
                raise self.error(f"the label {label!r} names a single argument; name the argument instead",
                                 opener.col)
            node = alternatives[0][0]
            if opener.text == "[":
                self.set_flag(node, "optional", opener.col)
            self.suffixes(node, repeats_token=node.bound)
            return node
        node = _Node(Arg(label or "", kind), opener.col, members=members)
        if opener.text == "[":
            self.set_flag(node, "optional", opener.col)
        self.suffixes(node)
        return node

    def set_flag(self, node: _Node, flag: str, col: int) -> None:
        if flag in node.arg.flags:
            raise self.error(f"{node.arg.name or 'the group'} is made {flag} twice", col)
        node.arg = replace(node.arg, flags=tuple(f for f in FLAG_ORDER if f in node.arg.flags or f == flag))

    def suffixes(self, node: _Node, repeats_token: bool = False) -> None:
        while (lx := self.peek()) is not None and lx.kind in _SUFFIXES:
            self.i += 1
            a = node.arg
            if lx.kind == "multiple":
                self.set_flag(node, "multiple", lx.col)
                if repeats_token:
                    self.set_flag(node, "multiple_token", lx.col)
                continue
            value = lx.match.group(lx.kind)
            if lx.kind in ("since", "deprecated"):
                if not _VERSION.fullmatch(value):
                    raise self.error(f"bad version {value!r} (write it like 7.0.0)", lx.col)
                field_name = "since" if lx.kind == "since" else "deprecated_since"
                if getattr(a, field_name) is not None:
                    raise self.error(f"a second {field_name} for {a.name or 'the group'}", lx.col)
                node.arg = replace(a, **{field_name: value})
            elif lx.kind == "index":
                if not value.isdigit():
                    raise self.error(f"bad key spec index {value!r}", lx.col)
                if a.type in ("oneof", "block") or node.explicit_index:
                    raise self.error(f"a key spec index on a {a.type} or a second one", lx.col)
                node.arg = replace(a, key_spec_index=int(value))
                node.explicit_index = True
            elif lx.kind == "display":
                if a.type in ("oneof", "block") or a.display_text is not None:
                    raise self.error("a display text on a group or a second one", lx.col)
                node.arg = replace(a, display_text=value)
            else:
                if a.summary is not None:
                    raise self.error("a second summary", lx.col)
                node.arg = replace(a, summary=value)


def _finish(parser: _Parser, nodes: list[_Node], counter: list[int]) -> tuple[Arg, ...]:
    """Name the groups a token introduces, number the keys, freeze the tree."""
    out = []
    for node in nodes:
        arg = node.arg
        if arg.type in ("oneof", "block"):
            if not arg.name:
                name = arg.token.lower() if arg.token is not None else ""
                if not re.fullmatch(_NAME, name):
                    raise parser.error(f"a {arg.type} needs a name: (name: ...)", node.col)
                arg = replace(arg, name=name)
            arg = replace(arg, arguments=_finish(parser, node.members, counter))
        elif arg.type == "key" and not node.explicit_index:
            arg = replace(arg, key_spec_index=counter[0])
            counter[0] += 1
        elif arg.type == "key":
            counter[0] = max(counter[0], arg.key_spec_index + 1)
        out.append(arg)
    seen: set[str] = set()
    for node, arg in zip(nodes, out, strict=True):
        if arg.name in seen:
            raise parser.error(f"two arguments named {arg.name!r} side by side", node.col)
        seen.add(arg.name)
    return tuple(out)


def parse(spec: str, key_specs: int | None = None) -> tuple[Arg, ...]:
    """The argument tree of ``spec``. With ``key_specs`` (how many key specs the command
    has), every key_spec_index must name one of them."""
    parser = _Parser(spec)
    args = _finish(parser, parser.parse(), [0])
    if key_specs is not None:
        for a in walk(args):
            if a.key_spec_index >= key_specs:
                raise ArgSpecError(f"argument {a.name!r} names key spec {a.key_spec_index}, "
                                   f"but the command has {key_specs}")
    return args


def walk(args: tuple[Arg, ...]) -> Iterator[Arg]:
    """Every argument of the tree, depth first."""
    for a in args:
        yield a
        yield from walk(a.arguments)


# --- the way back: a tree as a spec line -----------------------------------------------------

def usage(args: tuple[Arg, ...]) -> str:
    """The spec line that parses back to ``args``: for round-trip tests and readable dumps."""
    return _sequence(args, [0])


def _sequence(args: tuple[Arg, ...], counter: list[int]) -> str:
    parts = [_render(a, counter) for a in args]
    for i, part in enumerate(parts[:-1]):    # a bare token before an argument would be its token
        first = _lex(parts[i + 1])[0]
        if _lex(part)[0].kind == "token" and len(_lex(part)) == 1 and (first.kind == "value" or first.text == "("):
            parts[i] = f"({part})"
    return " ".join(parts)


def _token(token: str) -> str:
    return token if re.fullmatch(_TOKEN, token) else f"'{token}'"


def _render(a: Arg, counter: list[int]) -> str:
    optional, multiple, repeat_token = (f in a.flags for f in FLAG_ORDER)
    if a.type == "pure-token":
        assert a.token is not None
        tok = _token(a.token)
        text = tok if a.name == a.token.lower() else f"{a.name}={tok}"
        if multiple:
            text += "..."
        text = f"[{text}]" if optional else text
    else:
        if a.type in ("oneof", "block"):
            label = "" if a.token is not None and a.name == a.token.lower() else f"{a.name}: "
            sep = " | " if a.type == "oneof" else " "
            body = (sep.join(_render(m, counter) for m in a.arguments) if a.type == "oneof"
                    else _sequence(a.arguments, counter))
            bracketed = optional and a.token is None and not repeat_token
            text = f"[{label}{body}]" if bracketed else f"({label}{body})"
        else:
            text = a.name if a.type == "string" else f"{a.name}:{a.type}"
            if a.type == "key" and a.key_spec_index == counter[0]:
                counter[0] += 1
            elif a.key_spec_index != -1:
                text += f"#{a.key_spec_index}"
                if a.type == "key":
                    counter[0] = max(counter[0], a.key_spec_index + 1)
            if a.display_text is not None:
                text += f"<{a.display_text}>"
        if multiple and not repeat_token:
            text += "..."
        if a.token is not None:
            text = f"{_token(a.token)} {text}"
            if repeat_token:
                text = f"[{text}]..." if optional else f"({text})..."
            elif optional:
                text = f"[{text}]"
        elif repeat_token:
            raise ValueError(f"{a.name}: multiple_token without a token")
        elif optional and a.type not in ("oneof", "block"):
            text = f"[{text}]"
    if a.since is not None:
        text += f"@{a.since}"
    if a.deprecated_since is not None:
        text += f"!{a.deprecated_since}"
    if a.summary is not None:
        text += "{" + a.summary + "}"
    return text
