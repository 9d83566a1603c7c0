"""lead_intake: `GET /intake` serves the form; `POST /leads` turns it into a routed, stored lead."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from atelier import wiring
from atelier.intake.form import parse_event, posted_fields, wants_html
from atelier.intake.page import render_form, render_result
from atelier.kernel.page import Page
from atelier.kernel.settings import IntakeSettings
from atelier.kernel.telemetry import count, emit
from atelier.web.frame import html_response
from atelier.web.http import Problem, answer_problems, cors_for

# A logger of its own: where functions share a process (locally), their log keys never cross.
logger, metrics = Logger(service="atelier-lead_intake"), Metrics()
# No Powertools Tracer: it loads the X-Ray SDK and botocore, more than doubling the cold start (bench/cold_start.py).
origins = wiring.settings(IntakeSettings).origins
app = APIGatewayHttpResolver(cors=cors_for(origins, allow_headers=["Idempotency-Key"]))


@app.get("/intake")
def intake_form() -> Response[str]:
    count(metrics, "IntakeFormServed")
    return html_response(200, render_form(), {"Cache-Control": "no-store"})


@app.post("/leads")
def post_lead() -> Response[str]:
    result = wiring.intake_service().submit(parse_event(app.current_event))
    emit(metrics, result.metrics())
    logger.info("lead answered", extra=result.facts())
    headers = {"Idempotent-Replayed": "true"} if result.replayed else {}
    if wants_html(app.current_event):
        return html_response(201, render_result(result.body()), headers)
    return Response(201, "application/json", json.dumps(result.body()), headers=headers)


def form_again(problem: Problem) -> Page | None:
    """A browser without JavaScript gets the form back, with what it typed and each field's problem."""
    event = app.current_event
    if problem.status != 422 or not wants_html(event):
        return None
    return render_form(posted_fields(event), problem.fields)


unavailable = "We could not save your request just now. Please try again in a minute."
answer_problems(app, logger, metrics, refused="LeadRefused", page=form_again, unavailable=unavailable, retry_after=60)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return wiring.serve(app, event, context)
