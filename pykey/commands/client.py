"""CLIENT subcommands: the connection's view of itself and of the other clients."""
from __future__ import annotations

import time

from .. import errors
from ..engine.client import Client
from ..engine.registry import command, container
from ..net.connection import NOREPLY
from ..protocol.replies import OK, Verbatim
from .cmdargs import parse_timeout_ms
from .server import help_reply
from .util import parse_int

container("client", group="connection", since="2.4.0", acl="!group",
          summary="Groups the subcommands that inspect and manage client connections.", complexity="Depends on subcommand.")

_F = "noscript loading stale sentinel"
_ADMIN = "admin noscript loading stale sentinel"


def client_type(c: Client) -> str:
    """Valkey's getClientType: master, replica, pubsub or normal."""
    if c.kind == "master":
        return "master"
    if c.kind == "replica":
        return "replica"
    if c.subscriptions() or c.shard_channels:
        return "pubsub"
    return "normal"


_TYPE_NAMES = {b"normal": "normal", b"replica": "replica", b"slave": "replica", b"pubsub": "pubsub",
               b"master": "master", b"primary": "master"}


def _type_by_name(name: bytes) -> str:
    t = _TYPE_NAMES.get(name.lower())
    if t is None:
        raise errors.err(f"Unknown client type '{errors.text(name)}'")
    return t


def _s(v: bytes | None) -> str:
    return v.decode("utf-8", "surrogateescape") if v else ""


def output_buffer(c: Client) -> int:
    """Reply bytes waiting to be taken by the kernel (Valkey's omem)."""
    return c.obuf_size() if c.obuf_size is not None else c.obuf_bytes


def client_info_line(c: Client, current: str | None = None) -> str:
    """One CLIENT LIST line, in Valkey's field order; ``current`` names the running command
    (Valkey records it before the call, so a client lists itself as running CLIENT LIST)."""
    now = time.time()
    multi = len(c.multi) if c.multi is not None else -1
    omem = output_buffer(c)
    return (f"id={c.id} addr={c.addr} laddr={c.laddr} fd={c.fd} name={_s(c.name)} "
            f"age={int(now - c.created)} idle={int(now - c.last_interaction)} flags={c.flag_string()} "
            f"db={c.db.id} sub={len(c.channels or ())} psub={len(c.patterns or ())} "
            f"ssub={len(c.shard_channels or ())} multi={multi} watch={len(c.watched or ())} "
            f"qbuf={c.qbuf_bytes} qbuf-free=0 argv-mem=0 multi-mem=0 rbs=1024 rbp=0 obl=0 oll={int(omem > 0)} "
            f"omem={omem} tot-mem={1024 + omem + c.qbuf_bytes} events={'rw' if omem else 'r'} "
            f"cmd={current or c.last_cmd} "
            f"user={c.user} redir={-1 if c.tracking is None else getattr(c.tracking, 'redirect', 0)} "
            f"resp={c.resp} lib-name={_s(c.lib_name)} lib-ver={_s(c.lib_ver)} "
            f"tot-net-in={c.tot_net_in} tot-net-out={c.tot_net_out} tot-cmds={c.tot_cmds}")


@command("id", parent="client", arity=2, flags=_F, group="connection", since="5.0.0",
         summary="Gives the numeric ID of this connection.", complexity="O(1)")
def client_id(c: Client) -> int:
    return c.id


def _validate(value: bytes, what: str) -> None:
    for b in value:
        if b < 33 or b > 126:
            raise errors.err(f"{what} cannot contain spaces, newlines or special characters.")


@command("setname", parent="client", arity=3, flags=_F,
         tips="request_policy:all_nodes response_policy:all_succeeded", group="connection",
         since="2.6.9", summary="Gives this connection a name.", complexity="O(1)",
         args="connection-name")
def client_setname(c: Client, name: bytes):
    _validate(name, "Client names")
    c.name = name or None
    return OK


@command("getname", parent="client", arity=2, flags=_F, group="connection", since="2.6.9",
         summary="Gives the name assigned to this connection, if any.", complexity="O(1)")
def client_getname(c: Client):
    return c.name


@command("setinfo", parent="client", arity=4, flags=_F,
         tips="request_policy:all_nodes response_policy:all_succeeded", group="connection",
         since="7.2.0", summary="Records the client library's name or version for this connection.",
         complexity="O(1)",
         args="(attr: LIB-NAME libname | LIB-VER libver)")
def client_setinfo(c: Client, attr: bytes, value: bytes):
    low = attr.lower()
    if low not in (b"lib-name", b"lib-ver"):
        raise errors.err(f"Unrecognized option '{errors.text(attr)}'")
    _validate(value, errors.text(attr))
    if low == b"lib-name":
        c.lib_name = value or None
    else:
        c.lib_ver = value or None
    return OK


@command("list", parent="client", arity=-2, flags=_ADMIN, tips="nondeterministic_output",
         group="connection", since="2.4.0", summary="Describes the connected clients, one per line.",
         complexity="O(N) where N is the number of client connections",
         history=(("2.8.12", "Added unique client `id` field."), ("5.0.0", "Added optional `TYPE` filter."),
                  ("6.0.0", "Added `user` field."), ("6.2.0", "Added `argv-mem`, `tot-mem`, `laddr` and "
                                                     "`redir` fields and the optional `ID` filter."),
                  ("7.0.0", "Added `resp`, `multi-mem`, `rbs` and `rbp` fields."),
                  ("7.0.3", "Added `ssub` field."), ("8.0.0", "Replaced `master` `TYPE` with `primary`. "
                                                          "`master` still supported for backward compatibility.")),
         args="[TYPE (client-type: NORMAL | MASTER | REPLICA | PUBSUB)]@5.0.0 [ID client-id:integer...]@6.2.0")
def client_list(c: Client, *args: bytes):
    clients = c.server.clients
    if len(args) == 2 and args[0].lower() == b"type":
        t = _type_by_name(args[1])
        chosen = [x for x in clients.values() if client_type(x) == t]
    elif len(args) > 1 and args[0].lower() == b"id":
        chosen = []
        for a in args[1:]:
            cid = parse_int(a, errors.err("Invalid client ID"))
            if cid in clients:
                chosen.append(clients[cid])
    elif args:
        raise errors.SYNTAX
    else:
        chosen = list(clients.values())
    return Verbatim("".join(client_info_line(x, "client|list" if x is c else None) + "\n"
                            for x in chosen))


@command("info", parent="client", arity=2, flags=_F, tips="nondeterministic_output",
         group="connection", since="6.2.0", summary="Describes this connection.",
         complexity="O(1)")
def client_info(c: Client):
    return Verbatim(client_info_line(c, "client|info") + "\n")


@command("kill", parent="client", arity=-3, flags=_ADMIN, group="connection", since="2.4.0",
         summary="Closes client connections chosen by address or filters.", complexity="O(N) where N is the number of client connections",
         history=(("2.8.12", "Added new filter format."), ("2.8.12", "`ID` option."),
                  ("3.2.0", "Added `master` type in for `TYPE` option."),
                  ("5.0.0", "Replaced `slave` `TYPE` with `replica`. `slave` still supported for "
                            "backward compatibility."),
                  ("6.2.0", "`LADDR` option."), ("8.0.0", "`MAXAGE` option."),
                  ("8.0.0", "Replaced `master` `TYPE` with `primary`. `master` still supported for "
                            "backward compatibility.")),
         args="(filter: old-format<ip:port>!2.8.12 | (new-format: [ID client-id:integer]@2.8.12 | "
              "[TYPE (client-type: NORMAL | MASTER@3.2.0 | PRIMARY@8.0.0 | SLAVE | REPLICA@5.0.0 | "
              "PUBSUB)]@2.8.12 | [USER username] | [ADDR addr<ip:port>] | [LADDR laddr<ip:port>]@6.2.0 | "
              "[SKIPME (YES | NO)] | [MAXAGE maxage:integer]@8.0.0)...)")
def client_kill(c: Client, *args: bytes):
    addr = laddr = user = None
    ctype = None
    cid = 0
    max_age = 0
    skipme = True
    old_form = len(args) == 1
    if old_form:
        addr = args[0].decode("utf-8", "surrogateescape")
        skipme = False
    else:
        i = 0
        while i < len(args):
            opt = args[i].lower()
            if i + 1 >= len(args):
                raise errors.SYNTAX
            val = args[i + 1]
            if opt == b"id":
                n = parse_int(val, errors.err("client-id should be greater than 0"))
                if n < 1:
                    raise errors.err("client-id should be greater than 0")
                cid = n
            elif opt == b"maxage":
                n = parse_int(val, errors.err("maxage is not an integer or out of range"))
                if n <= 0:
                    raise errors.err("maxage should be greater than 0")
                max_age = n
            elif opt == b"type":
                ctype = _type_by_name(val)
            elif opt == b"addr":
                addr = val.decode("utf-8", "surrogateescape")
            elif opt == b"laddr":
                laddr = val.decode("utf-8", "surrogateescape")
            elif opt == b"user":
                user = val.decode("utf-8", "surrogateescape")
                if user != "default":
                    raise errors.err(f"No such user '{user}'")
            elif opt == b"skipme":
                low = val.lower()
                if low not in (b"yes", b"no"):
                    raise errors.SYNTAX
                skipme = low == b"yes"
            else:
                raise errors.SYNTAX
            i += 2
    now = int(time.time())
    killed = 0
    for other in list(c.server.clients.values()):
        if addr is not None and other.addr != addr:
            continue
        if laddr is not None and other.laddr != laddr:
            continue
        if ctype is not None and client_type(other) != ctype:
            continue
        if cid and other.id != cid:
            continue
        if user is not None and other.user != user:
            continue
        if other is c and skipme:
            continue
        if max_age and now - int(other.created) < max_age:
            continue
        if other is c:
            c.close_after_reply = True
        else:
            other.close()
        killed += 1
    if old_form:
        if not killed:
            raise errors.err("No such client")
        return OK
    return killed


def _on_off(arg: bytes) -> bool:
    low = arg.lower()
    if low == b"on":
        return True
    if low == b"off":
        return False
    raise errors.SYNTAX


@command("no-evict", parent="client", arity=3, flags=_ADMIN, group="connection", since="7.0.0",
         summary="Turns client eviction off or on for this connection.", complexity="O(1)",
         args="(enabled: ON | OFF)")
def client_no_evict(c: Client, mode: bytes):
    c.no_evict = _on_off(mode)
    return OK


@command("no-touch", parent="client", arity=3, flags="noscript loading stale", group="connection",
         since="7.2.0", summary="Chooses whether this connection's commands update the LRU/LFU data of the keys they access.", complexity="O(1)",
         args="(enabled: ON | OFF)")
def client_no_touch(c: Client, mode: bytes):
    c.no_touch = _on_off(mode)
    return OK


@command("reply", parent="client", arity=3, flags=_F, group="connection", since="3.2.0",
         summary="Turns the server's replies to this connection on, off, or off for the next command.", complexity="O(1)",
         args="(action: ON | OFF | SKIP)")
def client_reply(c: Client, mode: bytes):
    low = mode.lower()
    if low == b"on":
        c.reply_mode = "on"
        return OK
    if low == b"off":
        c.reply_mode = "off"
        return NOREPLY
    if low == b"skip":
        if c.reply_mode != "off":
            c.reply_mode = "skip-next"
        return NOREPLY
    raise errors.SYNTAX


@command("help", parent="client", arity=2, flags="loading stale sentinel", group="connection",
         since="5.0.0", summary="Describes the available subcommands.", complexity="O(1)")
def client_help(c: Client):
    return help_reply("client", [
        "CACHING (YES|NO)",
        "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
        "CAPA <option> [options...]",
        "    The client claims its some capability options. Options are:",
        "    * REDIRECT",
        "      The client can handle redirection during primary and replica failover in standalone mode.",
        "GETREDIR",
        "    Return the client ID we are redirecting to when tracking is enabled.",
        "GETNAME",
        "    Return the name of the current connection.",
        "ID",
        "    Return the ID of the current connection.",
        "INFO",
        "    Return information about the current client connection.",
        "KILL <ip:port>",
        "    Kill connection made from <ip:port>.",
        "KILL <option> <value> [<option> <value> [...]]",
        "    Kill connections. Options are:",
        "    * ADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made from the specified address",
        "    * LADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made to specified local address",
        "    * TYPE (NORMAL|PRIMARY|REPLICA|PUBSUB)",
        "      Kill connections by type.",
        "    * USER <username>",
        "      Kill connections authenticated by <username>.",
        "    * SKIPME (YES|NO)",
        "      Skip killing current connection (default: yes).",
        "    * ID <client-id>",
        "      Kill connections by client id.",
        "    * MAXAGE <maxage>",
        "      Kill connections older than the specified age.",
        "LIST [options ...]",
        "    Return information about client connections. Options:",
        "    * TYPE (NORMAL|PRIMARY|REPLICA|PUBSUB)",
        "      Return clients of specified type.",
        "UNPAUSE",
        "    Stop the current client pause, resuming traffic.",
        "PAUSE <timeout> [WRITE|ALL]",
        "    Suspend all, or just write, clients for <timeout> milliseconds.",
        "REPLY (ON|OFF|SKIP)",
        "    Control the replies sent to the current connection.",
        "SETNAME <name>",
        "    Assign the name <name> to the current connection.",
        "SETINFO <option> <value>",
        "    Set client meta attr. Options are:",
        "    * LIB-NAME: the client lib name.",
        "    * LIB-VER: the client lib version.",
        "UNBLOCK <clientid> [TIMEOUT|ERROR]",
        "    Unblock the specified blocked client.",
        "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
        "         [OPTIN] [OPTOUT] [NOLOOP]",
        "    Control server assisted client side caching.",
        "TRACKINGINFO",
        "    Report tracking status for the current connection.",
        "NO-EVICT (ON|OFF)",
        "    Protect current client connection from eviction.",
        "NO-TOUCH (ON|OFF)",
        "    Will not touch LRU/LFU stats when this mode is on.",
    ])


@command("unblock", parent="client", arity=-3, flags=_ADMIN, group="connection", since="5.0.0",
         summary="Wakes another connection that is waiting in a blocking command.",
         complexity="O(log N) where N is the number of client connections",
         args="client-id:integer [unblock-type: TIMEOUT | ERROR]")
def client_unblock(c: Client, ident: bytes, *rest: bytes) -> int:
    """Release a parked client as if it timed out, or with an UNBLOCKED error."""
    from ..engine.blocking import unblock
    if len(rest) > 1:
        raise errors.err("unknown subcommand or wrong number of arguments for 'unblock'. Try CLIENT HELP.")
    error = False
    if rest:
        reason = rest[0].lower()
        if reason == b"error":
            error = True
        elif reason != b"timeout":
            raise errors.UNBLOCK_REASON
    target = c.server.clients.get(parse_int(ident))
    b = target.blocked if target is not None else None
    if b is None or b.kind == "postpone":   # a paused client waits for the pause to end
        return 0
    unblock(b, errors.UNBLOCKED if error else b.timeout_reply)
    return 1


# ---------------------------------------------------------------------- PAUSE / UNPAUSE
@command("pause", parent="client", arity=-3, flags=_ADMIN, group="connection", since="3.0.0",
         summary="Delays the commands of every client (or only their writes) for a while.",
         complexity="O(1)",
         history=(("6.2.0", "`CLIENT PAUSE WRITE` mode added along with the `mode` option."),),
         args="timeout:integer [mode: WRITE | ALL]@6.2.0")
def client_pause(c: Client, timeout: bytes, *mode: bytes):
    """CLIENT PAUSE <ms> [WRITE|ALL]: clients are delayed, not refused (engine/pause.py)."""
    from ..engine import pause
    if len(mode) > 1:        # the error quotes the subcommand as the client typed it
        raise errors.subcommand_syntax(b"client", c.server.current_argv[1])
    pause_all = True
    if mode:
        low = mode[0].lower()
        if low == b"write":
            pause_all = False
        elif low != b"all":
            raise errors.PAUSE_MODE
    ms = parse_timeout_ms(timeout, c.server.now_ms)
    end = 0
    if ms > 0:
        now = c.server.now_ms
        if ms > 2**63 - 1 - now:
            raise errors.TIMEOUT_OUT_OF_RANGE
        end = now + ms
    pause.pause_by_client(c.server, end, pause_all)
    return OK


@command("unpause", parent="client", arity=2, flags=_ADMIN, group="connection", since="6.2.0",
         summary="Ends a CLIENT PAUSE: the delayed clients run their commands.",
         complexity="O(N) Where N is the number of paused clients")
def client_unpause(c: Client):
    from ..engine import pause
    pause.unpause(c.server, pause.BY_CLIENT_COMMAND)
    return OK
