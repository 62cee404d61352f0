"""Valkey's log line format: ``pid:role dd Mon yyyy HH:MM:SS.mmm <level> message``."""
from __future__ import annotations

import os
import sys
import time
from typing import TextIO

LEVELS = {"debug": 0, "verbose": 1, "notice": 2, "warning": 3, "nothing": 4}
MARKS = ".-*#"


class Log:
    def __init__(self, level: str = "notice", path: str = "") -> None:
        self.level = LEVELS[level]
        self.role = "M"
        self.path = path
        self.stream: TextIO = sys.stdout
        if path:
            self.stream = open(path, "a", buffering=1, encoding="utf-8")

    def set_level(self, level: str) -> None:
        self.level = LEVELS[level]

    def write(self, level: str, message: str) -> None:
        lv = LEVELS[level]
        if lv < self.level:
            return
        now = time.time()
        stamp = time.strftime("%d %b %Y %H:%M:%S", time.localtime(now)) + f".{int(now * 1000) % 1000:03d}"
        try:
            self.stream.write(f"{os.getpid()}:{self.role} {stamp} {MARKS[lv]} {message}\n")
            self.stream.flush()
        except (OSError, ValueError):
            pass

    def debug(self, m: str) -> None:
        self.write("debug", m)

    def verbose(self, m: str) -> None:
        self.write("verbose", m)

    def notice(self, m: str) -> None:
        self.write("notice", m)

    def warning(self, m: str) -> None:
        self.write("warning", m)


log = Log()
