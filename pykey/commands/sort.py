"""SORT and SORT_RO (Valkey's sort.c): sort a list, set or sorted set numerically or
lexicographically, by its own elements or by external keys (``BY weight_*``, ``BY h_*->f``),
return or STORE a window of the result, optionally replaced by external values (``GET``).
"""
from __future__ import annotations

import math
from typing import Any

from .. import errors
from ..datatypes.hashtype import HashType
from ..datatypes.listtype import ListType
from ..datatypes.settype import SetType
from ..datatypes.zset import ZSet
from ..engine.client import Client
from ..engine.registry import KeySpec, command
from .util import parse_int
from .zset import strtod

_SORT_DOC = ("O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of "
             "returned elements. When the elements are not sorted, complexity is O(N).")
_BYGET_SPEC = KeySpec(("RO", "access"), ("unknown",), ("unknown",),
                      notes="For the optional BY/GET keyword. It is marked 'unknown' because the key names derive "
                            "from the content of the key we sort")
_STORE_SPEC = KeySpec(("OW", "update"), ("unknown",), ("unknown",),
                      notes="For the optional STORE keyword. It is marked 'unknown' because the keyword can appear "
                            "anywhere in the argument array")
_SOURCE_SPEC = KeySpec(("RO", "access"), ("index", 1), ("range", 0, 1, 0))


def _sort_getkeys(argv: list[bytes]) -> list[int]:
    """Valkey's sortGetKeys: the sorted key and the last STORE key, skipping option arguments."""
    keys = [1]
    store = None
    skip = {b"limit": 2, b"get": 1, b"by": 1}
    i = 2
    while i < len(argv):
        opt = argv[i].lower()
        if opt in skip:
            i += skip[opt]
        elif opt == b"store" and i + 1 < len(argv):
            store = i + 1
        i += 1
    if store is not None:
        keys.append(store)
    return keys


def _sort_key_flags(argv: list[bytes]) -> list[tuple[int, tuple[str, ...]]]:
    """sortGetKeys's flags: the sorted key is read, the STORE key overwritten."""
    return [(i, ("OW", "update") if i > 1 else ("RO", "access")) for i in _sort_getkeys(argv)]


def _sort_ro_getkeys(argv: list[bytes]) -> list[int]:
    return [1]


def _lookup_by_pattern(c: Client, pattern: bytes, subst: bytes) -> bytes | None:
    """lookupKeyByPattern: ``#`` is the element itself; the first ``*`` takes the element;
    ``key->field`` (after the ``*``) reads a hash field. None when absent or of another type."""
    if pattern == b"#":
        return subst
    star = pattern.find(b"*")
    if star < 0:
        return None
    arrow = pattern.find(b"->", star + 1)
    field = None
    if arrow >= 0 and arrow + 2 < len(pattern):
        field = pattern[arrow + 2:]
        post = pattern[star + 1:arrow]
    else:
        post = pattern[star + 1:]
    value: Any = c.db.lookup(pattern[:star] + subst + post)
    if value is None:
        return None
    if field is not None:
        if value.__class__ is not HashType:
            return None
        got = value.get(field)
        if got is not None and value.ttl is not None and 0 <= value.get_expiry(field) <= c.server.now_ms:
            return None          # a field past its TTL is gone, even before the reaper runs
        return got
    if value.__class__ is bytes:
        return value
    if value.__class__ is bytearray:
        return bytes(value)
    return None


def _score_of(text: bytes) -> tuple[float, bool]:
    """SORT's numeric reading: strtod must reach the end (a NUL ends a C string); NaN and
    any ERANGE (overflow or underflow) are conversion errors."""
    nul = text.find(b"\0")
    if nul >= 0:
        text = text[:nul]
    v, used, erange = strtod(text)
    bad = used != len(text) or erange or math.isnan(v)
    return (0.0 if math.isnan(v) else v), bad


def _sort(c: Client, key: bytes, opts: tuple[bytes, ...], readonly: bool):
    desc = alpha = dontsort = False
    limit_start, limit_count = 0, -1
    sortby: bytes | None = None
    store: bytes | None = None
    gets: list[bytes] = []
    j = 0
    n = len(opts)
    while j < n:
        opt = opts[j].lower()
        left = n - j - 1
        if opt == b"asc":
            desc = False
        elif opt == b"desc":
            desc = True
        elif opt == b"alpha":
            alpha = True
        elif opt == b"limit" and left >= 2:
            limit_start = parse_int(opts[j + 1])
            limit_count = parse_int(opts[j + 2])
            j += 2
        elif not readonly and opt == b"store" and left >= 1:
            store = opts[j + 1]
            j += 1
        elif opt == b"by" and left >= 1:
            sortby = opts[j + 1]
            dontsort = b"*" not in sortby
            j += 1
        elif opt == b"get" and left >= 1:
            gets.append(opts[j + 1])
            j += 1
        else:
            raise errors.SYNTAX
        j += 1

    value: Any = c.db.lookup(key)
    cls = value.__class__
    if value is not None and cls is not ListType and cls is not SetType and cls is not ZSet:
        raise errors.WRONGTYPE
    if value is None:
        value, cls = ListType(), ListType

    # a set has no order of its own: sort it when the result must be reproducible
    if dontsort and cls is SetType and (store is not None or c.in_script):
        dontsort, alpha, sortby = False, True, None
    if cls is ZSet:
        value.to_skiplist()          # Valkey converts the set destructively before sorting

    total = len(value)
    start = min(max(limit_start, 0), total)
    limit_count = min(max(limit_count, -1), total)
    end = total - 1 if limit_count < 0 else start + limit_count - 1
    if start >= total:
        start, end = total - 1, total - 2
    if end >= total:
        end = total - 1

    if dontsort and cls in (ListType, ZSet):
        # native order (reversed by DESC), the LIMIT window taken directly
        if end >= start:
            if cls is ZSet:
                seq = [m for m, _ in value.range_by_rank(start, end, desc)]
            else:
                items = list(reversed(value)) if desc else list(value)
                seq = items[start:end + 1]
        else:
            seq = []
        end -= start
        start = 0
    else:
        if cls is ListType:
            seq = list(value)
        elif cls is SetType:
            seq = value.ordered()
        else:
            seq = list(value.members())

    conversion_error = False
    if not dontsort:
        if alpha:
            if sortby is not None:
                cmp = [_lookup_by_pattern(c, sortby, x) for x in seq]
                order = sorted(range(len(seq)), key=lambda i: (cmp[i] is not None, cmp[i] or b""),
                               reverse=desc)
            else:
                order = sorted(range(len(seq)), key=seq.__getitem__, reverse=desc)
        else:
            scores = []
            for x in seq:
                by = _lookup_by_pattern(c, sortby, x) if sortby is not None else x
                if by is None:
                    scores.append(0.0)
                    continue
                v, bad = _score_of(by)
                conversion_error = conversion_error or bad
                scores.append(v)
            order = sorted(range(len(seq)), key=lambda i: (scores[i], seq[i]), reverse=desc)
        seq = [seq[i] for i in order]

    if conversion_error:
        raise errors.SORT_NOT_DOUBLE
    window = seq[start:end + 1] if end >= start else []
    if store is None:
        if not gets:
            return window
        return [_lookup_by_pattern(c, g, x) for x in window for g in gets]

    if gets:
        out = [_lookup_by_pattern(c, g, x) or b"" for x in window for g in gets]
    else:
        out = window
    db = c.db
    if out:
        lst = ListType(out)
        lst.auto_encoding(c.server.config["list-max-listpack-size"])
        db.set(store, lst)
        db.signal_ready(store)
        c.server.notify("l", "sortstore", store, db.id)
        c.server.dirty += len(out)
    elif db.delete(store):
        c.server.notify("g", "del", store, db.id)
        c.server.dirty += 1
    return len(out)


@command("sort", arity=-2, flags="write denyoom", keys=1, group="generic", since="1.0.0",
         acl="set sortedset list dangerous !group",
         summary="Sorts the elements of a list, set or sorted set, replying with them or storing them in a list.",
         complexity=_SORT_DOC, key_specs=(_SOURCE_SPEC, _BYGET_SPEC, _STORE_SPEC), getkeys=_sort_getkeys,
         key_flags_fn=_sort_key_flags,
         args="key:key [BY by-pattern:pattern#1<pattern>] [LIMIT (offset:integer count:integer)] "
              "[GET get-pattern:pattern#1<pattern>]... [order: ASC | DESC] [sorting=ALPHA] [STORE destination:key#2]")
def sort(c: Client, key: bytes, *opts: bytes):
    return _sort(c, key, opts, False)


@command("sort_ro", arity=-2, flags="readonly", keys=1, group="generic", since="7.0.0",
         acl="set sortedset list dangerous !group",
         summary="Sorts the elements of a list, set or sorted set and replies with them (never stores).",
         complexity=_SORT_DOC, key_specs=(_SOURCE_SPEC, _BYGET_SPEC), getkeys=_sort_ro_getkeys,
         args="key:key [BY by-pattern:pattern#1<pattern>] [LIMIT (offset:integer count:integer)] "
              "[GET get-pattern:pattern#1<pattern>]... [order: ASC | DESC] [sorting=ALPHA]")
def sort_ro(c: Client, key: bytes, *opts: bytes):
    return _sort(c, key, opts, True)
