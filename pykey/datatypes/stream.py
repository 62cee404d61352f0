"""The stream value: entries ordered by ID, and consumer groups with their pending lists.

Valkey keeps a stream as a radix tree of listpacks ("nodes"), each holding up to
``stream-node-max-entries`` entries or ``stream-node-max-bytes`` bytes. That layout shows
through the protocol: ``MAXLEN ~``/``MINID ~`` trim only whole nodes, XDEL leaves
tombstones inside a node (a node goes when its last live entry does), and XINFO STREAM
reports the tree's key and node counts. So we keep the same nodes and replay the same
rules, with the byte size of each node's listpack computed exactly from Valkey's encodings.

An ID is one int, ``ms << 64 | seq``, so IDs compare and bisect as plain ints.

Why nodes are packed: as Python objects an entry costs ~150 bytes (its ID int, a tuple, a
bytes object per value, list slots), twelve times redis-server's ~14 bytes. So only the
last node, the one XADD appends to, is kept open (a :class:`_Node`: a sorted list of IDs
and a parallel list of field/value tuples, a :class:`Dead` tuple marking a tombstone).
When a new node starts, the previous one is packed into one ``bytes`` object (see
"packed nodes" below: ID deltas, entry kinds and string offsets as arrays of the smallest
integer type, then the strings). Reads go through a cached :class:`_Packed` reader that
seeks with two bisects and unpacks only the entries it returns (or the whole node, kept
while cached, when a reader pages through it). Measured with 1,000,000 ``XADD s * field
<n>`` entries: RSS 180 -> 9 bytes an entry (redis-server 7.0: 16); CPU per command
(in-process, 100,000-entry stream) XADD +4%, random XRANGE COUNT 1 +14%, COUNT 10 +2%,
COUNT 100 -19% (replies are encoded directly, see commands/stream.py), XREAD paging
COUNT 1 +9%, XDEL +25% (a tombstone rewrites the node's bytes), RDB save +16%.

Complexities (N entries, K = N / node size nodes, S = node size, P pending entries):
- append: O(1) amortised (O(S) to pack the node being closed, once per S appends);
- lookup of one ID, start of a range: O(log N) (bisect over nodes, then within one node),
  plus O(1) to prepare a packed node's reader when it is not cached;
- a range of M entries: O(log N + M);
- delete one ID: O(log N + S) (a packed node's bytes are rewritten), plus O(K) list
  shifting when a whole node goes (memmove);
- trim: O(entries removed + K) (whole nodes are dropped from the head);
- pending-list operations: O(log P) (sortedcontainers' SortedDict).
"""
from __future__ import annotations

import re
import struct
import sys
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Sequence
from functools import lru_cache
from itertools import accumulate, repeat

from sortedcontainers import SortedDict, SortedList

MASK64 = (1 << 64) - 1
MAX_ID = (1 << 128) - 1
INVALID_ENTRIES_READ = -1          # Valkey's SCG_INVALID_ENTRIES_READ
LISTPACK_MAX_SIZE = 1 << 30        # STREAM_LISTPACK_MAX_SIZE
_I64_MAX = (1 << 63) - 1
_LP_FIXED = 7 + 2                  # listpack header + end byte, and the master's 0 terminator
_FLAGS_SIZE = 2                    # the flags element (0..3) always takes one byte + backlen


def make_id(ms: int, seq: int) -> int:
    return ms << 64 | seq


def id_ms(i: int) -> int:
    return i >> 64


def id_seq(i: int) -> int:
    return i & MASK64


def format_id(i: int) -> bytes:
    """``<ms>-<seq>``, as replies and propagated commands carry an ID."""
    return b"%d-%d" % (i >> 64, i & MASK64)


def int_size(v: int) -> int:
    """Bytes a listpack integer element takes (encoding + back-length), Valkey's rules."""
    if 0 <= v <= 127:
        return 2
    if -4096 <= v <= 4095:
        return 3
    if -32768 <= v <= 32767:
        return 4
    if -8388608 <= v <= 8388607:
        return 5
    if -2147483648 <= v <= 2147483647:
        return 6
    return 10


def _i64(v: int) -> int:
    """A uint64 difference as the int64 lpAppendInteger stores."""
    v &= MASK64
    return v - (1 << 64) if v >= 1 << 63 else v


def entry_size(v: bytes) -> int:
    """Bytes a listpack string element takes (lpAppend stores integer-looking strings as
    integers): encoding + data + back-length."""
    n = len(v)
    if n < 21 and n:
        c = v[0]
        if 49 <= c <= 57 or (c == 48 and n == 1):
            if v.isdigit() and v.isascii() and (n < 19 or int(v) <= _I64_MAX):
                return int_size(int(v))
        elif c == 45 and n > 1 and 49 <= v[1] <= 57 and v[1:].isdigit() and v.isascii():
            if n < 20 or int(v) >= -_I64_MAX - 1:
                return int_size(int(v))
    if n < 64:
        return n + 2
    if n < 4096:
        return n + 3 if n + 2 <= 127 else n + 4
    enc = n + 5
    if enc < 16383:
        return enc + 2
    if enc < 2097151:
        return enc + 3
    if enc < 268435455:
        return enc + 4
    return enc + 5


class Dead(tuple):
    """A deleted entry's field/value tuple: skipped by reads, kept for the node's bytes (and
    for an RDB writer, which saves tombstones as Valkey's listpacks hold them)."""

    __slots__ = ()


class NACK:
    """A pending entry: when it was last delivered, how often, and to whom."""

    __slots__ = ("delivery_time", "delivery_count", "consumer")

    def __init__(self, delivery_time: int, consumer: Consumer | None, delivery_count: int = 1) -> None:
        self.delivery_time = delivery_time
        self.delivery_count = delivery_count
        self.consumer = consumer


class ConsumerPEL:
    """A consumer's pending entries: a mapping ID -> NACK in ID order, like the group's
    SortedDict, but holding only the sorted IDs; the NACKs are looked up in the group's
    PEL (an ID is the consumer's when its NACK names the consumer). Why: a second
    SortedDict cost ~60 bytes per pending entry, the ID list ~9.

    Writers keep the invariant: an ID is added only when absent (it was just removed
    from its previous owner, or is new to the group)."""

    __slots__ = ("ids", "group_pel", "owner")

    def __init__(self, group_pel: SortedDict, owner: Consumer) -> None:
        self.ids = SortedList()
        self.group_pel = group_pel
        self.owner = owner

    def __len__(self) -> int:
        return len(self.ids)

    def __iter__(self) -> Iterator[int]:
        return iter(self.ids)

    def __contains__(self, eid: object) -> bool:
        nack = self.group_pel.get(eid)
        return nack is not None and nack.consumer is self.owner

    def get(self, eid: int, default: NACK | None = None) -> NACK | None:
        nack = self.group_pel.get(eid)
        return nack if nack is not None and nack.consumer is self.owner else default

    def __getitem__(self, eid: int) -> NACK:
        nack = self.group_pel.get(eid)
        if nack is None or nack.consumer is not self.owner:
            raise KeyError(eid)
        return nack

    def __setitem__(self, eid: int, nack: NACK) -> None:
        # ``nack`` is the group PEL's; its consumer field may still name the old owner
        self.ids.add(eid)

    def __delitem__(self, eid: int) -> None:
        try:
            self.ids.remove(eid)
        except ValueError:
            raise KeyError(eid) from None

    def keys(self) -> SortedList:
        return self.ids

    def items(self) -> Iterator[tuple[int, NACK]]:
        gp = self.group_pel
        return ((eid, gp[eid]) for eid in self.ids)

    def irange(self, minimum: int | None = None, maximum: int | None = None) -> Iterator[int]:
        return self.ids.irange(minimum, maximum)


class Consumer:
    """A consumer of a group: its pending entries share their NACKs with the group's PEL."""

    __slots__ = ("name", "seen_time", "active_time", "pel")

    def __init__(self, name: bytes, seen_time: int, active_time: int, group_pel: SortedDict) -> None:
        self.name = name
        self.seen_time = seen_time        # last attempt to read or claim
        self.active_time = active_time    # last successful read or claim; -1: never
        self.pel = ConsumerPEL(group_pel, self)


class Group:
    """A consumer group: last delivered ID, read counter, PEL and consumers."""

    __slots__ = ("last_id", "entries_read", "pel", "consumers")

    def __init__(self, last_id: int, entries_read: int = INVALID_ENTRIES_READ) -> None:
        self.last_id = last_id
        self.entries_read = entries_read
        self.pel: SortedDict = SortedDict()          # id -> NACK
        self.consumers: dict[bytes, Consumer] = {}

    def consumer_names(self) -> list[bytes]:
        """Consumers in the radix tree's order (byte order of names)."""
        return sorted(self.consumers)

    def create_consumer(self, name: bytes, now: int) -> Consumer | None:
        """A new consumer, or None if it exists (streamCreateConsumer)."""
        if name in self.consumers:
            return None
        consumer = Consumer(name, now, -1, self.pel)
        self.consumers[name] = consumer
        return consumer

    def delete_consumer(self, consumer: Consumer) -> int:
        """Drop a consumer and its pending entries from the group; how many it had."""
        pel = self.pel
        for eid in consumer.pel:
            del pel[eid]
        del self.consumers[consumer.name]
        return len(consumer.pel)

    def ack(self, eid: int) -> bool:
        nack = self.pel.pop(eid, None)
        if nack is None:
            return False
        del nack.consumer.pel[eid]
        return True

    def assign(self, eid: int, nack: NACK, consumer: Consumer) -> None:
        """Move ``nack`` (already in the group PEL) to ``consumer``'s PEL."""
        old = nack.consumer
        if old is not consumer:
            if old is not None:
                del old.pel[eid]
            consumer.pel[eid] = nack
            nack.consumer = consumer


class _Node:
    """One listpack of Valkey's radix tree: its master ID, master fields and entries."""

    __slots__ = ("master", "mfields", "ids", "items", "live", "deleted", "nbytes")

    def __init__(self, master: int, mfields: tuple[bytes, ...]) -> None:
        self.master = master
        self.mfields = mfields
        self.ids: list[int] = []
        self.items: list[tuple[bytes, ...]] = []           # Dead: a tombstone
        self.live = 0
        self.deleted = 0
        # listpack bytes, all but the live/deleted counters (which change size as they grow)
        self.nbytes = _LP_FIXED + int_size(len(mfields)) + sum(map(entry_size, mfields))

    def lp_bytes(self) -> int:
        return self.nbytes + int_size(self.live) + int_size(self.deleted)

    # the read protocol it shares with _Packed
    def size(self) -> int:
        return len(self.ids)

    def seek(self, eid: int, right: bool = False) -> int:
        return bisect_right(self.ids, eid) if right else bisect_left(self.ids, eid)

    def window(self, lo: int, hi: int) -> tuple[list[int], list[tuple[bytes, ...]], int]:
        return self.ids, self.items, 0

    def copy(self) -> _Node:
        n = _Node.__new__(_Node)
        n.master = self.master
        n.mfields = self.mfields
        n.ids = self.ids.copy()
        n.items = self.items.copy()
        n.live = self.live
        n.deleted = self.deleted
        n.nbytes = self.nbytes
        return n


def entry_bytes(node: _Node, eid: int, item: tuple[bytes, ...], same: bool | None = None) -> int:
    """Bytes one entry takes in its node's listpack: flags, ID deltas from the master,
    values (and field names with their count unless they are the master's), lp-count."""
    master = node.master
    d = (eid >> 64) - (master >> 64)
    size = _FLAGS_SIZE + (2 if 0 <= d <= 127 else int_size(_i64(d)))
    d = (eid & MASK64) - (master & MASK64)
    size += 2 if 0 <= d <= 127 else int_size(_i64(d))
    nfields = len(item) >> 1
    for i in range(1, len(item), 2):
        size += entry_size(item[i])
    if same is None:
        mfields = node.mfields
        same = len(mfields) == nfields and mfields == item[0::2]
    if same:
        return size + int_size(nfields + 3)
    for i in range(0, len(item), 2):
        size += entry_size(item[i])
    return size + int_size(nfields) + int_size(2 * nfields + 4)


# ---------------------------------------------------------------------- packed nodes
# A closed node as one bytes object: a header, then per-entry arrays of the smallest
# unsigned type that holds them (absent when all zero), then every string concatenated:
#   header   entries, live, master field count, string count, listpack bytes (see
#            _Node.nbytes), and the four array typecodes ("-": absent, all zero)
#   ms       entry ms - master ms
#   seq      entry seq - master seq when the ms equals the master's, else the entry seq
#   kind     0: fields are the master's (only values stored), else 2 * field count
#            (fields and values stored); | 1 for a tombstone
#   offs     where each string starts in the blob, and where the last one ends (string
#            count + 1 of them); the strings are the master fields, then per entry its
#            values (or field, value, ...)
# Packing and unpacking are a few C-speed array conversions plus one slice per string.
_HDR = struct.Struct("<IIIII4s")
_U32 = struct.Struct("<I")
_ABSENT = 45                       # "-"


def _typecode(values: list[int]) -> str:
    top = max(values, default=0)
    if not top:
        return "-"
    return "B" if top < 256 else "H" if top < 65536 else "I" if top < 1 << 32 else "Q"


def _pack(node: _Node) -> bytes:
    """The packed bytes of ``node`` (see above); :func:`_unpack` inverts it."""
    master = node.master
    mms, mseq = master >> 64, master & MASK64
    ids = node.ids
    msd = [(e >> 64) - mms for e in ids]
    seqs = [(e & MASK64) - mseq if not d else e & MASK64 for e, d in zip(ids, msd, strict=True)]
    mf = node.mfields
    nmf = len(mf)
    strs = list(mf)
    kinds = []
    plain = True
    if nmf == 1:
        f = mf[0]
        for item in node.items:
            if len(item) == 2 and (item[0] is f or item[0] == f):
                strs.append(item[1])
                if item.__class__ is Dead:
                    kinds.append(1)
                    plain = False
                else:
                    kinds.append(0)
            else:
                strs += item
                kinds.append(len(item) | (item.__class__ is Dead))
                plain = False
    else:
        for item in node.items:
            if len(item) == 2 * nmf and item[0::2] == mf:
                strs += item[1::2]
                k = 0
            else:
                strs += item
                k = len(item)
            if item.__class__ is Dead:
                k |= 1
            kinds.append(k)
            if k:
                plain = False
    if plain:
        kinds = []
    parts = [b""]
    codes = []
    for values in (msd, seqs, kinds):
        tc = _typecode(values)
        codes.append(tc)
        if tc != "-":
            parts.append(array(tc, values).tobytes())
    # the offsets array's item size depends on the blob's size, which includes it
    head = _HDR.size + sum(map(len, parts))
    data = sum(map(len, strs))
    size = 1
    while head + (len(strs) + 1) * size + data >= 1 << (8 * size) and size < 8:
        size *= 2
    start = head + (len(strs) + 1) * size
    tc = "BH I   Q"[size - 1]
    codes.append(tc)
    parts.append(array(tc, accumulate(map(len, strs), initial=start)).tobytes())
    parts[0] = _HDR.pack(len(ids), node.live, nmf, len(strs), node.nbytes, "".join(codes).encode())
    parts += strs
    return b"".join(parts)


def _header(blob: bytes) -> tuple[int, int, int, int, int, bytes]:
    """(entries, live, master fields, strings, listpack bytes, typecodes) of a packed node."""
    return _HDR.unpack_from(blob)


_SIZES = {66: 1, 72: 2, 73: 4, 81: 8}      # B H I Q
_CODES = {66: "B", 72: "H", 73: "I", 81: "Q"}


def _last_id(blob: bytes, master: int) -> int:
    """The last entry's ID (tombstones included) of a packed node, without unpacking it."""
    n, _, _, _, _, codes = _HDR.unpack_from(blob)
    off = _HDR.size
    d = s = 0
    tc = codes[0]
    if tc != _ABSENT:
        size = _SIZES[tc]
        d = int.from_bytes(blob[off + (n - 1) * size:off + n * size], sys.byteorder)
        off += n * size
    tc = codes[1]
    if tc != _ABSENT:
        size = _SIZES[tc]
        s = int.from_bytes(blob[off + (n - 1) * size:off + n * size], sys.byteorder)
    if not d:
        return master + s
    return ((master >> 64) + d) << 64 | s


class _Packed:
    """A reader over one packed node: its per-entry arrays as typed memoryviews (no copy),
    so a seek is two bisects and a read unpacks only the entries it returns. Readers are
    cached (:func:`_reader`), and a node read a second time is unpacked whole and kept in
    its reader, so a consumer paging through a node pays for it once."""

    __slots__ = ("blob", "master", "n", "live", "nbytes", "mfields", "msd", "seqs", "kinds",
                 "offs", "first", "all_ids", "all_items", "partial")

    def __init__(self, blob: bytes, master: int) -> None:
        n, live, nmf, nstr, nbytes, codes = _HDR.unpack_from(blob)
        mv = memoryview(blob)
        off = _HDR.size
        arrays: list[memoryview | None] = []
        for i, tc in enumerate(codes):
            if tc == _ABSENT:
                arrays.append(None)
                continue
            end = off + (nstr + 1 if i == 3 else n) * _SIZES[tc]
            arrays.append(mv[off:end].cast(_CODES[tc]))
            off = end
        self.blob = blob
        self.master = master
        self.n = n
        self.live = live
        self.nbytes = nbytes
        self.msd, self.seqs, self.kinds, self.offs = arrays
        self.mfields = tuple(self.strings(0, nmf))
        self.first: Sequence[int] | None = None  # per entry, the index of its first string
        self.all_ids: list[int] | None = None
        self.all_items: list[tuple[bytes, ...]] | None = None
        self.partial: tuple[int, int] | None = None      # the last window read

    def strings(self, a: int, b: int) -> list[bytes]:
        """Strings a..b-1 of the node."""
        blob, offs = self.blob, self.offs
        if b - a == 1:
            return [blob[offs[a]:offs[b]]]
        return [blob[x:y] for x, y in zip(offs[a:b], offs[a + 1:b + 1], strict=True)]

    def size(self) -> int:
        return self.n

    def window(self, lo: int, hi: int) -> tuple[list[int], list[tuple[bytes, ...]], int]:
        """(ids, items, offset) holding entries lo..hi-1 (entry k at k - offset). A read of
        part of the node unpacks only that window; a read that continues the previous one
        (a consumer paging forward or backward) unpacks the node whole and keeps it (while
        the reader stays cached), so paging costs one unpacking per node."""
        ids = self.all_ids
        if ids is None:
            last = self.partial
            if hi - lo < self.n and (last is None or (lo != last[1] and hi != last[0])):
                # a window, unless this read continues the previous one (paging)
                self.partial = (lo, hi)
                return self.ids(lo, hi), self.items(lo, hi), lo
            self.all_ids = ids = self.ids(0, self.n)
            self.all_items = self.items(0, self.n)
        return ids, self.all_items, 0                     # type: ignore[return-value]

    def seek(self, eid: int, right: bool = False) -> int:
        """bisect_left (bisect_right with ``right``) of ``eid`` among the entries' IDs."""
        if self.all_ids is not None:
            return bisect_right(self.all_ids, eid) if right else bisect_left(self.all_ids, eid)
        master = self.master
        d = (eid >> 64) - (master >> 64)
        if d < 0:
            return 0
        s = eid & MASK64
        msd = self.msd
        if msd is None:                     # every entry has the master's ms
            if d > 0:
                return self.n
            lo, hi = 0, self.n
        else:
            lo = bisect_left(msd, d)
            hi = bisect_right(msd, d, lo)
            if lo == hi:
                return lo
        if d == 0:
            s -= master & MASK64
            if s < 0:
                return lo
        seqs = self.seqs
        if seqs is None:                    # all stored sequence numbers are 0
            return hi if s > 0 or right else lo
        return bisect_right(seqs, s, lo, hi) if right else bisect_left(seqs, s, lo, hi)

    def ids(self, lo: int, hi: int) -> list[int]:
        """The IDs of entries lo..hi-1."""
        master = self.master
        seqs = self.seqs
        msd = self.msd
        if hi - lo == 1:
            s = seqs[lo] if seqs is not None else 0
            d = msd[lo] if msd is not None else 0
            return [master + s if not d else ((master >> 64) + d) << 64 | s]
        if seqs is None:
            seqs = [0] * self.n
        if msd is None:
            return list(map(master.__add__, seqs[lo:hi]))
        z = bisect_right(msd, 0, lo, hi)          # entries with the master's ms come first
        out = list(map(master.__add__, seqs[lo:z])) if z > lo else []
        mms = master >> 64
        out += [(mms + d) << 64 | s for d, s in zip(msd[z:hi], seqs[z:hi], strict=True)]
        return out

    def items(self, lo: int, hi: int) -> list[tuple[bytes, ...]]:
        """The field/value tuples of entries lo..hi-1 (:class:`Dead` for tombstones)."""
        mf = self.mfields
        nmf = len(mf)
        kinds = self.kinds
        if kinds is None:
            strs = self.strings(nmf + lo * nmf, nmf + hi * nmf)
            if nmf == 1:
                return list(zip(repeat(mf[0]), strs))
            columns = []
            for i, f in enumerate(mf):
                columns += (repeat(f), strs[i::nmf])
            return list(zip(*columns, strict=False))
        first = self.first
        if first is None:
            if max(kinds) < 2:           # tombstones only: every entry holds nmf values
                first = range(nmf, nmf * (self.n + 2), nmf)
            else:
                first = list(accumulate((nmf if k < 2 else k & ~1 for k in kinds), initial=nmf))
            self.first = first
        base = first[lo]
        strs = self.strings(base, first[hi])
        out = []
        fv = [b""] * (2 * nmf)
        fv[0::2] = mf
        for k in range(lo, hi):
            kind = kinds[k]
            a, b = first[k] - base, first[k + 1] - base
            if kind < 2:
                fv[1::2] = strs[a:b]
                item = tuple(fv)
            else:
                item = tuple(strs[a:b])
            out.append(Dead(item) if kind & 1 else item)
        return out

    def tombstone(self, k: int) -> bytes | None:
        """The node's bytes with entry ``k`` (live) marked deleted, or None when the node
        has no kind array yet (all entries plain: it has to be packed again)."""
        kinds = self.kinds
        if kinds is None:
            return None
        blob = self.blob
        codes = blob[_HDR.size - 4:_HDR.size]
        pos = _HDR.size + k * kinds.itemsize
        for tc in codes[:2]:
            if tc != _ABSENT:
                pos += self.n * _SIZES[tc]
        return b"".join((blob[:4], _U32.pack(self.live - 1), blob[8:pos], bytes((blob[pos] | 1,)), blob[pos + 1:]))

    def dead(self, k: int) -> bool:
        kinds = self.kinds
        return kinds is not None and bool(kinds[k] & 1)

    def node(self) -> _Node:
        """A private unpacked copy, to change and pack again."""
        node = _Node.__new__(_Node)
        node.master = self.master
        node.mfields = self.mfields
        node.ids = self.ids(0, self.n)
        node.items = self.items(0, self.n)
        node.live = self.live
        node.deleted = self.n - self.live
        node.nbytes = self.nbytes
        return node


_reader = lru_cache(maxsize=256)(_Packed)


def _unpack(blob: bytes, master: int) -> _Node:
    return _reader(blob, master).node()


class StreamType:
    """A stream value (see the module docstring for the layout and complexities)."""

    __slots__ = ("_nodes", "keys", "length", "last_id", "first_id", "max_deleted_id",
                 "entries_added", "groups")
    type_name = "stream"

    def __init__(self) -> None:
        self._nodes: list[_Node | bytes] = []    # packed bytes, but the last may be a _Node
        self.keys: list[int] = []                # the nodes' master IDs, for bisect
        self.length = 0
        self.last_id = 0
        self.first_id = 0                 # first live entry, 0 when empty
        self.max_deleted_id = 0
        self.entries_added = 0
        self.groups: dict[bytes, Group] | None = None

    def __len__(self) -> int:
        return self.length

    def __bool__(self) -> bool:
        # an empty stream is still a key (unlike an empty list): never falsy
        return True

    def encoding(self, config: object = None) -> str:
        return "stream"

    # ------------------------------------------------------------------ nodes
    @property
    def nodes(self) -> list[_Node]:
        """Every node unpacked (read-only views, for tests and introspection): O(N)."""
        return [self._node(i) for i in range(len(self._nodes))]

    def node_count(self) -> int:
        return len(self._nodes)

    def iter_nodes(self) -> Iterator[_Node]:
        """The nodes in order, each unpacked as it is reached (read-only; RDB writer)."""
        keys = self.keys
        for i, node in enumerate(self._nodes):
            yield _unpack(node, keys[i]) if node.__class__ is bytes else node   # type: ignore[arg-type]

    def _node(self, i: int) -> _Node:
        """Node ``i`` unpacked (a copy when it is packed)."""
        node = self._nodes[i]
        if node.__class__ is bytes:
            return _unpack(node, self.keys[i])        # type: ignore[arg-type]
        return node                                   # type: ignore[return-value]

    def _writable(self, i: int) -> _Node:
        """Node ``i`` for changing: hand it back to :meth:`_store` afterwards."""
        return self._node(i)

    def _rd(self, i: int) -> _Node | _Packed:
        """Node ``i`` for reading through size()/seek()/window(): the open node itself,
        or the (cached) reader of a packed one."""
        node = self._nodes[i]
        if node.__class__ is bytes:
            return _reader(node, self.keys[i])        # type: ignore[arg-type]
        return node                                   # type: ignore[return-value]

    def _store(self, i: int, node: _Node) -> None:
        """Put back a changed node: packed unless it is the tail, which appends go to."""
        nodes = self._nodes
        if i == len(nodes) - 1:
            nodes[i] = node
        else:
            nodes[i] = _pack(node)

    def _node_live(self, i: int) -> int:
        node = self._nodes[i]
        if node.__class__ is bytes:
            return _HDR.unpack_from(node)[1]          # type: ignore[arg-type]
        return node.live                              # type: ignore[union-attr]

    def _node_last_id(self, i: int) -> int:
        """The last entry's ID in node ``i``, tombstones included."""
        node = self._nodes[i]
        if node.__class__ is bytes:
            return _last_id(node, self.keys[i])       # type: ignore[arg-type]
        return node.ids[-1]                           # type: ignore[union-attr]

    def last_entry_id(self) -> int:
        """The last entry's ID, tombstones included; 0 when there are no nodes."""
        return self._node_last_id(len(self._nodes) - 1) if self._nodes else 0

    # ------------------------------------------------------------------ adding
    def append(self, eid: int, fv: Sequence[bytes], max_bytes: int, max_entries: int) -> None:
        """Add an entry whose ID the caller checked is above ``last_id`` (streamAppendItem).

        ``fv`` is field, value, field, value...; ``max_bytes``/``max_entries`` are the
        stream-node-max-* limits deciding when a new node starts."""
        nodes = self._nodes
        n = len(fv)
        if nodes:
            node = nodes[-1]
            if node.__class__ is bytes:
                total, live, _, _, nbytes, _ = _HDR.unpack_from(node)   # type: ignore[arg-type]
                dead = total - live
            else:
                live, dead, nbytes = node.live, node.deleted, node.nbytes    # type: ignore[union-attr]
            if max_bytes <= 0 or max_bytes > LISTPACK_MAX_SIZE:
                max_bytes = LISTPACK_MAX_SIZE
            used = nbytes + (2 if live < 128 else int_size(live)) + (2 if dead < 128 else int_size(dead))
            used += len(fv[0]) + len(fv[1]) if n == 2 else sum(map(len, fv))
            if used >= max_bytes or (max_entries and live + dead >= max_entries):
                node = None
            elif node.__class__ is bytes:
                # the tail was packed (the one after it went, or it came from a file) and
                # the limits let it grow again: it becomes the open tail
                nodes[-1] = node = self._writable(len(nodes) - 1)
        else:
            node = None
        if node is None:
            if nodes and nodes[-1].__class__ is not bytes:
                nodes[-1] = _pack(nodes[-1])            # type: ignore[arg-type]
            node = _Node(eid, tuple(fv[0::2]))
            nodes.append(node)
            self.keys.append(eid)
            item = tuple(fv)
            same = True
        else:
            mfields = node.mfields
            if n == 2:
                if len(mfields) == 1 and mfields[0] == fv[0]:
                    same = True
                    item = (mfields[0], fv[1])          # share the master's field object
                else:
                    same = False
                    item = (fv[0], fv[1])
            elif len(mfields) * 2 == n and mfields == tuple(fv[0::2]):
                same = True
                values = list(fv)
                values[0::2] = mfields
                item = tuple(values)
            else:
                same = False
                item = tuple(fv)
        # entry_bytes, inlined for the common small case
        if same and n == 2:
            master = node.master
            d1 = (eid >> 64) - (master >> 64)
            d2 = (eid & MASK64) - (master & MASK64)
            size = (_FLAGS_SIZE + 2 + (2 if 0 <= d1 <= 127 else int_size(_i64(d1)))
                    + (2 if 0 <= d2 <= 127 else int_size(_i64(d2))) + entry_size(fv[1]))
        else:
            size = entry_bytes(node, eid, item, same)
        node.nbytes += size
        node.ids.append(eid)
        node.items.append(item)
        node.live += 1
        self.length += 1
        self.entries_added += 1
        self.last_id = eid
        if self.length == 1:
            self.first_id = eid

    def next_id(self, now_ms: int) -> int | None:
        """The ID XADD * generates (streamNextID); None once the last ID is the maximum."""
        last = self.last_id
        if now_ms > last >> 64:
            return now_ms << 64
        if last == MAX_ID:
            return None
        return last + 1

    # ------------------------------------------------------------------ reading
    def _node_index(self, eid: int) -> int:
        """The node a seek to ``eid`` starts from (rax seek "<=", else the first node)."""
        i = bisect_right(self.keys, eid) - 1
        return i if i > 0 else 0

    def get(self, eid: int) -> tuple[bytes, ...] | None:
        """The fields of a live entry, or None (streamEntryExists)."""
        if not self._nodes:
            return None
        rd = self._rd(self._node_index(eid))
        j = rd.seek(eid)
        if j < rd.size():
            ids, items, off = rd.window(j, j + 1)
            if ids[j - off] == eid:
                item = items[j - off]
                if item.__class__ is not Dead:
                    return item
        return None

    def range(self, start: int = 0, end: int = MAX_ID, count: int = 0,
              rev: bool = False) -> Iterator[tuple[int, tuple[bytes, ...]]]:
        """Live entries with start <= ID <= end, at most ``count`` (0: all), in order.

        A packed node is unpacked a window at a time, the window no larger than the
        entries still wanted, so a small COUNT costs little whatever the node size."""
        nodes = self._nodes
        if not nodes or start > end:
            return
        left = count if count > 0 else -1
        if not rev:
            ni = self._node_index(start)
            rd = self._rd(ni)
            j = rd.seek(start)
            while True:
                size = rd.size()
                while j < size:
                    hi = size if left < 0 else min(size, j + left)
                    ids, items, off = rd.window(j, hi)
                    for k in range(j - off, hi - off):
                        item = items[k]
                        if item.__class__ is Dead:
                            continue
                        eid = ids[k]
                        if eid > end:
                            return
                        yield eid, item
                        left -= 1
                        if not left:
                            return
                    j = hi
                ni += 1
                if ni >= len(nodes):
                    return
                rd = self._rd(ni)
                j = 0
        else:
            ni = self._node_index(end)
            rd = self._rd(ni)
            j = rd.seek(end, right=True)              # entries j-1, j-2, ... are <= end
            while True:
                while j > 0:
                    lo = 0 if left < 0 else max(0, j - left)
                    ids, items, off = rd.window(lo, j)
                    for k in range(j - 1 - off, lo - 1 - off, -1):
                        item = items[k]
                        if item.__class__ is Dead:
                            continue
                        eid = ids[k]
                        if eid < start:
                            return
                        yield eid, item
                        left -= 1
                        if not left:
                            return
                    j = lo
                ni -= 1
                if ni < 0:
                    return
                rd = self._rd(ni)
                j = rd.size()

    def after(self, start: int, count: int = 0) -> list[tuple[int, tuple[bytes, ...]]]:
        """Live entries with ID >= ``start``, at most ``count`` (0: all), as a list: the
        forward :meth:`range` without a generator, for the XREAD family's hot path."""
        nodes = self._nodes
        out: list[tuple[int, tuple[bytes, ...]]] = []
        if not nodes:
            return out
        ni = self._node_index(start)
        rd = self._rd(ni)
        j = rd.seek(start)
        last = len(nodes)
        while True:
            size = rd.size()
            while j < size:
                hi = size if not count else min(size, j + count - len(out))
                ids, items, off = rd.window(j, hi)
                for k in range(j - off, hi - off):
                    item = items[k]
                    if item.__class__ is not Dead:
                        out.append((ids[k], item))
                        if len(out) == count:
                            return out
                j = hi
            ni += 1
            if ni >= last:
                return out
            rd = self._rd(ni)
            j = 0

    def last_valid_id(self) -> int:
        """The last live entry's ID, 0 if none (streamLastValidID)."""
        for i in range(len(self._nodes) - 1, -1, -1):
            node = self._nodes[i]
            if node.__class__ is bytes:
                rd = _reader(node, self.keys[i])      # type: ignore[arg-type]
                for k in range(rd.n - 1, -1, -1):
                    if not rd.dead(k):
                        return rd.ids(k, k + 1)[0]
                continue
            items = node.items                        # type: ignore[union-attr]
            for k in range(len(items) - 1, -1, -1):
                if items[k].__class__ is not Dead:
                    return node.ids[k]                # type: ignore[union-attr]
        return 0

    def first_live_id(self) -> int:
        """The first live entry's ID, 0 if none."""
        for eid, _ in self.range(count=1):
            return eid
        return 0

    def first_id_with_tombstones(self) -> int:
        """The first entry's ID, tombstones included (streamGetEdgeID(first, no skip))."""
        return self.keys[0] if self.keys else MAX_ID

    # ------------------------------------------------------------------ removing
    def delete(self, eid: int) -> bool:
        """XDEL one ID: mark it deleted, or drop its node if it was the last live entry."""
        nodes = self._nodes
        if not nodes:
            return False
        ni = self._node_index(eid)
        rd = self._rd(ni)
        j = rd.seek(eid)
        if j >= rd.size():
            return False
        if rd.__class__ is _Packed:
            if rd.ids(j, j + 1)[0] != eid or rd.dead(j):         # type: ignore[union-attr]
                return False
        elif rd.ids[j] != eid or rd.items[j].__class__ is Dead:  # type: ignore[union-attr,index]
            return False
        if self._node_live(ni) == 1:
            del nodes[ni]
            del self.keys[ni]
        elif rd.__class__ is _Packed and (blob := rd.tombstone(j)) is not None:   # type: ignore[union-attr]
            nodes[ni] = blob
        else:
            node = self._writable(ni)
            node.items[j] = Dead(node.items[j])
            node.live -= 1
            node.deleted += 1
            self._store(ni, node)
        self.length -= 1
        return True

    def trim(self, maxlen: int | None = None, minid: int | None = None, approx: bool = False,
             limit: int = 0) -> int:
        """Trim from the head by MAXLEN or MINID (streamTrim); the number of entries removed.

        With ``approx`` only whole nodes go; ``limit`` (0: none) caps the entries removed."""
        nodes = self._nodes
        deleted = 0
        drop = 0
        by_len = maxlen is not None
        while drop < len(nodes):
            if by_len and self.length <= maxlen:
                break
            entries = self._node_live(drop)
            if limit and deleted + entries > limit:
                break
            if by_len:
                remove = self.length - entries >= maxlen
            else:
                remove = self._node_last_id(drop) < minid
            if remove:
                drop += 1
                self.length -= entries
                deleted += entries
                continue
            if approx:
                break
            node = self._writable(drop)
            ids, items = node.ids, node.items
            removed_here = 0
            for k in range(len(ids)):
                if by_len:
                    if self.length <= maxlen:
                        break
                elif ids[k] >= minid:
                    break
                if items[k].__class__ is not Dead:
                    items[k] = Dead(items[k])
                    removed_here += 1
                    self.length -= 1
            node.live -= removed_here
            node.deleted += removed_here
            deleted += removed_here
            if removed_here:
                self._store(drop, node)
            break
        if drop:
            del nodes[:drop]
            del self.keys[:drop]
        if self.length == 0:
            self.first_id = 0
        elif deleted:
            self.first_id = self.first_live_id()
        return deleted

    def after_delete(self, deleted_first: bool) -> None:
        """Refresh first_id after XDELs (the caller knows whether the first entry went)."""
        if self.length == 0:
            self.first_id = 0
        elif deleted_first:
            self.first_id = self.first_live_id()

    # ------------------------------------------------------------------ read counters
    def has_tombstones_in(self, start: int, end: int = MAX_ID) -> bool:
        """streamRangeHasTombstones: could [start, end] hold a deleted entry?"""
        mdel = self.max_deleted_id
        if not self.length or not mdel:
            return False
        if self.first_id > mdel:
            return False
        return start <= mdel <= end

    def estimate_distance(self, eid: int) -> int:
        """streamEstimateDistanceFromFirstEverEntry: the read counter of ``eid`` when it can
        be known, else INVALID_ENTRIES_READ."""
        added = self.entries_added
        if not added:
            return 0
        if not self.length and eid <= self.last_id:
            return added
        if eid == self.last_id:
            return added
        if eid > self.last_id:
            return INVALID_ENTRIES_READ
        mdel = self.max_deleted_id
        if not mdel or mdel < self.first_id:
            if eid < self.first_id:
                return added - self.length
            if eid == self.first_id:
                return added - self.length + 1
        return INVALID_ENTRIES_READ

    def group_lag(self, group: Group) -> int | None:
        """streamReplyWithCGLag: entries not yet delivered to the group, None if unknown."""
        if not self.entries_added:
            return 0
        if group.entries_read != INVALID_ENTRIES_READ and not self.has_tombstones_in(group.last_id):
            return self.entries_added - group.entries_read
        read = self.estimate_distance(group.last_id)
        if read != INVALID_ENTRIES_READ:
            return self.entries_added - read
        return None

    def advance_group(self, group: Group, eid: int) -> None:
        """A group delivered ``eid`` above its last ID: move the last ID and read counter."""
        if group.entries_read != INVALID_ENTRIES_READ and not self.has_tombstones_in(eid):
            group.entries_read += 1
        elif self.entries_added:
            group.entries_read = self.estimate_distance(eid)
        group.last_id = eid

    # ------------------------------------------------------------------ groups
    def create_group(self, name: bytes, last_id: int, entries_read: int) -> Group | None:
        groups = self.groups
        if groups is None:
            groups = self.groups = {}
        if name in groups:
            return None
        group = groups[name] = Group(last_id, entries_read)
        return group

    def group(self, name: bytes) -> Group | None:
        groups = self.groups
        return groups.get(name) if groups else None

    def group_names(self) -> list[bytes]:
        """Groups in the radix tree's order (byte order of names)."""
        return sorted(self.groups) if self.groups else []

    # ------------------------------------------------------------------ introspection
    def radix_tree_nodes(self) -> int:
        """The node count of Valkey's rax holding the node keys (16-byte big-endian IDs):
        the root, the leaves, every branching point and every child of a branching point."""
        keys = [k.to_bytes(16, "big") for k in self.keys]
        found = {b""}
        found.update(keys)
        for a, b in zip(keys, keys[1:], strict=False):
            lcp = 0
            while a[lcp] == b[lcp]:
                lcp += 1
            found.add(a[:lcp])
            found.add(a[:lcp + 1])
            found.add(b[:lcp + 1])
        return len(found)

    def copy(self) -> StreamType:
        """A deep copy for COPY (streamDup): entries, counters, groups, consumers, PELs."""
        s = StreamType()
        s._nodes = [n if n.__class__ is bytes else n.copy() for n in self._nodes]   # type: ignore[union-attr]
        s.keys = self.keys.copy()
        s.length = self.length
        s.last_id = self.last_id
        s.first_id = self.first_id
        s.max_deleted_id = self.max_deleted_id
        s.entries_added = self.entries_added
        if self.groups is not None:
            s.groups = {}
            for name, g in self.groups.items():
                ng = Group(g.last_id, g.entries_read)
                for cname, cons in g.consumers.items():
                    nc = Consumer(cname, cons.seen_time, cons.active_time, ng.pel)
                    ng.consumers[cname] = nc
                for eid, nack in g.pel.items():
                    owner = ng.consumers[nack.consumer.name] if nack.consumer is not None else None
                    nn = NACK(nack.delivery_time, owner, nack.delivery_count)
                    ng.pel[eid] = nn
                    if owner is not None:
                        owner.pel[eid] = nn
                s.groups[name] = ng
        return s

    def digest_items(self) -> Iterator[bytes]:
        """What DEBUG DIGEST mixes, in Valkey's order: "ms.seq" then fields and values."""
        for eid, item in self.range():
            yield b"%d.%d" % (eid >> 64, eid & MASK64)
            yield from item

    def memory_usage(self, samples: int) -> int:
        """Bytes held, estimated from ``samples`` nodes (MEMORY USAGE)."""
        size = sys.getsizeof(self) + sys.getsizeof(self._nodes) + sys.getsizeof(self.keys)
        nodes = self._nodes
        if nodes:
            taken = nodes[:max(samples, 1)]
            per = 0
            for n in taken:
                per += sys.getsizeof(n) + 40          # the packed bytes, or the open node; its key
                if n.__class__ is bytes:
                    continue
                per += sys.getsizeof(n.ids) + sys.getsizeof(n.items)   # type: ignore[union-attr]
                per += sum(map(sys.getsizeof, n.ids))                     # type: ignore[union-attr]
                for item in n.items:                                      # type: ignore[union-attr]
                    if item.__class__ is not Dead:
                        per += sys.getsizeof(item) + sum(sys.getsizeof(x) for x in item[1::2])
                per += sum(map(sys.getsizeof, n.mfields))                 # type: ignore[union-attr]
            size += per * len(nodes) // len(taken)
        for name, g in (self.groups or {}).items():
            size += sys.getsizeof(name) + sys.getsizeof(g) + 200 * len(g.pel)
            size += sum(sys.getsizeof(c) + sys.getsizeof(c.name) + 64 * len(c.pel) + 300
                        for c in g.consumers.values())
        return size

    # ------------------------------------------------------------------ AOF rewrite
    def rewrite_commands(self, key: bytes) -> Iterator[list[bytes]]:
        """The commands that rebuild this stream (aof.c's rewriteStreamObject): XADD per
        entry (or ``XADD key MAXLEN 0 0-1 x y`` for an empty stream), XSETID with the
        counters, then per group XGROUP CREATE ... ENTRIESREAD, and per consumer either
        XCLAIM ... FORCE for each pending entry or XGROUP CREATECONSUMER."""
        if self.length:
            for eid, item in self.range():
                yield [b"XADD", key, format_id(eid), *item]
        else:
            yield [b"XADD", key, b"MAXLEN", b"0", b"0-1", b"x", b"y"]
        yield [b"XSETID", key, format_id(self.last_id), b"ENTRIESADDED", b"%d" % self.entries_added,
               b"MAXDELETEDID", format_id(self.max_deleted_id)]
        for name in self.group_names():
            g = self.groups[name]          # type: ignore[index]
            yield [b"XGROUP", b"CREATE", key, name, format_id(g.last_id), b"ENTRIESREAD", b"%d" % g.entries_read]
            for cname in g.consumer_names():
                cons = g.consumers[cname]
                if not cons.pel:
                    yield [b"XGROUP", b"CREATECONSUMER", key, name, cname]
                    continue
                for eid, nack in cons.pel.items():
                    yield [b"XCLAIM", key, name, cname, b"0", format_id(eid), b"TIME", b"%d" % nack.delivery_time,
                           b"RETRYCOUNT", b"%d" % nack.delivery_count, b"JUSTID", b"FORCE"]

    # ------------------------------------------------------------------ listpack form
    @staticmethod
    def node_elements(node: _Node) -> list[bytes | int]:
        """A node as the elements of Valkey's listpack (what RDB saves): the master entry
        (count, deleted, fields, 0), then per entry flags, ID deltas, [field count and
        fields unless they are the master's], values, lp-count."""
        mf = node.mfields
        out: list[bytes | int] = [node.live, node.deleted, len(mf), *mf, 0]
        mms, mseq = node.master >> 64, node.master & MASK64
        for eid, item in zip(node.ids, node.items, strict=True):
            n = len(item) >> 1
            same = len(mf) == n and mf == item[0::2]
            flags = (1 if item.__class__ is Dead else 0) | (2 if same else 0)
            out += (flags, _i64((eid >> 64) - mms), _i64((eid & MASK64) - mseq))
            if same:
                out += item[1::2]
                out.append(n + 3)
            else:
                out.append(n)
                out += item
                out.append(2 * n + 4)
        return out

    def load_node(self, master: int, elements: Sequence[bytes | int]) -> None:
        """Append a node read from a listpack (``elements`` as :meth:`node_elements` gives;
        integers may come as ints or digit strings). Raises ValueError when it does not
        hold together. The caller sets the stream's counters and groups afterwards."""
        def num(x: bytes | int) -> int:
            return x if x.__class__ is int else int(x)

        def text(x: bytes | int) -> bytes:
            return b"%d" % x if x.__class__ is int else bytes(x)

        count, deleted, nmf = num(elements[0]), num(elements[1]), num(elements[2])
        if count < 0 or deleted < 0 or nmf < 0:
            raise ValueError("bad stream node header")
        mf = tuple(text(x) for x in elements[3:3 + nmf])
        pos = 3 + nmf
        if num(elements[pos]) != 0:
            raise ValueError("bad master entry terminator")
        pos += 1
        node = _Node(master, mf)
        mms, mseq = master >> 64, master & MASK64
        while pos < len(elements):
            flags = num(elements[pos])
            eid = ((mms + num(elements[pos + 1])) & MASK64) << 64 | ((mseq + num(elements[pos + 2])) & MASK64)
            pos += 3
            if flags & 2:
                vals = [text(x) for x in elements[pos:pos + nmf]]
                pos += nmf
                fv: list[bytes] = [b""] * (2 * nmf)
                fv[0::2] = mf
                fv[1::2] = vals
                n = nmf
            else:
                n = num(elements[pos])
                fv = [text(x) for x in elements[pos + 1:pos + 1 + 2 * n]]
                pos += 1 + 2 * n
            if num(elements[pos]) != (n + 3 if flags & 2 else 2 * n + 4):
                raise ValueError("bad stream entry lp-count")
            pos += 1
            if node.ids and eid <= node.ids[-1]:
                raise ValueError("stream entries out of order")
            item = tuple(fv)
            if flags & 1:
                item = Dead(item)
            else:
                node.live += 1
            node.deleted += flags & 1
            node.ids.append(eid)
            node.items.append(item)
            node.nbytes += entry_bytes(node, eid, item)
        if not node.ids or node.ids[0] != master or node.live != count or node.deleted != deleted:
            raise ValueError("stream node counts do not match its entries")
        nodes = self._nodes
        if nodes and master <= self.last_entry_id():
            raise ValueError("stream nodes out of order")
        if nodes and nodes[-1].__class__ is not bytes:
            nodes[-1] = _pack(nodes[-1])                  # type: ignore[arg-type]
        nodes.append(node)
        self.keys.append(master)
        self.length += node.live

    # ------------------------------------------------------------------ invariants
    def _check(self) -> None:
        """Assert every invariant (tests call this after each operation)."""
        nodes = self.nodes
        assert self.keys == [n.master for n in nodes]
        for i, raw in enumerate(self._nodes):
            if raw.__class__ is bytes:
                assert _pack(nodes[i]) == raw, "packing round-trips"
                assert _last_id(raw, self.keys[i]) == nodes[i].ids[-1]     # type: ignore[arg-type]
            else:
                assert i == len(nodes) - 1, "only the tail node is unpacked"
        prev = -1
        live_total = 0
        first_live = 0
        last_any = 0
        for node in nodes:
            assert node.ids, "a node is never empty of entries"
            assert node.ids[0] == node.master
            assert len(node.ids) == len(node.items)
            live = sum(1 for x in node.items if x.__class__ is not Dead)
            assert node.live == live and node.deleted == len(node.ids) - live
            for eid, item in zip(node.ids, node.items, strict=True):
                assert eid > prev
                prev = eid
                assert len(item) % 2 == 0 and len(item) >= 2
                if item.__class__ is not Dead:
                    if not first_live:
                        first_live = eid
            last_any = node.ids[-1]
            live_total += live
            # the listpack size, recomputed (tombstones keep their bytes)
            nb = _LP_FIXED + int_size(len(node.mfields)) + sum(map(entry_size, node.mfields))
            nb += sum(entry_bytes(node, e, x) for e, x in zip(node.ids, node.items, strict=True))
            assert node.nbytes == nb
        assert self.length == live_total
        assert self.first_id == first_live
        assert self.last_id >= last_any
        assert self.entries_added >= self.length
        assert self.max_deleted_id <= self.last_id or not self.length
        for g in (self.groups or {}).values():
            union: dict[int, NACK] = {}
            for name, cons in g.consumers.items():
                assert cons.name == name
                assert cons.pel.group_pel is g.pel and cons.pel.owner is cons
                for eid in cons.pel.ids:
                    assert eid not in union, "an entry is pending for one consumer only"
                    nack = g.pel.get(eid)
                    assert nack is not None, "a consumer's pending entry is in its group's PEL"
                    assert nack.consumer is cons
                    union[eid] = nack
            assert set(union) == set(g.pel), "group PEL == union of consumer PELs"
            for eid, nack in g.pel.items():
                assert union[eid] is nack
                assert nack.delivery_count >= 0


# ---------------------------------------------------------------------- ID parsing
_LL_RE = re.compile(rb"-?[1-9][0-9]*|0")
_STRTOULL_RE = re.compile(rb"[ \t\n\v\f\r]*([+-]?)([0-9]+)")


def string2ull(s: bytes) -> int | None:
    """Valkey's string2ull: string2ll when it fits (negatives refused), else strtoull's
    rules (leading spaces, a sign, up to 2^64-1)."""
    if len(s) <= 20 and _LL_RE.fullmatch(s):
        v = int(s)
        if -(1 << 63) <= v < (1 << 63):
            return v if v >= 0 else None
    m = _STRTOULL_RE.fullmatch(s)
    if m is None:
        return None
    v = int(m.group(2))
    if v > MASK64:
        return None
    if m.group(1) == b"-":
        v = -v & MASK64
    return v


def parse_id(arg: bytes, missing_seq: int = 0, strict: bool = False,
             allow_auto_seq: bool = False) -> tuple[int, bool] | None:
    """streamGenericParseIDOrReply: (id, seq_given) or None when invalid.

    ``-``/``+`` are the minimum/maximum (refused when ``strict``); ``<ms>`` alone takes
    ``missing_seq``; ``<ms>-*`` is accepted with ``allow_auto_seq`` (seq_given False)."""
    if len(arg) > 127:
        return None
    nul = arg.find(b"\0")
    if nul >= 0:                     # the C code reads the argument as a C string
        arg = arg[:nul]
    if arg == b"-" or arg == b"+":
        if strict:
            return None
        return (0, True) if arg == b"-" else (MAX_ID, True)
    dash = arg.find(b"-")
    if dash >= 0:
        ms = string2ull(arg[:dash])
        if ms is None:
            return None
        rest = arg[dash + 1:]
        if allow_auto_seq and rest == b"*":
            return ms << 64, False
        seq = string2ull(rest)
        if seq is None:
            return None
        return ms << 64 | seq, True
    ms = string2ull(arg)
    if ms is None:
        return None
    return ms << 64 | missing_seq, True
