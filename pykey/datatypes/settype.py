"""The set value: a Python set of bytes that remembers which encoding Valkey would use.

Valkey picks intset, listpack or hashtable by the set's history (an intset grows into a
listpack or a hashtable, and a hashtable never shrinks back), and OBJECT ENCODING, DEBUG and
the tests observe it. We keep the members in one Python set and track only the encoding
name, following Valkey's conversion rules at each insertion.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

INTSET, LISTPACK, HASHTABLE = 0, 1, 2
ENCODING_NAMES = ("intset", "listpack", "hashtable")
_INT_RE = re.compile(rb"0|-?[1-9][0-9]{0,18}")
_I64_MIN, _I64_MAX = -(2**63), 2**63 - 1
_INTSET_CAP = 1 << 30


def is_int(member: bytes) -> bool:
    """Valkey's string2ll: would this member fit an intset?"""
    if len(member) > 20 or _INT_RE.fullmatch(member) is None:
        return False
    if len(member) < 19:
        return True
    return _I64_MIN <= int(member) <= _I64_MAX


def _limits(config: Any) -> tuple[int, int, int]:
    return (min(config["set-max-intset-entries"], _INTSET_CAP),
            config["set-max-listpack-entries"], config["set-max-listpack-value"])


class SetType(set):
    """A set value; ``enc`` is the index of its encoding in :data:`ENCODING_NAMES`."""

    __slots__ = ("enc",)
    type_name = "set"

    def __init__(self, members: Iterable[bytes] = (), enc: int = HASHTABLE) -> None:
        super().__init__(members)
        self.enc = enc

    @classmethod
    def create(cls, first: bytes, size_hint: int, config: Any) -> SetType:
        """An empty set with the encoding Valkey's setTypeCreate picks for ``first``."""
        max_int, max_lp, _ = _limits(config)
        if size_hint <= config["set-max-intset-entries"] and is_int(first):
            return cls(enc=INTSET)
        if size_hint <= max_lp:
            return cls(enc=LISTPACK)
        return cls(enc=HASHTABLE)

    def encoding(self, config: Any = None) -> str:
        return ENCODING_NAMES[self.enc]

    def ordered(self) -> list[bytes]:
        """Members in Valkey's reply order where it is defined: an intset is sorted."""
        if self.enc == INTSET:
            return sorted(self, key=int)
        return list(self)

    def copy(self) -> SetType:
        return SetType(self, self.enc)

    def maybe_convert(self, size_hint: int, config: Any) -> None:
        """Convert up front when ``size_hint`` new members cannot fit the small encoding."""
        if self.enc == LISTPACK and size_hint > config["set-max-listpack-entries"]:
            self.enc = HASHTABLE
        elif self.enc == INTSET and size_hint > config["set-max-intset-entries"]:
            self.enc = HASHTABLE

    def add_member(self, member: bytes, config: Any) -> bool:
        """Add ``member``; True if it was new. Converts the encoding as Valkey does."""
        if member in self:
            return False
        enc = self.enc
        if enc == HASHTABLE:
            self.add(member)
            return True
        max_int, max_lp, max_val = _limits(config)
        if enc == LISTPACK:
            if len(self) >= max_lp or len(member) > max_val:
                self.enc = HASHTABLE
        elif is_int(member):
            if len(self) + 1 > max_int:
                self.enc = HASHTABLE
        else:
            maxelelen = max(map(len, self), default=0)
            if len(self) < max_lp and len(member) <= max_val and maxelelen <= max_val:
                self.enc = LISTPACK
            else:
                self.enc = HASHTABLE
        self.add(member)
        return True

    def maybe_intset(self, config: Any) -> None:
        """After a store whose members were all integers, use an intset when it fits."""
        if self.enc != INTSET and len(self) <= _limits(config)[0]:
            self.enc = INTSET

    def _check(self) -> None:
        if self.enc == INTSET:
            assert all(is_int(m) for m in self)
