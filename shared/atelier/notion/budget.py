"""Notion's request budget: a token bucket of about 3 requests/s, which `Retry-After` can hold shut.

Notion's limit is per integration, so the functions that call Notion (`notion_sync`, `project_created`,
`deliverable_uploaded`) share one bucket in Postgres (`SharedBudget`): each takes a few tokens per call to
`take_notion_tokens`, and a Retry-After from Notion holds every function back (`hold_notion`). Where no
database is at hand (`atelier notion setup`), a per-process bucket (`RequestBudget`) keeps to the limit alone.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from atelier.notion.errors import Failure, RetryLater

if TYPE_CHECKING:
    from atelier.kernel.rpc import Rpc

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
        """One token, waiting for it; RetryLater when it frees up only past the deadline."""
        while True:
            with self._lock:
                wait = self._take(self.clock())
            if wait <= 0:
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

    def _take(self, now: float) -> float:
        """Under the lock: take a token and return 0, or return the seconds until one frees up."""
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        wait = max(self.not_before - now, 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate)
        if wait <= 0:
            self.tokens -= 1
        return wait

    def hold(self, seconds: float) -> None:
        with self._lock:
            self.not_before = max(self.not_before, self.clock() + seconds)

    def set_rate(self, rate: float) -> None:
        with self._lock:
            self.rate = rate
            self.capacity = max(1.0, rate)


class SharedBudget(RequestBudget):
    """The deployment's one bucket, in Postgres. Tokens are taken `batch` at a time and expire locally after
    a second, so a function never sits on tokens another could use, and the whole stays within `rate`."""

    NAME = "notion"

    def __init__(
        self,
        rpc: Rpc,
        rate: float = DEFAULT_RATE,
        *,
        batch: int = 2,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(rate, clock=clock, sleep=sleep)
        self._rpc = rpc
        self._batch = batch
        self._local = 0
        self._taken_at = 0.0
        self.round_trips = 0  # calls to Postgres for tokens, for the benchmark

    def _take(self, now: float) -> float:
        if self._local and now - self._taken_at > 1.0:
            self._local = 0  # tokens are for now, not for later
        if self._local:
            self._local -= 1
            return 0.0
        wait = self.not_before - now
        if wait > 0:
            return wait
        self.round_trips += 1
        answer = self._rpc.rpc(
            "take_notion_tokens", p_name=self.NAME, p_want=self._batch, p_rate=self.rate, p_burst=self.capacity
        )
        granted = int(answer["granted"])
        if granted:
            self._local, self._taken_at = granted - 1, now
            return 0.0
        return max(float(answer["wait"]), 0.01)

    def hold(self, seconds: float) -> None:
        super().hold(seconds)
        self._rpc.rpc("hold_notion", p_name=self.NAME, p_seconds=seconds)


PROCESS_BUDGET = RequestBudget()
