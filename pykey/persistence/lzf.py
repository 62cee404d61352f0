"""LZF, the compression RDB strings use (liblzf, through the ``python-lzf`` C extension).

Any valid LZF stream loads, so our compressed bytes need not equal Valkey's; they only
need to be valid LZF, which liblzf guarantees.
"""
from __future__ import annotations

import lzf as _lzf


class LzfError(ValueError):
    """A compressed blob that does not decompress to its announced length."""


def compress(data: bytes) -> bytes | None:
    """LZF of ``data`` when it fits in ``len - 4`` bytes (Valkey's rule), else None: the
    string is then stored as it is."""
    n = len(data)
    if n <= 4:
        return None
    return _lzf.compress(bytes(data), n - 4)


def decompress(data: bytes, length: int) -> bytes:
    """The ``length`` bytes that ``data`` expands to; LzfError when it does not."""
    if length == 0:
        raise LzfError("zero-length LZF string")
    try:
        out = _lzf.decompress(bytes(data), length)
    except ValueError as e:
        raise LzfError(f"invalid LZF data: {e}") from None
    if out is None or len(out) != length:
        raise LzfError("LZF data does not match its uncompressed length")
    return out
