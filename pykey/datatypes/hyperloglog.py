"""HyperLogLog in Valkey's exact byte format, so an HLL string moves between pykey and Valkey
(GET/SET, DUMP/RESTORE, RDB) and counts the same on both.

Layout (Valkey's ``struct hllhdr``): ``b"HYLL"``, one encoding byte (0 dense, 1 sparse), three
unused bytes, then the cached cardinality as 8 little-endian bytes whose top bit set means
"stale". 16384 registers of 6 bits follow, either

- dense: 12288 bytes, register ``i`` in bits ``6i .. 6i+5`` counted from the least significant
  bit of byte 0 upwards; or
- sparse: run-length opcodes ``00xxxxxx`` (ZERO, 1..64 zero registers), ``01xxxxxx yyyyyyyy``
  (XZERO, 1..16384 zero registers), ``1vvvvvxx`` (VAL, 1..4 registers of value 1..32).

The sparse editing below follows Valkey's hllSparseSet step by step (split the opcode that
covers the register, then merge equal neighbouring VALs over at most five opcodes), because
the bytes a sequence of PFADDs leaves depend on that exact procedure.

Speed in pure Python comes from never looping over the 16384 registers one by one: dense
registers are unpacked and packed with ``bytes.translate`` over the three byte lanes and
big-integer ORs (each C-speed over 4096 bytes), histograms come from ``bytes.count``, and the
register-wise maximum of two HLLs is one SIMD-within-a-register expression on 131072-bit
integers. Costs: PFADD O(1) dense, O(sparse bytes) sparse; a count O(16384) at C speed.
"""
from __future__ import annotations

import math
import struct
import sys
from array import array
from bisect import bisect_right
from itertools import accumulate

HDR = 16
P = 14
Q = 64 - P
REGISTERS = 1 << P
DENSE_BYTES = REGISTERS * 6 // 8
DENSE_SIZE = HDR + DENSE_BYTES
DENSE, SPARSE = 0, 1
ENCODING_NAMES = ("dense", "sparse")
SPARSE_VAL_MAX_VALUE = 32
SPARSE_VAL_MAX_LEN = 4
SPARSE_ZERO_MAX_LEN = 64
SPARSE_XZERO_MAX_LEN = 16384
ALPHA_INF = 0.721347520444481703680   # 0.5 / ln(2)
HASH_SEED = 0xADC83B19

_M = 0xC6A4A7935BD1E995
_MASK64 = (1 << 64) - 1
_QBIT = 1 << Q


class CorruptHLL(Exception):
    """The registers of an HLL string do not decode (Valkey's INVALIDOBJ)."""


# ----------------------------------------------------------------- hashing
def murmurhash64a(data: bytes, seed: int = HASH_SEED) -> int:
    """MurmurHash2, 64-bit, endian-neutral: Valkey's HLL hash."""
    n = len(data)
    h = (seed ^ (n * _M)) & _MASK64
    blocks = n >> 3
    if blocks:
        m = _M
        mask = _MASK64
        for k in struct.unpack_from(f"<{blocks}Q", data):
            k = (k * m) & mask
            k ^= k >> 47
            h ^= (k * m) & mask
            h = (h * m) & mask
    rem = n & 7
    if rem:
        h ^= int.from_bytes(data[n - rem:], "little")
        h = (h * _M) & _MASK64
    h ^= h >> 47
    h = (h * _M) & _MASK64
    return h ^ (h >> 47)


def pat_len(element: bytes) -> tuple[int, int]:
    """(register index, length of the 000..1 pattern) of ``element``, as hllPatLen."""
    h = murmurhash64a(element)
    rest = (h >> P) | _QBIT
    return h & (REGISTERS - 1), (rest & -rest).bit_length()


# ----------------------------------------------------------------- dense registers
def _table(fn) -> bytes:
    return bytes(fn(b) & 0xFF for b in range(256))


_AND63 = _table(lambda b: b & 63)
_SHR6 = _table(lambda b: b >> 6)
_AND15_SHL2 = _table(lambda b: (b & 15) << 2)
_SHR4 = _table(lambda b: b >> 4)
_AND3_SHL4 = _table(lambda b: (b & 3) << 4)
_SHR2 = _table(lambda b: b >> 2)
_AND3_SHL6 = _table(lambda b: (b & 3) << 6)
_AND15_SHL4 = _table(lambda b: (b & 15) << 4)
_AND63_SHL2 = _table(lambda b: (b & 63) << 2)
_LANES = REGISTERS // 4            # 4096 groups of 4 registers in 3 bytes


def _or(a: bytes, b: bytes) -> bytes:
    """Byte-wise OR of two equal-length strings whose set bits never overlap."""
    return (int.from_bytes(a, "little") | int.from_bytes(b, "little")).to_bytes(len(a), "little")


def dense_to_raw(dense: bytes | bytearray | memoryview) -> bytearray:
    """The 12288 packed bytes as 16384 one-byte registers."""
    x, y, z = dense[0::3], dense[1::3], dense[2::3]
    if isinstance(x, memoryview):
        x, y, z = x.tobytes(), y.tobytes(), z.tobytes()
    raw = bytearray(REGISTERS)
    raw[0::4] = x.translate(_AND63)
    raw[1::4] = _or(x.translate(_SHR6), y.translate(_AND15_SHL2))
    raw[2::4] = _or(y.translate(_SHR4), z.translate(_AND3_SHL4))
    raw[3::4] = z.translate(_SHR2)
    return raw


def raw_to_dense(raw: bytes | bytearray) -> bytearray:
    """16384 one-byte registers (each < 64) packed into 12288 bytes."""
    r0, r1, r2, r3 = bytes(raw[0::4]), bytes(raw[1::4]), bytes(raw[2::4]), bytes(raw[3::4])
    dense = bytearray(DENSE_BYTES)
    dense[0::3] = _or(r0.translate(_AND63), r1.translate(_AND3_SHL6))
    dense[1::3] = _or(r1.translate(_SHR2), r2.translate(_AND15_SHL4))
    dense[2::3] = _or(r2.translate(_SHR4), r3.translate(_AND63_SHL2))
    return dense


def dense_get(buf: bytearray, index: int) -> int:
    pos = index * 6
    b = HDR + (pos >> 3)
    fb = pos & 7
    if fb <= 2:
        return (buf[b] >> fb) & 63
    return ((buf[b] | (buf[b + 1] << 8)) >> fb) & 63


def dense_set(buf: bytearray, index: int, count: int) -> bool:
    """Raise register ``index`` to ``count`` if it is lower; True if it changed."""
    pos = index * 6
    b = HDR + (pos >> 3)
    fb = pos & 7
    if fb <= 2:
        v = buf[b]
        if count <= (v >> fb) & 63:
            return False
        buf[b] = (v & ~(63 << fb) & 0xFF) | (count << fb)
        return True
    v = buf[b] | (buf[b + 1] << 8)
    if count <= (v >> fb) & 63:
        return False
    v = (v & ~(63 << fb)) | (count << fb)
    buf[b] = v & 0xFF
    buf[b + 1] = v >> 8
    return True


def _dense_put(buf: bytearray, index: int, value: int) -> None:
    """Store ``value`` in register ``index`` unconditionally (the self test uses it)."""
    pos = index * 6
    b = HDR + (pos >> 3)
    fb = pos & 7
    v = buf[b] | ((buf[b + 1] << 8) if b + 1 < len(buf) else 0)
    v = (v & ~(63 << fb)) | (value << fb)
    buf[b] = v & 0xFF
    if fb > 2:
        buf[b + 1] = v >> 8


# ----------------------------------------------------------------- sparse registers
def _xzero(n: int) -> bytes:
    n -= 1
    return bytes(((n >> 8) | 0x40, n & 0xFF))


def _zero_run(n: int) -> bytes:
    return _xzero(n) if n > SPARSE_ZERO_MAX_LEN else bytes((n - 1,))


def _val(value: int, n: int) -> int:
    return 0x80 | ((value - 1) << 2) | (n - 1)


# The byte just past the end of a C string is its terminator, 0, and Valkey's sparse code
# reads it when the last opcode is an XZERO cut short (only a damaged value ends so). One
# write leaves something else there: splitting that cut-short XZERO copies the new opcodes
# from its position on, and the last byte of them lands past the new end. A later read of a
# cut-short XZERO sees that byte, so it is remembered here, per buffer and length, until a
# length change (which rewrites the terminator in C) makes it stale.
_GHOSTS: dict[int, tuple[bytearray, int, int]] = {}


def ghost_byte(buf: bytes | bytearray) -> int:
    """What C reads at ``buf[len(buf)]``."""
    if not _GHOSTS:
        return 0
    g = _GHOSTS.get(id(buf))
    if g is None or g[0] is not buf or g[1] != len(buf):
        return 0
    return g[2]


def _set_ghost(buf: bytearray, byte: int) -> None:
    if byte:
        if len(_GHOSTS) >= 64:
            _GHOSTS.clear()
        _GHOSTS[id(buf)] = (buf, len(buf), byte)
    elif _GHOSTS:
        _GHOSTS.pop(id(buf), None)


def sparse_to_raw(buf: bytes | bytearray) -> bytearray:
    """Decode sparse opcodes into 16384 registers; CorruptHLL unless the runs of all the
    opcodes add up to exactly 16384.

    That is the rule of Valkey and Redis since the CVE-2025-32023 fix, which made every
    reader (hllSparseToDense, hllMerge, like hllSparseRegHisto before) refuse any run that
    passes the last register, where the older readers stopped at an overflowing VAL run
    and accepted what they had read if it came to 16384."""
    raw = bytearray(REGISTERS)
    idx = 0
    p = HDR
    end = len(buf)
    while p < end:
        op = buf[p]
        if op < 0x40:
            idx += op + 1
            p += 1
        elif op < 0x80:
            idx += (((op & 0x3F) << 8) | (buf[p + 1] if p + 1 < end else ghost_byte(buf))) + 1
            p += 2
        else:
            run = (op & 3) + 1
            if idx + run <= REGISTERS:
                value = ((op >> 2) & 0x1F) + 1
                if run == 1:
                    raw[idx] = value
                else:
                    raw[idx:idx + run] = bytes((value,)) * run
            idx += run
            p += 1
    if idx != REGISTERS:
        raise CorruptHLL
    return raw


def sparse_histogram(buf: bytes | bytearray) -> list[int]:
    """Register histogram of a sparse HLL (hllSparseRegHisto); CorruptHLL if the runs do not
    add up to 16384 registers."""
    hist = [0] * 64
    idx = 0
    p = HDR
    end = len(buf)
    zeros = 0
    while p < end:
        op = buf[p]
        if op < 0x40:
            run = op + 1
            zeros += run
            p += 1
        elif op < 0x80:
            run = (((op & 0x3F) << 8) | (buf[p + 1] if p + 1 < end else ghost_byte(buf))) + 1
            zeros += run
            p += 2
        else:
            run = (op & 3) + 1
            hist[((op >> 2) & 0x1F) + 1] += run
            p += 1
        idx += run
    hist[0] = zeros
    if idx != REGISTERS:
        raise CorruptHLL
    return hist


_XZERO_MASK = bytes(1 if 0x40 <= b < 0x80 else 0 for b in range(256))
_SPAN = bytes((b + 1) if b < 0x40 else ((b & 3) + 1) if b >= 0x80 else 0 for b in range(256))
_BLOCK = 64
_NONZERO = bytes(1 if b else 0 for b in range(256))


def _locate(buf: bytes | bytearray, index: int) -> tuple[int, int, int] | None:
    """(byte offset, first register, offset of the previous opcode or -1) of the opcode that
    covers register ``index``, as hllSparseSet's walk finds it; None if none does.

    Only XZERO takes two bytes, and a byte that looks like an XZERO is one whenever the walk
    reaches it on an opcode boundary, so the runs of one-byte opcodes between XZEROs are
    found with ``find`` and skipped with C-speed sums of their spans (``translate`` to span
    lengths), block by block; Python steps through at most one block of opcodes."""
    end = len(buf)
    mask = buf.translate(_XZERO_MASK)
    p = HDR
    first = 0
    prev = -1
    while p < end:
        k = mask.find(1, p)
        seg_end = end if k < 0 else k
        if seg_end > p:
            spans = buf[p:seg_end].translate(_SPAN)
            total = sum(spans)
            if index < first + total:
                i = 0
                while True:
                    block = sum(spans[i:i + _BLOCK])
                    if index < first + block:
                        break
                    first += block
                    i += _BLOCK
                for j in range(i, i + _BLOCK):
                    sp = spans[j]
                    if index < first + sp:
                        return p + j, first, (p + j - 1 if j else prev)
                    first += sp
            first += total
            prev = seg_end - 1
            p = seg_end
        if k < 0:
            return None
        span = (((buf[k] & 0x3F) << 8) | (buf[k + 1] if k + 1 < end else ghost_byte(buf))) + 1
        if index < first + span:
            return k, first, prev
        first += span
        prev = k
        p = k + 2
    return None


def sparse_set(buf: bytearray, index: int, count: int, max_bytes: int) -> int:
    """Valkey's hllSparseSet on the bytes: raise register ``index`` to ``count`` in place.

    Returns 1 (changed), 0 (unchanged) or -1 (corrupt). The buffer turns dense (in place)
    when ``count`` exceeds 32 or the sparse form would pass ``max_bytes``. One call walks
    the opcodes from the start (O(sparse bytes)); :class:`SparseEditor` does many sets in
    O(log n) each.
    """
    if count > SPARSE_VAL_MAX_VALUE:
        return _promote(buf, index, count)
    # Step 1: find the opcode covering the register
    found = _locate(buf, index)
    if found is None:
        return -1
    p, first, prev = found
    end = len(buf)
    op = buf[p]
    if op < 0x40:
        span = op + 1
        oplen = 1
    elif op >= 0x80:
        span = (op & 3) + 1
        oplen = 1
    else:
        span = (((op & 0x3F) << 8) | (buf[p + 1] if p + 1 < end else ghost_byte(buf))) + 1
        oplen = 2
    # Step 2: the trivial in-place cases
    if op >= 0x80:
        if ((op >> 2) & 0x1F) + 1 >= count:
            return 0
        if op & 3 == 0:                  # a VAL of length 1
            buf[p] = _val(count, 1)
            _merge(buf, prev, end)
            return 1
    elif op == 0:                        # a ZERO of length 1
        buf[p] = _val(count, 1)
        _merge(buf, prev, end)
        return 1
    # Step 3: split the opcode into up to three
    last = first + span - 1
    seq = bytearray()
    if op < 0x80:
        if index != first:
            seq += _zero_run(index - first)
        seq.append(_val(count, 1))
        if index != last:
            seq += _zero_run(last - index)
    else:
        cur = ((op >> 2) & 0x1F) + 1
        if index != first:
            seq.append(_val(cur, index - first))
        seq.append(_val(count, 1))
        if index != last:
            seq.append(_val(cur, last - index))
    delta = len(seq) - oplen
    if delta > 0 and end + delta > max_bytes:
        return _promote(buf, index, count)
    if p + oplen <= end:
        buf[p:p + oplen] = seq
        _set_ghost(buf, 0)
    else:                                  # the last opcode, an XZERO cut short
        new_len = end + delta
        buf[p:] = seq
        ghost = buf[new_len] if new_len < len(buf) else 0
        del buf[new_len:]
        _set_ghost(buf, ghost)
    _merge(buf, prev, len(buf))
    return 1


def _merge(buf: bytearray, prev: int, end: int) -> None:
    """Step 4 of hllSparseSet: merge equal adjacent VALs, scanning at most five opcodes
    from the one before the change; then mark the cached cardinality stale."""
    q = prev if prev >= 0 else HDR
    scan = 5
    while q < end and scan:
        scan -= 1
        op = buf[q]
        if op < 0x80:
            q += 1 if op < 0x40 else 2
            continue
        if q + 1 < end:
            nxt = buf[q + 1]
            if nxt >= 0x80 and (op >> 2) == (nxt >> 2):
                n = (op & 3) + (nxt & 3) + 2
                if n <= SPARSE_VAL_MAX_LEN:
                    buf[q + 1] = (nxt & 0xFC) | (n - 1)
                    del buf[q]
                    end -= 1
                    _set_ghost(buf, 0)
                    continue
        q += 1
    _invalidate(buf)


class SparseEditor:
    """A sparse HLL unpacked into two parallel lists for a batch of sets: ``ops`` (one
    entry per opcode: the byte for ZERO/VAL, ``0x4000 | (len - 1)`` for XZERO) and
    ``firsts`` (the first register each opcode covers, strictly increasing).

    A set never changes which registers an opcode boundary starts at, only splits or merges
    opcodes, so the covering opcode is found by bisection (O(log n)) and the edit is a list
    slice (a C memmove) instead of Valkey's walk over the bytes; the edits themselves are
    hllSparseSet's, so the bytes written back are Valkey's.
    """

    __slots__ = ("ops", "firsts", "nbytes", "max_bytes")

    def __init__(self, ops: list[int], firsts: list[int], nbytes: int, max_bytes: int) -> None:
        self.ops = ops
        self.firsts = firsts
        self.nbytes = nbytes
        self.max_bytes = max_bytes

    @classmethod
    def parse(cls, buf: bytes | bytearray, max_bytes: int) -> SparseEditor | None:
        """None when the bytes end inside an XZERO (callers fall back to the byte path)."""
        body = bytes(buf[HDR:])
        mask = body.translate(_XZERO_MASK)
        ops: list[int] = []
        spans = bytearray()
        xspans: list[tuple[int, int]] = []
        pos = 0
        n = len(body)
        while True:
            k = mask.find(1, pos)
            if k < 0:
                seg = body[pos:]
                ops.extend(seg)
                spans += seg.translate(_SPAN)
                break
            seg = body[pos:k]
            ops.extend(seg)
            spans += seg.translate(_SPAN)
            if k + 1 >= n:
                return None
            length = ((body[k] & 0x3F) << 8) | body[k + 1]
            xspans.append((len(spans), length + 1))
            ops.append(0x4000 | length)
            spans.append(0)
            pos = k + 2
        span_list = list(spans)
        for i, length in xspans:
            span_list[i] = length
        firsts = [0]
        firsts.extend(accumulate(span_list))
        firsts.pop()
        return cls(ops, firsts, len(buf), max_bytes)

    def total(self) -> int:
        """Registers covered (16384 when well formed)."""
        if not self.ops:
            return 0
        return self.firsts[-1] + _span(self.ops[-1])

    def set(self, index: int, count: int) -> int:
        """1 changed, 0 unchanged, -1 corrupt, 2 needs the dense form (not applied)."""
        if count > SPARSE_VAL_MAX_VALUE:
            return 2
        ops = self.ops
        firsts = self.firsts
        i = bisect_right(firsts, index) - 1
        if i < 0:
            return -1
        op = ops[i]
        first = firsts[i]
        span = _span(op)
        if index >= first + span:
            return -1
        if 0x80 <= op < 0x100:
            if ((op >> 2) & 0x1F) + 1 >= count:
                return 0
            if op & 3 == 0:
                ops[i] = _val(count, 1)
                self._merge(i - 1)
                return 1
        elif op == 0:
            ops[i] = _val(count, 1)
            self._merge(i - 1)
            return 1
        last = first + span - 1
        new_ops = []
        new_firsts = []
        if op < 0x80 or op > 0xFF:
            if index != first:
                new_ops.append(_zero_op(index - first))
                new_firsts.append(first)
            new_ops.append(_val(count, 1))
            new_firsts.append(index)
            if index != last:
                new_ops.append(_zero_op(last - index))
                new_firsts.append(index + 1)
            oplen = 2 if op > 0xFF else 1
        else:
            cur = ((op >> 2) & 0x1F) + 1
            if index != first:
                new_ops.append(_val(cur, index - first))
                new_firsts.append(first)
            new_ops.append(_val(count, 1))
            new_firsts.append(index)
            if index != last:
                new_ops.append(_val(cur, last - index))
                new_firsts.append(index + 1)
            oplen = 1
        seqlen = 0
        for o in new_ops:
            seqlen += 2 if o > 0xFF else 1
        delta = seqlen - oplen
        if delta > 0 and self.nbytes + delta > self.max_bytes:
            return 2
        ops[i:i + 1] = new_ops
        firsts[i:i + 1] = new_firsts
        self.nbytes += delta
        self._merge(i - 1)
        return 1

    def _merge(self, q: int) -> None:
        ops = self.ops
        if q < 0:
            q = 0
        end = len(ops)
        scan = 5
        while q < end and scan:
            scan -= 1
            op = ops[q]
            if op < 0x80 or op > 0xFF:
                q += 1
                continue
            if q + 1 < end:
                nxt = ops[q + 1]
                if 0x80 <= nxt <= 0xFF and (op >> 2) == (nxt >> 2):
                    n = (op & 3) + (nxt & 3) + 2
                    if n <= SPARSE_VAL_MAX_LEN:
                        ops[q] = (nxt & 0xFC) | (n - 1)
                        del ops[q + 1]
                        del self.firsts[q + 1]
                        self.nbytes -= 1
                        end -= 1
                        continue
            q += 1

    def encode(self) -> bytes:
        """The opcodes as bytes. The one-byte runs between XZEROs convert in C; the XZEROs
        (few: only long zero runs) are found through the high bytes of a uint16 array."""
        ops = self.ops
        try:
            return bytes(ops)
        except ValueError:                     # some XZERO (> 255) present
            pass
        words = array("H", ops).tobytes()
        high = words[1::2] if sys.byteorder == "little" else words[0::2]
        marks = high.translate(_NONZERO)
        out = bytearray()
        pos = 0
        while True:
            k = marks.find(1, pos)
            if k < 0:
                out += bytes(ops[pos:])
                return bytes(out)
            out += bytes(ops[pos:k])
            o = ops[k]
            out.append(0x40 | ((o >> 8) & 0x3F))
            out.append(o & 0xFF)
            pos = k + 1

    def write(self, buf: bytearray) -> None:
        """Store the opcodes back into ``buf`` (header kept, cached card marked stale)."""
        buf[HDR:] = self.encode()
        _invalidate(buf)


def _span(op: int) -> int:
    if op > 0xFF:
        return (op & 0x3FFF) + 1
    if op < 0x40:
        return op + 1
    return (op & 3) + 1


def _zero_op(n: int) -> int:
    return 0x4000 | (n - 1) if n > SPARSE_ZERO_MAX_LEN else n - 1


def _promote(buf: bytearray, index: int, count: int) -> int:
    """Turn ``buf`` dense in place, then set the register (the promote path)."""
    if not to_dense(buf):
        return -1
    dense_set(buf, index, count)
    return 1


def to_dense(buf: bytearray) -> bool:
    """Convert a sparse HLL to dense in place (header and cached card kept); False if the
    sparse form is corrupt. A dense HLL is left alone."""
    if buf[4] == DENSE:
        return True
    try:
        raw = sparse_to_raw(buf)
    except CorruptHLL:
        return False
    header = bytearray(buf[:HDR])
    header[4] = DENSE
    buf[:] = header + raw_to_dense(raw)
    return True


def _invalidate(buf: bytearray) -> None:
    buf[15] |= 0x80


# ----------------------------------------------------------------- whole-HLL helpers
def new_sparse() -> bytearray:
    """An empty HLL as Valkey creates it: sparse, one XZERO:16384, cached card 0."""
    return bytearray(b"HYLL\x01\x00\x00\x00" + bytes(8) + _xzero(REGISTERS))


def is_valid(value: bytes | bytearray) -> bool:
    """Valkey's isHLLObjectOrReply checks: size, magic, encoding, dense length."""
    if len(value) < HDR or value[:4] != b"HYLL":
        return False
    enc = value[4]
    if enc > SPARSE:
        return False
    return enc != DENSE or len(value) == DENSE_SIZE


def registers(value: bytes | bytearray) -> bytearray:
    """All 16384 registers, one byte each (CorruptHLL for a bad sparse form)."""
    if value[4] == DENSE:
        return dense_to_raw(memoryview(value)[HDR:])
    return sparse_to_raw(value)


def raw_histogram(raw: bytes | bytearray) -> list[int]:
    """How many registers hold each value 0..63 (stops counting once all are found)."""
    hist = [0] * 64
    left = len(raw)
    count = raw.count
    for v in range(64):
        n = count(v)
        hist[v] = n
        left -= n
        if not left:
            break
    return hist


def histogram(value: bytes | bytearray) -> list[int]:
    if value[4] == DENSE:
        return raw_histogram(dense_to_raw(memoryview(value)[HDR:]))
    return sparse_histogram(value)


def _sigma(x: float) -> float:
    if x == 1.0:
        return math.inf
    y = 1.0
    z = x
    while True:
        x *= x
        z_prev = z
        z += x * y
        y += y
        if z_prev == z:
            return z


def _tau(x: float) -> float:
    if x == 0.0 or x == 1.0:
        return 0.0
    y = 1.0
    z = 1 - x
    while True:
        x = math.sqrt(x)
        z_prev = z
        y *= 0.5
        z -= (1 - x) ** 2 * y
        if z_prev == z:
            return z / 3


def estimate(hist: list[int]) -> int:
    """Ertl's improved estimator over the register histogram, as Valkey's hllCount."""
    m = float(REGISTERS)
    z = m * _tau((m - hist[Q + 1]) / m)
    for j in range(Q, 0, -1):
        z += hist[j]
        z *= 0.5
    z += m * _sigma(hist[0] / m)
    e = ALPHA_INF * m * m / z
    r = math.floor(e)                      # llroundl: half away from zero
    return int(r + 1 if e - r >= 0.5 else r)


def cached_card(value: bytes | bytearray) -> int | None:
    """The cached cardinality, or None when the header marks it stale."""
    if value[15] & 0x80:
        return None
    return int.from_bytes(value[8:16], "little")


def store_card(buf: bytearray, card: int) -> None:
    buf[8:16] = card.to_bytes(8, "little")


_H = int.from_bytes(b"\x80" * REGISTERS, "little")
_LOW = int.from_bytes(b"\x01" * REGISTERS, "little")


def raw_max(a: bytes | bytearray, b: bytes | bytearray) -> bytes:
    """Register-wise maximum of two 16384-byte register arrays (values < 128).

    Per byte lane: ``(a | 0x80) - b`` keeps its top bit exactly when a >= b, and lanes never
    borrow from each other; that bit, spread to a full-lane mask, picks a or b."""
    x = int.from_bytes(a, "little")
    y = int.from_bytes(b, "little")
    ge = (((x | _H) - y) & _H) >> 7          # 1 in lanes where a >= b
    mask = ge * 0xFF
    return ((x & mask) | (y & ~mask & (_H | (_H - _LOW)))).to_bytes(REGISTERS, "little")


def decode_sparse_opcodes(value: bytes | bytearray) -> str:
    """PFDEBUG DECODE's text: ``z:N`` ZERO, ``Z:N`` XZERO, ``v:V,N`` VAL."""
    out = []
    p = HDR
    end = len(value)
    while p < end:
        op = value[p]
        if op < 0x40:
            out.append(f"z:{op + 1}")
            p += 1
        elif op < 0x80:
            n = (((op & 0x3F) << 8) | (value[p + 1] if p + 1 < end else ghost_byte(value))) + 1
            out.append(f"Z:{n}")
            p += 2
        else:
            out.append(f"v:{((op >> 2) & 0x1F) + 1},{(op & 3) + 1}")
            p += 1
    return " ".join(out)


class _Registers:
    """Decoded registers of one HLL buffer, kept while its register bytes stay the same."""

    __slots__ = ("buf", "enc", "body", "raw", "hist")

    def __init__(self, buf: bytearray, raw: bytearray) -> None:
        self.buf = buf
        self.enc = buf[4]
        self.body = bytes(buf[HDR:])
        self.raw = raw
        self.hist = raw_histogram(raw)

    def valid_for(self, buf: bytes | bytearray) -> bool:
        return self.buf is buf and buf[4] == self.enc and buf[HDR:] == self.body


# Decoding 16384 registers and counting them costs ~0.2 ms in Python, and "PFADD then
# PFCOUNT" is the usual pattern, so the registers and their histogram are kept for the HLLs
# counted most recently and updated by PFADD. An entry is trusted only while the buffer's
# register bytes equal its snapshot (one memcmp), so a SETRANGE or APPEND on the key, or any
# other writer, simply makes it miss. Bounded: about 30 KB an entry.
_CACHE: dict[int, _Registers] = {}
_CACHE_MAX = 64


def _cached(buf: bytes | bytearray) -> _Registers | None:
    entry = _CACHE.get(id(buf))
    if entry is None:
        return None
    if entry.valid_for(buf):
        return entry
    _CACHE.pop(id(buf), None)
    return None


def cached_registers(value: bytes | bytearray) -> _Registers:
    """The registers and histogram of ``value`` (CorruptHLL for a bad sparse form), from
    the cache when its bytes are unchanged. Callers must not modify ``raw``."""
    entry = _cached(value)
    if entry is None:
        entry = _Registers(value, registers(value))
        if value.__class__ is bytearray:         # only buffers that can change get tracked
            while len(_CACHE) >= _CACHE_MAX:   # oldest first; several embedded servers may share it
                try:
                    _CACHE.pop(next(iter(_CACHE)), None)
                except (StopIteration, RuntimeError):
                    break
            _CACHE[id(value)] = entry
    return entry


def card_of(value: bytes | bytearray) -> int:
    """The estimate PFCOUNT gives for this key alone (CorruptHLL for a bad sparse form)."""
    return estimate(cached_registers(value).hist)


def forget(buf: bytes | bytearray) -> None:
    _CACHE.pop(id(buf), None)


class HyperLogLog:
    """A view over one HLL string value (a bytearray the keyspace owns) with the operations
    the commands need; it holds no state of its own besides the buffer."""

    __slots__ = ("buf",)

    def __init__(self, buf: bytearray | None = None) -> None:
        self.buf = new_sparse() if buf is None else buf

    @property
    def encoding(self) -> str:
        return ENCODING_NAMES[self.buf[4]]

    def add(self, elements, max_bytes: int) -> int:
        """PFADD: number of registers raised (Valkey counts each update); -1 if corrupt."""
        buf = self.buf
        pairs = [pat_len(e) for e in elements]
        entry = _cached(buf)
        if entry is not None:
            raw = entry.raw                    # drop what cannot raise a register
            pairs = [p for p in pairs if p[1] > raw[p[0]]]
            if not pairs:
                return 0
        updated = self._apply(pairs, max_bytes)
        if entry is not None:
            if updated < 0:
                forget(buf)
            else:
                raw = entry.raw
                hist = entry.hist
                for index, count in pairs:
                    old = raw[index]
                    if count > old:
                        hist[old] -= 1
                        hist[count] += 1
                        raw[index] = count
                entry.enc = buf[4]
                entry.body = bytes(buf[HDR:])
        return updated

    def _apply(self, pairs: list[tuple[int, int]], max_bytes: int) -> int:
        buf = self.buf
        updated = 0
        # the editor's fixed cost (unpack and repack all opcodes) pays off after a few sets
        if buf[4] == SPARSE and len(pairs) > 4 + len(buf) // 500:
            editor = SparseEditor.parse(buf, max_bytes)
            if editor is not None:
                for k, (index, count) in enumerate(pairs):
                    result = editor.set(index, count)
                    if result == 2:                # promote: finish on the dense form
                        editor.write(buf)
                        if _promote(buf, index, count) < 0:
                            return -1
                        updated += 1
                        pairs = pairs[k + 1:]
                        break
                    if result < 0:
                        if updated:
                            editor.write(buf)
                        return -1
                    updated += result
                else:
                    if updated:
                        editor.write(buf)
                    return updated
        for index, count in pairs:
            if buf[4] == DENSE:
                if dense_set(buf, index, count):
                    updated += 1
            else:
                result = sparse_set(buf, index, count, max_bytes)
                if result < 0:
                    return -1
                updated += result
        if updated:
            _invalidate(buf)
        return updated

    def count(self) -> int:
        """PFCOUNT of this key alone, using and refreshing the header's cached value."""
        buf = self.buf
        card = cached_card(buf)
        if card is None:
            card = card_of(buf)
            store_card(buf, card)
        return card

    def set_registers(self, raw: bytes | bytearray, max_bytes: int) -> bool:
        """PFMERGE's write phase: raise every register to ``raw``'s, in index order (as
        Valkey does, so a sparse target ends with the same bytes); False if corrupt."""
        buf = self.buf
        if buf[4] == SPARSE and any(raw):
            editor = SparseEditor.parse(buf, max_bytes)
            if editor is None:                     # ends inside an XZERO: the slow path
                for j in range(REGISTERS):
                    if raw[j] and buf[4] == SPARSE and sparse_set(buf, j, raw[j], max_bytes) < 0:
                        return False
                editor = None
            for j in range(REGISTERS if editor is not None else 0):
                v = raw[j]
                if v:
                    result = editor.set(j, v)
                    if result == 2:
                        editor.write(buf)
                        if not to_dense(buf):
                            return False
                        break
                    if result < 0:
                        return False
            else:
                if editor is not None:
                    editor.write(buf)
        if buf[4] == DENSE:
            buf[HDR:] = raw_to_dense(raw_max(registers(buf), raw))
        _invalidate(buf)
        return True

    def _check(self) -> None:
        buf = self.buf
        assert is_valid(buf), "header"
        if buf[4] == SPARSE:
            sparse_to_raw(buf)          # raises unless the runs cover 16384 registers
            p = HDR
            while p < len(buf):
                op = buf[p]
                p += 2 if 0x40 <= op < 0x80 else 1
            assert p == len(buf), "opcode cut short"
        else:
            assert len(buf) == DENSE_SIZE, "dense length"


def selftest(rand, cycles: int = 8, max_checkpoint: int = 100_000,
             sparse_max_bytes: int = 3000) -> str | None:
    """PFSELFTEST: the checks of Valkey's self test, sized for pure Python (Valkey runs 1000
    register cycles and counts up to 10 million; here ``cycles`` and ``max_checkpoint``).
    Returns None on success, else the failure text. ``rand`` is a ``random.Random``.

    1. Every register is set to a random value with the one-register writer, read back with
       the one-register reader, and the bulk unpacker/packer must agree with both.
    2. Elements are added to a dense and a sparse HLL at once; at each power of ten the
       sparse one must still be sparse while small, both must count the same, and the error
       must stay within six standard errors.
    """
    buf = bytearray(DENSE_SIZE)
    for _ in range(cycles):
        values = bytes(rand.getrandbits(6) for _ in range(REGISTERS))
        for i, v in enumerate(values):
            _dense_put(buf, i, v)
        for i, v in enumerate(values):
            got = dense_get(buf, i)
            if got != v:
                return f"Register {i} should be {v} but is {got}"
        if raw_to_dense(values) != buf[HDR:] or dense_to_raw(buf[HDR:]) != values:
            return "bulk register packing disagrees with single register access"
    dense = bytearray(b"HYLL" + bytes(DENSE_SIZE - 4))
    sparse = HyperLogLog()
    relerr = 1.04 / math.sqrt(REGISTERS)
    checkpoint = 1
    seed = rand.getrandbits(64)
    pack = struct.Struct("<Q").pack
    for j in range(1, max_checkpoint + 1):
        element = pack(j ^ seed)
        index, count = pat_len(element)
        dense_set(dense, index, count)
        if sparse.buf[4] == DENSE:
            dense_set(sparse.buf, index, count)
        elif sparse_set(sparse.buf, index, count, sparse_max_bytes) < 0:
            return "sparse representation corrupted"
        if j == checkpoint:
            if j < sparse_max_bytes // 2 and sparse.buf[4] != SPARSE:
                return "sparse encoding not used"
            card = estimate(histogram(dense))
            if card != estimate(histogram(sparse.buf)):
                return "dense/sparse disagree"
            maxerr = 1 if j == 10 else math.ceil(relerr * 6 * checkpoint)
            abserr = abs(checkpoint - card)
            if abserr > maxerr:
                return f"Too big error. card:{checkpoint} abserr:{abserr}"
            checkpoint *= 10
    return None
