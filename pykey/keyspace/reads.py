"""Which key lookups are reads, as Valkey's lookupKeyRead sees them.

Valkey counts `keyspace_hits`/`keyspace_misses` and emits "keymiss" events only for
lookups made to read a key: every key of a read-only command, and the keys a few write
commands read (GETDEL, SORT's source, the sources of *STORE commands...). Commands that
merely inspect keys (OBJECT, SCAN, KEYS...) look them up without either.

Each command gets a `read_mode` once: 0 none of its lookups are reads, 1 all are, 2 ask
:func:`is_read` key by key (so the common cases cost one integer test per lookup).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..engine.registry import Command

NONE, ALL, SOME = 0, 1, 2

# read-only commands that look keys up without reading them
_INSPECTS = frozenset({"memory|usage", "keys", "scan", "randomkey", "dbsize"})
# OBJECT reads its key (counted in the stats) but without the "keymiss" event (LOOKUP_NONOTIFY)
_NO_KEYMISS = frozenset({"object|encoding", "object|freq", "object|idletime", "object|refcount"})


def _always(argv: list[bytes], key: bytes) -> bool:
    return True


def _not_dest(argv: list[bytes], key: bytes) -> bool:
    return key != argv[1]


def _bitfield_reads(argv: list[bytes], key: bytes) -> bool:
    return not any(a.lower() in (b"set", b"incrby") for a in argv[2:])


# write commands that read some of their keys with lookupKeyRead
_WRITE_READS: dict[str, Callable[[list[bytes], bytes], bool]] = {
    "getdel": _always, "getex": _always, "getset": _always, "sort": _always,
    "xreadgroup": _always, "xack": _always, "xclaim": _always, "xautoclaim": _always,
    "sinterstore": _not_dest, "sunionstore": _not_dest, "sdiffstore": _not_dest,
    "zunionstore": _not_dest, "zinterstore": _not_dest, "zdiffstore": _not_dest,
    "zrangestore": lambda argv, key: key == argv[2],
    "geosearchstore": lambda argv, key: key == argv[2],
    "copy": lambda argv, key: key == argv[1],
    "georadius": lambda argv, key: key == argv[1],
    "georadiusbymember": lambda argv, key: key == argv[1],
    "bitop": lambda argv, key: key in argv[3:],
    "bitfield": _bitfield_reads,
}


def read_mode(cmd: Command) -> int:
    if cmd.name in _INSPECTS:
        return NONE
    if "write" not in cmd.flags:
        return ALL
    return SOME if cmd.name in _WRITE_READS else NONE


def emits_keymiss(cmd: Command, argv: list[bytes], key: bytes) -> bool:
    """Would Valkey have sent a "keymiss" event for a miss of ``key`` in this command?"""
    return cmd.name not in _NO_KEYMISS and is_read(cmd, argv, key)


def is_read(cmd: Command, argv: list[bytes], key: bytes) -> bool:
    """Would Valkey have looked ``key`` up for reading in this command?"""
    mode = read_mode(cmd)
    if mode != SOME:
        return mode == ALL
    return _WRITE_READS[cmd.name](argv, key)
