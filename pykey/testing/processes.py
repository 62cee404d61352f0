"""Servers in processes of their own, for tests: Debian's redis-server 7.0 (replies to
compare with pykey's) and pykey itself (where the whole process is measured)."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from .embedded import free_port

REDIS_SERVER = "/usr/bin/redis-server"


@contextmanager
def server_process(argv: list[str], port: int, name: str, timeout: float = 10) -> Iterator[int]:
    """Run ``argv`` (a server that listens on 127.0.0.1:``port``), yield ``port`` once it
    accepts connections (fail the test if it never does), and stop it afterwards."""
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail(f"{name} did not start")
                time.sleep(0.05)
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


@contextmanager
def redis_server(prefix: str = "redis-") -> Iterator[int]:
    """Debian's redis-server on a free port, persistence off, in a directory of its own (a
    dump.rdb in the working directory must not be loaded); skips the test if not installed."""
    if not os.path.exists(REDIS_SERVER):
        pytest.skip("redis-server not installed")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix=prefix, ignore_cleanup_errors=True) as workdir:
        with server_process([REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--daemonize", "no", "--enable-debug-command", "yes",
                             "--dir", workdir], port, "redis-server") as p:
            yield p


@contextmanager
def pykey_process(prefix: str = "pykey-") -> Iterator[int]:
    """``python -m pykey`` on a free port, persistence off, in a directory of its own."""
    with tempfile.TemporaryDirectory(prefix=prefix, ignore_cleanup_errors=True) as workdir:
        with pykey_in(workdir, free_port()) as p:
            yield p


@contextmanager
def pykey_in(directory: str | os.PathLike, port: int, *args: str) -> Iterator[int]:
    """``python -m pykey`` on ``port`` with its data in ``directory`` (what it loads at
    startup: start it again there to test a restart), no save points, no AOF."""
    with server_process([sys.executable, "-m", "pykey", "--port", str(port), "--bind", "127.0.0.1",
                         "--save", "", "--appendonly", "no", "--dir", str(directory), "--loglevel", "warning",
                         *args], port, "pykey-server", timeout=20) as p:
        yield p
