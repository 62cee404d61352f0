"""A pykey server in its own process, for the tests that measure memory: used_memory is the
whole process's, so an embedded server would count the test's own client buffers too."""
from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator

import pytest
import redis

from pykey.testing.embedded import free_port


@pytest.fixture(scope="module")
def process_port() -> Iterator[int]:
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="pykey-evict-")
    proc = subprocess.Popen(
        [sys.executable, "-m", "pykey", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", workdir, "--loglevel", "warning"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail("pykey-server did not start")
                time.sleep(0.05)
        yield port
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)


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
