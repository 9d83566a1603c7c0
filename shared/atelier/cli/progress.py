"""Progress for long CLI work, drawn by rich: a live bar on a terminal; elsewhere (CI, a pipe) only the summary
line at the end, so logs are not flooded."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO


class Progress:
    def __init__(self, total: int | None, label: str, *, stream: TextIO | None = None) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
        from rich.progress import Progress as Bars

        self.total = total
        self.label = label
        self.done = 0
        self.started = time.monotonic()
        self._console = Console(file=stream or sys.stderr, highlight=False)
        self._bars: Any = Bars(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[note]}"),
            console=self._console,
            transient=True,
            disable=not self._console.is_terminal,
        )
        self._task = self._bars.add_task(label, total=total, note="")
        self._bars.start()

    def advance(self, step: int = 1, note: str = "") -> None:
        self.done += step
        self._bars.update(self._task, advance=step, note=note)

    def finish(self, summary: str = "") -> None:
        self._bars.stop()
        elapsed = time.monotonic() - self.started
        line = f"{self.label} finished: {self.done} in {elapsed:.1f} s {summary}".rstrip()
        self._console.print(line, markup=False)
