"""lead_intake: `GET /intake` serves the form; `POST /leads` turns it into a routed, stored lead."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, CORSConfig, Response
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from atelier.checkout import checkout_from_settings
from atelier.db import rpc_from_settings
from atelier.http import HttpProblem, answer_problems, header, media_type, raw_body
from atelier.intake import FORM, IntakeService, parse_submission, read_fields
from atelier.intake_page import render_form, render_result
from atelier.settings import DatabaseSettings, IntakeSettings, load

HTML = "text/html; charset=utf-8"
JSON = "application/json"

settings = load(IntakeSettings)
logger = Logger()
metrics = Metrics()
# No Powertools Tracer here: it loads the X-Ray SDK and botocore, which more than doubles this
# function's cold start (bench/cold_start.py). Lambda's active tracing still traces each invocation.
_origins = settings.origins
app = APIGatewayHttpResolver(
    cors=CORSConfig(allow_origin=_origins[0], extra_origins=_origins[1:], allow_headers=["Idempotency-Key"])
    if _origins
    else None
)


@lru_cache(maxsize=1)
def intake_service() -> IntakeService:
    return IntakeService(rpc_from_settings(load(DatabaseSettings)), checkout_from_settings(settings))


def _wants_html() -> bool:
    event = app.current_event
    accept = header(event.headers, "accept") or ""
    return media_type(header(event.headers, "content-type")) == FORM and "text/html" in accept


@app.get("/intake")
def intake_form() -> Response[str]:
    metrics.add_metric(name="IntakeFormServed", unit=MetricUnit.Count, value=1)
    return Response(200, HTML, render_form(), headers={"Cache-Control": "no-store"})


@app.post("/leads")
def post_lead() -> Response[str]:
    event = app.current_event
    content_type = header(event.headers, "content-type")
    body = raw_body(event.body, event.is_base64_encoded)
    submission = parse_submission(
        body,
        content_type,
        idempotency_key=header(event.headers, "idempotency-key"),
        source_ip=event.request_context.http.source_ip,
    )
    service = intake_service()
    failures_before = service.checkout_failures
    result = service.submit(submission)
    metrics.add_metric(name="LeadReplayed" if result.replayed else "LeadReceived", unit=MetricUnit.Count, value=1)
    if service.checkout_failures > failures_before:
        metrics.add_metric(name="CheckoutUnavailable", unit=MetricUnit.Count, value=1)
    logger.info("lead answered", extra={"lead_id": result.lead_id, "tier": result.answer["tier"],
                                        "replayed": result.replayed})  # fmt: skip
    headers = {"Idempotent-Replayed": "true"} if result.replayed else {}
    if _wants_html():
        return Response(201, HTML, render_result(result.body()), headers=headers)
    return Response(201, JSON, json.dumps(result.body()), headers=headers)


@app.exception_handler(HttpProblem)
def bad_input(problem: HttpProblem) -> Response[str]:
    metrics.add_metric(name="LeadRefused", unit=MetricUnit.Count, value=1)
    logger.info("refused", extra={"status": problem.status, "error": problem.code, "fields": sorted(problem.fields)})
    if problem.status == 422 and _wants_html():
        values: dict[str, Any] = {}
        try:
            values = read_fields(raw_body(app.current_event.body, app.current_event.is_base64_encoded),
                                 header(app.current_event.headers, "content-type"))  # fmt: skip
        except HttpProblem:
            values = {}
        return Response(422, HTML, render_form(values, problem.fields))
    return Response(problem.status, JSON, problem.json())


answer_problems(
    app,
    logger,
    metrics,
    refused_metric=None,
    retry_after=60,
    unavailable="We could not save your request just now. Please try again in a minute.",
)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
