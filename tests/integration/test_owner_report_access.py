"""Who may read the owner's report, the weekly e-mail with its PDF, the sync health beside it, and links revoked
before they expire."""

from __future__ import annotations

import email
import email.policy
import io
import re
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import psycopg
import pytest

from atelier.cli import main
from atelier.kernel.errors import PermissionDenied
from atelier.kernel.rpc import PsycopgRpc
from atelier_local.lambda_runtime import LocalLambdas
from atelier_local.stack import LocalStack
from tests.integration.reporting import PERIOD, PRICES, add_lead, add_payment, report_link

Conn = psycopg.Connection[tuple[object, ...]]


def _user(db: Conn, user_type: str) -> str:
    row = db.execute(
        "insert into users (email, user_type) values (%s, %s) returning id",
        (f"{uuid.uuid4().hex[:8]}@example.com", user_type),
    ).fetchone()
    assert row is not None
    return str(row[0])


@pytest.mark.parametrize(
    ("role", "user_type", "allowed"),
    [
        ("anon", None, False),
        ("authenticated", "kaa_client", False),
        ("authenticated", "sage_client", False),
        ("authenticated", "team", True),
        ("authenticated", "admin", True),
        ("service_role", None, True),
    ],
)
def test_only_the_team_admins_and_the_backend_read_reports(
    database_url: str, db: Conn, rpc: PsycopgRpc, role: str, user_type: str | None, allowed: bool
) -> None:
    lead = add_lead(rpc, db, 2, review=False, created="2024-03-05T00:00:00Z")
    add_payment(rpc, db, lead, 2, paid="2024-03-06T00:00:00Z")
    claims = {"sub": _user(db, user_type), "role": role} if user_type else {"role": role}
    reader = rpc.as_user("jwt", claims, role=role)
    functions = [
        "report",
        "report_funnel",
        "report_revenue",
        "report_projects",
        "report_milestones",
        "report_cycle_times",
        "report_sync",
    ]
    for name in functions:
        if allowed:
            assert reader.rpc(name, p_from="2024-03-01", p_to="2024-03-31") is not None
        else:
            with pytest.raises(PermissionDenied):
                reader.rpc(name, p_from="2024-03-01", p_to="2024-03-31")
    if allowed:
        revenue = reader.rpc("report", p_from="2024-03-01", p_to="2024-03-31")["revenue"]
        assert [r["net_cents"] for r in revenue] == [PRICES[2]]  # RLS lets the team see every payment


def test_the_weekly_report_is_queued_once_a_week_and_sent_with_its_pdf(
    stack: LocalStack, known: dict[str, Any], db: Conn
) -> None:
    weekly = {"job": "weekly_report"}
    LocalLambdas().invoke("client_mail", weekly, timeout_seconds=120)
    LocalLambdas().invoke("client_mail", weekly, timeout_seconds=120)
    rows = db.execute(
        "select recipient, status::text, subject, details from notifications where template = 'weekly_report'"
    ).fetchall()
    assert len(rows) == 1, rows
    recipient, status, subject, details = rows[0]
    monday = date.fromisoformat(str(details["from"]))  # type: ignore[index]
    assert (recipient, status) == ("owner@atelier.local", "sent"), rows
    assert monday.weekday() == 0
    assert (datetime.now(UTC).date() - monday).days in range(7, 14)
    assert "the week of" in str(subject)
    from moto.ses.models import ses_backends

    raw = [
        m.raw_data
        for account in ses_backends.values()
        for backend in account.values()
        for m in backend.sent_messages
        if "owner@atelier.local" in str(getattr(m, "raw_data", ""))
    ]
    assert len(raw) == 1
    message = email.message_from_string(raw[0], policy=email.policy.default)
    attachments = [part for part in message.iter_attachments() if part.get_content_type() == "application/pdf"]
    assert [a.get_filename() for a in attachments] == [f"report-{monday}-{monday + timedelta(6)}.pdf"]
    from pypdf import PdfReader

    PdfReader(io.BytesIO(attachments[0].get_content()))  # opens
    body = message.get_body(("plain",))
    assert body is not None
    assert "Leads:" in body.get_content()
    assert "/reports?key=" in body.get_content()


def test_webhook_delivery_times_are_in_the_sync_health(rpc: PsycopgRpc) -> None:
    now = datetime.now(UTC)
    for i, seconds in enumerate((1.0, 2.0, 9.0)):
        rpc.rpc(
            "record_notion_event",
            p_event_id=f"evt-{i}",
            p_event_type="page.properties_updated",
            p_entity_id=str(uuid.uuid4()),
            p_applied=True,
            p_sent_at=(now - timedelta(seconds=seconds)).isoformat(),
        )
    rpc.rpc(
        "record_notion_event", p_event_id="evt-untimed", p_event_type="page.created", p_entity_id="x", p_applied=True
    )
    latency = rpc.rpc("report_sync", p_from=now.date().isoformat(), p_to=now.date().isoformat())["webhook_latency"]
    assert latency["count"] == 3
    assert 2.0 <= latency["median"] < 3.0  # recorded a moment after "now"


def test_report_revoke_ends_links_before_they_expire(
    stack: LocalStack, known: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = report_link(capsys, "--period", PERIOD), report_link(capsys, "--period", PERIOD)
    assert httpx.get(first, timeout=30).status_code == 200

    capsys.readouterr()
    assert main(["report", "revoke", re.search(r"key=([0-9a-f-]{36})", first)[1]]) == 0  # type: ignore[index]
    assert "1 link(s) ended" in capsys.readouterr().out
    ended = httpx.get(first, timeout=30)
    assert ended.status_code == 403
    assert "revoked" in ended.text
    assert httpx.get(second, timeout=30).status_code == 200  # only that one

    assert main(["report", "revoke"]) == 0  # every link in force
    assert httpx.get(second.replace("/reports?", "/reports.pdf?"), timeout=30).status_code == 403
