"""A small progress bar for long CLI work: redrawn in place on a terminal, a few plain lines otherwise."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, total: int | None, label: str, *, stream: TextIO | None = None, width: int = 30) -> None:
        self.total = total
        self.label = label
        self.done = 0
        self.width = width
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.started = time.monotonic()
        self._last_line = 0.0

    def advance(self, step: int = 1, note: str = "") -> None:
        self.done += step
        now = time.monotonic()
        finished = self.total is not None and self.done >= self.total
        if not self.tty and not finished and now - self._last_line < 2.0:
            return
        self._last_line = now
        self._draw(note)

    def _draw(self, note: str) -> None:
        if self.total:
            filled = int(self.width * min(self.done, self.total) / self.total)
            bar = f"[{'#' * filled}{'.' * (self.width - filled)}] {self.done}/{self.total}"
        else:
            bar = f"{self.done} done"
        line = f"{self.label} {bar} {note}".rstrip()
        if self.tty:
            self.stream.write(f"\r{line}\033[K")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def finish(self, summary: str = "") -> None:
        elapsed = time.monotonic() - self.started
        if self.tty:
            self.stream.write("\n")
        self.stream.write(f"{self.label} finished: {self.done} in {elapsed:.1f} s {summary}".rstrip() + "\n")
        self.stream.flush()
