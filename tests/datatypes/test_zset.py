"""The sorted set structure against a plain model (a dict, sorted on demand), with _check()
after every operation."""
from __future__ import annotations

import math
from contextlib import contextmanager

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pykey.datatypes import zset as zset_mod
from pykey.datatypes.zset import LISTPACK, SKIPLIST, LexBound, ZSet

# Each model test runs on every layout: the dict + sorted-list one with its usual load
# (one sublist at these sizes) and with a load of 3 (many sublists, equal-score runs
# crossing them), and the small listpack layout (also with SMALL_MAX 4, so it converts).
LAYOUTS = ["big", "big-load3", "small", "small-max4"]


@contextmanager
def layout(name: str):
    saved = zset_mod.SMALL_MAX
    if name == "small-max4":
        zset_mod.SMALL_MAX = 4
    try:
        yield
    finally:
        zset_mod.SMALL_MAX = saved


def make(name: str, items=()) -> ZSet:
    if name.startswith("small"):
        z = ZSet(items, enc=LISTPACK)
    else:
        z = ZSet()
        if name == "big-load3":
            z._sl._load = 3
        for m, sc in items:
            z.add(m, sc)
    return z

members = st.one_of(st.binary(max_size=4), st.sampled_from([b"\xff", b"a\xfe", bytes(range(128)),
                                                             bytes(range(128, 256))]))
scores = st.one_of(st.sampled_from([0.0, -0.0, 1.0, -1.0, 2.5, math.inf, -math.inf]),
                   st.floats(allow_nan=False, width=32))
ops = st.lists(st.tuples(st.sampled_from(["add", "discard", "popmin", "popmax", "remspan"]),
                         members, scores, st.integers(-3, 6), st.integers(-3, 6)), max_size=40)


def ordered(model: dict[bytes, float]) -> list[tuple[bytes, float]]:
    return sorted(model.items(), key=lambda kv: (kv[1], kv[0]))


@pytest.mark.parametrize("name", LAYOUTS)
@settings(max_examples=150, deadline=None)
@given(steps=ops)
def test_operations_match_model(name, steps):
    with layout(name):
        _run_model(make(name), steps)


def _run_model(z: ZSet, steps) -> None:
    model: dict[bytes, float] = {}
    for op, m, s, a, b in steps:
        if op == "add":
            assert z.add(m, s) == (m not in model)
            if m not in model or model[m] != s:
                model[m] = s
        elif op == "discard":
            assert z.discard(m) == (m in model)
            model.pop(m, None)
        elif op == "popmin":
            n = max(a, 0)
            got = z.pop_min(n)
            assert got == ordered(model)[:n]
            for k, _ in got:
                del model[k]
        elif op == "popmax":
            n = max(a, 0)
            got = z.pop_max(n)
            assert got == ordered(model)[::-1][:n]
            for k, _ in got:
                del model[k]
        else:
            i, j = sorted((max(a, 0), max(b, 0)))
            got = z.remove_span(i, j)
            assert got == ordered(model)[i:j]
            for k, _ in got:
                del model[k]
        z._check()
        assert list(z.items()) == ordered(model)
        assert len(z) == len(model)
    for k, v in model.items():
        assert z.score(k) == v
        assert z.rank(k) == ordered(model).index((k, v))
        assert z.rank(k, reverse=True) == len(model) - 1 - ordered(model).index((k, v))
    assert z.rank(b"missing-member") is None


@pytest.mark.parametrize("name", LAYOUTS)
@settings(max_examples=150, deadline=None)
@given(model=st.dictionaries(members, scores, max_size=20), lo=scores, hi=scores, lo_ex=st.booleans(),
       hi_ex=st.booleans(), rev=st.booleans(), offset=st.integers(-1, 5), count=st.integers(-1, 5))
def test_range_by_score(name, model, lo, hi, lo_ex, hi_ex, rev, offset, count):
    with layout(name):
        z = make(name, model.items())
    z._check()
    inside = [(m, s) for m, s in ordered(model)
              if (s > lo if lo_ex else s >= lo) and (s < hi if hi_ex else s <= hi)]
    assert z.count_by_score(lo, hi, lo_ex, hi_ex) == len(inside)
    if rev:
        inside.reverse()
    want = [] if offset < 0 else inside[offset:] if count < 0 else inside[offset:offset + count]
    assert z.range_by_score(lo, hi, lo_ex, hi_ex, rev, offset, count) == want


def _bound(spec: tuple[int, bytes, bool]) -> LexBound:
    return LexBound(*spec)


bounds = st.tuples(st.sampled_from([LexBound.MIN, LexBound.VALUE, LexBound.MAX]), members, st.booleans())


def _ge(m: bytes, b: LexBound) -> bool:
    if b.kind == LexBound.MIN:
        return True
    if b.kind == LexBound.MAX:
        return False
    return m > b.value if b.exclusive else m >= b.value


def _le(m: bytes, b: LexBound) -> bool:
    if b.kind == LexBound.MIN:
        return False
    if b.kind == LexBound.MAX:
        return True
    return m < b.value if b.exclusive else m <= b.value


@pytest.mark.parametrize("name", LAYOUTS)
@settings(max_examples=150, deadline=None)
@given(ms=st.sets(members, max_size=20), lo=bounds, hi=bounds, rev=st.booleans(), score=st.sampled_from([0.0, 7.0]))
def test_range_by_lex_same_score(name, ms, lo, hi, rev, score):
    with layout(name):
        z = make(name, [(m, score) for m in ms])
    z._check()
    lo, hi = _bound(lo), _bound(hi)
    inside = [(m, score) for m in sorted(ms) if _ge(m, lo) and _le(m, hi)]
    assert z.count_by_lex(lo, hi) == len(inside)
    assert z.range_by_lex(lo, hi, rev) == (inside[::-1] if rev else inside)


def test_lex_range_with_mixed_scores_uses_member_order_search():
    # undefined in Valkey; members here happen to be sorted in score order too
    z = ZSet([(b"a", 1.0), (b"b", 2.0), (b"c", 3.0)])
    assert z.range_by_lex(LexBound(0, b"b"), LexBound(1)) == [(b"b", 2.0), (b"c", 3.0)]


@pytest.mark.parametrize("name", LAYOUTS)
@given(model=st.dictionaries(members, scores, max_size=12), start=st.integers(-15, 15), stop=st.integers(-15, 15),
       rev=st.booleans())
def test_range_by_rank(name, model, start, stop, rev):
    with layout(name):
        z = make(name, model.items())
    items = ordered(model)
    if rev:
        items.reverse()
    n = len(items)
    s, e = (start + n if start < 0 else start), (stop + n if stop < 0 else stop)
    s = max(s, 0)
    want = [] if s > e or s >= n else items[s:min(e, n - 1) + 1]
    assert z.range_by_rank(start, stop, rev) == want


def test_negative_zero_does_not_replace_zero():
    z = ZSet()
    z.add(b"a", 0.0)
    assert z.add(b"a", -0.0) is False
    assert math.copysign(1, z.score(b"a")) == 1


def test_encoding_rules():
    limits = (3, 5)
    assert ZSet.create(3, 5, limits).enc == LISTPACK
    assert ZSet.create(4, 1, limits).enc == SKIPLIST
    assert ZSet.create(1, 6, limits).enc == SKIPLIST
    z = ZSet.create(1, 1, limits)
    for m in (b"a", b"b", b"c"):
        z.add(m, 1.0, limits)
    assert z.encoding() == "listpack"
    z.add(b"a", 2.0, limits)                 # an update never converts
    assert z.encoding() == "listpack"
    z.add(b"d", 1.0, limits)
    assert z.encoding() == "skiplist"
    z.discard(b"d")
    assert z.encoding() == "skiplist"        # no way back on deletion
    z.shrink_if_small(limits)
    assert z.encoding() == "listpack"
    y = ZSet.create(1, 1, limits)
    y.add(b"toolong", 1.0, limits)
    assert y.encoding() == "skiplist"


def test_copy_is_independent():
    z = ZSet([(b"a", 1.0), (b"b", 2.0)], enc=LISTPACK)
    c = z.copy()
    c.add(b"c", 3.0)
    c.discard(b"a")
    assert list(z.items()) == [(b"a", 1.0), (b"b", 2.0)]
    assert list(c.items()) == [(b"b", 2.0), (b"c", 3.0)]
    assert c.encoding() == "listpack"
    c._check()
    z._check()


def test_listpack_turns_negative_zero_into_zero():
    """A listpack stores integral scores as integers, so -0 reads back as 0; a skiplist keeps it."""
    limits = (4, 64)
    lp = ZSet.create(1, 1, limits)
    lp.add(b"a", -0.0, limits)
    assert math.copysign(1, lp.score(b"a")) == 1
    sk = ZSet([(b"a", -0.0)])
    assert math.copysign(1, sk.score(b"a")) == -1
    sk.shrink_if_small(limits)
    assert sk.encoding() == "listpack" and math.copysign(1, sk.score(b"a")) == 1
    sk._check()


def test_layout_follows_the_encoding():
    limits = (3, 64)
    z = ZSet.create(1, 1, limits)
    for m in (b"a", b"b", b"c"):
        z.add(m, 1.0, limits)
    assert z._scores is None                     # listpack: the small layout
    z.add(b"d", 1.0, limits)
    assert z._scores is not None and z.encoding() == "skiplist"
    z.discard(b"d")
    z.shrink_if_small(limits)
    assert z._scores is None
    z.to_skiplist()
    assert z._scores is not None
    z._check()
    # a listpack allowed to grow past SMALL_MAX (raised limits) changes layout, not encoding
    big_limits = (10_000, 64)
    y = ZSet.create(1, 1, big_limits)
    for i in range(zset_mod.SMALL_MAX + 5):
        y.add(b"m%d" % i, float(i % 7), big_limits)
    assert y.encoding() == "listpack" and y._scores is not None
    y._check()
    assert [m for m, _ in y.items()] == sorted((b"m%d" % i for i in range(zset_mod.SMALL_MAX + 5)),
                                               key=lambda m: (int(m[1:]) % 7, m))


def test_big_layout_many_sublists_same_score():
    z = ZSet()
    z._sl._load = 4
    ms = [b"%05d" % i for i in range(0, 400, 3)]
    for m in reversed(ms):
        z.add(m, 0.0)
    for m in ms[::5]:
        z.add(m, -1.0)                               # re-score some
    z._check()
    want = sorted(((m, -1.0 if i % 5 == 0 else 0.0) for i, m in enumerate(ms)), key=lambda p: (p[1], p[0]))
    assert list(z.items()) == want
    for i, (m, _) in enumerate(want):
        assert z.rank(m) == i and z.at(i) == want[i]
    assert z.remove_span(10, 60) == want[10:60]
    z._check()
    assert z.pop_max(5) == want[::-1][:5]
    z._check()


def test_small_layout_separators():
    z = ZSet([(b"a", 1.0)], enc=LISTPACK)
    assert z._sl.sep == b"\xff"
    z.add(b"b\xff", 2.0)
    assert z._scores is None and z._sl.sep != b"\xff"
    assert list(z.items()) == [(b"a", 1.0), (b"b\xff", 2.0)]
    z.add(bytes(range(256)), 0.5)                 # no byte left to separate: the big layout
    assert z._scores is not None and z.encoding() == "listpack"
    assert [m for m, _ in z.items()] == [bytes(range(256)), b"a", b"b\xff"]
    z._check()
