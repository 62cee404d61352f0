"""List commands (the non-blocking ones; BLPOP and friends live with the blocking engine)."""
from __future__ import annotations

from itertools import islice

from .. import errors
from ..datatypes.listtype import ListType
from ..datatypes.members import index_span
from ..engine.blocking import MISS, parse_pop_timeout, pop_or_block
from ..engine.client import Client
from ..engine.registry import KeySpec, command
from ..protocol.replies import NULL_ARRAY, OK
from .cmdargs import LONG_MAX, parse_mpop, range_long
from .util import parse_int

_ACCESS_DELETE = KeySpec(("RW", "access", "delete"), ("index", 1), ("range", 0, 1, 0))
_INSERT_2 = KeySpec(("RW", "insert"), ("index", 2), ("range", 0, 1, 0))


def _fill(c: Client) -> int:
    return c.server.config["list-max-listpack-size"]


def _where(arg: bytes) -> bool:
    """LEFT/RIGHT -> True for the head."""
    low = arg.lower()
    if low == b"left":
        return True
    if low == b"right":
        return False
    raise errors.SYNTAX


def _pop(lst: ListType, n: int, left: bool) -> list[bytes]:
    out = [lst.popleft() for _ in range(n)] if left else [lst.pop() for _ in range(n)]
    lst.removed(out)
    return out


def _removed(c: Client, key: bytes, lst: ListType, left: bool, count: int) -> None:
    """Valkey's listElementsRemoved: pop event, delete if empty, dirty."""
    db = c.db
    c.server.notify("l", "lpop" if left else "rpop", key, db.id)
    if not lst:
        db.delete(key)
        c.server.notify("g", "del", key, db.id)
    else:
        lst.after_shrink(_fill(c))
        db.signal_modified(key)
    c.server.dirty += count


# ---------------------------------------------------------------------- pushes
_PUSH_DOC = "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments."


def _push_command(name: str, left: bool, xx: bool, since: str, summary: str, multi_since: str):
    """Declare LPUSH/RPUSH/LPUSHX/RPUSHX: one body, specialised by closure (no extra call on
    their hot path); ``xx`` pushes only onto an existing list."""
    event = "lpush" if left else "rpush"

    def push(c: Client, key: bytes, *values: bytes) -> int:
        db = c.db
        lst = db.get_typed(key, ListType)
        new = lst is None
        if new:
            if xx:
                return 0
            lst = ListType()
        lst.before_grow(_fill(c), values)
        if left:
            lst.extendleft(values)
        else:
            lst.extend(values)
        lst.added(values)
        c.server.dirty += len(values)
        if new:
            db.add(key, lst)
        else:
            db.signal_modified(key)
        c.server.notify("l", event, key, db.id)
        db.signal_ready(key)
        return len(lst)

    push.__name__ = push.__qualname__ = name
    return command(name, arity=-3, flags="write denyoom fast", keys=1, key_flags="RW insert", group="list",
                   since=since, summary=summary, complexity=_PUSH_DOC,
                   history=((multi_since, "Accepts multiple `element` arguments."),),
                   args="key:key element...")(push)


lpush = _push_command("lpush", True, False, "1.0.0",
                      "Adds elements to the head of a list, creating the list if needed.", "2.4.0")
rpush = _push_command("rpush", False, False, "1.0.0",
                      "Adds elements to the tail of a list, creating the list if needed.", "2.4.0")
lpushx = _push_command("lpushx", True, True, "2.2.0",
                       "Adds elements to the head of a list, but only if the list already exists.", "4.0.0")
rpushx = _push_command("rpushx", False, True, "2.2.0",
                       "Adds elements to the tail of a list, but only if the list already exists.", "4.0.0")


# ---------------------------------------------------------------------- pops
def _pop_command(name: str, left: bool, end: str):
    """Declare LPOP/RPOP (one body, specialised by closure); ``end`` is "head" or "tail"."""
    def pop(c: Client, key: bytes, *args: bytes):
        if len(args) > 1:
            raise errors.wrong_arity(name)
        count = 0
        if args:
            count = range_long(args[0], 0, LONG_MAX, errors.MUST_BE_POSITIVE)
        lst = c.db.get_typed(key, ListType)
        if lst is None:
            return NULL_ARRAY if args else None
        if args and not count:
            return []
        if not args:
            value = _pop(lst, 1, left)[0]
            _removed(c, key, lst, left, 1)
            return value
        out = _pop(lst, min(count, len(lst)), left)
        _removed(c, key, lst, left, len(out))
        return out

    pop.__name__ = pop.__qualname__ = name
    return command(name, arity=-2, flags="write fast", keys=1, key_flags="RW access delete", group="list",
                   since="1.0.0",
                   summary=f"Removes and replies with elements from the {end} of a list; an emptied list is deleted.",
                   complexity="O(N) where N is the number of elements returned",
                   history=(("6.2.0", "Added the `count` argument."),),
                   args="key:key [count:integer]@6.2.0")(pop)


lpop = _pop_command("lpop", True, "head")
rpop = _pop_command("rpop", False, "tail")


def _lmpop_keys(argv: list[bytes]) -> list[int]:
    n = parse_int(argv[1])
    if n <= 0 or n + 2 > len(argv):
        return []
    return list(range(2, 2 + n))


@command("lmpop", arity=-4, flags="write", group="list", since="7.0.0",
         summary="Removes elements from the first non-empty list among several keys; an emptied list is deleted.",
         complexity="O(N+M) where N is the number of provided keys and M is the number of elements returned.",
         key_specs=(KeySpec(("RW", "access", "delete"), ("index", 1), ("keynum", 0, 1, 1)),),
         getkeys=_lmpop_keys,
         args="numkeys:integer key:key... (where: LEFT | RIGHT) [COUNT count:integer]")
def lmpop(c: Client, numkeys_arg: bytes, *rest: bytes):
    keys, left, count = parse_mpop(numkeys_arg, rest, b"right", b"left")
    db = c.db
    for key in keys:
        lst = db.get_typed(key, ListType)
        if not lst:
            continue
        out = _pop(lst, min(count, len(lst)), left)
        _removed(c, key, lst, left, len(out))
        c.propagate_argv = [b"LPOP" if left else b"RPOP", key, b"%d" % len(out)]
        return [key, out]
    return NULL_ARRAY


# ---------------------------------------------------------------------- reads
@command("llen", arity=2, flags="readonly fast", keys=1, key_flags="RO", group="list", since="1.0.0",
         summary="Counts the elements of a list.", complexity="O(1)",
         args="key:key")
def llen(c: Client, key: bytes) -> int:
    lst = c.db.get_typed(key, ListType)
    return len(lst) if lst is not None else 0


def _range(lst: ListType, start: int, end: int) -> list[bytes]:
    """Elements start..end inclusive (Valkey's index rules), walking from the nearer end."""
    n = len(lst)
    span = index_span(start, end, n)
    if span is None:
        return []
    i, j = span
    if i > n - j:
        out = list(islice(reversed(lst), n - j, n - i))
        out.reverse()
        return out
    return list(islice(lst, i, j))


@command("lrange", arity=4, flags="readonly", keys=1, key_flags="RO access", group="list", since="1.0.0",
         summary="Fetches the list elements between two indexes.",
         complexity="O(S+N) where S is the distance of start offset from HEAD for small lists, from nearest end "
         "(HEAD or TAIL) for large lists; and N is the number of elements in the specified range.",
         args="key:key start:integer stop:integer")
def lrange(c: Client, key: bytes, start: bytes, stop: bytes) -> list[bytes]:
    s, e = parse_int(start), parse_int(stop)
    lst = c.db.get_typed(key, ListType)
    if lst is None:
        return []
    return _range(lst, s, e)


@command("lindex", arity=3, flags="readonly", keys=1, key_flags="RO access", group="list", since="1.0.0",
         summary="Fetches the list element at a given index.",
         complexity="O(N) where N is the number of elements to traverse to get to the element at index. This "
         "makes asking for the first or the last element of the list O(1).",
         args="key:key index:integer")
def lindex(c: Client, key: bytes, index: bytes):
    lst = c.db.get_typed(key, ListType)
    if lst is None:
        return None
    i = parse_int(index)
    n = len(lst)
    if i < 0:
        i += n
    if i < 0 or i >= n:
        return None
    return lst[i]


@command("lpos", arity=-3, flags="readonly", keys=1, key_flags="RO access", group="list", since="6.0.6",
         summary="Finds the indexes of list elements equal to a value.",
         complexity="O(N) where N is the number of elements in the list, for the average case. When searching "
         "for elements near the head or the tail of the list, or when the MAXLEN option is provided, the command "
         "may run in constant time.",
         args="key:key element [RANK rank:integer] [COUNT num-matches:integer] [MAXLEN len:integer]")
def lpos(c: Client, key: bytes, element: bytes, *opts: bytes):
    rank, count, maxlen = 1, -1, 0
    i = 0
    while i < len(opts):
        opt = opts[i].lower()
        more = i + 1 < len(opts)
        if opt == b"rank" and more:
            rank = range_long(opts[i + 1], -LONG_MAX, LONG_MAX)
            if rank == 0:
                raise errors.RANK_ZERO
        elif opt == b"count" and more:
            count = range_long(opts[i + 1], 0, LONG_MAX, errors.COUNT_NEGATIVE)
        elif opt == b"maxlen" and more:
            maxlen = range_long(opts[i + 1], 0, LONG_MAX, errors.MAXLEN_NEGATIVE)
        else:
            raise errors.SYNTAX
        i += 2
    lst = c.db.get_typed(key, ListType)
    if lst is None:
        return [] if count != -1 else None
    n = len(lst)
    forward = rank > 0
    rank = abs(rank)
    it = iter(lst) if forward else reversed(lst)
    if maxlen:
        it = islice(it, maxlen)
    matches = 0
    found: list[int] = []
    for idx, x in enumerate(it):
        if x == element:
            matches += 1
            if matches >= rank:
                found.append(idx if forward else n - idx - 1)
                if count == -1 or (count and len(found) >= count):
                    break
    if count != -1:
        return found
    return found[0] if found else None


# ---------------------------------------------------------------------- in-place edits
@command("lset", arity=4, flags="write denyoom", keys=1, key_flags="RW update", group="list", since="1.0.0",
         summary="Replaces the list element at a given index.",
         complexity="O(N) where N is the length of the list. Setting either the first or the last element of "
         "the list is O(1).",
         args="key:key index:integer element")
def lset(c: Client, key: bytes, index: bytes, element: bytes):
    db = c.db
    lst = db.get_typed(key, ListType)
    if lst is None:
        raise errors.NO_SUCH_KEY
    i = parse_int(index)
    fill = _fill(c)
    lst.before_grow(fill, (element,))
    n = len(lst)
    if i < 0:
        i += n
    if i < 0 or i >= n:
        raise errors.OUT_OF_RANGE
    old = lst[i]
    lst[i] = element
    lst.removed((old,))
    lst.added((element,))
    lst.after_shrink(fill)
    db.signal_modified(key)
    c.server.notify("l", "lset", key, db.id)
    c.server.dirty += 1
    return OK


@command("linsert", arity=5, flags="write denyoom", keys=1, key_flags="RW insert", group="list", since="2.2.0",
         summary="Puts an element into a list just before or after a reference element.",
         complexity="O(N) where N is the number of elements to traverse before seeing the value pivot. This means "
         "that inserting somewhere on the left end on the list (head) can be considered O(1) and inserting "
         "somewhere on the right end (tail) is O(N).",
         args="key:key (where: BEFORE | AFTER) pivot element")
def linsert(c: Client, key: bytes, where: bytes, pivot: bytes, element: bytes) -> int:
    low = where.lower()
    if low == b"after":
        after = True
    elif low == b"before":
        after = False
    else:
        raise errors.SYNTAX
    db = c.db
    lst = db.get_typed(key, ListType)
    if lst is None:
        return 0
    lst.before_grow(_fill(c), (element,))
    try:
        i = lst.index(pivot)
    except ValueError:
        return -1
    lst.insert(i + 1 if after else i, element)
    lst.added((element,))
    db.signal_modified(key)
    c.server.notify("l", "linsert", key, db.id)
    c.server.dirty += 1
    return len(lst)


@command("lrem", arity=4, flags="write", keys=1, key_flags="RW delete", group="list", since="1.0.0",
         summary="Deletes elements equal to a value from a list; an emptied list is deleted.",
         complexity="O(N+M) where N is the length of the list and M is the number of elements removed.",
         args="key:key count:integer element")
def lrem(c: Client, key: bytes, count: bytes, element: bytes) -> int:
    n = range_long(count, -LONG_MAX, LONG_MAX)
    db = c.db
    lst = db.get_typed(key, ListType)
    if lst is None:
        return 0
    limit = abs(n)
    removed = 0
    kept: list[bytes] = []
    for x in (lst if n >= 0 else reversed(lst)):
        if x == element and (not limit or removed < limit):
            removed += 1
        else:
            kept.append(x)
    if not removed:
        return 0
    if n < 0:
        kept.reverse()
    lst.clear()
    lst.extend(kept)
    lst.removed((element,) * removed)
    c.server.dirty += removed
    c.server.notify("l", "lrem", key, db.id)
    if not lst:
        db.delete(key)
        c.server.notify("g", "del", key, db.id)
    else:
        lst.after_shrink(_fill(c))
        db.signal_modified(key)
    return removed


@command("ltrim", arity=4, flags="write", keys=1, key_flags="RW delete", group="list", since="1.0.0",
         summary="Keeps only the list elements between two indexes; an emptied list is deleted.",
         complexity="O(N) where N is the number of elements to be removed by the operation.",
         args="key:key start:integer stop:integer")
def ltrim(c: Client, key: bytes, start: bytes, stop: bytes):
    s, e = parse_int(start), parse_int(stop)
    db = c.db
    lst = db.get_typed(key, ListType)
    if lst is None:
        return OK
    n = len(lst)
    span = index_span(s, e, n)
    left, right = (n, 0) if span is None else (span[0], n - span[1])
    kept = n - left - right
    if kept < left + right:
        items = list(islice(lst, left, left + kept))
        lst.clear()
        lst.extend(items)
        lst.invalidate()
    else:
        _pop(lst, left, True)
        _pop(lst, right, False)
    c.server.notify("l", "ltrim", key, db.id)
    if not lst:
        db.delete(key)
        c.server.notify("g", "del", key, db.id)
    else:
        lst.after_shrink(_fill(c))
        db.signal_modified(key)
    c.server.dirty += left + right
    return OK


# ---------------------------------------------------------------------- moves
def _move(c: Client, src: bytes, dst: bytes, from_left: bool, to_left: bool):
    db = c.db
    slst = db.get_typed(src, ListType)
    if slst is None:
        return None
    if not slst:
        return None
    dlst = db.get_typed(dst, ListType)
    value = _pop(slst, 1, from_left)[0]
    new = dlst is None
    if new:
        dlst = ListType()
    dlst.before_grow(_fill(c), (value,))
    if to_left:
        dlst.appendleft(value)
    else:
        dlst.append(value)
    dlst.added((value,))
    if new:
        db.add(dst, dlst)
    else:
        db.signal_modified(dst)
    c.server.notify("l", "lpush" if to_left else "rpush", dst, db.id)
    db.signal_ready(dst)
    _removed(c, src, slst, from_left, 1)
    return value


@command("lmove", arity=5, flags="write denyoom", keys=(1, 2, 1), group="list", since="6.2.0",
         summary="Takes an element from one end of a list and pushes it onto another list, replying with it.", complexity="O(1)", key_specs=(_ACCESS_DELETE, _INSERT_2),
         args="source:key destination:key (wherefrom: LEFT | RIGHT) (whereto: LEFT | RIGHT)")
def lmove(c: Client, src: bytes, dst: bytes, wherefrom: bytes, whereto: bytes):
    from_left = _where(wherefrom)
    to_left = _where(whereto)
    return _move(c, src, dst, from_left, to_left)


@command("rpoplpush", arity=3, flags="write denyoom", keys=(1, 2, 1), group="list", since="1.2.0",
         summary="Takes the tail element of a list and pushes it onto the head of another list, replying with it.", complexity="O(1)", key_specs=(_ACCESS_DELETE, _INSERT_2),
         doc_flags="deprecated", deprecated_since="6.2.0",
         replaced_by="`LMOVE` with the `RIGHT` and `LEFT` arguments",
         args="source:key destination:key")
def rpoplpush(c: Client, src: bytes, dst: bytes):
    return _move(c, src, dst, False, True)


# ---------------------------------------------------------------------- blocking
# BLPOP & co. try their non-blocking form first; on an empty key they park the client with a
# retry closure that engine.blocking runs after each command that made one of its keys ready.
# A pop served late propagates itself (Server.call already ran for the pushing command).

def _block_pop(c: Client, keys: tuple[bytes, ...], left: bool, count: int, timeout: float):
    """Valkey's blockingPopGenericCommand; ``count`` -1 means BLPOP/BRPOP's one element."""
    def attempt():
        db = c.db
        for key in keys:
            lst = db.get_typed(key, ListType)
            if not lst:
                continue
            name = b"LPOP" if left else b"RPOP"
            if count == -1:
                value = _pop(lst, 1, left)[0]
                _removed(c, key, lst, left, 1)
                return [key, value], [name, key]
            out = _pop(lst, min(count, len(lst)), left)
            _removed(c, key, lst, left, len(out))
            return [key, out], [name, key, b"%d" % len(out)]
        return MISS

    return pop_or_block(c, keys, attempt, timeout, NULL_ARRAY)


def _bpop_command(name: str, left: bool, end: str):
    """Declare BLPOP/BRPOP; ``end`` is "head" or "tail"."""
    def bpop(c: Client, *args: bytes):
        timeout = parse_pop_timeout(args[-1])
        return _block_pop(c, args[:-1], left, -1, timeout)

    bpop.__name__ = bpop.__qualname__ = name
    return command(name, arity=-3, flags="write blocking", keys=(1, -2, 1), key_flags="RW access delete",
                   group="list", since="2.0.0",
                   summary=f"Removes and replies with the {end} element of the first non-empty list, "
                           "waiting if all are empty.",
                   complexity="O(N) where N is the number of provided keys.",
                   history=(("6.0.0", "`timeout` is interpreted as a double instead of an integer."),),
                   args="key:key... timeout:double")(bpop)


blpop = _bpop_command("blpop", True, "head")
brpop = _bpop_command("brpop", False, "tail")


def _block_move(c: Client, src: bytes, dst: bytes, from_left: bool, to_left: bool, timeout: float,
                argv: list[bytes]):
    """Valkey's blmoveGenericCommand: LMOVE now, or park on ``src`` alone."""
    def attempt():
        if c.db.get_typed(src, ListType) is None:
            return MISS
        return _move(c, src, dst, from_left, to_left), argv

    return pop_or_block(c, (src,), attempt, timeout, None)


@command("blmove", arity=6, flags="write denyoom blocking", keys=(1, 2, 1), group="list", since="6.2.0",
         summary="Moves an element from one list to another like LMOVE, waiting if the source is empty.", complexity="O(1)",
         key_specs=(_ACCESS_DELETE, _INSERT_2),
         args="source:key destination:key (wherefrom: LEFT | RIGHT) (whereto: LEFT | RIGHT) timeout:double")
def blmove(c: Client, src: bytes, dst: bytes, wherefrom: bytes, whereto: bytes, timeout: bytes):
    from_left = _where(wherefrom)
    to_left = _where(whereto)
    t = parse_pop_timeout(timeout)
    return _block_move(c, src, dst, from_left, to_left, t, [b"LMOVE", src, dst, wherefrom, whereto])


@command("brpoplpush", arity=4, flags="write denyoom blocking", keys=(1, 2, 1), group="list", since="2.2.0",
         summary="Moves the tail element of a list to the head of another, waiting if the source is empty.", complexity="O(1)",
         key_specs=(_ACCESS_DELETE, _INSERT_2), doc_flags="deprecated", deprecated_since="6.2.0",
         replaced_by="`BLMOVE` with the `RIGHT` and `LEFT` arguments",
         history=(("6.0.0", "`timeout` is interpreted as a double instead of an integer."),),
         args="source:key destination:key timeout:double")
def brpoplpush(c: Client, src: bytes, dst: bytes, timeout: bytes):
    t = parse_pop_timeout(timeout)
    return _block_move(c, src, dst, False, True, t, [b"RPOPLPUSH", src, dst])


def _blmpop_keys(argv: list[bytes]) -> list[int]:
    return [i + 1 for i in _lmpop_keys(argv[1:])]


@command("blmpop", arity=-5, flags="write blocking", group="list", since="7.0.0",
         summary="Removes elements from the first non-empty list among several keys, waiting if all are empty.",
         complexity="O(N+M) where N is the number of provided keys and M is the number of elements returned.",
         key_specs=(KeySpec(("RW", "access", "delete"), ("index", 2), ("keynum", 0, 1, 1)),),
         getkeys=_blmpop_keys,
         args="timeout:double numkeys:integer key:key... (where: LEFT | RIGHT) [COUNT count:integer]")
def blmpop(c: Client, timeout: bytes, numkeys_arg: bytes, *rest: bytes):
    keys, left, count = parse_mpop(numkeys_arg, rest, b"right", b"left")
    t = parse_pop_timeout(timeout)
    return _block_pop(c, keys, left, count, t)
