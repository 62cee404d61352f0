"""Command declarations: one ``@command`` per command, beside its implementation.

Everything else about a command (the dispatch table, arity errors, COMMAND INFO/DOCS/LIST,
ACL categories, key extraction for COMMAND GETKEYS and cluster slots) is derived from the
:class:`Command` built here, as Valkey derives them from its ``src/commands/*.json``.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import argspec

# Valkey's order for COMMAND INFO flags and ACL categories (both replies list them this way).
FLAG_ORDER = ("write", "readonly", "denyoom", "module", "admin", "pubsub", "noscript",
              "blocking", "loading", "stale", "skip_monitor", "skip_slowlog", "asking",
              "fast", "no_auth", "no_mandatory_keys", "no_async_loading", "no_multi",
              "movablekeys", "allow_busy")
HIDDEN_FLAGS = {"may_replicate", "protected", "sentinel", "only_sentinel", "touches_arbitrary_keys"}
ACL_ORDER = ("keyspace", "read", "write", "set", "sortedset", "list", "hash", "string",
             "bitmap", "hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow",
             "blocking", "dangerous", "connection", "transaction", "scripting")
GROUP_CATEGORY = {"string": "string", "generic": "keyspace", "hash": "hash", "list": "list",
                  "set": "set", "sorted_set": "sortedset", "bitmap": "bitmap",
                  "hyperloglog": "hyperloglog", "geo": "geo", "stream": "stream",
                  "connection": "connection", "transactions": "transaction",
                  "scripting": "scripting"}
KEY_FLAG_ORDER = ("RO", "RW", "OW", "RM", "access", "update", "insert", "delete", "not_key",
                  "incomplete", "variable_flags")


@dataclass(eq=False)
class KeySpec:
    """One key specification as COMMAND INFO reports it."""
    flags: tuple[str, ...]
    begin: tuple                 # ("index", pos) | ("keyword", keyword, startfrom) | ("unknown",)
    find: tuple                  # ("range", lastkey, step, limit) | ("keynum", idx, first, step) | ("unknown",)
    notes: str | None = None


@dataclass(eq=False, slots=True)
class Command:
    name: str                          # full name, lower case: "get", "client|list"
    func: Callable | None
    arity: int
    flags: frozenset[str]
    first_key: int = 0
    last_key: int = 0
    step: int = 0
    group: str = "generic"
    since: str = "1.0.0"
    summary: str = ""
    complexity: str = ""
    acl: tuple[str, ...] = ()
    tips: tuple[str, ...] = ()
    key_specs: tuple[KeySpec, ...] = ()
    doc_flags: tuple[str, ...] = ()
    deprecated_since: str | None = None
    replaced_by: str | None = None
    history: tuple[tuple[str, str], ...] = ()
    arguments: tuple[argspec.Arg, ...] = ()    # COMMAND DOCS arguments, parsed from ``args``
    getkeys: Callable[[list[bytes]], list[int]] | None = None
    # Valkey's getkeys procs that report flags: (position, key-spec flags) for each key of an
    # argv, for commands whose key specs cannot say it (variable_flags: SET with or without
    # GET; incomplete: SORT ... STORE)
    key_flags_fn: Callable[[list[bytes]], list[tuple[int, tuple[str, ...]]]] | None = None
    gated: bool = False                # execute() must run its full checks for it
    # func called with argv's arguments (the subcommand's, past the name): made once, see
    # make_invoker; the engine's call() uses it instead of func(c, *argv[1:])
    invoke: Callable[[Any, list[bytes]], Any] | None = None
    read_mode: int = 0                 # keyspace.reads: are its key lookups reads (hits/misses)
    subcommands: dict[bytes, Command] = field(default_factory=dict)
    parent: Command | None = None
    # statistics (INFO commandstats)
    calls: int = 0
    usec: int = 0
    rejected_calls: int = 0
    failed_calls: int = 0
    # latency histogram (engine/latency.py): calls by µs below EXACT_USEC, () until the
    # first call; longer ones by hdr counter index
    latency_usec: list[int] | tuple = ()
    latency_slow: dict[int, int] | None = None

    @property
    def movablekeys(self) -> bool:
        return self.getkeys is not None

    def acl_categories(self) -> list[str]:
        cats = set(self.acl)
        if not self.acl or "!group" not in self.acl:
            cat = GROUP_CATEGORY.get(self.group)
            if cat:
                cats.add(cat)
        cats.discard("!group")
        f = self.flags
        if "write" in f:
            cats.add("write")
        if "readonly" in f and "scripting" not in cats:
            cats.add("read")
        if "admin" in f:
            cats.update(("admin", "dangerous"))
        if "pubsub" in f:
            cats.add("pubsub")
        if "fast" in f:
            cats.add("fast")
        if "blocking" in f:
            cats.add("blocking")
        if "fast" not in cats:
            cats.add("slow")
        return [c for c in ACL_ORDER if c in cats]

    def info_flags(self) -> list[str]:
        f = set(self.flags)
        if self.movablekeys:
            f.add("movablekeys")
        return [x for x in FLAG_ORDER if x in f]

    def key_positions(self, argv: list[bytes]) -> list[int]:
        """Indexes of the keys in ``argv`` (the getkeys of Valkey)."""
        if self.getkeys is not None:
            return self.getkeys(argv)
        if self.first_key <= 0:
            return []
        last = self.last_key if self.last_key >= 0 else len(argv) + self.last_key
        return list(range(self.first_key, min(last, len(argv) - 1) + 1, self.step or 1))

    def keys_and_flags(self, argv: list[bytes]) -> list[tuple[int, tuple[str, ...]]] | None:
        """Valkey's getKeysFromCommandWithSpecs: (position, flags) of every key in ``argv``, from
        the key specs when they are complete, else from the command's own procedure; None when
        the arguments do not hold the keys the specs promise."""
        specs = self.key_specs
        if specs and not any("variable_flags" in ks.flags for ks in specs):
            found = _keys_from_specs(specs, argv, self.arity)
            if found is not None:
                return found
        if self.key_flags_fn is not None:
            return self.key_flags_fn(argv)
        if self.getkeys is None and not specs:
            return []
        flags = specs[0].flags if specs else ()
        try:
            return [(i, flags) for i in self.key_positions(argv)]
        except (IndexError, ValueError):
            return None

    def keys(self, argv: list[bytes]) -> list[bytes]:
        return [argv[i] for i in self.key_positions(argv)]


def _keys_from_specs(specs: tuple[KeySpec, ...], argv: list[bytes],
                     arity: int) -> list[tuple[int, tuple[str, ...]]] | None:
    """Valkey's getKeysUsingKeySpecs: None for an unknown or incomplete spec, or for
    arguments that do not hold the promised keys."""
    argc = len(argv)
    out: list[tuple[int, tuple[str, ...]]] = []
    for spec in specs:
        if "not_key" in spec.flags:
            continue
        begin, find = spec.begin, spec.find
        if begin[0] == "index":
            first = begin[1]
        elif begin[0] == "keyword":
            keyword, startfrom = begin[1].encode().lower(), begin[2]
            start = startfrom if startfrom > 0 else argc + startfrom
            end = argc - 1 if startfrom > 0 else 1
            first = 0
            i = start
            while i != end:
                if i >= argc or i < 1:
                    break
                if argv[i].lower() == keyword:
                    first = i + 1
                    break
                i = i + 1 if start <= end else i - 1
            if not first:
                continue
        else:
            return None
        if find[0] == "range":
            _, lastkey, step, limit = find
            if lastkey >= 0:
                last = first + lastkey
            elif not limit:
                last = argc + lastkey
            else:
                last = first + ((argc - first) // limit + lastkey)
        elif find[0] == "keynum":
            _, keynumidx, firstkey, step = find
            if keynumidx >= argc or first + keynumidx >= argc:
                return None
            raw = argv[first + keynumidx]
            try:
                numkeys = int(raw)
            except ValueError:
                return None
            if numkeys < 0 or not raw.lstrip(b"-").isdigit():
                return None
            first += firstkey
            last = first + numkeys - 1
        else:
            return None
        if last >= argc or last < first or first >= argc:
            return None
        out.extend((i, spec.flags) for i in range(first, last + 1, step or 1))
        if "incomplete" in spec.flags:
            return None
    return out


def make_invoker(func: Callable, skip: int, arity: int) -> Callable[[Any, list[bytes]], Any]:
    """``func(c, *argv[skip:])`` without building a slice and a tuple for every call: for
    the fixed arities most commands have, a closure indexes argv directly (measured with
    callgrind: ~850 instructions less per GET, about 4% of its request path)."""
    n = arity - skip if arity > 0 else -1
    if n == 0:
        return lambda c, argv: func(c)
    if n == 1:
        return lambda c, argv: func(c, argv[skip])
    if n == 2:
        return lambda c, argv: func(c, argv[skip], argv[skip + 1])
    if n == 3:
        return lambda c, argv: func(c, argv[skip], argv[skip + 1], argv[skip + 2])
    return lambda c, argv: func(c, *argv[skip:])


COMMANDS: dict[bytes, Command] = {}   # top-level commands by lower-case name
# commands whose flags depend on their arguments (a script declares its flags): name ->
# fn(client, argv, static flags) -> flags; every Server starts with these (Server.command_flags)
FLAG_RESOLVERS: dict[str, Callable] = {}


def _parse_keys(keys) -> tuple[int, int, int]:
    if keys is None or keys == 0:
        return 0, 0, 0
    if isinstance(keys, int):
        return keys, keys, 1
    return tuple(keys)  # type: ignore[return-value]


def _default_specs(first: int, last: int, step: int, key_flags: str | None) -> tuple[KeySpec, ...]:
    if not first:
        return ()
    flags = tuple(key_flags.split()) if key_flags else ("RO", "access")
    lastkey = last - first if last >= 0 else last
    return (KeySpec(flags, ("index", first), ("range", lastkey, step, 0)),)


def command(name: str, *, arity: int, flags: str = "", keys=None, group: str = "generic",
            since: str = "1.0.0", summary: str = "", complexity: str = "", acl: str = "",
            tips: str = "", key_flags: str | None = None, key_specs: tuple[KeySpec, ...] | None = None,
            getkeys: Callable | None = None, key_flags_fn: Callable | None = None,
            parent: str | None = None, doc_flags: str = "",
            deprecated_since: str | None = None, replaced_by: str | None = None,
            history: tuple = (), args: str = "") -> Callable:
    """Declare a command (or, with ``parent``, a subcommand) and register its implementation.

    ``keys`` is an int (one key at that index) or ``(first, last, step)``; ``key_flags`` are the
    key-spec flags of that range; ``getkeys`` replaces both for movable keys. ``args`` is the
    usage-like argument spec of :mod:`pykey.engine.argspec` (what COMMAND DOCS describes).
    """
    first, last, step = _parse_keys(keys)

    def register(func: Callable | None) -> Callable | None:
        full = f"{parent}|{name}" if parent else name
        specs = key_specs if key_specs is not None else _default_specs(first, last, step, key_flags)
        try:
            arguments = argspec.parse(args, len(specs))
        except argspec.ArgSpecError as e:
            raise argspec.ArgSpecError(f"{full}: {e}") from None
        cmd = Command(
            name=full, func=func, arity=arity, flags=frozenset(flags.split()),
            first_key=first, last_key=last, step=step, group=group, since=since,
            summary=summary, complexity=complexity, acl=tuple(acl.split()),
            tips=tuple(tips.split()), doc_flags=tuple(doc_flags.split()),
            key_specs=specs,
            getkeys=getkeys, key_flags_fn=key_flags_fn, deprecated_since=deprecated_since, replaced_by=replaced_by,
            history=history, arguments=arguments)
        if func is not None:
            cmd.invoke = make_invoker(func, 2 if parent else 1, arity)
        if parent:
            owner = COMMANDS[parent.encode()]
            cmd.parent = owner
            owner.subcommands[name.encode()] = cmd
        else:
            COMMANDS[name.encode()] = cmd
        if func is not None:
            func.command = cmd  # type: ignore[attr-defined]
        return func

    return register


def container(name: str, *, group: str, since: str, summary: str, complexity: str = "",
              acl: str = "", arity: int = -2) -> None:
    """Declare a command that only has subcommands (CLIENT, CONFIG, OBJECT...)."""
    # a container has no categories of its own beyond @slow: "!group" drops the group's one
    command(name, arity=arity, group=group, since=since, summary=summary,
            complexity=complexity, acl=acl or "!group")(None)


def lookup(argv: list[bytes]) -> Command | None:
    """The command ``argv`` names, subcommand included; None if unknown."""
    name = argv[0]
    cmd = COMMANDS.get(name)
    if cmd is None:
        cmd = COMMANDS.get(name.lower())
        if cmd is None:
            return None
    if cmd.subcommands and len(argv) > 1:
        sub = cmd.subcommands.get(argv[1].lower())
        return sub
    return cmd


def all_commands() -> list[Command]:
    out = []
    for cmd in COMMANDS.values():
        out.append(cmd)
        out.extend(cmd.subcommands.values())
    return out
