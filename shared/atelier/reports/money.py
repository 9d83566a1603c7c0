"""The report's money owed and at risk, now: each project's balance due, the invoices past due, the disputes."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from atelier.reports.model import Cell, Column, Table


def _main(cents: Any) -> Decimal:
    return (Decimal(int(cents or 0)) / 100).quantize(Decimal("0.01"))


def money_tables(raw: Mapping[str, Any]) -> list[Table]:
    money = raw.get("money") or {}
    balances: list[tuple[Cell, ...]] = [
        (
            str(b.get("project_name") or ""),
            str(b.get("currency") or "").upper(),
            _main(b.get("total")),
            _main(b.get("paid")),
            _main(b.get("balance_due")),
        )
        for b in money.get("balances") or []
    ]
    overdue: list[tuple[Cell, ...]] = [
        (
            str(i.get("number") or ""),
            str(i.get("project_name") or ""),
            str(i.get("label") or ""),
            str(i.get("currency") or "").upper(),
            _main(i.get("amount")),
            str(i.get("due_date") or "")[:10],
            int(i.get("days_overdue") or 0),
            int(i.get("failures") or 0),
        )
        for i in money.get("overdue_invoices") or []
    ]
    disputes: list[tuple[Cell, ...]] = [
        (
            str(d.get("project_name") or ""),
            str(d.get("currency") or "").upper(),
            _main(d.get("amount")),
            str(d.get("status") or "").replace("_", " "),
            str(d.get("reason") or "").replace("_", " "),
            str(d.get("evidence_due_by") or "")[:10],
        )
        for d in money.get("disputes") or []
    ]
    return [
        Table(
            "balances",
            "Balances due, now",
            (
                Column("Project"),
                Column("Currency"),
                Column("Total", "money"),
                Column("Paid", "money"),
                Column("Balance due", "money"),
            ),
            balances,
            "What each project still owes: the instalments of its payment schedule not yet paid (net of refunds).",
        ),
        Table(
            "overdue_invoices",
            "Overdue invoices, now",
            (
                Column("Invoice"),
                Column("Project"),
                Column("Milestone"),
                Column("Currency"),
                Column("Amount", "money"),
                Column("Due"),
                Column("Days overdue", "days"),
                Column("Failed payments", "count"),
            ),
            overdue,
            "Instalments invoiced and past their due date: each is a task for the team (Collect overdue invoice).",
        ),
        Table(
            "disputes",
            "Disputed payments, now",
            (
                Column("Project"),
                Column("Currency"),
                Column("Disputed", "money"),
                Column("Status"),
                Column("Reason"),
                Column("Evidence due"),
            ),
            disputes,
            "Payments the client disputed with their bank, open or lost: `atelier dispute evidence PAYMENT_ID` "
            "assembles the evidence Stripe asks for.",
        ),
    ]
