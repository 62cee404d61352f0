"""Request parsing: the pure-Python reference parser and the hiredis-backed reader must read
every byte stream as Valkey's processMultibulkBuffer/processInlineBuffer do, however the
stream is cut into reads."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pykey.protocol.parser import RequestParser, split_args
from pykey.protocol.reader import RequestReader


def encode(*argv: bytes) -> bytes:
    return b"*%d\r\n" % len(argv) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in argv)


def run(cls, chunks: list[bytes], **kw) -> tuple[list[list[bytes]], str | None]:
    """Feed the chunks one by one; stop at the first error, as a connection does."""
    p = cls(**kw)
    out: list[list[bytes]] = []
    for chunk in chunks:
        out += p.feed(chunk)
        if p.error is not None:
            break
    return out, p.error


def both(chunks: list[bytes], **kw) -> tuple[list[list[bytes]], str | None]:
    """Parse with both readers, check they agree and return the common answer."""
    a = run(RequestParser, chunks, **kw)
    b = run(RequestReader, chunks, **kw)
    assert a == b, (chunks, a, b)
    return a


PIPELINE = (encode(b"SET", b"k", b"v") + b"PING\r\n" + encode(b"GET", b"k")
            + b'ECHO "a b\\x41\\n"\r\n' + encode(b"SET", b"big", b"x" * 300)
            + b"*0\r\n*-1\r\n\r\n" + encode(b"DEL", b"", b"k\r\n") + b"  \r\n"
            + encode(b"INCR", b"n"))
PIPELINE_CMDS = [[b"SET", b"k", b"v"], [b"PING"], [b"GET", b"k"], [b"ECHO", b"a bA\n"],
                 [b"SET", b"big", b"x" * 300], [b"DEL", b"", b"k\r\n"], [b"INCR", b"n"]]


def test_pipeline_whole():
    assert both([PIPELINE]) == (PIPELINE_CMDS, None)


def test_pipeline_every_two_chunk_split():
    for i in range(1, len(PIPELINE)):
        assert both([PIPELINE[:i], PIPELINE[i:]]) == (PIPELINE_CMDS, None), i


def test_pipeline_byte_by_byte():
    assert both([PIPELINE[i:i + 1] for i in range(len(PIPELINE))]) == (PIPELINE_CMDS, None)


def test_reader_keeps_working_after_many_feeds():
    r = RequestReader()
    got = []
    for _ in range(50):
        got += r.feed(PIPELINE)
    assert got == PIPELINE_CMDS * 50 and r.error is None and r.pending_bytes == 0


argv_st = st.lists(st.binary(max_size=40), min_size=1, max_size=6)


@settings(max_examples=300, deadline=None)
@given(st.lists(argv_st, min_size=1, max_size=8), st.data())
def test_random_multibulk_random_chunks(cmds, data):
    stream = b"".join(encode(*c) for c in cmds)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=6)))
    pieces = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)]
    assert both([p for p in pieces if p]) == (cmds, None)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.text(alphabet="abc xyz\"'\\", max_size=12), max_size=4), max_size=5),
       st.integers(1, 7))
def test_random_inline_agrees(lines, step):
    stream = b"".join(" ".join(w).encode() + b"\r\n" for w in lines)
    chunks = [stream[i:i + step] for i in range(0, len(stream), step)]
    both(chunks)  # whatever the result, both readers give the same one


# --- inline commands ---------------------------------------------------------------------

@pytest.mark.parametrize("line,argv", [
    (b"PING", [b"PING"]),
    (b"  set  k   v  ", [b"set", b"k", b"v"]),
    (b'SET k "hello world"', [b"SET", b"k", b"hello world"]),
    (b"SET k 'it''", None),
    (b"SET k 'it\\'s'", [b"SET", b"k", b"it's"]),
    (b"SET k 'a\\nb'", [b"SET", b"k", b"a\\nb"]),         # no escapes in single quotes
    (b'SET k "\\x41\\x4a\\xZZ"', [b"SET", b"k", b"AJxZZ"]),
    (b'SET k "\\n\\r\\t\\b\\a\\"\\\\\\q"', [b"SET", b"k", b'\n\r\t\b\a"\\q']),
    (b'SET k "abc"def', None),                            # closing quote must end the word
    (b'SET k "abc', None),
    (b"SET k 'abc", None),
    (b'SET k ""', [b"SET", b"k", b""]),
    (b'a"b c"', [b'ab c']),                               # a quote may open mid-word
    (b"a\tb\x0bc", [b"a", b"b\x0bc"]),                   # \v separates only between words
    (b"a \x0b\x0cb", [b"a", b"b"]),
    (b"PING\x00 ignored", [b"PING"]),                    # C string: stops at NUL
    (b'"x"\x0b', [b"x"]),
    (b"", []),
])
def test_split_args(line, argv):
    assert split_args(line) == argv


@pytest.mark.parametrize("stream,cmds", [
    (b"PING\r\n", [[b"PING"]]),
    (b"PING\n", [[b"PING"]]),
    (b"\r\n\n  \r\nPING\r\n", [[b"PING"]]),
    (b"ECHO 'a b'\r\nECHO \"c\"\r\n", [[b"ECHO", b"a b"], [b"ECHO", b"c"]]),
    (b"PI\rNG\r\n", [[b"PI", b"NG"]]),
    (b"$-1\r\n", [[b"$-1"]]),                     # not a request type: inline text
    (b"_\r\n", [[b"_"]]),
    (b":1\r\n", [[b":1"]]),
    (b"+OK\r\n", [[b"+OK"]]),
    (b"~1\r\n$1\r\na\r\n", [[b"~1"], [b"$1"], [b"a"]]),
    (b"%1\r\n$1\r\na\r\n$1\r\nb\r\n", [[b"%1"], [b"$1"], [b"a"], [b"$1"], [b"b"]]),
    (encode(b"PING") + b"~1\r\n$1\r\na\r\n", [[b"PING"], [b"~1"], [b"$1"], [b"a"]]),
    (encode(b"PING") + b"$-1\r\n", [[b"PING"], [b"$-1"]]),
    (encode(b"PING") + b"PING\r\n", [[b"PING"], [b"PING"]]),
    (b"*0\r\n%1\r\n", [[b"%1"]]),                 # hiredis would wait for the map's items
    (encode(b"PING") + b"$3\r\n", [[b"PING"], [b"$3"]]),
    (b"%1\r\n*1\r\n$1\r\na\r\n$1\r\nb\r\n", [[b"%1"], [b"a"], [b"$1"], [b"b"]]),
])
def test_inline_streams(stream, cmds):
    assert both([stream]) == (cmds, None)
    assert both([stream[i:i + 1] for i in range(len(stream))]) == (cmds, None)


def test_inline_waits_for_newline():
    for cls in (RequestParser, RequestReader):
        p = cls()
        assert p.feed(b"PIN") == [] and p.error is None
        assert p.feed(b"G\r\n") == [[b"PING"]]


# --- protocol errors, with Valkey's texts ----------------------------------------------------

ERRORS = [
    (b"*abc\r\n", "invalid multibulk length"),
    (b"*1x\r\n", "invalid multibulk length"),
    (b"*\r\n", "invalid multibulk length"),
    (b"*01\r\n$1\r\na\r\n", "invalid multibulk length"),
    (b"*+1\r\n$1\r\na\r\n", "invalid multibulk length"),
    (b"*-0\r\n", "invalid multibulk length"),
    (b"*2147483648\r\n", "invalid multibulk length"),
    (b"*1\r\n$abc\r\n", "invalid bulk length"),
    (b"*1\r\n$-1\r\n", "invalid bulk length"),
    (b"*1\r\n$03\r\nabc\r\n", "invalid bulk length"),
    (b"*1\r\n$+3\r\nabc\r\n", "invalid bulk length"),
    (b"*1\r\n$2000000000\r\n", "invalid bulk length"),
    (b"*1\r\nfoo\r\n", "expected '$', got 'f'"),
    (b"*1\r\n:1\r\n", "expected '$', got ':'"),
    (b"*2\r\n$1\r\na\r\n_\r\n", "expected '$', got '_'"),
    (b"*1\r\n*1\r\n$1\r\na\r\n", "expected '$', got '*'"),
    (b"*1\r\n+OK\r\n", "expected '$', got '+'"),
    (b"*1\r\n=7\r\ntxt:abc\r\n", "expected '$', got '='"),
    (b"*1\r\n(12\r\n", "expected '$', got '('"),
    (b"*1\r\n,1.5\r\n", "expected '$', got ','"),
    (b"*1\r\n#t\r\n", "expected '$', got '#'"),
    (b"*1\r\n~1\r\n$1\r\na\r\n", "expected '$', got '~'"),
    (b"*1\r\n%1\r\n$1\r\na\r\n$1\r\nb\r\n", "expected '$', got '%'"),
    (b"*1\r\n>1\r\n$1\r\na\r\n", "expected '$', got '>'"),
    (b"*1\r\n-ERR x\r\n", "expected '$', got '-'"),
    (b"SET k \"abc\r\n", "unbalanced quotes in request"),
    (b"SET k 'a'b\r\n", "unbalanced quotes in request"),
    (b"x" * (64 * 1024 + 1), "too big inline request"),
    (b"*" + b"1" * (64 * 1024 + 1), "too big mbulk count string"),
    (b"*1\r\n$" + b"1" * (64 * 1024 + 1), "too big bulk count string"),
]


@pytest.mark.parametrize("stream,text", ERRORS)
def test_protocol_errors(stream, text):
    ok = encode(b"PING")
    for chunks in ([ok + stream], [ok, stream], [ok + stream[:3], stream[3:]]):
        assert both(chunks) == ([[b"PING"]], "Protocol error: " + text)


def test_error_is_final():
    for cls in (RequestParser, RequestReader):
        p = cls()
        p.feed(b"*x\r\n")
        assert p.feed(encode(b"PING")) == []
        assert p.error == "Protocol error: invalid multibulk length"


def test_huge_bulk_refused_at_header():
    """$2000000000 is refused the moment its header is complete, without waiting for data."""
    for cls in (RequestParser, RequestReader):
        p = cls()
        assert p.feed(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n") == []
        assert p.error is None
        assert p.feed(b"$2000000000\r\n") == []
        assert p.error == "Protocol error: invalid bulk length"


def test_huge_multibulk_count_refused_at_header():
    for cls in (RequestParser, RequestReader):
        p = cls()
        assert p.feed(encode(b"PING") + b"*3000000000\r\n") == [[b"PING"]]
        assert p.error == "Protocol error: invalid multibulk length"


def test_big_but_allowed_multibulk_count_waits():
    assert both([b"*2147483647\r\n$1\r\na\r\n"]) == ([], None)


def test_proto_max_bulk_len_is_honoured():
    kw = {"max_bulk_len": 10}
    assert both([encode(b"SET", b"k", b"x" * 10)], **kw) == ([[b"SET", b"k", b"x" * 10]], None)
    assert both([encode(b"SET", b"k", b"x" * 11)], **kw) == ([], "Protocol error: invalid bulk length")
    stream = encode(b"PING") + encode(b"SET", b"k", b"x" * 11)
    assert both([stream[:20], stream[20:]], **kw) == ([[b"PING"]], "Protocol error: invalid bulk length")


def test_unauthenticated_limits():
    for cls in (RequestParser, RequestReader):
        p = cls()
        p.unauthenticated = True
        assert p.feed(encode(*[b"a"] * 10)) == [[b"a"] * 10]
        p.feed(encode(*[b"a"] * 11))
        assert p.error == "Protocol error: unauthenticated multibulk length"
        p = cls()
        p.unauthenticated = True
        p.feed(b"*1\r\n$16385\r\n")
        assert p.error == "Protocol error: unauthenticated bulk length"


@pytest.mark.parametrize("stream,cmds", [
    (b"*0\r\n*-1\r\n*-7\r\n" + encode(b"PING"), [[b"PING"]]),   # empty and negative: skipped
    (b"*1\r\n$4\r\nPINGxy" + encode(b"ECHO", b"a"), [[b"PING"], [b"ECHO", b"a"]]),  # CRLF unchecked
    (b"*1\r\n$4\rXPING\r\n", [[b"PING"]]),                        # Valkey only looks for '\r'
    (encode(b"a\x00b", b"\x00"), [[b"a\x00b", b"\x00"]]),          # binary safe in bulks
])
def test_valkey_leniencies(stream, cmds):
    assert both([stream]) == (cmds, None)


def test_nul_before_newline_waits_like_valkey():
    """Valkey's strchr stops at NUL, so such a line never completes (until too big)."""
    assert both([b"PING\x00\r\n"]) == ([], None)
    assert both([b"*1\x00\r\n$4\r\nPING\r\n"]) == ([], None)


def test_pending_bytes_tracks_partial_request():
    r = RequestReader()
    r.feed(b"*2\r\n$3\r\nGET\r\n$10\r\nabc")
    assert r.pending_bytes > 0
    r.feed(b"defghij\r\n")
    assert r.pending_bytes == 0


FRAGMENTS = [b"*1\r\n", b"*2\r\n", b"*0\r\n", b"*-1\r\n", b"$1\r\na\r\n", b"$3\r\nfoo\r\n", b"$0\r\n\r\n",
             b"$-1\r\n", b"+OK\r\n", b":1\r\n", b"_\r\n", b"~1\r\n", b"%1\r\n", b">1\r\n", b"PING\r\n",
             b"\r\n", b"\n", b"\r", b"*", b"$", b"x", b" ", b"\"", b"'", b"\x00", b"$2\r\nab",
             b"\n+", b"(1\r\n", b"=5\r\ntxt:a\r\n", b"*1x\r\n", b"$1\rx"]


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=12), st.data())
def test_fuzz_fragments_agree(parts, data):
    """Any mixture of protocol fragments, cut anywhere: both readers agree exactly."""
    stream = b"".join(parts)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=5)))
    pieces = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)]
    both([p for p in pieces if p])
