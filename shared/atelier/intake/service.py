"""Lead intake: turn a posted form into a stored, routed lead and the answer the client sees.

Parsing refuses bad input (`atelier.errors.Refusal`: 400, 415, 422) before anything is written; `IntakeService.submit`
then writes the lead in one `rpc` call and, for auto-routed tiers, attaches a Stripe Checkout link.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from pydantic import ValidationError

from atelier.intake.checkout import CheckoutGateway, CheckoutUnavailable, TierPrice
from atelier.intake.models import LeadAnswers, LeadForm, ProjectType
from atelier.intake.routing import TierRecommendation, route
from atelier.kernel.body import header, json_object, media_type, raw_body
from atelier.kernel.catalogue import CatalogueReader
from atelier.kernel.errors import (
    Contradiction,
    MalformedRequest,
    RateLimited,
    Refusal,
    ValidationFailed,
    WrongMediaType,
    in_minutes,
)
from atelier.kernel.rpc import Rpc

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
HONEYPOT_FIELD = "leave_blank"
SUBMISSION_KEY_FIELD = "submission_key"
_KEY = re.compile(r"^[A-Za-z0-9._:\-]{8,200}$")
_DOMAIN = re.compile(r"[A-Za-z0-9.-]{1,253}")  # the API's host name, as API Gateway gives it


@dataclass(frozen=True)
class LeadSubmission:
    form: LeadAnswers
    submission_key: str
    source_ip: str | None = None
    site: str | None = None  # the API's public address, as the request reached it: where /thanks lives

    @property
    def request_hash(self) -> str:
        return form_hash(self.form)


def form_hash(form: LeadAnswers) -> str:
    """A fingerprint of what the client asked for, to tell a replay from a different form."""
    canonical = json.dumps(form.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


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


def read_fields(body: bytes, content_type: str | None) -> dict[str, Any]:
    """The posted fields, from JSON or a form; 415 for other types, 400 for a body that does not parse."""
    kind = media_type(content_type)
    if kind == JSON:
        return json_object(body, what="form fields")
    if kind == FORM:
        try:
            text = body.decode("utf-8")
            pairs = parse_qsl(text, keep_blank_values=True, errors="strict")
        except (UnicodeDecodeError, ValueError) as exc:
            raise MalformedRequest("The form body is not valid UTF-8 form encoding.", code="invalid_form") from exc
        fields: dict[str, Any] = {}
        for name, value in pairs:
            fields.setdefault(name, value)  # the first of repeated names wins
        return fields
    shown = kind or "no Content-Type"
    raise WrongMediaType(f"Send {JSON} or {FORM}, not {shown}.")


_MESSAGES = {
    "missing": "This field is required.",
    "string_too_short": "This field is required.",
    "string_too_long": "Use at most {max_length} characters.",
    "int_parsing": "Enter a whole number of weeks.",
    "int_from_float": "Enter a whole number of weeks.",
    "int_type": "Enter a whole number of weeks.",
    "greater_than_equal": "Enter at least {ge}.",
    "less_than_equal": "Enter at most {le}.",
    "bool_parsing": "Answer yes or no.",
    "bool_type": "Answer yes or no.",
    "string_type": "Enter text.",
    "enum": "Choose one of: " + ", ".join(t.value for t in ProjectType) + ".",
}


def field_errors(exc: ValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else "body"
        template = _MESSAGES.get(error["type"])
        if template:
            message = template.format(**(error.get("ctx") or {}))
        else:
            message = str(error["msg"]).removeprefix("Value error, ")
            message = message[:1].upper() + message[1:]
            message = message if message.endswith(".") else message + "."
        errors.setdefault(name, message)
    return errors


def parse_submission(
    body: bytes, content_type: str | None, *, idempotency_key: str | None = None, source_ip: str | None = None
) -> LeadSubmission:
    """Validate a posted lead, or refuse it (400, 415, 422), naming each field that needs attention."""
    fields = read_fields(body, content_type)
    problems: dict[str, str] = {}
    if str(fields.get(HONEYPOT_FIELD) or "").strip():
        problems[HONEYPOT_FIELD] = "Leave this field empty."
    try:
        form = LeadForm.model_validate(fields)
    except ValidationError as exc:
        problems = {**field_errors(exc), **problems}
        form = None
    key = (idempotency_key or str(fields.get(SUBMISSION_KEY_FIELD) or "")).strip()
    if key and not _KEY.match(key):
        problems[SUBMISSION_KEY_FIELD] = "Use 8 to 200 letters, digits or . _ : - (a UUID is ideal)."
    if problems or form is None:
        raise ValidationFailed("Some fields need attention.", fields=problems)
    # Without a key, identical content is the same submission: a double click files one lead.
    return LeadSubmission(form, key or f"auto:{form_hash(form)[:40]}", source_ip)


NEXT_STEP_PAY = "pay"
NEXT_STEP_LINK_TO_FOLLOW = "wait_for_payment_link"
NEXT_STEP_CONTACT = "wait_for_contact"


def build_answer(rec: TierRecommendation, checkout_url: str | None, *, checkout_failed: bool) -> dict[str, Any]:
    if rec.auto_route and checkout_url:
        next_step = {
            "action": NEXT_STEP_PAY,
            "checkout_url": checkout_url,
            "message": f"Pay for {rec.tier_name} to start your project.",
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
        rec = route(form, self._catalogue())
        request_hash = submission.request_hash
        # Leads that need no checkout are answered in the same transaction that stores them.
        answer = None if rec.auto_route else build_answer(rec, None, checkout_failed=False)
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
        tier = stored["tier"]
        price = TierPrice(
            int(tier["id"]),
            str(tier["name"]),
            int(tier["price_cents"]),
            str(tier["currency"]),
            tier.get("stripe_price_id"),
        )
        try:
            link = self._checkout.create_session(lead_id=lead_id, email=form.email, price=price, site=submission.site)
            session_id, url = link.session_id, link.url
        except CheckoutUnavailable:
            session_id, url = None, None
        final = build_answer(rec, url, checkout_failed=url is None)
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


def parse_event(event: APIGatewayProxyEventV2) -> LeadSubmission:
    """`POST /leads` as API Gateway delivers it: the raw body, its type, the idempotency key and the source."""
    submission = parse_submission(
        raw_body(event.body, event.is_base64_encoded),
        header(event.headers, "content-type"),
        idempotency_key=header(event.headers, "idempotency-key"),
        source_ip=event.request_context.http.source_ip,
    )
    domain = event.request_context.domain_name
    return replace(submission, site=f"https://{domain}") if domain and _DOMAIN.fullmatch(domain) else submission


def wants_html(event: APIGatewayProxyEventV2) -> bool:
    """A browser posting the form without JavaScript: it gets a page back, not JSON."""
    accept = header(event.headers, "accept") or ""
    return media_type(header(event.headers, "content-type")) == FORM and "text/html" in accept


def posted_fields(event: APIGatewayProxyEventV2) -> dict[str, Any]:
    """What the client typed, to show the form again with it; {} when the body cannot be read."""
    try:
        return read_fields(raw_body(event.body, event.is_base64_encoded), header(event.headers, "content-type"))
    except Refusal:
        return {}
