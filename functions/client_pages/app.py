"""client_pages: where Stripe Checkout sends a client back. `GET /thanks?session_id=...` says what the payment led
to (and refreshes itself until the webhook has arrived); `GET /cancelled` says nothing was charged."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from atelier import wiring
from atelier.kernel.settings import MailSettings
from atelier.kernel.telemetry import count
from atelier.payments.pages import render_cancelled, render_thanks, valid_session_id
from atelier.web.frame import html_response
from atelier.web.http import answer_problems

NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}

wiring.settings(MailSettings)  # validated at cold start
logger, metrics = Logger(service="atelier-client_pages"), Metrics()
app = APIGatewayHttpResolver()


@app.get("/thanks")
def thanks() -> Response[str]:
    session_id = app.current_event.get_query_string_value("session_id")
    outcome = wiring.rpc().rpc("checkout_outcome", p_session_id=session_id) if valid_session_id(session_id) else {}
    status, page = render_thanks(outcome or {}, wiring.settings(MailSettings).studio_name)
    count(metrics, f"ThanksPage{str(outcome.get('state') or 'unknown').title()}")
    return html_response(status, page, NO_STORE)


@app.get("/cancelled")
def cancelled() -> Response[str]:
    count(metrics, "CancelledPage")
    return html_response(200, render_cancelled(wiring.settings(MailSettings).studio_name), NO_STORE)


answer_problems(
    app,
    logger,
    metrics,
    refused="ClientPageRefused",
    unavailable="We could not look up your payment just now. Please refresh in a minute.",
)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return wiring.serve(app, event, context)
