"""The owner's report: known data in, the same figures out of SQL over the base tables, the page's tables, the
Excel workbook and the PDF; the link that guards it; who may read it; the weekly e-mail with its PDF."""

from __future__ import annotations

import email
import email.policy
import io
import re
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

import httpx
import psycopg
import pytest

from atelier import wiring
from atelier.cli import main
from atelier.kernel.errors import PermissionDenied
from atelier.kernel.rpc import PsycopgRpc
from atelier.kernel.settings import PortalSettings
from atelier.reports.links import ReportLinks
from atelier_local.lambda_runtime import LocalLambdas
from atelier_local.stack import LocalStack

Conn = psycopg.Connection[tuple[object, ...]]
PERIOD = "2024-03-01..2024-04-30"
PRICES = {1: 250_000, 2: 750_000, 3: 1_500_000}


def _lead(rpc: PsycopgRpc, db: Conn, tier: int, *, review: bool, created: str) -> str:
    result = rpc.rpc(
        "record_lead", p_submission_key=f"report-{uuid.uuid4()}", p_request_hash="h",
        p_email=f"{uuid.uuid4().hex[:8]}@example.com", p_name="Known Lead", p_project_address=None,
        p_budget_range=None, p_budget_min_cents=None, p_budget_max_cents=None, p_timeline_weeks=None,
        p_project_type="standard_renovation", p_has_survey=True, p_has_drawings=True, p_notes=None,
        p_recommended_tier=tier, p_routing_reason="known", p_confidence="high", p_needs_review=review,
        p_red_flags=[], p_routing={}, p_answer={"tier": tier}, p_ip_address=None,
    )  # fmt: skip
    lead = str(result["lead_id"])
    db.execute("update leads set created_at = %s where id = %s", (created, lead))
    return lead


def _pay(rpc: PsycopgRpc, db: Conn, lead: str, tier: int, *, paid: str) -> str:
    intent, session = f"pi_{uuid.uuid4().hex}", f"cs_{uuid.uuid4().hex}"
    db.execute("update leads set checkout_session_id = %s where id = %s", (session, lead))  # the session it opened
    result = rpc.rpc(
        "apply_stripe_event", p_event_id=f"evt_{uuid.uuid4().hex}", p_event_type="checkout.session.completed",
        p_kind="fulfil", p_reason=None, p_lead_id=lead, p_tier=tier, p_checkout_session_id=session,
        p_payment_intent_id=intent, p_customer_id="cus_1", p_email=None, p_amount=PRICES[tier],
        p_amount_refunded=0, p_currency="usd",
    )  # fmt: skip
    db.execute("update payments set created_at = %s where stripe_payment_intent_id = %s", (paid, intent))
    db.execute("update projects set created_at = %s where id = %s", (paid, result["project_id"]))
    return intent


def _refund(rpc: PsycopgRpc, intent: str, amount: int, refunded: int) -> None:
    rpc.rpc(
        "apply_stripe_event", p_event_id=f"evt_{uuid.uuid4().hex}", p_event_type="charge.refunded", p_kind="refund",
        p_reason=None, p_lead_id=None, p_tier=None, p_checkout_session_id=None, p_payment_intent_id=intent,
        p_customer_id=None, p_email=None, p_amount=amount, p_amount_refunded=refunded, p_currency="usd",
    )  # fmt: skip


@pytest.fixture
def known(stack: LocalStack, rpc: PsycopgRpc, db: Conn) -> dict[str, Any]:
    """Eight leads across three tiers in March and April 2024 (two to review), four paid in two months, one
    refunded in full; and one lead and one payment outside the period, which the report must leave out."""
    march, april = "2024-03-12T10:00:00Z", "2024-04-08T15:30:00Z"
    leads = {
        "a": _lead(rpc, db, 1, review=False, created="2024-03-01T09:00:00Z"),
        "b": _lead(rpc, db, 1, review=True, created="2024-03-02T09:00:00Z"),
        "c": _lead(rpc, db, 2, review=False, created="2024-03-03T09:00:00Z"),
        "d": _lead(rpc, db, 2, review=False, created="2024-03-04T09:00:00Z"),
        "e": _lead(rpc, db, 2, review=True, created="2024-04-01T09:00:00Z"),
        "f": _lead(rpc, db, 3, review=False, created="2024-04-02T09:00:00Z"),
        "g": _lead(rpc, db, 3, review=False, created="2024-04-03T09:00:00Z"),
        "h": _lead(rpc, db, 2, review=False, created="2024-04-30T23:59:00Z"),
        "outside": _lead(rpc, db, 1, review=False, created="2024-05-01T00:00:00Z"),
    }
    _pay(rpc, db, leads["a"], 1, paid=march)
    refunded = _pay(rpc, db, leads["c"], 2, paid=march)
    _pay(rpc, db, leads["d"], 2, paid=april)
    _pay(rpc, db, leads["f"], 3, paid=april)
    _pay(rpc, db, leads["outside"], 1, paid="2024-05-02T00:00:00Z")
    _refund(rpc, refunded, PRICES[2], PRICES[2])
    return leads


def _sql_truth(db: Conn) -> dict[str, Any]:
    """The figures, straight from the base tables (not through the report's functions)."""
    start, end = "2024-03-01", "2024-05-01"
    revenue = db.execute(
        "select to_char(created_at at time zone 'UTC', 'YYYY-MM'), sum(amount), sum(amount_refunded) from payments "
        "where status in ('succeeded', 'refunded') and created_at >= %s and created_at < %s group by 1 order by 1",
        (start, end),
    ).fetchall()
    leads, review, paid = db.execute(
        "select count(*), count(*) filter (where l.needs_review), count(p.id) from leads l "
        "left join projects p on p.lead_id = l.id where l.created_at >= %s and l.created_at < %s", (start, end),
    ).fetchone() or (0, 0, 0)  # fmt: skip
    return {"revenue": {m: (Decimal(int(g)) / 100, Decimal(int(r)) / 100) for m, g, r in revenue},  # type: ignore[call-overload]
            "leads": leads, "review": review, "paid": paid}  # fmt: skip


class _Tables(HTMLParser):
    """The page's tables by id: rows of cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._table = dict(attrs).get("id") or ""
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self.tables[self._table].append([])
        elif tag in ("td", "th") and self._table is not None:
            self._cell = []

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._table is not None:
            self.tables[self._table][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._table = None


def _link(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    capsys.readouterr()
    assert main(["report", "link", *args]) == 0
    return capsys.readouterr().out.strip().splitlines()[-1]


def _get(stack: LocalStack, url: str) -> httpx.Response:
    assert stack.front_door is not None
    return httpx.get(url.replace("http://127.0.0.1:3000", stack.front_door.url), timeout=60)


def test_the_page_the_workbook_and_the_pdf_give_what_sql_over_the_base_tables_gives(
    stack: LocalStack, known: dict[str, Any], db: Conn, capsys: pytest.CaptureFixture[str]
) -> None:
    truth = _sql_truth(db)
    # What the known data means, by hand, so that a wrong query cannot agree with a wrong truth.
    assert truth == {"revenue": {"2024-03": (Decimal("10000.00"), Decimal("7500.00")),
                                 "2024-04": (Decimal("22500.00"), Decimal(0))},
                     "leads": 8, "review": 2, "paid": 4}  # fmt: skip
    link = _link(capsys, "--period", PERIOD)
    page = _get(stack, link)
    assert page.status_code == 200, page.text
    assert page.headers["cache-control"] == "no-store"
    tables = _Tables()
    tables.feed(page.text)
    revenue = tables.tables["table-revenue"]
    assert revenue[0] == ["Month", "Tier", "Currency", "Payments", "Refunds", "Gross", "Refunded", "Net"]
    net_by_month: dict[str, Decimal] = {}
    refunded_by_month: dict[str, Decimal] = {}
    for row in revenue[1:]:
        month = datetime.strptime(row[0], "%b %Y").strftime("%Y-%m")
        net_by_month[month] = net_by_month.get(month, Decimal(0)) + Decimal(row[7].replace(",", ""))
        refunded_by_month[month] = refunded_by_month.get(month, Decimal(0)) + Decimal(row[6].replace(",", ""))
    assert net_by_month == {m: g - r for m, (g, r) in truth["revenue"].items()}
    assert refunded_by_month == {m: r for m, (_, r) in truth["revenue"].items()}
    funnel = tables.tables["table-funnel"]
    total = funnel[-1]
    assert total[0] == "All tiers"
    assert [int(total[1]), int(total[3]), int(total[4])] == [truth["leads"], truth["review"], truth["paid"]]
    assert total[5] == "50.0%"
    tiers = [str(name) for (name,) in db.execute("select name from tiers order by id").fetchall()]
    assert [r[0] for r in funnel[1:-1]] == tiers  # every tier, with zeros where none came
    days = sorted(  # intake to payment, from the fixture's own times: a 11 d 1 h, c 9 d 1 h, d and f paid 8 April
        (datetime.fromisoformat(paid) - datetime.fromisoformat(lead)).total_seconds() / 86400
        for lead, paid in (("2024-03-01T09:00", "2024-03-12T10:00"), ("2024-03-03T09:00", "2024-03-12T10:00"),
                           ("2024-03-04T09:00", "2024-04-08T15:30"), ("2024-04-02T09:00", "2024-04-08T15:30")))  # fmt: skip
    cycle = tables.tables["table-cycle_times"][1]
    assert cycle[:3] == ["Intake to payment", "4", f"{(days[1] + days[2]) / 2:.1f}"]
    for chart in ("revenue", "funnel", "projects", "milestones"):
        assert f'<figure id="chart-{chart}"><svg viewBox=' in page.text

    from openpyxl import load_workbook  # type: ignore[import-untyped]

    xlsx = _get(stack, link.replace("/reports?", "/reports.xlsx?"))
    assert xlsx.status_code == 200
    assert xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(xlsx.content))
    sheet = book["Revenue by month"]
    header, *rows = list(sheet.iter_rows(values_only=True))
    assert header == ("Month", "Tier", "Currency", "Payments", "Refunds", "Gross", "Refunded", "Net")
    assert all(isinstance(r[0], datetime) for r in rows)  # dates as dates
    assert all(isinstance(v, int | float) for r in rows for v in r[3:])  # numbers as numbers
    sums: dict[str, list[Decimal]] = {}
    for r in rows:
        into = sums.setdefault(r[0].strftime("%Y-%m"), [Decimal(0), Decimal(0)])
        into[0] += Decimal(str(r[5]))
        into[1] += Decimal(str(r[6]))
    assert {m: (g, r) for m, (g, r) in sums.items()} == truth["revenue"]
    funnel_sheet = list(book["The funnel by tier"].iter_rows(values_only=True))
    assert funnel_sheet[-1][:5] == ("All tiers", truth["leads"], truth["leads"] - truth["review"], truth["review"],
                                    truth["paid"])  # fmt: skip
    assert funnel_sheet[-1][5] == pytest.approx(0.5)
    summary = {row[0]: row[1] for row in book["Summary"].iter_rows(values_only=True)}
    assert summary["Period from"] == datetime(2024, 3, 1)
    assert summary["Net revenue (USD)"] == pytest.approx(25000.0)
    assert summary["Refunded (USD)"] == pytest.approx(7500.0)

    from pypdf import PdfReader

    pdf = _get(stack, link.replace("/reports?", "/reports.pdf?"))
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(pdf.content))
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert len(reader.pages) >= 2  # paginated
    for figure in ("25,000.00 USD", "7,500.00 USD", "50.0%", "All tiers"):
        assert figure in text, figure
    for row in revenue[1:]:  # each month's and tier's row, as the page shows it
        assert " ".join(row[3:]) in text, row


def test_no_link_a_forged_link_and_an_expired_link_show_no_figures(
    stack: LocalStack, known: dict[str, Any], capsys: pytest.CaptureFixture[str], db: Conn
) -> None:
    assert stack.front_door is not None
    base = stack.front_door.url
    good = _link(capsys, "--period", PERIOD)
    key = re.search(r"key=([^&]+)", good)[1]  # type: ignore[index]
    expired = ReportLinks(wiring.settings(PortalSettings).key(), base, wiring.rpc()).url(1, period=PERIOD)
    db.execute("update report_links set expires_at = now() - interval '1 hour' where id = %s",
               (re.search(r"key=([0-9a-f-]{36})", expired)[1],))  # type: ignore[index]  # fmt: skip
    cases = {
        f"{base}/reports": 401, f"{base}/reports.xlsx?period=year": 401, f"{base}/reports.pdf?key=": 401,
        f"{base}/reports?key=123.abc": 403, f"{base}/reports?key={key[:-2]}": 403, expired: 403,
        expired.replace("/reports?", "/reports.pdf?"): 403, f"{base}/reports?key=9999999999.{'A' * 43}": 403,
    }  # fmt: skip
    for url, status in cases.items():
        answer = httpx.get(url, timeout=30)
        assert answer.status_code == status, url
        assert "25,000" not in answer.text
        assert "All tiers" not in answer.text
        assert "atelier report link" in answer.text
    assert "expired on" in httpx.get(expired, timeout=30).text


@pytest.mark.parametrize("query", ["period=2024-13", "period=custom&from=2024-05-01&to=2024-03-01",
                                   "period=custom&from=2024-03-01", "period=1999", "period=" + "x" * 500,
                                   "period=2000-01-01..2020-12-31", "period=custom&from=2024-02-30&to=2024-03-01"])  # fmt: skip
def test_a_period_that_is_not_one_is_a_422_that_says_what_to_write(
    stack: LocalStack, capsys: pytest.CaptureFixture[str], query: str
) -> None:
    link = _link(capsys)
    answer = _get(stack, f"{link}&{query}")
    assert answer.status_code == 422, answer.text
    assert "That period cannot be shown" in answer.text


def test_the_custom_period_from_the_picker_is_the_same_report(
    stack: LocalStack, known: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    link = _link(capsys)
    answer = _get(stack, f"{link}&period=custom&from=2024-03-01&to=2024-04-30")
    assert answer.status_code == 200
    assert "1 March 2024 to 30 April 2024" in answer.text
    assert "25,000.00 USD" in answer.text


def _user(db: Conn, user_type: str) -> str:
    row = db.execute("insert into users (email, user_type) values (%s, %s) returning id",
                     (f"{uuid.uuid4().hex[:8]}@example.com", user_type)).fetchone()  # fmt: skip
    assert row is not None
    return str(row[0])


@pytest.mark.parametrize(("role", "user_type", "allowed"), [
    ("anon", None, False), ("authenticated", "kaa_client", False), ("authenticated", "sage_client", False),
    ("authenticated", "team", True), ("authenticated", "admin", True), ("service_role", None, True),
])  # fmt: skip
def test_only_the_team_admins_and_the_backend_read_reports(
    database_url: str, db: Conn, rpc: PsycopgRpc, role: str, user_type: str | None, allowed: bool
) -> None:
    lead = _lead(rpc, db, 2, review=False, created="2024-03-05T00:00:00Z")
    _pay(rpc, db, lead, 2, paid="2024-03-06T00:00:00Z")
    claims = {"sub": _user(db, user_type), "role": role} if user_type else {"role": role}
    reader = rpc.as_user("jwt", claims, role=role)
    functions = ["report", "report_funnel", "report_revenue", "report_projects", "report_milestones",
                 "report_cycle_times", "report_sync"]  # fmt: skip
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
    rows = db.execute("select recipient, status::text, subject, details from notifications "
                      "where template = 'weekly_report'").fetchall()  # fmt: skip
    assert len(rows) == 1, rows
    recipient, status, subject, details = rows[0]
    monday = date.fromisoformat(str(details["from"]))  # type: ignore[index]
    assert (recipient, status) == ("owner@atelier.local", "sent"), rows
    assert monday.weekday() == 0
    assert (datetime.now(UTC).date() - monday).days in range(7, 14)
    assert "the week of" in str(subject)
    from moto.ses.models import ses_backends

    raw = [m.raw_data for account in ses_backends.values() for backend in account.values()
           for m in backend.sent_messages if "owner@atelier.local" in str(getattr(m, "raw_data", ""))]  # fmt: skip
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
        rpc.rpc("record_notion_event", p_event_id=f"evt-{i}", p_event_type="page.properties_updated",
                p_entity_id=str(uuid.uuid4()), p_applied=True, p_sent_at=(now - timedelta(seconds=seconds)).isoformat())  # fmt: skip
    rpc.rpc("record_notion_event", p_event_id="evt-untimed", p_event_type="page.created", p_entity_id="x",
            p_applied=True)  # fmt: skip
    latency = rpc.rpc("report_sync", p_from=now.date().isoformat(), p_to=now.date().isoformat())["webhook_latency"]
    assert latency["count"] == 3
    assert 2.0 <= latency["median"] < 3.0  # recorded a moment after "now"


def test_report_revoke_ends_links_before_they_expire(
    stack: LocalStack, known: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = _link(capsys, "--period", PERIOD), _link(capsys, "--period", PERIOD)
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
