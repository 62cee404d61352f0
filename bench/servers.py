"""The two servers under test, each a process pinned to core 0, and what we read off them."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYKEY = ROOT / ".venv" / "bin" / "pykey-server"
REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"
TICK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def encode(*args: str | bytes) -> bytes:
    parts = [a if isinstance(a, bytes) else str(a).encode() for a in args]
    return b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts)


@dataclass
class Server:
    """A server process pinned to core 0 (taskset execs, so the pid is the server's)."""
    name: str
    argv: list[str]
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None

    def start(self) -> Server:
        # an empty directory of its own: a dump.rdb in the working directory must not load
        self.workdir = tempfile.mkdtemp(prefix=f"bench-{self.name}-")
        cmd = ["taskset", "-c", "0", *self.argv, "--port", str(self.port), "--bind", "127.0.0.1",
               "--save", "", "--appendonly", "no", "--enable-debug-command", "yes", "--dir", self.workdir]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while self.call("PING") != b"+PONG\r\n":
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} did not start")
            time.sleep(0.1)
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(15)
        if getattr(self, "workdir", None):
            shutil.rmtree(self.workdir, ignore_errors=True)

    def call(self, *args: str | bytes) -> bytes:
        """One command and its raw reply (enough for the small replies we need)."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=600) as s:
                s.sendall(encode(*args))
                data = b""
                while not data.endswith(b"\r\n") or (data[:1] == b"$" and data.count(b"\r\n") < 2):
                    chunk = s.recv(1 << 20)
                    if not chunk:
                        break
                    data += chunk
                return data
        except OSError:
            return b""

    def cpu_seconds(self) -> float:
        """utime + stime of the server process."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK

    def rss_bytes(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0

    def dbsize(self) -> int:
        return int(self.call("DBSIZE")[1:])
