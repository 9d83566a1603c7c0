"""The HTTP edge: one table from exception type to status, and the JSON every refusal is answered with.

Domain code raises `atelier.kernel.errors` types and never names a status. Here, once:
- a `Refusal` is the caller's to fix: 400-422 with `{"error": code, "message": text, "fields": {...}}`;
- `DatabaseUnavailable` is the only 503, the one answer that means "retry later";
- a database refusal (an integrity violation, invalid data) is 409/422, since retrying the same request
  cannot succeed; a refusal that is our own bug (a grant, a missing function) is 500. Never 503.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from atelier.kernel.errors import (
    AtelierError,
    BodyTooLarge,
    Contradiction,
    DatabaseError,
    DatabaseUnavailable,
    IntegrityViolation,
    InvalidData,
    MalformedRequest,
    NotAuthenticated,
    NotPermitted,
    PermissionDenied,
    RateLimited,
    Refusal,
    RpcFunctionNotFound,
    UnknownRecord,
    UpstreamFailed,
    ValidationFailed,
    WrongMediaType,
)
from atelier.kernel.page import Page
from atelier.web.frame import html_response

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger, Metrics
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, CORSConfig

STATUS_BY_ERROR: dict[type[Exception], int] = {
    Refusal: 400,
    MalformedRequest: 400,
    NotAuthenticated: 401,
    NotPermitted: 403,
    UnknownRecord: 404,
    Contradiction: 409,
    BodyTooLarge: 413,
    WrongMediaType: 415,
    ValidationFailed: 422,
    RateLimited: 429,
    DatabaseError: 500,
    PermissionDenied: 500,  # our bug: a grant or policy we wrote refused our own call
    RpcFunctionNotFound: 500,  # our bug: the migrations are not applied
    IntegrityViolation: 409,
    InvalidData: 422,
    DatabaseUnavailable: 503,
    UpstreamFailed: 502,  # Notion failed or did not answer: the caller sends again later
}


def status_for(error: BaseException) -> int:
    """The status for an exception: its own type's, else its nearest base class's, else 500."""
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 500


@dataclass(frozen=True)
class Problem:
    """The JSON body of a refusal."""

    status: int
    code: str
    message: str
    fields: dict[str, str] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.code, "message": self.message}
        if self.fields:
            body["fields"] = self.fields
        return body

    def json(self) -> str:
        return json.dumps(self.body())


def problem_for(error: AtelierError, *, unavailable: str = "Database unavailable; retry later.") -> Problem:
    """What the caller is told. Database messages stay in the log: they name our tables and constraints."""
    status = status_for(error)
    if isinstance(error, Refusal):
        return Problem(status, error.code, error.message, error.fields)
    if status == 503:
        return Problem(status, "unavailable", unavailable)
    if status < 500:
        sqlstate = getattr(error, "sqlstate", None) or "-"
        return Problem(
            status,
            "refused_by_database",
            f"The data in this request cannot be stored as it is "
            f"(SQLSTATE {sqlstate}); sending it again unchanged will not help.",
        )
    return Problem(status, "internal_error", "Something went wrong on our side; it has been logged.")


def answer_problems(
    app: APIGatewayHttpResolver,
    logger: Logger,
    metrics: Metrics,
    *,
    refused: str,
    unavailable: str,
    retry_after: int | None = None,
    page: Callable[[Problem], Page | None] | None = None,
    deferred: str = "UpstreamDeferred",
    headers: dict[str, str] | None = None,
) -> None:
    """Register the answers every HTTP function gives on a Powertools resolver, by `STATUS_BY_ERROR`:
    - a `Refusal` as its JSON (or as the HTML `page` makes of it, where it makes one, with
      `headers`), with a metric and a log line;
    - a database failure: 503 with `unavailable` (and `Retry-After`, when given) only when the database is
      down; otherwise the mapped 4xx or 500, logged with its traceback and counted as `DatabaseRefused`;
    - an upstream failure (Notion): 502 `<service>_unavailable`, with `Retry-After`, counted as `deferred`.
    """
    from aws_lambda_powertools.event_handler import Response
    from aws_lambda_powertools.metrics import MetricUnit

    @app.exception_handler(Refusal)  # type: ignore[untyped-decorator]  # Powertools leaves it untyped
    def on_refusal(error: Refusal) -> Response[str]:
        problem = problem_for(error)
        metrics.add_metric(name=refused, unit=MetricUnit.Count, value=1)
        logger.warning(
            "refused",
            extra={
                "status": problem.status,
                "error": problem.code,
                "reason": problem.message,
                "fields": sorted(problem.fields),
            },
        )
        shown = page(problem) if page else None
        wait = {"Retry-After": str(error.retry_after)} if isinstance(error, RateLimited) else {}
        if shown is not None:
            return html_response(problem.status, shown, (headers or {}) | wait)
        return Response(problem.status, "application/json", problem.json(), headers=wait)

    @app.exception_handler(DatabaseError)  # type: ignore[untyped-decorator]
    def database_failed(error: DatabaseError) -> Response[str]:
        problem = problem_for(error, unavailable=unavailable)
        retryable = problem.status == 503
        logger.exception(
            "database call failed" if retryable else "database refused the call",
            extra={"status": problem.status, "sqlstate": error.sqlstate},
        )
        metric = "DatabaseUnavailable" if retryable else "DatabaseRefused"
        metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)
        later = {"Retry-After": str(retry_after)} if retry_after and retryable else {}
        return Response(problem.status, "application/json", problem.json(), headers=later)

    @app.exception_handler(UpstreamFailed)  # type: ignore[untyped-decorator]
    def upstream_failed(error: UpstreamFailed) -> Response[str]:
        problem = Problem(
            status_for(error),
            f"{error.service}_unavailable",
            f"{error.service.title()} did not answer; send the request again in a minute.",
        )
        logger.warning("upstream failed", extra={"service": error.service, "code": getattr(error, "code", None)})
        metrics.add_metric(name=deferred, unit=MetricUnit.Count, value=1)
        return Response(
            problem.status, "application/json", problem.json(), headers={"Retry-After": str(retry_after or 30)}
        )


def cors_for(origins: list[str], *, allow_headers: list[str]) -> CORSConfig | None:
    """CORS for the sites allowed to post from a browser, or None (same-origin only) when there are none."""
    from aws_lambda_powertools.event_handler import CORSConfig

    if not origins:
        return None
    return CORSConfig(allow_origin=origins[0], extra_origins=origins[1:], allow_headers=allow_headers)
