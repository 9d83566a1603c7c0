"""payment_succeeded: `POST /webhooks/stripe` verifies a Stripe event and applies it exactly once."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from atelier import wiring
from atelier.kernel.body import header, raw_body
from atelier.kernel.settings import PaymentSettings, secret
from atelier.kernel.telemetry import count
from atelier.payments.stripe_events import MAX_EVENT_BYTES, StripeOutcome, verify
from atelier.web.http import answer_problems

METRIC_BY_OUTCOME = {
    StripeOutcome.applied: "StripeEventApplied",
    StripeOutcome.duplicate: "StripeEventDuplicate",
    StripeOutcome.ignored: "StripeEventIgnored",
    StripeOutcome.unhandled: "StripeEventUnhandled",
    StripeOutcome.rejected: "StripeEventRejected",  # alarmed: fix the cause, then `atelier stripe replay --rejected`
}

settings = wiring.settings(PaymentSettings)
# A logger of its own: where functions share a process (locally), their log keys never cross.
logger, metrics = Logger(service="atelier-payment_succeeded"), Metrics()
app = APIGatewayHttpResolver()


@app.post("/webhooks/stripe")
def stripe_webhook() -> Response[str]:
    event = app.current_event
    body = raw_body(event.body, event.is_base64_encoded, limit=MAX_EVENT_BYTES)
    signing_secret = secret(
        settings.stripe_webhook_secret, settings.stripe_webhook_secret_secret, "STRIPE_WEBHOOK_SECRET"
    )
    stripe_event = verify(
        body, header(event.headers, "stripe-signature"), signing_secret, tolerance=settings.stripe_signature_tolerance
    )
    applied = wiring.stripe_events().apply(stripe_event)
    count(metrics, METRIC_BY_OUTCOME[applied.outcome])
    count(metrics, "PaymentAmountMismatch", applied.amount_mismatch)
    count(metrics, "StripeLivemodeMismatch", applied.livemode_mismatch)
    count(metrics, "PaymentUnmatched", applied.unmatched)
    count(metrics, "PaymentHeld", applied.held is not None)  # alarmed: `atelier check` lists it with the reason
    # The dashboard's payments and revenue (in the smallest unit of the studio's currency).
    count(metrics, "ProjectPaid", applied.paid_cents > 0)
    count(metrics, "RevenueCents", applied.paid_cents)
    log = logger.warning if applied.outcome is StripeOutcome.rejected else logger.info
    reason = applied.result.get("reason") or applied.held
    log(
        "stripe event",
        extra={
            "event_id": stripe_event["id"],
            "type": applied.event_type,
            "outcome": applied.outcome,
            "project_id": applied.project_id,
            "reason": reason,
        },
    )
    return Response(200, "application/json", json.dumps({"received": True, "outcome": applied.outcome}))


# Not a 2xx when the database is down: Stripe retries for three days, and the event is applied when it is back.
# An event the database refuses is recorded as rejected (2xx) by the service: retrying it cannot succeed.
answer_problems(
    app, logger, metrics, refused_metric="StripeEventRefused", unavailable="Database unavailable; retry later."
)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
