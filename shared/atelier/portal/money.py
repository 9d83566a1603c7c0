"""The project page's payments: what the project costs, what is paid and what is due, and each part of its payment
schedule (at booking, then at the milestones that carry a share), with the invoice to pay where one is open."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

from atelier.kernel.format import day, money

STATES = {
    "scheduled": "when the milestone is done",
    "due": "invoice on its way",
    "open": "invoice sent",
    "paid": "paid",
    "void": "cancelled",
    "uncollectible": "written off",
}
MONEY_STYLE = (
    "<style>table.schedule{border-collapse:collapse;width:100%;margin:.5rem 0}table.schedule th,table.schedule td"
    "{text-align:left;padding:.4rem .3rem;border-bottom:1px solid #e3e3e6;vertical-align:top}table.schedule td.n"
    "{text-align:right;white-space:nowrap}.pay{display:inline-block;padding:.3rem .7rem;border-radius:6px;"
    "background:#1d1d1f;color:#fff;text-decoration:none}@media (max-width:480px){table.schedule th.share,"
    "table.schedule td.share{display:none}}</style>"
)


def document_path(number: str) -> str:
    """Where a receipt or an invoice is downloaded from: through the client's sign-in."""
    return f"/portal/documents/{escape(number)}"


def _share(value: Any) -> str:
    return f"{float(value or 0):g}%"


def facts(item: Mapping[str, Any]) -> str:
    """The "Paid" and "Balance due" lines of the project's facts."""
    m = item.get("money") or {}
    currency = m.get("currency") or "usd"
    due = int(m.get("balance_due") or 0)
    balance = f"<dt>Balance due</dt><dd>{escape(money(due, currency))}</dd>" if due else ""
    return f"<dt>Paid</dt><dd>{escape(money(m.get('paid') or 0, currency))}</dd>{balance}"


def schedule(item: Mapping[str, Any]) -> str:
    """The payment schedule's table; "" for a project paid in full at booking."""
    parts = list(item.get("schedule") or [])
    if len(parts) < 2:
        return ""
    rows = []
    for s in parts:
        state = str(s.get("status"))
        words = STATES.get(state, state)
        if state == "open" and s.get("due_date"):
            words = f"invoice {s.get('number') or ''} due {day(s.get('due_date'))}"
        elif state == "paid" and s.get("paid_at"):
            words = f"paid {day(s.get('paid_at'))}"
        url = str(s.get("invoice_url") or "")
        link = ""
        if state == "open" and url.startswith(("https://", "http://")):  # Stripe's hosted page (the stand-in's: http)
            link = f' <a class="pay" href="{escape(url)}" rel="noopener">Pay</a>'
        papers = " ".join(
            f'<a href="{document_path(str(n))}">{word} {escape(str(n))}</a>'
            for word, n in (("Invoice", s.get("number")), ("Receipt", s.get("receipt_number")))
            if n
        )
        link += f"<br><span class='muted'>{papers}</span>" if papers else ""
        rows.append(
            f"<tr><td>{escape(str(s.get('label') or ''))}</td><td class='n share'>{escape(_share(s.get('share')))}</td>"
            f"<td class='n'>{escape(money(s.get('amount'), s.get('currency')))}</td>"
            f"<td>{escape(words)}{link}</td></tr>"
        )
    return (
        f"{MONEY_STYLE}<h2>Payment schedule</h2><table class='schedule'><thead><tr><th>When</th>"
        f"<th class='n share'>Share</th><th class='n'>Amount</th><th>State</th></tr></thead><tbody>{''.join(rows)}"
        "</tbody></table>"
    )
