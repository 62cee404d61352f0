"""HyperLogLog commands: PFADD PFCOUNT PFMERGE PFDEBUG PFSELFTEST.

An HLL is a plain string value in Valkey's byte format (see datatypes/hyperloglog.py), kept
as a ``bytearray`` so registers are raised in place; a ``bytes`` value (written by SET or
RESTORE) is copied into one the first time an HLL command changes it, as Valkey unshares
the string. Every write marks the header's cached cardinality stale; PFCOUNT of one key
refreshes it (a write Valkey propagates, so replicas keep identical bytes).
"""
from __future__ import annotations

import random

from .. import errors
from ..datatypes import hyperloglog as hll
from ..engine.client import Client
from ..engine.registry import KeySpec, command
from ..protocol.replies import OK, Simple


def _hll_value(value) -> bytes | bytearray:
    """Valkey's isHLLObjectOrReply: a string with a valid HLL header, else WRONGTYPE."""
    cls = value.__class__
    if cls is not bytes and cls is not bytearray:
        raise errors.WRONGTYPE
    if not hll.is_valid(value):
        raise errors.HLL_WRONGTYPE
    return value


@command("pfadd", arity=-2, flags="write denyoom fast", keys=1, key_flags="RW insert",
         group="hyperloglog", since="2.8.9", complexity="O(1) to add every element.",
         summary="Adds elements to a HyperLogLog key. Creates the key if it doesn't exist.",
         args="key:key [element...]")
def pfadd(c: Client, key: bytes, *elements: bytes) -> int:
    db = c.db
    value = db.lookup(key)
    if value is None:
        buf = hll.new_sparse()
        db.add(key, buf)
        updated = 1
    else:
        buf = db.unshare_string(key, _hll_value(value))
        updated = 0
    result = hll.HyperLogLog(buf).add(elements, c.server.config["hll-sparse-max-bytes"])
    if result < 0:
        raise errors.HLL_CORRUPT            # earlier elements stay added, as in Valkey
    updated += result
    if not updated:
        return 0
    buf[15] |= 0x80                          # the cached cardinality is stale
    if value is not None:
        db.signal_modified(key)
    server = c.server
    server.notify("$", "pfadd", key, db.id)
    server.dirty += updated
    return 1


_PFCOUNT_SPEC = (KeySpec(("RW", "access"), ("index", 1), ("range", -1, 1, 0),
                         notes="RW because it may change the internal representation of the "
                               "key, and propagate to replicas"),)


@command("pfcount", arity=-2, flags="readonly may_replicate", key_specs=_PFCOUNT_SPEC,
         keys=(1, -1, 1), group="hyperloglog", since="2.8.9",
         complexity="O(1) with a very small average constant time when called with a single "
                    "key. O(N) with N being the number of keys, and much bigger constant times, "
                    "when called with multiple keys.",
         summary="Returns the approximated cardinality of the set(s) observed by the "
                 "HyperLogLog key(s).",
         args="key:key...")
def pfcount(c: Client, *keys: bytes) -> int:
    db = c.db
    if len(keys) > 1:
        merged = None
        for key in keys:
            value = db.lookup(key)
            if value is None:
                continue
            try:
                regs = hll.cached_registers(_hll_value(value)).raw
            except hll.CorruptHLL:
                raise errors.HLL_CORRUPT from None
            merged = regs if merged is None else hll.raw_max(merged, regs)
        if merged is None:
            return 0
        return hll.estimate(hll.raw_histogram(merged))
    key = keys[0]
    value = db.lookup(key)
    if value is None:
        return 0
    buf = db.unshare_string(key, _hll_value(value))
    card = hll.cached_card(buf)
    if card is not None:
        return card
    try:
        card = hll.card_of(buf)
    except hll.CorruptHLL:
        raise errors.HLL_CORRUPT from None
    hll.store_card(buf, card)
    db.signal_modified(key)
    c.server.dirty += 1
    return card


_PFMERGE_SPECS = (KeySpec(("RW", "access", "insert"), ("index", 1), ("range", 0, 1, 0)),
                  KeySpec(("RO", "access"), ("index", 2), ("range", -1, 1, 0)))


@command("pfmerge", arity=-2, flags="write denyoom", keys=(1, -1, 1), key_specs=_PFMERGE_SPECS,
         group="hyperloglog", since="2.8.9",
         complexity="O(N) to merge N HyperLogLogs, but with high constant times.",
         summary="Merges one or more HyperLogLog values into a single key.",
         args="destkey:key [sourcekey:key...]")
def pfmerge(c: Client, dest: bytes, *sources: bytes):
    db = c.db
    merged = None
    use_dense = False
    for key in (dest, *sources):
        value = db.lookup(key)
        if value is None:
            continue
        _hll_value(value)
        if value[4] == hll.DENSE:
            use_dense = True
        try:
            regs = hll.cached_registers(value).raw
        except hll.CorruptHLL:
            raise errors.HLL_CORRUPT from None
        merged = regs if merged is None else hll.raw_max(merged, regs)
    value = db.lookup(dest)
    if value is None:
        buf = hll.new_sparse()
        db.add(dest, buf)
    else:
        buf = db.unshare_string(dest, value)
    if use_dense and not hll.to_dense(buf):
        raise errors.HLL_CORRUPT
    hll.HyperLogLog(buf).set_registers(merged or bytes(hll.REGISTERS),
                                       c.server.config["hll-sparse-max-bytes"])
    if value is not None:
        db.signal_modified(dest)
    server = c.server
    server.notify("$", "pfadd", dest, db.id)
    server.dirty += 1
    return OK


@command("pfdebug", arity=3, flags="write denyoom admin", keys=2, key_flags="RW access",
         group="hyperloglog", since="2.8.9", complexity="N/A", doc_flags="syscmd",
         summary="Internal commands for debugging HyperLogLog values.",
         args="subcommand key:key")
def pfdebug(c: Client, sub: bytes, key: bytes):
    db = c.db
    value = db.lookup(key)
    if value is None:
        raise errors.PFDEBUG_NO_KEY
    value = db.unshare_string(key, _hll_value(value))
    name = sub.lower()
    if name in (b"getreg", b"todense"):
        converted = False
        if value[4] == hll.SPARSE:
            if not hll.to_dense(value):
                raise errors.HLL_CORRUPT
            converted = True
            c.server.dirty += 1            # force propagation of the encoding change
        if name == b"todense":
            return 1 if converted else 0
        return list(hll.cached_registers(value).raw)
    if name == b"decode":
        if value[4] != hll.SPARSE:
            raise errors.PFDEBUG_NOT_SPARSE
        return hll.decode_sparse_opcodes(value).encode()
    if name == b"encoding":
        return Simple(hll.ENCODING_NAMES[value[4]])
    raise errors.pfdebug_unknown(sub)


@command("pfselftest", arity=1, flags="admin", group="hyperloglog", since="2.8.9",
         complexity="N/A", doc_flags="syscmd",
         summary="An internal command for testing HyperLogLog values.")
def pfselftest(c: Client):
    failure = hll.selftest(random.Random(), sparse_max_bytes=c.server.config["hll-sparse-max-bytes"])
    if failure is not None:
        raise errors.hll_selftest_failed(failure)
    return OK
