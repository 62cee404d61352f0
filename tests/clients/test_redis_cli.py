"""redis-cli (the one the system has, Redis 7.0's on Debian) against pykey: every reply type
in --raw/--no-raw and RESP2/RESP3 (compared with redis-server's where it is installed), the
keyspace tools (--scan, --bigkeys, --memkeys, --hotkeys), mass insertion with --pipe, -x,
--eval, -r/-i, --rdb, --stat, --latency, inline commands over a pipe, and interactive mode."""
from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import time

import pytest
import redis
from clienttools import PASSWORD, tool


def cli(port: int, *args: str, stdin: bytes | None = None, timeout: float = 20, check: bool = True,
        ) -> subprocess.CompletedProcess:
    proc = subprocess.run([tool("redis-cli"), "-p", str(port), *args], input=stdin, capture_output=True,
                          timeout=timeout)
    if check:
        assert proc.returncode == 0, (args, proc.stdout, proc.stderr)
    return proc


def out(port: int, *args: str, stdin: bytes | None = None) -> str:
    return cli(port, *args, stdin=stdin).stdout.decode()


# ---------------------------------------------------------------------- reply formatting
_SCRIPT = [
    "SET s hello", "GET s", "GET nokey", "INCR n", "INCRBYFLOAT f 1.5", "RPUSH l a b c", "LRANGE l 0 -1",
    "LRANGE nokey 0 -1", "HSET h f1 v1 f2 v2", "HGETALL h", "HGETALL nokey", "SADD st x", "SMEMBERS st",
    "ZADD z 1 a 2.5 b", "ZRANGE z 0 -1 WITHSCORES", "ZSCORE z b", "ZSCORE z nokey", "XADD x 1-1 f v",
    "XRANGE x - +", "XREAD STREAMS x 0", "XREAD STREAMS nokey 0", "CONFIG GET maxmemory", "CONFIG GET nonexist",
    "PING", "ECHO 'a b'", "CLIENT GETNAME", "OBJECT ENCODING s", "LPOP nokey", "BLPOP nokey 0.01", "TYPE s",
    "DEBUG PROTOCOL string", "DEBUG PROTOCOL integer", "DEBUG PROTOCOL double",
    "DEBUG PROTOCOL null", "DEBUG PROTOCOL array", "DEBUG PROTOCOL set", "DEBUG PROTOCOL map",
    "DEBUG PROTOCOL push", "DEBUG PROTOCOL verbatim", "DEBUG PROTOCOL true",
    "DEBUG PROTOCOL false", "LPOS l b", "EXISTS s nokey", "GEOADD g 13.361389 38.115556 Palermo",
    "GEOPOS g Palermo nokey", "GEODIST g Palermo Palermo", "PFADD hll a", "PFCOUNT hll", "NOSUCHCOMMAND x",
    "GET l", "SET", "EVAL \"return {1,'a',{2},redis.status_reply('OK'),3.99}\" 0",
    "EVAL \"return redis.error_reply('MY err')\" 0", "SUBSTR s 0 1", "OBJECT FREQ s", "MULTI", "GET s",
]
# replies this redis-cli cannot read in RESP3 (it stops): each gets a run of its own
_ALONE = ["DEBUG PROTOCOL bignum", "DEBUG PROTOCOL attrib"]


@pytest.mark.parametrize("mode", [("--no-raw",), ("--raw",), ("-3", "--no-raw"), ("-3", "--raw"), ("--csv",)],
                         ids=["no-raw", "raw", "resp3-no-raw", "resp3-raw", "csv"])
def test_reply_formatting_matches_redis_server(pykey_server, reference_port, mode):
    """Each command's output, as redis-cli prints it, is the same from pykey and redis-server."""
    results = {}
    # one redis-cli run per server, the commands on stdin, each after an ECHO naming it
    script = "".join("ECHO '>> {}'\n{}\n".format(c.replace("'", ""), c) for c in _SCRIPT).encode()
    for port in (pykey_server.port, reference_port):
        redis.Redis(port=port).flushall()
        proc = cli(port, *mode, stdin=script, check=False)
        results[port] = (proc.stdout + proc.stderr).decode().splitlines()
        assert any(">> MULTI" in line for line in results[port])      # the whole script ran
        for command in _ALONE:
            proc = cli(port, *mode, *command.split(), check=False)
            results[port] += [f">> {command}", *(proc.stdout + proc.stderr).decode().splitlines()]
    if results[pykey_server.port] != results[reference_port]:
        import difflib
        diff = difflib.unified_diff(results[reference_port], results[pykey_server.port], "redis-server", "pykey",
                                    lineterm="")
        pytest.fail("\n".join(diff))


def test_reply_formatting_fixed(r, pykey_server):
    """The common shapes, fixed, for machines without redis-server."""
    p = pykey_server.port
    r.rpush("l", "a", "b")
    r.hset("h", "f", "v")
    assert out(p, "--no-raw", "LRANGE", "l", "0", "-1") == '1) "a"\n2) "b"\n'
    assert out(p, "--no-raw", "GET", "nokey") == "(nil)\n"
    assert out(p, "--no-raw", "INCR", "n") == "(integer) 1\n"
    assert out(p, "--no-raw", "LPUSH", "h", "x") == "(error) WRONGTYPE Operation against a key holding the wrong kind of value\n"
    assert out(p, "-3", "--no-raw", "HGETALL", "h") == '1# "f" => "v"\n'
    assert out(p, "-3", "--no-raw", "DEBUG", "PROTOCOL", "double") == "(double) 3.141\n"
    assert out(p, "-3", "--no-raw", "SMEMBERS", "nokey") == "(empty set)\n"
    assert out(p, "--raw", "LRANGE", "l", "0", "-1") == "a\nb\n"
    assert out(p, "--csv", "LRANGE", "l", "0", "-1") == '"a","b"\n'


def test_resp3_handshake(pykey_server):
    text = out(pykey_server.port, "-3", "--no-raw", "HELLO", "3")
    assert '1# "server" => "redis"' in text and '3# "proto" => (integer) 3' in text
    assert out(pykey_server.port, "-3", "CLIENT", "INFO").split(" resp=")[1].startswith("3")


# ---------------------------------------------------------------------- keyspace tools
def test_scan_with_pattern(r, pykey_server):
    r.mset({f"user:{i}": i for i in range(250)})
    r.mset({f"session:{i}": i for i in range(40)})
    keys = out(pykey_server.port, "--scan", "--pattern", "user:*").split()
    assert sorted(keys) == sorted(f"user:{i}" for i in range(250))
    assert len(out(pykey_server.port, "--scan").split()) == 290
    assert out(pykey_server.port, "--scan", "--pattern", "nomatch*") == ""


def _dataset(r: redis.Redis) -> None:
    r.mset({f"str:{i}": "x" * i for i in range(1, 51)})
    r.rpush("mylist", *range(30))
    r.hset("myhash", mapping={f"f{i}": i for i in range(7)})
    r.sadd("myset", *range(12))
    r.zadd("myzset", {f"m{i}": i for i in range(9)})
    r.xadd("mystream", {"f": "v"}, id="1-1")
    r.xadd("mystream", {"f": "v"}, id="1-2")


def test_bigkeys(r, pykey_server):
    _dataset(r)
    text = out(pykey_server.port, "--bigkeys")
    assert "Sampled 55 keys in the keyspace!" in text
    for line in ["Biggest   list found '\"mylist\"' has 30 items",
                 "Biggest   hash found '\"myhash\"' has 7 fields",
                 "Biggest string found '\"str:50\"' has 50 bytes",
                 "Biggest stream found '\"mystream\"' has 2 entries",
                 "Biggest    set found '\"myset\"' has 12 members",
                 "Biggest   zset found '\"myzset\"' has 9 members",
                 "50 strings with 1275 bytes (90.91% of keys, avg size 25.50)",
                 "1 lists with 30 items (01.82% of keys, avg size 30.00)"]:
        assert line in text, (line, text)


def test_memkeys(r, pykey_server):
    _dataset(r)
    text = out(pykey_server.port, "--memkeys")
    assert "Sampled 55 keys in the keyspace!" in text
    for kind, name in [("list", "mylist"), ("hash", "myhash"), ("set", "myset"), ("zset", "myzset"),
                       ("stream", "mystream")]:
        assert re.search(rf"Biggest +{kind} found '\"{name}\"' has \d+ bytes", text), (kind, text)
    assert re.search(r"50 strings with \d+ bytes \(90\.91% of keys", text)


def test_hotkeys_needs_an_lfu_policy(r, pykey_server):
    _dataset(r)
    proc = cli(pykey_server.port, "--hotkeys", check=False)
    assert proc.returncode == 1
    assert proc.stderr.decode() == (
        "Error: ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that "
        "when switching between policies at runtime LRU and LFU data will take some time to adjust.\n")
    r.config_set("maxmemory-policy", "allkeys-lfu")
    try:
        text = out(pykey_server.port, "--hotkeys")
        assert "Sampled 55 keys in the keyspace!" in text
        assert re.search(r"hot key found with counter: \d+\tkeyname: \"", text), text
    finally:
        r.config_set("maxmemory-policy", "noeviction")


# ---------------------------------------------------------------------- input modes
def _resp(*args: bytes) -> bytes:
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)


def test_pipe_mass_insertion(r, pykey_server):
    """--pipe writes the raw protocol, then ECHO with a random marker and waits for it."""
    data = b"".join(_resp(b"SET", b"key:%d" % i, b"value-%d" % i) for i in range(20000))
    data += _resp(b"RPUSH", b"list", b"\x00\r\n") + b"INCR counter\r\n"      # an inline command too
    proc = cli(pykey_server.port, "--pipe", stdin=data)
    assert proc.stdout.decode().endswith("errors: 0, replies: 20002\n"), proc.stdout
    assert r.dbsize() == 20002
    assert r.get("key:19999") == b"value-19999" and r.lrange("list", 0, -1) == [b"\x00\r\n"]
    proc = cli(pykey_server.port, "--pipe", stdin=_resp(b"SET", b"a", b"1") + _resp(b"LPUSH", b"a", b"x"),
               check=False)
    assert "errors: 1, replies: 2" in proc.stdout.decode()
    assert b"WRONGTYPE Operation against a key holding the wrong kind of value" in proc.stderr + proc.stdout


def test_x_reads_the_last_argument_from_stdin(r, pykey_server):
    payload = bytes(range(256)) * 4
    assert out(pykey_server.port, "-x", "SET", "blob", stdin=payload) == "OK\n"
    assert r.get("blob") == payload
    assert out(pykey_server.port, "-x", "HSET", "h", "f", stdin=b"multi\nline\n") == "1\n"
    assert r.hget("h", "f") == b"multi\nline\n"


def test_eval_from_file(r, pykey_server, tmp_path):
    if b"eval" not in r.command_list():
        pytest.skip("EVAL is not implemented yet")
    script = tmp_path / "s.lua"
    script.write_text("redis.call('SET', KEYS[1], ARGV[1])\nreturn {KEYS[1], KEYS[2], ARGV[1], #ARGV}\n")
    assert out(pykey_server.port, "--eval", str(script), "k1", "k2", ",", "a1", "a2") == "k1\nk2\na1\n2\n"
    assert r.get("k1") == b"a1"


def test_repeat_and_interval(r, pykey_server):
    assert out(pykey_server.port, "-r", "5", "-i", "0.01", "INCR", "c") == "1\n2\n3\n4\n5\n"
    assert r.get("c") == b"5"


def test_inline_commands_over_a_pipe(r, pykey_server):
    """redis-cli splits lines like its shell (quotes, escapes) and sends each as a command."""
    script = b'SET k1 "a b"\nSET k2 \'it\\\'s\'\nSET k3 "tab\\there\\x41"\nMGET k1 k2 k3\nSELECT 2\nSET k4 v\n'
    text = out(pykey_server.port, stdin=script)
    assert text == "OK\nOK\nOK\na b\nit's\ntab\thereA\nOK\nOK\n"
    assert r.get("k3") == b"tab\thereA" and redis.Redis(port=pykey_server.port, db=2).get("k4") == b"v"


def test_auth_url_and_database_options(auth_server):
    p = auth_server.port
    proc = cli(p, "PING", check=False)
    assert proc.stdout.strip() == b"NOAUTH Authentication required."
    assert out(p, "-a", PASSWORD, "--no-auth-warning", "-n", "5", "CLIENT", "INFO").count(" db=5 ") == 1
    assert out(p, "--no-auth-warning", "-u", f"redis://default:{PASSWORD}@127.0.0.1:{p}/3", "CLIENT", "INFO").count(" db=3 ") == 1
    proc = cli(p, "-a", "wrong", "--no-auth-warning", "PING", check=False)
    assert b"WRONGPASS invalid username-password pair or user is disabled." in proc.stdout + proc.stderr


# ---------------------------------------------------------------------- --rdb, --stat, --latency
def test_rdb_dump_loads_in_pykey(r, pykey_server, pykey_factory, tmp_path):
    """--rdb asks for a snapshot over SYNC (REPLCONF rdb-only) and writes it to a file; a
    server started on that file has the same data."""
    r.set("s", "v")
    r.rpush("l", 1, 2, 3)
    r.zadd("z", {"a": 1.5})
    r.hset("h", mapping={"f": "v"})
    r.set("ttl", "x", px=100_000)
    path = tmp_path / "dump.rdb"
    proc = cli(pykey_server.port, "--rdb", str(path))
    assert "Transfer finished with success" in proc.stderr.decode() + proc.stdout.decode()
    assert path.read_bytes().startswith(b"REDIS")
    srv = pykey_factory("--dir", str(tmp_path), "--dbfilename", "dump.rdb", "--enable-debug-command", "yes")
    c = redis.Redis(port=srv.port)
    assert c.execute_command("DEBUG", "RELOAD", "NOSAVE") == b"OK"      # load the file as it is
    assert c.get("s") == b"v" and c.lrange("l", 0, -1) == [b"1", b"2", b"3"]
    assert c.zscore("z", "a") == 1.5 and c.hgetall("h") == {b"f": b"v"}
    assert 0 < c.pttl("ttl") <= 100_000
    c.close()


def _tty_run(argv: list[str], enough, seconds: float = 10) -> str:
    """Run a tool with a terminal as stdout (so it flushes each line) until ``enough(text)``
    says so (or ``seconds`` pass), then stop it."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(argv, stdout=slave, stderr=slave, stdin=subprocess.DEVNULL)
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline and not enough(b"".join(chunks).decode(errors="replace")):
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                try:
                    chunks.append(os.read(master, 65536))
                except OSError:
                    break
    finally:
        proc.kill()
        proc.wait(5)
        os.close(master)
    return b"".join(chunks).decode(errors="replace")


def test_stat(r, pykey_server):
    r.mset({"a": 1, "b": 2, "c": 3})
    text = _tty_run([tool("redis-cli"), "-p", str(pykey_server.port), "--stat", "-i", "0.1"],
                    lambda t: t.count("\n") >= 4)
    lines = text.replace("\r", "").splitlines()
    assert lines[0].startswith("------- data ------ --------------------- load -------------------- - child -")
    assert lines[1].split() == ["keys", "mem", "clients", "blocked", "requests", "connections"]
    row = lines[2].split()
    assert row[0] == "3" and row[1].endswith(("K", "M", "G", "B")) and int(row[2]) >= 1 and row[3] == "0"


def test_latency(pykey_server):
    text = out(pykey_server.port, "--latency", "--raw", "-i", "0.1")
    low, high, avg, samples = text.split()
    assert int(low) >= 0 and int(high) >= int(low) and float(avg) >= 0 and int(samples) > 0


# ---------------------------------------------------------------------- interactive mode
def _interactive(port: int, keys: list[bytes]) -> list[str]:
    """Drive interactive redis-cli in a pseudo-terminal (answering its cursor queries) and
    return what the screen received after each keystroke group: until the next prompt for a
    line ending in Enter, for a short while otherwise (hints are drawn as you type)."""
    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child
        os.environ["TERM"] = "xterm"
        os.execv(tool("redis-cli"), ["redis-cli", "-p", str(port)])
    prompt = f"127.0.0.1:{port}> "
    screens = []

    def read(seconds: float, until_prompt: bool) -> str:
        data = b""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            ready, _, _ = select.select([fd], [], [], 0.02)
            if ready:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    break
                data += chunk
                for _ in range(chunk.count(b"\x1b[6n")):     # linenoise asks where the cursor is
                    os.write(fd, b"\x1b[1;80R")
                if until_prompt and data.decode(errors="replace").rstrip("\x1b[0K").endswith(prompt):
                    break
        return data.decode(errors="replace")

    try:
        read(5, True)
        for k in keys:
            os.write(fd, k)
            screens.append(read(5 if k.endswith(b"\r") else 0.3, k.endswith(b"\r")))
        os.write(fd, b"\x15quit\r")
        read(0.2, False)
    finally:
        try:
            os.kill(pid, 9)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)
        os.close(fd)
    return screens


def test_interactive_session(r, pykey_server):
    screens = _interactive(pykey_server.port, [b"set greeting 'hello world'\r", b"get greeting\r",
                                                b"help get\r"])
    assert "OK" in screens[0]
    assert '"hello world"' in screens[1]
    assert "summary:" in screens[2] and "GET" in screens[2]
    assert r.get("greeting") == b"hello world"


def test_interactive_hints_from_command_docs(pykey_server):
    screens = _interactive(pykey_server.port, [b"set "])
    assert "key value" in screens[0]
