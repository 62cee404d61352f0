"""Conversions between the server and Lua, as Valkey's script_lua.c makes them.

Arguments (Lua -> command): strings as they are; numbers that are integers within +-2^62 in
integer form, others with Valkey's shortest double format; anything else is an error.

Replies (command -> Lua), as the script's protocol (``server.setresp``) sees them:

==========================  ======================  ==============================
reply                       RESP2 script            RESP3 script
==========================  ======================  ==============================
bulk string                 string                  string
integer                     number                  number
null (bulk or array)        false                   nil
simple string               {ok=s}                  {ok=s}
error                       {err=s} (raised by      {err=s}
                            ``call``)
array / push                table (stops at nil)    table
map                         flat table              {map={k=v}}
set                         table                   {set={k=true}}
double                      string                  {double=n}
boolean                     1 or false... as ints   true / false
big number                  string                  {big_number=s}
verbatim string             string                  {verbatim_string={format, string}}
==========================  ======================  ==============================

The other direction (a script's return value -> RESP) is written in Lua in the prelude
(it needs raw table access), see ``to_resp`` there.
"""
from __future__ import annotations

from typing import Any

from ..errors import CommandError
from ..protocol.dtoa import d2string
from ..protocol.replies import NULL_ARRAY, BigNumber, DoubleReply, Push, Raw, SetReply, Simple, Verbatim

_ERR = object()                        # marker: the value is an error message (bytes)


def arg_bytes(v: Any) -> bytes | None:
    """One ``server.call`` argument as a command argument; None when it is not a string or
    a number (Valkey's luaArgsToRedisArgv)."""
    cls = v.__class__
    if cls is bytes:
        return v
    if cls is int:
        if -(2**62) <= v <= 2**62:
            return b"%d" % v
        return d2string(float(v))
    if cls is float:
        return d2string(v)
    return None


def error_message(text: str | bytes) -> bytes:
    """Valkey's luaPushErrorBuff: ``-CODE msg`` keeps its code, a message without one gets
    ``ERR``; the result is ``CODE msg`` with no trailing newline."""
    b = text if isinstance(text, bytes) else text.encode("utf-8", "surrogateescape")
    if b[:1] == b"-":
        sp = b.find(b" ")
        if sp < 0:
            code, msg = b"ERR", b[1:]
        else:
            code, msg = b[1:sp], b[sp + 1:]
    else:
        code, msg = b"ERR", b
    return code + b" " + msg.strip(b"\r\n")


class ToLua:
    """Command replies as Lua values, for one Lua runtime."""

    __slots__ = ("lua", "table_from")

    def __init__(self, lua: Any) -> None:
        self.lua = lua
        self.table_from = lua.table_from

    def convert(self, reply: Any, resp3: bool) -> Any:
        """The Lua value of ``reply``; errors become ``{err=...}`` tables here (``call``
        raises them itself before getting here)."""
        cls = reply.__class__
        if cls is bytes or cls is int:
            return reply
        if reply is None or reply is NULL_ARRAY:
            return None if resp3 else False
        if cls is list or cls is tuple or cls is Push:
            return self.table_from([self.convert(x, resp3) for x in reply])
        if cls is Raw:
            return self.convert(parse_resp(reply), resp3)
        if cls is Simple:
            return self.table_from({b"ok": reply.encode("utf-8", "surrogateescape")})
        if isinstance(reply, CommandError):
            return self.table_from({b"err": error_message(b"-" + reply.message.encode("utf-8", "surrogateescape")),
                                    b"ignore_error_stats_update": True})
        if cls is ErrorReply:
            return self.table_from({b"err": error_message(b"-" + reply.message),
                                    b"ignore_error_stats_update": True})
        if cls is dict or cls is _Map:
            if resp3:
                m = self.lua.table()
                for k, v in reply.items():
                    key = self.convert(k, True)
                    if key is not None:
                        m[key] = self.convert(v, True)
                return self.table_from({b"map": m})
            flat = []
            for k, v in reply.items():
                flat.append(k)
                flat.append(v)
            return self.convert(flat, False)
        if cls is SetReply or isinstance(reply, (set, frozenset)):
            if resp3:
                s = self.lua.table()
                for x in reply:
                    key = self.convert(x, True)
                    if key is not None:
                        s[key] = True
                return self.table_from({b"set": s})
            return self.convert(list(reply), False)
        if cls is bool:
            if resp3:
                return reply
            return 1 if reply else 0
        if cls is float or cls is DoubleReply:
            if resp3:
                return self.table_from({b"double": float(reply)})
            return d2string(float(reply))
        if cls is BigNumber or cls is _BigNumber:
            text = b"%d" % reply if cls is BigNumber else reply.text
            if resp3:
                return self.table_from({b"big_number": text})
            return text
        if cls is Verbatim or cls is _Verbatim:
            if cls is Verbatim:
                fmt, text = b"txt", reply.encode("utf-8", "surrogateescape")
            else:
                fmt, text = reply.fmt, reply.text
            if resp3:
                return self.table_from({b"verbatim_string": self.table_from({b"format": fmt, b"string": text})})
            return text
        if cls is str:
            return reply.encode("utf-8", "surrogateescape")
        if cls is bytearray or cls is memoryview:
            return bytes(reply)
        if isinstance(reply, int):
            return int(reply)
        raise TypeError(f"cannot convert a reply of type {cls.__name__} for Lua")


# ---------------------------------------------------------------------- RESP replies
class ErrorReply:
    __slots__ = ("message",)

    def __init__(self, message: bytes) -> None:
        self.message = message


class _BigNumber:
    __slots__ = ("text",)

    def __init__(self, text: bytes) -> None:
        self.text = text


class _Verbatim:
    __slots__ = ("fmt", "text")

    def __init__(self, fmt: bytes, text: bytes) -> None:
        self.fmt = fmt
        self.text = text


def parse_resp(data: bytes) -> Any:
    """One reply in RESP bytes (a command's pre-encoded reply) as reply values; attributes
    are skipped, as scripts do not see them."""
    value, _ = _parse(data, 0)
    return value


def _line(data: bytes, pos: int) -> tuple[bytes, int]:
    end = data.index(b"\r\n", pos)
    return data[pos:end], end + 2


def _parse(data: bytes, pos: int) -> tuple[Any, int]:
    kind = data[pos:pos + 1]
    text, pos = _line(data, pos + 1)
    if kind == b"+":
        return Simple(text.decode("utf-8", "surrogateescape")), pos
    if kind == b"-":
        return ErrorReply(text), pos
    if kind == b":":
        return int(text), pos
    if kind == b"$" or kind == b"=":
        n = int(text)
        if n < 0:
            return None, pos
        body = data[pos:pos + n]
        pos += n + 2
        if kind == b"=":
            return _Verbatim(body[:3], body[4:]), pos
        return body, pos
    if kind == b"_":
        return None, pos
    if kind == b"#":
        return text == b"t", pos
    if kind == b",":
        return float(text), pos
    if kind == b"(":
        return _BigNumber(text), pos
    if kind in (b"*", b">", b"~"):
        n = int(text)
        if n < 0:
            return None, pos
        items = []
        for _ in range(n):
            v, pos = _parse(data, pos)
            items.append(v)
        return (SetReply(items) if kind == b"~" else items), pos
    if kind == b"%":
        n = int(text)
        pairs = []
        for _ in range(n):
            k, pos = _parse(data, pos)
            v, pos = _parse(data, pos)
            pairs.append((k, v))
        return _Map(pairs), pos
    if kind == b"|":
        n = int(text)
        for _ in range(2 * n):
            _, pos = _parse(data, pos)
        return _parse(data, pos)
    raise ValueError(f"unknown RESP type {kind!r}")


class _Map(dict):
    """A map parsed from RESP (keys may repeat or be unhashable, so kept as pairs)."""

    def __init__(self, pairs: list) -> None:
        super().__init__()
        self.pairs = pairs

    def items(self):  # type: ignore[override]
        return self.pairs
