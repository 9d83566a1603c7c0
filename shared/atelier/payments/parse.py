"""What a Stripe webhook request carries, parsed at the edge of the capability: the event, once its signature holds
for the raw body, or the refusal that says what is wrong with the request. `stripe` is imported only to check
the signature, inside `verify`."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from atelier.kernel.body import header, raw_body, strict_json
from atelier.kernel.business import named
from atelier.kernel.errors import MalformedRequest
from atelier.kernel.settings import PaymentSettings, secret

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

DEFAULT_TOLERANCE_SECONDS = 300
MAX_EVENT_BYTES = 256 * 1024
MAX_SIGNATURE_HEADER = 4096


def parse_stripe_webhook(event: APIGatewayProxyEventV2, settings: PaymentSettings) -> dict[str, Any]:
    """The Stripe event, once its signature holds for the body exactly as sent."""
    body = raw_body(event.body, event.is_base64_encoded, limit=MAX_EVENT_BYTES)
    business = named()
    if business is not None and not (settings.stripe_webhook_secret or settings.stripe_webhook_secret_secret):
        raise _refuse(
            f"{business.name} has no Stripe webhook secret yet, so no event can be verified: set one with "
            f"`atelier business set {business.slug} --stripe-webhook-secret-ref ...`",
            code="not_configured",
        )
    key = secret(settings.stripe_webhook_secret, settings.stripe_webhook_secret_secret, "STRIPE_WEBHOOK_SECRET")
    signature = header(event.headers, "stripe-signature")
    return verify(body, signature, key, tolerance=settings.stripe_signature_tolerance)


def _refuse(reason: str, code: str = "invalid_signature") -> MalformedRequest:
    return MalformedRequest(reason, code=code)


def verify(
    payload: bytes,
    header: str | None,
    secret: str,
    *,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> dict[str, Any]:
    """The event, if `header` signs `payload` with `secret`; else MalformedRequest saying what is wrong.

    The header's shape and age are checked here, so that each refusal has its own reason; the
    signature itself is checked by the `stripe` library."""
    if not header or not header.strip():
        raise _refuse("Missing Stripe-Signature header.")
    if len(header) > MAX_SIGNATURE_HEADER or not header.isascii():
        raise _refuse(f"Malformed Stripe-Signature header: Stripe's is ASCII, under {MAX_SIGNATURE_HEADER} characters.")
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep or not key:
            raise _refuse("Malformed Stripe-Signature header: expected t=<timestamp>,v1=<signature>.")
        parts.setdefault(key, []).append(value)
    stamp = (parts.get("t") or [""])[0]
    if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 12):
        raise _refuse("Malformed Stripe-Signature header: no numeric t=<timestamp>.")
    timestamp = int(stamp)
    if not parts.get("v1"):
        raise _refuse("No v1 signature in the Stripe-Signature header.")
    age = (time.time() if now is None else now) - timestamp
    if abs(age) > tolerance:
        raise _refuse(
            f"Signature timestamp is {int(age)} s from now, outside the {tolerance} s tolerance. "
            "Check the server clock; use `atelier stripe replay` to apply old events."
        )
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise _refuse("The body is not UTF-8, so it cannot carry a valid signature.") from None

    import stripe

    try:
        # Checks every v1 value in the header; one match is enough. The age was checked above.
        stripe.WebhookSignature.verify_header(text, header, secret, tolerance=None)
    except stripe.SignatureVerificationError:
        raise _refuse("Signature does not match: wrong webhook secret, or the body was changed.") from None
    try:
        event = strict_json(text)
    except (ValueError, RecursionError) as exc:
        raise _refuse(f"The signed body is not valid JSON: {str(exc)[:200]}.", "invalid_json") from None
    if not isinstance(event, dict) or not isinstance(event.get("id"), str) or not isinstance(event.get("type"), str):
        raise _refuse("The signed body is not a Stripe event (no id or type).", "invalid_event")
    return event
