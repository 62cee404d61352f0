"""A pykey server in its own process, for the tests that measure memory: used_memory is the
whole process's, so an embedded server would count the test's own client buffers too."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from pykey.testing.processes import pykey_process


@pytest.fixture(scope="module")
def process_port() -> Iterator[int]:
    with pykey_process("pykey-evict-") as port:
        yield port


@pytest.fixture
def pr(process_port: int) -> Iterator[redis.Redis]:
    """A client of the separate-process server, reset: no limit, noeviction, empty, stats 0."""
    c = redis.Redis(host="127.0.0.1", port=process_port, socket_timeout=10)
    c.config_set("maxmemory", 0)
    c.config_set("maxmemory-policy", "noeviction")
    c.config_set("maxmemory-samples", 5)
    c.flushall()
    c.config_resetstat()
    yield c
    c.config_set("maxmemory", 0)
    c.close()
