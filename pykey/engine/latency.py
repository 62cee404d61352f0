"""Latency diagnostics: the latency monitor (LATENCY LATEST/HISTORY/GRAPH/DOCTOR) and the
per-command latency histograms (LATENCY HISTOGRAM, INFO latencystats).

The monitor keeps, per event name ("command", "fast-command", "expire-cycle", "fork",
"aof-write"...), the last 160 samples of operations that took at least
``latency-monitor-threshold`` milliseconds, one sample a second (several in the same second
keep the largest), as Valkey's latency.c does. Code that times an operation calls
:func:`start` and :func:`end` (no clock is read while the monitor is off) or
``Server.latency_add(event, ms)`` when it measured the time itself.

The per-command histograms reproduce Valkey's hdr_histogram (1 ns .. 1 s, two significant
digits) exactly, so LATENCY HISTOGRAM's buckets and INFO's percentiles are Valkey's numbers
for the same durations. The engine's call path pays one list increment a command:
``cmd.latency_usec[dt] += 1`` counts a duration of ``dt`` microseconds (below
:data:`EXACT_USEC`) in a slot of its own; a longer one raises IndexError and lands in
:func:`record_slow`, which counts it by its hdr bucket. The hdr buckets are computed from
those counts only when a report is asked for.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .registry import Command
    from .server import Server

_perf_ns = time.perf_counter_ns

TS_LEN = 160                 # samples kept per event (LATENCY_TS_LEN)
GRAPH_COLS = 80
EXACT_USEC = 1024            # durations below this (µs) are counted one slot per microsecond
NEVER = 1 << 62              # the threshold in µs while the monitor is off: no duration reaches it

# Valkey's hdr_histogram for command latencies: lowest 1 ns, highest 1 s, 2 significant
# digits. That is 256 sub-buckets (128 per half), 23 buckets, 3072 counters; below 256 ns a
# counter per nanosecond, above it each power of two split in 128 equal parts (< 0.8% wide).
_HDR_MAX = 1_000_000_000
_HALF_MAG = 7
_HALF = 1 << _HALF_MAG


# ---------------------------------------------------------------------- hdr arithmetic
def hdr_index(v: int) -> int:
    """counts_index_for: the counter a value (ns) falls in."""
    bucket = (v | 255).bit_length() - 8
    return ((bucket + 1) << _HALF_MAG) + (v >> bucket) - _HALF


def hdr_value_at_index(i: int) -> int:
    """The lowest value (ns) that counter ``i`` holds."""
    bucket = (i >> _HALF_MAG) - 1
    sub = (i & (_HALF - 1)) + _HALF
    if bucket < 0:
        sub -= _HALF
        bucket = 0
    return sub << bucket


def hdr_highest_equivalent(v: int) -> int:
    """The highest value (ns) counted together with ``v``."""
    bucket = (v | 255).bit_length() - 8
    return ((v >> bucket) << bucket) + (1 << bucket) - 1


def _usec_index(dt: int) -> int:
    """The counter Valkey records a command of ``dt`` µs in (durations clamped to 1 ns .. 1 s)."""
    ns = dt * 1000
    return hdr_index(1 if ns < 1 else _HDR_MAX if ns > _HDR_MAX else ns)


_INDEX_OF_USEC = [_usec_index(dt) for dt in range(EXACT_USEC)]


# ---------------------------------------------------------------------- per-command histograms
def record_slow(cmd: Command, dt: int) -> None:
    """The rare path of the call-path increment: the first call since a reset (no slots
    yet) or a duration of EXACT_USEC µs or more (counted by hdr bucket)."""
    if not cmd.latency_usec:
        cmd.latency_usec = [0] * EXACT_USEC
    if 0 <= dt < EXACT_USEC:
        cmd.latency_usec[dt] += 1
        return
    slow = cmd.latency_slow
    if slow is None:
        slow = cmd.latency_slow = {}
    i = _usec_index(max(dt, 0))
    slow[i] = slow.get(i, 0) + 1


def record(cmd: Command, dt: int) -> None:
    """Count one call of ``cmd`` that took ``dt`` µs (what the call path does inline)."""
    try:
        cmd.latency_usec[dt] += 1
    except IndexError:
        record_slow(cmd, dt)


def reset(cmd: Command) -> None:
    """CONFIG RESETSTAT: the histogram goes away until the next call."""
    cmd.latency_usec = ()
    cmd.latency_slow = None


def _hdr_counts(cmd: Command) -> list[tuple[int, int]]:
    """(hdr counter index, count) pairs in ascending order, empty counters left out."""
    merged: dict[int, int] = dict(cmd.latency_slow or {})
    for dt, n in enumerate(cmd.latency_usec):
        if n:
            i = _INDEX_OF_USEC[dt]
            merged[i] = merged.get(i, 0) + n
    return sorted(merged.items())


def has_histogram(cmd: Command) -> bool:
    return bool(cmd.latency_slow) or any(cmd.latency_usec)


def cumulative(cmd: Command) -> tuple[int, dict[int, int]]:
    """(calls, {bucket upper bound in µs: calls at most that long}) as LATENCY HISTOGRAM
    shows them: Valkey iterates the hdr counters in powers of two from 1024 ns and reports
    each step's highest equivalent value in µs (1, 2, 4, 8, 16, 33, 66, 132...) when the
    cumulative count grew."""
    counts = _hdr_counts(cmd)
    total = sum(n for _, n in counts)
    out: dict[int, int] = {}
    prev = seen = pos = 0
    level = 1024
    while level <= 1 << 29 and prev < total:
        last = hdr_index(level)
        while pos < len(counts) and counts[pos][0] <= last:
            seen += counts[pos][1]
            pos += 1
        if seen > prev:
            out[hdr_highest_equivalent(level) // 1000] = seen
        prev = seen
        level <<= 1
    if prev < total:              # past the last power of two: the iterator ends at the top counter
        out[hdr_highest_equivalent(hdr_value_at_index(3071)) // 1000] = total
    return total, out


def percentile_usec(cmd: Command, percentile: float) -> float:
    """hdr_value_at_percentile in µs: the highest value equivalent to the counter that holds
    the requested rank (the lowest one for the 0th percentile). Exact as Valkey's, since the
    counters are the same: two significant digits of the duration in nanoseconds."""
    counts = _hdr_counts(cmd)
    total = sum(n for _, n in counts)
    want = int(min(percentile, 100.0) / 100 * total + 0.5)
    want = max(want, 1)
    seen = 0
    for i, n in counts:
        seen += n
        if seen >= want:
            v = hdr_value_at_index(i)
            return (v if percentile == 0.0 else hdr_highest_equivalent(v)) / 1000.0
    return 0.0


def format_percentile(p: float) -> str:
    """'%f' with the trailing zeros (and dot) trimmed, as Valkey's trimDoubleString."""
    text = f"{p:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def info_line(name: str, cmd: Command, percentiles: list[float]) -> str:
    """One INFO latencystats line: latency_percentiles_usec_<cmd>:p50=1.003,p99=...,p99.9=..."""
    parts = [f"p{format_percentile(p)}={percentile_usec(cmd, p):.3f}" for p in percentiles]
    return f"latency_percentiles_usec_{name}:" + ",".join(parts) + "\r\n"


# ---------------------------------------------------------------------- the latency monitor
class TimeSeries:
    """One event's samples: a ring of TS_LEN (time, ms) pairs (time 0: an empty slot) and
    the largest latency seen since the last reset."""

    __slots__ = ("idx", "max", "times", "values")

    def __init__(self) -> None:
        self.idx = 0
        self.max = 0
        self.times = [0] * TS_LEN
        self.values = [0] * TS_LEN

    def add(self, now: int, ms: int) -> None:
        """latencyAddSample: one sample a second, the largest of that second."""
        if ms > self.max:
            self.max = ms
        prev = (self.idx + TS_LEN - 1) % TS_LEN
        if self.times[prev] == now:
            if ms > self.values[prev]:
                self.values[prev] = ms
            return
        self.times[self.idx] = now
        self.values[self.idx] = ms
        self.idx = (self.idx + 1) % TS_LEN

    def samples(self) -> list[tuple[int, int]]:
        """(time, ms) from the oldest to the newest."""
        out = []
        for j in range(TS_LEN):
            i = (self.idx + j) % TS_LEN
            if self.times[i]:
                out.append((self.times[i], self.values[i]))
        return out

    def latest(self) -> tuple[int, int]:
        last = (self.idx + TS_LEN - 1) % TS_LEN
        return self.times[last], self.values[last]

    def check(self) -> None:
        """Invariants: the ring's size, one sample per second, the max above every sample."""
        assert len(self.times) == len(self.values) == TS_LEN and 0 <= self.idx < TS_LEN
        seen = [t for t, _ in self.samples()]
        assert len(seen) == len(set(seen))
        assert all(v <= self.max for v in self.values)


class LatencyMonitor:
    """The events and the configuration the call path reads (as plain server attributes:
    ``latency_monitor_us``, the threshold in µs or NEVER, ``dt_notable`` and
    ``latency_tracking``)."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.events: dict[str, TimeSeries] = {}
        self.fork_rate = 0.0                 # GB/s of the last fork (LATENCY DOCTOR)
        cfg = server.config
        self._threshold(0, cfg["latency-monitor-threshold"])
        server.latency_tracking = cfg["latency-tracking"]
        cfg.watch("latency-monitor-threshold", self._threshold)
        cfg.watch("slowlog-log-slower-than", lambda old, new: self._notable())
        cfg.watch("latency-tracking", lambda old, new: setattr(server, "latency_tracking", new))

    def _threshold(self, old: int, new: int) -> None:
        self.server.latency_monitor_ms = new
        self.server.latency_monitor_us = new * 1000 if new else NEVER
        self._notable()

    def _notable(self) -> None:
        """``dt_notable``: the shortest duration (µs) the slow log or the monitor records, so
        the call path compares a command's duration once with both."""
        server = self.server
        slow = server.config["slowlog-log-slower-than"]
        server.dt_notable = min(slow if slow >= 0 else NEVER, server.latency_monitor_us)

    def now(self) -> int:
        """Unix seconds, as time(NULL) (tests may move the server's clock forward)."""
        return (time.time_ns() // 1_000_000 + self.server.clock_offset_ms) // 1000

    def add_sample(self, event: str, ms: int) -> None:
        ts = self.events.get(event)
        if ts is None:
            ts = self.events[event] = TimeSeries()
        ts.add(self.now(), ms)

    def reset(self, names: list[bytes] | None = None) -> int:
        """LATENCY RESET: the named events (case-insensitive) or all of them; how many went."""
        if names is None:
            n = len(self.events)
            self.events.clear()
            return n
        gone = 0
        for name in names:
            low = name.decode("utf-8", "surrogateescape").lower()
            for event in [e for e in self.events if e.lower() == low]:
                del self.events[event]
                gone += 1
        return gone

    def graph(self, event: str) -> str:
        """LATENCY GRAPH: a header, a rule and Valkey's sparkline of the samples, labelled
        with how long ago each was taken."""
        ts = self.events[event]
        now = self.now()
        values: list[tuple[float, str]] = []
        for t, ms in ts.samples():
            elapsed = now - t
            if elapsed < 60:
                label = f"{elapsed}s"
            elif elapsed < 3600:
                label = f"{elapsed // 60}m"
            elif elapsed < 86400:
                label = f"{elapsed // 3600}h"
            else:
                label = f"{elapsed // 86400}d"
            values.append((ms, label))
        lo = min((v for v, _ in values), default=0)
        hi = max((v for v, _ in values), default=0)
        head = f"{event} - high {hi} ms, low {lo} ms (all time high {ts.max} ms)\n" + "-" * GRAPH_COLS + "\n"
        return head + sparkline(values, GRAPH_COLS, 4)

    def analyze(self, event: str) -> dict[str, int]:
        """analyzeLatencyForEvent: sample count, average, min, max, mean absolute deviation
        and the seconds since the oldest sample."""
        ts = self.events[event]
        samples = ts.samples()
        out = {"samples": len(samples), "avg": 0, "min": 0, "max": 0, "mad": 0, "period": 0}
        if not samples:
            return out
        values = [ms for _, ms in samples]
        avg = sum(values) // len(values)
        period = self.now() - min(t for t, _ in samples)
        out.update(avg=avg, min=min(values), max=max(values), period=period or 1,
                   mad=sum(abs(avg - v) for v in values) // len(values))
        return out


# ---------------------------------------------------------------------- timing helpers
def start(server: Server) -> int:
    """A start time for :func:`end`; 0 (and no clock read) while the monitor is off."""
    return _perf_ns() if server.latency_monitor_ms else 0


def end(server: Server, event: str, t0: int) -> None:
    """latencyEndMonitor + latencyAddSampleIfNeeded for an operation started at ``t0``."""
    if t0:
        server.latency_add(event, (_perf_ns() - t0) // 1_000_000)


def elapsed_ms(t0: int) -> int:
    """Milliseconds since ``t0`` (from :func:`start`), for an operation feeding several events."""
    return (_perf_ns() - t0) // 1_000_000


def command_event(server: Server, cmd: Command, usec: int) -> None:
    """A command that ran past the threshold: "fast-command" for commands flagged fast."""
    server.latency.add_sample("fast-command" if "fast" in cmd.flags else "command", usec // 1000)


# ---------------------------------------------------------------------- sparklines
_CHARSET = "_-`"
_CHARSET_FILL = "_o#"


def sparkline(samples: list[tuple[float, str | None]], columns: int, rows: int, fill: bool = True) -> str:
    """Valkey's sparklineRender: ``rows`` lines of characters per 80 samples (three levels
    a line, the area under the curve filled with '|'), each sample's label written
    downwards under it after one blank line."""
    if not samples:
        return ""
    lo = hi = samples[0][0]
    for v, _ in samples[1:]:
        if v < lo:
            lo = v
        elif v > hi:
            hi = v
    labelled = any(label for _, label in samples)
    out = []
    for start_at in range(0, len(samples), columns):
        if start_at:
            out.append("\n")
        out.append(_render_range(samples[start_at:start_at + columns], lo, hi, rows, labelled, fill))
    return "".join(out)


def _render_range(part: list[tuple[float, str | None]], lo: float, hi: float, rows: int,
                  labelled: bool, fill: bool) -> str:
    n = len(_CHARSET)
    steps = n * rows
    relmax = (hi - lo) or 1
    chars_set = _CHARSET_FILL if fill else _CHARSET
    lines = []
    row = 0
    while True:
        more = False
        chars = [" "] * len(part)
        for j, (value, label) in enumerate(part):
            step = int(int((value - lo) * steps) / relmax)
            step = min(max(step, 0), steps - 1)
            if row < rows:
                more = True
                idx = step - (rows - row - 1) * n
                if 0 <= idx < n:
                    chars[j] = chars_set[idx]
                elif fill and idx >= n:
                    chars[j] = "|"
            else:
                if labelled and row - rows < 1:      # one blank line above the labels
                    more = True
                    break
                at = row - rows - 1
                if label and len(label) > at:
                    more = True
                    chars[j] = label[at]
        if not more:
            break
        row += 1
        lines.append("".join(chars) + "\n")
    return "".join(lines)


def histogram_reply(cmd: Command) -> dict[bytes, Any]:
    """One command's LATENCY HISTOGRAM entry: {calls, histogram_usec: {µs: cumulative}}."""
    total, buckets = cumulative(cmd)
    return {b"calls": total, b"histogram_usec": buckets}
