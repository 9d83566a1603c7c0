"""`atelier stripe replay`: from a file and from Stripe's events list, through the webhook's own path."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import psycopg
import pytest

from atelier.cli import main
from atelier_local.stack import LocalStack
from tests.integration.test_stripe_webhook import LEAD, SESSIONS, checkout, make

Conn = psycopg.Connection[tuple[object, ...]]


@pytest.fixture
def lead_id(api: httpx.Client) -> str:
    answer = api.post("/leads", json=LEAD, headers={"Idempotency-Key": "replay-lead-1"}).json()
    SESSIONS[str(answer["lead_id"])] = str(answer["checkout_url"]).rsplit("/", 1)[-1]  # what its events name
    return str(answer["lead_id"])


def test_replay_from_a_file_applies_once_however_often_it_runs(
    lead_id: str,
    database_url: str,
    db: Conn,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    events = [
        checkout(lead_id),
        make("stripe_payment_intent_succeeded", lead_id),
        make("stripe_customer_created", None),
    ]
    path = tmp_path / "events.json"
    path.write_text(json.dumps({"object": "list", "data": events}))

    assert main(["stripe", "replay", str(path)]) == 0
    first = capsys.readouterr()
    assert json.loads(first.out.strip().splitlines()[-1]) == {"applied": 2, "unhandled": 1}
    assert "stripe replay finished: 3 in" in first.err  # the progress (a live bar on a terminal only)
    assert main(["stripe", "replay", str(path)]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == {"duplicate": 2, "unhandled": 1}
    assert db.execute("select count(*) from projects").fetchone() == (1,)


def test_replay_since_lists_events_from_stripe_including_undelivered(
    api: httpx.Client,
    stack: LocalStack,
    db: Conn,
    as_operator: Callable[[], None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given a paid checkout whose webhook never arrived (the project does not exist yet)
    answer = api.post("/leads", json=LEAD, headers={"Idempotency-Key": "replay-lead-2"}).json()
    assert stack.stripe is not None
    session_id = answer["checkout_url"].rsplit("/", 1)[1]
    stack.stripe.webhook_secret = "whsec_wrong_so_delivery_fails"
    stack.stripe.pay(session_id)
    assert db.execute("select count(*) from projects").fetchone() == (0,)

    # When the operator replays from Stripe's events list (the local stand-in, found through dev.json)
    as_operator()
    assert main(["stripe", "replay", "--since", "2020-01-01T00:00:00"]) == 0

    # Then the project exists, once
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == {"applied": 1}
    assert db.execute("select count(*) from projects").fetchone() == (1,)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["stripe", "replay"], "give one of: a FILE of events, --since TIME"),
        (["stripe", "replay", "/no/such/file.json"], "no file /no/such/file.json"),
        (["stripe", "replay", "--since", "yesterday"], "is not a time such as"),
    ],
)
def test_replay_mistakes_say_what_to_do(
    args: list[str],
    message: str,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert main(args) == 2
    assert message in capsys.readouterr().err


def test_replay_refuses_a_file_that_is_not_events(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    path = tmp_path / "x.json"
    path.write_text('[{"id": "cus_1", "object": "customer"}]')
    assert main(["stripe", "replay", str(path)]) == 2
    assert "are not Stripe events" in capsys.readouterr().err


def test_a_signed_event_that_can_never_apply_is_acknowledged_recorded_rejected_and_replayable(
    api: httpx.Client,
    stack: LocalStack,
    lead_id: str,
    database_url: str,
    db: Conn,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from tests.integration.test_stripe_webhook import deliver

    secret = stack.settings["STRIPE_WEBHOOK_SECRET"]
    # Given signed events whose contents can never apply: an amount that is not one, a refund past the charge
    bad_amount = checkout(lead_id, amount_total="7500.00")
    bad_refund = make("stripe_charge_refunded", lead_id, amount=100, amount_refunded=500)

    # When Stripe delivers them, Then each is answered 200 (Stripe stops retrying) as rejected, nothing applies,
    # and the ledger keeps each with its reason
    for event in (bad_amount, bad_refund):
        response = deliver(api, event, secret)
        assert (response.status_code, response.json()["outcome"]) == (200, "rejected")
    assert db.execute("select count(*) from payments").fetchone() == (0,)
    rows = db.execute("select event_id, reason from inbound_events where outcome = 'rejected'").fetchall()
    reasons = {str(event_id): str(reason) for event_id, reason in rows}
    assert "amount_total is not a whole number of cents" in str(reasons[bad_amount["id"]])
    assert "larger than the charge" in str(reasons[bad_refund["id"]])

    # When the cause is fixed (here: the ledger's copy of the event is corrected) and replay --rejected runs,
    # Then the event applies once, and the ledger says applied
    db.execute(
        "update inbound_events set payload = jsonb_set(payload, '{data,object,amount_total}', '750000')"
        " where event_id = %s",
        (bad_amount["id"],),
    )
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert main(["stripe", "replay", "--rejected"]) == 0
    outcomes = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert outcomes == {"applied": 1, "rejected": 1}
    assert db.execute(
        "select outcome::text from inbound_events where event_id = %s", (bad_amount["id"],)
    ).fetchone() == ("applied",)
    assert db.execute("select count(*) from projects").fetchone() == (1,)
    assert main(["stripe", "replay", "--rejected"]) == 0  # the refund is still rejected; nothing else changes
    assert db.execute("select count(*) from projects").fetchone() == (1,)
