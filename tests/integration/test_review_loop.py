"""The review loop on the local stack: a lead the team qualifies in Notion (through the emulator, with the human token)
becomes a quote, its e-mail, a Stripe Checkout session, a payment and a project; a re-quote, an expiry, a decline and
each bad decision, as the client and the team see them."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import httpx
import psycopg
import pytest

from atelier.kernel.rpc import PsycopgRpc
from atelier.notion import NotionGateway
from atelier_local.lambda_runtime import LocalLambdas
from atelier_local.stack import LocalStack, scheduled_event
from tests.integration.test_notion_webhooks import _eventually

Conn = psycopg.Connection[tuple[object, ...]]

TIER4_LEAD: dict[str, Any] = {
    "email": "grace@example.com",
    "name": "Grace Hopper",
    "project_address": "1 Compiler Way",
    "budget": 60000,
    "timeline_weeks": 40,
    "project_type": "new_build",
    "has_survey": True,
    "has_drawings": False,
    "notes": "A house by the sea.",
}


def _one(db: Conn, query: str, *params: object) -> Any:
    row = db.execute(query.encode(), params).fetchone()
    return None if row is None else (row[0] if len(row) == 1 else row)


def _sync() -> None:
    LocalLambdas().invoke("notion_sync", scheduled_event(), timeout_seconds=60)


def _lead(api: httpx.Client, db: Conn, body: dict[str, Any] | None = None) -> tuple[str, str]:
    """A lead from the form, pushed to Notion: (lead id, its page id)."""
    answer = api.post("/leads", json=body or TIER4_LEAD, headers={"Idempotency-Key": f"k-{uuid.uuid4()}"})
    assert answer.status_code == 201, answer.text
    lead_id = str(answer.json()["lead_id"])
    _sync()
    page = _one(db, "select notion_page_id from leads where id = %s", lead_id)
    assert page
    return lead_id, str(page)


def _quote_mail(db: Conn, lead_id: str) -> list[tuple[str, str]]:
    return db.execute(
        "select n.status::text, n.body_text from notifications n join quotes q on q.id = n.subject_id "
        "where n.template = 'quote_sent' and q.lead_id = %s order by n.created_at",
        (lead_id,),
    ).fetchall()  # type: ignore[return-value]


def _quotes(db: Conn, lead_id: str) -> list[tuple[Any, ...]]:
    return db.execute(
        "select status, amount, tier, checkout_session_id, link_token from quotes where lead_id = %s "
        "order by created_at",
        (lead_id,),
    ).fetchall()


def _comments(stack: LocalStack, page_id: str) -> list[str]:
    """The comments on a page, as the team reads them."""
    assert stack.notion is not None
    wanted = page_id.replace("-", "")
    found = [c for key, cs in list(stack.notion.state.comments.items()) if key.replace("-", "") == wanted for c in cs]
    return ["".join(t.get("plain_text", "") for t in c["rich_text"]) for c in found]


def _qualify(team: NotionGateway, page: str, amount: float | None, **more: Any) -> None:
    props: dict[str, Any] = {"Status": {"select": {"name": "Qualified"}}, "Quote": {"number": amount}}
    team.update_page(page, props | more)


def test_a_tier4_lead_qualified_in_notion_is_quoted_once_paid_and_becomes_a_project(
    stack: LocalStack, api: httpx.Client, db: Conn, team: NotionGateway
) -> None:
    lead_id, page = _lead(api, db)
    assert _one(db, "select status::text from leads where id = %s", lead_id) == "needs_review"

    _qualify(team, page, 60000, **{"Note to Client": {"rich_text": [{"text": {"content": "We would love to."}}]}})

    waited = _eventually(lambda: [s for s, _ in _quote_mail(db, lead_id)] == ["sent"], seconds=10)
    [(status, amount, tier, session_id, token)] = _quotes(db, lead_id)
    assert (status, amount, tier) == ("sent", 6_000_000, 4)
    [(_, text)] = _quote_mail(db, lead_id)
    assert "$60,000" in text
    assert "KAA White Glove" in text
    assert "We would love to." in text
    assert f"/quote/{token}" in text
    assert "Contractor selection" in text
    assert waited < 10
    # The same edit seen again (the poll after the webhook) sends nothing more.
    _sync()
    assert len(_quote_mail(db, lead_id)) == 1

    page_view = api.get(f"/quote/{token}")
    assert page_view.status_code == 200
    assert "Accept and pay" in page_view.text

    assert stack.stripe is not None
    assert stack.stripe.sessions[session_id]["amount_total"] == 6_000_000
    assert stack.stripe.sessions[session_id]["metadata"]["quote_id"]
    stack.stripe.pay(session_id)

    project = _one(db, "select id::text, tier from projects where lead_id = %s", lead_id)
    assert project is not None
    assert project[1] == 4
    milestones = _one(db, "select count(*) from milestones where project_id = %s", project[0])
    assert milestones == _one(db, "select count(*) from milestone_templates where tier = 4") > 0
    assert _one(db, "select amount from payments where project_id = %s", project[0]) == 6_000_000
    assert _one(db, "select needs_review from projects where id = %s", project[0]) is False
    assert _one(db, "select status from quotes where lead_id = %s", lead_id) == "paid"
    thanks = api.get("/thanks", params={"session_id": session_id})
    assert thanks.status_code == 200
    assert "Payment received" in thanks.text
    _sync()
    props = team.retrieve_page(page)["properties"]
    assert props["Status"]["select"]["name"] == "Converted"
    assert "Paid" in "".join(t["plain_text"] for t in props["Quote State"]["rich_text"])


def test_a_requote_supersedes_the_first_whose_link_no_longer_pays(
    stack: LocalStack, api: httpx.Client, db: Conn, team: NotionGateway
) -> None:
    lead_id, page = _lead(api, db)
    _qualify(team, page, 60000)
    _eventually(lambda: len(_quote_mail(db, lead_id)) == 1 and _quote_mail(db, lead_id)[0][0] == "sent")
    team.update_page(page, {"Quote": {"number": 55000}})
    _eventually(lambda: [s for s, _ in _quote_mail(db, lead_id)] == ["sent", "sent"])

    (first, _, _, first_session, first_token), (second, amount, _, _, _) = _quotes(db, lead_id)
    assert (first, second, amount) == ("superseded", "sent", 5_500_000)
    assert stack.stripe is not None
    _eventually(lambda: stack.stripe is not None and stack.stripe.sessions[first_session]["status"] == "expired")
    assert api.get(f"/quote/{first_token}").status_code == 410
    assert api.post(f"/checkout-page/{first_session}/pay").status_code in (404, 410)
    thanks = api.get("/thanks", params={"session_id": first_session})
    assert "closed" in thanks.text


def test_an_expired_quote_offers_one_fresh_link_that_pays(
    stack: LocalStack, api: httpx.Client, db: Conn, team: NotionGateway
) -> None:
    lead_id, page = _lead(api, db)
    _qualify(team, page, None)  # empty: the tier's price
    _eventually(lambda: len(_quote_mail(db, lead_id)) == 1 and _quote_mail(db, lead_id)[0][0] == "sent")
    [(_, amount, _, session_id, token)] = _quotes(db, lead_id)
    assert amount == _one(db, "select price_cents from tiers where id = 4")
    assert stack.stripe is not None
    stack.stripe.expire(session_id)  # as Stripe does when expires_at passes: checkout.session.expired
    _eventually(lambda: _quotes(db, lead_id)[0][0] == "expired")

    offer = api.get(f"/quote/{token}")
    assert offer.status_code == 200
    assert "Get a fresh payment link" in offer.text
    assert "intake" not in offer.text
    fresh = api.post(f"/quote/{token}/renew", follow_redirects=False)
    again = api.post(f"/quote/{token}/renew", follow_redirects=False)
    assert fresh.status_code == again.status_code == 303
    assert fresh.headers["location"] == again.headers["location"] != stack.stripe.sessions[session_id]["url"]
    [(status, _, _, new_session, _)] = _quotes(db, lead_id)
    assert status == "sent"
    assert new_session != session_id
    stack.stripe.pay(new_session)
    assert _one(db, "select count(*) from projects where lead_id = %s", lead_id) == 1


def test_a_closed_lead_gets_one_courteous_email_and_a_late_payment_is_held(
    stack: LocalStack, api: httpx.Client, db: Conn, team: NotionGateway, capsys: pytest.CaptureFixture[str]
) -> None:
    clean = {**TIER4_LEAD, "budget": "$10k-15k", "timeline_weeks": 8, "project_type": "standard_renovation"}
    clean |= {"has_drawings": True, "email": "ada@example.com"}
    lead_id, page = _lead(api, db, clean)
    session_id = _one(db, "select checkout_session_id from leads where id = %s", lead_id)
    assert session_id  # auto-routed: the intake's session is open
    team.update_page(
        page,
        {
            "Status": {"select": {"name": "Closed"}},
            "Note to Client": {"rich_text": [{"text": {"content": "We are fully booked this year."}}]},
        },
    )
    _eventually(lambda: _one(db, "select status::text from notifications where template = 'lead_declined'") == "sent")
    _sync()
    assert _one(db, "select count(*) from notifications where template = 'lead_declined'") == 1
    assert "fully booked" in _one(db, "select body_text from notifications where template = 'lead_declined'")

    assert stack.stripe is not None
    stack.stripe.pay(str(session_id))
    assert _one(db, "select count(*) from projects where lead_id = %s", lead_id) == 0
    reason = _one(db, "select review_reason from payments where stripe_checkout_session_id = %s", session_id)
    assert reason
    assert "declined" in reason
    assert "will be in touch" in api.get("/thanks", params={"session_id": session_id}).text

    from atelier.cli import main

    capsys.readouterr()
    assert main(["check"]) == 1  # a finding: the payment waits for the owner
    assert "declined" in capsys.readouterr().out
    assert main(["report"]) == 0
    shown = capsys.readouterr().out
    assert "Payments held for the owner" in shown
    assert "declined (closed) before this payment" in shown


@pytest.mark.parametrize(
    ("edit", "said"),
    [
        ({"Quote": {"number": 0}}, "more than 0"),
        ({"Quote": {"number": -100}}, "more than 0"),
        ({"Quote": {"number": 40000}, "Tier": {"select": {"name": "The Concierge"}}}, "over the top"),
        ({"Quote": {"number": 2_000_000}}, "cap"),
    ],
)
def test_a_bad_decision_gets_one_comment_and_sends_nothing(
    stack: LocalStack, api: httpx.Client, db: Conn, team: NotionGateway, edit: dict[str, Any], said: str
) -> None:
    lead_id, page = _lead(api, db)
    team.update_page(page, {"Status": {"select": {"name": "Qualified"}}} | edit)
    _eventually(lambda: any(said in c for c in _comments(stack, page)))
    _sync()
    _sync()
    assert [c for c in _comments(stack, page) if "did not act" in c]
    assert len([c for c in _comments(stack, page) if "did not act" in c]) == 1
    assert _quotes(db, lead_id) == []
    assert _one(db, "select count(*) from notifications") == 0


def test_a_currency_stripe_does_not_take_and_a_converted_lead_are_refused(
    stack: LocalStack, api: httpx.Client, db: Conn, team: NotionGateway
) -> None:
    lead_id, page = _lead(api, db)
    db.execute("update tiers set currency = 'xyz' where id = 4")
    db.commit()
    _qualify(team, page, 60000)
    _eventually(lambda: any("Stripe does not take XYZ" in c for c in _comments(stack, page)))
    assert _quotes(db, lead_id) == []
    db.execute("update tiers set currency = 'usd' where id = 4")
    db.commit()

    team.update_page(page, {"Quote": {"number": 61000}})
    _eventually(lambda: len(_quote_mail(db, lead_id)) == 1 and _quote_mail(db, lead_id)[0][0] == "sent")
    assert stack.stripe is not None
    stack.stripe.pay(str(_quotes(db, lead_id)[0][3]))
    team.update_page(page, {"Quote": {"number": 70000}})
    _eventually(lambda: any("is now a project" in c for c in _comments(stack, page)))
    assert len(_quotes(db, lead_id)) == 1
    assert len(_quote_mail(db, lead_id)) == 1


def test_stripe_down_keeps_the_quote_and_its_email_until_it_answers(
    stack: LocalStack, api: httpx.Client, db: Conn, team: NotionGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert stack.stripe is not None
    lead_id, page = _lead(api, db)

    def down(*_: Any, **__: Any) -> Any:
        raise RuntimeError("Stripe is down")  # the stand-in answers 500

    monkeypatch.setattr(stack.stripe, "create_session", down)
    _qualify(team, page, 60000)
    _eventually(lambda: len(_quotes(db, lead_id)) == 1)
    _sync()
    [(status, _, _, session_id, _)] = _quotes(db, lead_id)
    assert (status, session_id) == ("sent", None)
    assert _one(db, "select status::text, attempts from notifications where template = 'quote_sent'") == ("pending", 0)

    monkeypatch.undo()
    _sync()
    _sync()
    assert _quotes(db, lead_id)[0][3] is not None
    assert [s for s, _ in _quote_mail(db, lead_id)] == ["sent"]


def test_two_decisions_at_once_leave_one_open_quote_the_later(database_url: str, db: Conn) -> None:
    rpc = PsycopgRpc(database_url)
    from atelier_local.samples import stored_lead

    lead_id = stored_lead(rpc)
    amounts = [1_100_000 + i * 10_000 for i in range(6)]
    start = threading.Barrier(len(amounts))

    def decide(amount: int) -> None:
        start.wait()
        PsycopgRpc(database_url).rpc(
            "send_quote", p_lead_id=lead_id, p_tier=2, p_amount=amount, p_note=None, p_cap=None
        )

    threads = [threading.Thread(target=decide, args=(a,)) for a in amounts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rows = db.execute("select status, amount from quotes where lead_id = %s order by created_at", (lead_id,)).fetchall()
    assert [s for s, _ in rows].count("sent") == 1
    assert sorted(str(s) for s, _ in rows) == ["sent"] + ["superseded"] * (len(amounts) - 1)  # each took its turn
    assert len(rows) == len(amounts)
    mails = _one(db, "select count(*) from notifications where template = 'quote_sent' and status = 'pending'")
    assert mails == 1  # the superseded ones' e-mails never go
