"""Lazy freeing, as INFO's ``lazyfree_pending_objects`` and ``lazyfreed_objects`` count it.

Valkey hands a deleted value to a background thread when freeing it would take long: when
the deletion is asynchronous (UNLINK, FLUSH ... ASYNC, or a DEL, expiry, eviction or
server-side delete under the matching ``lazyfree-lazy-*`` option) and the value's "free
effort" (its count of allocations, lazyfree.c's lazyfreeGetFreeEffort) is above 64. A
flushed database counts each of its keys.

pykey frees in line (reference counting releases the value as the last reference goes,
and there is no thread to hand it to), so nothing is ever pending by the time a client can
look: ``lazyfree_pending_objects`` is 0 and ``lazyfreed_objects`` (server
``stat_lazyfreed_objects``, reset by CONFIG RESETSTAT) grows exactly where Valkey's would.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..datatypes.listtype import LP_HEADER, fill_limits

if TYPE_CHECKING:
    from .database import Database

LAZYFREE_THRESHOLD = 64

# the lazyfree option that makes a deletion asynchronous: eviction's, or by the command
# deleting (UNLINK always is); other deletions (expiry, overwrites by RENAME, MOVE...)
# are the server's own
_BY_COMMAND: dict[bytes, str | None] = {b"unlink": None, b"del": "lazyfree-lazy-user-del"}
SERVER_DEL = "lazyfree-lazy-server-del"


def free_effort(value: Any, config: Any) -> int:
    """lazyfreeGetFreeEffort: the allocations freeing ``value`` takes (1 for a string or a
    compact encoding; elements of a hash table or skiplist; quicklist nodes; stream nodes
    plus consumer groups times the first group's pending entries)."""
    cls = value.__class__
    if cls is bytes or cls is bytearray:
        return 1
    kind = value.type_name
    if kind == "stream":
        effort = value.radix_tree_nodes()
        groups = value.groups
        if groups:
            first = groups[min(groups)]
            effort += len(groups) * (1 + len(first.pel))
        return effort
    enc = value.encoding(config)
    if kind == "list":
        return quicklist_node_count(value, config["list-max-listpack-size"]) if enc == "quicklist" else 1
    if enc in ("hashtable", "skiplist"):
        return len(value)
    return 1


def quicklist_node_count(value: Any, fill: int) -> int:
    """Nodes of a quicklist holding ``value``: full nodes of ``fill``'s limit (entries, or
    listpack bytes), the count a list filled by pushes has."""
    size_limit, count_limit = fill_limits(fill)
    if count_limit is not None:
        return -(-len(value) // count_limit)
    per_node = size_limit - LP_HEADER                  # type: ignore[operator]
    return max(1, -(-(value.lp_bytes - LP_HEADER) // per_node))


def on_deleted(db: Database, key: bytes, value: Any) -> None:
    """A collection left the keyspace (Server.on_key_deleted calls this for every value but
    strings, whose effort is 1): count it if Valkey would free it lazily."""
    server = db.server
    option: str | None = SERVER_DEL
    if server.evictor.evicting:
        option = "lazyfree-lazy-eviction"
    elif server.executing is not None and server.current_argv:
        option = _BY_COMMAND.get(server.current_argv[0].lower(), SERVER_DEL)
    if option is not None and not server.config[option]:
        return
    if free_effort(value, server.config) > LAZYFREE_THRESHOLD:
        server.stat_lazyfreed_objects += 1


def flushed(server: Any, keys: int, asynchronous: bool) -> None:
    """FLUSHDB/FLUSHALL: an asynchronous flush frees every key of the databases lazily."""
    if asynchronous:
        server.stat_lazyfreed_objects += keys


def flush_is_async(server: Any, opts: tuple[bytes, ...]) -> bool:
    """getFlushCommandFlags: ASYNC, SYNC, or lazyfree-lazy-user-flush when neither is given."""
    if opts:
        return opts[0].lower() == b"async"
    return bool(server.config["lazyfree-lazy-user-flush"])
