"""The replication backlog: the last ``repl-backlog-size`` bytes of the replication
stream, so that a replica that reconnects with ``PSYNC <replid> <offset>`` can continue
from where it stopped instead of loading a new snapshot (Valkey's repl_backlog).

Bytes are kept as a deque of the chunks fed to it; whole chunks leave from the front once
the rest still covers ``size`` bytes. Offsets are Valkey's: the first byte ever written
after the backlog was created has offset ``start``; ``first_offset`` is the offset of the
oldest byte still held.

Complexity: ``feed`` O(1) amortised; ``since`` O(chunks held).
"""
from __future__ import annotations

from collections import deque


class Backlog:
    __slots__ = ("size", "chunks", "histlen", "first_offset")

    def __init__(self, size: int, start: int) -> None:
        self.size = size
        self.chunks: deque[bytes] = deque()
        self.histlen = 0
        self.first_offset = start          # offset of chunks[0][0]

    def feed(self, data: bytes) -> None:
        self.chunks.append(data)
        self.histlen += len(data)
        self._trim()

    def resize(self, size: int) -> None:
        self.size = size
        self._trim()

    def _trim(self) -> None:
        chunks = self.chunks
        while chunks and self.histlen - len(chunks[0]) >= self.size:
            first = chunks.popleft()
            self.histlen -= len(first)
            self.first_offset += len(first)

    def covers(self, offset: int) -> bool:
        """True when the stream from ``offset`` on is still held (the end included)."""
        return self.first_offset <= offset <= self.first_offset + self.histlen

    def since(self, offset: int) -> bytes:
        """The stream from ``offset`` to the end; ``offset`` must be covered."""
        skip = offset - self.first_offset
        out = []
        for chunk in self.chunks:
            if skip >= len(chunk):
                skip -= len(chunk)
                continue
            out.append(chunk[skip:] if skip else chunk)
            skip = 0
        return b"".join(out)

    def _check(self) -> None:
        assert self.histlen == sum(map(len, self.chunks))
        assert not self.chunks or self.histlen - len(self.chunks[0]) < self.size
