"""What goes wrong on purpose: Notion's rate limit (429 with Retry-After) and injected faults: 5xx, timeouts,
and "commit then fail" (the write takes effect, the caller gets a 500)."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass
from typing import Any

from atelier_local.notion_emulator.state import ApiError


@dataclass
class Faults:
    rate_per_second: float = 3.0
    burst: float = 9.0
    error_rate: float = 0.0
    error_statuses: tuple[int, ...] = (500, 503, 529)
    timeout_rate: float = 0.0
    timeout_seconds: float = 35.0
    commit_then_fail_rate: float = 0.0
    retry_after: float = 1.0  # what an injected 429 or 529 asks for; benchmarks and tests scale time down
    max_query_results: int = 10_000  # past this a query stops and reports itself incomplete
    seed: int | None = None
    file_url_seconds: float = 3600.0  # a hosted file's URL expires after this, as Notion's do after an hour


class FaultInjector:
    """Decides, per request, whether it is rate limited, fails before it takes effect, or fails after."""

    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self._lock = threading.Lock()
        self._tokens = faults.burst
        self._refilled = time.monotonic()
        self._random = random.Random(faults.seed)  # noqa: S311 - fault injection, not security

    def configure(self, **changes: Any) -> None:
        with self._lock:
            for key, value in changes.items():
                if not hasattr(self.faults, key):
                    raise ApiError(400, "validation_error", f"unknown fault setting {key}")
                setattr(self.faults, key, tuple(value) if isinstance(value, list) else value)
            self._tokens = min(self._tokens, self.faults.burst)
            if "seed" in changes:
                self._random = random.Random(self.faults.seed)  # noqa: S311

    def admit(self) -> None:
        """Take one request from the bucket, or answer 429 with how long to wait."""
        with self._lock:
            now = time.monotonic()
            rate = self.faults.rate_per_second
            self._tokens = min(self.faults.burst, self._tokens + (now - self._refilled) * rate)
            self._refilled = now
            if self._tokens >= 1:
                self._tokens -= 1
                return
            wait = (1 - self._tokens) / rate
        raise ApiError(
            429,
            "rate_limited",
            "You have been rate limited. Please try again in a few minutes.",
            {"Retry-After": str(max(1, round(wait + 0.49))) if wait >= 1 else f"{wait:.3f}"},
        )

    def before(self, *, is_write: bool) -> bool:
        """Fail now (a timeout or an injected status), or return whether to fail after the write commits."""
        with self._lock:
            roll = self._random.random()
            error_rate, timeout_rate = self.faults.error_rate, self.faults.timeout_rate
            commit_rate = self.faults.commit_then_fail_rate if is_write else 0.0
        if roll < timeout_rate:
            time.sleep(self.faults.timeout_seconds)
            raise ApiError(504, "gateway_timeout", "Notion timed out.")
        if roll < timeout_rate + error_rate:
            status = self._random.choice(self.faults.error_statuses)
            code = {429: "rate_limited", 503: "service_unavailable", 529: "service_unavailable"}.get(
                status, "internal_server_error"
            )
            # As Notion answers them: a rate limit and an overload each say how long to wait.
            retry = {"Retry-After": f"{self.faults.retry_after:g}"} if status in (429, 529) else {}
            raise ApiError(status, code, "Injected fault.", retry)
        return roll < timeout_rate + error_rate + commit_rate

    @staticmethod
    def after_commit() -> ApiError:
        return ApiError(500, "internal_server_error", "Injected fault after the write took effect.")
