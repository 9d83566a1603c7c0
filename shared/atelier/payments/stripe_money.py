"""What Stripe's invoice and dispute events mean (`classify` in `payments.stripe_events` hands them here).

An instalment is invoiced by Atelier (`payments.invoices`); its invoice's events move it (paid, failed, void,
uncollectible), matched by the invoice's id, or by the instalment id Atelier put in its metadata while the invoice's
id is not yet recorded. A dispute is recorded against the payment its payment intent names. Both apply once each
through the inbound ledger, in any order: the database keeps the furthest state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from atelier.payments.stripe_fields import Unappliable, amount, currency, id_of, text, uuid_or_none

INVOICE_KINDS = {
    "invoice.paid": "paid",
    "invoice.payment_failed": "failed",
    "invoice.voided": "void",
    "invoice.marked_uncollectible": "uncollectible",
}
DISPUTE_TYPES = ("charge.dispute.created", "charge.dispute.updated", "charge.dispute.closed")
DISPUTE_STATUSES = (
    "warning_needs_response",
    "warning_under_review",
    "warning_closed",
    "needs_response",
    "under_review",
    "won",
    "lost",
)
MONEY_TYPES = (*INVOICE_KINDS, *DISPUTE_TYPES)


@dataclass(frozen=True)
class InvoiceAction:
    event_id: str
    event_type: str
    kind: str  # paid, failed, void, uncollectible
    invoice_id: str
    schedule_id: str | None
    amount_paid: int | None
    currency: str | None
    hosted_url: str | None
    due_date: date | None
    rpc_name = "apply_stripe_invoice_event"
    livemode_mismatch = False
    amount = 0

    def rpc_args(self) -> dict[str, Any]:
        return {
            "p_event_id": self.event_id,
            "p_event_type": self.event_type,
            "p_kind": self.kind,
            "p_invoice_id": self.invoice_id,
            "p_schedule_id": self.schedule_id,
            "p_amount_paid": self.amount_paid,
            "p_currency": self.currency,
            "p_hosted_url": self.hosted_url,
            "p_due_date": None if self.due_date is None else self.due_date.isoformat(),
        }


@dataclass(frozen=True)
class DisputeAction:
    event_id: str
    event_type: str
    dispute_id: str
    payment_intent_id: str
    charge_id: str | None
    amount: int
    currency: str
    reason: str | None
    status: str
    evidence_due_by: datetime | None
    rpc_name = "apply_stripe_dispute_event"
    livemode_mismatch = False
    kind = "dispute"

    def rpc_args(self) -> dict[str, Any]:
        return {
            "p_event_id": self.event_id,
            "p_event_type": self.event_type,
            "p_dispute_id": self.dispute_id,
            "p_payment_intent_id": self.payment_intent_id,
            "p_charge_id": self.charge_id,
            "p_amount": self.amount,
            "p_currency": self.currency,
            "p_reason": self.reason,
            "p_status": self.status,
            "p_evidence_due_by": None if self.evidence_due_by is None else self.evidence_due_by.isoformat(),
        }


def _epoch(value: Any, what: str) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**34:
        raise Unappliable(f"{what} is not a time in seconds: {str(value)[:40]!r}")
    return datetime.fromtimestamp(value, UTC)


def invoice_action(event_id: str, event_type: str, obj: dict[str, Any]) -> InvoiceAction:
    invoice_id = id_of(obj, "the invoice id")
    if not invoice_id or not invoice_id.startswith("in_"):
        raise Unappliable("the invoice has no id (in_...)")
    metadata = obj.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise Unappliable("metadata is not an object")
    paid = obj.get("amount_paid")
    due = _epoch(obj.get("due_date"), "due_date")
    return InvoiceAction(
        event_id,
        event_type,
        INVOICE_KINDS[event_type],
        invoice_id,
        uuid_or_none(metadata.get("atelier_schedule_id")),
        None if paid is None else amount(paid, "amount_paid"),
        currency(obj.get("currency")),
        text(obj.get("hosted_invoice_url"), "hosted_invoice_url", limit=2000),
        None if due is None else due.date(),
    )


def dispute_action(event_id: str, event_type: str, obj: dict[str, Any]) -> DisputeAction:
    dispute_id = id_of(obj, "the dispute id")
    if not dispute_id or not dispute_id.startswith(("dp_", "du_")):
        raise Unappliable("the dispute has no id (dp_...)")
    intent = id_of(obj.get("payment_intent"), "payment_intent")
    if not intent:
        raise Unappliable("the dispute names no payment_intent: Atelier finds the payment by it")
    status = obj.get("status")
    if status not in DISPUTE_STATUSES:
        raise Unappliable(f"the dispute's status is not one Stripe sends: {str(status)[:40]!r}")
    details = obj.get("evidence_details")
    details = details if isinstance(details, dict) else {}
    code = currency(obj.get("currency"))
    if code is None:
        raise Unappliable("the dispute has no currency")
    return DisputeAction(
        event_id,
        event_type,
        dispute_id,
        intent,
        id_of(obj.get("charge"), "charge"),
        amount(obj.get("amount"), "amount"),
        code,
        text(obj.get("reason"), "reason", limit=100),
        str(status),
        _epoch(details.get("due_by"), "evidence_details.due_by"),
    )
