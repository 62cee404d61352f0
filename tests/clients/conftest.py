"""Fixtures for the client-compatibility tests: real client libraries and tools (redis-py,
redis-cli, redis-benchmark, Node.js clients) talking to a real pykey server, and, where the
behaviour should be the same, to Debian's redis-server 7.0 for comparison."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator

import pytest
import redis
from clienttools import PASSWORD, REDIS_SERVER

from pykey.testing.embedded import EmbeddedServer, free_port


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
    if not os.path.exists(REDIS_SERVER):
        pytest.skip("redis-server not installed")
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="redis-clients-")
    proc = subprocess.Popen(
        [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--daemonize", "no", "--enable-debug-command", "yes", "--dir", workdir],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail("redis-server did not start")
                time.sleep(0.05)
        yield port
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)

