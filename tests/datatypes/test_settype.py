"""The set value against a plain set in each of its layouts (set, intset array, packed
listpack), with _check() after every operation; Valkey's encoding rules drive the layout."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pykey.datatypes import settype
from pykey.datatypes.settype import HASHTABLE, INTSET, LISTPACK, SetType
from pykey.protocol.encoder import encode
from pykey.protocol.replies import SetReply

ints = st.sampled_from([b"0", b"1", b"-1", b"42", b"9223372036854775807", b"-9223372036854775808", b"12"])
# members that hide inside each other, to trip a naive search, and some too long to pack
texts = st.sampled_from([b"", b"a", b"ab", b"\xffa", b"\xfeab", b"b\xffa", b"1\xfd", b"x" * 255, b"y" * 256,
                         b"9223372036854775808", b"01", b"-0", bytes(range(256))])
members = st.one_of(ints, texts)
ops = st.lists(st.tuples(st.sampled_from("adrc"), members), max_size=60)


@settings(max_examples=200, deadline=None)
@given(ops, st.sampled_from([INTSET, LISTPACK, HASHTABLE]), st.booleans())
def test_operations_match_a_set(steps, enc, with_rules):
    cfg = {"set-max-intset-entries": 8, "set-max-listpack-entries": 6, "set-max-listpack-value": 300}
    s = SetType(enc=enc)
    model: set[bytes] = set()
    for op, m in steps:
        if op == "a":
            if with_rules:
                assert s.add_member(m, cfg) == (m not in model)
            else:
                if enc == INTSET and not settype.is_int(m):
                    continue                    # the caller converts before a raw add
                s.add(m)
            model.add(m)
        elif op == "d":
            s.discard(m)
            model.discard(m)
        elif op == "r":
            assert (m in s) == (m in model)
        else:
            s.difference_update([m, b"a"])
            model.difference_update([m, b"a"])
        s._check()
        assert sorted(s) == sorted(model) and len(s) == len(model) and s == model
        if s.enc == INTSET:
            assert s.ordered() == sorted(model, key=int)
        want = s.ordered()
        assert s.encoded_members(False) == encode(want) and s.encoded_members(True) == encode(SetReply(want), True)
    c = s.copy()
    c._check()
    assert c == s
    s.enc = HASHTABLE
    s._check()
    assert s == model


def test_listpack_keeps_insertion_order():
    cfg = {"set-max-intset-entries": 512, "set-max-listpack-entries": 128, "set-max-listpack-value": 64}
    s = SetType.create(b"c", 3, cfg)
    for m in (b"c", b"a", b"b", b"a"):
        s.add_member(m, cfg)
    assert s.encoding() == "listpack" and s._s is None
    assert s.ordered() == [b"c", b"a", b"b"]
    s.discard(b"a")
    assert list(s) == [b"c", b"b"]
    assert SetType([b"z", b"y", b"z"], LISTPACK).ordered() == [b"z", b"y"]


def test_intset_layout():
    cfg = {"set-max-intset-entries": 512, "set-max-listpack-entries": 128, "set-max-listpack-value": 64}
    s = SetType.create(b"5", 3, cfg)
    for m in (b"5", b"-3", b"100"):
        s.add_member(m, cfg)
    assert s._ints is not None and s.ordered() == [b"-3", b"5", b"100"]
    assert b"5" in s and b"05" not in s and b"x" not in s
    s.add_member(b"x", cfg)
    assert s.encoding() == "listpack" and s._ints is None
    assert sorted(s) == sorted([b"5", b"-3", b"100", b"x"])
    s._check()


def test_separator_moves_out_of_the_way():
    s = SetType([b"a"], LISTPACK)
    assert s._sep == b"\xff"
    s.add(b"b\xff")
    assert s._s is None and s._sep != b"\xff" and s.ordered() == [b"a", b"b\xff"]
    s.add(bytes(range(256)))                        # every byte in use: the set layout
    assert s._s is not None and len(s) == 3 and s.encoding() == "listpack"
    s._check()
