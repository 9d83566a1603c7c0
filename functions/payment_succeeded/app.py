"""payment_succeeded: `POST /webhooks/stripe` verifies a Stripe event and applies it exactly once."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from atelier.db import rpc_from_settings
from atelier.http import answer_problems, header, raw_body
from atelier.settings import DatabaseSettings, PaymentSettings, load, secret
from atelier.stripe_events import MAX_EVENT_BYTES, StripeEventService, verify

JSON = "application/json"

settings = load(PaymentSettings)
logger = Logger()
metrics = Metrics()
app = APIGatewayHttpResolver()

METRIC_BY_OUTCOME = {
    "applied": "StripeEventApplied",
    "duplicate": "StripeEventDuplicate",
    "ignored": "StripeEventIgnored",
    "unhandled": "StripeEventUnhandled",
}


@lru_cache(maxsize=1)
def webhook_secret() -> str:
    return secret(settings.stripe_webhook_secret, settings.stripe_webhook_secret_secret, "STRIPE_WEBHOOK_SECRET")


@lru_cache(maxsize=1)
def stripe_events() -> StripeEventService:
    return StripeEventService(rpc_from_settings(load(DatabaseSettings)), livemode=settings.stripe_livemode)


@app.post("/webhooks/stripe")
def stripe_webhook() -> Response[str]:
    event = app.current_event
    body = raw_body(event.body, event.is_base64_encoded, limit=MAX_EVENT_BYTES)
    stripe_event = verify(body, header(event.headers, "stripe-signature"), webhook_secret(),
                          tolerance=settings.stripe_signature_tolerance)  # fmt: skip
    applied = stripe_events().apply(stripe_event)
    metrics.add_metric(name=METRIC_BY_OUTCOME.get(applied.outcome, "StripeEventApplied"), unit=MetricUnit.Count,
                       value=1)  # fmt: skip
    if applied.result.get("amount_mismatch"):
        metrics.add_metric(name="PaymentAmountMismatch", unit=MetricUnit.Count, value=1)
    if str(applied.result.get("reason", "")).startswith("livemode"):
        metrics.add_metric(name="StripeLivemodeMismatch", unit=MetricUnit.Count, value=1)
    if applied.result.get("unmatched"):
        metrics.add_metric(name="PaymentUnmatched", unit=MetricUnit.Count, value=1)
    logger.info(
        "stripe event",
        extra={"event_id": stripe_event["id"], "type": applied.event_type, "outcome": applied.outcome,
               "project_id": applied.result.get("project_id")},
    )  # fmt: skip
    return Response(200, JSON, json.dumps({"received": True, "outcome": applied.outcome}))


# Not a 2xx when the database is down: Stripe retries for three days, and the event is applied when it is back.
answer_problems(
    app, logger, metrics, refused_metric="StripeEventRefused", unavailable="Database unavailable; retry later."
)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
