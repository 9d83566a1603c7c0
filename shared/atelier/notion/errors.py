"""Notion's failures, typed: every error the gateway raises is a `NotionError` with a `Failure` class.

Errors are classed by Notion's error code and HTTP status, never by message text:
- permanent: the request is wrong, so retrying cannot help;
- transient: it did not take effect, so it is safe to retry after a wait;
- ambiguous: it may have taken effect, so a write is checked before it is repeated.
"""

from __future__ import annotations

from enum import StrEnum

from atelier.kernel.errors import UpstreamFailed

PERMANENT_CODES = {
    "unauthorized",
    "restricted_resource",
    "object_not_found",
    "invalid_json",
    "invalid_request_url",
    "invalid_request",
    "validation_error",
    "missing_version",
}
TRANSIENT_CODES = {"rate_limited", "conflict_error", "service_unavailable"}
AMBIGUOUS_CODES = {"internal_server_error", "gateway_timeout", "notionhq_client_request_timeout"}


class Failure(StrEnum):
    permanent = "permanent"
    transient = "transient"
    ambiguous = "ambiguous"


class NotionError(UpstreamFailed):
    service = "notion"

    def __init__(
        self, message: str, *, code: str, status: int | None, failure: Failure, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.failure = failure
        self.retry_after = retry_after


class RetryLater(NotionError):
    """Waiting for Notion would run past the caller's deadline; the work should be retried later."""


def classify(status: int | None, code: str | None) -> Failure:
    if status in (429, 529) or code in TRANSIENT_CODES:
        return Failure.transient
    if code in AMBIGUOUS_CODES or (status is not None and status >= 500) or status is None:
        return Failure.ambiguous
    if code in PERMANENT_CODES or (status is not None and 400 <= status < 500):
        return Failure.permanent
    return Failure.ambiguous
