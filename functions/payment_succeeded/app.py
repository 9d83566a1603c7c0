"""payment_succeeded: `POST /webhooks/stripe` verifies a Stripe event and applies it exactly once."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from atelier import wiring
from atelier.kernel.settings import PaymentSettings
from atelier.kernel.telemetry import emit
from atelier.payments.parse import parse_stripe_webhook
from atelier.payments.stripe_events import StripeOutcome
from atelier.web.http import answer_problems

wiring.settings(PaymentSettings)  # validated at cold start
# A logger of its own: where functions share a process (locally), their log keys never cross.
logger, metrics = Logger(service="atelier-payment_succeeded"), Metrics()
app = APIGatewayHttpResolver()


@app.post("/webhooks/stripe")
def stripe_webhook() -> Response[str]:
    stripe_event = parse_stripe_webhook(app.current_event, wiring.settings(PaymentSettings))
    applied = wiring.stripe_events().apply(stripe_event)
    emit(metrics, applied.metrics())
    log = logger.warning if applied.outcome is StripeOutcome.rejected else logger.info
    reason = applied.result.get("reason") or applied.held
    facts = {"type": applied.event_type, "outcome": applied.outcome, "project_id": applied.project_id}
    log("stripe event", extra={"event_id": stripe_event["id"], **facts, "reason": reason})
    return Response(200, "application/json", json.dumps({"received": True, "outcome": applied.outcome}))


# Not a 2xx when the database is down: Stripe retries for three days, and the event is applied when it is back.
# An event the database refuses is recorded as rejected (2xx) by the service: retrying it cannot succeed.
answer_problems(app, logger, metrics, refused="StripeEventRefused", unavailable="Database unavailable; retry later.")


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return wiring.serve(app, event, context)
