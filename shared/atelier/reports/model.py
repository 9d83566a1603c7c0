"""The report as tables: what the `report` rpc returns, made into the rows every view shows alike (the page, the
Excel sheets, the PDF and the terminal), so that each gives the same figures. Money is in the currency's main unit
(cents / 100, a Decimal); a rate is a fraction (0.25) that each view shows as a percentage."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from atelier.reports.period import Period

Kind = Literal["text", "count", "money", "rate", "days", "seconds", "month", "datetime"]
NUMERIC: frozenset[Kind] = frozenset({"count", "money", "rate", "days", "seconds"})  # right-aligned wherever shown
Cell = str | int | Decimal | date | datetime | None

STATUS_LABELS = {
    "onboarding": "Onboarding",
    "in_progress": "In progress",
    "awaiting_feedback": "Awaiting feedback",
    "revisions": "Revisions",
    "delivered": "Delivered",
    "closed": "Closed",
}


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind = "text"


@dataclass(frozen=True)
class Table:
    key: str  # the sheet's name, and the anchor on the page
    title: str
    columns: tuple[Column, ...]
    rows: list[tuple[Cell, ...]]
    note: str = ""


@dataclass(frozen=True)
class Headline:
    label: str
    value: Cell
    kind: Kind
    currency: str | None = None


def _money(cents: Any) -> Decimal:
    return Decimal(int(cents or 0)) / 100


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _month(text: Any) -> date:
    year, month = str(text).split("-")
    return date(int(year), int(month), 1)


def _moment(value: Any) -> datetime | None:
    return datetime.fromisoformat(str(value)) if value else None


@dataclass(frozen=True)
class Report:
    period: Period
    generated_at: datetime
    raw: Mapping[str, Any]
    tables: list[Table] = field(default_factory=list)

    @classmethod
    def from_rpc(cls, period: Period, raw: Mapping[str, Any]) -> Report:
        from atelier.reports.money import money_tables

        report = cls(period, datetime.fromisoformat(str(raw["generated_at"])), raw)
        report.tables.extend(
            [
                report._revenue(),
                report._funnel(),
                report._projects(),
                report._milestones(),
                report._cycle_times(),
                report._held(),
                report._nps(),
                report._overdue_tasks(),
                *money_tables(raw),
                report._sync(),
            ]
        )
        return report

    def table(self, key: str) -> Table:
        return next(t for t in self.tables if t.key == key)

    # -- figures ---------------------------------------------------------------------------------

    def revenue_by_currency(self) -> dict[str, dict[str, Decimal]]:
        """Gross, refunded and net for the whole period, per currency (a studio may take more than one)."""
        totals: dict[str, dict[str, Decimal]] = {}
        for row in self.raw.get("revenue") or []:
            into = totals.setdefault(
                str(row["currency"]).upper(), {"gross": Decimal(0), "refunded": Decimal(0), "net": Decimal(0)}
            )
            into["gross"] += _money(row["gross_cents"])
            into["refunded"] += _money(row["refunded_cents"])
            into["net"] += _money(row["net_cents"])
        return totals

    def funnel_totals(self) -> dict[str, int]:
        rows = self.raw.get("funnel") or []
        return {
            k: sum(int(r.get(k) or 0) for r in rows) for k in ("leads", "qualified", "needs_review", "quoted", "paid")
        }

    def conversion(self) -> Decimal | None:
        totals = self.funnel_totals()
        return round(Decimal(totals["paid"]) / totals["leads"], 4) if totals["leads"] else None

    def headlines(self) -> list[Headline]:
        funnel = self.funnel_totals()
        milestones = self.raw.get("milestones") or {}
        lines = [
            Headline("Leads", funnel["leads"], "count"),
            Headline("Paid", funnel["paid"], "count"),
            Headline("Conversion", self.conversion(), "rate"),
        ]
        revenue = self.revenue_by_currency() or {"USD": {"net": Decimal(0), "refunded": Decimal(0)}}
        for currency, sums in sorted(revenue.items()):
            lines.append(Headline(f"Net revenue ({currency})", sums["net"], "money", currency))
            lines.append(Headline(f"Refunded ({currency})", sums["refunded"], "money", currency))
        lines.append(Headline("Milestones on time", _decimal(milestones.get("on_time_rate")), "rate"))
        lines.append(Headline("NPS", self.nps(), "count"))
        lines.append(Headline("Overdue tasks", len(self.raw.get("overdue_tasks") or []), "count"))
        return lines

    def nps(self) -> int | None:
        """Net promoter score over the period (promoters 9-10 less detractors 0-6, per 100 answers)."""
        rows = self.raw.get("nps") or []
        answers = sum(int(r.get("answers") or 0) for r in rows)
        if not answers:
            return None
        net = sum(int(r.get("promoters") or 0) - int(r.get("detractors") or 0) for r in rows)
        return round(100 * net / answers)

    # -- tables ----------------------------------------------------------------------------------

    def _revenue(self) -> Table:
        columns = (
            Column("Month", "month"),
            Column("Tier"),
            Column("Currency"),
            Column("Payments", "count"),
            Column("Refunds", "count"),
            Column("Gross", "money"),
            Column("Refunded", "money"),
            Column("Net", "money"),
        )
        rows: list[tuple[Cell, ...]] = [
            (
                _month(r["month"]),
                str(r.get("tier_name") or "No tier"),
                str(r["currency"]).upper(),
                int(r["payments"]),
                int(r["refunds"]),
                _money(r["gross_cents"]),
                _money(r["refunded_cents"]),
                _money(r["net_cents"]),
            )
            for r in self.raw.get("revenue") or []
        ]
        return Table(
            "revenue",
            "Revenue by month",
            columns,
            rows,
            "Payments taken in the period, net of refunds; a refund counts in the month of its payment.",
        )

    def _funnel(self) -> Table:
        columns = (
            Column("Tier"),
            Column("Leads", "count"),
            Column("Qualified", "count"),
            Column("Needs review", "count"),
            Column("Quoted", "count"),
            Column("Paid", "count"),
            Column("Conversion", "rate"),
            Column("Median days to quote", "days"),
        )
        rows: list[tuple[Cell, ...]] = [
            (
                str(r["tier_name"]),
                int(r["leads"]),
                int(r["qualified"]),
                int(r["needs_review"]),
                int(r.get("quoted") or 0),
                int(r["paid"]),
                _decimal(r.get("conversion")),
                _days(r.get("hours_to_quote")),
            )
            for r in self.raw.get("funnel") or []
        ]
        totals = self.funnel_totals()
        rows.append(
            (
                "All tiers",
                totals["leads"],
                totals["qualified"],
                totals["needs_review"],
                totals["quoted"],
                totals["paid"],
                self.conversion(),
                None,  # a median of medians would mislead: each tier's is above
            )
        )
        return Table(
            "funnel",
            "The funnel by tier",
            columns,
            rows,
            "Leads that arrived in the period, by recommended tier; quoted: those the team sent a quote; paid: "
            "those that became a project.",
        )

    def _projects(self) -> Table:
        rows: list[tuple[Cell, ...]] = [
            (STATUS_LABELS.get(str(r["status"]), str(r["status"])), int(r["projects"]))
            for r in self.raw.get("projects") or []
        ]
        return Table(
            "projects",
            "Projects by status",
            (Column("Status"), Column("Projects", "count")),
            rows,
            "Projects paid for in the period, by where they stand now.",
        )

    def _held(self) -> Table:
        return Table(
            "held",
            "Payments held for the owner",
            (Column("Paid at", "datetime"), Column("Amount", "money"), Column("Currency"), Column("Why")),
            _held_rows(self.raw),
            "Taken by Stripe, but no work started: a declined lead, a replaced quote, a second payment, an amount "
            "under the price. Refund each, or decide by hand; `atelier check` lists them too. Any date, until done.",
        )

    def _milestones(self) -> Table:
        m = self.raw.get("milestones") or {}
        rows: list[tuple[Cell, ...]] = [
            ("On time", int(m.get("on_time") or 0)),
            ("Late", int(m.get("late") or 0)),
            ("Overdue", int(m.get("overdue") or 0)),
            ("Still to come", int(m.get("upcoming") or 0)),
        ]
        return Table(
            "milestones",
            "Milestones due in the period",
            (Column("Outcome"), Column("Milestones", "count")),
            rows,
            "On time: done on or before the due date. Overdue: past due and not done.",
        )

    def _cycle_times(self) -> Table:
        cycles = self.raw.get("cycle_times") or {}
        rows: list[tuple[Cell, ...]] = []
        for key, label in (("intake_to_payment", "Intake to payment"), ("payment_to_delivery", "Payment to delivery")):
            c = cycles.get(key) or {}
            rows.append((label, int(c.get("count") or 0), _decimal(c.get("median")), _decimal(c.get("high"))))
        columns = (
            Column("Stage"),
            Column("Projects", "count"),
            Column("Median days", "days"),
            Column("90th centile days", "days"),
        )
        return Table(
            "cycle_times", "Cycle times", columns, rows, "Delivered: when a project's last milestone was completed."
        )

    def _nps(self) -> Table:
        rows: list[tuple[Cell, ...]] = [
            (
                date.fromisoformat(str(r["month"])[:10]),
                str(r.get("tier_name") or ""),
                int(r.get("answers") or 0),
                int(r.get("promoters") or 0),
                int(r.get("detractors") or 0),
                int(r["nps"]) if r.get("nps") is not None else None,
            )
            for r in self.raw.get("nps") or []
        ]
        columns = (
            Column("Month", "month"),
            Column("Tier"),
            Column("Answers", "count"),
            Column("Promoters", "count"),
            Column("Detractors", "count"),
            Column("NPS", "count"),
        )
        return Table(
            "nps",
            "Client feedback (NPS) by tier and month",
            columns,
            rows,
            "Asked once at delivery: how likely the client is to recommend the studio, 0-10. Promoters answer 9-10, "
            "detractors 0-6; NPS is promoters less detractors per 100 answers, from -100 to 100.",
        )

    def _overdue_tasks(self) -> Table:
        rows: list[tuple[Cell, ...]] = [
            (
                str(t.get("title") or ""),
                str(t.get("project_name") or t.get("lead_name") or ""),
                str(t.get("due_date") or "")[:10],
                int(t.get("days_overdue") or 0),
            )
            for t in self.raw.get("overdue_tasks") or []
        ]
        columns = (Column("Task"), Column("About"), Column("Due"), Column("Days overdue", "days"))
        return Table(
            "overdue_tasks",
            "Overdue tasks, now",
            columns,
            rows,
            "The team's tasks past their due date and not done (Notion's Tasks): the process's and the team's own.",
        )

    def _sync(self) -> Table:
        s = self.raw.get("sync") or {}
        latency = s.get("webhook_latency") or {}
        rows: list[tuple[Cell, ...]] = [
            ("Changes waiting for Notion", int(s.get("outbox_depth") or 0)),
            ("Dead rows (need atelier outbox retry)", int(s.get("dead") or 0)),
            ("Oldest waiting change, seconds", int(s.get("oldest_pending_seconds") or 0)),
            ("Last poll of Notion", _moment(s.get("last_poll_at"))),
            ("Webhook deliveries in the period", int(latency.get("count") or 0)),
            ("Webhook delivery time, median seconds", _decimal(latency.get("median"))),
            ("Webhook delivery time, p95 seconds", _decimal(latency.get("high"))),
            ("E-mails waiting", int(s.get("mail_pending") or 0)),
            ("E-mails dead", int(s.get("mail_dead") or 0)),
        ]
        return Table(
            "sync",
            "Sync health, now",
            (Column("Measure"), Column("Value")),
            rows,
            "The Notion sync and the e-mail outbox as they stand when the report is made.",
        )


def _held_rows(raw: Mapping[str, Any]) -> list[tuple[Cell, ...]]:
    return [
        (
            datetime.fromisoformat(str(h["at"])),
            _money(h.get("amount")),
            str(h.get("currency") or "").upper(),
            str(h.get("reason") or ""),
        )
        for h in raw.get("held") or []
    ]


def fetch(rpc: Any, period: Period) -> Report:
    """The whole report in one round trip."""
    raw = rpc.rpc("report", p_from=period.start.isoformat(), p_to=period.end.isoformat())
    return Report.from_rpc(period, raw)


def show(value: Cell, kind: Kind) -> str:
    """A cell as a person reads it (the page, the PDF, the terminal)."""
    if value is None:
        return "\u2013"  # an en dash: no figure
    if kind == "money" and isinstance(value, Decimal):
        return f"{value:,.2f}"
    if kind == "rate" and isinstance(value, Decimal):
        return f"{value * 100:.1f}%"
    if kind == "month" and isinstance(value, date):
        return value.strftime("%b %Y")
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    if kind == "count" and isinstance(value, int):
        return f"{value:,}"
    return str(value)


def headline_text(line: Headline) -> str:
    figure = show(line.value, line.kind)
    return f"{figure} {line.currency}" if line.currency and line.value is not None else figure


def _days(hours: Any) -> Decimal | None:
    """Hours (the database's median time from lead to quote) as days, to a tenth."""
    value = _decimal(hours)
    return None if value is None else round(value / 24, 1)
