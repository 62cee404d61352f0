"""Connection commands: PING ECHO SELECT AUTH HELLO QUIT RESET."""
from __future__ import annotations

import hmac

from .. import REDIS_VERSION, VALKEY_VERSION, __version__, errors
from ..engine.client import Client
from ..engine.registry import command
from ..protocol.replies import OK, PONG, Push, Simple
from .util import parse_int

_CONN = "noscript loading stale fast no_auth allow_busy"


@command("ping", arity=-1, flags="fast", group="connection", since="1.0.0",
         tips="request_policy:all_shards response_policy:all_succeeded", summary="Checks that the server is alive, replying PONG or the given message.",
         args="[message]")
def ping(c: Client, *args: bytes):
    if len(args) > 1:
        raise errors.wrong_arity("ping")
    if c.pubsub and c.resp == 2:
        return Push([b"pong", args[0] if args else b""])
    return args[0] if args else PONG


@command("echo", arity=2, flags="loading stale fast", group="connection", since="1.0.0",
         summary="Replies with the message it was sent.",
         args="message")
def echo(c: Client, message: bytes) -> bytes:
    return message


@command("select", arity=2, flags="loading stale fast", group="connection", since="1.0.0",
         summary="Switches the connection to another numbered database.",
         args="index:integer")
def select(c: Client, index: bytes):
    n = parse_int(index)
    if n < -(2**31) or n > 2**31 - 1:  # getIntFromObject: a C int
        raise errors.NOT_INTEGER
    if n < 0 or n >= len(c.server.dbs):
        raise errors.DB_INDEX
    c.db = c.server.dbs[n]
    return OK


def _check_password(c: Client, username: bytes, password: bytes) -> bool:
    required = c.server.config["requirepass"]
    if username != b"default":
        return False
    if not required:
        return True
    return hmac.compare_digest(password, required.encode("utf-8", "surrogateescape"))


@command("auth", arity=-2, flags=_CONN, group="connection", since="1.0.0",
         history=(("6.0.0", "Added ACL style (username and password)."),),
         summary="Logs the connection in with a password, optionally for a named user.",
         args="[username]@6.0.0 password")
def auth(c: Client, *args: bytes):
    if len(args) > 2:
        raise errors.SYNTAX
    if len(args) == 1:
        if not c.server.config["requirepass"]:
            raise errors.err("AUTH <password> called without any password configured for the "
                             "default user. Are you sure your configuration is correct?")
        user, password = b"default", args[0]
    else:
        user, password = args
    if not _check_password(c, user, password):
        c.server.stat_auth_failures = getattr(c.server, "stat_auth_failures", 0) + 1
        raise errors.WRONGPASS
    c.authenticated = True
    c.user = user.decode("utf-8", "surrogateescape")
    return OK


@command("hello", arity=-1, flags=_CONN, group="connection", since="6.0.0",
         history=(("6.2.0", "`protover` made optional; when called without arguments the command "
                            "reports the current connection's context."),),
         summary="Negotiates the protocol version and optionally authenticates and names the connection.",
         args="[arguments: protover:integer [AUTH (username password)] [SETNAME clientname]]")
def hello(c: Client, *args: bytes):
    proto = None
    i = 0
    if args:
        try:
            proto = parse_int(args[0])
        except errors.CommandError:
            raise errors.err("Protocol version is not an integer or out of range") from None
        i = 1
        if proto < 2 or proto > 3:
            raise errors.CommandError("NOPROTO unsupported protocol version")
    name = None
    while i < len(args):
        opt = args[i].lower()
        more = len(args) - i - 1
        if opt == b"auth" and more >= 2:
            if not _check_password(c, args[i + 1], args[i + 2]):
                raise errors.WRONGPASS
            c.authenticated = True
            c.user = args[i + 1].decode("utf-8", "surrogateescape")
            i += 3
        elif opt == b"setname" and more >= 1:
            name = args[i + 1]
            _validate_name(name)
            i += 2
        else:
            raise errors.err(f"Syntax error in HELLO option '{errors.text(args[i])}'")
    if not c.authenticated:
        raise errors.CommandError("NOAUTH HELLO must be called with the client already authenticated, "
                                  "otherwise the HELLO <proto> AUTH <user> <pass> option can be used to "
                                  "authenticate the client and select the RESP protocol version at the "
                                  "same time")
    if name is not None:
        c.name = name or None
    if proto is not None:
        c.resp = proto
    compat = c.server.config["extended-redis-compatibility"]
    return {
        b"server": b"redis" if compat else b"valkey",
        b"version": (REDIS_VERSION if compat else VALKEY_VERSION).encode(),
        b"proto": c.resp,
        b"id": c.id,
        b"mode": b"standalone",
        b"role": b"master",
        b"modules": [],
    }


def _validate_name(name: bytes) -> None:
    for b in name:
        if b < 33 or b > 126:
            raise errors.err("Client names cannot contain spaces, newlines or special characters.")


@command("quit", arity=-1, flags="allow_busy noscript loading stale fast no_auth", group="connection",
         since="1.0.0", summary="Asks the server to close this connection.", doc_flags="deprecated",
         deprecated_since="7.2.0", replaced_by="just closing the connection")
def quit_(c: Client, *args: bytes):
    c.close_after_reply = True
    return OK


@command("reset", arity=1, flags=_CONN, group="connection", since="6.2.0",
         summary="Returns the connection to its default state.")
def reset(c: Client):
    server = c.server
    for hook in getattr(server, "reset_hooks", ()):
        hook(c)
    c.db = server.dbs[0]
    c.resp = 2
    c.name = None
    c.reply_mode = "on"
    c.no_evict = False
    c.no_touch = False
    c.multi = None
    c.multi_error = False
    c.authenticated = not server.config["requirepass"]
    c.user = "default"
    return Simple("RESET")


__all__ = ["ping", "echo", "select", "auth", "hello", "quit_", "reset", "__version__"]
