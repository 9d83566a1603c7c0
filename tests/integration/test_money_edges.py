"""Money at its edges, on the local stack: a reviewed lead's quote e-mail shows how it is paid and its Checkout takes
the deposit of the quote; `atelier stripe backfill` rebuilds what every missed webhook lost (and changes nothing the
second time); fifty payments at once take receipt numbers without a gap or a repeat."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import psycopg
import pytest
from moto.ses.models import ses_backends

from atelier.cli import main
from atelier.notion import NotionGateway
from atelier_local.stack import LocalStack
from tests.integration.test_money import TIER3, _instalment, _schedule_tier3
from tests.integration.test_team_catalogue import _one, _sync

Conn = psycopg.Connection[tuple[object, ...]]


def test_a_quote_for_a_tier_paid_in_parts_shows_its_schedule_and_takes_the_deposit_of_the_quote(
    stack: LocalStack,
    team: NotionGateway,
    api: httpx.Client,
    db: Conn,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given tier 3 at 30/40/30, and a tier 3 lead that waits for review
    _schedule_tier3(team, db)
    flagged = TIER3 | {"email": "q@example.com", "budget": 10000, "timeline_weeks": 1, "project_type": "new_build"}
    answer = api.post("/leads", json=flagged, headers={"Idempotency-Key": f"q-{uuid.uuid4()}"}).json()
    assert (answer["tier"], answer["needs_review"]) == (3, True)

    # When the team quotes $20,000
    assert main(["quote", "send", str(answer["lead_id"]), "--amount", "20,000"]) == 0
    assert "e-mail sent" in capsys.readouterr().out

    # Then the e-mail says how it is paid, and the quote's payment page takes the deposit of the quote
    sent = [
        str(getattr(m, "body", ""))
        for account in ses_backends.values()
        for backend in account.values()
        for m in backend.sent_messages
        if "q@example.com" in str(getattr(m, "destinations", ""))
    ]
    assert len(sent) == 1
    assert "30% at booking, to accept: $6,000" in sent[0]
    assert "40% at Design development: $8,000" in sent[0]
    assert "Accept and pay $6,000" in sent[0]  # the button
    session = str(_one(db, "select checkout_session_id from quotes where lead_id = %s", answer["lead_id"]))
    assert stack.stripe is not None
    assert stack.stripe.sessions[session]["amount_total"] == 600_000


def test_backfill_rebuilds_what_every_missed_webhook_lost_and_changes_nothing_the_second_time(
    stack: LocalStack,
    team: NotionGateway,
    api: httpx.Client,
    db: Conn,
    as_operator: Callable[[], None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given a deposit paid while every webhook failed (a wrong secret), then rebuilt by a first backfill
    _schedule_tier3(team, db)
    assert stack.stripe is not None
    secret = stack.stripe.webhook_secret
    stack.stripe.webhook_secret = "whsec_wrong_so_delivery_fails"
    answer = api.post("/leads", json=TIER3, headers={"Idempotency-Key": f"b-{uuid.uuid4()}"}).json()
    session = str(answer["checkout_url"]).rstrip("/").rsplit("/", 1)[-1]
    stack.stripe.pay(session)
    assert _one(db, "select count(*) from projects") == 0
    as_operator()
    since = (datetime.now(UTC) - timedelta(days=400)).date().isoformat()  # beyond the 30 days of events
    assert main(["stripe", "backfill", "--since", since]) == 0
    rebuilt = capsys.readouterr()
    assert json.loads(rebuilt.out.strip().splitlines()[-1]) == {"applied": 1}
    assert "stripe backfill finished: 1 in" in rebuilt.err  # the progress (a live bar on a terminal only)
    project = str(_one(db, "select id from projects"))

    # And an instalment invoiced, paid on the hosted page, and a dispute opened, all while webhooks fail
    stack.stripe.webhook_secret = secret
    db.execute(
        b"update milestones set status = 'completed' where project_id = %s and name = 'Design development'", (project,)
    )
    _sync()
    invoice_id = _instalment(db, project, "Design development")[3]
    stack.stripe.webhook_secret = "whsec_wrong_so_delivery_fails"
    assert api.post(f"/_local/invoice/{invoice_id}/pay").status_code == 200
    intent = str(_one(db, "select stripe_payment_intent_id from payments"))
    assert api.post("/_local/stripe/_control/disputes", json={"payment_intent": intent}).status_code == 200
    assert _instalment(db, project, "Design development")[1] == "open"
    assert _one(db, "select count(*) from disputes") == 0

    # When the operator backfills, twice
    assert main(["stripe", "backfill", "--since", since]) == 0
    first = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert main(["stripe", "backfill", "--since", since]) == 0
    second = json.loads(capsys.readouterr().out.strip().splitlines()[-1])

    # Then the invoice is paid and the dispute recorded, as the webhooks would have left them; the second run is a no-op
    assert first == {"applied": 2, "duplicate": 1}
    assert second == {"duplicate": 3}
    assert _instalment(db, project, "Design development")[1] == "paid"
    assert _one(db, "select amount_paid, balance_due, disputed_amount from projects") == (1_050_000, 450_000, 450_000)
    assert _one(db, "select status, amount from disputes") == ("needs_response", 450_000)
    assert _one(db, "select count(*) from payments") == 1


def test_fifty_payments_at_once_take_receipt_numbers_without_gaps_or_repeats(
    stack: LocalStack, api: httpx.Client, db: Conn
) -> None:
    # Given fifty clients at Checkout at the same moment
    sessions = []
    for n in range(50):
        body = {
            "email": f"c{n}@example.com",
            "name": f"C{n}",
            "project_address": f"{n} Row",
            "budget": 5000,
            "timeline_weeks": 8,
            "project_type": "simple_renovation",
            "has_survey": True,
            "has_drawings": True,
        }
        answer = api.post("/leads", json=body, headers={"Idempotency-Key": f"n-{n}-{uuid.uuid4()}"}).json()
        sessions.append(str(answer["checkout_url"]).rstrip("/").rsplit("/", 1)[-1])
    assert stack.front_door is not None
    start = threading.Barrier(50)

    def pay(session: str) -> None:
        with httpx.Client(base_url=stack.front_door.url if stack.front_door else "", timeout=60) as client:
            start.wait()
            client.post(f"/_local/checkout/{session}/pay", follow_redirects=False)

    # When they all pay at once
    threads = [threading.Thread(target=pay, args=(s,)) for s in sessions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then the fifty receipts are numbered 1 to 50, each once
    numbers = [str(r[0]) for r in db.execute(b"select receipt_number from payments").fetchall()]
    assert sorted(numbers) == [f"RCT-{n:05d}" for n in range(1, 51)]
    assert _one(db, "select last_number from document_counters where kind = 'receipt'") == 50
