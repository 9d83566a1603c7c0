"""The network report: one row per business and the sums, for an owner who runs several from one deployment.
Money is summed per currency, never across currencies."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from atelier.reports.model import Cell, Column, Report, Table


def network(reports: Mapping[str, Report]) -> Table:
    """Each business's leads, payments, conversion and net revenue (per currency), then the network's."""
    currencies = sorted({c for report in reports.values() for c in report.revenue_by_currency()})
    columns = (
        Column("Business"),
        Column("Leads", "count"),
        Column("Paid", "count"),
        Column("Conversion", "rate"),
        *(Column(f"Net revenue ({c})", "money") for c in currencies),
    )
    rows: list[tuple[Cell, ...]] = []
    leads = paid = 0
    net = dict.fromkeys(currencies, Decimal(0))
    for name, report in reports.items():
        funnel, revenue = report.funnel_totals(), report.revenue_by_currency()
        leads, paid = leads + funnel["leads"], paid + funnel["paid"]
        for currency in currencies:
            net[currency] += revenue.get(currency, {}).get("net", Decimal(0))
        shares = tuple(revenue.get(c, {}).get("net", Decimal(0)) for c in currencies)
        rows.append((name, funnel["leads"], funnel["paid"], report.conversion(), *shares))
    conversion = round(Decimal(paid) / leads, 4) if leads else None
    rows.append(("All businesses", leads, paid, conversion, *(net[c] for c in currencies)))
    note = "Each business's own report, summed; revenue is summed per currency, never converted."
    return Table("network", "The network", columns, rows, note)
