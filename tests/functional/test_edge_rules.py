"""The edges' rules without I/O: Stripe classification, intake parsing from a real API Gateway event, and the
one table that maps each error type to a status."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from atelier.intake.form import parse_event
from atelier.kernel.errors import (
    DatabaseError,
    DatabaseUnavailable,
    IntegrityViolation,
    InvalidData,
    MalformedRequest,
    PermissionDenied,
    RpcFunctionNotFound,
    ValidationFailed,
    WrongMediaType,
)
from atelier.payments.stripe_events import StripeEventAction, classify
from atelier.web.http import problem_for, status_for
from tests.events import load_event

FORM = {
    "email": "ada@example.com",
    "name": "Ada Lovelace",
    "project_address": "12 Analytical Row",
    "budget": 12000,
    "timeline_weeks": 8,
    "project_type": "standard_renovation",
    "has_survey": True,
    "has_drawings": True,
}


def lead_event(body: bytes, content_type: str = "application/json") -> APIGatewayProxyEventV2:
    event = copy.deepcopy(load_event("apigw_v2_post_lead_base64"))
    event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
    event["headers"]["content-type"] = content_type
    return APIGatewayProxyEventV2(event)


# -- Stripe classification ---------------------------------------------------------------------------


def test_a_paid_checkout_is_fulfilment_for_its_lead() -> None:
    event = load_event("stripe_checkout_session_completed")
    action = classify(event, livemode=False)
    assert isinstance(action, StripeEventAction)
    assert action.kind == "fulfil"
    assert action.lead_id
    assert action.payment_intent_id
    assert not action.livemode_mismatch


def test_a_live_event_sent_to_test_is_flagged_as_a_livemode_mismatch_not_by_its_reason_text() -> None:
    event = {**load_event("stripe_checkout_session_completed"), "livemode": True}
    action = classify(event, livemode=False)
    assert action is not None
    assert action.kind == "ignore"
    assert action.livemode_mismatch


def test_an_unpaid_checkout_waits_and_a_refund_is_a_refund() -> None:
    unpaid = copy.deepcopy(load_event("stripe_checkout_session_completed"))
    unpaid["data"]["object"]["payment_status"] = "unpaid"
    assert (classify(unpaid, livemode=False) or pytest.fail("unclassified")).kind == "pending"
    refund = classify(load_event("stripe_charge_refunded"), livemode=False)
    assert refund is not None
    assert refund.kind == "refund"


def _with(name: str, **obj: Any) -> dict[str, Any]:
    event = copy.deepcopy(load_event(name))
    event["data"]["object"].update(obj)
    return event


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (_with("stripe_checkout_session_completed", amount_total=None), "amount_total is not a whole number"),
        (_with("stripe_checkout_session_completed", amount_total="750000"), "amount_total is not a whole number"),
        (_with("stripe_checkout_session_completed", amount_total=True), "amount_total is not a whole number"),
        (_with("stripe_checkout_session_completed", amount_total=-1), "amount_total is out of range"),
        (_with("stripe_checkout_session_completed", amount_total=10**30), "amount_total is out of range"),
        (_with("stripe_checkout_session_completed", currency="dollars"), "currency is not an ISO currency code"),
        (_with("stripe_checkout_session_completed", payment_intent="pi_\x00"), "control characters"),
        (_with("stripe_checkout_session_completed", metadata="lead"), "metadata is not an object"),
        ({**load_event("stripe_checkout_session_completed"), "data": {"object": []}}, "data.object is not an object"),
        ({**load_event("stripe_checkout_session_completed"), "id": "evt_\x00"}, "the event id"),
        (_with("stripe_charge_refunded", amount=100, amount_refunded=500), "larger than the charge"),
        (_with("stripe_payment_intent_succeeded", amount_received=1.5), "amount_received is not a whole number"),
    ],
)
def test_a_signed_event_that_can_never_apply_is_a_rejection_with_its_reason(event: dict[str, Any], reason: str) -> None:
    action = classify(event, livemode=False)
    assert isinstance(action, StripeEventAction)
    assert action.kind == "reject"
    assert reason in (action.reason or "")
    assert "\x00" not in action.event_id  # the ledger can hold it


def test_a_type_we_do_not_handle_is_none() -> None:
    assert classify(load_event("stripe_customer_created"), livemode=False) is None


# -- intake parsing ------------------------------------------------------------------------------------


def test_a_base64_json_body_from_api_gateway_becomes_a_submission_with_its_key_and_source() -> None:
    submission = parse_event(lead_event(json.dumps(FORM).encode()))
    assert submission.form.email == "ada@example.com"
    assert submission.submission_key == "evt-base64-0001"
    assert submission.source_ip == "203.0.113.7"


@pytest.mark.parametrize(
    ("body", "content_type", "refusal"),
    [
        (b"{not json", "application/json", MalformedRequest),
        (b"[1, 2]", "application/json", MalformedRequest),
        (b"email=a", "text/plain", WrongMediaType),
        (json.dumps({**FORM, "timeline_weeks": "soon"}).encode(), "application/json", ValidationFailed),
    ],
)
def test_bad_input_is_refused_by_type(body: bytes, content_type: str, refusal: type[Exception]) -> None:
    with pytest.raises(refusal):
        parse_event(lead_event(body, content_type))


def test_a_validation_failure_names_each_field() -> None:
    with pytest.raises(ValidationFailed) as refused:
        parse_event(lead_event(json.dumps({**FORM, "email": "not-an-address", "timeline_weeks": -1}).encode()))
    assert {"email", "timeline_weeks"} <= set(refused.value.fields)


# -- one table from error type to status --------------------------------------------------------------

ERRORS: list[tuple[Any, int]] = [
    (MalformedRequest("x"), 400),
    (WrongMediaType("x"), 415),
    (ValidationFailed("x", fields={"email": "required"}), 422),
    (DatabaseUnavailable("down"), 503),
    (IntegrityViolation("check", sqlstate="23514"), 409),
    (InvalidData("out of range", sqlstate="22003"), 422),
    (PermissionDenied("rls", sqlstate="42501"), 500),
    (RpcFunctionNotFound("no fn", sqlstate="42883"), 500),
    (DatabaseError("other", sqlstate="XX000"), 500),
]


@pytest.mark.parametrize(("error", "status"), ERRORS, ids=[type(e).__name__ for e, _ in ERRORS])
def test_each_error_type_has_its_status(error: Exception, status: int) -> None:
    assert status_for(error) == status


def test_only_an_unreachable_database_is_answered_retry_later() -> None:
    retryable = {type(error).__name__ for error, status in ERRORS if status == 503}
    assert retryable == {"DatabaseUnavailable"}
    assert all(error.retryable == (status == 503) for error, status in ERRORS if isinstance(error, DatabaseError))


def test_a_database_refusal_says_not_to_resend_and_keeps_the_databases_words_out() -> None:
    problem = problem_for(IntegrityViolation('new row for relation "payments" violates check', sqlstate="23514"))
    assert problem.status == 409
    assert problem.code == "refused_by_database"
    assert "payments" not in problem.message
    assert "23514" in problem.message
