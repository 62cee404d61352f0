"""Streams in RDB files (``rdb.c``'s OBJ_STREAM branch), through the stream type's public
listpack view (:meth:`StreamType.node_elements` / :meth:`StreamType.load_node`).

Layout of TYPE_STREAM_LISTPACKS_3 (what we write; v1 and v2 are read too):

* the node count, then per node its master ID (16 bytes, big-endian ms and seq) and its
  listpack;
* length, last ID, first ID, max deleted ID (ms and seq each), entries added (v2+);
* the groups, in name order: name, last ID, entries read (v2+; -1 is stored as 2^64-1),
  the group PEL (16-byte ID, delivery time as 8-byte LE ms, delivery count), then the
  consumers, in name order: name, seen time, active time (v3), and their PEL as IDs only.

Every count and cross-reference is checked while loading (a consumer's pending entry must
be in its group's PEL, every group PEL entry must have an owner); anything inconsistent
raises RdbError.
"""
from __future__ import annotations

import struct
from collections.abc import Mapping
from typing import Any

from ..datatypes.stream import INVALID_ENTRIES_READ, MASK64, NACK, Consumer, StreamType
from . import listpack, values
from .encoding import (
    TYPE_STREAM_LISTPACKS,
    TYPE_STREAM_LISTPACKS_2,
    TYPE_STREAM_LISTPACKS_3,
    RdbError,
    RdbReader,
    RdbWriter,
)

_ID = struct.Struct(">QQ")


def _id_bytes(eid: int) -> bytes:
    return _ID.pack(eid >> 64, eid & MASK64)


def _id_from(raw: bytes) -> int:
    if len(raw) != 16:
        raise RdbError("Stream node key entry is not the size of a stream ID")
    ms, seq = _ID.unpack(raw)
    return ms << 64 | seq


def _signed(n: int) -> int:
    """A length written from a signed counter (entries_read -1 is 2^64-1 on disk)."""
    return n - (1 << 64) if n >= 1 << 63 else n


def write_stream(w: RdbWriter, s: StreamType, config: Mapping[str, Any]) -> None:
    w.length(s.node_count())
    for node in s.iter_nodes():
        w.raw_string(_id_bytes(node.master))
        w.raw_string(listpack.encode(StreamType.node_elements(node)))
        w.maybe_flush()
    w.length(s.length)
    for eid in (s.last_id, s.first_id, s.max_deleted_id):
        w.length(eid >> 64)
        w.length(eid & MASK64)
    w.length(s.entries_added)
    groups = s.groups or {}
    w.length(len(groups))
    for name in sorted(groups):
        g = groups[name]
        w.raw_string(name)
        w.length(g.last_id >> 64)
        w.length(g.last_id & MASK64)
        w.length(g.entries_read & MASK64)
        w.length(len(g.pel))
        for eid, nack in g.pel.items():
            w.raw(_id_bytes(eid))
            w.ms_time(nack.delivery_time)
            w.length(nack.delivery_count)
        w.length(len(g.consumers))
        for cname in sorted(g.consumers):
            cons = g.consumers[cname]
            w.raw_string(cname)
            w.ms_time(cons.seen_time)
            w.ms_time(cons.active_time)
            w.length(len(cons.pel))
            for eid in cons.pel:
                w.raw(_id_bytes(eid))
        w.maybe_flush()


def read_stream(r: RdbReader, t: int, config: Mapping[str, Any]) -> StreamType:
    try:
        return _read(r, t)
    except (ValueError, IndexError, TypeError) as e:
        if isinstance(e, RdbError):
            raise
        raise RdbError(f"Stream integrity check failed: {e}") from None


def _read(r: RdbReader, t: int) -> StreamType:
    s = StreamType()
    for _ in range(r.length()):
        master = _id_from(r.string())
        elements = listpack.decode(r.string(), as_int=True)
        if not elements:
            raise RdbError("Empty listpack inside stream")
        s.load_node(master, elements)
    length = r.length()
    if length != s.length:
        raise RdbError("Stream length does not match its entries")
    s.last_id = r.length() << 64 | r.length()
    first_live = s.first_live_id()
    if t >= TYPE_STREAM_LISTPACKS_2:
        r.length()                     # the saved first ID: recomputed from the entries
        r.length()
        s.max_deleted_id = r.length() << 64 | r.length()
        s.entries_added = r.length()
    else:
        s.max_deleted_id = 0
        s.entries_added = s.length
    s.first_id = first_live
    if s.last_entry_id() > s.last_id:
        raise RdbError("Stream last ID is smaller than its last entry")
    for _ in range(r.length()):
        name = r.string()
        last_id = r.length() << 64 | r.length()
        if t >= TYPE_STREAM_LISTPACKS_2:
            entries_read = _signed(r.length())
        else:
            entries_read = s.estimate_distance(last_id)
        if entries_read < INVALID_ENTRIES_READ:
            raise RdbError("Invalid stream group read counter")
        group = s.create_group(name, last_id, entries_read)
        if group is None:
            raise RdbError("Duplicated consumer group name")
        for _ in range(r.length()):
            eid = _id_from(r.read(16))
            when = r.ms_time()
            count = r.length()
            if eid in group.pel:
                raise RdbError("Duplicated global PEL entry loading stream consumer group")
            group.pel[eid] = NACK(when, None, count)
        for _ in range(r.length()):
            cname = r.string()
            seen = r.ms_time()
            active = r.ms_time() if t >= TYPE_STREAM_LISTPACKS_3 else seen
            if cname in group.consumers:
                raise RdbError("Duplicated consumer name")
            cons = Consumer(cname, seen, active, group.pel)
            group.consumers[cname] = cons
            for _ in range(r.length()):
                eid = _id_from(r.read(16))
                nack = group.pel.get(eid)
                if nack is None:
                    raise RdbError("Consumer entry not found in group global PEL")
                if nack.consumer is not None:
                    raise RdbError("Duplicated consumer PEL entry loading a stream consumer group")
                nack.consumer = cons
                cons.pel[eid] = nack
        for nack in group.pel.values():
            if nack.consumer is None:
                raise RdbError("Stream CG PEL entry without consumer")
    return s


values.register_type(StreamType, TYPE_STREAM_LISTPACKS_3, write_stream, {
    TYPE_STREAM_LISTPACKS: read_stream,
    TYPE_STREAM_LISTPACKS_2: read_stream,
    TYPE_STREAM_LISTPACKS_3: read_stream,
})
