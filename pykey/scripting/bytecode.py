"""Rewriting Lua 5.1 binary chunks (``string.dump`` output): stripping debug information,
and compiling user code without tail calls (see :func:`without_tail_calls`).

The sandbox prelude (see :mod:`.prelude`) wraps a few builtins in Lua. When such a wrapper
calls a C function that raises an argument error, Lua prefixes the message with the wrapper's
``source:line``. Valkey implements the same functions in C, where no position of ours can
appear. Loading the prelude without line information makes Lua print no position for our
frames, so users never see ``[pykey]:123:`` in an error.

Format of a chunk (lundump.c): a 12-byte header, then one function prototype:
source, linedefined, lastlinedefined, nups, numparams, is_vararg, maxstacksize, code,
constants, nested prototypes, lineinfo, locvars, upvalue names. We keep everything but the
last three, which we write as empty lists.
"""
from __future__ import annotations

import struct


class _Reader:
    def __init__(self, data: bytes, int_size: int, size_t: int, instr: int, num: int, little: bool) -> None:
        self.data = data
        self.pos = 0
        e = "<" if little else ">"
        self.int_fmt = e + {4: "i", 8: "q"}[int_size]
        self.size_fmt = e + {4: "I", 8: "Q"}[size_t]
        self.int_size = int_size
        self.size_t = size_t
        self.instr = instr
        self.num = num
        self.little = little

    def take(self, n: int) -> bytes:
        b = self.data[self.pos:self.pos + n]
        if len(b) != n:
            raise ValueError("truncated Lua chunk")
        self.pos += n
        return b

    def int(self) -> int:
        return struct.unpack(self.int_fmt, self.take(self.int_size))[0]

    def string(self) -> bytes:
        n = struct.unpack(self.size_fmt, self.take(self.size_t))[0]
        return self.take(n)


def strip(chunk: bytes) -> bytes:
    """``chunk`` (from ``string.dump``) without line info, local names and upvalue names."""
    return _rewrite(chunk, strip=True)


_OP_MASK = 0x3F
_OP_CALL = 28
_OP_TAILCALL = 29


def without_tail_calls(chunk: bytes) -> bytes:
    """``chunk`` with every ``return f(...)`` compiled as a plain call then a return.

    Lua 5.1 replaces the caller's frame on a tail call to a Lua function, so an error in
    ``return server.call(...)`` could not be located in the script. Valkey's server.call is
    a C function, which Lua never tail-calls, so Valkey always reports the script's line.
    The parser emits OP_CALL with C=0 (all results) and turns it into OP_TAILCALL only for
    the optimisation; turning it back gives the code the parser would have made without it
    (the only difference: unbounded tail recursion now grows the stack)."""
    return _rewrite(chunk, strip=False)


def _rewrite(chunk: bytes, strip: bool) -> bytes:
    header = chunk[:12]
    if header[:5] != b"\x1bLua\x51":
        raise ValueError("not a Lua 5.1 chunk")
    little = header[6] == 1
    r = _Reader(chunk[12:], header[7], header[8], header[9], header[10], little)
    out = [header]
    _function(r, out, strip)
    if not strip:
        out.append(r.data[r.pos:])
    return b"".join(out)


def _patch_code(code: bytes, size: int, little: bool) -> bytes:
    order = "little" if little else "big"
    out = bytearray(code)
    for i in range(0, len(code), size):
        ins = int.from_bytes(code[i:i + size], order)
        if ins & _OP_MASK == _OP_TAILCALL:
            out[i:i + size] = ((ins & ~_OP_MASK) | _OP_CALL).to_bytes(size, order)
    return bytes(out)


def _function(r: _Reader, out: list[bytes], strip: bool) -> None:
    start = r.pos
    r.string()                       # source
    r.take(2 * r.int_size + 4)       # linedefined, lastlinedefined, nups, numparams, vararg, maxstack
    n = r.int()
    if not strip:
        out.append(r.data[start:r.pos])
        out.append(_patch_code(r.take(n * r.instr), r.instr, r.little))
        start = r.pos
    else:
        r.take(n * r.instr)          # code
    n = r.int()                      # constants
    for _ in range(n):
        t = r.take(1)[0]
        if t == 1:                   # boolean
            r.take(1)
        elif t == 3:                 # number
            r.take(r.num)
        elif t == 4:                 # string
            r.string()
        elif t != 0:
            raise ValueError("bad constant in Lua chunk")
    out.append(r.data[start:r.pos])
    n = r.int()                      # nested prototypes
    out.append(struct.pack(r.int_fmt, n))
    for _ in range(n):
        _function(r, out, strip)
    if not strip:
        start = r.pos
    n = r.int()                      # lineinfo
    r.take(n * r.int_size)
    n = r.int()                      # locvars
    for _ in range(n):
        r.string()
        r.take(2 * r.int_size)
    n = r.int()                      # upvalue names
    for _ in range(n):
        r.string()
    if strip:
        out.append(struct.pack(r.int_fmt, 0) * 3)
    else:
        out.append(r.data[start:r.pos])
