"""One value to RDB bytes and back: the object type byte Valkey would pick for it and its
serialized body (``rdbSaveObjectType``/``rdbSaveObject``/``rdbLoadObject``).

What we write, by value and encoding (as Valkey 8 writes it):

======================  =========================================================
string                  TYPE_STRING (integer and LZF encodings)
list                    TYPE_LIST_QUICKLIST_2: listpack nodes split by
                        ``list-max-listpack-size``, plain nodes for huge elements
set                     TYPE_SET_INTSET / TYPE_SET_LISTPACK / TYPE_SET
sorted set              TYPE_ZSET_LISTPACK / TYPE_ZSET_2 (highest score first)
hash                    TYPE_HASH_LISTPACK / TYPE_HASH; TYPE_HASH_2 (Valkey 9) when a
                        field has a TTL
stream                  TYPE_STREAM_LISTPACKS_3 (see :mod:`.streams`)
======================  =========================================================

Loading accepts every type Redis 2.x to 7.2 and Valkey 8 write (ziplists, zipmaps,
quicklist v1, ZSET v1 with ASCII scores, streams v1-v3) plus Valkey 9's TYPE_HASH_2, and
picks each value's encoding from the *current* config thresholds as Valkey's loader does.
Any inconsistency (bad blob, duplicates, NaN score) raises :class:`RdbError`. Empty
collections raise :class:`EmptyKey`, which callers skip as Valkey does.
"""
from __future__ import annotations

import math
import struct
from collections.abc import Callable, Mapping
from typing import Any

from ..datatypes import listtype, settype
from ..datatypes.hashtype import HASHTABLE as H_HT
from ..datatypes.hashtype import LISTPACK as H_LP
from ..datatypes.hashtype import HashType
from ..datatypes.listtype import ListType
from ..datatypes.settype import SetType
from ..datatypes.zset import LISTPACK as Z_LP
from ..datatypes.zset import SKIPLIST as Z_SL
from ..datatypes.zset import ZSet
from ..protocol.dtoa import d2string
from . import intset, listpack, ziplist
from .encoding import (
    QUICKLIST_NODE_PACKED,
    QUICKLIST_NODE_PLAIN,
    TYPE_HASH,
    TYPE_HASH_2,
    TYPE_HASH_LISTPACK,
    TYPE_HASH_ZIPLIST,
    TYPE_HASH_ZIPMAP,
    TYPE_LIST,
    TYPE_LIST_QUICKLIST,
    TYPE_LIST_QUICKLIST_2,
    TYPE_LIST_ZIPLIST,
    TYPE_SET,
    TYPE_SET_INTSET,
    TYPE_SET_LISTPACK,
    TYPE_STREAM_LISTPACKS,
    TYPE_STREAM_LISTPACKS_2,
    TYPE_STREAM_LISTPACKS_3,
    TYPE_STRING,
    TYPE_ZSET,
    TYPE_ZSET_2,
    TYPE_ZSET_LISTPACK,
    TYPE_ZSET_ZIPLIST,
    RdbError,
    RdbReader,
    RdbWriter,
)

_pack_q = struct.Struct("<q").pack
_unpack_q = struct.Struct("<q").unpack_from
_BLOB_ERRORS = (listpack.ListpackError, intset.IntsetError, ziplist.ZiplistError, struct.error,
                IndexError, OverflowError)


class EmptyKey(RdbError):
    """A collection with no elements: Valkey skips such keys when loading a file."""


# ====================================================================== writing
def object_type(value: Any, allow_hash2: bool = True) -> int:
    """The RDB type byte for ``value`` (rdbSaveObjectType)."""
    cls = value.__class__
    if cls is bytes or cls is bytearray:
        return TYPE_STRING
    if cls is ListType:
        return TYPE_LIST_QUICKLIST_2
    if cls is SetType:
        enc = value.enc
        return TYPE_SET_INTSET if enc == settype.INTSET else TYPE_SET_LISTPACK if enc == settype.LISTPACK else TYPE_SET
    if cls is HashType:
        if value.ttl and allow_hash2:
            return TYPE_HASH_2
        return TYPE_HASH_LISTPACK if value.enc == H_LP else TYPE_HASH
    if cls is ZSet:
        return TYPE_ZSET_LISTPACK if value.enc == Z_LP else TYPE_ZSET_2
    writer = _EXTRA_WRITERS.get(cls)
    if writer is not None:
        return writer[0]
    raise TypeError(f"no RDB type for {cls.__name__}")


def min_version(value: Any) -> int:
    """The oldest RDB version that can hold ``value`` as we write it: 80 (Valkey 9) for a
    hash with field TTLs, 11 (Redis 7.2 / Valkey 8) for a listpack set or a stream, else
    10 (Redis 7.0). Files and DUMP payloads carry the smallest version their content needs,
    so Redis 7.0, which refuses anything newer than 10, loads what it can represent."""
    cls = value.__class__
    if cls is SetType:
        return 11 if value.enc == settype.LISTPACK else 10
    if cls is HashType:
        return 80 if value.ttl else 10
    if cls in _EXTRA_WRITERS:
        return 11
    return 10


def write_value(w: RdbWriter, value: Any, config: Mapping[str, Any], allow_hash2: bool = True) -> None:
    """The body of ``value`` after its type byte (rdbSaveObject)."""
    cls = value.__class__
    if cls is bytes or cls is bytearray:
        w.string(value)
    elif cls is ListType:
        _write_list(w, value, config)
    elif cls is SetType:
        enc = value.enc
        if enc == settype.INTSET:
            w.raw_string(intset.encode(map(int, value)))
        elif enc == settype.LISTPACK:
            w.raw_string(listpack.encode(value))
        else:
            w.length(len(value))
            for m in value:
                w.string(m)
                w.maybe_flush()
    elif cls is HashType:
        if value.ttl and allow_hash2:
            ttl = value.ttl
            w.length(len(value))
            for f, v in value.items():
                w.string(f)
                w.string(v)
                w.raw(_pack_q(ttl.get(f, -1)))
                w.maybe_flush()
        elif value.enc == H_LP:
            flat: list[bytes] = []
            for f, v in value.items():
                flat.append(f)
                flat.append(v)
            w.raw_string(listpack.encode(flat))
        else:
            w.length(len(value))
            for f, v in value.items():
                w.string(f)
                w.string(v)
                w.maybe_flush()
    elif cls is ZSet:
        if value.enc == Z_LP:
            flat = []
            for m, s in value.items():
                flat.append(m)
                flat.append(d2string(s))
            w.raw_string(listpack.encode(flat))
        else:
            items = list(value.items())
            w.length(len(items))
            for m, s in reversed(items):       # highest first: Valkey loads them in O(1) each
                w.string(m)
                w.binary_double(s)
                w.maybe_flush()
    else:
        writer = _EXTRA_WRITERS.get(cls)
        if writer is None:
            raise TypeError(f"no RDB serializer for {cls.__name__}")
        writer[1](w, value, config)


def _write_list(w: RdbWriter, value: ListType, config: Mapping[str, Any]) -> None:
    """QUICKLIST_2: listpack nodes filled as Valkey's quicklist fills them."""
    nodes = [(QUICKLIST_NODE_PLAIN if plain else QUICKLIST_NODE_PACKED, items) for plain, items
             in listtype.quicklist_nodes(value, config["list-max-listpack-size"], value.quick)]
    w.length(len(nodes))
    for container, items in nodes:
        w.length(container)
        if container == QUICKLIST_NODE_PLAIN:
            w.raw_string(bytes(items[0]))
        else:
            w.raw_string(listpack.encode(items))
        w.maybe_flush()


# Other value types (streams) register (type byte, writer) here, keyed by class, and a
# reader per type byte in _EXTRA_READERS.
_EXTRA_WRITERS: dict[type, tuple[int, Callable[[RdbWriter, Any, Mapping[str, Any]], None]]] = {}
_EXTRA_READERS: dict[int, Callable[[RdbReader, int, Mapping[str, Any]], Any]] = {}


def register_type(cls: type, rdb_type: int, writer: Callable, readers: dict[int, Callable]) -> None:
    """Teach the codec a value class (used by the stream codec)."""
    _EXTRA_WRITERS[cls] = (rdb_type, writer)
    _EXTRA_READERS.update(readers)


# ====================================================================== reading
def is_object_type(t: int) -> bool:
    return 0 <= t <= 7 or 9 <= t <= 22


def read_value(r: RdbReader, rdb_type: int, config: Mapping[str, Any]) -> Any:
    """The value of type ``rdb_type`` at the reader's position (rdbLoadObject)."""
    try:
        return _read_value(r, rdb_type, config)
    except _BLOB_ERRORS as e:
        raise RdbError(f"{type(e).__name__}: {e}") from None


def _read_value(r: RdbReader, t: int, config: Mapping[str, Any]) -> Any:
    if t == TYPE_STRING:
        return r.string()
    if t == TYPE_LIST_QUICKLIST_2 or t == TYPE_LIST_QUICKLIST:
        return _read_quicklist(r, t, config)
    if t == TYPE_LIST:
        n = r.length()
        if n == 0:
            raise EmptyKey("empty list")
        return _list_from([r.string() for _ in range(n)], config)
    if t == TYPE_LIST_ZIPLIST:
        items = ziplist.decode(r.string())
        if not items:
            raise EmptyKey("empty list")
        return _list_from(items, config)
    if t == TYPE_SET:
        return _read_plain_set(r, config)
    if t == TYPE_SET_INTSET:
        vals = intset.decode(r.string())
        s = SetType((b"%d" % v for v in vals), settype.INTSET)
        if len(s) > config["set-max-intset-entries"]:
            s.enc = settype.HASHTABLE
        return s
    if t == TYPE_SET_LISTPACK:
        items = listpack.decode(r.string())
        if not items:
            raise EmptyKey("empty set")
        s = SetType(items, settype.LISTPACK)
        if len(s) != len(items):
            raise RdbError("Duplicate set members detected")
        if len(s) > config["set-max-listpack-entries"]:
            s.enc = settype.HASHTABLE
        return s
    if t == TYPE_HASH:
        return _read_plain_hash(r, config, with_ttl=False)
    if t == TYPE_HASH_2:
        return _read_plain_hash(r, config, with_ttl=True)
    if t == TYPE_HASH_LISTPACK or t == TYPE_HASH_ZIPLIST or t == TYPE_HASH_ZIPMAP:
        blob = r.string()
        if t == TYPE_HASH_LISTPACK:
            items = listpack.decode(blob)
        elif t == TYPE_HASH_ZIPLIST:
            items = ziplist.decode(blob)
        else:
            items = ziplist.decode_zipmap(blob)
        if len(items) % 2:
            raise RdbError("Hash listpack with an odd number of entries")
        if not items:
            raise EmptyKey("empty hash")
        h = HashType(zip(items[0::2], items[1::2], strict=True), enc=H_LP)
        if len(h) * 2 != len(items):
            raise RdbError("Duplicate hash fields detected")
        if len(h) > config["hash-max-listpack-entries"] or (
                t == TYPE_HASH_ZIPMAP and max(map(len, items)) > config["hash-max-listpack-value"]):
            h.enc = H_HT
        return h
    if t == TYPE_ZSET_2 or t == TYPE_ZSET:
        return _read_plain_zset(r, t, config)
    if t == TYPE_ZSET_LISTPACK or t == TYPE_ZSET_ZIPLIST:
        blob = r.string()
        items = listpack.decode(blob) if t == TYPE_ZSET_LISTPACK else ziplist.decode(blob)
        if len(items) % 2:
            raise RdbError("Zset listpack with an odd number of entries")
        if not items:
            raise EmptyKey("empty zset")
        pairs = [(items[i], _parse_score(items[i + 1])) for i in range(0, len(items), 2)]
        z = ZSet(pairs, enc=Z_LP)
        if len(z) != len(pairs):
            raise RdbError("Duplicate zset fields detected")
        if len(z) > config["zset-max-listpack-entries"]:
            z.enc = Z_SL
        return z
    reader = _EXTRA_READERS.get(t)
    if reader is not None:
        return reader(r, t, config)
    if t in (TYPE_STREAM_LISTPACKS, TYPE_STREAM_LISTPACKS_2, TYPE_STREAM_LISTPACKS_3):
        raise RdbError("Streams are not supported by this server yet")
    if t in (6, 7):
        raise RdbError("The RDB file contains module data I can't load: no modules in this server")
    raise RdbError(f"Unknown RDB encoding type {t}")


def _parse_score(s: bytes) -> float:
    try:
        v = float(s)
    except ValueError:
        raise RdbError("Invalid zset score in listpack") from None
    if math.isnan(v):
        raise RdbError("Zset with NAN score detected")
    return v


def _list_from(items: list[bytes], config: Mapping[str, Any]) -> ListType:
    lst = ListType(items)
    lst.auto_encoding(config["list-max-listpack-size"])
    return lst


def _read_quicklist(r: RdbReader, t: int, config: Mapping[str, Any]) -> ListType:
    n = r.length()
    if n == 0:
        raise EmptyKey("empty list")
    items: list[bytes] = []
    plain = False
    for _ in range(n):
        container = QUICKLIST_NODE_PACKED
        if t == TYPE_LIST_QUICKLIST_2:
            container = r.length()
            if container not in (QUICKLIST_NODE_PACKED, QUICKLIST_NODE_PLAIN):
                raise RdbError("Quicklist integrity check failed.")
        blob = r.string()
        if not blob:
            raise RdbError("Quicklist node with an empty blob")
        if container == QUICKLIST_NODE_PLAIN:
            items.append(blob)
            plain = True
        elif t == TYPE_LIST_QUICKLIST_2:
            items.extend(listpack.decode(blob))
        else:
            items.extend(ziplist.decode(blob))
    if not items:
        raise EmptyKey("empty list")
    lst = _list_from(items, config)
    if plain:
        lst.quick = True
    return lst


def _read_plain_set(r: RdbReader, config: Mapping[str, Any]) -> SetType:
    n = r.length()
    if n == 0:
        raise EmptyKey("empty set")
    max_int = min(config["set-max-intset-entries"], 1 << 30)
    max_lp, max_val = config["set-max-listpack-entries"], config["set-max-listpack-value"]
    enc = settype.HASHTABLE if n > max_int else settype.INTSET
    s = SetType(enc=enc)
    add = s.add
    maxlen = 0
    for _ in range(n):
        m = r.string()
        if len(m) > maxlen:
            maxlen = len(m)
        if s.enc == settype.INTSET and not settype.is_int(m):
            s.enc = settype.LISTPACK if (len(s) < max_lp and maxlen <= max_val) else settype.HASHTABLE
        if s.enc == settype.LISTPACK and not (len(s) < max_lp and len(m) <= max_val):
            s.enc = settype.HASHTABLE
        if m in s:
            raise RdbError("Duplicate set members detected")
        add(m)
    return s


def _read_plain_hash(r: RdbReader, config: Mapping[str, Any], with_ttl: bool) -> HashType:
    n = r.length()
    if n == 0:
        raise EmptyKey("empty hash")
    max_lp, max_val = config["hash-max-listpack-entries"], config["hash-max-listpack-value"]
    h = HashType(enc=H_HT if n > max_lp else H_LP)
    ttls: list[tuple[bytes, int]] = []
    for _ in range(n):
        f = r.string()
        v = r.string()
        if with_ttl:
            when = _unpack_q(r.read(8))[0]
            if when != -1:
                if when < 0:
                    raise RdbError("Invalid hash field expiry time")
                ttls.append((f, when))
        if f in h:
            raise RdbError("Duplicate hash fields detected")
        if h.enc == H_LP and (len(f) > max_val or len(v) > max_val):
            h.enc = H_HT
        h[f] = v
    for f, when in ttls:
        h.set_expiry(f, when)
    return h


def _read_plain_zset(r: RdbReader, t: int, config: Mapping[str, Any]) -> ZSet:
    n = r.length()
    if n == 0:
        raise EmptyKey("empty zset")
    pairs = []
    maxlen = 0
    for _ in range(n):
        m = r.string()
        score = r.binary_double() if t == TYPE_ZSET_2 else r.old_double()
        if score != score:
            raise RdbError("Zset with NAN score detected")
        if len(m) > maxlen:
            maxlen = len(m)
        pairs.append((m, score))
    z = ZSet(pairs, enc=Z_SL)
    if len(z) != n:
        raise RdbError("Duplicate zset fields detected")
    if n <= config["zset-max-listpack-entries"] and maxlen <= config["zset-max-listpack-value"]:
        z.enc = Z_LP
    return z
