"""Every config parameter, in one table.

The config file, the command line, ``CONFIG GET/SET/RESETSTAT/REWRITE`` and the server
read this table and nothing else. A parameter has a type that parses and formats its value
(the formats and error texts are Valkey's), a default, and flags (immutable, protected,
multi-argument). ``on_change`` hooks let the server react to CONFIG SET.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .datatypes.glob import compile_glob
from .protocol.parser import split_args


class ConfigError(Exception):
    """A value a parameter refuses; the text is Valkey's."""


# ---------------------------------------------------------------- value types
def _parse_memory(text: str) -> int:
    s = text.strip().lower()
    units = {"b": 1, "k": 1000, "kb": 1024, "m": 1000**2, "mb": 1024**2, "g": 1000**3, "gb": 1024**3}
    num = s
    mul = 1
    for u in ("kb", "mb", "gb", "k", "m", "g", "b"):
        if s.endswith(u):
            num, mul = s[: -len(u)], units[u]
            break
    try:
        if not num or num.strip() != num or "+" in num:
            raise ValueError
        return int(num) * mul
    except ValueError:
        raise ConfigError("argument must be a memory value") from None


@dataclass
class Param:
    name: str
    kind: str                       # bool int memory octal enum string special
    default: Any
    immutable: bool = False
    protected: bool = False
    sensitive: bool = False
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] = ()
    multi: bool = False             # takes several words (bind, save)
    alias: str | None = None
    flags_enum: bool = False        # enum that accepts several words (e.g. none/all combos)
    hidden: bool = False            # CONFIG GET shows it only when asked by its exact name
    parse: Callable[[list[str]], Any] | None = None
    fmt: Callable[[Any], str] | None = None
    check: Callable[[Any], str | None] | None = None
    on_change: list[Callable[[Any, Any], None]] = field(default_factory=list)

    def from_words(self, words: list[str]) -> Any:
        if self.parse is not None:
            return self.parse(words)
        if len(words) != 1 and not self.multi:
            raise ConfigError("wrong number of arguments")
        text = words[0] if words else ""
        k = self.kind
        if k == "bool":
            low = text.lower()
            if low not in ("yes", "no"):
                raise ConfigError("argument must be 'yes' or 'no'")
            return low == "yes"
        if k in ("int", "memory", "octal"):
            if k == "memory":
                value = _parse_memory(text)
            else:
                try:
                    if text.strip() != text or text.startswith("+"):
                        raise ValueError
                    value = int(text, 8 if k == "octal" else 10)
                except ValueError:
                    raise ConfigError("argument couldn't be parsed as an octal number" if k == "octal"
                                      else "argument couldn't be parsed into an integer") from None
            if (self.minimum is not None and value < self.minimum) or (
                    self.maximum is not None and value > self.maximum):
                raise ConfigError(f"argument must be between {self.minimum} and {self.maximum} inclusive")
            return value
        if k == "enum":
            parts = text.lower().split() if self.flags_enum else [text.lower()]
            for p in parts:
                if p not in self.choices:
                    raise ConfigError("argument(s) must be one of the following: " + ", ".join(self.choices))
            return " ".join(parts) if self.flags_enum else parts[0]
        return " ".join(words) if self.multi else text

    def to_text(self, value: Any) -> str:
        if self.fmt is not None:
            return self.fmt(value)
        if self.kind == "bool":
            return "yes" if value else "no"
        if self.kind == "octal":
            return format(value, "o")
        if value is None:
            return ""
        return str(value)


def _save_parse(words: list[str]) -> list[tuple[int, int]]:
    text = " ".join(words).strip()
    if not text or text == '""':
        return []
    nums = text.split()
    if len(nums) % 2:
        raise ConfigError("Invalid save parameters")
    out = []
    for i in range(0, len(nums), 2):
        try:
            secs, changes = int(nums[i]), int(nums[i + 1])
        except ValueError:
            raise ConfigError("Invalid save parameters") from None
        if secs < 1 or changes < 0:
            raise ConfigError("Invalid save parameters")
        out.append((secs, changes))
    return out


def _dir_check(path: str) -> str | None:
    """CONFIG SET dir: Valkey chdir()s and reports strerror; we only check (the embedded
    server shares its process's working directory)."""
    if not os.path.exists(path):
        return "No such file or directory"
    if not os.path.isdir(path):
        return "Not a directory"
    return None


def _dbfilename_check(name: str) -> str | None:
    return None if name and os.path.basename(name) == name else "dbfilename can't be a path, just a filename"


def _save_fmt(value: list[tuple[int, int]]) -> str:
    return " ".join(f"{s} {c}" for s, c in value)


_NOTIFY_CLASSES = "gKE$lshzxetmdnA"


def _notify_parse(words: list[str]) -> str:
    text = " ".join(words)
    for ch in text:
        if ch not in _NOTIFY_CLASSES:
            raise ConfigError("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")
    return text


def notify_flags(text: str) -> str:
    """The canonical form Valkey shows for notify-keyspace-events (its
    keyspaceEventsFlagsToString): 'A' hides the classes it covers, and 'n' with them; K, E
    and m (key misses, outside 'A') follow."""
    s = set(text)
    if "A" in s:
        s.update("g$lshzxetd")
    if set("g$lshzxetd") <= s:
        out = "A"
    else:
        out = "".join(c for c in "g$lshzxetdn" if c in s)
    return out + "".join(c for c in "KEm" if c in s)


def _bind_parse(words: list[str]) -> list[str]:
    addrs = " ".join(words).split()
    if len(addrs) > 16:
        raise ConfigError("Too many bind addresses specified.")
    return addrs


def _cobl_parse(words: list[str]) -> dict[str, tuple[int, int, int]]:
    items = " ".join(words).split()
    if len(items) % 4:
        raise ConfigError("Wrong number of arguments in buffer limit configuration.")
    out = dict(DEFAULT_COBL)
    for i in range(0, len(items), 4):
        cls = items[i].lower()
        if cls == "slave":
            cls = "replica"
        if cls not in ("normal", "replica", "pubsub"):
            raise ConfigError("Invalid client class specified in buffer limit configuration.")
        try:
            hard, soft = _parse_memory(items[i + 1]), _parse_memory(items[i + 2])
            secs = int(items[i + 3])
        except (ConfigError, ValueError):
            raise ConfigError("Error in hard, soft or soft_seconds setting in buffer limit configuration.") from None
        if hard < 0 or soft < 0 or secs < 0:
            raise ConfigError("Error in hard, soft or soft_seconds setting in buffer limit configuration.")
        out[cls] = (hard, soft, secs)
    return out


def _replicaof_parse(words: list[str]) -> tuple[str, int] | None:
    """``replicaof <host> <port>`` or ``replicaof no one`` (Valkey's setConfigReplicaOfOption)."""
    if len(words) != 2:
        raise ConfigError("wrong number of arguments")
    host, port = words
    if host.lower() == "no" and port.lower() == "one":
        return None
    if not port.isdigit() or int(port) > 65535:
        raise ConfigError("Invalid primary port")
    return (host, int(port))


def _replicaof_fmt(value: tuple[str, int] | None) -> str:
    return f"{value[0]} {value[1]}" if value else ""


def _mem_or_percent(words: list[str]) -> int:
    """A memory size, or a percentage of maxmemory (stored negative), as Valkey's maxmemory-clients."""
    text = " ".join(words).strip()
    if text.endswith("%"):
        try:
            pct = int(text[:-1])
        except ValueError:
            raise ConfigError("argument must be a memory or percent value") from None
        if pct > 100:
            raise ConfigError("percentage argument must be less or equal to 100")
        if pct < 0:
            raise ConfigError("argument must be a memory or percent value")
        return -pct
    try:
        return _parse_memory(text)
    except ConfigError:
        raise ConfigError("argument must be a memory or percent value") from None


def _mem_or_percent_fmt(value: int) -> str:
    return f"{-value}%" if value < 0 else str(value)


DEFAULT_COBL = {"normal": (0, 0, 0), "replica": (256 * 1024**2, 64 * 1024**2, 60),
                "pubsub": (32 * 1024**2, 8 * 1024**2, 60)}


def _cobl_fmt(value: dict[str, tuple[int, int, int]]) -> str:
    # Valkey still names the replica class "slave" in CONFIG GET and CONFIG REWRITE
    return " ".join(f"{'slave' if c == 'replica' else c} {value[c][0]} {value[c][1]} {value[c][2]}"
                    for c in ("normal", "replica", "pubsub"))


INT_MAX = 2**31 - 1
LONG_MAX = 2**63 - 1
_LOGLEVELS = ("debug", "verbose", "notice", "warning", "nothing")
_PROTECTED = ("no", "yes", "local")
_POLICIES = ("volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl",
             "allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction")


def _percentiles_parse(words: list[str]) -> list[float]:
    """latency-tracking-info-percentiles: numbers in [0, 100]; one empty word means none."""
    if len(words) == 1 and not words[0]:
        return []
    out = []
    for w in words:
        try:
            if not w or w[0].isspace() or w[-1].isspace() or "_" in w:
                raise ValueError
            v = float(w)
        except ValueError:
            raise ConfigError("Invalid latency-tracking-info-percentiles parameters") from None
        if v != v:
            raise ConfigError("Invalid latency-tracking-info-percentiles parameters")
        if not 0.0 <= v <= 100.0:
            raise ConfigError("latency-tracking-info-percentiles parameters should sit between [0.0,100.0]")
        out.append(v)
    return out


def _percentiles_fmt(value: list[float]) -> str:
    from .engine.latency import format_percentile
    return " ".join(format_percentile(p) for p in value)


def _b(name: str, default: bool, **kw: Any) -> Param:
    return Param(name, "bool", default, **kw)


def _i(name: str, default: int, lo: int, hi: int, **kw: Any) -> Param:
    return Param(name, "int", default, minimum=lo, maximum=hi, **kw)


def _m(name: str, default: int, lo: int, hi: int, **kw: Any) -> Param:
    return Param(name, "memory", default, minimum=lo, maximum=hi, **kw)


def _s(name: str, default: str | None, **kw: Any) -> Param:
    return Param(name, "string", default, **kw)


def _e(name: str, default: str, choices: tuple[str, ...], **kw: Any) -> Param:
    return Param(name, "enum", default, choices=choices, **kw)


PARAMS: list[Param] = [
    # network
    Param("bind", "special", ["*", "-::*"], multi=True, parse=_bind_parse, fmt=" ".join),
    _i("port", 6379, 0, 65535),
    _s("unixsocket", None, immutable=True),
    Param("unixsocketperm", "octal", 0, minimum=0, maximum=0o777, immutable=True),
    _i("timeout", 0, 0, INT_MAX),
    _i("tcp-keepalive", 300, 0, INT_MAX),
    _i("tcp-backlog", 511, 0, INT_MAX, immutable=True),
    _i("maxclients", 10000, 1, 2**32 - 1),
    _b("protected-mode", True),
    # general
    _e("loglevel", "notice", _LOGLEVELS),
    _s("logfile", "", immutable=True),
    _s("pidfile", None, immutable=True),
    _i("databases", 16, 1, INT_MAX, immutable=True),
    Param("dir", "special", None, protected=True, parse=lambda w: os.path.abspath(" ".join(w)),
          fmt=lambda v: v or os.getcwd(), check=_dir_check),
    _i("hz", 10, 0, INT_MAX),
    _b("dynamic-hz", True),
    _e("enable-debug-command", "no", _PROTECTED, immutable=True),
    _e("enable-protected-configs", "no", _PROTECTED, immutable=True),
    _e("enable-module-command", "no", _PROTECTED, immutable=True),
    _b("daemonize", False, immutable=True),
    _s("requirepass", None, sensitive=True),
    _m("proto-max-bulk-len", 512 * 1024**2, 1024**2, LONG_MAX),
    _m("client-query-buffer-limit", 1024**3, 1024**2, LONG_MAX),
    Param("client-output-buffer-limit", "special", DEFAULT_COBL, multi=True, parse=_cobl_parse, fmt=_cobl_fmt),
    Param("notify-keyspace-events", "special", "", parse=_notify_parse, fmt=notify_flags),
    # limits and memory
    _m("maxmemory", 0, 0, LONG_MAX),
    _e("maxmemory-policy", "noeviction", _POLICIES),
    _i("maxmemory-samples", 5, 1, 64),
    _i("maxmemory-eviction-tenacity", 10, 0, 100),
    _i("lfu-log-factor", 10, 0, INT_MAX),
    _i("lfu-decay-time", 1, 0, INT_MAX),
    _b("lazyfree-lazy-eviction", True),
    _b("lazyfree-lazy-expire", True),
    # Valkey's default is no (HELLO says valkey/8.0.1, INFO server_mode); pykey defaults to
    # yes so that clients that gate features on the server's version see Redis 7.2.4
    _b("extended-redis-compatibility", True),
    _b("lazyfree-lazy-server-del", True),
    _b("lazyfree-lazy-user-del", True),
    _b("lazyfree-lazy-user-flush", True),
    _i("active-expire-effort", 1, 1, 10),
    # slow log and latency
    Param("slowlog-log-slower-than", "int", 10000, minimum=-1, maximum=LONG_MAX),
    _i("slowlog-max-len", 128, 0, LONG_MAX),
    _i("latency-monitor-threshold", 0, 0, LONG_MAX),
    _b("latency-tracking", True),
    Param("latency-tracking-info-percentiles", "special", [50.0, 99.0, 99.9], multi=True,
          parse=_percentiles_parse, fmt=_percentiles_fmt),
    # persistence (the engines arrive with their issues; the parameters exist so that
    # `--save ""` and `--appendonly no` work as with Valkey)
    # Valkey's built-in save points; `make run` and the embedded server pass `--save ""`
    Param("save", "special", [(3600, 1), (300, 100), (60, 10000)], multi=True, parse=_save_parse, fmt=_save_fmt),
    _s("dbfilename", "dump.rdb", protected=True, check=_dbfilename_check),
    _b("appendonly", False),
    _s("appendfilename", "appendonly.aof", immutable=True),
    _s("appenddirname", "appendonlydir", immutable=True),
    _e("appendfsync", "everysec", ("always", "everysec", "no")),
    _b("aof-use-rdb-preamble", True),
    _b("aof-load-truncated", True),
    _i("auto-aof-rewrite-percentage", 100, 0, INT_MAX),
    _m("auto-aof-rewrite-min-size", 64 * 1024**2, 0, LONG_MAX),
    _b("rdbcompression", True),
    _b("rdbchecksum", True),
    _b("stop-writes-on-bgsave-error", True),
    # data type encodings (read by the collection types)
    _i("hash-max-listpack-entries", 128, 0, LONG_MAX, alias="hash-max-ziplist-entries"),
    _i("hash-max-listpack-value", 64, 0, LONG_MAX, alias="hash-max-ziplist-value"),
    _i("set-max-intset-entries", 512, 0, LONG_MAX),
    _i("set-max-listpack-entries", 128, 0, LONG_MAX),
    _i("set-max-listpack-value", 64, 0, LONG_MAX),
    _i("zset-max-listpack-entries", 128, 0, LONG_MAX, alias="zset-max-ziplist-entries"),
    _i("zset-max-listpack-value", 64, 0, LONG_MAX, alias="zset-max-ziplist-value"),
    Param("list-max-listpack-size", "int", -2, minimum=-(2**31), maximum=INT_MAX, alias="list-max-ziplist-size"),
    _i("list-compress-depth", 0, 0, INT_MAX),
    _m("hll-sparse-max-bytes", 3000, 0, LONG_MAX),
    _i("stream-node-max-bytes", 4096, 0, LONG_MAX),
    _i("stream-node-max-entries", 100, 0, LONG_MAX),
    _b("activerehashing", True),
    _i("tracking-table-max-keys", 1000000, 0, LONG_MAX),
    _i("busy-reply-threshold", 5000, 0, LONG_MAX, alias="lua-time-limit"),
    _b("replica-read-only", True, alias="slave-read-only"),
    _b("replica-serve-stale-data", True, alias="slave-serve-stale-data"),
    _i("min-replicas-to-write", 0, 0, INT_MAX, alias="min-slaves-to-write"),
    _i("min-replicas-max-lag", 10, 0, INT_MAX, alias="min-slaves-max-lag"),
    _b("cluster-enabled", False, immutable=True),
    Param("replicaof", "special", None, immutable=True, multi=True, alias="slaveof", parse=_replicaof_parse,
          fmt=_replicaof_fmt),
    _s("primaryauth", None, sensitive=True, alias="masterauth"),
    _s("primaryuser", None, sensitive=True, alias="masteruser"),
    _e("repl-diskless-load", "disabled", ("disabled", "on-empty-db", "swapdb")),
    _i("replica-priority", 100, 0, INT_MAX, alias="slave-priority"),
    _b("replica-announced", True),
    _s("replica-announce-ip", None, alias="slave-announce-ip"),
    _i("replica-announce-port", 0, 0, 65535, alias="slave-announce-port"),
    _b("replica-ignore-maxmemory", True, alias="slave-ignore-maxmemory"),
    Param("maxmemory-clients", "special", 0, parse=_mem_or_percent, fmt=_mem_or_percent_fmt),
    _m("repl-backlog-size", 1024**2, 1, LONG_MAX),
    _i("repl-backlog-ttl", 3600, 0, LONG_MAX),
    _i("repl-timeout", 60, 1, INT_MAX),
    _i("repl-ping-replica-period", 10, 1, INT_MAX, alias="repl-ping-slave-period"),
    Param("shutdown-on-sigint", "enum", "default", choices=("default", "save", "nosave", "now", "force"),
          flags_enum=True),
    Param("shutdown-on-sigterm", "enum", "default", choices=("default", "save", "nosave", "now", "force"),
          flags_enum=True),
    _i("rdb-key-save-delay", 0, -(2**31), INT_MAX, hidden=True),
    _i("key-load-delay", 0, -(2**31), INT_MAX, hidden=True),
    _b("io-threads-do-reads", False, immutable=True),
    _i("io-threads", 1, 1, 128, immutable=True),
    _b("crash-log-enabled", True),
    _b("set-proc-title", True, immutable=True),
    _b("always-show-logo", False, immutable=True),
    _e("supervised", "no", ("upstart", "systemd", "auto", "no"), immutable=True),
    _s("syslog-ident", "valkey", immutable=True),
    _b("syslog-enabled", False, immutable=True),
    _e("syslog-facility", "local0", ("user", "local0", "local1", "local2", "local3", "local4",
                                        "local5", "local6", "local7"), immutable=True),
]

# the same parameter listed twice above keeps its first entry
_seen: set[str] = set()
PARAMS = [p for p in PARAMS if not (p.name in _seen or _seen.add(p.name))]
BY_NAME: dict[str, Param] = {}
for _p in PARAMS:
    BY_NAME[_p.name] = _p
    if _p.alias:
        BY_NAME[_p.alias] = _p


class Config:
    """The live values. Reading is attribute-free and fast: ``config["maxmemory"]``."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {p.name: p.default for p in PARAMS}
        self.file: str | None = None
        self.listeners: dict[str, list[Callable[[Any, Any], None]]] = {}

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def watch(self, name: str, fn: Callable[[Any, Any], None]) -> None:
        self.listeners.setdefault(BY_NAME[name].name, []).append(fn)

    def set_words(self, name: str, words: list[str]) -> None:
        """Set from the config file or the command line (no immutability check)."""
        param = BY_NAME.get(name.lower())
        if param is None:
            raise ConfigError("Bad directive or wrong number of arguments")
        value = param.from_words(words)
        self._assign(param, value)

    def _assign(self, param: Param, value: Any) -> None:
        old = self.values[param.name]
        self.values[param.name] = value
        for fn in self.listeners.get(param.name, ()):
            fn(old, value)

    def get(self, patterns: list[bytes]) -> dict[bytes, bytes]:
        out: dict[bytes, bytes] = {}
        for pat in patterns:
            low = pat.lower()
            if b"*" in low or b"?" in low or b"[" in low:
                match = compile_glob(low)
                for name, param in BY_NAME.items():
                    if not param.hidden and match(name.encode()) is not None:
                        out[name.encode()] = param.to_text(self.values[param.name]).encode()
            else:
                param = BY_NAME.get(low.decode("utf-8", "replace"))
                if param is not None:
                    out[low] = param.to_text(self.values[param.name]).encode()
        return out

    def set_many(self, pairs: list[tuple[bytes, bytes]], allow_protected: bool) -> None:
        """CONFIG SET: all or nothing. Raises ConfigError with Valkey's full text."""
        plan: list[tuple[Param, Any]] = []
        seen: set[str] = set()
        for raw_name, raw_value in pairs:
            name = raw_name.decode("utf-8", "surrogateescape").lower()
            param = BY_NAME.get(name)
            if param is None:
                raise ConfigError(f"Unknown option or number of arguments for CONFIG SET - '{name}'")
            if param.immutable or (param.protected and not allow_protected):
                why = "can't set immutable config" if param.immutable else "can't set protected config"
                raise ConfigError(f"CONFIG SET failed (possibly related to argument '{name}') - {why}")
            if param.name in seen:
                raise ConfigError(f"CONFIG SET failed (possibly related to argument '{name}') - duplicate parameter")
            seen.add(param.name)
            text = raw_value.decode("utf-8", "surrogateescape")
            try:
                words = [text] if not param.multi else (split_args(raw_value) or [""])
                words = [w.decode("utf-8", "surrogateescape") if isinstance(w, bytes) else w for w in words]
                value = param.from_words(words)
                if param.check is not None:
                    problem = param.check(value)
                    if problem:
                        raise ConfigError(problem)
            except ConfigError as e:
                raise ConfigError(f"CONFIG SET failed (possibly related to argument '{name}') - {e}") from None
            plan.append((param, value))
        done: list[tuple[Param, Any]] = []
        try:
            for param, value in plan:
                done.append((param, self.values[param.name]))
                self._assign(param, value)
        except ConfigError as e:
            # put the old values back and re-apply them (Valkey's restoreBackupConfig), so
            # whatever watches a parameter sees the rollback too; a failure there is ignored
            for param, old in reversed(done):
                try:
                    self._assign(param, old)
                except ConfigError:
                    self.values[param.name] = old
            raise ConfigError(f"CONFIG SET failed (possibly related to argument '{done[-1][0].name}') - {e}") from None

    def rewrite_lines(self) -> list[str]:
        """The lines CONFIG REWRITE keeps: every parameter that differs from its default."""
        out = []
        for p in PARAMS:
            v = self.values[p.name]
            if v != p.default and p.name not in ("dir",):
                text = p.to_text(v)
                out.append(f"{p.name} {_quote(text) if text and not p.multi else (text or chr(34) * 2)}")
        return out


def _quote(text: str) -> str:
    if text and all(c.isalnum() or c in "-_./:*" for c in text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# ---------------------------------------------------------------- config files and argv
def parse_lines(text: str, source: str, config: Config, depth: int = 0) -> None:
    """Apply a Valkey config file's text. Raises ConfigError with Valkey's fatal message."""
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        words = split_args(line.encode())
        if words is None:
            raise ConfigError(_fatal(lineno, raw, "Unbalanced quotes in configuration line"))
        if not words:
            continue
        args = [w.decode("utf-8", "surrogateescape") for w in words]
        name = args[0].lower()
        try:
            if name == "include":
                if len(args) != 2:
                    raise ConfigError("wrong number of arguments")
                if depth > 16:
                    raise ConfigError("include nested too deeply")
                with open(args[1], encoding="utf-8", errors="surrogateescape") as f:
                    parse_lines(f.read(), args[1], config, depth + 1)
                continue
            if name in ("rename-command", "user", "loadmodule", "sentinel"):
                raise ConfigError("Bad directive or wrong number of arguments")
            if len(args) < 2 and name not in BY_NAME:
                raise ConfigError("Bad directive or wrong number of arguments")
            config.set_words(name, args[1:] if len(args) > 1 else [""])
        except OSError as e:
            raise ConfigError(_fatal(lineno, raw, f"Fatal error, can't open config file '{args[1]}': {e.strerror}")) from None
        except ConfigError as e:
            if str(e).startswith("\n*** FATAL"):
                raise
            raise ConfigError(_fatal(lineno, raw, str(e))) from None


def _fatal(lineno: int, line: str, why: str) -> str:
    return (f"\n*** FATAL CONFIG FILE ERROR (Version 7.2.4) ***\n"
            f"Reading the configuration file, at line {lineno}\n>>> '{line.strip()}'\n{why}")


def argv_to_config_text(args: list[str]) -> str:
    """Valkey's way of turning ``--name value ...`` into config lines."""
    lines: list[str] = []
    for a in args:
        if a.startswith("--") and len(a) > 2:
            lines.append(a[2:])
        elif not lines:
            raise ConfigError(f"Invalid argument '{a}'")
        else:
            lines[-1] += " " + _quote_arg(a)
    return "\n".join(lines)


def _quote_arg(a: str) -> str:
    return '"' + a.replace("\\", "\\\\").replace('"', '\\"') + '"'


def load(argv: list[str]) -> Config:
    """Build the config from ``pykey-server [file] [--name value ...]``."""
    config = Config()
    rest = list(argv)
    if rest and not rest[0].startswith("--"):
        path = rest.pop(0)
        config.file = os.path.abspath(path) if path != "-" else None
        if path == "-":
            import sys
            parse_lines(sys.stdin.read(), "stdin", config)
        else:
            with open(path, encoding="utf-8", errors="surrogateescape") as f:
                parse_lines(f.read(), path, config)
    if rest:
        parse_lines(argv_to_config_text(rest), "command line", config)
    return config
