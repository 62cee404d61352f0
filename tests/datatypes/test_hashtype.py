"""The hash value against a plain dict (same contents, same insertion order) in both of its
layouts, with _check() after every operation; the packed layout's field search."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pykey.datatypes import hashtype
from pykey.datatypes.hashtype import HASHTABLE, LISTPACK, HashType
from pykey.protocol.encoder import encode

# fields that hide inside each other and inside values, to trip a naive search
pieces = st.sampled_from([b"", b"a", b"ab", b"\x01a", b"\xffab", b"\xfe", b"b\xfea", b"x" * 255, b"y" * 256,
                          b"\xfd\xfc"])
strings = st.builds(lambda a, b: (a + b)[:300], pieces, pieces)
ops = st.lists(st.tuples(st.sampled_from("sdpg"), strings, strings), max_size=50)


@settings(max_examples=200, deadline=None)
@given(ops, st.sampled_from([LISTPACK, HASHTABLE]))
def test_operations_match_a_dict(steps, enc):
    h = HashType(enc=enc)
    model: dict[bytes, bytes] = {}
    for op, f, v in steps:
        if op == "s":
            assert h._put(f, v) == (f in model)
            model[f] = v
        elif op == "d":
            if f in model:
                del h[f]
                del model[f]
            else:
                assert f not in h
        elif op == "p":
            assert h.pop(f, None) == model.pop(f, None)
        else:
            assert h.get(f) == model.get(f) and (f in h) == (f in model)
        h._check()
        assert list(h.items()) == list(model.items())
        assert list(h) == list(model) and list(h.values()) == list(model.values())
        assert len(h) == len(model) and bool(h) == bool(model)
        assert h.to_dict() == model and h == model
        assert h.encoded_map(False) == encode(model) and h.encoded_map(True) == encode(model, True)
    for f, v in model.items():
        assert h[f] == v
    c = h.copy()
    c._check()
    assert c == h
    h.enc = HASHTABLE
    h._check()
    assert h._d is not None and list(h.items()) == list(model.items())


def test_packed_layout_follows_the_encoding():
    cfg = {"hash-max-listpack-entries": 3, "hash-max-listpack-value": 8}
    h = HashType()
    for f in (b"a", b"b", b"c"):
        h.set_field(f, b"1", cfg)
    assert h._d is None and h.encoding() == "listpack"
    h.set_field(b"b", b"22", cfg)               # an update in place keeps the order
    assert list(h.items()) == [(b"a", b"1"), (b"b", b"22"), (b"c", b"1")]
    h.set_field(b"d", b"1", cfg)
    assert h._d is not None and h.encoding() == "hashtable"
    assert list(h) == [b"a", b"b", b"c", b"d"]
    h._check()
    # raised limits: a listpack too big to pack uses the dict layout
    big = {"hash-max-listpack-entries": 1000, "hash-max-listpack-value": 1000}
    g2 = HashType()
    for i in range(hashtype.SMALL_MAX + 1):
        g2.set_field(b"%d" % i, b"v", big)
    assert g2.encoding() == "listpack" and g2._d is not None and len(g2) == hashtype.SMALL_MAX + 1
    g2._check()


def test_separators_move_out_of_the_way():
    h = HashType()
    h._put(b"a", b"1")
    assert (h._s1, h._s2) == (b"\xff", b"\xfe")
    h._put(b"b\xff", b"\xfe")                   # both separators now in use: others picked
    assert h._d is None and b"\xff" not in (h._s1, h._s2) and b"\xfe" not in (h._s1, h._s2)
    assert h.items() == [(b"a", b"1"), (b"b\xff", b"\xfe")]
    h._check()
    every = bytes(range(256))
    h._put(b"all", every)                          # no byte left to frame with: a dict
    assert h._d is not None and h[b"all"] == every and list(h) == [b"a", b"b\xff", b"all"]
    h._check()
    # a packed hash holds long strings too (up to PACKED_MAX bytes in all)
    g = HashType()
    g._put(b"f", b"v" * 5000)
    assert g._d is None and g[b"f"] == b"v" * 5000
    g._put(b"g", b"w" * hashtype.PACKED_MAX)
    assert g._d is not None and len(g) == 2
    g._check()
