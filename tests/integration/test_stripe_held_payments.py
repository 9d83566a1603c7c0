"""Payments Atelier cannot stand behind are held for the owner, not fulfilled (issue 29, item 2): a session Atelier
did not open, whatever its metadata names, and an amount under the price."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import psycopg
import pytest

from atelier_local.stack import LocalStack
from tests.integration.test_stripe_webhook import checkout, deliver, lead_id, make, secret, state

Conn = psycopg.Connection[tuple[object, ...]]
__all__ = ["lead_id", "secret"]  # fixtures, used by name


@pytest.mark.parametrize("paid", [{"amount_total": 100}, {"amount_total": 749999}, {"currency": "eur"}])
def test_an_underpayment_starts_no_work_and_waits_for_the_owner(
    api: httpx.Client,
    db: Conn,
    secret: str,
    lead_id: str,
    paid: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
    stack: LocalStack,
) -> None:
    from atelier.cli import main

    stack.setup_notion()
    response = deliver(api, checkout(lead_id, **paid), secret)

    assert response.status_code == 200
    assert (state(db)["projects"], state(db)["milestones"]) == (0, 0)
    assert db.execute("select status::text, project_id from payments").fetchall() == [("succeeded", None)]
    assert db.execute("select status::text from leads").fetchone() != ("converted",)
    reason = str(db.execute("select review_reason from payments").fetchone()[0])  # type: ignore[index]
    assert "under the tier price" in reason
    assert db.execute("select count(*) from audit_log where action = 'payment.held'").fetchone() == (1,)
    capsys.readouterr()
    assert main(["check"]) == 1
    assert "payment held" in capsys.readouterr().out
    # When the owner refunds it in Stripe, as `check` advises, Then it is no longer held
    deliver(
        api,
        make(
            "stripe_charge_refunded",
            lead_id,
            amount=paid.get("amount_total", 750000),
            amount_refunded=paid.get("amount_total", 750000),
        ),
        secret,
    )
    assert main(["check"]) == 0


def test_a_live_event_in_a_test_environment_is_acknowledged_not_applied(
    api: httpx.Client, db: Conn, secret: str, lead_id: str
) -> None:
    event = checkout(lead_id)
    event["livemode"] = True
    response = deliver(api, event, secret)
    assert response.status_code == 200
    assert response.json()["outcome"] == "ignored"
    assert db.execute("select outcome::text, reason from inbound_events").fetchall() == [
        ("ignored", "livemode mismatch: a live event sent to test")
    ]
    assert (state(db)["payments"], state(db)["projects"]) == (0, 0)


def test_an_event_type_we_do_not_handle_is_acknowledged_and_writes_nothing(
    api: httpx.Client, db: Conn, secret: str, lead_id: str
) -> None:
    before = state(db)
    response = deliver(api, make("stripe_customer_created", None), secret)
    assert response.status_code == 200
    assert response.json()["outcome"] == "unhandled"
    assert state(db) == before


def test_a_one_dollar_session_that_names_a_lead_in_its_metadata_fulfils_nothing(
    api: httpx.Client, db: Conn, secret: str, lead_id: str
) -> None:
    # Given a session on another of the studio's Payment Links, carrying the lead's reference (which the client saw)
    other = checkout(lead_id, id=f"cs_live_{uuid.uuid4().hex[:24]}", amount_total=100)
    other["data"]["object"]["metadata"] |= {"tier": "4"}

    # When Stripe delivers it, signed
    response = deliver(api, other, secret)

    # Then it is recorded, held and alarmed, and nothing is fulfilled
    assert (response.status_code, response.json()["outcome"]) == (200, "applied")
    assert (state(db)["projects"], state(db)["clients"], state(db)["users"]) == (0, 0, 0)
    assert db.execute("select lead_id, project_id, review_reason is not null from payments").fetchall() == [
        (None, None, True)
    ]
    assert db.execute("select status::text from leads").fetchone() == ("qualified",)
    # And the lead's own session still fulfils it, at its own tier
    assert deliver(api, checkout(lead_id), secret).status_code == 200
    assert db.execute("select tier, payment_status::text from projects").fetchall() == [(2, "paid")]
