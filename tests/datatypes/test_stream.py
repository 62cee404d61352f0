"""The stream structure against a plain model (a list of live entries), with _check() after
every operation; its listpack accounting against the real listpack encoder; ID parsing."""
from __future__ import annotations

import bisect
import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pykey.datatypes import stream as stream_mod
from pykey.datatypes.stream import (
    INVALID_ENTRIES_READ,
    MASK64,
    MAX_ID,
    NACK,
    Dead,
    Group,
    StreamType,
    format_id,
    make_id,
    parse_id,
    string2ull,
)
from pykey.persistence import listpack

FIELDS = [b"a", b"b", b"item", b"123", b"x" * 70]
VALUES = [b"", b"1", b"-7", b"v", b"4096", b"18446744073709551616", b"y" * 100, b"z" * 5000]


def build(n: int, max_entries: int = 100, max_bytes: int = 4096, fields=(b"f",)) -> StreamType:
    s = StreamType()
    for i in range(1, n + 1):
        fv = []
        for f in fields:
            fv += [f, b"%d" % i]
        s.append(make_id(i, 0), fv, max_bytes, max_entries)
    return s


def ids_of(s: StreamType, **kw) -> list[int]:
    return [eid for eid, _ in s.range(**kw)]


# ---------------------------------------------------------------------- model-based
entry = st.tuples(st.integers(0, 3), st.integers(0, 2),
                  st.lists(st.tuples(st.sampled_from(FIELDS), st.sampled_from(VALUES)), min_size=1, max_size=3))
op = st.one_of(
    st.tuples(st.just("add"), entry),
    st.tuples(st.just("del"), st.integers(0, 40)),
    st.tuples(st.just("maxlen"), st.integers(0, 30), st.booleans(), st.integers(0, 25)),
    st.tuples(st.just("minid"), st.integers(0, 60), st.booleans(), st.integers(0, 25)),
    st.tuples(st.just("range"), st.integers(0, 80), st.integers(0, 80), st.integers(0, 5), st.booleans()),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(op, max_size=60), st.sampled_from([1, 2, 3, 5, 100]), st.sampled_from([0, 60, 300, 4096]))
def test_operations_match_model(steps, max_entries, max_bytes):
    s = StreamType()
    model: list[tuple[int, tuple[bytes, ...]]] = []
    ms = 0
    for step in steps:
        kind = step[0]
        if kind == "add":
            dms, seq, pairs = step[1]
            ms += dms
            eid = make_id(ms, seq)
            if eid <= s.last_id:
                eid = s.last_id + 1
            fv = [x for pair in pairs for x in pair]
            s.append(eid, fv, max_bytes, max_entries)
            model.append((eid, tuple(fv)))
        elif kind == "del":
            eid = make_id(step[1] // 2, step[1] % 3)
            present = any(e == eid for e, _ in model)
            assert s.delete(eid) == present
            if present:
                first = model[0][0] == eid
                model = [(e, x) for e, x in model if e != eid]
                s.max_deleted_id = max(s.max_deleted_id, eid)
                s.after_delete(first)
        elif kind in ("maxlen", "minid"):
            _, arg, approx, limit = step
            if kind == "maxlen":
                n = s.trim(maxlen=arg, approx=approx, limit=limit if approx else 0)
                assert len(model) - n >= arg or n == 0
            else:
                minid = make_id(arg // 2, 0)
                n = s.trim(minid=minid, approx=approx, limit=limit if approx else 0)
                assert all(e < minid for e, _ in model[:n])
                if not approx:
                    assert all(e >= minid for e, _ in model[n:])
            if approx and limit:
                assert n <= limit
            model = model[n:]
        else:
            _, a, b, count, rev = step
            start, end = make_id(a // 2, a % 3), make_id(b // 2, b % 3)
            want = [(e, x) for e, x in model if start <= e <= end]
            if rev:
                want.reverse()
            if count:
                want = want[:count]
            assert list(s.range(start, end, count, rev)) == want
        s._check()
        assert [(e, tuple(x)) for e, x in s.range()] == model
        assert len(s) == len(model)
        assert s.first_id == (model[0][0] if model else 0)
        for node in s.nodes:
            assert node.lp_bytes() == len(listpack.encode(StreamType.node_elements(node)))


def test_node_split_by_entries_and_bytes():
    s = build(1000, max_entries=100)
    assert len(s.nodes) == 10 and all(n.live == 100 for n in s.nodes)
    s = build(1000, max_entries=0, max_bytes=4096)
    # a node is closed when its bytes plus the next entry's field and value lengths reach 4096
    assert len(s.nodes) > 1
    for node, nxt in zip(s.nodes, s.nodes[1:], strict=False):
        assert node.lp_bytes() + sum(map(len, nxt.items[0])) >= 4096
        last = node.items[-1]
        assert node.lp_bytes() - 10 + sum(map(len, last)) < 4096 + 10
    s = build(10, max_entries=1)
    assert len(s.nodes) == 10


def test_approximate_trim_removes_whole_nodes_only():
    s = build(1000)
    assert s.trim(maxlen=555, approx=True, limit=10000) == 400
    assert len(s) == 600
    assert s.trim(maxlen=0, approx=True, limit=250) == 200      # two nodes fit the limit
    assert s.trim(minid=make_id(950, 0), approx=True, limit=0) == 300
    assert len(s) == 100 and s.first_id == make_id(901, 0)
    s._check()


def test_exact_trim_marks_tombstones_in_the_head_node():
    s = build(250)
    assert s.trim(maxlen=145) == 105
    assert s.nodes[0].deleted == 5 and s.nodes[0].live == 95
    assert s.first_id == make_id(106, 0)
    s._check()


def test_delete_last_live_entry_drops_the_node():
    s = build(3, max_entries=2)
    assert len(s.nodes) == 2
    assert s.delete(make_id(3, 0))
    assert len(s.nodes) == 1
    assert s.delete(make_id(1, 0)) and s.nodes[0].deleted == 1
    assert not s.delete(make_id(1, 0))
    assert s.delete(make_id(2, 0)) and not s.nodes
    s.after_delete(True)
    assert s.length == 0 and s.first_id == 0 and s.last_id == make_id(3, 0)
    s._check()


def test_listpack_round_trip_keeps_tombstones():
    s = StreamType()
    s.append(make_id(5, 0), [b"a", b"1", b"b", b"x"], 4096, 100)
    s.append(make_id(5, 1), [b"a", b"2", b"b", b"y"], 4096, 100)
    s.append(make_id(6, 0), [b"c", b"-3"], 4096, 100)
    s.delete(make_id(5, 1))
    elements = StreamType.node_elements(s.nodes[0])
    blob = listpack.encode(elements)
    assert len(blob) == s.nodes[0].lp_bytes()
    t = StreamType()
    t.load_node(make_id(5, 0), listpack.decode(blob))
    t.last_id, t.entries_added, t.first_id = s.last_id, s.entries_added, s.first_id
    t._check()
    assert list(t.range()) == list(s.range())
    assert isinstance(t.nodes[0].items[1], Dead) and t.nodes[0].items[1] == (b"a", b"2", b"b", b"y")
    with pytest.raises(ValueError):
        t.load_node(make_id(1, 0), elements)      # out of order


def test_next_id():
    s = StreamType()
    assert s.next_id(1000) == make_id(1000, 0)
    s.last_id = make_id(2000, 5)
    assert s.next_id(1000) == make_id(2000, 6)
    s.last_id = make_id(2000, MASK64)
    assert s.next_id(1000) == make_id(2001, 0)
    s.last_id = MAX_ID
    assert s.next_id(1000) is None


def test_read_counter_and_lag_follow_valkey():
    # "Consumer group lag with XDELs" from Valkey's suite
    s = StreamType()
    for i in range(1, 6):
        s.append(make_id(i, 0), [b"data", b"x"], 4096, 100)
    s.delete(make_id(3, 0))
    s.max_deleted_id = make_id(3, 0)
    g = s.create_group(b"g1", 0, INVALID_ENTRIES_READ)
    assert s.group_lag(g) is None
    for eid in (1, 2, 4):
        s.advance_group(g, make_id(eid, 0))
        assert g.entries_read == INVALID_ENTRIES_READ and s.group_lag(g) is None
    s.advance_group(g, make_id(5, 0))
    assert g.entries_read == 5 and s.group_lag(g) == 0
    s.append(make_id(6, 0), [b"data", b"f"], 4096, 100)
    assert s.group_lag(g) == 1
    g2 = s.create_group(b"g2", 0, INVALID_ENTRIES_READ)
    s.trim(minid=make_id(3, 0))
    assert s.group_lag(g) == 1 and s.group_lag(g2) == 3
    s.trim(minid=make_id(5, 0))
    assert s.group_lag(g2) == 2
    empty = StreamType()
    assert empty.group_lag(Group(0)) == 0 and empty.estimate_distance(5) == 0


def test_group_pel_invariants():
    s = build(5)
    g = s.create_group(b"g", 0, INVALID_ENTRIES_READ)
    assert s.create_group(b"g", 0, 0) is None
    a = g.create_consumer(b"a", 1)
    b = g.create_consumer(b"b", 1)
    assert g.create_consumer(b"a", 2) is None
    for i in range(1, 5):
        nack = NACK(10, a)
        g.pel[make_id(i, 0)] = nack
        a.pel[make_id(i, 0)] = nack
    s._check()
    g.assign(make_id(2, 0), g.pel[make_id(2, 0)], b)
    s._check()
    assert g.ack(make_id(1, 0)) and not g.ack(make_id(1, 0))
    s._check()
    assert g.delete_consumer(a) == 2
    s._check()
    assert list(g.pel) == [make_id(2, 0)] and list(b.pel) == [make_id(2, 0)]
    # a broken invariant is caught
    g.pel[make_id(9, 0)] = NACK(1, b)
    with pytest.raises(AssertionError):
        s._check()


def test_copy_is_deep():
    s = build(10)
    g = s.create_group(b"g", make_id(3, 0), 3)
    c = g.create_consumer(b"c", 7)
    nack = NACK(5, c, 2)
    g.pel[make_id(2, 0)] = nack
    c.pel[make_id(2, 0)] = nack
    t = s.copy()
    t._check()
    t.delete(make_id(1, 0))
    t.groups[b"g"].ack(make_id(2, 0))
    assert len(s) == 10 and make_id(2, 0) in s.groups[b"g"].pel
    tg = s.copy().groups[b"g"]
    assert tg.last_id == make_id(3, 0) and tg.entries_read == 3
    assert tg.pel[make_id(2, 0)].consumer is tg.consumers[b"c"] and tg.pel[make_id(2, 0)].delivery_count == 2


def test_radix_tree_nodes_counts_a_compressed_rax():
    s = StreamType()
    assert s.radix_tree_nodes() == 1
    s = build(1)
    assert s.radix_tree_nodes() == 2
    # 1-0 and 2-0 differ in byte 7: root, the branch, then per key a compressed child + leaf
    # (redis-server 7.0 reports 6 too)
    s = build(2, max_entries=1)
    assert s.radix_tree_nodes() == 6
    s = StreamType()
    for i in range(1, 301):
        s.append(make_id(i * 7919, i % 5), [b"f", b"%d" % i], 4096, 1)
    assert s.radix_tree_nodes() == 639            # as redis-server 7.0 counts the same keys


def test_memory_per_entry_stays_small():
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    s = build(20_000, fields=(b"sensor",))
    used = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert len(s) == 20_000
    # closed nodes are packed: ~12 bytes an entry here, against ~150 as tuples
    assert used / 20_000 < 40, used / 20_000


# ---------------------------------------------------------------------- packed nodes
ids_in_node = st.lists(st.tuples(st.sampled_from([0, 0, 1, 2, 300, 70_000, 1 << 40, MASK64 - 5]),
                                 st.sampled_from([0, 1, 2, 255, 256, 65_536, 1 << 33, MASK64])),
                       min_size=1, max_size=40)
node_entry = st.one_of(
    st.just(None),                                               # the master's fields
    st.lists(st.tuples(st.sampled_from(FIELDS), st.sampled_from(VALUES)), min_size=1, max_size=3))


@settings(max_examples=150, deadline=None)
@given(st.tuples(st.integers(0, 5), st.sampled_from([0, 7, MASK64 - 3])), ids_in_node,
       st.lists(node_entry, min_size=40, max_size=40), st.lists(st.booleans(), min_size=40, max_size=40),
       st.sampled_from([(b"f",), (b"a", b"b"), (b"", b"x" * 70, b"123")]))
def test_packed_node_round_trip_seek_and_windows(master_ms_seq, deltas, shapes, dead, mfields):
    master = make_id(*master_ms_seq)
    eids = [master]
    for dms, seq in deltas:
        ms = min((eids[-1] >> 64) + dms, MASK64)
        eid = make_id(ms, seq)
        eid = eid if eid > eids[-1] else eids[-1] + 1
        if eid <= MAX_ID:
            eids.append(eid)
    node = stream_mod._Node(master, mfields)
    for k, eid in enumerate(eids):
        fv = [x for f in mfields for x in (f, VALUES[k % len(VALUES)])] if shapes[k % 40] is None else \
            [x for pair in shapes[k % 40] for x in pair]
        item = tuple(fv)
        if k and dead[k % 40]:
            item = Dead(item)
        else:
            node.live += 1
        node.deleted += item.__class__ is Dead
        node.ids.append(eid)
        node.items.append(item)
        node.nbytes += stream_mod.entry_bytes(node, eid, item)
    blob = stream_mod._pack(node)
    rd = stream_mod._Packed(blob, master)
    back = rd.node()
    assert (back.ids, back.items, back.mfields, back.live, back.deleted, back.nbytes) == \
        (node.ids, node.items, node.mfields, node.live, node.deleted, node.nbytes)
    assert all((a.__class__ is Dead) == (b.__class__ is Dead) for a, b in zip(back.items, node.items, strict=True))
    assert stream_mod._last_id(blob, master) == eids[-1]
    n = len(eids)
    for probe in {0, master - 1, master, *eids, *(e + 1 for e in eids), *(e - 1 for e in eids), MAX_ID}:
        if 0 <= probe <= MAX_ID:
            assert rd.seek(probe) == bisect.bisect_left(eids, probe)
            assert rd.seek(probe, right=True) == bisect.bisect_right(eids, probe)
    for lo in range(0, n, 3):
        for hi in (lo + 1, min(n, lo + 4), n):
            assert rd.ids(lo, hi) == eids[lo:hi] and rd.items(lo, hi) == node.items[lo:hi]
    for k in range(n):
        if node.items[k].__class__ is not Dead:
            patched = rd.tombstone(k)
            if patched is not None:
                node2 = node.copy()
                node2.items[k] = Dead(node2.items[k])
                node2.live -= 1
                node2.deleted += 1
                assert patched == stream_mod._pack(node2)


def test_packed_nodes_read_like_open_ones():
    s = build(1000)                    # ten nodes: nine packed, the tail open
    assert [n.__class__ for n in s._nodes] == [bytes] * 9 + [stream_mod._Node]
    want = [(make_id(i, 0), (b"f", b"%d" % i)) for i in range(1, 1001)]
    assert list(s.range()) == want
    assert list(s.range(rev=True)) == want[::-1]
    for start in (1, 99, 100, 101, 555, 1000):
        assert list(s.range(make_id(start, 0), count=3)) == want[start - 1:start + 2]
        assert s.after(make_id(start, 0), 2) == want[start - 1:start + 1]
        assert list(s.range(0, make_id(start, 0), count=3, rev=True)) == want[max(0, start - 3):start][::-1]
        assert s.get(make_id(start, 0)) == want[start - 1][1]
    # a consumer paging one entry at a time reads the same entries
    got, pos = [], 0
    while batch := s.after(pos, 1):
        got += batch
        pos = batch[-1][0] + 1
    assert got == want
    assert s.last_valid_id() == make_id(1000, 0)
    s._check()


def test_deletes_and_trims_inside_packed_nodes():
    s = build(500)
    for i in (5, 6, 150, 399, 400, 401):
        assert s.delete(make_id(i, 0))
        assert not s.delete(make_id(i, 0))
        s._check()
    assert s.get(make_id(150, 0)) is None and s.get(make_id(151, 0)) == (b"f", b"151")
    assert s.trim(maxlen=440) == 54
    s._check()
    assert s.trim(minid=make_id(250, 0)) == 44 + 99 + 49     # two whole nodes, then 201..249
    s._check()
    assert s.first_live_id() == make_id(250, 0)
    # every live entry of a packed node deleted: the node goes
    for i in range(301, 401):
        s.delete(make_id(i, 0))
    assert [n.master for n in s.nodes] == [make_id(201, 0), make_id(401, 0)]
    s._check()


def test_packed_tail_reopens_when_the_limits_grow():
    s = build(200)
    assert s.delete(make_id(200, 0)) and s.delete(make_id(199, 0))   # ... the tail is open
    for i in range(101, 199):
        s.delete(make_id(i, 0))
    assert len(s.nodes) == 1 and s._nodes[0].__class__ is bytes   # now the packed node is last
    s.append(make_id(300, 0), [b"f", b"x"], 4096, 100)              # full: a new node
    assert len(s.nodes) == 2
    s.delete(make_id(300, 0))
    s.append(make_id(301, 0), [b"f", b"y"], 1 << 20, 1000)          # room again: appended
    assert len(s.nodes) == 1 and s._nodes[0].__class__ is stream_mod._Node
    assert s.nodes[0].live == 101
    s._check()
    assert list(s.range(make_id(100, 0))) == [(make_id(100, 0), (b"f", b"100")), (make_id(301, 0), (b"f", b"y"))]


def test_large_values_use_wide_offsets():
    s = build(0)
    for i in range(1, 30):
        s.append(make_id(i, 0), [b"blob", bytes([i]) * 5000], 1 << 30, 10)
    s._check()
    assert [v for _, (_, v) in s.range()] == [bytes([i]) * 5000 for i in range(1, 30)]


# ---------------------------------------------------------------------- ID parsing
@pytest.mark.parametrize("arg,expect", [
    (b"0", (make_id(0, 7), True)), (b"5", (make_id(5, 7), True)), (b"5-3", (make_id(5, 3), True)),
    (b"18446744073709551615-18446744073709551615", (MAX_ID, True)),
    (b"-", (0, True)), (b"+", (MAX_ID, True)),
    (b" 5-1", (make_id(5, 1), True)), (b"+5-1", (make_id(5, 1), True)), (b"007", (make_id(7, 7), True)),
    (b"5-1\x00junk", (make_id(5, 1), True)),
])
def test_parse_id_loose(arg, expect):
    assert parse_id(arg, 7) == expect


@pytest.mark.parametrize("arg", [b"", b"a", b"5-", b"-5", b"5-a", b"5-1-", b"18446744073709551616", b"5 ",
                                 b"1" * 128, b"5--1", b"0x10"])
def test_parse_id_invalid(arg):
    assert parse_id(arg) is None


def test_parse_id_strict_and_auto_seq():
    assert parse_id(b"-", strict=True) is None and parse_id(b"+", strict=True) is None
    assert parse_id(b"5-*") is None
    assert parse_id(b"5-*", allow_auto_seq=True) == (make_id(5, 0), False)
    assert parse_id(b"*", allow_auto_seq=True) is None


def test_string2ull_follows_strtoull():
    assert string2ull(b"-0") == 0
    assert string2ull(b" -1") == MASK64          # strtoull negates modulo 2^64
    assert string2ull(b"-1") is None             # string2ll refuses negatives first
    assert string2ull(b"18446744073709551615") == MASK64


def test_format_id():
    assert format_id(make_id(1526919030474, 55)) == b"1526919030474-55"
