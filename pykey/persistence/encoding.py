"""The RDB format's building blocks: type and opcode numbers, lengths, strings (raw, as
8/16/32-bit integers, or LZF-compressed), doubles and timestamps, written by
:class:`RdbWriter` and read back by :class:`RdbReader` (``rdb.c``'s rdbSave*/rdbLoad*).

The writer appends to a buffer and hands full chunks to a file (folding them into the
running CRC64) or keeps everything for a DUMP payload. The reader walks an in-memory
buffer with bounds checks: running past the end raises :class:`RdbError`, so a truncated
file is reported, never half-loaded.
"""
from __future__ import annotations

import struct
from typing import BinaryIO

from . import lzf
from .crc64 import crc64
from .listpack import string_to_int

RDB_VERSION = 11                 # what we write (Valkey 8, Redis 7.2)
RDB_VERSION_VALKEY9 = 80         # Valkey 9 ("VALKEY080"), written when a hash has field TTLs

# object types
TYPE_STRING = 0
TYPE_LIST = 1
TYPE_SET = 2
TYPE_ZSET = 3
TYPE_HASH = 4
TYPE_ZSET_2 = 5
TYPE_MODULE_PRE_GA = 6
TYPE_MODULE_2 = 7
TYPE_HASH_ZIPMAP = 9
TYPE_LIST_ZIPLIST = 10
TYPE_SET_INTSET = 11
TYPE_ZSET_ZIPLIST = 12
TYPE_HASH_ZIPLIST = 13
TYPE_LIST_QUICKLIST = 14
TYPE_STREAM_LISTPACKS = 15
TYPE_HASH_LISTPACK = 16
TYPE_ZSET_LISTPACK = 17
TYPE_LIST_QUICKLIST_2 = 18
TYPE_STREAM_LISTPACKS_2 = 19
TYPE_SET_LISTPACK = 20
TYPE_STREAM_LISTPACKS_3 = 21
TYPE_HASH_2 = 22                 # Valkey 9 (RDB 80): hash with per-field expiry times

# opcodes
OPCODE_FUNCTION2 = 245
OPCODE_FUNCTION_PRE_GA = 246
OPCODE_MODULE_AUX = 247
OPCODE_IDLE = 248
OPCODE_FREQ = 249
OPCODE_AUX = 250
OPCODE_RESIZEDB = 251
OPCODE_EXPIRETIME_MS = 252
OPCODE_EXPIRETIME = 253
OPCODE_SELECTDB = 254
OPCODE_EOF = 255

QUICKLIST_NODE_PLAIN = 1
QUICKLIST_NODE_PACKED = 2

_ENC_INT8, _ENC_INT16, _ENC_INT32, _ENC_LZF = 0, 1, 2, 3
_pack_h = struct.Struct("<h").pack
_pack_i = struct.Struct("<i").pack
_pack_q = struct.Struct("<q").pack
_pack_d = struct.Struct("<d").pack
_pack_BE_I = struct.Struct(">I").pack
_pack_BE_Q = struct.Struct(">Q").pack
_unpack_h = struct.Struct("<h").unpack_from
_unpack_i = struct.Struct("<i").unpack_from
_unpack_q = struct.Struct("<q").unpack_from
_unpack_d = struct.Struct("<d").unpack_from
_unpack_BE_I = struct.Struct(">I").unpack_from
_unpack_BE_Q = struct.Struct(">Q").unpack_from
_FLUSH_AT = 1 << 16


class RdbError(ValueError):
    """An RDB file or DUMP payload that cannot be loaded; the text says why."""


def encode_length(n: int) -> bytes:
    """rdbSaveLen: 6, 14, 32 or 64 bits."""
    if n < 64:
        return bytes((n,))
    if n < 16384:
        return bytes((0x40 | (n >> 8), n & 0xFF))
    if n <= 0xFFFFFFFF:
        return b"\x80" + _pack_BE_I(n)
    return b"\x81" + _pack_BE_Q(n)


class RdbWriter:
    """Serializes into ``buf``; with ``out`` set, full chunks go to that file and into
    ``crc`` (the running CRC64 of everything written so far)."""

    __slots__ = ("buf", "out", "crc", "compress", "checksum", "written")

    def __init__(self, out: BinaryIO | None = None, compress: bool = True, checksum: bool = True) -> None:
        self.buf = bytearray()
        self.out = out
        self.crc = 0
        self.compress = compress
        self.checksum = checksum
        self.written = 0

    def flush(self) -> None:
        buf = self.buf
        if self.out is None or not buf:
            return
        data = bytes(buf)
        if self.checksum:
            self.crc = crc64(data, self.crc)
        self.out.write(data)
        self.written += len(data)
        buf.clear()

    def maybe_flush(self) -> None:
        if self.out is not None and len(self.buf) >= _FLUSH_AT:
            self.flush()

    def raw(self, data: bytes) -> None:
        self.buf += data

    def byte(self, b: int) -> None:
        self.buf.append(b)

    def length(self, n: int) -> None:
        if n < 64:
            self.buf.append(n)
        else:
            self.buf += encode_length(n)

    def string(self, s: bytes | bytearray | memoryview) -> None:
        """rdbSaveRawString: an integer encoding when ``s`` spells a 32-bit integer, LZF
        when compression is on and it pays, else the bytes with their length."""
        n = len(s)
        buf = self.buf
        if 0 < n <= 11:
            v = string_to_int(bytes(s))
            if v is not None:
                if -128 <= v <= 127:
                    buf.append(0xC0)
                    buf.append(v & 0xFF)
                    return
                if -32768 <= v <= 32767:
                    buf += b"\xc1" + _pack_h(v)
                    return
                if -2147483648 <= v <= 2147483647:
                    buf += b"\xc2" + _pack_i(v)
                    return
        if n > 20 and self.compress:
            packed = lzf.compress(s)  # type: ignore[arg-type]
            if packed is not None:
                buf.append(0xC3)
                buf += encode_length(len(packed))
                buf += encode_length(n)
                buf += packed
                return
        if n < 64:
            buf.append(n)
        else:
            buf += encode_length(n)
        buf += s

    def raw_string(self, s: bytes) -> None:
        """A length-prefixed blob (listpacks, intsets): never integer-encoded, but LZF
        compressed when that pays, as rdbSaveRawString does for them too."""
        n = len(s)
        if n > 20 and self.compress:
            packed = lzf.compress(s)
            if packed is not None:
                self.buf.append(0xC3)
                self.buf += encode_length(len(packed))
                self.buf += encode_length(n)
                self.buf += packed
                return
        self.length(n)
        self.buf += s

    def binary_double(self, d: float) -> None:
        self.buf += _pack_d(d)

    def ms_time(self, t: int) -> None:
        self.buf += _pack_q(t)


class RdbReader:
    """Reads RDB values from ``data[pos:end]``; every read is bounds-checked."""

    __slots__ = ("data", "pos", "end")

    def __init__(self, data: bytes | memoryview, pos: int = 0, end: int | None = None) -> None:
        self.data = data
        self.pos = pos
        self.end = len(data) if end is None else end

    def _short(self) -> RdbError:
        return RdbError(f"Short read (truncated data at offset {self.pos})")

    def read(self, n: int) -> bytes:
        pos = self.pos
        new = pos + n
        if new > self.end or n < 0:
            raise self._short()
        self.pos = new
        return bytes(self.data[pos:new])

    def byte(self) -> int:
        pos = self.pos
        if pos >= self.end:
            raise self._short()
        self.pos = pos + 1
        return self.data[pos]

    def length_or_encoding(self) -> tuple[int, bool]:
        """(length, False) or (special encoding number, True)."""
        c = self.byte()
        kind = c >> 6
        if kind == 0:
            return c & 0x3F, False
        if kind == 1:
            return ((c & 0x3F) << 8) | self.byte(), False
        if kind == 3:
            return c & 0x3F, True
        if c == 0x80:
            return _unpack_BE_I(self.read(4))[0], False
        if c == 0x81:
            return _unpack_BE_Q(self.read(8))[0], False
        raise RdbError(f"Unknown length encoding {c} in rdbLoadLen()")

    def length(self) -> int:
        n, encoded = self.length_or_encoding()
        if encoded:
            raise RdbError("Unexpected string encoding where a length was expected")
        return n

    def string(self) -> bytes:
        """rdbGenericLoadStringObject: raw, integer-encoded or LZF."""
        data = self.data
        pos = self.pos
        if pos < self.end:
            c = data[pos]
            if c < 64:                          # the common case: a short raw string
                new = pos + 1 + c
                if new <= self.end:
                    self.pos = new
                    return bytes(data[pos + 1:new])
        n, encoded = self.length_or_encoding()
        if not encoded:
            return self.read(n)
        if n == _ENC_INT8:
            v = self.byte()
            return b"%d" % (v - 256 if v >= 128 else v)
        if n == _ENC_INT16:
            return b"%d" % _unpack_h(self.read(2))[0]
        if n == _ENC_INT32:
            return b"%d" % _unpack_i(self.read(4))[0]
        if n == _ENC_LZF:
            clen = self.length()
            ulen = self.length()
            packed = self.read(clen)
            try:
                return lzf.decompress(packed, ulen)
            except lzf.LzfError as e:
                raise RdbError(f"Invalid LZF compressed string: {e}") from None
        raise RdbError(f"Unknown RDB string encoding type {n}")

    def binary_double(self) -> float:
        return _unpack_d(self.read(8))[0]

    def old_double(self) -> float:
        """rdbLoadDoubleValue: a length byte (253 nan, 254 inf, 255 -inf) and ASCII."""
        n = self.byte()
        if n == 253:
            return float("nan")
        if n == 254:
            return float("inf")
        if n == 255:
            return float("-inf")
        text = self.read(n)
        try:
            return float(text)
        except ValueError:
            raise RdbError("Invalid double value") from None

    def ms_time(self) -> int:
        return _unpack_q(self.read(8))[0]

    def s_time(self) -> int:
        return _unpack_i(self.read(4))[0]

    def at_end(self) -> bool:
        return self.pos >= self.end
