"""The reference request parser, in pure Python.

It follows Valkey's ``processMultibulkBuffer``/``processInlineBuffer`` rule for rule (limits,
error texts, inline quoting), so it is both the specification the fast hiredis-backed reader
is tested against and the path that produces the exact protocol error when that reader
meets something it cannot judge.
"""
from __future__ import annotations

INLINE_MAX = 64 * 1024          # PROTO_INLINE_MAX_SIZE
MBULK_BIG_ARG = 32 * 1024       # PROTO_MBULK_BIG_ARG
INT_MAX = 2**31 - 1


def _to_int(line: bytes) -> int | None:
    """Valkey's string2ll: optional '-', digits, no spaces, no '+', no leading zeros."""
    if not line or len(line) > 20:
        return None
    if line == b"0":
        return 0
    neg = line[:1] == b"-"
    digits = line[1:] if neg else line
    if not digits or not digits.isdigit() or digits[:1] == b"0" or not digits.isascii():
        return None
    value = int(digits)
    value = -value if neg else value
    if value < -(2**63) or value > 2**63 - 1:
        return None
    return value


_ESCAPES = {ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("b"): 8, ord("a"): 7}
_HEX = b"0123456789abcdefABCDEF"
_BLANK = b" \t\n\v\f\r"      # isspace(): skipped between words, allowed after a closing quote
_SPACE = b" \n\r\t"          # what ends an unquoted word (\v and \f do not)


def split_args(line: bytes) -> list[bytes] | None:
    """Valkey's sdssplitargs: shell-like words, "..." with escapes and '...'. None if unbalanced.

    The C code reads a NUL-terminated string, so anything from the first NUL on is ignored."""
    z = line.find(b"\0")
    if z >= 0:
        line = line[:z]
    out: list[bytes] = []
    i, n = 0, len(line)
    while True:
        while i < n and line[i] in _BLANK:
            i += 1
        if i >= n:
            return out
        cur = bytearray()
        inq = insq = False
        while True:
            if inq:
                if i >= n:
                    return None
                c = line[i]
                if (c == 92 and i + 3 < n and line[i + 1] == ord("x")
                        and line[i + 2] in _HEX and line[i + 3] in _HEX):
                    cur.append(int(line[i + 2:i + 4], 16))
                    i += 3
                elif c == 92 and i + 1 < n:
                    i += 1
                    cur.append(_ESCAPES.get(line[i], line[i]))
                elif c == 34:
                    if i + 1 < n and line[i + 1] not in _BLANK:
                        return None
                    i += 1
                    break
                else:
                    cur.append(c)
            elif insq:
                if i >= n:
                    return None
                c = line[i]
                if c == 92 and i + 1 < n and line[i + 1] == 39:
                    i += 1
                    cur.append(39)
                elif c == 39:
                    if i + 1 < n and line[i + 1] not in _BLANK:
                        return None
                    i += 1
                    break
                else:
                    cur.append(c)
            else:
                if i >= n:
                    break
                c = line[i]
                if c in _SPACE:
                    break
                if c == 34:
                    inq = True
                elif c == 39:
                    insq = True
                else:
                    cur.append(c)
            i += 1
        out.append(bytes(cur))


class RequestParser:
    """Turns bytes into argv lists. ``feed`` returns the complete commands; on a malformed
    request it returns those that came before it and sets ``error`` (the text after ``ERR``)."""

    def __init__(self, max_bulk_len: int = 512 * 1024 * 1024) -> None:
        self.max_bulk_len = max_bulk_len
        self.unauthenticated = False  # stricter limits until AUTH, as Valkey
        self.buf = bytearray()
        self.pos = 0
        self.error: str | None = None
        self._left = 0          # bulk strings still expected in the current multibulk
        self._argv: list[bytes] = []
        self._bulk = -1         # length of the bulk being read, -1 when reading a header
        self.inline = False     # the last complete command came inline

    def pending(self) -> int:
        return len(self.buf) - self.pos

    def feed(self, data: bytes) -> list[list[bytes]]:
        if self.error is not None:
            return []
        self.buf += data
        out: list[list[bytes]] = []
        while self.pos < len(self.buf):
            if self._left == 0 and not self._argv:
                if self.buf[self.pos] == 42:  # '*'
                    if not self._multibulk_header():
                        break
                    if self._left == 0:
                        continue
                else:
                    cmd = self._inline()
                    if cmd is None:
                        break
                    if cmd:
                        self.inline = True
                        out.append(cmd)
                    continue
            cmd = self._bulks()
            if cmd is None:
                break
            self.inline = False
            out.append(cmd)
        if self.pos > 4096 or self.pos == len(self.buf):
            del self.buf[:self.pos]
            self.pos = 0
        return out

    def _find(self, char: bytes) -> int:
        """strchr() on the query buffer: the first ``char`` after pos, or -1 if a NUL comes first
        (Valkey's buffer is a C string there, so it waits for more data)."""
        i = self.buf.find(char, self.pos)
        if i >= 0 and self.buf.find(b"\0", self.pos, i) >= 0:
            return -1
        return i

    def _fail(self, text: str) -> None:
        self.error = "Protocol error: " + text

    def _inline(self) -> list[bytes] | None:
        nl = self._find(b"\n")
        if nl < 0:
            if len(self.buf) - self.pos > INLINE_MAX:
                self._fail("too big inline request")
            return None
        line = bytes(self.buf[self.pos:nl])
        if line.endswith(b"\r"):
            line = line[:-1]
        args = split_args(line)
        if args is None:
            self._fail("unbalanced quotes in request")
            return None
        self.pos = nl + 1
        return args

    def _multibulk_header(self) -> bool:
        end = self._find(b"\r")  # Valkey looks for '\r' and skips the byte after it
        if end < 0:
            if len(self.buf) - self.pos > INLINE_MAX:
                self._fail("too big mbulk count string")
            return False
        if end + 2 > len(self.buf):
            return False
        count = _to_int(bytes(self.buf[self.pos + 1:end]))
        if count is None or count > INT_MAX:
            self._fail("invalid multibulk length")
            return False
        if self.unauthenticated and count > 10:
            self._fail("unauthenticated multibulk length")
            return False
        self.pos = end + 2
        self._left = max(count, 0)
        self._argv = []
        return True

    def _bulks(self) -> list[bytes] | None:
        buf = self.buf
        while self._left:
            if self._bulk < 0:
                end = self._find(b"\r")
                if end < 0:
                    if len(buf) - self.pos > INLINE_MAX:
                        self._fail("too big bulk count string")
                    return None
                if end + 2 > len(buf):
                    return None
                if buf[self.pos] != 36:  # '$'
                    self._fail(f"expected '$', got '{chr(buf[self.pos])}'")
                    return None
                size = _to_int(bytes(buf[self.pos + 1:end]))
                if size is None or size < 0 or size > self.max_bulk_len:
                    self._fail("invalid bulk length")
                    return None
                if self.unauthenticated and size > 16384:
                    self._fail("unauthenticated bulk length")
                    return None
                self.pos = end + 2
                self._bulk = size
            if len(buf) - self.pos < self._bulk + 2:
                return None
            self._argv.append(bytes(buf[self.pos:self.pos + self._bulk]))
            self.pos += self._bulk + 2
            self._bulk = -1
            self._left -= 1
        argv, self._argv = self._argv, []
        return argv
