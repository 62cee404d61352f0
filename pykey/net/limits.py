"""The open-files limit, raised at startup so that ``maxclients`` clients can connect.

Valkey's adjustOpenFilesLimit: the process needs ``maxclients`` + 32 descriptors. A default
soft limit of 1024 would otherwise make the 1000th client's accept fail (the connection is
dropped in silence) while Valkey serves ten thousand. When the limit cannot be raised far
enough, ``maxclients`` is lowered to fit and the reason is logged, as Valkey does.
"""
from __future__ import annotations

import errno
import os
from typing import Any

try:
    import resource
except ImportError:  # pragma: no cover - not on Windows
    resource = None

MIN_RESERVED_FDS = 32        # Valkey's CONFIG_MIN_RESERVED_FDS: listeners, files, the AOF...


def adjust_open_files_limit(config: Any, log: Any) -> None:
    """Raise RLIMIT_NOFILE's soft limit towards maxclients + 32 (never above the hard limit
    unless the process may raise that too); lower ``maxclients`` if it stays short."""
    if resource is None:
        return
    maxclients = config["maxclients"]
    maxfiles = maxclients + MIN_RESERVED_FDS
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (OSError, ValueError) as e:
        log.warning(f"Unable to obtain the current NOFILE limit ({e}), assuming 1024 and setting the max "
                    "clients configuration accordingly.")
        config.values["maxclients"] = 1024 - MIN_RESERVED_FDS
        return
    if soft == resource.RLIM_INFINITY or soft >= maxfiles:
        return
    best, error = soft, 0
    for limit in (maxfiles, min(maxfiles, hard) if hard != resource.RLIM_INFINITY else maxfiles):
        if limit <= soft:
            continue
        try:        # as root the hard limit can be raised too; otherwise up to it only
            resource.setrlimit(resource.RLIMIT_NOFILE, (limit, max(limit, hard)
                                                        if hard != resource.RLIM_INFINITY else hard))
            best = limit
            break
        except (OSError, ValueError) as e:
            error = e.errno if isinstance(e, OSError) and e.errno else errno.EPERM
    if best >= maxfiles:
        log.notice(f"Increased maximum number of open files to {best} (it was originally set to {soft}).")
        return
    if best <= MIN_RESERVED_FDS:
        log.warning(f"Your current 'ulimit -n' of {soft} is not enough for the server to start. Please "
                    f"increase your open file limit to at least {maxfiles}. Exiting.")
        raise SystemExit(1)
    config.values["maxclients"] = best - MIN_RESERVED_FDS
    log.warning(f"You requested maxclients of {maxclients} requiring at least {maxfiles} max file descriptors.")
    log.warning(f"Server can't set maximum open files to {maxfiles} because of OS error: "
                f"{os.strerror(error or errno.EPERM)}.")
    log.warning(f"Current maximum open files is {best}. maxclients has been reduced to "
                f"{best - MIN_RESERVED_FDS} to compensate for low ulimit. If you need higher maxclients "
                "increase 'ulimit -n'.")
