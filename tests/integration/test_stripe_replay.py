"""`atelier stripe replay`: from a file and from Stripe's events list, through the webhook's own path."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import psycopg
import pytest

from atelier.cli import main
from atelier_local.stack import LocalStack
from tests.integration.test_stripe_webhook import LEAD, checkout, make

Conn = psycopg.Connection[tuple[object, ...]]


@pytest.fixture
def lead_id(api: httpx.Client) -> str:
    return str(api.post("/leads", json=LEAD, headers={"Idempotency-Key": "replay-lead-1"}).json()["lead_id"])


def test_replay_from_a_file_applies_once_however_often_it_runs(
    lead_id: str, database_url: str, db: Conn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
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
    assert "stripe replay [" in first.err  # the progress bar
    assert main(["stripe", "replay", str(path)]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == {"duplicate": 2, "unhandled": 1}
    assert db.execute("select count(*) from projects").fetchone() == (1,)


def test_replay_since_lists_events_from_stripe_including_undelivered(
    api: httpx.Client, stack: LocalStack, db: Conn, database_url: str, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], tmp_path: Path,
) -> None:  # fmt: skip
    # Given a paid checkout whose webhook never arrived (the project does not exist yet)
    answer = api.post("/leads", json=LEAD, headers={"Idempotency-Key": "replay-lead-2"}).json()
    assert stack.stripe is not None
    session_id = answer["checkout_url"].rsplit("/", 1)[1]
    stack.stripe.webhook_secret = "whsec_wrong_so_delivery_fails"
    stack.stripe.pay(session_id)
    assert db.execute("select count(*) from projects").fetchone() == (0,)

    # When the operator replays from Stripe's events list (the local stand-in, found through dev.json)
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".atelier").mkdir()
    assert stack.front_door is not None
    (tmp_path / ".atelier" / "dev.json").write_text(json.dumps(stack.dev_state()))
    monkeypatch.delenv("STRIPE_SECRET_KEY", raising=False)
    monkeypatch.delenv("STRIPE_API_BASE", raising=False)
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert main(["stripe", "replay", "--since", "2020-01-01T00:00:00"]) == 0

    # Then the project exists, once
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == {"applied": 1}
    assert db.execute("select count(*) from projects").fetchone() == (1,)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["stripe", "replay"], "give a FILE of events, or --since TIME"),
        (["stripe", "replay", "/no/such/file.json"], "no file /no/such/file.json"),
        (["stripe", "replay", "--since", "yesterday"], "is not a time such as"),
    ],
)
def test_replay_mistakes_say_what_to_do(
    args: list[str], message: str, database_url: str, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], tmp_path: Path,
) -> None:  # fmt: skip
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
