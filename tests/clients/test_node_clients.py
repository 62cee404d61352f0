"""Node.js client libraries against pykey: ioredis (5 and 6) and node-redis (5 and 6), RESP2 and
RESP3, run as scripts in tests/clients/node (each exits non-zero and lists every mismatch).
Their packages come from `npm ci --prefix tests/clients/node` (.ci/run does it when npm is
there); without node or the packages these tests skip."""
from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from clienttools import PASSWORD

NODE_DIR = os.path.join(os.path.dirname(__file__), "node")

RUNS = [
    ("ioredis.mjs", "ioredis", "2"),          # ioredis 5: RESP2 only
    ("ioredis.mjs", "ioredis-6", "2"),
    ("ioredis.mjs", "ioredis-6", "3"),        # ioredis 6 defaults to RESP3
    ("node-redis.mjs", "redis", "2"),         # node-redis 5
    ("node-redis.mjs", "redis", "3"),
    ("node-redis.mjs", "redis-client-6", "2"),
    ("node-redis.mjs", "redis-client-6", "3"),
]


@pytest.fixture(scope="module")
def node() -> str:
    path = shutil.which("node")
    if path is None:
        pytest.skip("node is not installed")
    if not os.path.isdir(os.path.join(NODE_DIR, "node_modules")):
        pytest.skip("the Node.js client packages are not installed: npm ci --prefix tests/clients/node")
    return path


@pytest.mark.parametrize("script,package,resp", RUNS, ids=[f"{p}-resp{v}" for _, p, v in RUNS])
def test_node_client(node, script, package, resp, r, pykey_server, auth_server):
    if not os.path.isdir(os.path.join(NODE_DIR, "node_modules", package)):
        pytest.skip(f"{package} is not installed: npm ci --prefix tests/clients/node")
    env = dict(os.environ, PYKEY_PORT=str(pykey_server.port), PYKEY_AUTH_PORT=str(auth_server.port),
               PYKEY_PASSWORD=PASSWORD)
    proc = subprocess.run([node, script, package, resp], cwd=NODE_DIR, env=env, capture_output=True, timeout=60)
    output = (proc.stdout + proc.stderr).decode(errors="replace")
    assert proc.returncode == 0, output
    assert "checks passed" in output
    r.flushall()
