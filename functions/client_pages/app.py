"""client_pages: where Checkout sends a client back (`/thanks`, `/cancelled`), and a quote's link (`/quote/{token}`)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from atelier import wiring
from atelier.kernel.settings import MailSettings
from atelier.kernel.telemetry import count
from atelier.payments.pages import render_cancelled, thanks_answer
from atelier.payments.quote_page import missing_page, quote_answer, renew_answer
from atelier.web.frame import PRIVATE, html_response
from atelier.web.http import answer_problems

wiring.settings(MailSettings)  # validated at cold start
logger, metrics = Logger(service="atelier-client_pages"), Metrics()
app = APIGatewayHttpResolver()


@app.get("/thanks")
def thanks() -> Response[str]:
    session_id = app.current_event.get_query_string_value("session_id")
    status, page, metric = thanks_answer(wiring.rpc(), session_id, wiring.settings(MailSettings).studio_name)
    count(metrics, metric)
    return html_response(status, page, PRIVATE)


@app.get("/cancelled")
def cancelled() -> Response[str]:
    count(metrics, "CancelledPage")
    return html_response(200, render_cancelled(wiring.settings(MailSettings).studio_name), PRIVATE)


@app.get("/quote/<token>")
def quote(token: str) -> Response[str]:
    again = app.current_event.get_query_string_value("again") == "1"  # a fresh page could not be opened just now
    status, page, metric = quote_answer(wiring.quote_desk(), token, wiring.settings(MailSettings).studio_name, again)
    count(metrics, metric)
    return html_response(status, page, PRIVATE)


@app.post("/quote/<token>/renew")
def renew_quote(token: str) -> Response[str]:
    location, metric = renew_answer(wiring.quote_desk(), token)
    count(metrics, metric)
    return Response(303, "text/plain", "", headers={"Location": location} | PRIVATE)


unavailable = "We could not look up your payment just now. Please refresh in a minute."
answer_problems(app, logger, metrics, refused="ClientPageRefused", unavailable=unavailable, page=missing_page)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return wiring.serve(app, event, context)
