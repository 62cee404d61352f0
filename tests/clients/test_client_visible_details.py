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
