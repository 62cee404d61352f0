"""How much memory the server uses, as ``maxmemory`` compares it.

Python does not count its allocations the way Valkey's allocator does, so "used memory" is
the resident set size of the process (what INFO reports as used_memory): it includes the
interpreter itself, so a ``maxmemory`` below a few tens of megabytes is always exceeded.
"""
from __future__ import annotations

import os
import resource

_PAGE = os.sysconf("SC_PAGE_SIZE")


def used_memory() -> int:
    """Resident set size in bytes: one small read of /proc/self/statm where there is one."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
