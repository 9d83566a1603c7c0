"""Stripe webhooks, once verified (`payments.parse`): decide what an event means, and apply it once.

What each event type means is `classify`; the database function `apply_stripe_event` applies it in one
transaction. A session fulfils only the lead Atelier opened it for, found by its id: the lead and tier in an
event's metadata are kept for reconciliation, never trusted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from atelier.kernel.errors import IntegrityViolation, InvalidData
from atelier.kernel.rpc import Rpc
from atelier.payments.stripe_fields import MAX_ID_CHARS, Unappliable
from atelier.payments.stripe_fields import amount as _amount
from atelier.payments.stripe_fields import currency as _currency
from atelier.payments.stripe_fields import id_of as _id
from atelier.payments.stripe_fields import text as _text
from atelier.payments.stripe_fields import uuid_or_none as _uuid_or_none
from atelier.payments.stripe_money import (
    DISPUTE_TYPES,
    INVOICE_KINDS,
    MONEY_TYPES,
    DisputeAction,
    InvoiceAction,
    dispute_action,
    invoice_action,
)

MAX_EMAIL_CHARS = 320
MAX_NAME_CHARS = 200

HANDLED_TYPES = (
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.async_payment_failed",
    "checkout.session.expired",
    "payment_intent.succeeded",
    "charge.refunded",
    *MONEY_TYPES,
)


@dataclass(frozen=True)
class StripeEventAction:
    """What one event means for the database: the arguments of apply_stripe_event."""

    event_id: str
    event_type: str
    kind: str  # fulfil, pending, failed, confirm, refund, expire, ignore
    reason: str | None = None
    livemode_mismatch: bool = False  # a test event sent to live, or the other way round: recorded, not applied
    lead_id: str | None = None
    tier: int | None = None
    checkout_session_id: str | None = None
    payment_intent_id: str | None = None
    customer_id: str | None = None
    email: str | None = None
    name: str | None = None  # the payer's, as Stripe has it: names a new client, or fills an empty name
    amount: int | None = None
    amount_refunded: int | None = None
    currency: str | None = None
    rpc_name = "apply_stripe_event"

    def rpc_args(self) -> dict[str, Any]:
        return {
            "p_event_id": self.event_id,
            "p_event_type": self.event_type,
            "p_kind": self.kind,
            "p_reason": self.reason,
            "p_lead_id": self.lead_id,
            "p_tier": self.tier,
            "p_checkout_session_id": self.checkout_session_id,
            "p_payment_intent_id": self.payment_intent_id,
            "p_customer_id": self.customer_id,
            "p_email": self.email,
            "p_amount": self.amount,
            "p_amount_refunded": self.amount_refunded,
            "p_currency": self.currency,
            "p_name": self.name,
        }


def _tier(metadata: dict[str, Any]) -> int | None:
    raw = metadata.get("tier", "")
    if not isinstance(raw, str | int) or isinstance(raw, bool) or len(str(raw)) > 2:
        return None
    try:
        tier = int(raw)
    except ValueError:
        return None
    return tier if 1 <= tier <= 4 else None


Action = StripeEventAction | InvoiceAction | DisputeAction


def classify(event: dict[str, Any], *, livemode: bool) -> Action | None:
    """What the event means, or None for a type we do not handle (acknowledged, nothing written). A handled
    event that can never apply as it is becomes a `reject`, with its reason."""
    event_id, event_type = str(event["id"]), str(event["type"])
    if event_type not in HANDLED_TYPES:
        return None
    if bool(event.get("livemode")) != livemode:
        want = "live" if livemode else "test"
        got = "live" if event.get("livemode") else "test"
        return StripeEventAction(
            event_id, event_type, "ignore", f"livemode mismatch: a {got} event sent to {want}", livemode_mismatch=True
        )
    try:
        _text(event_id, "the event id")
        return _meaning(event_id, event_type, event)
    except Unappliable as exc:
        return StripeEventAction(ledger_id(event_id), event_type, "reject", str(exc))


def ledger_id(event_id: str) -> str:
    """An event id the ledger can hold (no NUL, UTF-8, bounded), for an event rejected because of its id."""
    text = event_id.replace("\x00", "\\0").encode("utf-8", "backslashreplace").decode()
    return text[:MAX_ID_CHARS] or "(empty)"


def _meaning(event_id: str, event_type: str, event: dict[str, Any]) -> Action:
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not isinstance(obj, dict):
        raise Unappliable("data.object is not an object")
    if event_type in INVOICE_KINDS:
        return invoice_action(event_id, event_type, obj)
    if event_type in DISPUTE_TYPES:
        return dispute_action(event_id, event_type, obj)
    metadata = obj.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise Unappliable("metadata is not an object")
    common: dict[str, Any] = {
        "lead_id": _uuid_or_none(metadata.get("lead_id") or obj.get("client_reference_id")),
        "tier": _tier(metadata),
        "customer_id": _id(obj.get("customer"), "customer"),
        "currency": _currency(obj.get("currency")),
    }
    if event_type == "checkout.session.expired":
        # Unpaid and closed: a quote's link then offers a fresh session. Nothing was charged, so no amount is needed.
        session_id = _id(obj, "the session id")
        if not session_id:
            raise Unappliable("the expired session has no id")
        return StripeEventAction(event_id, event_type, "expire", checkout_session_id=session_id, **common)
    if event_type.startswith("checkout.session."):
        pi = _id(obj.get("payment_intent"), "payment_intent")
        if not pi:
            return StripeEventAction(event_id, event_type, "ignore", "checkout session has no payment_intent")
        if event_type == "checkout.session.async_payment_failed":
            kind = "failed"
        elif event_type == "checkout.session.async_payment_succeeded" or obj.get("payment_status") == "paid":
            kind = "fulfil"
        else:
            kind = "pending"
        details = obj.get("customer_details")
        details = details if isinstance(details, dict) else {}
        email = details.get("email") or obj.get("customer_email")
        return StripeEventAction(
            event_id,
            event_type,
            kind,
            checkout_session_id=_id(obj, "the session id"),
            payment_intent_id=pi,
            email=_text(email, "the customer's email", limit=MAX_EMAIL_CHARS),
            name=_text(details.get("name"), "the customer's name", limit=MAX_NAME_CHARS),
            amount=_amount(obj.get("amount_total"), "amount_total"),
            **common,
        )
    if event_type == "payment_intent.succeeded":
        received = obj.get("amount_received")
        return StripeEventAction(
            event_id,
            event_type,
            "confirm",
            payment_intent_id=_id(obj, "the payment intent id"),
            amount=_amount(obj.get("amount") if received is None else received, "amount_received"),
            **common,
        )
    # charge.refunded
    pi = _id(obj.get("payment_intent"), "payment_intent")
    if not pi:
        return StripeEventAction(event_id, event_type, "ignore", "refunded charge has no payment_intent")
    amount = _amount(obj.get("amount"), "amount")
    refunded = _amount(obj.get("amount_refunded"), "amount_refunded")
    if refunded > amount:
        raise Unappliable(f"amount_refunded {refunded} is larger than the charge's amount {amount}")
    return StripeEventAction(
        event_id, event_type, "refund", payment_intent_id=pi, amount=amount, amount_refunded=refunded, **common
    )


class StripeOutcome(StrEnum):
    applied = "applied"
    duplicate = "duplicate"  # this event id was applied before: nothing changed
    ignored = "ignored"  # recorded, not applied (livemode mismatch, no payment intent)
    rejected = "rejected"  # signed, but can never apply as it is: recorded with its reason, for replay once fixed
    unhandled = "unhandled"  # a type we do not handle: acknowledged, nothing written


@dataclass(frozen=True)
class AppliedEvent:
    event_type: str
    outcome: StripeOutcome
    result: dict[str, Any]
    livemode_mismatch: bool = False
    amount: int = 0  # what the event says was paid (cents), for the revenue metric

    @property
    def paid_cents(self) -> int:
        """The amount of a payment that made a project, or of an instalment's invoice paid (the dashboard's
        revenue); 0 for anything else."""
        if self.outcome != StripeOutcome.applied:
            return 0
        return self.amount if self.result.get("created_project") else int(self.result.get("paid_cents") or 0)

    @property
    def disputed(self) -> bool:
        """A dispute seen for the first time: alarmed, and the team told on the project's page."""
        return bool(self.result.get("opened"))

    @property
    def amount_mismatch(self) -> bool:
        """Paid an amount other than the tier's price: recorded, and the project flagged for review."""
        return bool(self.result.get("amount_mismatch"))

    @property
    def project_id(self) -> str | None:
        return self.result.get("project_id")

    @property
    def unmatched(self) -> bool:
        """A payment for a Checkout session Atelier did not open: no lead is fulfilled by it."""
        return bool(self.result.get("unmatched"))

    @property
    def held(self) -> str | None:
        """Why a payment waits for the owner instead of starting work (unmatched, under the price, a staff address);
        `atelier check` lists it."""
        reason = self.result.get("held")
        return str(reason) if reason else None

    def metrics(self) -> dict[str, float]:
        """What the webhook counts for this event: its outcome (a rejected event is alarmed: fix the cause, then
        `atelier stripe replay --rejected`), the payments held or unmatched, and the dashboard's revenue (in the
        smallest unit of the studio's currency)."""
        return {
            f"StripeEvent{self.outcome.title()}": 1,
            "PaymentAmountMismatch": self.amount_mismatch,
            "StripeLivemodeMismatch": self.livemode_mismatch,
            "PaymentUnmatched": self.unmatched,
            "PaymentHeld": self.held is not None,  # alarmed: `atelier check` lists it with the reason
            "ProjectPaid": bool(self.result.get("created_project")) and self.paid_cents > 0,
            "InvoicePaid": self.event_type == "invoice.paid" and self.outcome == StripeOutcome.applied,
            "PaymentDisputed": self.disputed,  # alarmed: the evidence is due within days
            "RevenueCents": self.paid_cents,
        }


class StripeEventService:
    def __init__(self, rpc: Rpc, *, livemode: bool) -> None:
        self._rpc = rpc
        self._livemode = livemode

    def apply(self, event: dict[str, Any]) -> AppliedEvent:
        """One round trip for a handled event; none for a type we ignore."""
        action = classify(event, livemode=self._livemode)
        if action is None:
            return AppliedEvent(str(event.get("type")), StripeOutcome.unhandled, {})
        if isinstance(action, StripeEventAction) and action.kind == "reject":
            return self._reject(action.event_id, action.event_type, action.reason or "unappliable", event)
        try:
            result = self._rpc.rpc(action.rpc_name, **action.rpc_args())
        except (InvalidData, IntegrityViolation) as exc:
            # The database refused it as it is: retrying the same event cannot succeed.
            return self._reject(
                action.event_id, action.event_type, f"the database refused it (SQLSTATE {exc.sqlstate})", event
            )
        return AppliedEvent(
            action.event_type,
            StripeOutcome(str(result.get("outcome"))),
            result,
            livemode_mismatch=action.livemode_mismatch,
            amount=action.amount or 0,
        )

    def _reject(self, event_id: str, event_type: str, reason: str, event: dict[str, Any]) -> AppliedEvent:
        """Recorded as rejected, with the event, so that `atelier stripe replay --rejected` can apply it later."""
        try:
            payload: dict[str, Any] | None = json.loads(json.dumps(event).replace("\\u0000", ""))
        except ValueError:
            payload = None
        try:
            result = self._rpc.rpc(
                "reject_stripe_event", p_event_id=event_id, p_event_type=event_type, p_reason=reason, p_payload=payload
            )
        except InvalidData:  # the event itself cannot be stored: its reason and id still are
            result = self._rpc.rpc(
                "reject_stripe_event", p_event_id=event_id, p_event_type=event_type, p_reason=reason, p_payload=None
            )
        return AppliedEvent(event_type, StripeOutcome(str(result.get("outcome"))), result)
