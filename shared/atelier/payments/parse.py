"""What a Stripe webhook request carries, parsed at the edge of the capability: the verified event, or the refusal
that says what is wrong with the request."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from atelier.kernel.body import header, raw_body
from atelier.kernel.settings import PaymentSettings, secret
from atelier.payments.stripe_events import MAX_EVENT_BYTES, verify

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2


def parse_stripe_webhook(event: APIGatewayProxyEventV2, settings: PaymentSettings) -> dict[str, Any]:
    """The Stripe event, once its signature holds for the body exactly as sent."""
    body = raw_body(event.body, event.is_base64_encoded, limit=MAX_EVENT_BYTES)
    key = secret(settings.stripe_webhook_secret, settings.stripe_webhook_secret_secret, "STRIPE_WEBHOOK_SECRET")
    signature = header(event.headers, "stripe-signature")
    return verify(body, signature, key, tolerance=settings.stripe_signature_tolerance)
