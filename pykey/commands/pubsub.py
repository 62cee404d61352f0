"""Pub/Sub commands: SUBSCRIBE UNSUBSCRIBE PSUBSCRIBE PUNSUBSCRIBE PUBLISH, the sharded
SSUBSCRIBE SUNSUBSCRIBE SPUBLISH, and PUBSUB CHANNELS NUMSUB NUMPAT SHARDCHANNELS SHARDNUMSUB.

The registry and message delivery live in ``engine/pubsub.py``. The (un)subscribe commands
answer with one push per channel (``Pushes``), which the network layer sends even under
CLIENT REPLY OFF, as Valkey does. Which commands a RESP2 client may send while subscribed
is checked by the engine before any command runs (``Server.execute``).
"""
from __future__ import annotations

from .. import errors
from ..datatypes.glob import compile_glob
from ..engine.blocking import deny_blocking
from ..engine.client import Client
from ..engine.registry import command, container
from ..protocol.replies import Pushes
from .server import help_reply

_SUB = "pubsub noscript loading stale"


# ---------------------------------------------------------------------- channels
@command("subscribe", arity=-2, flags=_SUB + " sentinel", group="pubsub", since="2.0.0",
         summary="Starts listening to messages published to the given channels.",
         complexity="O(N) where N is the number of channels to subscribe to.",
         args="channel...")
def subscribe(c: Client, *channels: bytes) -> Pushes:
    if c.in_script:     # Valkey lets MULTI subscribe, for backward compatibility
        raise errors.subscribe_denied("SUBSCRIBE")
    pubsub = c.server.pubsub
    return Pushes([pubsub.subscribe(c, ch) for ch in channels])


@command("unsubscribe", arity=-1, flags=_SUB + " sentinel", group="pubsub", since="2.0.0",
         summary="Stops listening to the given channels, or to all of them.",
         complexity="O(N) where N is the number of channels to unsubscribe.",
         args="[channel...]")
def unsubscribe(c: Client, *channels: bytes) -> Pushes:
    pubsub = c.server.pubsub
    if not channels:
        return Pushes(pubsub.unsubscribe_all(c))
    return Pushes([pubsub.unsubscribe(c, ch) for ch in channels])


@command("psubscribe", arity=-2, flags=_SUB + " sentinel", group="pubsub", since="2.0.0",
         summary="Starts listening to messages published to channels matching the given patterns.",
         complexity="O(N) where N is the number of patterns to subscribe to.",
         args="pattern:pattern...")
def psubscribe(c: Client, *patterns: bytes) -> Pushes:
    if c.in_script:
        raise errors.subscribe_denied("PSUBSCRIBE")
    pubsub = c.server.pubsub
    return Pushes([pubsub.psubscribe(c, p) for p in patterns])


@command("punsubscribe", arity=-1, flags=_SUB + " sentinel", group="pubsub", since="2.0.0",
         summary="Stops listening to the given patterns, or to all of them.",
         complexity="O(N) where N is the number of patterns to unsubscribe.",
         args="[pattern:pattern...]")
def punsubscribe(c: Client, *patterns: bytes) -> Pushes:
    pubsub = c.server.pubsub
    if not patterns:
        return Pushes(pubsub.punsubscribe_all(c))
    return Pushes([pubsub.punsubscribe(c, p) for p in patterns])


@command("publish", arity=3, flags="pubsub loading stale fast may_replicate sentinel", group="pubsub",
         since="2.0.0", summary="Sends a message to a channel's subscribers; returns how many got it.",
         complexity="O(N+M) where N is the number of clients subscribed to the receiving channel "
                    "and M is the total number of subscribed patterns (by any client).",
         args="channel message")
def publish(c: Client, channel: bytes, message: bytes) -> int:
    receivers = c.server.pubsub.publish(channel, message)
    _to_replicas(c, [b"PUBLISH", channel, message])
    return receivers


def _to_replicas(c: Client, argv: list[bytes]) -> None:
    """Valkey forces PUBLISH/SPUBLISH into the replication stream (not the AOF), so that a
    replica's subscribers get the message too."""
    server = c.server
    if server.propagate_sinks:
        from ..scripting.run import TargetedArgv
        server.propagate(c.db.id, TargetedArgv(argv, 2))


# ---------------------------------------------------------------------- shard channels
@command("ssubscribe", arity=-2, flags=_SUB, keys=(1, -1, 1), key_flags="not_key", group="pubsub",
         since="7.0.0", summary="Starts listening to messages published to the given shard channels.",
         complexity="O(N) where N is the number of shard channels to subscribe to.",
         args="shardchannel...")
def ssubscribe(c: Client, *channels: bytes) -> Pushes:
    if deny_blocking(c):   # clients that expect exactly one reply per command
        raise errors.subscribe_denied("SSUBSCRIBE")
    pubsub = c.server.pubsub
    return Pushes([pubsub.subscribe(c, ch, shard=True) for ch in channels])


@command("sunsubscribe", arity=-1, flags=_SUB, keys=(1, -1, 1), key_flags="not_key", group="pubsub",
         since="7.0.0", summary="Stops listening to the given shard channels, or to all of them.",
         complexity="O(N) where N is the number of shard channels to unsubscribe.",
         args="[shardchannel...]")
def sunsubscribe(c: Client, *channels: bytes) -> Pushes:
    pubsub = c.server.pubsub
    if not channels:
        return Pushes(pubsub.unsubscribe_all(c, shard=True))
    return Pushes([pubsub.unsubscribe(c, ch, shard=True) for ch in channels])


@command("spublish", arity=3, flags="pubsub loading stale fast may_replicate", keys=1, key_flags="not_key",
         group="pubsub", since="7.0.0",
         summary="Sends a message to a shard channel's subscribers; returns how many got it.",
         complexity="O(N) where N is the number of clients subscribed to the receiving shard channel.",
         args="shardchannel message")
def spublish(c: Client, channel: bytes, message: bytes) -> int:
    receivers = c.server.pubsub.spublish(channel, message)
    _to_replicas(c, [b"SPUBLISH", channel, message])
    return receivers


# ---------------------------------------------------------------------- PUBSUB introspection
container("pubsub", group="pubsub", since="2.8.0", summary="Groups the Pub/Sub introspection subcommands.",
          complexity="Depends on subcommand.")

_INTRO = "pubsub loading stale"


def _matching(registry: dict, pattern: bytes | None) -> list[bytes]:
    if pattern is None:
        return list(registry)
    match = compile_glob(pattern)
    return [ch for ch in registry if match(ch) is not None]


@command("channels", parent="pubsub", arity=-2, flags=_INTRO, group="pubsub", since="2.8.0",
         summary="Lists the channels that have subscribers, optionally only those matching a pattern.",
         complexity="O(N) where N is the number of active channels, and assuming constant time "
                    "pattern matching (relatively short channels and patterns)",
         args="[pattern:pattern]")
def pubsub_channels(c: Client, *args: bytes) -> list[bytes]:
    if len(args) > 1:
        raise errors.subcommand_syntax(b"pubsub", b"channels")
    return _matching(c.server.pubsub.channels, args[0] if args else None)


@command("shardchannels", parent="pubsub", arity=-2, flags=_INTRO, group="pubsub", since="7.0.0",
         summary="Lists the shard channels that have subscribers, optionally only those matching a pattern.",
         complexity="O(N) where N is the number of active shard channels, and assuming constant time "
                    "pattern matching (relatively short shard channels).",
         args="[pattern:pattern]")
def pubsub_shardchannels(c: Client, *args: bytes) -> list[bytes]:
    if len(args) > 1:
        raise errors.subcommand_syntax(b"pubsub", b"shardchannels")
    return _matching(c.server.pubsub.shard_channels, args[0] if args else None)


@command("numsub", parent="pubsub", arity=-2, flags=_INTRO, group="pubsub", since="2.8.0",
         summary="Counts the subscribers of each given channel (pattern subscriptions excluded).",
         complexity="O(N) for the NUMSUB subcommand, where N is the number of requested channels",
         args="[channel...]")
def pubsub_numsub(c: Client, *channels: bytes) -> list:
    registry = c.server.pubsub.channels
    out: list = []
    for ch in channels:
        out += [ch, len(registry.get(ch, ()))]
    return out


@command("shardnumsub", parent="pubsub", arity=-2, flags=_INTRO, group="pubsub", since="7.0.0",
         summary="Counts the subscribers of each given shard channel.",
         complexity="O(N) for the SHARDNUMSUB subcommand, where N is the number of requested shard channels",
         args="[shardchannel...]")
def pubsub_shardnumsub(c: Client, *channels: bytes) -> list:
    registry = c.server.pubsub.shard_channels
    out: list = []
    for ch in channels:
        out += [ch, len(registry.get(ch, ()))]
    return out


@command("numpat", parent="pubsub", arity=2, flags=_INTRO, group="pubsub", since="2.8.0",
         summary="Counts the distinct patterns that clients are subscribed to.", complexity="O(1)")
def pubsub_numpat(c: Client) -> int:
    return len(c.server.pubsub.patterns)


@command("help", parent="pubsub", arity=2, flags="loading stale", group="pubsub", since="6.2.0",
         summary="Describes the PUBSUB subcommands.", complexity="O(1)")
def pubsub_help(c: Client):
    return help_reply("pubsub", [
        "CHANNELS [<pattern>]",
        "    Return the currently active channels matching a <pattern> (default: '*').",
        "NUMPAT",
        "    Return number of subscriptions to patterns.",
        "NUMSUB [<channel> ...]",
        "    Return the number of subscribers for the specified channels, excluding",
        "    pattern subscriptions(default: no channels).",
        "SHARDCHANNELS [<pattern>]",
        "    Return the currently active shard level channels matching a <pattern> (default: '*').",
        "SHARDNUMSUB [<shardchannel> ...]",
        "    Return the number of subscribers for the specified shard level channel(s)",
    ])
