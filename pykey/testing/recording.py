"""What an embedded server's engine emits, recorded for a test: keyspace events and the
commands it propagates (to replicas and the AOF)."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from .embedded import EmbeddedServer


@contextmanager
def record_events(srv: EmbeddedServer) -> Iterator[dict[str, list]]:
    """Yield ``{"notify": [(event, key), ...], "propagate": [argv, ...]}`` filled while the
    block runs; each propagated command's name is lower-cased. Notifications still reach
    the sink that was there before."""
    engine = srv.engine
    got: dict[str, list] = {"notify": [], "propagate": []}
    old_sink = engine.notify_sink

    def notify(flag, event, key, dbid):
        got["notify"].append((event.decode() if isinstance(event, bytes) else event, key))
        if old_sink is not None:
            old_sink(flag, event, key, dbid)

    def propagate(dbid, argv):
        got["propagate"].append([a.lower() if i == 0 else a for i, a in enumerate(argv)])

    engine.notify_sink = notify
    engine.propagate_sinks.append(propagate)
    try:
        yield got
    finally:
        engine.propagate_sinks.remove(propagate)
        engine.notify_sink = old_sink
