"""The client's journey on the local stack: Checkout's way back (/thanks, /cancelled), and the e-mails the studio
sends (through SES, moto's here), once per event however often the event is delivered."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import httpx
import psycopg
import pytest

from atelier.cli import main
from atelier.kernel.rpc import PsycopgRpc
from atelier_local.lambda_runtime import LocalLambdas
from atelier_local.stack import LocalStack, scheduled_event
from tests.seed_catalogue import TIER_NAME

Conn = psycopg.Connection[tuple[object, ...]]
LEAD = {
    "name": "Rosa Client",
    "email": "rosa@example.com",
    "project_address": "5 Quay Street",
    "budget": "$10k-15k",
    "timeline_weeks": 10,
    "project_type": "standard_renovation",
    "has_survey": True,
    "has_drawings": True,
}


def _lead(api: httpx.Client, **changes: Any) -> dict[str, Any]:
    response = api.post("/leads", json=LEAD | changes, headers={"Idempotency-Key": f"journey-{uuid.uuid4()}"})
    assert response.status_code == 201, response.text
    return dict(response.json())


def _session(answer: dict[str, Any]) -> str:
    return str(answer["checkout_url"]).rstrip("/").rsplit("/", 1)[-1]


def _mail() -> dict[str, Any]:
    return dict(LocalLambdas().invoke("client_mail", scheduled_event(), timeout_seconds=60))


def _wait(check: Any, seconds: float = 10) -> None:
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < seconds, "not in time"
        time.sleep(0.05)


def test_the_thanks_page_says_what_the_payment_led_to_and_waits_for_the_webhook(
    stack: LocalStack, api: httpx.Client
) -> None:
    assert stack.stripe is not None
    answer = _lead(api)
    session_id = _session(answer)

    waiting = api.get("/thanks", params={"session_id": session_id})
    assert waiting.status_code == 200
    assert 'http-equiv="refresh"' in waiting.text
    assert "confirming your payment" in waiting.text

    paid = api.post(f"/_local/checkout/{session_id}/pay", follow_redirects=False)
    assert paid.status_code == 303
    assert paid.headers["location"].endswith(f"/thanks?session_id={session_id}")
    page = api.get("/thanks", params={"session_id": session_id})
    assert page.status_code == 200
    assert "Payment received, Rosa" in page.text
    assert f"5 Quay Street - {TIER_NAME[2]}" in page.text
    assert "Discovery and site review" in page.text
    assert 'http-equiv="refresh"' not in page.text
    assert "rosa@example.com" not in page.text  # no e-mail addresses on the page


@pytest.mark.parametrize("session_id", [None, "", "cs_test_madeup", "cs_' or 1=1 --", "x" * 5000, "pi_123"])
def test_a_made_up_session_gets_a_plain_not_found(stack: LocalStack, api: httpx.Client, session_id: Any) -> None:
    _lead(api)  # someone else's session exists
    page = api.get("/thanks", params={} if session_id is None else {"session_id": session_id})
    assert page.status_code == 404
    assert "We could not find that payment" in page.text
    assert "Rosa" not in page.text


def test_cancelling_lands_on_the_cancel_page(stack: LocalStack, api: httpx.Client) -> None:
    answer = _lead(api)
    checkout = api.get(str(answer["checkout_url"]).replace(str(api.base_url).rstrip("/"), ""))
    assert "name='viewport'" in checkout.text
    cancel = checkout.text.split('<a href="', 1)[1].split('"', 1)[0]
    assert cancel.endswith("/cancelled")
    page = api.get("/cancelled")
    assert page.status_code == 200
    assert "Nothing was charged" in page.text


def test_a_declined_card_stays_on_checkout_and_a_bank_debit_settles_later(
    stack: LocalStack, api: httpx.Client, db: Conn
) -> None:
    session_id = _session(_lead(api))
    declined = api.post(f"/_local/checkout/{session_id}/decline")
    assert declined.status_code == 402
    assert "Your card was declined" in declined.text
    assert db.execute("select count(*) from payments").fetchone() == (0,)

    api.post(f"/_local/checkout/{session_id}/bank", follow_redirects=False)
    assert "confirming your payment" in api.get("/thanks", params={"session_id": session_id}).text
    _wait(lambda: "Payment received" in api.get("/thanks", params={"session_id": session_id}).text)

    failing = _session(_lead(api, email="late@example.com"))
    api.post(f"/_local/checkout/{failing}/bank-fails", follow_redirects=False)
    _wait(lambda: "did not go through" in api.get("/thanks", params={"session_id": failing}).text)


def test_one_project_gives_three_emails_each_sent_once_and_a_refund_a_fourth(
    stack: LocalStack,
    api: httpx.Client,
    db: Conn,
    tmp_path: Any,
    capsys: pytest.CaptureFixture[str],
    database_url: str,
) -> None:
    stack.setup_notion()
    session_id = _session(_lead(api))
    api.post(f"/_local/checkout/{session_id}/pay", follow_redirects=False)
    assert stack.stripe is not None
    stack.stripe.pay(session_id)  # Stripe delivers the same event again
    (project_id,) = db.execute("select project_id from payments").fetchone() or ()
    db.execute("update milestones set status = 'completed' where project_id = %s and \"order\" = 1", (project_id,))
    db.execute("update milestones set status = 'in_progress' where project_id = %s and \"order\" = 1", (project_id,))
    db.execute("update milestones set status = 'completed' where project_id = %s and \"order\" = 1", (project_id,))
    photo = tmp_path / "site.png"
    photo.write_bytes(b"\x89PNG\r\n\x1a\n")
    assert main(["deliverable", "upload", str(project_id), str(photo), "--category", "Photo"]) == 0
    assert stack.s3 is not None
    assert stack.s3.wait_idle()

    first, again = _mail(), _mail()

    assert (first["sent"], again["claimed"]) == (3, 0)
    rows = db.execute(
        "select template, status::text, provider_message_id is not null, body_text from notifications order by template"
    ).fetchall()
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("deliverable_ready", "sent", True),
        ("milestone_completed", "sent", True),
        ("payment_receipt", "sent", True),
    ]
    deliverable_text = str(rows[0][3])
    link = next(line for line in deliverable_text.splitlines() if "/portal/deliverables/" in line).strip()
    assert httpx.get(link, timeout=30).status_code == 401  # forwarded, the e-mail's link opens nothing by itself
    (email,) = db.execute("select recipient from notifications where template = 'deliverable_ready'").fetchone() or ()
    capsys.readouterr()
    assert main(["portal", "link", str(email)]) == 0
    with httpx.Client(timeout=30) as client:  # the client, signed in
        assert client.get(capsys.readouterr().out.strip().splitlines()[-1]).status_code == 303
        download = client.get(link, follow_redirects=True)
    assert download.content == b"\x89PNG\r\n\x1a\n"
    assert "Discovery and site review" in str(rows[1][3])
    assert "$7,500" in str(rows[2][3])

    (intent,) = db.execute("select stripe_payment_intent_id from payments").fetchone() or ()
    PsycopgRpc(database_url).rpc(
        "apply_stripe_event",
        p_event_id=f"evt_{uuid.uuid4().hex}",
        p_event_type="charge.refunded",
        p_kind="refund",
        p_reason=None,
        p_lead_id=None,
        p_tier=2,
        p_checkout_session_id=None,
        p_payment_intent_id=intent,
        p_customer_id="cus_1",
        p_email=None,
        p_amount=750000,
        p_amount_refunded=750000,
        p_currency="usd",
    )
    assert _mail()["sent"] == 1
    capsys.readouterr()
    assert main(["mail", "list"]) == 0
    listed = capsys.readouterr().out
    assert listed.count("rosa@example.com") == 4
    assert "Refund confirmed" in listed
    page = api.get("/_local/mail")
    assert page.text.count("rosa@example.com") == 4


def test_a_bounce_marks_the_address_and_nothing_more_is_sent_to_it(
    stack: LocalStack, api: httpx.Client, db: Conn
) -> None:
    session_id = _session(_lead(api, email="gone@example.com"))
    api.post(f"/_local/checkout/{session_id}/pay", follow_redirects=False)
    bounce = {
        "notificationType": "Bounce",
        "bounce": {
            "bounceType": "Permanent",
            "bounceSubType": "General",
            "bouncedRecipients": [{"emailAddress": "Gone@Example.com"}],
        },
    }
    event = {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": json.dumps(bounce)}}]}

    assert LocalLambdas().invoke("client_mail", event, timeout_seconds=30) == {"suppressed": 1}
    assert _mail()["claimed"] == 0
    assert db.execute("select status::text, last_error from notifications").fetchall() == [
        ("failed", "the address bounced"),
    ]
    transient = {
        "notificationType": "Bounce",
        "bounce": {"bounceType": "Transient", "bouncedRecipients": [{"emailAddress": "full@example.com"}]},
    }
    event = {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": json.dumps(transient)}}]}
    assert LocalLambdas().invoke("client_mail", event, timeout_seconds=30) == {"suppressed": 0}


def test_a_message_ses_keeps_refusing_backs_off_then_is_dead_and_listed(
    stack: LocalStack, api: httpx.Client, db: Conn, database_url: str
) -> None:
    from atelier.mail.outbox import MAX_ATTEMPTS, MailOutbox
    from atelier.mail.render import Message, Studio
    from atelier.mail.ses import MailError

    class Refusing:
        def send(self, recipient: str, message: Message) -> str:
            raise MailError("SES could not be reached: EndpointConnectionError", permanent=False)

    api.post(f"/_local/checkout/{_session(_lead(api))}/pay", follow_redirects=False)
    outbox = MailOutbox(PsycopgRpc(database_url), Refusing(), Studio("Studio", "Studio"))
    backoff = []
    for _ in range(MAX_ATTEMPTS):
        assert outbox.send_due().claimed == 1
        backoff.append(db.execute("select extract(epoch from next_attempt_at - now()) from notifications").fetchone())
        db.execute("update notifications set next_attempt_at = now() where status = 'pending'")

    assert db.execute("select status::text, attempts from notifications").fetchone() == ("dead", MAX_ATTEMPTS)
    waits = [float(str(b[0])) for b in backoff[:-1] if b]
    assert waits == sorted(waits)  # longer each time
    assert waits[0] >= 25
    assert main(["mail", "list", "--status", "dead"]) == 1
