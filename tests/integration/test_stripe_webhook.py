"""POST /webhooks/stripe: real-shaped events, signed with stripe's own helper, through the front door."""

from __future__ import annotations

import base64
import copy
import itertools
import json
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import stripe

from atelier_local.lambda_runtime import LocalLambdas
from atelier_local.stack import LocalStack
from tests.events import load_event
from tests.seed_catalogue import TIER_NAME

Conn = psycopg.Connection[tuple[object, ...]]

LEAD = {
    "email": "ada@example.com",
    "name": "Ada Lovelace",
    "project_address": "12 Analytical Row",
    "budget": "$10k-15k",
    "timeline_weeks": 8,
    "project_type": "standard_renovation",
    "has_survey": True,
    "has_drawings": True,
}
TIER_2_MILESTONES = 5
TABLES = ("users", "clients", "projects", "milestones", "payments", "inbound_events", "audit_log", "sync_outbox")


def state(db: Conn) -> dict[str, int]:
    return {t: int(str(db.execute(f"select count(*) from {t}".encode()).fetchone()[0])) for t in TABLES}  # type: ignore[index]


@pytest.fixture
def secret(stack: LocalStack) -> str:
    return stack.settings["STRIPE_WEBHOOK_SECRET"]


# The Checkout session Atelier opened for each lead: a session event fulfils a lead only by this id.
SESSIONS: dict[str, str] = {}


@pytest.fixture
def lead_id(api: httpx.Client) -> str:
    response = api.post("/leads", json=LEAD, headers={"Idempotency-Key": f"lead-{uuid.uuid4()}"})
    assert response.status_code == 201
    answer = response.json()
    SESSIONS[str(answer["lead_id"])] = str(answer["checkout_url"]).rstrip("/").rsplit("/", 1)[-1]
    return str(answer["lead_id"])


def make(name: str, lead_id: str | None, **obj: Any) -> dict[str, Any]:
    """A real-shaped event with fresh ids, for this test's lead (a session event: the session opened for it)."""
    event = copy.deepcopy(load_event(name))
    event["id"] = f"evt_{uuid.uuid4().hex[:24]}"
    data = event["data"]["object"]
    if data.get("object") == "checkout.session" and lead_id in SESSIONS:
        data["id"] = SESSIONS[lead_id]
    if "metadata" in data and lead_id is not None and "lead_id" in data["metadata"]:
        data["metadata"]["lead_id"] = lead_id
    if "client_reference_id" in data:
        data["client_reference_id"] = lead_id
    data.update(obj)
    return event


def checkout(lead_id: str | None, **obj: Any) -> dict[str, Any]:
    return make("stripe_checkout_session_completed", lead_id, **obj)


def sign(body: str, secret: str, timestamp: int | None = None) -> str:
    return str(stripe.WebhookSignature.generate_signature_header(body, secret, timestamp=timestamp))


def deliver(api: httpx.Client, event: dict[str, Any], secret: str, **headers: str) -> httpx.Response:
    body = json.dumps(event)
    headers = {"Stripe-Signature": sign(body, secret), "Content-Type": "application/json", **headers}
    return api.post("/webhooks/stripe", content=body.encode(), headers=headers)


def test_a_paid_checkout_creates_client_project_milestones_and_payment_once(
    api: httpx.Client, db: Conn, secret: str, lead_id: str
) -> None:
    response = deliver(api, checkout(lead_id), secret)

    assert response.status_code == 200, response.text
    assert response.json() == {"received": True, "outcome": "applied"}
    project = db.execute(
        "select p.status::text, p.payment_status::text, p.tier, p.needs_review, p.name, c.tier, u.email,"
        " u.user_type::text from projects p join clients c on c.id = p.client_id join users u on u.id = c.user_id"
        " where p.lead_id = %s",
        (lead_id,),
    ).fetchone()
    assert project == (
        "onboarding",
        "paid",
        2,
        False,
        f"12 Analytical Row - {TIER_NAME[2]}",
        2,
        "ada@example.com",
        "sage_client",
    )
    milestones = db.execute('select name, due_date - current_date from milestones order by "order"').fetchall()
    assert (
        milestones
        == db.execute(
            'select name, due_offset_days from milestone_templates where tier = 2 order by "order"'
        ).fetchall()
    )
    assert len(milestones) == TIER_2_MILESTONES
    assert db.execute("select status::text, amount, currency, tier, stripe_customer_id from payments").fetchall() == [
        ("succeeded", 750000, "usd", 2, "cus_R2x3y4z5A6b7C8")
    ]
    assert db.execute("select status::text from leads").fetchone() == ("converted",)
    outbox = db.execute("select entity::text, count(*) from sync_outbox where status = 'pending' group by 1")
    assert {str(k): v for k, v in outbox.fetchall()} == {
        "lead": 1,
        "client": 1,
        "project": 1,
        "milestone": TIER_2_MILESTONES,
        "task": 1,  # "Prepare kickoff"
    }
    assert db.execute("select action from audit_log where action like 'payment.%'").fetchall() == [
        ("payment.fulfilled",)
    ]


def test_the_same_event_five_times_at_once_has_one_effect(
    api: httpx.Client, db: Conn, secret: str, lead_id: str, stack: LocalStack
) -> None:
    event = checkout(lead_id)
    body = json.dumps(event)
    header = sign(body, secret)
    assert stack.front_door is not None
    statuses: list[int] = []
    barrier = threading.Barrier(5)

    def send() -> None:
        with httpx.Client(base_url=stack.front_door.url, timeout=30) as client:  # type: ignore[union-attr]
            barrier.wait()
            statuses.append(
                client.post("/webhooks/stripe", content=body.encode(), headers={"Stripe-Signature": header}).status_code
            )

    threads = [threading.Thread(target=send) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [200] * 5
    counts = state(db)
    assert (counts["projects"], counts["clients"], counts["payments"], counts["milestones"]) == (
        1,
        1,
        1,
        TIER_2_MILESTONES,
    )
    assert db.execute("select count(*) from inbound_events where event_id = %s", (event["id"],)).fetchone() == (1,)
    assert db.execute("select count(*) from audit_log where action = 'payment.fulfilled'").fetchone() == (1,)


def _refusals(secret: str) -> list[tuple[str, dict[str, str], bytes | None, str]]:
    body = json.dumps(checkout(str(uuid.uuid4())))
    now = int(time.time())
    good = sign(body, secret)
    return [
        ("missing header", {}, None, "Missing Stripe-Signature"),
        ("malformed header", {"Stripe-Signature": "garbage"}, None, "Malformed Stripe-Signature"),
        ("no timestamp", {"Stripe-Signature": "v1=abc"}, None, "no numeric t="),
        ("no v1", {"Stripe-Signature": f"t={now},v0=abc"}, None, "No v1 signature"),
        ("wrong secret", {"Stripe-Signature": sign(body, "whsec_wrong")}, None, "Signature does not match"),
        ("tampered body", {"Stripe-Signature": good}, body.replace("750000", "1").encode(), "Signature does not match"),
        ("stale timestamp", {"Stripe-Signature": sign(body, secret, timestamp=now - 3600)}, None, "outside the 300 s"),
        ("future timestamp", {"Stripe-Signature": sign(body, secret, timestamp=now + 3600)}, None, "outside the 300 s"),
        (
            "signed broken JSON",
            {"Stripe-Signature": sign('{"id": "evt_1", ', secret)},
            b'{"id": "evt_1", ',
            "not valid JSON",
        ),
        ("signed non-event", {"Stripe-Signature": sign("[1, 2]", secret)}, b"[1, 2]", "not a Stripe event"),
    ]


def test_every_refusal_gets_400_with_its_reason_and_writes_nothing(
    api: httpx.Client, db: Conn, secret: str, lead_id: str
) -> None:
    before = state(db)
    default_body = json.dumps(checkout(lead_id)).encode()
    for name, headers, body, reason in _refusals(secret):
        response = api.post("/webhooks/stripe", content=body or default_body, headers=headers)
        assert response.status_code == 400, name
        assert reason in response.json()["message"], (name, response.json())
        assert state(db) == before, name


def test_a_header_with_several_v1_values_is_accepted_when_one_matches(
    api: httpx.Client, db: Conn, secret: str, lead_id: str
) -> None:
    body = json.dumps(checkout(lead_id))
    good = sign(body, secret)
    timestamp, signature = good.split(",")
    header = f"{timestamp},v1={'0' * 64},{signature},v0=legacy"
    response = api.post("/webhooks/stripe", content=body.encode(), headers={"Stripe-Signature": header})
    assert response.status_code == 200
    assert state(db)["projects"] == 1


def test_an_unpaid_checkout_waits_then_async_success_fulfils(
    api: httpx.Client, db: Conn, secret: str, lead_id: str
) -> None:
    assert deliver(api, checkout(lead_id, payment_status="unpaid"), secret).status_code == 200
    assert db.execute("select status::text from payments").fetchall() == [("pending",)]
    assert state(db)["projects"] == 0
    assert db.execute("select status::text from leads").fetchone() == ("qualified",)

    succeeded = checkout(lead_id, payment_status="paid")
    succeeded["type"] = "checkout.session.async_payment_succeeded"
    assert deliver(api, succeeded, secret).json()["outcome"] == "applied"
    assert db.execute("select status::text from payments").fetchall() == [("succeeded",)]
    assert state(db)["projects"] == 1


def test_an_async_failure_records_the_failed_payment_and_the_lead_stays_open(
    api: httpx.Client, db: Conn, secret: str, lead_id: str
) -> None:
    deliver(api, checkout(lead_id, payment_status="unpaid"), secret)
    failed = checkout(lead_id, payment_status="unpaid")
    failed["type"] = "checkout.session.async_payment_failed"
    assert deliver(api, failed, secret).status_code == 200
    assert db.execute("select status::text from payments").fetchall() == [("failed",)]
    assert db.execute("select status::text from leads").fetchone() == ("qualified",)
    assert state(db)["projects"] == 0


def test_a_full_refund_marks_payment_and_project_refunded(
    api: httpx.Client, db: Conn, secret: str, lead_id: str
) -> None:
    deliver(api, checkout(lead_id), secret)
    deliver(api, make("stripe_charge_refunded", lead_id), secret)
    assert db.execute("select status::text, amount_refunded from payments").fetchone() == ("refunded", 750000)
    assert db.execute("select payment_status::text from projects").fetchone() == ("refunded",)


def test_a_partial_refund_records_the_amount_and_keeps_the_project_paid(
    api: httpx.Client, db: Conn, secret: str, lead_id: str
) -> None:
    deliver(api, checkout(lead_id), secret)
    deliver(api, make("stripe_charge_refunded", lead_id, amount_refunded=100000, refunded=False), secret)
    assert db.execute("select status::text, amount_refunded from payments").fetchone() == ("succeeded", 100000)
    assert db.execute("select payment_status::text from projects").fetchone() == ("paid",)
    assert db.execute("select count(*) from audit_log where action = 'payment.partially_refunded'").fetchone() == (1,)


ORDERED = ["checkout", "intent", "refund"]


@pytest.mark.parametrize("order", list(itertools.permutations(ORDERED)), ids="-then-".join)
def test_events_in_any_order_end_in_the_newest_state(
    api: httpx.Client, db: Conn, secret: str, lead_id: str, order: tuple[str, ...]
) -> None:
    events = {
        "checkout": checkout(lead_id),
        "intent": make("stripe_payment_intent_succeeded", lead_id),
        "refund": make("stripe_charge_refunded", lead_id),
    }
    for name in order:
        assert deliver(api, events[name], secret).status_code == 200, name
    # An older event never downgrades a newer state: whatever the order, the refund stands.
    assert db.execute("select status::text, amount_refunded from payments").fetchall() == [("refunded", 750000)]
    projects = db.execute("select payment_status::text from projects").fetchall()
    if order.index("checkout") < order.index("refund"):
        assert projects == [("refunded",)]
    else:
        # Paid and refunded before the checkout event arrived: no project for money already returned.
        assert projects == []
        assert db.execute(
            "select count(*) from audit_log where action = 'payment.refunded_before_fulfilment'"
        ).fetchone() == (1,)


def test_intent_succeeded_first_then_checkout_fulfils(api: httpx.Client, db: Conn, secret: str, lead_id: str) -> None:
    deliver(api, make("stripe_payment_intent_succeeded", lead_id), secret)
    assert db.execute("select status::text, project_id from payments").fetchall() == [("succeeded", None)]
    deliver(api, checkout(lead_id), secret)
    assert db.execute("select status::text, project_id is not null from payments").fetchall() == [("succeeded", True)]


def test_an_amount_over_the_tier_price_is_recorded_and_flagged(
    api: httpx.Client, db: Conn, secret: str, lead_id: str
) -> None:
    deliver(api, checkout(lead_id, amount_total=900000), secret)
    assert db.execute("select amount from payments").fetchone() == (900000,)
    assert db.execute("select needs_review, review_reason, payment_status::text from projects").fetchone() == (
        True,
        "paid 900000 usd, tier price is 750000 usd",
        "paid",
    )
    assert db.execute(
        "select details->>'amount' from audit_log where action = 'payment.amount_mismatch'"
    ).fetchone() == ("900000",)


def test_a_payment_for_an_unknown_lead_is_kept_and_marked_unmatched(api: httpx.Client, db: Conn, secret: str) -> None:
    missing = str(uuid.uuid4())
    deliver(api, checkout(missing), secret)
    assert db.execute("select status::text, lead_id from payments").fetchall() == [("succeeded", None)]
    reason = str(db.execute("select reason from inbound_events").fetchone()[0])  # type: ignore[index]
    assert reason.startswith("no Checkout session Atelier opened")
    assert f"its metadata names lead {missing}" in reason
    assert db.execute("select count(*) from audit_log where action = 'payment.unmatched'").fetchone() == (1,)
    assert state(db)["projects"] == 0


def test_a_body_over_the_limit_is_413(api: httpx.Client, db: Conn, secret: str) -> None:
    body = "x" * (256 * 1024 + 1)
    response = api.post("/webhooks/stripe", content=body.encode(), headers={"Stripe-Signature": sign(body, secret)})
    assert response.status_code == 413
    assert state(db)["inbound_events"] == 0


def test_a_base64_body_from_api_gateway_is_verified_on_its_raw_bytes(
    stack: LocalStack, db: Conn, secret: str, lead_id: str
) -> None:
    body = json.dumps(checkout(lead_id))
    event = load_event("apigw_v2_post_lead_base64")
    event.update(
        routeKey="POST /webhooks/stripe",
        rawPath="/webhooks/stripe",
        body=base64.b64encode(body.encode()).decode(),
        isBase64Encoded=True,
    )
    event["headers"] = {"content-type": "application/json", "stripe-signature": sign(body, secret)}
    event["requestContext"]["http"]["path"] = "/webhooks/stripe"
    result = LocalLambdas().invoke("payment_succeeded", event)
    assert result["statusCode"] == 200, result["body"]
    assert state(db)["projects"] == 1


def test_paying_on_the_local_checkout_page_delivers_a_signed_event(
    api: httpx.Client, db: Conn, stack: LocalStack
) -> None:
    answer = api.post("/leads", json=LEAD, headers={"Idempotency-Key": "local-pay-0001"}).json()
    paid = api.post(answer["checkout_url"] + "/pay")
    assert paid.status_code == 303
    assert db.execute(
        "select p.status::text, pay.status::text from projects p join payments pay on pay.project_id = p.id"
    ).fetchall() == [("onboarding", "succeeded")]
    assert stack.stripe is not None
    assert [e["type"] for e in stack.stripe.events] == ["checkout.session.completed"]


def _log_lines(tmp_path: Path, function: str) -> list[dict[str, Any]]:
    path = tmp_path / "logs" / f"{function}.log"
    return [json.loads(line) for line in path.read_text().splitlines() if line.startswith("{")]


def test_an_event_the_database_refuses_is_recorded_rejected_and_acknowledged_not_retried(
    api: httpx.Client, db: Conn, secret: str, lead_id: str, tmp_path: Path
) -> None:
    # Given a signed, paid checkout whose payment intent id the payments table's check constraint refuses
    before = state(db)
    event = checkout(lead_id, payment_intent="not_a_payment_intent")

    # When Stripe delivers it
    response = deliver(api, event, secret)

    # Then it is answered 200 as rejected: Stripe stops retrying what can never apply (never 503, "retry later")
    assert (response.status_code, response.json()["outcome"]) == (200, "rejected"), response.text
    # And nothing of the fulfilment was written: only the ledger's rejection and its audit line
    after = state(db)
    assert {t: after[t] - before[t] for t in after if after[t] != before[t]} == {"inbound_events": 1, "audit_log": 1}
    assert db.execute(
        "select outcome::text, reason from inbound_events where event_id = %s", (event["id"],)
    ).fetchone() == ("rejected", "the database refused it (SQLSTATE 23514)")
    # And the rejection is logged with its reason and counted for the alarm
    lines = _log_lines(tmp_path, "payment_succeeded")
    rejected = [line for line in lines if line.get("message") == "stripe event" and line.get("outcome") == "rejected"]
    assert rejected
    assert "23514" in rejected[0]["reason"]
    assert any(line.get("StripeEventRejected") in ([1.0], 1.0) for line in lines)
    assert not any("DatabaseUnavailable" in line for line in lines)
