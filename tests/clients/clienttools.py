"""Helpers shared by the client-compatibility tests (imported by name: tests/ is no package)."""
from __future__ import annotations

import shutil
import time

import pytest

PASSWORD = "s3cret-pw"


def tool(name: str) -> str:
    """The path of a command-line tool, or skip the test with the reason."""
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (apt-get install redis-tools)")
    return path


def wait_for(predicate, timeout: float = 5.0, interval: float = 0.01):
    """Poll ``predicate`` until it returns something truthy (returned) or fail the test."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {predicate}")
        time.sleep(interval)
