"""What long work reports its progress to: the CLI draws it as a bar (`cli.progress`); a benchmark stays quiet."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class Meter(Protocol):
    def advance(self, step: int = 1, note: str = "") -> None: ...

    def finish(self, summary: str = "") -> None: ...


MeterFactory = Callable[[int], Meter]
"""Starts a meter for work of the given total."""
