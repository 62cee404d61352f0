"""Reply encoding: doubles laid out as Valkey's d2string/fpconv_dtoa does, and every reply
type in RESP2 and RESP3."""
from __future__ import annotations

import ctypes
import math
import os
import random
import shutil
import struct
import subprocess

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pykey.errors import CommandError
from pykey.protocol.dtoa import fpconv_dtoa
from pykey.protocol.encoder import encode, format_double
from pykey.protocol.replies import (
    NULL_ARRAY,
    OK,
    BigNumber,
    DoubleReply,
    Push,
    Raw,
    SetReply,
    Simple,
    Verbatim,
)

# Expected texts are what Valkey 8.0 sends (ZSCORE / INCRBYFLOAT / RESP3 doubles):
# integers in +-2^62 as integers, else grisu digits, plain notation for moderate exponents,
# otherwise d.ddde+X with no zero padding in the exponent.
DOUBLES = [
    (0.0, b"0"), (-0.0, b"-0"), (3.0, b"3"), (-42.0, b"-42"),
    (math.inf, b"inf"), (-math.inf, b"-inf"), (math.nan, b"nan"),
    (1.5, b"1.5"), (-1.5, b"-1.5"), (0.1, b"0.1"), (0.5, b"0.5"), (10.25, b"10.25"),
    (1 / 3, b"0.3333333333333333"), (2 / 3, b"0.6666666666666666"), (3.14159, b"3.14159"),
    (1e-6, b"0.000001"), (0.000123, b"0.000123"), (1e-7, b"1e-7"), (1.5e-7, b"1.5e-7"),
    (1e-10, b"1e-10"), (1.23e-18, b"1.23e-18"), (5e-324, b"5e-324"),
    (1e21, b"1e+21"), (1e22, b"1e+22"), (1.5e300, b"1.5e+300"),
    (1.7976931348623157e308, b"1.7976931348623157e+308"),
    (123456789.125, b"123456789.125"), (1234567.5, b"1234567.5"), (100.5, b"100.5"),
    (1e15 + 0.5, b"1000000000000000.5"), (1e16, b"10000000000000000"),
    (2.5e17, b"250000000000000000"), (2.0**62, b"4611686018427387904"),
    (9.5e18, b"9.5e+18"), (1e19, b"1e+19"), (1.2345678901234567e19, b"12345678901234567000"),
    (123456.1234567, b"1.234561234567e+5"),   # K=-7 and exponent >= 4: scientific
    (-0.0001234567, b"-1.234567e-4"), (0.001234567, b"0.001234567"),
]

# Where Valkey differs from Python's repr: d2string prints integers as integers only within
# +-2^62 (double2ll), and its Grisu2 digits are not always the shortest (about 0.1% of values).
GRISU_CASES = [
    (5e18, b"5e+18"),
    (4.7e18, b"4.7e+18"),
    (-6.917529027641082e18, b"-6917529027641082000"),
    (-169.33887, b"-169.33886999999999"),
    (-712.05077, b"-712.0507700000001"),
    (-874817.026229051, b"-8.748170262290511e+5"),
]


@pytest.mark.parametrize("d,text", DOUBLES)
def test_format_double(d, text):
    assert format_double(d) == text


@pytest.mark.parametrize("d,text", GRISU_CASES)
def test_format_double_grisu_cases(d, text):
    assert format_double(d) == text


def _fpconv() -> ctypes.CDLL | None:
    """Build Valkey's fpconv from a local checkout, for a randomised comparison (dev only)."""
    src = "/tmp/valkey/deps/fpconv/fpconv_dtoa.c"
    if not os.path.exists(src) or shutil.which("gcc") is None:
        return None
    out = "/tmp/pykey-test-fpconv.so"
    if not os.path.exists(out):
        subprocess.run(["gcc", "-O2", "-shared", "-fPIC", "-o", out, src], check=True)
    return ctypes.CDLL(out)


def test_format_double_matches_fpconv_on_random_values():
    """Byte for byte what Valkey's own fpconv_dtoa prints, on random bit patterns."""
    lib = _fpconv()
    if lib is None:
        pytest.skip("no Valkey source checkout to compare with")
    rng = random.Random(7)
    buf = ctypes.create_string_buffer(32)
    for _ in range(20000):
        d = struct.unpack("d", struct.pack("Q", rng.getrandbits(64)))[0]
        if d != d:
            continue
        n = lib.fpconv_dtoa(ctypes.c_double(d), buf)
        assert fpconv_dtoa(d) == buf.raw[:n], d
        if not (d.is_integer() and abs(d) <= 2.0**62) and not math.isinf(d):
            assert format_double(d) == buf.raw[:n], d


@pytest.mark.parametrize("value,resp2,resp3", [
    (b"abc", b"$3\r\nabc\r\n", b"$3\r\nabc\r\n"),
    (b"", b"$0\r\n\r\n", b"$0\r\n\r\n"),
    (0, b":0\r\n", b":0\r\n"),
    (-5, b":-5\r\n", b":-5\r\n"),
    (10001, b":10001\r\n", b":10001\r\n"),
    (None, b"$-1\r\n", b"_\r\n"),
    (NULL_ARRAY, b"*-1\r\n", b"_\r\n"),
    (OK, b"+OK\r\n", b"+OK\r\n"),
    (Raw(b":1\r\n"), b":1\r\n", b":1\r\n"),
    (Simple("PONG"), b"+PONG\r\n", b"+PONG\r\n"),
    ([], b"*0\r\n", b"*0\r\n"),
    ([b"a", 1, None], b"*3\r\n$1\r\na\r\n:1\r\n$-1\r\n", b"*3\r\n$1\r\na\r\n:1\r\n_\r\n"),
    ([[b"x"], []], b"*2\r\n*1\r\n$1\r\nx\r\n*0\r\n", b"*2\r\n*1\r\n$1\r\nx\r\n*0\r\n"),
    ({b"k": 1}, b"*2\r\n$1\r\nk\r\n:1\r\n", b"%1\r\n$1\r\nk\r\n:1\r\n"),
    ({}, b"*0\r\n", b"%0\r\n"),
    (SetReply([b"a"]), b"*1\r\n$1\r\na\r\n", b"~1\r\n$1\r\na\r\n"),
    (Push([b"message", b"c"]), b"*2\r\n$7\r\nmessage\r\n$1\r\nc\r\n",
     b">2\r\n$7\r\nmessage\r\n$1\r\nc\r\n"),
    (Verbatim("hi"), b"$2\r\nhi\r\n", b"=6\r\ntxt:hi\r\n"),
    (BigNumber(12345678901234567890), b"$20\r\n12345678901234567890\r\n",
     b"(12345678901234567890\r\n"),
    (1.5, b"$3\r\n1.5\r\n", b",1.5\r\n"),
    (DoubleReply(2.0), b"$1\r\n2\r\n", b",2\r\n"),
    (math.inf, b"$3\r\ninf\r\n", b",inf\r\n"),
    (True, b":1\r\n", b"#t\r\n"),
    (False, b":0\r\n", b"#f\r\n"),
    ("text", b"$4\r\ntext\r\n", b"$4\r\ntext\r\n"),
    (CommandError("ERR bad\r\nthing"), b"-ERR bad  thing\r\n", b"-ERR bad  thing\r\n"),
    ([CommandError("WRONGTYPE x")], b"*1\r\n-WRONGTYPE x\r\n", b"*1\r\n-WRONGTYPE x\r\n"),
])
def test_encode(value, resp2, resp3):
    assert encode(value) == resp2
    assert encode(value, resp3=True) == resp3


def test_fpconv_dtoa_differs_from_d2string_for_integers():
    """DEBUG DIGEST hashes scores with fpconv_dtoa, which has no integer shortcut."""
    assert fpconv_dtoa(1.0) == b"1"
    assert fpconv_dtoa(1e17) == b"1e+17"
    assert format_double(1e17) == b"100000000000000000"
    assert fpconv_dtoa(-0.0) == b"-0"
    assert fpconv_dtoa(-math.inf) == b"-inf"


_SHORT = st.binary(max_size=40)
_AROUND_1K = st.binary(min_size=1020, max_size=1030)     # the header table ends at 1023


@given(st.one_of(st.lists(_SHORT, max_size=40),
                 st.lists(st.one_of(_SHORT, _SHORT, _SHORT, _AROUND_1K), max_size=40),
                 st.lists(st.one_of(_SHORT, st.integers(), st.none(), st.builds(Raw, st.just(b":7\r\n"))),
                          max_size=40)))
def test_arrays_encode_element_by_element(items):
    """Long arrays of bulk strings take a table-driven path: it must give exactly the bytes
    of encoding each element in turn (Raw, a bytes subclass, stays raw)."""
    expected = b"*%d\r\n" % len(items) + b"".join(encode(x) for x in items)
    assert encode(items) == expected
    assert encode(tuple(items)) == expected
    assert encode(SetReply(items), True) == b"~%d\r\n" % len(items) + b"".join(encode(x, True) for x in items)
