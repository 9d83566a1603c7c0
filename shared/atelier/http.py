"""HTTP answers to bad input: one exception type that carries its status, a stable code and a fix.

Handlers raise `HttpProblem` from anywhere in parsing; the handler turns it into the JSON body
`{"error": code, "message": text, "fields": {name: text}}`, never a 500.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger, Metrics
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

MAX_BODY_BYTES = 16 * 1024


@dataclass
class HttpProblem(Exception):
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


def raw_body(body: str | None, is_base64: bool | None, *, limit: int = MAX_BODY_BYTES) -> bytes:
    """The request body as bytes, exactly as the client sent it, refusing what is too large."""
    if body is None:
        return b""
    if is_base64:
        # Base64 is 4/3 of the bytes; refuse early, before decoding something huge.
        if len(body) > (limit * 4) // 3 + 4:
            raise too_large(limit)
        try:
            data = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise HttpProblem(400, "invalid_body", "The body is marked base64 but is not valid base64.") from exc
    else:
        data = body.encode("utf-8")
    if len(data) > limit:
        raise too_large(limit)
    return data


def too_large(limit: int) -> HttpProblem:
    return HttpProblem(413, "payload_too_large", f"The body is larger than {limit // 1024} KB; send less.")


def media_type(content_type: str | None) -> str:
    """`application/json; charset=utf-8` -> `application/json`."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def header(headers: dict[str, str] | None, name: str) -> str | None:
    """A header by case-insensitive name (API Gateway v2 lower-cases them; tests and tools may not)."""
    wanted = name.lower()
    for key, value in (headers or {}).items():
        if key.lower() == wanted:
            return value
    return None


def answer_problems(app: APIGatewayHttpResolver, logger: Logger, metrics: Metrics, *, refused_metric: str | None,
                    unavailable: str, retry_after: int | None = None) -> None:  # fmt: skip
    """Register the answers every HTTP function gives on a Powertools resolver:
    - an `HttpProblem` as its JSON, with a metric and a log line (unless `refused_metric` is None: the
      function answers refusals itself);
    - a database failure as 503 with `unavailable` as the message (and `Retry-After`, when given), never a 500.
    """
    from aws_lambda_powertools.event_handler import Response
    from aws_lambda_powertools.metrics import MetricUnit

    from atelier.errors import DatabaseError

    if refused_metric is not None:

        @app.exception_handler(HttpProblem)  # type: ignore[untyped-decorator]  # Powertools leaves it untyped
        def refused(problem: HttpProblem) -> Response[str]:
            metrics.add_metric(name=refused_metric, unit=MetricUnit.Count, value=1)
            logger.warning("refused", extra={"status": problem.status, "error": problem.code,
                                             "reason": problem.message})  # fmt: skip
            return Response(problem.status, "application/json", problem.json())

    @app.exception_handler(DatabaseError)  # type: ignore[untyped-decorator]
    def database_down(error: DatabaseError) -> Response[str]:
        logger.exception("database call failed")
        metrics.add_metric(name="DatabaseUnavailable", unit=MetricUnit.Count, value=1)
        headers = {"Retry-After": str(retry_after)} if retry_after else {}
        return Response(503, "application/json", HttpProblem(503, "unavailable", unavailable).json(), headers=headers)
