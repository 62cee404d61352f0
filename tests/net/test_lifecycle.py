"""The server as users start it: config files, flags, log lines, signals, limits."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import pytest
import redis

from pykey.testing.embedded import free_port


def _start(args: list[str], cwd: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "pykey", *args], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _wait_ready(proc: subprocess.Popen) -> list[str]:
    lines = []
    deadline = time.time() + 15
    while time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "Ready to accept connections tcp" in line:
            return lines
    raise AssertionError("server did not start: " + "".join(lines))


def test_config_file_include_flags_and_sigterm(tmp_path):
    port = free_port()
    (tmp_path / "extra.conf").write_text("maxclients 77\n")
    (tmp_path / "pykey.conf").write_text(
        f'# comment\nport {port}\nsave ""\ninclude "{tmp_path}/extra.conf"\ndatabases 4\nhz 20\n')
    proc = _start(["pykey.conf", "--loglevel", "verbose", "--timeout", "123"], str(tmp_path))
    try:
        lines = _wait_ready(proc)
        ready = [ln for ln in lines if "Ready to accept connections tcp" in ln][0]
        # Valkey's format: pid:role dd Mon yyyy HH:MM:SS.mmm * message
        head = ready.split(" ")
        assert head[0] == f"{proc.pid}:M" and head[5] == "*"
        r = redis.Redis(port=port)
        cfg = r.config_get("*")
        assert cfg["maxclients"] == "77" and cfg["databases"] == "4"
        assert cfg["timeout"] == "123" and cfg["hz"] == "20" and cfg["save"] == ""
        assert cfg["loglevel"] == "verbose"
        with pytest.raises(redis.ResponseError, match="DB index is out of range"):
            r.select(4)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


def test_bad_config_file_is_refused(tmp_path):
    (tmp_path / "bad.conf").write_text("port 6379\nnosuchdirective 1\n")
    proc = _start(["bad.conf"], str(tmp_path))
    out, _ = proc.communicate(timeout=15)
    assert proc.returncode == 1
    assert "FATAL CONFIG FILE ERROR" in out and "at line 2" in out and "Bad directive" in out


def test_maxclients(pykey_factory):
    srv = pykey_factory(maxclients=2)
    a, b = redis.Redis(port=srv.port), redis.Redis(port=srv.port)
    a.ping()
    b.ping()
    s = socket.create_connection(("127.0.0.1", srv.port))
    s.settimeout(5)
    assert s.recv(100) == b"-ERR max number of clients reached\r\n"
    s.close()


def test_idle_timeout(pykey_factory):
    srv = pykey_factory(timeout=1, hz=50)
    s = socket.create_connection(("127.0.0.1", srv.port))
    s.settimeout(5)
    s.sendall(b"PING\r\n")
    assert s.recv(100) == b"+PONG\r\n"
    time.sleep(2.5)
    assert s.recv(100) == b""  # closed by the server
    s.close()


def test_unix_socket(pykey_factory, tmp_path):
    path = str(tmp_path / "pykey.sock")
    srv = pykey_factory(unixsocket=path, unixsocketperm="700")
    r = redis.Redis(unix_socket_path=path)
    assert r.ping()
    assert oct(os.stat(path).st_mode & 0o777) == "0o700"
    assert redis.Redis(port=srv.port).ping()


def test_requirepass(pykey_factory):
    srv = pykey_factory(requirepass="s3cret")
    r = redis.Redis(port=srv.port)
    with pytest.raises(redis.AuthenticationError):
        r.get("x")
    assert redis.Redis(port=srv.port, password="s3cret").set("x", "1")
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(port=srv.port, password="wrong").ping()
