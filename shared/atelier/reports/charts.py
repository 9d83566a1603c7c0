"""The report's charts, drawn on the server as SVG by leather (so they also print and go into the PDF). Each chart
has the table it is drawn from beside it on the page; a chart never holds a figure the table does not."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal
from html import escape

import leather

from atelier.reports.model import Report, show

WIDTH, HEIGHT = 480, 300  # small enough that its text stays readable on a phone, where it is drawn ~350 px wide
INK, ACCENT, MUTED = "#1d1d1f", "#0a5cd5", "#555555"
for _name in ("title_font_family", "legend_font_family", "tick_font_family", "axis_title_font_family"):
    if hasattr(leather.theme, _name):
        setattr(leather.theme, _name, "Helvetica")  # a family every browser and the PDF's core fonts have
leather.theme.background_color = "#ffffff"
leather.theme.title_font_size = leather.theme.title_font_char_height = 18
leather.theme.title_font_char_width = 10
leather.theme.tick_font_size = leather.theme.tick_font_char_height = 15
leather.theme.tick_font_char_width = 9
leather.theme.title_color = INK
leather.theme.tick_color = "#e5e5e5"
leather.theme.label_color = MUTED


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    svg: str  # fixed size: as the PDF draws it

    def inline(self) -> str:
        """For the page: scales with the column it is in, and reads as one image with a name."""
        return self.svg.replace(
            f'width="{WIDTH}" height="{HEIGHT}"', f'<svg width="100%" role="img" aria-label="{escape(self.title)}"', 1
        )


def _svg(chart: leather.Chart) -> str:
    """leather's SVG, with the viewBox that lets it scale (on the page, and in the PDF)."""
    return re.sub(
        r'^<svg width="(\d+)" height="(\d+)"',
        r'<svg viewBox="0 0 \1 \2" width="\1" height="\2"',
        chart.to_svg(width=WIDTH, height=HEIGHT),
    )


def _ticks(top: float) -> list[float]:
    """Whole-number ticks from 0 to at least `top` (counts never show halves)."""
    if top <= 0:
        return [0, 1]
    step = max(1, math.ceil(top / 5))
    magnitude = 10 ** max(0, len(str(step)) - 1)
    step = math.ceil(step / magnitude) * magnitude
    return [float(step * i) for i in range(math.ceil(top / step) + 1)]


def _bars(key: str, title: str, pairs: list[tuple[str, float]], *, money: bool = False) -> Chart:
    chart = leather.Chart(title)
    ticks = _ticks(max((v for _, v in pairs), default=0))
    chart.add_x_scale(0, ticks[-1])
    chart.add_x_axis(ticks=ticks, tick_formatter=lambda v, i, n: f"{v:,.0f}")
    chart.add_bars([(value, label) for label, value in pairs], fill_color=ACCENT)
    return Chart(key, title, _svg(chart))


def revenue(report: Report) -> Chart | None:
    """Net revenue per month in the studio's main currency (the one with the most net); None without payments."""
    totals = report.revenue_by_currency()
    if not totals:
        return None
    currency = max(totals, key=lambda c: (totals[c]["net"], c))
    by_month: dict[str, Decimal] = {}
    for row in report.table("revenue").rows:
        if row[2] == currency:
            label = show(row[0], "month")
            by_month[label] = by_month.get(label, Decimal(0)) + (row[7] if isinstance(row[7], Decimal) else 0)
    chart = leather.Chart(f"Net revenue by month ({currency})")
    top = float(max(by_month.values(), default=Decimal(0)))
    ticks = _ticks(top)
    chart.add_y_scale(0, ticks[-1])
    chart.add_y_axis(ticks=ticks, tick_formatter=lambda v, i, n: f"{v:,.0f}")
    chart.add_columns([(label, float(value)) for label, value in by_month.items()], fill_color=ACCENT)
    return Chart("revenue", f"Net revenue by month ({currency})", _svg(chart))


def funnel(report: Report) -> Chart:
    totals = report.funnel_totals()
    return _bars(
        "funnel",
        "The funnel: leads to paid",
        [
            ("Leads", totals["leads"]),
            ("Qualified", totals["qualified"]),
            ("Needs review", totals["needs_review"]),
            ("Quoted", totals["quoted"]),
            ("Paid", totals["paid"]),
        ],
    )


def projects(report: Report) -> Chart:
    rows = report.table("projects").rows
    return _bars("projects", "Projects by status", [(str(r[0]), float(r[1] or 0)) for r in rows])  # type: ignore[arg-type]


def milestones(report: Report) -> Chart:
    rows = report.table("milestones").rows
    return _bars("milestones", "Milestones due: on time or not", [(str(r[0]), float(r[1] or 0)) for r in rows])  # type: ignore[arg-type]


def all_charts(report: Report) -> dict[str, Chart | None]:
    """Each table's chart by the table's key (the cycle times and sync health are tables only)."""
    return {
        "revenue": revenue(report),
        "funnel": funnel(report),
        "projects": projects(report),
        "milestones": milestones(report),
    }
