"""Reply value types. Commands return plain Python values; these markers cover what plain
values cannot say (simple strings, sets, pushes, verbatim text, a null array)."""
from __future__ import annotations


class Raw(bytes):
    """Bytes already encoded as RESP, written out unchanged (``+OK``, ``:1``...)."""
    __slots__ = ()


class Simple(str):
    """A simple string (``+PONG``)."""
    __slots__ = ()


class SetReply(list):
    """A set: ``~`` in RESP3, an array in RESP2."""
    __slots__ = ()


class Push(list):
    """An out-of-band message: ``>`` in RESP3, an array in RESP2."""
    __slots__ = ()


class Pushes(list):
    """Several push messages that together are one command's reply (the SUBSCRIBE family
    confirms each channel with its own push); sent even under CLIENT REPLY OFF."""
    __slots__ = ()


class Verbatim(str):
    """Verbatim text: ``=`` with format ``txt`` in RESP3, a bulk string in RESP2."""
    __slots__ = ()


class BigNumber(int):
    """A big number: ``(`` in RESP3, a bulk string in RESP2."""
    __slots__ = ()


class _NullArray:
    """The RESP2 null array (``*-1``); a null in RESP3."""
    __slots__ = ()


class DoubleReply(float):
    """A double that RESP2 sends as a bulk string (scores); ``,`` in RESP3."""
    __slots__ = ()


NULL_ARRAY = _NullArray()
OK = Raw(b"+OK\r\n")
QUEUED = Raw(b"+QUEUED\r\n")
PONG = Raw(b"+PONG\r\n")
