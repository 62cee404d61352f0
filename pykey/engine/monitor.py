"""MONITOR: every command the server runs, as one line to each monitoring client.

The line is Valkey's replicationFeedMonitors format, sent as a simple string in RESP2 and
RESP3 alike::

    +1339518083.107412 [0 127.0.0.1:60866] "keys" "*"

``[0 lua]`` marks commands a script ran, ``[0 unix:/path]`` clients on the unix socket.
Each argument is quoted as sdscatrepr quotes it. Passwords are shown as ``(redacted)``
where Valkey redacts them (AUTH, HELLO ... AUTH, MIGRATE ... AUTH/AUTH2, CONFIG SET of a
sensitive parameter); the slow log shows the same redacted arguments.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .client import Client

REDACTED = b"(redacted)"

# sdscatrepr's escapes; other bytes outside isprint() become \xNN
_ESCAPES = {0x5C: b"\\\\", 0x22: b'\\"', 0x0A: b"\\n", 0x0D: b"\\r", 0x09: b"\\t",
            0x07: b"\\a", 0x08: b"\\b"}
_REPR_TABLE = [_ESCAPES.get(i, bytes([i]) if 32 <= i < 127 else b"\\x%02x" % i) for i in range(256)]
_PLAIN = frozenset(range(32, 127)) - {0x5C, 0x22}


def repr_arg(arg: bytes) -> bytes:
    """Valkey's sdscatrepr: the argument in double quotes with C-style escapes."""
    if _PLAIN.issuperset(arg):
        return b'"' + arg + b'"'
    table = _REPR_TABLE
    return b'"' + b"".join([table[b] for b in arg]) + b'"'


def format_line(client: Client, dbid: int, argv: list[bytes], now: float | None = None) -> bytes:
    """One MONITOR line (RESP simple string, CRLF included)."""
    t = time.time() if now is None else now
    sec = int(t)
    usec = int((t - sec) * 1_000_000)
    if client.in_script:
        origin = b"lua"
    else:
        unixsocket = client.server.config["unixsocket"]
        if unixsocket and client.laddr == unixsocket + ":0":
            origin = b"unix:" + unixsocket.encode()
        else:
            origin = client.addr.encode()
    return b"+%d.%06d [%d %s] %s\r\n" % (sec, usec, dbid, origin, b" ".join([repr_arg(a) for a in argv]))


# ---------------------------------------------------------------------- redaction
def _redact_auth(argv: list[bytes]) -> list[bytes]:
    if len(argv) > 3:               # a syntax error: Valkey replies before redacting
        return argv
    return [argv[0]] + [REDACTED] * (len(argv) - 1)


def _redact_hello(argv: list[bytes]) -> list[bytes]:
    out = list(argv)
    n = len(argv)
    j = 1
    if n >= 2:
        if argv[1] not in (b"2", b"3"):   # HELLO fails on the version before redacting
            return out
        j = 2
    while j < n:
        more = n - 1 - j
        opt = argv[j].lower()
        if opt == b"auth" and more >= 2:
            out[j + 1] = out[j + 2] = REDACTED
            j += 3
        elif opt == b"setname" and more:
            if any(b < 33 or b > 126 for b in argv[j + 1]):
                break
            j += 2
        else:
            break
    return out


def _redact_migrate(argv: list[bytes]) -> list[bytes]:
    out = list(argv)
    n = len(argv)
    j = 6
    while j < n:
        more = n - 1 - j
        opt = argv[j].lower()
        if opt in (b"copy", b"replace"):
            j += 1
        elif opt == b"auth" and more:
            out[j + 1] = REDACTED
            j += 2
        elif opt == b"auth2" and more >= 2:
            out[j + 1] = out[j + 2] = REDACTED
            j += 3
        else:
            break
    return out


def _redact_config_set(argv: list[bytes]) -> list[bytes]:
    """CONFIG SET hides the values of sensitive parameters (requirepass, masterauth...)."""
    if len(argv) % 2:                # a syntax error: Valkey replies before redacting
        return argv
    from ..config import BY_NAME
    out = list(argv)
    for i in range(2, len(argv) - 1, 2):
        param = BY_NAME.get(argv[i].decode("utf-8", "replace").lower())
        if param is not None and param.sensitive:
            out[i + 1] = REDACTED
    return out


REDACTORS: dict[str, Callable[[list[bytes]], list[bytes]]] = {
    "auth": _redact_auth, "hello": _redact_hello, "migrate": _redact_migrate,
    "config|set": _redact_config_set,
}


def shown_argv(name: str, argv: list[bytes]) -> list[bytes]:
    """``argv`` as MONITOR (and the slow log) may show it: secrets replaced by (redacted)."""
    redactor = REDACTORS.get(name)
    return argv if redactor is None else redactor(argv)


# ---------------------------------------------------------------------- feeding
def feed(client: Client, name: str, argv: list[bytes]) -> None:
    """Send the command ``client`` just ran to every MONITOR client."""
    monitors = client.server.monitors
    if not monitors or client.server.loading:
        return
    line = format_line(client, client.db.id, shown_argv(name, argv))
    for m in list(monitors):
        m.send(line)


def start(c: Client) -> None:
    """Turn ``c`` into a monitor (Valkey flags it a replica that is also a monitor)."""
    c.kind = "monitor"
    c.server.monitors.append(c)


def stop(c: Client) -> None:
    """RESET or a disconnect ends monitoring."""
    if c.kind == "monitor":
        c.kind = "normal"
        try:
            c.server.monitors.remove(c)
        except ValueError:
            pass
