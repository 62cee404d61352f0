"""DEBUG: introspection and fault-injection subcommands, behind `enable-debug-command`.

DEBUG is one command to Valkey (its subcommands are not in COMMAND's table), but its
subcommands belong to many groups (RELOAD to persistence, LISTPACK to lists...). So each is
declared with :func:`debug_subcommand`, beside the code it exercises, and this module
only dispatches and writes the help text.
"""
from __future__ import annotations

import hashlib
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .. import errors
from ..engine.client import Client
from ..engine.registry import command
from ..keyspace.database import type_name
from ..protocol.dtoa import fpconv_dtoa
from ..protocol.replies import OK, BigNumber, Push, Raw, SetReply, Simple, Verbatim
from .server import allow_protected, help_reply
from .util import parse_float, parse_int

_DEBUG_DENIED = ("DEBUG command not allowed. If the enable-debug-command option is set to \"local\", "
                 "you can run it from a local connection, otherwise you need to set this option in the "
                 "configuration file, and then restart the server.")


@dataclass
class DebugSub:
    name: str
    func: Callable[..., Any]
    min_args: int
    max_args: int | None          # None: any number
    help: tuple[str, ...]


DEBUG_SUBCOMMANDS: dict[bytes, DebugSub] = {}


def debug_subcommand(name: str, *, args: tuple[int, int | None] = (0, 0), help: tuple[str, ...] = ()):
    """Register ``DEBUG <name>``: ``args`` is the (min, max) count of arguments after the name;
    ``help`` the lines DEBUG HELP shows (the first one names the syntax)."""
    def register(func: Callable[..., Any]) -> Callable[..., Any]:
        DEBUG_SUBCOMMANDS[name.lower().encode()] = DebugSub(name.upper(), func, args[0], args[1], help)
        return func
    return register


@command("debug", arity=-2, flags="admin noscript loading stale protected", group="server",
         since="1.0.0", summary="Groups the subcommands meant for debugging the server.",
         complexity="Depends on subcommand.", doc_flags="syscmd")
def debug(c: Client, sub: bytes, *args: bytes):
    if not allow_protected(c, c.server.config["enable-debug-command"]):
        raise errors.err(_DEBUG_DENIED)
    s = sub.lower()
    if s == b"help" and not args:
        lines: list[str] = []
        for entry in DEBUG_SUBCOMMANDS.values():
            lines.extend(entry.help)
        return help_reply("debug", lines)
    entry = DEBUG_SUBCOMMANDS.get(s)
    if entry is None or len(args) < entry.min_args or (entry.max_args is not None and len(args) > entry.max_args):
        raise errors.err(f"unknown subcommand or wrong number of arguments for '{errors.text(sub)}'. "
                         "Try DEBUG HELP.")
    return entry.func(c, *args)


# ---------------------------------------------------------------------- digests
def _mix(digest: bytearray, data: bytes) -> None:
    """Valkey's mixDigest: digest = SHA1(digest xor SHA1(data))."""
    h = hashlib.sha1(data).digest()
    for i in range(20):
        digest[i] ^= h[i]
    digest[:] = hashlib.sha1(bytes(digest)).digest()


def _xor(digest: bytearray, data: bytes) -> None:
    """Valkey's xorDigest: order-independent accumulation."""
    h = hashlib.sha1(data).digest()
    for i in range(20):
        digest[i] ^= h[i]


_TYPE_CODES = {"string": 0, "list": 1, "set": 2, "zset": 3, "hash": 4, "stream": 6}


def object_digest(db: Any, key: bytes, value: Any, digest: bytearray) -> None:
    """Valkey's xorObjectDigest: the type, then the elements (mixed where order matters,
    xored where it does not), then a mark if the key has a TTL; same bytes as Valkey's."""
    kind = type_name(value)
    _mix(digest, struct.pack(">I", _TYPE_CODES[kind]))
    if kind == "string":
        _mix(digest, bytes(value))
    elif kind == "list":
        for element in value:
            _mix(digest, element)
    elif kind == "set":
        for member in value:
            _xor(digest, member)
    elif kind == "zset":
        for member, score in value.items():
            e = bytearray(20)
            _mix(e, member)
            _mix(e, fpconv_dtoa(score))
            _xor(digest, bytes(e))
    elif kind == "hash":
        for field, v in value.items():
            e = bytearray(20)
            _mix(e, field)
            _mix(e, v)
            _xor(digest, bytes(e))
    else:
        for item in value.digest_items():
            _mix(digest, item)
    if key in db.expires:
        _xor(digest, b"!!expire!!")


def db_digest(server: Any) -> bytes:
    """Valkey's computeDatasetDigest: zero for an empty dataset, else per database its
    number mixed in, and every key's digest xored (so key order does not matter)."""
    final = bytearray(20)
    for db in server.dbs:
        if not db.data:
            continue
        _mix(final, struct.pack(">I", db.id))
        for key, value in list(db.data.items()):
            d = bytearray(20)
            _mix(d, key)
            object_digest(db, key, value, d)
            _xor(final, bytes(d))
    return bytes(final)


@debug_subcommand("digest", help=("DIGEST", "    Output a hex signature representing the current DB content."))
def debug_digest(c: Client):
    return Simple(db_digest(c.server).hex())


@debug_subcommand("digest-value", args=(0, None), help=(
    "DIGEST-VALUE <key> [<key> ...]", "    Output a hex signature of the values of all the specified keys."))
def debug_digest_value(c: Client, *keys: bytes):
    out = []
    for key in keys:
        d = bytearray(20)
        value = c.db.data.get(key)          # logically expired keys too, as Valkey
        if value is not None:
            object_digest(c.db, key, value, d)
        out.append(Simple(d.hex()))
    return out


# ---------------------------------------------------------------------- objects
def _serialized_len(value: Any, config: Any) -> int:
    """Valkey's rdbSavedObjectLen: the bytes the value takes in an RDB file."""
    from ..persistence.encoding import RdbWriter
    from ..persistence.values import write_value
    w = RdbWriter(compress=config["rdbcompression"])
    write_value(w, value, config)
    return len(w.buf)


def _quicklist_fields(value: Any, config: Any, fast: bool) -> str:
    """The ql_* fields DEBUG OBJECT adds for a quicklist."""
    from ..datatypes.listtype import quicklist_nodes
    from ..persistence import listpack
    fill = config["list-max-listpack-size"]
    nodes = quicklist_nodes(value, fill, True)
    text = (f" ql_nodes:{len(nodes)} ql_avg_node:{len(value) / len(nodes):.2f} ql_listpack_max:{fill}"
            f" ql_compressed:{int(config['list-compress-depth'] != 0)}")
    if not fast:
        size = sum(len(items[0]) if plain else len(listpack.encode(items)) for plain, items in nodes)
        text += f" ql_uncompressed_size:{size}"
    return text


@debug_subcommand("object", args=(1, 2), help=(
    "OBJECT <key> [fast]", "    Show low level info about the specified key and associated value.",
    "    When `fast` is passed, skip the slow serializedlength computation."))
def debug_object(c: Client, key: bytes, *opts: bytes):
    from .keys import object_encoding
    server = c.server
    value = c.db.data.get(key)          # logically expired keys too, as Valkey's dbFind
    if value is None:
        raise errors.NO_SUCH_KEY
    enc = object_encoding(value, server.config)
    fast = bool(opts) and opts[0].lower() == b"fast"
    lru = c.db.access.get(key, server.lru_clock)
    idle = max(0, (server.lru_clock - lru) & 0xFFFFFF)
    text = f"Value at:0x{id(value):x} refcount:1 encoding:{enc}"
    if not fast:
        text += f" serializedlength:{_serialized_len(value, server.config)}"
    text += f" lru:{lru} lru_seconds_idle:{idle} lfu_freq:0 lfu_access_time_minutes:{lru >> 8}"
    if enc == "quicklist":
        text += _quicklist_fields(value, server.config, fast)
    return Simple(text)


# ---------------------------------------------------------------------- protocol
_PROTOCOL_TYPES = "string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false"


@debug_subcommand("protocol", args=(1, 1), help=(
    "PROTOCOL <type>", "    Reply with a test value of the specified type. <type> can be: string,",
    "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,", "    true, false."))
def debug_protocol(c: Client, name: bytes):
    n = name.lower()
    if n == b"string":
        return b"Hello World"
    if n == b"integer":
        return 12345
    if n == b"double":
        return 3.141
    if n == b"bignum":
        return BigNumber(1234567999999999999999999999999999999)
    if n == b"null":
        return None
    if n == b"array":
        return [0, 1, 2]
    if n == b"set":
        return SetReply([0, 1, 2])
    if n == b"map":
        return {0: False, 1: True, 2: False}
    if n == b"attrib":
        tail = b"$39\r\nSome real reply following the attribute\r\n"
        if c.resp >= 3:
            return Raw(b"|1\r\n$14\r\nkey-popularity\r\n*2\r\n$7\r\nkey:123\r\n:90\r\n" + tail)
        return Raw(tail)
    if n == b"push":
        if c.resp < 3:
            raise errors.err("RESP2 is not supported by this command")
        from ..protocol.encoder import encode
        return Raw(encode(Push([b"server-cpu-usage", 42]), True)
                   + b"$40\r\nSome real reply following the push reply\r\n")
    if n == b"true":
        return True
    if n == b"false":
        return False
    if n == b"verbatim":
        return Verbatim("This is a verbatim\nstring")
    raise errors.err(f"Wrong protocol type name. Please use one of the following: {_PROTOCOL_TYPES}")


# ---------------------------------------------------------------------- server behaviour
@debug_subcommand("sleep", args=(1, 1), help=("SLEEP <seconds>", "    Stop the server for <seconds>. Decimals allowed."))
def debug_sleep(c: Client, secs: bytes):
    time.sleep(max(parse_float(secs), 0))
    return OK


@debug_subcommand("set-active-expire", args=(1, 1), help=(
    "SET-ACTIVE-EXPIRE <0|1>",
    "    Setting it to 0 disables expiring keys in background when they are not",
    "    accessed (otherwise the server does it automatically). Setting it to 1 restores the default."))
def debug_set_active_expire(c: Client, flag: bytes):
    c.server.active_expire_enabled = parse_int(flag) != 0
    return OK


@debug_subcommand("pause-cron", args=(1, 1), help=(
    "PAUSE-CRON <0|1>", "    Stop periodic cron job processing."))
def debug_pause_cron(c: Client, flag: bytes):
    c.server.cron_paused = parse_int(flag) != 0
    return OK


@debug_subcommand("change-repl-id", help=("CHANGE-REPL-ID", "    Change the replication IDs of the instance."))
def debug_change_repl_id(c: Client):
    hook = getattr(c.server, "change_replication_id", None)
    if hook is not None:
        hook()
    return OK


@debug_subcommand("populate", args=(1, 3), help=(
    "POPULATE <count> [<prefix>] [<size>]",
    "    Create <count> string keys named key:<num>. If <prefix> is specified then",
    "    it is used instead of the 'key' prefix. These are not propagated to",
    "    replicas. Cluster slots are not respected so keys not belonging to the",
    "    current node can be created in cluster mode."))
def debug_populate(c: Client, count_arg: bytes, *opts: bytes):
    count = parse_int(count_arg, errors.err("value is out of range, must be positive"))
    if count < 0:
        raise errors.err("value is out of range, must be positive")
    prefix = opts[0] if opts else b"key"
    size = 0
    if len(opts) > 1:
        size = parse_int(opts[1], errors.err("value is out of range, must be positive"))
        if size < 0:
            raise errors.err("value is out of range, must be positive")
    db = c.db
    data = db.data
    for i in range(count):
        key = b"%s:%d" % (prefix, i)
        if key in data and not db.is_expired(key):
            continue
        value = b"value:%d" % i
        if size:
            value = value[:size] if len(value) >= size else value + b"\x00" * (size - len(value))
        db.set(key, value)
    return OK


@debug_subcommand("quicklist-packed-threshold", args=(1, 1), help=(
    "QUICKLIST-PACKED-THRESHOLD <size>",
    "    Sets the threshold for elements to be inserted as plain vs packed nodes",
    "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default."))
def debug_packed_threshold(c: Client, arg: bytes):
    """Elements this long go to plain quicklist nodes (0 restores the 1GB default)."""
    from ..config import ConfigError, _parse_memory
    from ..datatypes.listtype import set_packed_threshold
    try:
        size = _parse_memory(arg.decode("latin-1"))
    except ConfigError:
        size = -1
    if size < 0 or size > (1 << 32) - (1 << 20):
        raise errors.err("argument must be a memory value bigger than 1 and smaller than 4gb")
    set_packed_threshold(size)
    return OK
