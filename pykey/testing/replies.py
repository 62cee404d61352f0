"""Reading replies in tests: the exact text of an error reply, as tests assert whole
Valkey error strings."""
from __future__ import annotations

from typing import Any

import pytest
import redis


def error_text(r: redis.Redis, *args: Any) -> str:
    """The error ``r`` gets for the command ``args`` (the test fails if it succeeds)."""
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command(*args)
    return str(e.value)
