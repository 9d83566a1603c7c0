"""The one place Atelier's requests to Notion are sent: the budget taken before each, `Retry-After` honoured on
429 and 529, what is safe retried, never a sleep past the caller's deadline, and Notion's errors typed.
`notion_client` is imported here only, when a gateway is built."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from typing import Any

from atelier.notion.budget import PROCESS_BUDGET, RequestBudget
from atelier.notion.errors import Failure, NotionError, RetryLater, classify

NOTION_VERSION = "2025-09-03"
SINGLE_PART_UPLOAD_BYTES = 20 * 1024 * 1024


# Requests sent to Notion and those that failed, in this process since the last `notion_tally()`: every function
# that writes to Notion emits them, so that one alarm watches the share that failed across all of them.
TALLY = {"NotionRequests": 0, "NotionFailures": 0}


def notion_tally() -> dict[str, int]:
    """The counts since the last call, as metrics (then zero again)."""
    taken = dict(TALLY)
    TALLY.update(dict.fromkeys(TALLY, 0))
    return taken


class NotionTransport:
    def __init__(
        self,
        token: str,
        *,
        base_url: str | None = None,
        budget: RequestBudget | None = None,
        timeout_s: float = 30.0,
        max_attempts: int = 5,
        http_client: Any = None,
        patience: float = 0.0,
        on_wait: Callable[[float], None] | None = None,
    ) -> None:
        """`patience`: seconds a caller with no deadline of its own (the CLI) waits out Notion's rate limits (429,
        529) beyond `max_attempts`; `on_wait` hears each such wait (a progress line). A deadline still bounds it."""
        from notion_client import Client

        options: dict[str, Any] = {
            # notion_client's default logger adds a console handler per client; ours just propagates.
            "logger": logging.getLogger("atelier.notion.client"),
            # Its "request fail" warnings repeat what the gateway retries and counts (NotionRateLimited).
            "log_level": logging.ERROR,
            "auth": token,
            "notion_version": NOTION_VERSION,
            "retry": False,
            "timeout_ms": int(timeout_s * 1000),
        }
        if base_url:
            options["base_url"] = base_url.rstrip("/")
        if http_client is not None:
            options["client"] = http_client
        self._client = Client(**options)
        self.budget = budget or PROCESS_BUDGET
        self.timeout_s = timeout_s
        self.max_attempts = max_attempts
        self.patience = patience
        self._on_wait = on_wait
        self.calls = 0
        self.rate_limited = 0  # 429 and 529 answers, for the metric
        self._bot_id: str | None = None
        self._max_upload: int | None = None
        self._names: dict[str, str | None] = {}  # people's names by user id, asked once each

    # -- the one place requests are sent -------------------------------------------------------

    def _send(self, fn: Callable[[], Any], *, safe: bool, deadline: float | None) -> Any:
        """Send, retrying what is safe to retry. `safe`: repeating the request cannot duplicate anything."""
        from httpx import TransportError
        from notion_client.errors import HTTPResponseError, RequestTimeoutError

        attempt, waited = 0, 0.0
        while True:
            attempt += 1
            self.budget.acquire(deadline)
            self.calls += 1
            TALLY["NotionRequests"] += 1
            try:
                return fn()
            except (HTTPResponseError, RequestTimeoutError) as exc:
                error = self._error(exc)
            except (OSError, TransportError) as exc:  # connection refused or reset (httpx raises its own)
                error = NotionError(
                    f"cannot reach Notion: {exc}", code="connection", status=None, failure=Failure.ambiguous
                )
            TALLY["NotionFailures"] += 1  # whatever follows: the share of requests Notion failed is alarmed
            limited = error.status in (429, 529)
            if limited:
                self.rate_limited += 1
            if error.retry_after:
                self.budget.hold(error.retry_after)
            retryable = error.failure is Failure.transient or (error.failure is Failure.ambiguous and safe)
            wait = error.retry_after or min(8.0, 0.25 * 2 ** (attempt - 1)) * (0.5 + random.random() / 2)  # noqa: S311
            patient = limited and waited + wait <= self.patience  # Notion asked us to wait, not to give up
            if not retryable or (attempt >= self.max_attempts and not patient):
                raise error
            if deadline is not None and self.budget.clock() + wait > deadline:
                raise RetryLater(
                    f"Notion asked us to wait {wait:.1f} s, past the deadline",
                    code=error.code,
                    status=error.status,
                    failure=Failure.transient,
                    retry_after=wait,
                ) from error
            if limited and self._on_wait is not None:
                self._on_wait(wait)
            waited += wait
            self.budget.sleep(wait)

    @staticmethod
    def _error(exc: Exception) -> NotionError:
        from notion_client.errors import HTTPResponseError

        if isinstance(exc, HTTPResponseError):
            code = getattr(exc.code, "value", exc.code)
            retry_after = None
            raw = exc.headers.get("retry-after") if exc.headers else None
            if raw:
                try:
                    retry_after = float(raw)
                except ValueError:
                    retry_after = 1.0
            failure = classify(exc.status, str(code))
            return NotionError(
                f"Notion answered {exc.status} {code}: {exc}",
                code=str(code),
                status=exc.status,
                failure=failure,
                retry_after=retry_after,
            )
        return NotionError(
            "Notion did not answer in time",
            code="notionhq_client_request_timeout",
            status=None,
            failure=Failure.ambiguous,
        )
