"""Sample records written the way the functions write them, for tests and benchmarks that need a lead or a
paid project without going through HTTP."""

from __future__ import annotations

import uuid

from atelier.kernel.rpc import Rpc


def stored_lead(rpc: Rpc, i: int = 0) -> str:
    """A tier 2 lead, stored as lead_intake stores an auto-routed one (answered once its Checkout is open); returns
    its id."""
    result = rpc.rpc(
        "record_lead",
        p_submission_key=f"sample-lead-{i}-{uuid.uuid4()}",
        p_request_hash="h",
        p_email=f"client{i}@example.com",
        p_name=f"Client {i}",
        p_project_address=f"{i} Sample St",
        p_budget_range="$10k-15k",
        p_budget_min_cents=1_000_000,
        p_budget_max_cents=1_500_000,
        p_timeline_weeks=8,
        p_project_type="standard_renovation",
        p_has_survey=True,
        p_has_drawings=True,
        p_notes=None,
        p_recommended_tier=2,
        p_routing_reason="sample",
        p_confidence="high",
        p_needs_review=False,
        p_red_flags=[],
        p_routing={},
        p_answer=None,
        p_ip_address=None,
    )
    return str(result["lead_id"])


def opened_checkout(rpc: Rpc, lead_id: str) -> str:
    """The Checkout session Atelier opens for a stored lead, recorded on it as lead_intake records it; returns the
    session's id, the one a payment for the lead must name."""
    session_id = f"cs_test_{uuid.uuid4().hex[:24]}"
    rpc.rpc(
        "record_lead_answer",
        p_lead_id=lead_id,
        p_answer={"tier": 2},
        p_checkout_session_id=session_id,
        p_checkout_url=f"https://checkout.example/{session_id}",
    )
    return session_id


def paid_project(rpc: Rpc, lead_id: str) -> str:
    """The lead paid through the Checkout session Atelier opened for it, as payment_succeeded applies it; returns the
    project's id."""
    session_id = opened_checkout(rpc, lead_id)
    result = rpc.rpc(
        "apply_stripe_event",
        p_event_id=f"evt_{uuid.uuid4().hex}",
        p_event_type="checkout.session.completed",
        p_kind="fulfil",
        p_reason=None,
        p_lead_id=lead_id,
        p_tier=2,
        p_checkout_session_id=session_id,
        p_payment_intent_id=f"pi_{uuid.uuid4().hex}",
        p_customer_id="cus_1",
        p_email=None,
        p_amount=750000,
        p_amount_refunded=0,
        p_currency="usd",
    )
    return str(result["project_id"])
