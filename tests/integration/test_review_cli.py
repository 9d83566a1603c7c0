"""The review loop from the operator's and the owner's side: `atelier quote send|list`, a returning client's open
quote in the portal, tier 3's conditional routing, a quote paid short, and the funnel's quoted count."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx
import psycopg
import pytest

from atelier.kernel.rpc import PsycopgRpc
from atelier_local.stack import LocalStack
from tests.integration.test_review_loop import TIER4_LEAD, _one, _quotes

Conn = psycopg.Connection[tuple[object, ...]]


def test_a_returning_client_sees_the_open_quote_in_the_portal_and_the_cli_sends_and_lists(
    stack: LocalStack, api: httpx.Client, db: Conn, capsys: pytest.CaptureFixture[str]
) -> None:
    from atelier.cli import main
    from tests.integration.test_client_portal import _client, _link, _sign_in

    stack.setup_notion()
    _client(api, db, "Grace Hopper", "grace@example.com")  # paid once already
    answer = api.post("/leads", json=TIER4_LEAD, headers={"Idempotency-Key": f"k-{uuid.uuid4()}"}).json()
    lead_id = str(answer["lead_id"])

    capsys.readouterr()
    with pytest.raises(SystemExit) as refused:  # argparse refuses it at once: not an amount above 0
        main(["quote", "send", lead_id, "--amount", "0"])
    assert refused.value.code == 2
    assert main(["quote", "send", lead_id, "--amount", "40,000", "--tier", "3"]) == 2
    assert "over the top of The Concierge" in capsys.readouterr().out
    assert main(["quote", "send", lead_id, "--amount", "62,500", "--note", "For the sea house."]) == 0
    assert "e-mail sent" in capsys.readouterr().out
    assert main(["quote", "send", lead_id, "--amount", "62,500", "--note", "For the sea house."]) == 0
    assert "nothing sent again" in capsys.readouterr().out
    [(status, amount, _, session_id, token)] = _quotes(db, lead_id)
    assert (status, amount) == ("sent", 6_250_000)
    assert session_id

    visitor = _sign_in(stack, _link("grace@example.com", capsys))
    home = visitor.get("/portal")
    assert "A quote waiting for you" in home.text
    assert f"/quote/{token}" in home.text
    assert "$62,500" in home.text

    capsys.readouterr()
    assert main(["quote", "list", "--json"]) == 0
    [listed] = json.loads(capsys.readouterr().out)
    assert (listed["lead_id"], listed["status"], listed["mail"]) == (lead_id, "sent", "sent")
    assert main(["quote", "list", "--status", "paid"]) == 0
    assert "none paid" in capsys.readouterr().out


def test_a_clean_tier3_lead_gets_its_checkout_at_once_and_a_flagged_one_waits_for_review(
    api: httpx.Client, stack: LocalStack
) -> None:
    base = {"email": "t3@example.com", "name": "Tier Three", "has_survey": True, "has_drawings": True}
    clean = api.post(
        "/leads",
        json=base | {"budget": 25000, "timeline_weeks": 16, "project_type": "major_renovation"},
        headers={"Idempotency-Key": f"k-{uuid.uuid4()}"},
    ).json()
    assert (clean["tier"], clean["confidence"], clean["red_flags"], clean["needs_review"]) == (3, "high", [], False)
    assert clean["next_step"]["action"] == "pay"
    assert stack.stripe is not None
    assert stack.stripe.sessions[clean["checkout_url"].rstrip("/").rsplit("/", 1)[-1]]["amount_total"] == 1_500_000
    flagged = api.post(
        "/leads",
        json=base | {"budget": 10000, "timeline_weeks": 1, "project_type": "new_build"},
        headers={"Idempotency-Key": f"k-{uuid.uuid4()}"},
    ).json()
    assert (flagged["tier"], flagged["needs_review"], flagged["checkout_url"]) == (3, True, None)
    assert flagged["red_flags"]


def test_a_quote_paid_short_is_held_and_the_funnel_counts_quoted_leads(
    stack: LocalStack, api: httpx.Client, db: Conn, database_url: str, tmp_path: Path
) -> None:
    rpc = PsycopgRpc(database_url)
    lead_id = str(
        api.post("/leads", json=TIER4_LEAD, headers={"Idempotency-Key": f"k-{uuid.uuid4()}"}).json()["lead_id"]
    )
    quote = rpc.rpc("send_quote", p_lead_id=lead_id, p_tier=None, p_amount=6_000_000, p_note=None, p_cap=None)
    session = f"cs_test_{uuid.uuid4().hex[:20]}"
    rpc.rpc(
        "quote_session_opened",
        p_quote_id=quote["quote_id"],
        p_session_id=session,
        p_url=f"https://checkout.example/{session}",
        p_expires_at="2030-01-01T00:00:00Z",
    )
    paid = rpc.rpc(
        "apply_stripe_event",
        p_event_id=f"evt_{uuid.uuid4().hex}",
        p_event_type="checkout.session.completed",
        p_kind="fulfil",
        p_reason=None,
        p_lead_id=lead_id,
        p_tier=4,
        p_checkout_session_id=session,
        p_payment_intent_id=f"pi_{uuid.uuid4().hex}",
        p_customer_id="cus_1",
        p_email=TIER4_LEAD["email"],
        p_amount=3_500_000,  # the tier's list price, not the quote
        p_amount_refunded=None,
        p_currency="usd",
    )
    assert paid["held"]
    assert "under the quote" in paid["held"]
    assert _one(db, "select count(*) from projects where lead_id = %s", lead_id) == 0

    from openpyxl import load_workbook  # type: ignore[import-untyped]

    from atelier.cli import main

    assert main(["report", "--xlsx", str(tmp_path / "r.xlsx")]) == 0
    funnel = list(load_workbook(tmp_path / "r.xlsx")["The funnel by tier"].iter_rows(values_only=True))
    assert funnel[0][4] == "Quoted"
    assert funnel[-1][4] == 1
    assert funnel[4][0] == "KAA White Glove"
    assert funnel[4][4] == 1
    assert funnel[4][7] is not None  # the median days from lead to quote


def test_a_fresh_link_asked_for_while_stripe_is_down_says_to_try_again_and_then_opens(
    stack: LocalStack, api: httpx.Client, db: Conn, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typing import Any

    from atelier.cli import main

    lead_id = str(
        api.post("/leads", json=TIER4_LEAD, headers={"Idempotency-Key": f"k-{uuid.uuid4()}"}).json()["lead_id"]
    )
    assert main(["quote", "send", lead_id]) == 0
    db.execute("update quotes set expires_at = now() - interval '1 minute' where lead_id = %s", (lead_id,))
    db.commit()  # its payment page has closed (Stripe's expires_at passed)
    token = _quotes(db, lead_id)[0][4]
    assert stack.stripe is not None

    def down(*_: Any, **__: Any) -> Any:
        raise RuntimeError("Stripe is down")

    monkeypatch.setattr(stack.stripe, "create_session", down)
    refused = api.post(f"/quote/{token}/renew", follow_redirects=False)
    assert refused.status_code == 303
    assert refused.headers["location"].endswith(f"/quote/{token}?again=1")
    assert "try again in a minute" in api.get(refused.headers["location"]).text
    monkeypatch.undo()
    fresh = api.post(f"/quote/{token}/renew", follow_redirects=False)
    assert "/_local/checkout/" in fresh.headers["location"]
    assert _quotes(db, lead_id)[0][0] == "sent"
