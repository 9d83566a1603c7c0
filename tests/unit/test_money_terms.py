"""The pure parts of payment schedules, invoices and disputes: a Services page's shares read, a schedule's parts
adding up to the total for any total and shares, what invoice and dispute events mean (and which can never apply),
and the invoice desk's order of work when Stripe is down."""

from __future__ import annotations

import io
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pypdf import PdfReader

from atelier.deliverables.keys import DeliverableKey, KeyOutsideConvention, document_key
from atelier.kernel.catalogue import Tier
from atelier.kernel.pdf import text_pdf
from atelier.payments.invoices import Instalment, InvoiceDesk, InvoiceUnavailable, SentInvoice
from atelier.payments.stripe_events import StripeEventAction, classify
from atelier.payments.stripe_money import DisputeAction, InvoiceAction
from atelier.sync.blocks import heading, item
from atelier.sync.source_terms import milestones_of, service_terms


def test_a_services_page_gives_each_milestone_its_share_and_the_deposit() -> None:
    blocks = [
        heading("Milestones"),
        item("At booking: 30%"),
        item("Site survey: day 7"),
        item("Design development: day 63, 40%"),
        item("Construction documents (91 days); 30 %"),
    ]
    listed = milestones_of(blocks)
    assert listed == [
        {"booking": 30},
        {"name": "Site survey", "days": 7},
        {"name": "Design development", "days": 63, "percent": 40},
        {"name": "Construction documents", "days": 91, "percent": 30},
    ]
    assert isinstance(listed, list)
    terms = service_terms("3", {"name": "The Concierge"}, listed)
    assert terms["deposit_percent"] == 30
    assert [m.get("percent") for m in terms["milestones"]] == [None, 40, 30]


def test_a_page_without_shares_is_paid_whole_at_booking() -> None:
    listed = milestones_of([heading("Milestones"), item("Concept design: day 14")])
    assert isinstance(listed, list)
    assert "deposit_percent" not in service_terms("1", {}, listed)


@given(
    total=st.integers(min_value=1, max_value=10**10),
    shares=st.lists(st.decimals(min_value=Decimal("0.01"), max_value=Decimal(30), places=2), max_size=3),
)
def test_a_schedule_always_adds_up_to_its_total(total: int, shares: list[Decimal]) -> None:
    tier = Tier(
        3,
        "T",
        0,
        None,
        "auto",
        total,
        deposit_percent=100 - sum(shares, Decimal(0)),
        instalments=tuple((f"M{n}", s) for n, s in enumerate(shares)),
    )
    parts = tier.schedule(total)
    assert sum(amount for _, _, amount in parts) == total
    assert parts[0][2] == tier.due_at_booking(total)
    assert all(amount >= 0 for _, _, amount in parts)


def _event(kind: str, obj: dict[str, Any]) -> dict[str, Any]:
    return {"id": "evt_1", "object": "event", "type": kind, "livemode": False, "data": {"object": obj}}


def test_invoice_events_mean_their_state_and_carry_the_instalment_atelier_named() -> None:
    meta = {"atelier_schedule_id": "0b9f6a3c-4c8e-4d59-9d7e-1c1a2b3c4d5e"}
    invoice = {"id": "in_1", "amount_paid": 600000, "currency": "USD", "metadata": meta, "due_date": 1767225600}
    kinds = {
        t: action.kind if isinstance(action := classify(_event(t, invoice), livemode=False), InvoiceAction) else None
        for t in ("invoice.paid", "invoice.payment_failed", "invoice.voided", "invoice.marked_uncollectible")
    }
    assert kinds == {
        "invoice.paid": "paid",
        "invoice.payment_failed": "failed",
        "invoice.voided": "void",
        "invoice.marked_uncollectible": "uncollectible",
    }
    action = classify(_event("invoice.paid", invoice), livemode=False)
    assert isinstance(action, InvoiceAction)
    assert (action.schedule_id, action.currency, str(action.due_date)) == (
        meta["atelier_schedule_id"],
        "usd",
        "2026-01-01",
    )


def test_a_dispute_means_its_status_against_the_payment_intent() -> None:
    dispute = {
        "id": "dp_1",
        "payment_intent": "pi_1",
        "charge": "ch_1",
        "amount": 450000,
        "currency": "usd",
        "reason": "fraudulent",
        "status": "needs_response",
        "evidence_details": {"due_by": 1767225600},
    }
    action = classify(_event("charge.dispute.created", dispute), livemode=False)
    assert isinstance(action, DisputeAction)
    assert (action.payment_intent_id, action.amount, action.status) == ("pi_1", 450000, "needs_response")


@pytest.mark.parametrize(
    ("kind", "obj", "reason"),
    [
        ("invoice.paid", {"id": "ch_1"}, "the invoice has no id"),
        ("invoice.paid", {"id": "in_1", "amount_paid": -1}, "amount_paid is out of range"),
        ("invoice.paid", {"id": "in_1", "due_date": "tomorrow"}, "due_date is not a time"),
        ("charge.dispute.created", {"id": "dp_1", "status": "open", "payment_intent": "pi_1"}, "status is not one"),
        ("charge.dispute.created", {"id": "dp_1", "status": "won"}, "names no payment_intent"),
        ("charge.dispute.closed", {"id": "dp_1", "status": "won", "payment_intent": "pi_1", "amount": 1}, "currency"),
    ],
)
def test_a_signed_money_event_that_can_never_apply_is_rejected_with_its_reason(
    kind: str, obj: dict[str, Any], reason: str
) -> None:
    action = classify(_event(kind, obj), livemode=False)
    assert isinstance(action, StripeEventAction)
    assert action.kind == "reject"
    assert reason in (action.reason or "")


class _Rpc:
    def __init__(self, due: list[dict[str, Any]]) -> None:
        self.due, self.calls = due, []  # type: list[dict[str, Any]], list[tuple[str, dict[str, Any]]]

    def rpc(self, name: str, **args: Any) -> Any:
        self.calls.append((name, args))
        return {"invoices_to_send": self.due, "mark_overdue_invoices": 0}.get(name)


class _Stripe:
    def __init__(self, fails_on: str | None = None) -> None:
        self.fails_on, self.sent = fails_on, []  # type: str | None, list[str]

    def send_instalment(self, item: Instalment, *, days_until_due: int, created: Callable[[str], None]) -> SentInvoice:
        if item.id == self.fails_on:
            raise InvoiceUnavailable("Stripe is down")
        created(f"in_{item.id}")
        self.sent.append(item.id)
        return SentInvoice(f"in_{item.id}", "https://invoice.stripe.com/i/x", None)


def _row(n: int) -> dict[str, Any]:
    return {
        "id": f"s{n}",
        "project_id": "p",
        "number": f"INV-{n:05d}",
        "label": "DD",
        "share": 40,
        "amount": 100,
        "currency": "usd",
        "email": "a@example.com",
        "project_name": "P",
    }


def test_the_desk_records_each_draft_before_it_is_sent_and_waits_in_order_when_stripe_is_down() -> None:
    rpc, stripe = _Rpc([_row(1), _row(2), _row(3)]), _Stripe(fails_on="s2")
    report = InvoiceDesk(rpc, stripe, days_until_due=14).run()  # type: ignore[arg-type]
    assert report.counts() == {"invoices_sent": 1, "invoices_waiting": 1, "invoices_overdue": 0}
    assert stripe.sent == ["s1"]  # s3 waits behind s2, in order
    names = [name for name, _ in rpc.calls]
    assert names == ["invoices_to_send", "invoice_created", "invoice_sent", "invoice_waits", "mark_overdue_invoices"]
    assert rpc.calls[3][1] == {"p_id": "s2", "p_error": "Stripe is down"}


@given(st.lists(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=255), max_size=300), max_size=120))
def test_a_plain_pdf_holds_any_text_and_runs_on_to_more_pages(texts: list[str]) -> None:
    pdf = text_pdf("Receipt RCT-00001 (a test)", [("text", t) for t in texts])
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.metadata is not None
    assert reader.metadata.title == "Receipt RCT-00001 (a test)"
    compact = "".join("".join(page.extract_text() for page in reader.pages).split())  # a long word wraps
    for text in texts:
        for word in text.split():
            assert word in compact or not word.isalnum()
    assert len(reader.pages) >= 1 + sum(max(1, -(-len(t) // 95)) for t in texts) // 60


def test_a_kept_document_is_beside_the_deliverables_never_taken_for_one() -> None:
    key = document_key("0b9f6a3c-4c8e-4d59-9d7e-1c1a2b3c4d5e", "RCT-00001", business="kaa")
    assert key == "b/kaa/projects/0b9f6a3c-4c8e-4d59-9d7e-1c1a2b3c4d5e/documents/RCT-00001.pdf"
    with pytest.raises(KeyOutsideConvention, match="a receipt or an invoice"):
        DeliverableKey.parse(key)
