"""The hash value: a dict of bytes to bytes that remembers Valkey's encoding.

Valkey stores a small hash as a listpack and converts it for good to a hashtable when it
gets too many fields or one too long a field or value; OBJECT ENCODING and the tests see
which. We keep one dict (insertion order matches a listpack's order) and the encoding name.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

LISTPACK, HASHTABLE = 0, 1
ENCODING_NAMES = ("listpack", "hashtable")


class HashType(dict):
    """A hash value; ``enc`` is the index of its encoding in :data:`ENCODING_NAMES`."""

    __slots__ = ("enc",)
    type_name = "hash"

    def __init__(self, *args: Any, enc: int = LISTPACK) -> None:
        super().__init__(*args)
        self.enc = enc

    def encoding(self, config: Any = None) -> str:
        return ENCODING_NAMES[self.enc]

    def copy(self) -> HashType:
        return HashType(self, enc=self.enc)

    def try_conversion(self, args: Sequence[bytes], config: Any) -> None:
        """hashTypeTryConversion: convert before a write whose arguments will not fit."""
        if self.enc != LISTPACK:
            return
        if len(args) // 2 > config["hash-max-listpack-entries"]:
            self.enc = HASHTABLE
            return
        max_value = config["hash-max-listpack-value"]
        for a in args:
            if len(a) > max_value:
                self.enc = HASHTABLE
                return

    def set_field(self, field: bytes, value: bytes, config: Any) -> bool:
        """Set one field; True if it existed (an update). Converts as hashTypeSet does."""
        if self.enc == LISTPACK:
            max_value = config["hash-max-listpack-value"]
            if len(field) > max_value or len(value) > max_value:
                self.enc = HASHTABLE
        update = field in self
        self[field] = value
        if self.enc == LISTPACK and len(self) > config["hash-max-listpack-entries"]:
            self.enc = HASHTABLE
        return update
