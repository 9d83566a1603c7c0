"""Lead intake: turn a posted form into a stored, routed lead and the answer the client sees.

`intake.form` parses and refuses bad input before anything is written; `IntakeService.submit` routes the lead by
the catalogue, writes it in one `rpc` call and, for auto-routed tiers, attaches a Stripe Checkout link.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from atelier.intake.checkout import CheckoutGateway, CheckoutUnavailable, TierPrice
from atelier.intake.form import LeadSubmission
from atelier.intake.routing import TierRecommendation, route
from atelier.kernel.catalogue import CatalogueReader, Tier
from atelier.kernel.errors import (
    Contradiction,
    RateLimited,
    in_minutes,
)
from atelier.kernel.format import money
from atelier.kernel.rpc import Rpc

if TYPE_CHECKING:
    pass


@dataclass(frozen=True)
class LeadAnswer:
    lead_id: str
    answer: dict[str, Any]
    replayed: bool
    checkout_failed: bool = False  # Stripe could not open a checkout page; the lead is stored all the same

    def body(self) -> dict[str, Any]:
        return {"lead_id": self.lead_id, **self.answer}

    def metrics(self) -> dict[str, float]:
        return {"LeadReplayed" if self.replayed else "LeadReceived": 1, "CheckoutUnavailable": self.checkout_failed}

    def facts(self) -> dict[str, Any]:
        """What the log says of it (never the client's details)."""
        return {"lead_id": self.lead_id, "tier": self.answer["tier"], "replayed": self.replayed}


NEXT_STEP_PAY = "pay"
NEXT_STEP_LINK_TO_FOLLOW = "wait_for_payment_link"
NEXT_STEP_CONTACT = "wait_for_contact"


def build_answer(
    rec: TierRecommendation, checkout_url: str | None, *, checkout_failed: bool, tier: Tier | None = None
) -> dict[str, Any]:
    """The answer to the form: the recommendation, the tier's price and what it includes (as the catalogue holds
    them now: the team's, from Notion's Services), and the next step."""
    price = money(tier.price_cents, tier.currency) if tier else None
    schedule = tier.schedule(tier.price_cents) if tier else []
    due = money(schedule[0][2], tier.currency) if tier and len(schedule) > 1 else price
    if rec.auto_route and checkout_url:
        next_step = {
            "action": NEXT_STEP_PAY,
            "checkout_url": checkout_url,
            "message": f"Pay {price} for {rec.tier_name} to start your project."
            if price and due == price
            else f"Pay a deposit of {due} ({float(schedule[0][1]):g}% of {price}) to start your project; the rest is "
            "invoiced as the work reaches its milestones."
            if price
            else f"Pay for {rec.tier_name} to start your project.",
        }
    elif rec.auto_route and checkout_failed:
        next_step = {
            "action": NEXT_STEP_LINK_TO_FOLLOW,
            "message": "We could not open a payment page just now; we will email you a payment link.",
        }
    else:
        next_step = {
            "action": NEXT_STEP_CONTACT,
            "message": "The team will contact you within two business days to talk it through.",
        }
    return {
        "tier": rec.tier,
        "tier_name": rec.tier_name,
        "reason": rec.reason,
        "confidence": rec.confidence.value,
        "needs_review": rec.needs_review,
        "red_flags": [flag.value for flag in rec.red_flags],
        "alternative_tiers": list(rec.alternative_tiers),
        "next_step": next_step,
        "checkout_url": next_step.get("checkout_url"),
        "price": None if tier is None else tier.price_cents / 100,
        "price_cents": None if tier is None else tier.price_cents,
        "currency": None if tier is None else tier.currency,
        "price_text": price,
        "tier_description": None if tier is None else tier.description,
        "features": [] if tier is None else list(tier.features),
        # When each part of the price is paid: at booking, then at the milestones that carry a share.
        "payment_schedule": [
            {"when": when, "percent": float(percent), "amount_cents": amount} for when, percent, amount in schedule
        ],
    }


@dataclass(frozen=True)
class LeadLimits:
    """Leads per hour from one source address and for one e-mail address (0: no limit). They hold across every
    Lambda at once, since Postgres counts them: one caller cannot fill the route's throttle, and every lead they
    send costs a Stripe session and a Notion page."""

    per_source: int = 0
    per_email: int = 0
    WINDOW_SECONDS = 3600

    def of(self, submission: LeadSubmission) -> list[dict[str, Any]]:
        limits = [
            ("lead_source", submission.source_ip, self.per_source),
            ("lead_email", submission.form.email.lower(), self.per_email),
        ]
        return [
            {"bucket": bucket, "key": key, "limit": limit, "seconds": self.WINDOW_SECONDS}
            for bucket, key, limit in limits
            if key and limit > 0
        ]


LIMITED = {
    "lead_source": "Too many requests have come from your network in the last hour",
    "lead_email": "Too many requests have come for this e-mail address in the last hour",
}


class IntakeService:
    def __init__(self, rpc: Rpc, checkout: CheckoutGateway, limits: LeadLimits | None = None) -> None:
        self._rpc = rpc
        self._catalogue = CatalogueReader(rpc)
        self._checkout = checkout
        self._limits = limits or LeadLimits()

    def _take_limits(self, submission: LeadSubmission) -> None:
        """Count this lead against its limits, or refuse it (nothing written); no round trip when they are off."""
        limits = self._limits.of(submission)
        if not limits:
            return
        taken = self._rpc.rpc("take_rate_limits", p_limits=limits)
        if not taken["allowed"]:
            wait = int(taken["retry_after"])
            raise RateLimited(
                f"{LIMITED.get(str(taken['bucket']), 'Too many requests')}: try again in "
                f"{in_minutes(wait)}, or write to the studio.",
                retry_after=wait,
            )

    def submit(self, submission: LeadSubmission) -> LeadAnswer:
        form = submission.form
        self._take_limits(submission)
        catalogue = self._catalogue()
        rec = route(form, catalogue)
        tier = catalogue.tiers[rec.tier]
        request_hash = submission.request_hash
        # Leads that need no checkout are answered in the same transaction that stores them.
        answer = None if rec.auto_route else build_answer(rec, None, checkout_failed=False, tier=tier)
        stored = self._rpc.rpc(
            "record_lead",
            p_submission_key=submission.submission_key,
            p_request_hash=request_hash,
            p_email=form.email,
            p_name=form.name,
            p_project_address=form.project_address,
            p_budget_range=form.budget.text or None,
            p_budget_min_cents=None if form.budget.min_dollars is None else form.budget.min_dollars * 100,
            p_budget_max_cents=None if form.budget.max_dollars is None else form.budget.max_dollars * 100,
            p_timeline_weeks=form.timeline_weeks,
            p_project_type=None if form.project_type is None else form.project_type.value,
            p_has_survey=form.has_survey,
            p_has_drawings=form.has_drawings,
            p_notes=form.notes,
            p_recommended_tier=rec.tier,
            p_routing_reason=rec.reason,
            p_confidence=rec.confidence.value,
            p_needs_review=rec.needs_review,
            p_red_flags=[flag.value for flag in rec.red_flags],
            p_routing=_routing_details(rec),
            p_answer=answer,
            p_ip_address=submission.source_ip,
        )
        lead_id = str(stored["lead_id"])
        if not stored["created"] and stored["request_hash"] != request_hash:
            raise Contradiction(
                "This form was already sent with different answers. Reload the form to send a new request.",
                code="submission_key_reused",
            )
        if stored["answer"] is not None:
            return LeadAnswer(lead_id, stored["answer"], replayed=not stored["created"])
        # An auto-routed lead (or a replay of one whose first try stopped short): attach a checkout link.
        sold = stored["tier"]
        total = int(sold["price_cents"])
        due = tier.due_at_booking(total)  # a deposit, where the tier's schedule has instalments
        price = TierPrice(
            int(sold["id"]),
            str(sold["name"]) if due == total else f"{sold['name']}: deposit ({float(tier.deposit_percent):g}%)",
            due,
            str(sold["currency"]),
            sold.get("stripe_price_id") if due == total else None,
        )
        try:
            link = self._checkout.create_session(lead_id=lead_id, email=form.email, price=price, site=submission.site)
            session_id, url = link.session_id, link.url
        except CheckoutUnavailable:
            session_id, url = None, None
        final = build_answer(rec, url, checkout_failed=url is None, tier=tier)
        kept = self._rpc.rpc(
            "record_lead_answer",
            p_lead_id=lead_id,
            p_answer=final,
            p_checkout_session_id=session_id,
            p_checkout_url=url,
        )
        return LeadAnswer(lead_id, kept, replayed=not stored["created"], checkout_failed=url is None)


def _routing_details(rec: TierRecommendation) -> dict[str, Any]:
    return {
        "factors": [
            {"name": f.name, "weight": f.weight, "suggested_tier": f.suggested_tier, "evidence": f.evidence}
            for f in rec.factors
        ],
        "rules_applied": list(rec.rules_applied),
        "auto_route": rec.auto_route,
        "alternative_tiers": list(rec.alternative_tiers),
    }
