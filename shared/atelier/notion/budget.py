"""Notion's request budget: a token bucket of about 3 requests/s, which `Retry-After` can hold shut.

The budget is per process. Notion's limit is per integration, so each function that calls Notion
(`notion_sync`, `project_created`, `deliverable_uploaded`) keeps to it alone, and together they can exceed it;
429s are then answered by waiting as Notion asks. Sharing one budget across the deployment is issue 14's work.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from atelier.notion.errors import Failure, RetryLater

DEFAULT_RATE = 3.0  # requests per second, per process


class RequestBudget:
    """A token bucket shared by every gateway in the process."""

    def __init__(
        self,
        rate: float = DEFAULT_RATE,
        burst: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate = rate
        self.capacity = burst if burst is not None else max(1.0, rate)
        self.tokens = self.capacity
        self.clock = clock
        self.sleep = sleep
        self.updated = clock()
        self.not_before = 0.0  # set by Retry-After: nobody sends before this
        self._lock = threading.Lock()

    def acquire(self, deadline: float | None) -> None:
        while True:
            with self._lock:
                now = self.clock()
                self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
                self.updated = now
                wait = max(self.not_before - now, 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate)
                if wait <= 0:
                    self.tokens -= 1
                    return
            if deadline is not None and self.clock() + wait > deadline:
                raise RetryLater(
                    f"Notion's request budget frees up in {wait:.1f} s, past the deadline",
                    code="deadline",
                    status=None,
                    failure=Failure.transient,
                    retry_after=wait,
                )
            self.sleep(wait)

    def hold(self, seconds: float) -> None:
        with self._lock:
            self.not_before = max(self.not_before, self.clock() + seconds)

    def set_rate(self, rate: float) -> None:
        with self._lock:
            self.rate = rate
            self.capacity = max(1.0, rate)


PROCESS_BUDGET = RequestBudget()
