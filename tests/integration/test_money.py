"""Money as studios take it, on the local stack: tier 3 set to 30/40/30 in Notion's Services; the deposit paid at
booking; "Design development" done in Notion invoices 40% once (the edit seen twice); a failed card leaves it due,
then overdue with a task; paying on the stand-in's hosted page moves the balance in Postgres, Notion, the portal and
the report; a dispute flags the project; `atelier dispute evidence` writes the PDF; invoice and dispute events in
any order and twice end alike; `atelier stripe backfill` rebuilds what missed webhooks lost; numbers have no gaps."""

from __future__ import annotations

import email
import email.policy
import io
import itertools
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import stripe
from moto.ses.models import ses_backends
from pypdf import PdfReader

from atelier.cli import main
from atelier.kernel.rpc import PsycopgRpc
from atelier.notion import NotionGateway
from atelier.payments.stripe_events import StripeEventService
from atelier_local.lambda_runtime import LocalLambdas
from atelier_local.stack import LocalStack, scheduled_event
from tests.integration.generated import _s3
from tests.integration.stripe_types import object_problems
from tests.integration.test_client_portal import _link, _sign_in
from tests.integration.test_team_catalogue import _one, _page, _sync, _within

Conn = psycopg.Connection[tuple[object, ...]]
TIER3 = {
    "email": "t3@example.com",
    "name": "Tess",
    "project_address": "3 Long Road",
    "has_survey": True,
    "has_drawings": True,
    "budget": 25000,
    "timeline_weeks": 16,
    "project_type": "major_renovation",
}
PRICE = 1_500_000  # tier 3's seed price, in cents


def _schedule_tier3(team: NotionGateway, db: Conn) -> None:
    """The team gives tier 3 a 30/40/30 schedule in its Services page: a share on two milestone lines."""
    page = _page(db, "service", "3")
    for block in team.list_blocks(page):
        text = "".join(t.get("plain_text", "") for t in block.get(block["type"], {}).get("rich_text", []))
        share = {"Design development": 40, "Construction documents": 30}.get(text.split(":")[0])
        if share and block["type"] == "bulleted_list_item":
            line = {"rich_text": [{"type": "text", "text": {"content": f"{text}, {share}%"}}]}

            def edit(block_id: str = str(block["id"]), line: dict[str, Any] = line) -> Any:
                return team._client.blocks.update(block_id=block_id, bulleted_list_item=line)

            team._send(edit, safe=False, deadline=None)
    team.append_blocks(
        page,
        [
            {
                "type": "bulleted_list_item",
                "bulleted_list_item": {"rich_text": [{"type": "text", "text": {"content": "At booking: 30%"}}]},
            }
        ],
    )
    assert _within(15, lambda: _one(db, "select deposit_percent from tiers where id = 3") == 30)


def _pay_deposit(api: httpx.Client, stack: LocalStack, db: Conn, email: str = "t3@example.com") -> tuple[str, str]:
    answer = api.post("/leads", json=TIER3 | {"email": email}, headers={"Idempotency-Key": f"m-{uuid.uuid4()}"})
    body = answer.json()
    assert (body["tier"], body["next_step"]["action"]) == (3, "pay"), body
    assert "deposit of $4,500 (30% of $15,000)" in body["next_step"]["message"]
    assert [p["amount_cents"] for p in body["payment_schedule"]] == [450_000, 600_000, 450_000]
    session = str(body["checkout_url"]).rstrip("/").rsplit("/", 1)[-1]
    assert stack.stripe is not None
    assert stack.stripe.sessions[session]["amount_total"] == 450_000
    api.post(f"/_local/checkout/{session}/pay", follow_redirects=False)
    thanks = api.get("/thanks", params={"session_id": session}).text
    assert "Your payment schedule" in thanks
    assert "Design development</strong>: 40%, $6,000, invoiced when the milestone is done" in thanks
    project = _one(
        db,
        "select p.id from projects p join clients c on c.id = p.client_id join users u on u.id = c.user_id"
        " where u.email = %s",
        email,
    )
    payment = _one(db, "select id from payments where project_id = %s", project)
    return str(project), str(payment)


def _instalment(db: Conn, project: str, label: str) -> tuple[Any, ...]:
    row = db.execute(
        b"select id, status, amount, stripe_invoice_id, number, failures, receipt_number from payment_schedule"
        b" where project_id = %s and label = %s",
        (project, label),
    ).fetchone()
    assert row is not None
    return tuple(row)


def _done_in_notion(team: NotionGateway, db: Conn, project: str, name: str) -> str:
    page = str(_one(db, "select notion_page_id from milestones where project_id = %s and name = %s", project, name))
    team.update_page(page, {"Status": {"status": {"name": "Done"}}})
    return page


def test_a_tier3_schedule_takes_a_deposit_invoices_its_milestone_once_and_moves_the_balance_everywhere(
    stack: LocalStack,
    team: NotionGateway,
    api: httpx.Client,
    db: Conn,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    # Given tier 3 at 30/40/30 in Notion, and a client who paid its deposit at booking
    _schedule_tier3(team, db)
    project, payment = _pay_deposit(api, stack, db)
    rows = db.execute(
        b"select milestone, share::text, amount, status from payment_schedule where project_id = %s order by position",
        (project,),
    ).fetchall()
    assert rows == [
        ("At booking", "30.00", 450_000, "paid"),
        ("Design development", "40.00", 600_000, "scheduled"),
        ("Construction documents", "30.00", 450_000, "scheduled"),
    ]
    assert _one(db, "select amount_total, amount_paid, balance_due from projects where id = %s", project) == (
        PRICE,
        450_000,
        1_050_000,
    )
    assert str(_one(db, "select receipt_number from payments where id = %s", payment)).startswith("RCT-")
    _sync()

    # And the receipt e-mail carries the receipt as a PDF
    LocalLambdas().invoke("client_mail", scheduled_event(), timeout_seconds=120)
    raw = [
        m.raw_data
        for account in ses_backends.values()
        for backend in account.values()
        for m in backend.sent_messages
        if "t3@example.com" in str(getattr(m, "raw_data", "")) and "Payment received" in str(m.raw_data)
    ]
    assert len(raw) == 1
    mail = email.message_from_string(raw[0], policy=email.policy.default)
    enclosed = [a for a in mail.iter_attachments() if a.get_content_type() == "application/pdf"]
    receipt_number = str(_one(db, "select receipt_number from payments where id = %s", payment))
    assert [a.get_filename() for a in enclosed] == [f"receipt-{receipt_number}.pdf"]
    assert receipt_number in PdfReader(io.BytesIO(enclosed[0].get_content())).pages[0].extract_text()

    # When "Design development" is marked done in Notion, and the edit is seen twice (the webhook, then the poll)
    milestone_page = _done_in_notion(team, db, project, "Design development")
    assert _within(15, lambda: _instalment(db, project, "Design development")[1] == "open")
    team.update_page(milestone_page, {"Status": {"status": {"name": "Done"}}})
    _sync()
    _sync()

    # Then exactly one invoice of 40% was sent, numbered, with Stripe's hosted page
    assert stack.stripe is not None
    schedule_id, _, amount, invoice_id, number, _, _ = _instalment(db, project, "Design development")
    sent = [
        i for i in stack.stripe.billing.invoices.values() if i["metadata"]["atelier_schedule_id"] == str(schedule_id)
    ]
    assert [(i["id"], i["amount_due"], i["status"]) for i in sent] == [(invoice_id, 600_000, "open")]
    assert str(number).startswith("INV-")
    assert amount == 600_000

    # When the client's card fails on the hosted page: it stays due; once past its date, it is overdue with a task
    page = api.post(f"/_local/invoice/{invoice_id}/fail")
    assert page.status_code == 402
    assert "declined" in page.text
    assert _within(10, lambda: _instalment(db, project, "Design development")[5] == 1)
    assert _instalment(db, project, "Design development")[1] == "open"
    db.execute(b"update payment_schedule set due_date = current_date - 3 where id = %s", (schedule_id,))
    LocalLambdas().invoke("client_mail", scheduled_event(), timeout_seconds=120)  # the mail's run finds it
    assert _one(db, "select count(*) from tasks where kind = 'collect_invoice' and project_id = %s", project) == 1
    _sync()  # and the sync's run too, which makes no second task
    tasks = db.execute(b"select title from tasks where kind = 'collect_invoice' and project_id = %s", (project,))
    assert [str(t[0]) for t in tasks.fetchall()] == [
        f"Collect overdue invoice {number}: 3 Long Road - The Concierge (6,000.00 USD, due "
        f"{(datetime.now(UTC).date() - timedelta(days=3)):%-d %b})"
    ]
    report = PsycopgRpc(stack.database_url).rpc("report_money")
    assert [i["number"] for i in report["overdue_invoices"]] == [number]

    # When the client pays it on the hosted page
    paid = api.post(f"/_local/invoice/{invoice_id}/pay")
    assert paid.status_code == 200
    assert "Paid" in paid.text

    # Then the balance moves in Postgres, the report, Notion and the portal
    assert _within(10, lambda: _instalment(db, project, "Design development")[1] == "paid")
    assert str(_instalment(db, project, "Design development")[6]).startswith("RCT-")
    assert _one(db, "select amount_paid, balance_due from projects where id = %s", project) == (1_050_000, 450_000)
    report = PsycopgRpc(stack.database_url).rpc("report_money")
    assert report["overdue_invoices"] == []
    assert [b["balance_due"] for b in report["balances"]] == [450_000]
    _sync()
    project_page = team.retrieve_page(str(_one(db, "select notion_page_id from projects where id = %s", project)))
    assert project_page["properties"]["Balance Due"]["number"] == 4500
    assert project_page["properties"]["Amount Paid"]["number"] == 10500
    portal = _sign_in(stack, _link("t3@example.com", capsys)).get(f"/portal/projects/{project}").text
    assert "Payment schedule" in portal
    assert "Balance due</dt><dd>$4,500" in portal
    assert "Construction documents</td><td class='n share'>30%</td><td class='n'>$4,500</td><td>when the" in portal

    # And each receipt and invoice is the client's to download from the portal, and no one else's
    client = _sign_in(stack, _link("t3@example.com", capsys))
    receipt = str(_one(db, "select receipt_number from payments where id = %s", payment))
    assert f'href="/portal/documents/{receipt}"' in portal
    assert f'href="/portal/documents/{number}"' in portal
    for doc in (receipt, number, _instalment(db, project, "Design development")[6]):
        got = client.get(f"/portal/documents/{doc}")
        assert (got.status_code, got.headers["content-type"]) == (200, "application/pdf"), doc
        text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(got.content)).pages)
        assert str(doc) in text
        assert "Project total: $15,000" in text
    state = stack.dev_state()
    kept = _s3(str(state["s3_endpoint_url"])).list_objects_v2(
        Bucket=state["deliverables_bucket"], Prefix=f"projects/{project}/documents/"
    )
    shelved = sorted(str(o["Key"]).rsplit("/", 1)[-1] for o in kept.get("Contents", []))
    assert shelved == sorted(f"{n}.pdf" for n in (receipt, number, _instalment(db, project, "Design development")[6]))
    assert _one(db, "select count(*) from deliverables where project_id = %s", project) == 0  # beside, not among
    stranger_project, _ = _pay_deposit(api, stack, db, email="other@example.com")
    assert stranger_project != project
    stranger = _sign_in(stack, _link("other@example.com", capsys))
    assert stranger.get(f"/portal/documents/{receipt}").status_code == 404
    assert client.get("/portal/documents/RCT-99999").status_code == 404
    assert client.get("/portal/documents/../../etc").status_code in (404, 400)

    # When the client disputes the deposit with their bank
    intent = str(_one(db, "select stripe_payment_intent_id from payments where id = %s", payment))
    opened = api.post("/_local/stripe/_control/disputes", json={"payment_intent": intent, "reason": "fraudulent"})
    assert opened.status_code == 200, opened.text

    # Then it is recorded against the payment, the project is flagged with a comment and a task, and reported
    assert _within(10, lambda: _one(db, "select status from disputes where payment_id = %s", payment))
    assert _one(db, "select needs_review, disputed_amount from projects where id = %s", project) == (True, 450_000)
    assert _one(db, "select count(*) from tasks where kind = 'answer_dispute' and project_id = %s", project) == 1
    _sync()
    comments = [c for c in team.list_comments(project_page["id"]) if "disputed" in json.dumps(c)]
    assert len(comments) == 1
    assert [d["amount"] for d in PsycopgRpc(stack.database_url).rpc("report_money")["disputes"]] == [450_000]

    # And the evidence PDF names the approvals and the delivery dates
    db.execute(b"update milestones set status = 'completed' where project_id = %s and \"order\" = 1", (project,))
    deliverable = _one(
        db,
        "insert into deliverables (project_id, name, file_path, file_size, s3_bucket, category) values (%s,"
        " 'Plans.pdf', 'projects/x/Document/Plans.pdf', 10, 'b', 'Document') returning id",
        project,
    )
    db.execute(
        b"insert into approvals (project_id, deliverable_id, version, file_path, decision, user_id) select %s, %s, 1,"
        b" 'projects/x/Document/Plans.pdf', 'approved', u.id from users u where u.email = 't3@example.com'",
        (project, deliverable),
    )
    out = tmp_path / "evidence.pdf"
    capsys.readouterr()
    assert main(["dispute", "evidence", payment, "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == f"dispute evidence: wrote {out}"
    pdf = out.read_bytes()
    assert pdf.startswith(b"%PDF")
    # And every object the Stripe stand-in answered with is one the `stripe` library's types declare
    found = [
        *(object_problems(i, stripe.Invoice) for i in stack.stripe.billing.invoices.values()),
        *(object_problems(d, stripe.Dispute) for d in stack.stripe.billing.disputes.values()),
        *(object_problems(c, stripe.Charge) for c in stack.stripe.billing._charges()),
        *(object_problems(c, stripe.checkout.Session) for c in stack.stripe.sessions.values()),
    ]
    assert [p for problems in found for p in problems] == []
    for words in (
        b"Plans.pdf version 1 approved by t3@example.com",
        b"Delivered 20",
        b"Milestone Design development",
        b"done 20",
        b"fraudulent",
    ):
        assert words in pdf, words


def test_invoice_and_dispute_events_in_every_order_and_twice_end_in_the_same_state(
    stack: LocalStack, team: NotionGateway, api: httpx.Client, db: Conn
) -> None:
    # Given a paid deposit, and one invoiced instalment per ordering to try
    _schedule_tier3(team, db)
    project, payment = _pay_deposit(api, stack, db)
    intent = str(_one(db, "select stripe_payment_intent_id from payments where id = %s", payment))
    service = StripeEventService(PsycopgRpc(stack.database_url), livemode=False)
    invoice_kinds = ("invoice.payment_failed", "invoice.paid", "invoice.payment_failed")
    dispute_states = (
        ("charge.dispute.created", "needs_response"),
        ("charge.dispute.updated", "under_review"),
        ("charge.dispute.closed", "won"),
    )
    ends: set[tuple[Any, ...]] = set()
    for n, order in enumerate(itertools.permutations(range(3))):
        invoice_id = f"in_order{n}"
        row = _one(
            db,
            "insert into payment_schedule (business_id, project_id, label, position, share, amount, currency, status,"
            " stripe_invoice_id, number) select business_id, id, 'Extra', 10 + %s, 10, 150000, 'usd', 'open', %s,"
            " 'X-' || %s from projects where id = %s returning id",
            n,
            invoice_id,
            n,
            project,
        )
        dispute_id = f"dp_order{n}"
        events = []
        for i in order:
            invoice = {"id": invoice_id, "object": "invoice", "amount_paid": 150000, "currency": "usd", "metadata": {}}
            events.append(_event(f"evt_i{n}_{i}", invoice_kinds[i], invoice))
            kind, status = dispute_states[i]
            dispute = {
                "id": dispute_id,
                "object": "dispute",
                "amount": 450000,
                "currency": "usd",
                "payment_intent": intent,
                "charge": "ch_x",
                "reason": "general",
                "status": status,
            }
            events.append(_event(f"evt_d{n}_{i}", kind, dispute))
        for event in events + events:  # every event twice
            service.apply(event)
        state = db.execute(
            b"select s.status, s.failures, s.amount_paid, (select d.status from disputes d where"
            b" d.stripe_dispute_id = %s) from payment_schedule s where s.id = %s",
            (dispute_id, row),
        ).fetchone()
        assert state is not None
        ends.add(tuple(state))
    assert ends == {("paid", 2, 150000, "won")}


def _event(event_id: str, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
    return {"id": event_id, "object": "event", "type": kind, "livemode": False, "created": 1, "data": {"object": obj}}
