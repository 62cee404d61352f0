"""Fixtures for the client-compatibility tests: real client libraries and tools (redis-py,
redis-cli, redis-benchmark, Node.js clients) talking to a real pykey server, and, where the
behaviour should be the same, to Debian's redis-server 7.0 for comparison."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from clienttools import PASSWORD

from pykey.testing.embedded import EmbeddedServer
from pykey.testing.processes import redis_server


@pytest.fixture(scope="session")
def auth_server(tmp_path_factory) -> Iterator[EmbeddedServer]:
    """A pykey server with requirepass, for AUTH in URLs and handshakes."""
    workdir = str(tmp_path_factory.mktemp("pykey-auth"))
    with EmbeddedServer("--requirepass", PASSWORD, "--dir", workdir) as srv:
        yield srv


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def protocol(request) -> int:
    return request.param


@pytest.fixture
def rp(pykey_server, protocol) -> Iterator[redis.Redis]:
    """A redis-py client speaking RESP2 or RESP3 (parametrized), on a flushed server."""
    pykey_server.reset_clock()
    c = redis.Redis(host=pykey_server.host, port=pykey_server.port, protocol=protocol, socket_timeout=10)
    c.flushall()
    yield c
    c.close()


@pytest.fixture(scope="session")
def reference_port() -> Iterator[int]:
    """Debian's redis-server 7.0 on a free port (persistence off, its own directory)."""
    with redis_server("redis-clients-") as port:
        yield port
