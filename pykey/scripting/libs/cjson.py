"""lua-cjson 2.1 (``cjson.*``) as Valkey bundles it: the same JSON text for the same Lua
value (``%.14g`` numbers, ``\\/`` escaped, empty tables as ``{}``, sparse array rules, key
order of Lua's ``next``), the same parser (strtod numbers, ``inf``/``nan``/hex accepted by
default, ``cjson.null`` for JSON null) and the same error messages.

One :class:`CJson` holds the settings of one ``cjson`` table (``cjson.new()`` makes another).
"""
from __future__ import annotations

import re
import sys
from typing import Any

from lupa import lua51

from . import LuaRaise, argerror, number_to_str, str_to_number, to_integer, typename

_lua_type = lua51.lua_type
sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))  # nesting up to encode/decode_max_depth

_ESC = {c: b"\\u%04x" % c for c in range(32)}
_ESC.update({8: b"\\b", 9: b"\\t", 10: b"\\n", 12: b"\\f", 13: b"\\r", 34: b'\\"', 92: b"\\\\",
             47: b"\\/", 127: b"\\u007f"})
_ESC_RE = re.compile(rb'[\x00-\x1f"\\/\x7f]')
_INT_MAX = 2**31 - 1

_TOKEN_NAMES = ("T_OBJ_BEGIN", "T_OBJ_END", "T_ARR_BEGIN", "T_ARR_END", "T_STRING", "T_NUMBER",
                "T_BOOLEAN", "T_NULL", "T_COLON", "T_COMMA", "T_END", "T_WHITESPACE", "T_ERROR",
                "T_UNKNOWN")
(T_OBJ_BEGIN, T_OBJ_END, T_ARR_BEGIN, T_ARR_END, T_STRING, T_NUMBER, T_BOOLEAN, T_NULL, T_COLON,
 T_COMMA, T_END, T_WHITESPACE, T_ERROR, T_UNKNOWN) = range(14)
_SIMPLE = {ord("{"): T_OBJ_BEGIN, ord("}"): T_OBJ_END, ord("["): T_ARR_BEGIN, ord("]"): T_ARR_END,
           ord(","): T_COMMA, ord(":"): T_COLON}
_UNKNOWN_START = set(b"fiInNt\"+-0123456789")
_ESCAPES = {ord('"'): b'"', ord("\\"): b"\\", ord("/"): b"/", ord("b"): b"\b", ord("t"): b"\t",
            ord("n"): b"\n", ord("f"): b"\f", ord("r"): b"\r"}

# the prefix of the text that C's strtod reads
_STRTOD = re.compile(
    rb"[ \t\n\v\f\r]*[+-]?(?:"
    rb"0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?[0-9]+)?"
    rb"|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
    rb"|[iI][nN][fF](?:[iI][nN][iI][tT][yY])?"
    rb"|[nN][aA][nN](?:\([0-9A-Za-z_]*\))?)")


def strtod(data: bytes, pos: int) -> tuple[float, int]:
    """C's strtod on ``data[pos:]``: the value and the end position (``pos`` if nothing read)."""
    m = _STRTOD.match(data, pos)
    if m is None:
        return 0.0, pos
    text = m.group().strip()
    body = text.lstrip(b"+-")
    neg = text[:1] == b"-"
    low = body.lower()
    if low.startswith(b"0x"):
        h = body[2:].decode()
        if "p" not in h.lower():
            h += "p0"
        try:
            v = float.fromhex("0x" + h)
        except OverflowError:
            v = float("inf")
    elif low.startswith(b"inf"):
        v = float("inf")
    elif low.startswith(b"nan"):
        v = float("nan")
    else:
        v = float(body)
    return (-v if neg else v), m.end()


class CJson:
    """The state of one cjson module table."""

    def __init__(self, lua: Any, null: Any, is_null: Any) -> None:
        self.lua = lua
        self.null = null                 # the cjson.null userdata (Valkey: a NULL lightuserdata)
        self.is_null = is_null           # Lua rawequal(v, cjson.null)
        self.sparse_convert = 0
        self.sparse_ratio = 2
        self.sparse_safe = 10
        self.encode_max_depth = 1000
        self.decode_max_depth = 1000
        self.encode_invalid_numbers = 0
        self.decode_invalid_numbers = 1
        self.keep_buffer = 1
        self.precision = 14

    def functions(self) -> dict[str, Any]:
        return {"encode": self.encode, "decode": self.decode,
                "encode_sparse_array": self.cfg_encode_sparse_array,
                "encode_max_depth": self.cfg_encode_max_depth,
                "decode_max_depth": self.cfg_decode_max_depth,
                "encode_number_precision": self.cfg_encode_number_precision,
                "encode_keep_buffer": self.cfg_encode_keep_buffer,
                "encode_invalid_numbers": self.cfg_encode_invalid_numbers,
                "decode_invalid_numbers": self.cfg_decode_invalid_numbers}

    # ------------------------------------------------------------ configuration
    @staticmethod
    def _arg_init(args: tuple, n: int, fname: str) -> list:
        if len(args) > n:
            raise argerror(n + 1, fname, "found too many arguments")
        return list(args) + [None] * (n - len(args))

    @staticmethod
    def _integer(v: Any, idx: int, cur: int, lo: int, hi: int, fname: str) -> int:
        if v is None:
            return cur
        num = str_to_number(v) if isinstance(v, bytes) else v
        if not isinstance(num, (int, float)) or isinstance(num, bool):
            raise argerror(idx, fname, f"number expected, got {typename(v)}")
        v = num
        value = to_integer(v)
        value = (value + 2**31) % 2**32 - 2**31      # stored in a C int
        if not lo <= value <= hi:
            raise argerror(1, fname, f"expected integer between {lo} and {hi}")
        return value

    @staticmethod
    def _enum(v: Any, idx: int, cur: int, options: tuple[str, ...], fname: str) -> int:
        if v is None:
            return cur
        if v is True or v is False:
            return int(v)
        if not isinstance(v, (bytes, int, float)):
            raise argerror(idx, fname, f"string expected, got {typename(v)}")
        name = v if isinstance(v, bytes) else number_to_str(v)
        for i, o in enumerate(options):
            if name == o.encode():
                return i
        raise argerror(idx, fname, f"invalid option '{name.decode('utf-8', 'replace')}'")

    @staticmethod
    def _enum_result(setting: int, options: tuple[str, ...]) -> Any:
        return bool(setting) if setting in (0, 1) else options[setting].encode()

    def cfg_encode_sparse_array(self, *args):
        a = self._arg_init(args, 3, "encode_sparse_array")
        self.sparse_convert = self._enum(a[0], 1, self.sparse_convert, ("off", "on"), "encode_sparse_array")
        self.sparse_ratio = self._integer(a[1], 2, self.sparse_ratio, 0, _INT_MAX, "encode_sparse_array")
        self.sparse_safe = self._integer(a[2], 3, self.sparse_safe, 0, _INT_MAX, "encode_sparse_array")
        return bool(self.sparse_convert), self.sparse_ratio, self.sparse_safe

    def cfg_encode_max_depth(self, *args):
        a = self._arg_init(args, 1, "encode_max_depth")
        self.encode_max_depth = self._integer(a[0], 1, self.encode_max_depth, 1, _INT_MAX, "encode_max_depth")
        return self.encode_max_depth

    def cfg_decode_max_depth(self, *args):
        a = self._arg_init(args, 1, "decode_max_depth")
        self.decode_max_depth = self._integer(a[0], 1, self.decode_max_depth, 1, _INT_MAX, "decode_max_depth")
        return self.decode_max_depth

    def cfg_encode_number_precision(self, *args):
        a = self._arg_init(args, 1, "encode_number_precision")
        self.precision = self._integer(a[0], 1, self.precision, 1, 14, "encode_number_precision")
        return self.precision

    def cfg_encode_keep_buffer(self, *args):
        a = self._arg_init(args, 1, "encode_keep_buffer")
        self.keep_buffer = self._enum(a[0], 1, self.keep_buffer, ("off", "on"), "encode_keep_buffer")
        return bool(self.keep_buffer)

    def cfg_encode_invalid_numbers(self, *args):
        opts = ("off", "on", "null")
        a = self._arg_init(args, 1, "encode_invalid_numbers")
        self.encode_invalid_numbers = self._enum(a[0], 1, self.encode_invalid_numbers, opts,
                                                 "encode_invalid_numbers")
        return self._enum_result(self.encode_invalid_numbers, opts)

    def cfg_decode_invalid_numbers(self, *args):
        a = self._arg_init(args, 1, "decode_invalid_numbers")
        self.decode_invalid_numbers = self._enum(a[0], 1, self.decode_invalid_numbers, ("off", "on"),
                                                 "decode_invalid_numbers")
        return bool(self.decode_invalid_numbers)

    # ------------------------------------------------------------ encoding
    def encode(self, *args):
        if len(args) != 1:
            raise argerror(1, "encode", "expected 1 argument")
        out: list[bytes] = []
        self._append(args[0], 0, out)
        return b"".join(out)

    def _number(self, num: float | int, out: list[bytes]) -> None:
        f = float(num)
        if f != f or f in (float("inf"), float("-inf")):
            mode = self.encode_invalid_numbers
            if mode == 0:
                raise LuaRaise(b"Cannot serialise number: must not be NaN or Inf")
            if mode == 2:
                out.append(b"null")
                return
            if f != f:
                out.append(b"nan")
                return
        out.append(b"%.*g" % (self.precision, f))

    def _append(self, v: Any, depth: int, out: list[bytes]) -> None:
        cls = v.__class__
        if cls is bytes:
            out.append(b'"' + _ESC_RE.sub(lambda m: _ESC[m.group()[0]], v) + b'"')
        elif cls is bool:
            out.append(b"true" if v else b"false")
        elif cls is int or cls is float:
            self._number(v, out)
        elif v is None:
            out.append(b"null")
        else:
            t = _lua_type(v)
            if t == "table":
                depth += 1
                if depth > self.encode_max_depth:
                    raise LuaRaise(b"Cannot serialise, excessive nesting (%d)" % depth)
                items = list(v.items())
                n = self._array_length(items)
                if n > 0:
                    values = dict(items)
                    out.append(b"[")
                    for i in range(1, n + 1):
                        if i > 1:
                            out.append(b",")
                        self._append(values.get(i), depth, out)
                    out.append(b"]")
                else:
                    out.append(b"{")
                    first = True
                    for key, val in items:
                        if not first:
                            out.append(b",")
                        first = False
                        kc = key.__class__
                        if kc is bytes:
                            self._append(key, depth, out)
                            out.append(b":")
                        elif (kc is int or kc is float):
                            out.append(b'"')
                            self._number(key, out)
                            out.append(b'":')
                        else:
                            raise LuaRaise(b"Cannot serialise %s: table key must be a number or string"
                                           % typename(key).encode())
                        self._append(val, depth, out)
                    out.append(b"}")
            elif t == "userdata" and self.is_null(v):
                out.append(b"null")
            else:
                raise LuaRaise(b"Cannot serialise %s: type not supported" % (t or "userdata").encode())

    def _array_length(self, items: list) -> int:
        """lua_array_length: the largest index of a table with only positive integer keys, or
        -1; an excessively sparse array is an error (or an object when conversion is on)."""
        top = 0
        count = 0
        for key, _ in items:
            kc = key.__class__
            if (kc is int or kc is float) and key != 0 and key >= 1 and key == int(key):
                if key > top:
                    top = int(key)
                count += 1
                continue
            return -1
        if self.sparse_ratio > 0 and top > count * self.sparse_ratio and top > self.sparse_safe:
            if not self.sparse_convert:
                raise LuaRaise(b"Cannot serialise table: excessively sparse array")
            return -1
        return top

    # ------------------------------------------------------------ decoding
    def decode(self, *args):
        if len(args) != 1:
            raise argerror(1, "decode", "expected 1 argument")
        data = args[0]
        if isinstance(data, (int, float)) and not isinstance(data, bool):
            data = number_to_str(data)
        if not isinstance(data, bytes):
            raise argerror(1, "decode", f"string expected, got {typename(data)}")
        if len(data) >= 2 and (data[0] == 0 or data[1] == 0):
            raise LuaRaise(b"JSON parser does not support UTF-16 or UTF-32")
        nul = data.find(b"\0")
        if nul >= 0:
            data = data[:nul]
        p = _Parser(self, data)
        tok = p.next_token()
        value = p.value(tok)
        tok = p.next_token()
        if tok[0] != T_END:
            p.fail("the end", tok)
        return value


class _Parser:
    __slots__ = ("cfg", "data", "pos", "depth", "lua")

    def __init__(self, cfg: CJson, data: bytes) -> None:
        self.cfg = cfg
        self.data = data
        self.pos = 0
        self.depth = 0
        self.lua = cfg.lua

    def fail(self, expected: str, tok: tuple) -> None:
        found = tok[1] if tok[0] == T_ERROR else _TOKEN_NAMES[tok[0]]
        raise LuaRaise(f"Expected {expected} but found {found} at character {tok[2] + 1}".encode())

    def _invalid_number(self, p: int) -> bool:
        d = self.data
        if d[p:p + 1] == b"+":
            return True
        if d[p:p + 1] == b"-":
            p += 1
        c = d[p:p + 1]
        if c == b"0":
            c2 = d[p + 1:p + 2]
            return c2 in (b"x", b"X") or (c2 != b"" and c2.isdigit())
        if c and c[0] <= 57:
            return False
        low = d[p:p + 3].lower()
        return low in (b"inf", b"nan")

    def next_token(self) -> tuple:
        """(type, value or error text, 0-based index)."""
        d = self.data
        n = len(d)
        p = self.pos
        while p < n and d[p] in b" \t\n\r":
            p += 1
        self.pos = p
        if p >= n:
            return (T_END, None, p)
        ch = d[p]
        simple = _SIMPLE.get(ch)
        if simple is not None:
            self.pos = p + 1
            return (simple, None, p)
        if ch not in _UNKNOWN_START:
            return (T_ERROR, "invalid token", p)
        if ch == 34:
            return self._string(p)
        if ch == 45 or 48 <= ch <= 57:
            if not self.cfg.decode_invalid_numbers and self._invalid_number(p):
                return (T_ERROR, "invalid number", p)
            return self._number(p)
        if d.startswith(b"true", p):
            self.pos = p + 4
            return (T_BOOLEAN, True, p)
        if d.startswith(b"false", p):
            self.pos = p + 5
            return (T_BOOLEAN, False, p)
        if d.startswith(b"null", p):
            self.pos = p + 4
            return (T_NULL, None, p)
        if self.cfg.decode_invalid_numbers and self._invalid_number(p):
            return self._number(p)
        return (T_ERROR, "invalid token", p)

    def _number(self, p: int) -> tuple:
        value, end = strtod(self.data, p)
        if end == p:
            return (T_ERROR, "invalid number", p)
        self.pos = end
        return (T_NUMBER, value, p)

    def _string(self, start: int) -> tuple:
        d = self.data
        p = start + 1
        out = bytearray()
        n = len(d)
        while True:
            q = p
            while q < n and d[q] != 34 and d[q] != 92:
                q += 1
            out += d[p:q]
            p = q
            if p >= n:
                self.pos = p
                return (T_ERROR, "unexpected end of string", p)
            if d[p] == 34:
                break
            esc = d[p + 1] if p + 1 < n else 0
            if esc == 117:                     # \u
                r = self._unicode(p)
                if r is None:
                    self.pos = p
                    return (T_ERROR, "invalid unicode escape code", p)
                out += r[0]
                p += r[1]
                continue
            ch = _ESCAPES.get(esc)
            if ch is None:
                self.pos = p
                return (T_ERROR, "invalid escape code", p)
            out += ch
            p += 2
        self.pos = p + 1
        return (T_STRING, bytes(out), start)

    def _unicode(self, p: int) -> tuple[bytes, int] | None:
        d = self.data
        cp = _hex4(d[p + 2:p + 6])
        if cp < 0:
            return None
        length = 6
        if cp & 0xF800 == 0xD800:
            if cp & 0x400:
                return None
            if d[p + 6:p + 8] != b"\\u":
                return None
            low = _hex4(d[p + 8:p + 12])
            if low < 0 or low & 0xFC00 != 0xDC00:
                return None
            cp = (((cp & 0x3FF) << 10) | (low & 0x3FF)) + 0x10000
            length = 12
        return _utf8(cp), length

    def _descend(self) -> None:
        self.depth += 1
        if self.depth > self.cfg.decode_max_depth:
            raise LuaRaise(b"Found too many nested data structures (%d) at character %d"
                           % (self.depth, self.pos))

    def value(self, tok: tuple) -> Any:
        t = tok[0]
        if t == T_STRING or t == T_BOOLEAN:
            return tok[1]
        if t == T_NUMBER:
            return tok[1]
        if t == T_NULL:
            return self.cfg.null
        if t == T_OBJ_BEGIN:
            self._descend()
            obj: dict = {}
            tok = self.next_token()
            if tok[0] == T_OBJ_END:
                self.depth -= 1
                return self.lua.table_from(obj)
            while True:
                if tok[0] != T_STRING:
                    self.fail("object key string", tok)
                key = tok[1]
                tok = self.next_token()
                if tok[0] != T_COLON:
                    self.fail("colon", tok)
                obj[key] = self.value(self.next_token())
                tok = self.next_token()
                if tok[0] == T_OBJ_END:
                    self.depth -= 1
                    return self.lua.table_from(obj)
                if tok[0] != T_COMMA:
                    self.fail("comma or object end", tok)
                tok = self.next_token()
        if t == T_ARR_BEGIN:
            self._descend()
            arr: list = []
            tok = self.next_token()
            if tok[0] == T_ARR_END:
                self.depth -= 1
                return self.lua.table_from(arr)
            while True:
                arr.append(self.value(tok))
                tok = self.next_token()
                if tok[0] == T_ARR_END:
                    self.depth -= 1
                    return self.lua.table_from(arr)
                if tok[0] != T_COMMA:
                    self.fail("comma or array end", tok)
                tok = self.next_token()
        self.fail("value", tok)


def _hex4(s: bytes) -> int:
    if len(s) < 4:
        return -1
    v = 0
    for c in s[:4]:
        if 48 <= c <= 57:
            d = c - 48
        elif 97 <= (c | 0x20) <= 102:
            d = (c | 0x20) - 87
        else:
            return -1
        v = (v << 4) | d
    return v


def _utf8(cp: int) -> bytes:
    if cp <= 0x7F:
        return bytes((cp,))
    if cp <= 0x7FF:
        return bytes(((cp >> 6) | 0xC0, (cp & 0x3F) | 0x80))
    if cp <= 0xFFFF:
        return bytes(((cp >> 12) | 0xE0, ((cp >> 6) & 0x3F) | 0x80, (cp & 0x3F) | 0x80))
    return bytes(((cp >> 18) | 0xF0, ((cp >> 12) & 0x3F) | 0x80, ((cp >> 6) & 0x3F) | 0x80,
                  (cp & 0x3F) | 0x80))

