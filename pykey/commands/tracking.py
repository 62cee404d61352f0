"""Client-side caching commands: CLIENT TRACKING, CACHING, TRACKINGINFO and GETREDIR.

They are subcommands of CLIENT (declared in commands/client.py; this module is imported
after it). The tracking table and the invalidation messages live in ``engine/tracking.py``.
"""
from __future__ import annotations

from .. import errors
from ..engine.client import Client
from ..engine.registry import command
from ..protocol.replies import OK, SetReply
from .util import parse_int

_F = "noscript loading stale sentinel"


def _overlap(a: bytes, b: bytes) -> bool:
    """Two prefixes overlap when one starts the other."""
    return a.startswith(b) or b.startswith(a)


def _check_prefixes(c: Client, prefixes: list[bytes]) -> None:
    existing = sorted(c.tracking.prefixes) if c.tracking is not None else []
    for i, prefix in enumerate(prefixes):
        for old in existing:
            if _overlap(old, prefix):
                raise errors.prefix_overlap(prefix, old, existing=True)
        for other in prefixes[i + 1:]:
            if _overlap(prefix, other):
                raise errors.prefix_overlap(prefix, other, existing=False)


@command("tracking", parent="client", arity=-3, flags=_F, group="connection", since="6.0.0",
         summary="Turns server-assisted client-side caching on or off for this connection.",
         complexity="O(1). Some options may introduce additional complexity.",
         args="(status: ON | OFF) [REDIRECT client-id:integer] [PREFIX prefix]... [BCAST] [OPTIN] [OPTOUT] [NOLOOP]")
def client_tracking(c: Client, mode: bytes, *args: bytes):
    redirect = 0
    bcast = optin = optout = noloop = False
    prefixes: list[bytes] = []
    i, n = 0, len(args)
    while i < n:
        opt = args[i].lower()
        more = i + 1 < n
        if opt == b"redirect" and more:
            i += 1
            if redirect:
                raise errors.TRACKING_ONE_REDIRECT
            redirect = parse_int(args[i])
            if redirect not in c.server.clients:
                raise errors.TRACKING_NO_SUCH_CLIENT
        elif opt == b"bcast":
            bcast = True
        elif opt == b"optin":
            optin = True
        elif opt == b"optout":
            optout = True
        elif opt == b"noloop":
            noloop = True
        elif opt == b"prefix" and more:
            i += 1
            prefixes.append(args[i])
        else:
            raise errors.SYNTAX
        i += 1
    tracking = c.server.tracking
    low = mode.lower()
    if low == b"on":
        if not bcast and prefixes:
            raise errors.PREFIX_NEEDS_BCAST
        t = c.tracking
        if t is not None and t.bcast != bcast:
            raise errors.TRACKING_BCAST_SWITCH
        if bcast and (optin or optout):
            raise errors.TRACKING_BCAST_OPTS
        if optin and optout:
            raise errors.TRACKING_OPTIN_OPTOUT
        if t is not None and ((optin and t.optout) or (optout and t.optin)):
            raise errors.TRACKING_OPT_SWITCH
        if bcast:
            _check_prefixes(c, prefixes)
        tracking.enable(c, redirect, bcast, optin, optout, noloop, prefixes)
    elif low == b"off":
        tracking.disable(c)
    else:
        raise errors.SYNTAX
    return OK


@command("caching", parent="client", arity=3, flags=_F, group="connection", since="6.0.0",
         summary="Chooses whether the next command's keys are tracked (OPTIN/OPTOUT modes).",
         complexity="O(1)",
         args="(mode: YES | NO)")
def client_caching(c: Client, answer: bytes):
    t = c.tracking
    if t is None:
        raise errors.CACHING_NOT_TRACKING
    low = answer.lower()
    if low == b"yes":
        if not t.optin:
            raise errors.CACHING_YES_NEEDS_OPTIN
    elif low == b"no":
        if not t.optout:
            raise errors.CACHING_NO_NEEDS_OPTOUT
    else:
        raise errors.SYNTAX
    t.caching = True
    return OK


@command("getredir", parent="client", arity=2, flags=_F, group="connection", since="6.0.0",
         summary="Gives the id of the client that receives this connection's invalidations.",
         complexity="O(1)")
def client_getredir(c: Client) -> int:
    return c.tracking.redirect if c.tracking is not None else -1


@command("trackinginfo", parent="client", arity=2, flags=_F, group="connection", since="6.2.0",
         summary="Describes this connection's client-side caching settings.", complexity="O(1)")
def client_trackinginfo(c: Client) -> dict:
    t = c.tracking
    if t is None:
        return {b"flags": SetReply([b"off"]), b"redirect": -1, b"prefixes": []}
    flags = [b"on"]
    if t.bcast:
        flags.append(b"bcast")
    if t.optin:
        flags.append(b"optin")
        if t.caching:
            flags.append(b"caching-yes")
    if t.optout:
        flags.append(b"optout")
        if t.caching:
            flags.append(b"caching-no")
    if t.noloop:
        flags.append(b"noloop")
    if t.broken:
        flags.append(b"broken_redirect")
    return {b"flags": SetReply(flags), b"redirect": t.redirect, b"prefixes": sorted(t.prefixes)}
