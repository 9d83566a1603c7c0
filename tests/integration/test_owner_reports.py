"""The owner's report: known data in, the same figures out of SQL over the base tables, the page's tables, the
Excel workbook and the PDF; the link that guards it and the periods it takes."""

from __future__ import annotations

import io
import re
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx
import psycopg
import pytest

from atelier import wiring
from atelier.kernel.settings import PortalSettings
from atelier.reports.links import ReportLinks
from atelier_local.stack import LocalStack
from tests.integration.reporting import PERIOD, Tables, fetch, report_link, sql_truth

Conn = psycopg.Connection[tuple[object, ...]]


def test_the_page_the_workbook_and_the_pdf_give_what_sql_over_the_base_tables_gives(
    stack: LocalStack, known: dict[str, Any], db: Conn, capsys: pytest.CaptureFixture[str]
) -> None:
    truth = sql_truth(db)
    # What the known data means, by hand, so that a wrong query cannot agree with a wrong truth.
    assert truth == {
        "revenue": {"2024-03": (Decimal("10000.00"), Decimal("7500.00")), "2024-04": (Decimal("22500.00"), Decimal(0))},
        "leads": 8,
        "review": 2,
        "paid": 4,
    }
    link = report_link(capsys, "--period", PERIOD)
    page = fetch(stack, link)
    assert page.status_code == 200, page.text
    assert page.headers["cache-control"] == "no-store"
    tables = Tables()
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
    assert [int(total[1]), int(total[3]), int(total[4]), int(total[5])] == [
        truth["leads"],
        truth["review"],
        0,  # quoted
        truth["paid"],
    ]
    assert total[6] == "50.0%"
    tiers = [str(name) for (name,) in db.execute("select name from tiers order by id").fetchall()]
    assert [r[0] for r in funnel[1:-1]] == tiers  # every tier, with zeros where none came
    days = sorted(  # intake to payment, from the fixture's own times: a 11 d 1 h, c 9 d 1 h, d and f paid 8 April
        (datetime.fromisoformat(paid) - datetime.fromisoformat(lead)).total_seconds() / 86400
        for lead, paid in (
            ("2024-03-01T09:00", "2024-03-12T10:00"),
            ("2024-03-03T09:00", "2024-03-12T10:00"),
            ("2024-03-04T09:00", "2024-04-08T15:30"),
            ("2024-04-02T09:00", "2024-04-08T15:30"),
        )
    )
    cycle = tables.tables["table-cycle_times"][1]
    assert cycle[:3] == ["Intake to payment", "4", f"{(days[1] + days[2]) / 2:.1f}"]
    for chart in ("revenue", "funnel", "projects", "milestones"):
        assert f'<figure id="chart-{chart}"><svg viewBox=' in page.text

    from openpyxl import load_workbook  # type: ignore[import-untyped]

    xlsx = fetch(stack, link.replace("/reports?", "/reports.xlsx?"))
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
    assert funnel_sheet[-1][:6] == (
        "All tiers",
        truth["leads"],
        truth["leads"] - truth["review"],
        truth["review"],
        0,  # quoted: none of these leads was reviewed into a quote
        truth["paid"],
    )
    assert funnel_sheet[-1][6] == pytest.approx(0.5)
    summary = {row[0]: row[1] for row in book["Summary"].iter_rows(values_only=True)}
    assert summary["Period from"] == datetime(2024, 3, 1)
    assert summary["Net revenue (USD)"] == pytest.approx(25000.0)
    assert summary["Refunded (USD)"] == pytest.approx(7500.0)

    from pypdf import PdfReader

    pdf = fetch(stack, link.replace("/reports?", "/reports.pdf?"))
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
    good = report_link(capsys, "--period", PERIOD)
    key = re.search(r"key=([^&]+)", good)[1]  # type: ignore[index]
    expired = ReportLinks(wiring.settings(PortalSettings).key(), base, wiring.rpc()).url(1, period=PERIOD)
    db.execute(
        "update report_links set expires_at = now() - interval '1 hour' where id = %s",
        (re.search(r"key=([0-9a-f-]{36})", expired)[1],),  # type: ignore[index]
    )
    cases = {
        f"{base}/reports": 401,
        f"{base}/reports.xlsx?period=year": 401,
        f"{base}/reports.pdf?key=": 401,
        f"{base}/reports?key=123.abc": 403,
        f"{base}/reports?key={key[:-2]}": 403,
        expired: 403,
        expired.replace("/reports?", "/reports.pdf?"): 403,
        f"{base}/reports?key=9999999999.{'A' * 43}": 403,
    }
    for url, status in cases.items():
        answer = httpx.get(url, timeout=30)
        assert answer.status_code == status, url
        assert "25,000" not in answer.text
        assert "All tiers" not in answer.text
        assert "atelier report link" in answer.text
    assert "expired on" in httpx.get(expired, timeout=30).text


@pytest.mark.parametrize(
    "query",
    [
        "period=2024-13",
        "period=custom&from=2024-05-01&to=2024-03-01",
        "period=custom&from=2024-03-01",
        "period=1999",
        "period=" + "x" * 500,
        "period=2000-01-01..2020-12-31",
        "period=custom&from=2024-02-30&to=2024-03-01",
    ],
)
def test_a_period_that_is_not_one_is_a_422_that_says_what_to_write(
    stack: LocalStack, capsys: pytest.CaptureFixture[str], query: str
) -> None:
    link = report_link(capsys)
    answer = fetch(stack, f"{link}&{query}")
    assert answer.status_code == 422, answer.text
    assert "That period cannot be shown" in answer.text


def test_the_custom_period_from_the_picker_is_the_same_report(
    stack: LocalStack, known: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    link = report_link(capsys)
    answer = fetch(stack, f"{link}&period=custom&from=2024-03-01&to=2024-04-30")
    assert answer.status_code == 200
    assert "1 March 2024 to 30 April 2024" in answer.text
    assert "25,000.00 USD" in answer.text
