"""Known data for the owner's report tests: leads and payments written through the real rpc, the figures SQL
over the base tables gives, and the CLI's report links."""

from __future__ import annotations

import uuid
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

import httpx
import psycopg
import pytest

from atelier.cli import main
from atelier.kernel.rpc import PsycopgRpc
from atelier_local.stack import LocalStack

Conn = psycopg.Connection[tuple[object, ...]]
PERIOD = "2024-03-01..2024-04-30"
PRICES = {1: 250_000, 2: 750_000, 3: 1_500_000}


def add_lead(rpc: PsycopgRpc, db: Conn, tier: int, *, review: bool, created: str) -> str:
    result = rpc.rpc(
        "record_lead",
        p_submission_key=f"report-{uuid.uuid4()}",
        p_request_hash="h",
        p_email=f"{uuid.uuid4().hex[:8]}@example.com",
        p_name="Known Lead",
        p_project_address=None,
        p_budget_range=None,
        p_budget_min_cents=None,
        p_budget_max_cents=None,
        p_timeline_weeks=None,
        p_project_type="standard_renovation",
        p_has_survey=True,
        p_has_drawings=True,
        p_notes=None,
        p_recommended_tier=tier,
        p_routing_reason="known",
        p_confidence="high",
        p_needs_review=review,
        p_red_flags=[],
        p_routing={},
        p_answer={"tier": tier},
        p_ip_address=None,
    )
    lead = str(result["lead_id"])
    db.execute("update leads set created_at = %s where id = %s", (created, lead))
    return lead


def add_payment(rpc: PsycopgRpc, db: Conn, lead: str, tier: int, *, paid: str) -> str:
    intent, session = f"pi_{uuid.uuid4().hex}", f"cs_{uuid.uuid4().hex}"
    db.execute("update leads set checkout_session_id = %s where id = %s", (session, lead))  # the session it opened
    result = rpc.rpc(
        "apply_stripe_event",
        p_event_id=f"evt_{uuid.uuid4().hex}",
        p_event_type="checkout.session.completed",
        p_kind="fulfil",
        p_reason=None,
        p_lead_id=lead,
        p_tier=tier,
        p_checkout_session_id=session,
        p_payment_intent_id=intent,
        p_customer_id="cus_1",
        p_email=None,
        p_amount=PRICES[tier],
        p_amount_refunded=0,
        p_currency="usd",
    )
    db.execute("update payments set created_at = %s where stripe_payment_intent_id = %s", (paid, intent))
    db.execute("update projects set created_at = %s where id = %s", (paid, result["project_id"]))
    return intent


def add_refund(rpc: PsycopgRpc, intent: str, amount: int, refunded: int) -> None:
    rpc.rpc(
        "apply_stripe_event",
        p_event_id=f"evt_{uuid.uuid4().hex}",
        p_event_type="charge.refunded",
        p_kind="refund",
        p_reason=None,
        p_lead_id=None,
        p_tier=None,
        p_checkout_session_id=None,
        p_payment_intent_id=intent,
        p_customer_id=None,
        p_email=None,
        p_amount=amount,
        p_amount_refunded=refunded,
        p_currency="usd",
    )


def sql_truth(db: Conn) -> dict[str, Any]:
    """The figures, straight from the base tables (not through the report's functions)."""
    start, end = "2024-03-01", "2024-05-01"
    revenue = db.execute(
        "select to_char(created_at at time zone 'UTC', 'YYYY-MM'), sum(amount), sum(amount_refunded) from payments "
        "where status in ('succeeded', 'refunded') and created_at >= %s and created_at < %s group by 1 order by 1",
        (start, end),
    ).fetchall()
    leads, review, paid = db.execute(
        "select count(*), count(*) filter (where l.needs_review), count(p.id) from leads l "
        "left join projects p on p.lead_id = l.id where l.created_at >= %s and l.created_at < %s",
        (start, end),
    ).fetchone() or (0, 0, 0)
    return {
        "revenue": {m: (Decimal(int(g)) / 100, Decimal(int(r)) / 100) for m, g, r in revenue},  # type: ignore[call-overload]
        "leads": leads,
        "review": review,
        "paid": paid,
    }


class Tables(HTMLParser):
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


def report_link(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    capsys.readouterr()
    assert main(["report", "link", *args]) == 0
    return capsys.readouterr().out.strip().splitlines()[-1]


def fetch(stack: LocalStack, url: str) -> httpx.Response:
    assert stack.front_door is not None
    return httpx.get(url.replace("http://127.0.0.1:3000", stack.front_door.url), timeout=60)
