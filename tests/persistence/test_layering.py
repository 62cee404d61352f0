"""The persistence package stays free of asyncio and sockets (DESIGN: bytes in, values out):
importing all of it must not import either."""
from __future__ import annotations

import subprocess
import sys

MODULES = ["pykey.persistence." + m for m in (
    "crc64", "lzf", "listpack", "intset", "ziplist", "encoding", "values", "streams", "rdb", "dump", "snapshot")]


def test_persistence_imports_no_asyncio_or_sockets():
    code = ("import sys\n"
            + "".join(f"import {m}\n" for m in MODULES)
            + "bad = [m for m in ('asyncio', 'socket', 'uvloop') if m in sys.modules]\n"
            + "print(','.join(bad))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
