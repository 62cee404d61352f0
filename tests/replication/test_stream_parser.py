"""The replica's reader of the replication stream: exact byte positions for every command
(the replication offset counts them), however the bytes are cut into reads."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pykey.protocol.encoder import encode_command
from pykey.replication.replica import parse_commands


def test_multibulk_inline_and_incomplete():
    data = bytearray(encode_command([b"SET", b"k", b"v"]) + b"PING\r\n" + b"\n" + encode_command([b"GET", b"k"]))
    cmds, err = parse_commands(data, 0)
    assert err is None
    assert [argv for argv, _ in cmds] == [[b"SET", b"k", b"v"], [b"PING"], [], [b"GET", b"k"]]
    assert cmds[-1][1] == len(data)
    cut = data[:-3]                                    # the last command is not complete yet
    cmds, err = parse_commands(cut, 0)
    assert err is None and len(cmds) == 3 and cmds[-1][1] == len(data) - len(encode_command([b"GET", b"k"]))
    assert parse_commands(bytearray(b"*0\r\n"), 0) == ([([], 4)], None)


def test_protocol_errors_after_the_good_commands():
    good = encode_command([b"PING"])
    for bad, why in ((b"*x\r\n", "invalid mbulk count"), (b"*1\r\n+x\r\n", "expected '$', got '+'"),
                     (b"*1\r\n$-2\r\n", "invalid bulk length"), (b"*1\r\n$y\r\n", "invalid bulk length")):
        cmds, err = parse_commands(bytearray(good + bad), 0)
        assert [argv for argv, _ in cmds] == [[b"PING"]] and err == why
    cmds, err = parse_commands(bytearray(b"*1" + b"1" * 70000), 0)
    assert cmds == [] and err == "too big mbulk count string"


def test_a_large_value_is_read_once_complete():
    value = b"x" * 300_000
    data = bytearray(encode_command([b"SET", b"big", value]))
    assert parse_commands(data[:200_000], 0) == ([], None)
    cmds, err = parse_commands(data, 0)
    assert cmds == [([b"SET", b"big", value], len(data))] and err is None


@given(st.lists(st.lists(st.binary(max_size=40), min_size=1, max_size=5), min_size=1, max_size=20),
       st.lists(st.integers(min_value=1, max_value=64), min_size=1, max_size=50))
def test_any_cut_of_the_stream_gives_the_same_commands(commands, cuts):
    data = b"".join(encode_command(argv) for argv in commands)
    buf = bytearray()
    pos = 0
    got = []
    i = 0
    offset = 0
    while offset < len(data):
        step = cuts[i % len(cuts)]
        i += 1
        buf += data[offset:offset + step]
        offset += step
        cmds, err = parse_commands(buf, pos)
        assert err is None
        for argv, end in cmds:
            got.append((argv, end))
            pos = end
    assert [argv for argv, _ in got] == commands
    ends = []
    total = 0
    for argv in commands:
        total += len(encode_command(argv))
        ends.append(total)
    assert [end for _, end in got] == ends
