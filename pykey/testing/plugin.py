"""pytest fixtures, registered through the ``pytest11`` entry point.

``pykey_server``: one embedded server per test session. ``r``: a redis-py client on it, with
every database flushed and the server's clock put back to real time first. ``pykey_factory``: start servers with a given config.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .embedded import EmbeddedServer


@pytest.fixture(scope="session")
def pykey_server(tmp_path_factory: Any) -> Iterator[EmbeddedServer]:
    # SAVE, DEBUG RELOAD and FLUSHALL with save points write dump.rdb: keep it out of the cwd
    workdir = str(tmp_path_factory.mktemp("pykey-server"))
    with EmbeddedServer("--enable-debug-command", "yes", "--dir", workdir) as srv:
        yield srv


@pytest.fixture
def r(pykey_server: EmbeddedServer):
    import redis
    client = redis.Redis(host=pykey_server.host, port=pykey_server.port, socket_timeout=10)
    pykey_server.reset_clock()        # a test that moved time forward must not move the next one's
    client.flushall()
    yield client
    client.close()


@pytest.fixture
def pykey_factory(tmp_path_factory: Any) -> Iterator[Any]:
    started: list[EmbeddedServer] = []

    def make(*args: str, **config: Any) -> EmbeddedServer:
        if "--dir" not in args and "dir" not in config:
            # each server its own directory: a replica stores what it receives as dump.rdb
            args = (*args, "--dir", str(tmp_path_factory.mktemp("pykey-factory")))
        srv = EmbeddedServer(*args, **config).start()
        started.append(srv)
        return srv

    yield make
    for srv in started:
        srv.stop()
