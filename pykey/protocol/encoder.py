"""Reply encoding: Python values in, RESP2 or RESP3 bytes out. Only this module knows the
difference between the two protocols."""
from __future__ import annotations

from ..errors import CommandError
from .dtoa import d2string
from .replies import NULL_ARRAY, BigNumber, DoubleReply, Push, Pushes, Raw, SetReply, Simple, Verbatim

NULL2 = b"$-1\r\n"
NULL3 = b"_\r\n"
_INT_CACHE = [b":%d\r\n" % i for i in range(10001)]


def format_double(d: float) -> bytes:
    """Valkey's d2string: integers within +-2^62 as integers, else its Grisu2 fpconv_dtoa
    (see protocol/dtoa.py)."""
    return d2string(d)


def bulk(b: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(b), b)


def encode_command(argv: list[bytes] | tuple[bytes, ...]) -> bytes:
    """An array of bulk strings, the form a command travels in from a client, in the AOF
    and in the replication stream (whatever the protocol version of anyone's replies)."""
    return b"*%d\r\n" % len(argv) + b"".join([b"$%d\r\n%s\r\n" % (len(a), a) for a in argv])


def encode_in_db(dbid: int, seldb: int, argv: list[bytes]) -> bytes:
    """``argv`` for a stream (AOF, replicas) whose selected database is ``seldb``: after a
    SELECT when it is in another database (``dbid`` -1: MULTI/EXEC, in none)."""
    if dbid >= 0 and dbid != seldb:
        return encode_command([b"SELECT", b"%d" % dbid]) + encode_command(argv)
    return encode_command(argv)


def encode(value: object, resp3: bool = False) -> bytes:
    """Encode one reply. Hot types are tested first."""
    cls = value.__class__
    if cls is bytes:
        return b"$%d\r\n%s\r\n" % (len(value), value)
    if cls is Raw:
        return value
    if cls is int:
        return _INT_CACHE[value] if 0 <= value <= 10000 else b":%d\r\n" % value
    if value is None:
        return NULL3 if resp3 else NULL2
    parts: list[bytes] = []
    _encode_into(value, resp3, parts)
    return b"".join(parts)


_ONLY_BYTES = {bytes}
_BULKS_MIN = 8          # shorter arrays gain nothing from the table path (measured)
_HEADS = [b"\r\n$%d\r\n" % n for n in range(1024)]     # what ends one bulk and starts the next


def _bulks(items: list | tuple) -> bytes | None:
    """The elements of an array that holds only bulk strings (LRANGE, SMEMBERS, ZRANGE...),
    encoded with C-speed passes and no per-element Python code: the headers come from a
    table, interleaved with the strings by slice assignment. None for any other array.
    About 2.5x faster than formatting each element. (Raw is a bytes subclass: type()
    keeps it out.)"""
    if set(map(type, items)) != _ONLY_BYTES:
        return None
    try:
        heads = list(map(_HEADS.__getitem__, map(len, items)))
    except IndexError:                      # a string of 1 KB or more
        return b"".join([b"$%d\r\n%s\r\n" % (len(v), v) for v in items])
    heads[0] = heads[0][2:]
    n = 2 * len(items)
    parts = [b"\r\n"] * (n + 1)
    parts[0:n:2] = heads
    parts[1:n:2] = items
    return b"".join(parts)


def _encode_into(value: object, resp3: bool, out: list[bytes]) -> None:
    cls = value.__class__
    if cls is bytes or cls is bytearray or cls is memoryview:
        out.append(b"$%d\r\n%s\r\n" % (len(value), value))
    elif cls is Raw:
        out.append(value)
    elif cls is int:
        out.append(b":%d\r\n" % value)
    elif value is None:
        out.append(NULL3 if resp3 else NULL2)
    elif cls is list or cls is tuple:
        out.append(b"*%d\r\n" % len(value))
        if len(value) >= _BULKS_MIN and (flat := _bulks(value)) is not None:
            out.append(flat)
        else:
            for v in value:
                _encode_into(v, resp3, out)
    elif cls is dict:
        if resp3:
            out.append(b"%%%d\r\n" % len(value))
        else:
            out.append(b"*%d\r\n" % (2 * len(value)))
        for k, v in value.items():
            _encode_into(k, resp3, out)
            _encode_into(v, resp3, out)
    elif cls is Simple:
        out.append(b"+%s\r\n" % value.encode("utf-8", "surrogateescape"))
    elif isinstance(value, CommandError):
        msg = value.message.replace("\r", " ").replace("\n", " ")
        out.append(b"-%s\r\n" % msg.encode("utf-8", "surrogateescape"))
    elif cls is str:
        out.append(bulk(value.encode("utf-8", "surrogateescape")))
    elif cls is float or cls is DoubleReply:
        if resp3:
            out.append(b",%s\r\n" % format_double(value))
        else:
            out.append(bulk(format_double(value)))
    elif cls is bool:
        if resp3:
            out.append(b"#t\r\n" if value else b"#f\r\n")
        else:
            out.append(b":1\r\n" if value else b":0\r\n")
    elif cls is SetReply:
        out.append((b"~%d\r\n" if resp3 else b"*%d\r\n") % len(value))
        if len(value) >= _BULKS_MIN and (flat := _bulks(value)) is not None:
            out.append(flat)
        else:
            for v in value:
                _encode_into(v, resp3, out)
    elif cls is Push:
        out.append((b">%d\r\n" if resp3 else b"*%d\r\n") % len(value))
        if len(value) >= _BULKS_MIN and (flat := _bulks(value)) is not None:
            out.append(flat)
        else:
            for v in value:
                _encode_into(v, resp3, out)
    elif cls is Pushes:
        for v in value:
            _encode_into(v, resp3, out)
    elif cls is Verbatim:
        data = value.encode("utf-8", "surrogateescape")
        if resp3:
            out.append(b"=%d\r\ntxt:%s\r\n" % (len(data) + 4, data))
        else:
            out.append(bulk(data))
    elif cls is BigNumber:
        out.append(b"(%d\r\n" % value if resp3 else bulk(b"%d" % value))
    elif value is NULL_ARRAY:
        out.append(NULL3 if resp3 else b"*-1\r\n")
    elif isinstance(value, (set, frozenset)):
        _encode_into(SetReply(value), resp3, out)
    else:  # pragma: no cover - a command returned a type the protocol cannot carry
        raise TypeError(f"cannot encode reply of type {cls.__name__}")

