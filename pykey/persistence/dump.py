"""DUMP/RESTORE payloads (``cluster.c``'s createDumpPayload/verifyDumpPayload):

    <type byte> <value as in an RDB file> <RDB version: u16 LE> <CRC64 of all before: u64 LE>

The version is the oldest one that holds the value (10 unless it is a listpack set or a
stream, 11 then, 80 for a hash with field TTLs), so Redis 7.0 accepts what it can load.
A payload names a version we read (up to 11, or 80) and a matching checksum, or it is
refused; a payload that passes those checks but does not decode raises RdbError.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import values
from .crc64 import crc64
from .encoding import RDB_VERSION, RDB_VERSION_VALKEY9, RdbError, RdbReader, RdbWriter


def create(value: Any, config: Mapping[str, Any]) -> bytes:
    """The DUMP payload of ``value``."""
    version = values.min_version(value)
    valkey9 = version == RDB_VERSION_VALKEY9
    w = RdbWriter(None, compress=config["rdbcompression"])
    w.byte(values.object_type(value, valkey9))
    values.write_value(w, value, config, valkey9)
    w.raw(version.to_bytes(2, "little"))
    w.raw(crc64(w.buf).to_bytes(8, "little"))
    return bytes(w.buf)


def verify(payload: bytes) -> bool:
    """True when the footer names a version we read and the CRC64 matches."""
    if len(payload) < 10:
        return False
    version = payload[-10] | (payload[-9] << 8)
    if version > RDB_VERSION and version != RDB_VERSION_VALKEY9:
        return False
    return crc64(memoryview(payload)[:-8]) == int.from_bytes(payload[-8:], "little")


def load(payload: bytes, config: Mapping[str, Any]) -> Any:
    """The value a verified payload holds; RdbError when it does not decode (an empty
    collection included, as Valkey's RESTORE refuses those too)."""
    r = RdbReader(payload, 0, len(payload) - 10)
    t = r.byte()
    if not values.is_object_type(t):
        raise RdbError(f"Unknown object type {t}")
    return values.read_value(r, t, config)
