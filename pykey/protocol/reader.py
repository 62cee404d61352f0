"""The request reader used by connections: hiredis for speed, the reference parser for truth.

hiredis parses well-formed multibulk requests about three times faster than Python can, but
it cannot read inline commands, enforces no size limits, accepts integers, nulls and nested
arrays inside a request, and is unusable after its first error. So:

* a request that does not start with ``*`` at a command boundary goes to the reference
  parser (inline commands from telnet, ``redis-cli`` pipes, tests);
* while a request is incomplete, a shadow reference parser reads its bytes (only those after
  the last complete command), so a too-large bulk or multibulk length is refused the moment
  its header arrives, as Valkey does;
* anything hiredis rejects or returns in a shape Valkey would not accept is re-parsed from the
  last command boundary by the reference parser, which produces Valkey's exact error text.
"""
from __future__ import annotations

import re

from .encoder import encode_command
from .parser import RequestParser

try:
    import hiredis
except ImportError:  # pragma: no cover - hiredis is a dependency; this keeps pure-Python use possible
    hiredis = None


# Items hiredis returns as plain bytes or lists although Valkey refuses them in a request:
# simple strings, verbatim strings and big numbers inside an array, sets, attributes, maps
# and pushes. Their type byte starts a line; seeing one (even inside bulk data) sends the
# bytes to the reference parser, which is exact but slower.
# Also array headers of seven characters or more (a million elements and up): hiredis
# allocates the whole list when it reads the header, and freeing a reader that holds
# ``*2147483647`` (16 GB of address space) blocks the event loop for seconds.
_SUSPECT = re.compile(rb"\n(?:[+=(~|%>]|\*[^\r\n]{7})")
_BIG_ARRAY = re.compile(rb"\*[^\r\n]{7}")


class RequestReader:
    __slots__ = ("max_bulk_len", "unauthenticated", "error", "_hr", "_py", "_chunks",
                 "_shadow", "pending_bytes")

    def __init__(self, max_bulk_len: int = 512 * 1024 * 1024) -> None:
        self.max_bulk_len = max_bulk_len
        self.unauthenticated = False
        self.error: str | None = None
        self._hr = hiredis.Reader() if hiredis is not None else None
        self._py: RequestParser | None = None     # set while the reference parser drives
        self._chunks: list[bytes] = []            # bytes of the unfinished request, if any
        self._shadow: RequestParser | None = None  # reads those bytes too, to judge them
        self.pending_bytes = 0                    # unparsed bytes held (query buffer size)

    def feed(self, data: bytes) -> list[list[bytes]]:
        if self.error is not None or not data:
            return []
        if self._py is None and (self._hr is None or self.unauthenticated
                                 or (not self._chunks and data[0] != 42)):
            self._py = self._new_parser()
        if self._py is not None:
            return self._feed_reference(data)
        hr = self._hr
        if (_SUSPECT.search(data) is not None or _BIG_ARRAY.match(data) is not None
                or (self._chunks and (self._chunks[-1][-1] == 10 and data[0] in b"+=(~|%>"
                                      or _BIG_ARRAY.search(self._chunks[-1][-9:] + data[:9]) is not None))):
            self._chunks.append(data)
            return self._reparse([])
        hr.feed(data)
        self._chunks.append(data)
        # Only when this many bytes are held can an argument exceed proto-max-bulk-len.
        check_len = (len(data) > self.max_bulk_len
                     or (len(self._chunks) > 1 and sum(map(len, self._chunks)) > self.max_bulk_len))
        limit = self.max_bulk_len
        out: list[list[bytes]] = []
        last = None
        empties = 0
        try:
            while True:
                cmd = hr.gets()
                if cmd is False:
                    break
                last = cmd
                if cmd.__class__ is not list:
                    # None is *-1 (skipped by Valkey) but also $-1 or _ (inline text to Valkey)
                    return self._reparse(out)
                for arg in cmd:
                    if arg.__class__ is not bytes or (check_len and len(arg) > limit):
                        return self._reparse(out)
                if cmd:
                    out.append(cmd)
                else:
                    empties += 1
        except Exception:  # ProtocolError, or TypeError on a map with list keys
            return self._reparse(out)
        if not hr.has_data() and last is not None and self._at_boundary(data, out, empties, last):
            self._chunks = []                     # at a command boundary: the usual case
            self._shadow = None
            self.pending_bytes = 0
            return out
        return self._mid_request(data, out, empties)

    def _at_boundary(self, data: bytes, out: list[list[bytes]], empties: int, last: list) -> bool:
        """Did hiredis stop exactly after a command? A suffix match alone is fooled by nested
        arrays (``*2\r\n*0\r\n`` ends like ``*0``), so it is trusted only when the chunk holds no
        '*' beyond one per command; otherwise the consumed length is counted exactly."""
        if not data.endswith(encode_command(last)):
            return False
        if len(self._chunks) == 1 and data.count(b"*") == len(out) + empties:
            return True
        held = sum(map(len, self._chunks))
        return held == sum(map(_encoded_len, out)) + 4 * empties

    def _mid_request(self, data: bytes, out: list[list[bytes]], empties: int) -> list[list[bytes]]:
        """hiredis stopped inside a request (has_data() is no guide: it swallows a lone '*'
        or whole elements). Keep only the bytes after the last complete command, and let the
        shadow parser judge them: Valkey refuses an oversized length as soon as it is read,
        and reads some items hiredis waits on ('%1', '$3' at a boundary) as inline lines."""
        if out or empties:
            held = b"".join(self._chunks)
            consumed = sum(map(len, map(encode_command, out))) + 4 * empties  # "*0\r\n" each
            tail = held[consumed:]
            if not tail:
                self._chunks = []
                self._shadow = None
                self.pending_bytes = 0
                return out
            self._chunks = [tail]
            self._shadow = self._new_parser()
            seen = self._shadow.feed(tail)
        else:
            if self._shadow is None:
                self._shadow = self._new_parser()
                seen = self._shadow.feed(b"".join(self._chunks))
            else:
                seen = self._shadow.feed(data)
        if seen:
            return out + self._reparse([])
        self.pending_bytes = self._shadow.pending()
        if self._shadow.error is not None:
            self.error = self._shadow.error
        return out

    def _new_parser(self) -> RequestParser:
        p = RequestParser(self.max_bulk_len)
        p.unauthenticated = self.unauthenticated
        return p

    def _feed_reference(self, data: bytes) -> list[list[bytes]]:
        py = self._py
        py.unauthenticated = self.unauthenticated
        out = py.feed(data)
        self.error = py.error
        self.pending_bytes = py.pending()
        if py.pending() == 0 and not py._argv and py._left == 0 and self._hr is not None:
            self._py = None  # back at a boundary: hand over to hiredis again
            self._hr = hiredis.Reader()
        return out

    def _reparse(self, out: list[list[bytes]]) -> list[list[bytes]]:
        """hiredis met something Valkey reads differently: replay from the boundary."""
        py = self._new_parser()
        fresh = py.feed(b"".join(self._chunks))
        self._chunks = []
        self._shadow = None
        self.error = py.error
        self._py = py
        self._hr = hiredis.Reader()
        if py.pending() == 0 and py.error is None and not py._argv and py._left == 0:
            self._py = None
        self.pending_bytes = py.pending()
        return fresh


def _encoded_len(cmd: list[bytes]) -> int:
    """Bytes of ``cmd`` as a multibulk request, without building it."""
    n = len(str(len(cmd))) + 3
    for a in cmd:
        n += len(str(len(a))) + len(a) + 5
    return n
