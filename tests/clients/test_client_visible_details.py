"""Details clients and tools see that the client-compatibility runs found wrong and that are
fixed in the foundation: hostile array headers, CLIENT LIST flags, MODULE."""
from __future__ import annotations

import pytest
import redis
from clienttools import wait_for

from pykey.protocol import reader as reader_mod
from pykey.protocol.parser import RequestParser
from pykey.protocol.reader import RequestReader


class _RecordingHiredis:
    """Stands in for the hiredis module: its readers record every byte they are fed."""

    def __init__(self, real) -> None:
        self.real = real
        self.fed: list[bytes] = []

    def Reader(self):  # noqa: N802 - the name hiredis uses
        real, fed = self.real.Reader(), self.fed

        class Proxy:
            def feed(self, data):
                fed.append(bytes(data))
                real.feed(data)

            def __getattr__(self, name):
                return getattr(real, name)

        return Proxy()


@pytest.mark.parametrize("chunks", [
    [b"*2147483647\r\n"],
    [b"*1\r\n$4\r\nPING\r\n*2000000\r\n$1\r\na\r\n"],
    [b"*1\r\n$4\r\nPING\r\n*21474", b"83647\r\n"],             # the header split between reads
    [b"*1\r\n$4\r\nPING\r\n", b"*", b"2147483647\r\n"],
    [b"*2\r\n*2147483647\r\n"],                                  # nested: Valkey's error
    [b"*1\r\n>2147483647\r\n"],
    [b"*1\r\n%2147483647\r\n"],
], ids=["first", "after-a-command", "split", "split-after-star", "nested", "push", "map"])
def test_huge_array_headers_never_reach_hiredis(monkeypatch, chunks):
    """hiredis allocates a whole list when it reads an array header, and freeing a reader that
    holds *2147483647 froze the event loop for seconds (16 GB of address space). Such headers
    go to the reference parser; the commands read are the same as its."""
    if reader_mod.hiredis is None:
        pytest.skip("hiredis is not installed")
    fake = _RecordingHiredis(reader_mod.hiredis)
    monkeypatch.setattr(reader_mod, "hiredis", fake)
    reader, reference = RequestReader(), RequestParser()
    got, want = [], []
    for chunk in chunks:
        got += reader.feed(chunk)
        want += reference.feed(chunk)
    assert (got, reader.error) == (want, reference.error)
    fed = b"".join(fake.fed)
    assert not any(len(line) > 7 and line[:1] in b"*>%" for line in fed.split(b"\r\n")), fed


def test_hostile_header_then_normal_traffic(pykey_server, raw_socket):
    s = raw_socket()
    s.sendall(b"*2147483647\r\n")
    s.close()
    assert redis.Redis(port=pykey_server.port).ping() is True


@pytest.fixture
def raw_socket(pykey_server):
    import socket
    opened = []

    def make():
        s = socket.create_connection(("127.0.0.1", pykey_server.port), timeout=5)
        opened.append(s)
        return s

    yield make
    for s in opened:
        s.close()


def _flags(c: redis.Redis) -> str:
    return c.client_info()["flags"]


def test_client_list_tracking_flags(pykey_server):
    bcast = redis.Redis(port=pykey_server.port, protocol=3)
    bcast.client_tracking_on(bcast=True)
    assert _flags(bcast) == "tB"
    target = redis.Redis(port=pykey_server.port, protocol=2, single_connection_client=True)
    target_id = target.client_id()
    tracked = redis.Redis(port=pykey_server.port, protocol=2, single_connection_client=True)
    tracked.client_tracking_on(clientid=target_id)
    tracked.get("watched-key")
    assert _flags(tracked) == "t"
    target.close()
    wait_for(lambda: all(int(c["id"]) != target_id for c in bcast.client_list()))
    bcast.set("watched-key", 1)            # the invalidation finds its redirect target gone
    wait_for(lambda: _flags(tracked) == "tR")
    for c in (bcast, tracked):
        c.close()


def test_module_commands(r, pykey_factory):
    assert r.module_list() == []
    assert r.execute_command("MODULE", "HELP")[1] == b"LIST"
    denied = ('MODULE command not allowed. If the enable-module-command option is set to "local", you can run '
              'it from a local connection, otherwise you need to set this option in the configuration file, '
              'and then restart the server.')
    for args in (("LOAD", "/lib/x.so"), ("LOADEX", "/lib/x.so"), ("UNLOAD", "x")):
        with pytest.raises(redis.ResponseError) as e:
            r.execute_command("MODULE", *args)
        assert str(e.value) == denied
    srv = pykey_factory("--enable-module-command", "yes")
    c = redis.Redis(port=srv.port)
    with pytest.raises(redis.ResponseError, match="^Error loading the extension. Please check the server logs.$"):
        c.execute_command("MODULE", "LOAD", "/lib/x.so")
    with pytest.raises(redis.ResponseError, match="^Error unloading module: no such module with that name$"):
        c.execute_command("MODULE", "UNLOAD", "x")
    c.close()



def test_listen_backlog_is_tcp_backlog(pykey_factory):
    """asyncio's create_server listens again with its own backlog (100): a burst of clients
    connecting at once (redis-benchmark -c 1000) then waits on SYN retries. The listening
    socket must keep Valkey's tcp-backlog."""
    import shutil
    import subprocess
    if shutil.which("ss") is None:
        pytest.skip("ss (iproute2) is not installed")
    srv = pykey_factory("--tcp-backlog", "300")
    lines = subprocess.run(["ss", "-ltnH", f"sport = :{srv.port}"], capture_output=True, text=True).stdout
    backlogs = {line.split()[2] for line in lines.splitlines() if line.strip()}
    somaxconn = int(open("/proc/sys/net/core/somaxconn").read())
    assert backlogs == {str(min(300, somaxconn))}, lines


def _server_with_fd_limit(tmp_path, soft: int, hard: int):
    """pykey-server in a process whose open-files limit is (soft, hard); returns it, its port
    and its log path once it accepts connections."""
    import resource
    import socket
    import subprocess
    import sys
    import time

    from pykey.testing.embedded import free_port
    port = free_port()
    logfile = tmp_path / f"pykey-{port}.log"

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))

    proc = subprocess.Popen([sys.executable, "-m", "pykey", "--port", str(port), "--bind", "127.0.0.1",
                             "--save", "", "--dir", str(tmp_path), "--logfile", str(logfile)],
                            preexec_fn=limit, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 15
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, port, logfile
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail(f"pykey-server did not start: {logfile.read_text() if logfile.exists() else ''}")
            time.sleep(0.05)


def _connect_many(port: int, n: int) -> list:
    import socket
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        socks.append(s)
    replies = []
    for s in socks:
        s.sendall(b"PING\r\n")
        replies.append(s.recv(100))
    for s in socks:
        s.close()
    return replies


def test_open_files_limit_is_raised_for_maxclients(tmp_path):
    """A soft limit of 128 descriptors: Valkey raises it to maxclients + 32 at startup, so
    200 clients are all served (before, accept() failed and 80-odd were dropped in silence)."""
    import resource
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 10032:
        pytest.skip(f"the hard open-files limit ({hard}) is below what the test needs")
    proc, port, logfile = _server_with_fd_limit(tmp_path, 128, hard)
    try:
        assert _connect_many(port, 200) == [b"+PONG\r\n"] * 200
        assert "Increased maximum number of open files to 10032 (it was originally set to 128)." \
            in logfile.read_text()
    finally:
        proc.terminate()
        proc.wait(10)


def test_maxclients_lowered_to_fit_the_limit(tmp_path):
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 200:
        pytest.skip("the open-files limit is below 200")
    proc, port, logfile = _server_with_fd_limit(tmp_path, 100, 100)
    try:
        assert redis.Redis(port=port).config_get("maxclients") == {"maxclients": "68"}
        replies = _connect_many(port, 70)
        assert replies.count(b"+PONG\r\n") == 68
        assert replies[-1] == b"-ERR max number of clients reached\r\n"
        log = logfile.read_text()
        assert "You requested maxclients of 10000 requiring at least 10032 max file descriptors." in log
        assert ("Current maximum open files is 100. maxclients has been reduced to 68 to compensate for low "
                "ulimit. If you need higher maxclients increase 'ulimit -n'.") in log
    finally:
        proc.terminate()
        proc.wait(10)
