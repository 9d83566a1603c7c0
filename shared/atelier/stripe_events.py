"""Stripe webhooks: verify the signature on the raw body, decide what an event means, apply it once.

`stripe` is imported only to check signatures, inside `verify`. What each event type means is the
table `EVENT_KINDS`; the database function `apply_stripe_event` applies it in one transaction.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from atelier.db import Rpc
from atelier.errors import BadRequest

DEFAULT_TOLERANCE_SECONDS = 300
MAX_EVENT_BYTES = 256 * 1024

HANDLED_TYPES = (
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.async_payment_failed",
    "payment_intent.succeeded",
    "charge.refunded",
)


def _refuse(reason: str, code: str = "invalid_signature") -> BadRequest:
    return BadRequest(reason, code=code)


def verify(payload: bytes, header: str | None, secret: str, *, tolerance: int = DEFAULT_TOLERANCE_SECONDS,
           now: float | None = None) -> dict[str, Any]:  # fmt: skip
    """The event, if `header` signs `payload` with `secret`; else BadRequest saying what is wrong.

    The header's shape and age are checked here, so that each refusal has its own reason; the
    signature itself is checked by the `stripe` library."""
    if not header or not header.strip():
        raise _refuse("Missing Stripe-Signature header.")
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep or not key:
            raise _refuse("Malformed Stripe-Signature header: expected t=<timestamp>,v1=<signature>.")
        parts.setdefault(key, []).append(value)
    try:
        timestamp = int(parts["t"][0])
    except (KeyError, ValueError):
        raise _refuse("Malformed Stripe-Signature header: no numeric t=<timestamp>.") from None
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
        event = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _refuse(f"The signed body is not valid JSON: {exc}.", "invalid_json") from None
    if not isinstance(event, dict) or not isinstance(event.get("id"), str) or not isinstance(event.get("type"), str):
        raise _refuse("The signed body is not a Stripe event (no id or type).", "invalid_event")
    return event


@dataclass(frozen=True)
class StripeEventAction:
    """What one event means for the database: the arguments of apply_stripe_event."""

    event_id: str
    event_type: str
    kind: str  # fulfil, pending, failed, confirm, refund, ignore
    reason: str | None = None
    livemode_mismatch: bool = False  # a test event sent to live, or the other way round: recorded, not applied
    lead_id: str | None = None
    tier: int | None = None
    checkout_session_id: str | None = None
    payment_intent_id: str | None = None
    customer_id: str | None = None
    email: str | None = None
    amount: int | None = None
    amount_refunded: int | None = None
    currency: str | None = None

    def rpc_args(self) -> dict[str, Any]:
        return {
            "p_event_id": self.event_id, "p_event_type": self.event_type, "p_kind": self.kind,
            "p_reason": self.reason, "p_lead_id": self.lead_id, "p_tier": self.tier,
            "p_checkout_session_id": self.checkout_session_id, "p_payment_intent_id": self.payment_intent_id,
            "p_customer_id": self.customer_id, "p_email": self.email, "p_amount": self.amount,
            "p_amount_refunded": self.amount_refunded, "p_currency": self.currency,
        }  # fmt: skip


def _id(value: Any) -> str | None:
    """Stripe sends either an id or, when expanded, the object itself."""
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) and value else None


def _uuid_or_none(value: Any) -> str | None:
    try:
        return str(uuid.UUID(str(value))) if value else None
    except ValueError:
        return None


def _tier(metadata: dict[str, Any]) -> int | None:
    try:
        tier = int(metadata.get("tier", ""))
    except (TypeError, ValueError):
        return None
    return tier if 1 <= tier <= 4 else None


def classify(event: dict[str, Any], *, livemode: bool) -> StripeEventAction | None:
    """What the event means, or None for a type we do not handle (acknowledged, nothing written)."""
    event_id, event_type = str(event["id"]), str(event["type"])
    if event_type not in HANDLED_TYPES:
        return None
    if bool(event.get("livemode")) != livemode:
        want = "live" if livemode else "test"
        got = "live" if event.get("livemode") else "test"
        return StripeEventAction(
            event_id, event_type, "ignore", f"livemode mismatch: a {got} event sent to {want}", livemode_mismatch=True
        )
    obj = (event.get("data") or {}).get("object") or {}
    metadata = obj.get("metadata") or {}
    common: dict[str, Any] = {
        "lead_id": _uuid_or_none(metadata.get("lead_id") or obj.get("client_reference_id")),
        "tier": _tier(metadata),
        "customer_id": _id(obj.get("customer")),
        "currency": obj.get("currency"),
    }
    if event_type.startswith("checkout.session."):
        pi = _id(obj.get("payment_intent"))
        if not pi:
            return StripeEventAction(event_id, event_type, "ignore", "checkout session has no payment_intent")
        if event_type == "checkout.session.async_payment_failed":
            kind = "failed"
        elif event_type == "checkout.session.async_payment_succeeded" or obj.get("payment_status") == "paid":
            kind = "fulfil"
        else:
            kind = "pending"
        details = obj.get("customer_details") or {}
        return StripeEventAction(
            event_id, event_type, kind, checkout_session_id=_id(obj), payment_intent_id=pi,
            email=details.get("email") or obj.get("customer_email"), amount=obj.get("amount_total"), **common,
        )  # fmt: skip
    if event_type == "payment_intent.succeeded":
        return StripeEventAction(event_id, event_type, "confirm", payment_intent_id=_id(obj),
                                 amount=obj.get("amount_received") or obj.get("amount"), **common)  # fmt: skip
    # charge.refunded
    pi = _id(obj.get("payment_intent"))
    if not pi:
        return StripeEventAction(event_id, event_type, "ignore", "refunded charge has no payment_intent")
    return StripeEventAction(event_id, event_type, "refund", payment_intent_id=pi, amount=obj.get("amount"),
                             amount_refunded=obj.get("amount_refunded"), **common)  # fmt: skip


class StripeOutcome(StrEnum):
    applied = "applied"
    duplicate = "duplicate"  # this event id was applied before: nothing changed
    ignored = "ignored"  # recorded, not applied (livemode mismatch, no payment intent)
    unhandled = "unhandled"  # a type we do not handle: acknowledged, nothing written


@dataclass(frozen=True)
class AppliedEvent:
    event_type: str
    outcome: StripeOutcome
    result: dict[str, Any]
    livemode_mismatch: bool = False

    @property
    def amount_mismatch(self) -> bool:
        """Paid an amount other than the tier's price: recorded, and the project flagged for review."""
        return bool(self.result.get("amount_mismatch"))

    @property
    def project_id(self) -> str | None:
        return self.result.get("project_id")

    @property
    def unmatched(self) -> bool:
        """A payment no lead or project could be found for."""
        return bool(self.result.get("unmatched"))


class StripeEventService:
    def __init__(self, rpc: Rpc, *, livemode: bool) -> None:
        self._rpc = rpc
        self._livemode = livemode

    def apply(self, event: dict[str, Any]) -> AppliedEvent:
        """One round trip for a handled event; none for a type we ignore."""
        action = classify(event, livemode=self._livemode)
        if action is None:
            return AppliedEvent(str(event.get("type")), StripeOutcome.unhandled, {})
        result = self._rpc.rpc("apply_stripe_event", **action.rpc_args())
        return AppliedEvent(action.event_type, StripeOutcome(str(result.get("outcome"))), result,
                            livemode_mismatch=action.livemode_mismatch)  # fmt: skip
