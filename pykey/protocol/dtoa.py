"""Doubles as Valkey prints them: its ``fpconv_dtoa`` (Grisu2 digits, Loitsch 2010) and
its ``d2string`` (integers in +-2^62 printed as integers, else ``fpconv_dtoa``).

Python's ``repr`` gives the *shortest* round-trip digits; Grisu2 gives them in about 99.9%
of cases and a longer (still round-tripping) string otherwise, e.g. ``-169.33886999999999``
where ``repr`` says ``-169.33887``. Clients compare score texts, so the algorithm is
reimplemented here step by step, with 64-bit unsigned arithmetic emulated by masking.
Results are memoised: formatting a double costs ~10 us in pure Python.
"""
from __future__ import annotations

import math
import struct

_M64 = (1 << 64) - 1
_FRACMASK = 0x000FFFFFFFFFFFFF
_EXPMASK = 0x7FF0000000000000
_HIDDEN = 0x0010000000000000
_SIGN = 0x8000000000000000
_EXPBIAS = 1023 + 52
_FIRSTPOWER, _STEP, _NPOWERS = -348, 8, 87
_EXPMIN, _EXPMAX = -60, -32
_TENS = [10 ** i for i in range(19, -1, -1)]     # 1e19 .. 1, as Grisu's digit table
_LL_HALF = float((2**63 - 1) // 2)                # d2string prints integers within this


def _cached_power(k: int) -> tuple[int, int]:
    """10**k as a 64-bit normalised (fraction, binary exponent), rounded to nearest even."""
    if k >= 0:
        num, den = 10 ** k, 1
    else:
        num, den = 1, 10 ** -k
    e = num.bit_length() - den.bit_length() - 64
    while True:
        n, d = (num, den << e) if e >= 0 else (num << -e, den)
        q, r = divmod(n, d)
        if q >= 1 << 64:
            e += 1
        elif q < 1 << 63:
            e -= 1
        else:
            break
    if 2 * r > d or (2 * r == d and q & 1):
        q += 1
    if q == 1 << 64:
        q, e = q >> 1, e + 1
    return q, e


_POWERS = [_cached_power(_FIRSTPOWER + i * _STEP) for i in range(_NPOWERS)]


def _find_cached_pow10(exp: int) -> tuple[int, int, int]:
    approx = int(-(exp + _NPOWERS) * 0.30102999566398114)   # C truncates toward zero
    idx = int((approx - _FIRSTPOWER) / _STEP)
    while True:
        frac, pexp = _POWERS[idx]
        current = exp + pexp + 64
        if current < _EXPMIN:
            idx += 1
        elif current > _EXPMAX:
            idx -= 1
        else:
            return frac, pexp, _FIRSTPOWER + idx * _STEP


def _mul(af: int, ae: int, bf: int, be: int) -> tuple[int, int]:
    """The upper 64 bits of the 128-bit product, rounded (Grisu's ``multiply``)."""
    return (af * bf + (1 << 63)) >> 64, ae + be + 64


def _round_digit(digits: list[int], delta: int, rem: int, kappa: int, frac: int) -> None:
    while (rem < frac and delta - rem >= kappa
           and (((rem + kappa) & _M64) < frac or frac - rem > ((rem + kappa - frac) & _M64))):
        digits[-1] -= 1
        rem = (rem + kappa) & _M64


def _grisu2(bits: int) -> tuple[list[int], int]:
    """Digits and decimal exponent K of a positive finite double's bit pattern."""
    frac = bits & _FRACMASK
    e = (bits & _EXPMASK) >> 52
    if e:
        frac += _HIDDEN
        e -= _EXPBIAS
    else:
        e = -_EXPBIAS + 1
    # boundaries m+ and m-, normalised to the exponent of m+
    uf, ue = (frac << 1) + 1, e - 1
    while not uf & (_HIDDEN << 1):
        uf <<= 1
        ue -= 1
    uf <<= 64 - 52 - 2
    ue -= 64 - 52 - 2
    lshift = 2 if frac == _HIDDEN else 1
    lf, le = (frac << lshift) - 1, e - lshift
    lf <<= le - ue
    # normalise w itself
    wf, we = frac, e
    while not wf & _HIDDEN:
        wf <<= 1
        we -= 1
    wf <<= 11
    we -= 11
    cf, ce, k = _find_cached_pow10(ue)
    wf, we = _mul(wf, we, cf, ce)
    uf, ue = _mul(uf, ue, cf, ce)
    lf, _ = _mul(lf, ue, cf, ce)
    lf += 1
    uf -= 1
    K = -k
    # generate digits
    wfrac = uf - wf
    delta = uf - lf
    shift = -ue
    one = 1 << shift
    part1 = uf >> shift
    part2 = uf & (one - 1)
    digits: list[int] = []
    kappa = 10
    i = 10
    while kappa > 0:
        div = _TENS[i]
        i += 1
        digit = part1 // div
        if digit or digits:
            digits.append(digit)
        part1 -= digit * div
        kappa -= 1
        tmp = (part1 << shift) + part2
        if tmp <= delta:
            K += kappa
            _round_digit(digits, delta, tmp, (div << shift) & _M64, wfrac)
            return digits, K
    unit = 18
    while True:
        part2 = (part2 * 10) & _M64
        delta = (delta * 10) & _M64
        kappa -= 1
        digit = part2 >> shift
        if digit or digits:
            digits.append(digit)
        part2 &= one - 1
        if part2 < delta:
            K += kappa
            _round_digit(digits, delta, part2, one, (wfrac * _TENS[unit]) & _M64)
            return digits, K
        unit -= 1


def _emit(digits: str, K: int, neg: bool) -> str:
    nd = len(digits)
    exp = abs(K + nd - 1)
    if K >= 0 and exp < nd + 7:
        return digits + "0" * K
    if K < 0 and (K > -7 or exp < 4):
        offset = nd + K
        if offset <= 0:
            return "0." + "0" * -offset + digits
        return digits[:offset] + "." + digits[offset:]
    nd = min(nd, 18 - neg)
    out = digits[0] + ("." + digits[1:nd] if nd > 1 else "")
    return out + "e" + ("-" if K + nd - 1 < 0 else "+") + str(exp)


_cache: dict[float, bytes] = {}
_CACHE_MAX = 1 << 16


def fpconv_dtoa(d: float) -> bytes:
    """Valkey's ``fpconv_dtoa``: ``nan``, ``inf``, ``0`` (either sign: ``-0``) or Grisu2 digits."""
    bits = struct.unpack("<Q", struct.pack("<d", d))[0]
    neg = bool(bits & _SIGN)
    if d == 0:
        return b"-0" if neg else b"0"
    if (bits & _EXPMASK) == _EXPMASK:
        text = b"nan" if bits & _FRACMASK else b"inf"
        return b"-" + text if neg else text
    out = _cache.get(d)
    if out is None:
        digits, K = _grisu2(bits & ~_SIGN)
        out = _emit("".join(map(str, digits)), K, neg).encode()
        if neg:
            out = b"-" + out
        if len(_cache) >= _CACHE_MAX:
            _cache.clear()
        _cache[d] = out
    return out


_d2s_cache: dict[float, bytes] = {}


def d2string(d: float) -> bytes:
    """Valkey's ``d2string`` (scores, INCRBYFLOAT, RESP3 doubles): ``nan``/``inf``/``-inf``,
    ``0``/``-0``, integers within +-2^62 as integers, everything else as ``fpconv_dtoa``.

    Memoised: scores repeat, and one dict lookup is most of the cost then. Zeros (0.0 and
    -0.0 are equal keys) and NaN are never cached."""
    out = _d2s_cache.get(d)
    if out is not None:
        return out
    if d != d:
        return b"nan"
    if d == 0:
        return b"-0" if math.copysign(1.0, d) < 0 else b"0"
    if -_LL_HALF <= d <= _LL_HALF and d.is_integer():
        out = b"%d" % int(d)
    elif math.isinf(d):
        out = b"inf" if d > 0 else b"-inf"
    else:
        out = fpconv_dtoa(d)
    if len(_d2s_cache) >= _CACHE_MAX:
        _d2s_cache.clear()
    _d2s_cache[d] = out
    return out
