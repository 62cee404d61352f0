"""Valkey's glob patterns (``stringmatchlen``), shared by KEYS, SCAN, PSUBSCRIBE and ACL.

A pattern is translated once into an anchored regular expression and cached: the regex
engine is C, a byte-at-a-time Python matcher would be far slower. The translation follows
Valkey's rules exactly: ``\\`` escapes, ``[^...]`` negation, reversed ranges (``[z-a]``),
an empty class ``[]`` that matches nothing, and an unclosed ``[`` that ends the class.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache


def _class(pattern: bytes, i: int, nocase: bool) -> tuple[bytes, int]:
    """Translate a class starting after '['; returns (regex, index after the class)."""
    n = len(pattern)
    negate = i < n and pattern[i] == 94  # '^'
    if negate:
        i += 1
    items: list[bytes] = []
    while True:
        if i < n and pattern[i] == 92 and n - i >= 2:      # '\\'
            items.append(re.escape(pattern[i + 1:i + 2]))
            i += 2
        elif i < n and pattern[i] == 93:                  # ']'
            i += 1
            break
        elif i >= n:
            break
        elif n - i >= 3 and pattern[i + 1] == 45:         # 'a-z'
            lo, hi = pattern[i], pattern[i + 2]
            if lo > hi:
                lo, hi = hi, lo
            items.append(re.escape(bytes([lo])) + b"-" + re.escape(bytes([hi])))
            i += 3
        else:
            items.append(re.escape(pattern[i:i + 1]))
            i += 1
    if not items:
        return (b"[^\\x00-\\xff]" if not negate else b"[\\x00-\\xff]"), i
    return b"[" + (b"^" if negate else b"") + b"".join(items) + b"]", i


@lru_cache(maxsize=1024)
def compile_glob(pattern: bytes, nocase: bool = False) -> Callable[[bytes], object]:
    """A function telling whether a string matches ``pattern``."""
    if pattern == b"*":
        return lambda s: True
    out: list[bytes] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == 42:                       # '*'
            while i < n and pattern[i] == 42:
                i += 1
            out.append(b".*")
            continue
        if c == 63:                       # '?'
            out.append(b".")
        elif c == 91:                     # '['
            rx, i = _class(pattern, i + 1, nocase)
            out.append(rx)
            continue
        elif c == 92 and n - i >= 2:      # '\\x'
            i += 1
            out.append(re.escape(pattern[i:i + 1]))
        else:
            out.append(re.escape(pattern[i:i + 1]))
        i += 1
    flags = re.DOTALL | (re.IGNORECASE if nocase else 0)
    stars = out.count(b".*")
    if stars >= 2:
        return _segments(out, flags)
    return re.compile(b"".join(out), flags).fullmatch


_STAR_NESTING_LIMIT = 1000   # Valkey's stringmatchlen gives up past 1000 nested '*'


def _segments(out: list[bytes], flags: int) -> Callable[[bytes], object]:
    """Several '*': a regex would backtrack exponentially (``a*a*a*...b``), so match the
    star-free segments between them in order, each at its leftmost place (linear, like
    Valkey's skipLongerMatches)."""
    parts: list[list[bytes]] = [[]]
    for piece in out:
        if piece == b".*":
            parts.append([])
        else:
            parts[-1].append(piece)
    # every '*' followed by more pattern is one level of Valkey's recursion
    if len(parts) - 1 - (not parts[-1]) > _STAR_NESTING_LIMIT:
        return lambda s: None
    head = re.compile(b"".join(parts[0]), flags) if parts[0] else None
    tail = re.compile(b"".join(parts[-1]) + b"\\Z", flags) if parts[-1] else None
    tail_len = len(parts[-1])
    middle = [re.compile(b"".join(p), flags) for p in parts[1:-1] if p]

    def match(s: bytes) -> object:
        pos = 0
        if head is not None:
            m = head.match(s)
            if m is None:
                return None
            pos = m.end()
        for rx in middle:
            m = rx.search(s, pos)
            if m is None:
                return None
            pos = m.end()
        if tail is not None:
            start = len(s) - tail_len
            if start < pos or tail.match(s, start) is None:
                return None
        return True

    return match


def glob_match(pattern: bytes, string: bytes, nocase: bool = False) -> bool:
    return compile_glob(pattern, nocase)(string) is not None
