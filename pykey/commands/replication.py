"""Replication commands: SYNC, PSYNC, REPLCONF, ROLE, WAIT/WAITAOF of the primary side and
REPLICAOF/SLAVEOF of the replica side (Valkey's replication.c syncCommand, replconfCommand,
roleCommand, replicaofCommand). The state machines live in :mod:`pykey.replication.primary`
and :mod:`pykey.replication.replica`."""
from __future__ import annotations

from typing import Any

from .. import errors
from ..engine.client import Client
from ..engine.registry import command
from ..log import log
from ..protocol.replies import OK, Raw, Simple
from .cmdargs import parse_timeout_ms
from .util import parse_int

_SYNC_FLAGS = "no_async_loading admin no_multi noscript"


def _noreply() -> Any:
    from ..net.connection import NOREPLY
    return NOREPLY


def _sync(c: Client, replid: bytes | None, offset: int) -> Any:
    primary = c.server.replication
    if c.id in primary.replicas:          # already a replica: ignore, as Valkey does
        return _noreply()
    replica = c.server.replica
    if replica.host is not None and not replica.link_up():
        raise errors.NOMASTERLINK
    line = primary.sync(c, replid, offset)
    return Raw(line) if line else _noreply()


@command("sync", arity=1, flags=_SYNC_FLAGS, group="server", since="1.0.0",
         summary="An internal command used in replication.")
def sync(c: Client) -> Any:
    return _sync(c, None, -1)


@command("psync", arity=-3, flags=_SYNC_FLAGS, group="server", since="2.8.0",
         summary="An internal command used in replication.",
         args="replicationid offset:integer")
def psync(c: Client, replid: bytes, offset: bytes, *_extra: bytes) -> Any:
    return _sync(c, replid, parse_int(offset))


@command("replconf", arity=-1, flags="admin noscript loading stale allow_busy", group="server", since="3.0.0",
         doc_flags="syscmd", summary="An internal command for configuring the replication stream.",
         complexity="O(1)")
def replconf(c: Client, *args: bytes) -> Any:
    if len(args) % 2:
        raise errors.SYNTAX
    conf = c.extra.setdefault("replconf", {})
    for i in range(0, len(args), 2):
        opt, value = args[i].lower(), args[i + 1]
        if opt == b"listening-port":
            conf["listening-port"] = parse_int(value)
        elif opt == b"ip-address":
            if len(value) >= 46:
                raise errors.err(f"REPLCONF ip-address provided by replica instance is too long: "
                                 f"{len(value)} bytes")
            conf["ip-address"] = value.decode("latin-1")
        elif opt == b"capa":
            conf.setdefault("capa", set()).add(value.lower().decode("latin-1"))
        elif opt == b"ack":
            # the replica's processed offset (and its fsynced AOF offset): never answered
            try:
                offset = int(value)
                fack = int(args[i + 3]) if len(args) > i + 3 and args[i + 2].lower() == b"fack" else None
            except ValueError:
                return _noreply()
            c.server.replication.ack(c, offset, fack)
            return _noreply()
        elif opt == b"getack":
            if c.kind == "master":         # our primary asks where we are
                c.server.replica.send_ack()
            return _noreply()
        elif opt in (b"rdb-only", b"rdb-filter-only"):
            if opt == b"rdb-only":
                flag = parse_int(value)
                if flag not in (0, 1):
                    raise errors.err("value is out of range, value must between 0 and 1")
            conf[opt.decode()] = value
        elif opt == b"version":
            conf["version"] = value.decode("latin-1")
        else:
            raise errors.replconf_unknown_option(args[i])
    return OK


@command("wait", arity=3, flags="blocking", acl="connection !group", group="generic", since="3.0.0",
         tips="request_policy:all_shards response_policy:agg_min", complexity="O(1)",
         summary="Blocks until the asynchronous replication of all preceding write commands sent by the "
                 "connection is completed.",
         args="numreplicas:integer timeout:integer")
def wait(c: Client, numreplicas: bytes, timeout: bytes) -> Any:
    if c.server.replica.host is not None:
        raise errors.WAIT_ON_REPLICA
    n = parse_int(numreplicas)
    return c.server.replication.wait(c, n, parse_timeout_ms(timeout, c.server.now_ms))


@command("waitaof", arity=4, flags="blocking", acl="connection !group", group="generic", since="7.2.0",
         tips="request_policy:all_shards response_policy:agg_min", complexity="O(1)",
         summary="Blocks until all of the preceding write commands sent by the connection are written to the "
                 "append-only file of the primary and/or replicas.",
         args="numlocal:integer numreplicas:integer timeout:integer")
def waitaof(c: Client, numlocal: bytes, numreplicas: bytes, timeout: bytes) -> Any:
    local = parse_int(numlocal)
    if local < 0 or local > 1:
        raise errors.err("value is out of range, value must between 0 and 1")
    n = parse_int(numreplicas)
    if n < 0:
        raise errors.err("value is out of range, must be positive")
    ms = parse_timeout_ms(timeout, c.server.now_ms)
    if c.server.replica.host is not None:
        raise errors.WAITAOF_ON_REPLICA
    if local and c.server.aof.state == "off":
        raise errors.err("WAITAOF cannot be used when numlocal is set but appendonly is disabled.")
    return c.server.replication.wait(c, n, ms, numlocal=local)


@command("role", arity=1, flags="noscript loading stale fast sentinel", acl="admin dangerous", group="server",
         since="2.8.12", summary="Returns the replication role.", complexity="O(1)")
def role(c: Client) -> list[Any]:
    return c.server.replication.role()


def _replicaof(c: Client, host: bytes, port: bytes) -> Any:
    server = c.server
    replica = server.replica
    if server.config["cluster-enabled"]:
        raise errors.REPLICAOF_IN_CLUSTER
    who = _client_desc(c)
    if host.lower() == b"no" and port.lower() == b"one":
        if replica.host is not None:
            replica.unset_primary()
            log.notice(f"PRIMARY MODE enabled (user request from '{who}')")
        return OK
    if c.kind == "replica":           # it would be disconnected along with our replicas
        raise errors.REPLICAOF_BY_REPLICA
    num = parse_int(port, errors.INVALID_PRIMARY_PORT)
    if not 0 <= num <= 65535:
        raise errors.INVALID_PRIMARY_PORT
    name = host.decode("utf-8", "surrogateescape")
    if replica.host is not None and replica.host.lower() == name.lower() and replica.port == num:
        log.notice("REPLICAOF would result into synchronization with the primary we are already connected with. "
                   "No operation performed.")
        return Simple("OK Already connected to specified master")
    replica.set_primary(name, num)
    log.notice(f"REPLICAOF {name}:{num} enabled (user request from '{who}')")
    return OK


def _client_desc(c: Client) -> str:
    from .client import client_info_line
    return client_info_line(c).rstrip("\n")


@command("replicaof", arity=3, flags="no_async_loading admin noscript stale", group="server", since="5.0.0",
         summary="Configures a server as replica of another, or promotes it to a primary.", complexity="O(1)",
         args="(args: (host-port: host port:integer) | (no-one: NO ONE))")
def replicaof(c: Client, host: bytes, port: bytes) -> Any:
    return _replicaof(c, host, port)


@command("slaveof", arity=3, flags="no_async_loading admin noscript stale", group="server", since="1.0.0",
         doc_flags="deprecated", deprecated_since="5.0.0", replaced_by="`REPLICAOF`",
         summary="Sets a server as a replica of another, or promotes it to being a primary.", complexity="O(1)",
         args="(args: (host-port: host port:integer) | (no-one: NO ONE))")
def slaveof(c: Client, host: bytes, port: bytes) -> Any:
    return _replicaof(c, host, port)
