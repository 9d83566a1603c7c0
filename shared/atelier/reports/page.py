"""`GET /reports`: the owner's page. Headline figures, then each section's chart beside its table, the period
picker and the export links. Plain HTML in the studio's style, readable at phone width; nothing runs in the browser."""

from __future__ import annotations

from html import escape
from urllib.parse import urlencode

from atelier.kernel.page import Page
from atelier.reports.charts import Chart, all_charts
from atelier.reports.model import NUMERIC, Report, Table, headline_text, show
from atelier.reports.period import Period

STYLE = """<style>
body{max-width:72rem}
.figures{display:grid;grid-template-columns:repeat(auto-fit,minmax(10rem,1fr));gap:.75rem;margin:1rem 0;padding:0}
.figures div{border:1px solid #d2d2d7;padding:.5rem .75rem}.figures dt{color:#555;font-size:.9rem}
.figures dd{margin:0;font-size:1.4rem;font-weight:600}
section{margin:2rem 0}.pair{display:grid;grid-template-columns:minmax(0,1fr);gap:1rem;align-items:start}
@media (min-width:60rem){.pair{grid-template-columns:minmax(0,3fr) minmax(0,2fr)}}
figure{margin:0}svg{max-width:100%;height:auto}.stack figure{max-width:40rem}
.scroll{overflow-x:auto}table{border-collapse:collapse;width:100%;font-size:.95rem}
.note{font-size:.9rem;margin:0 0 .25rem}
th,td{padding:.3rem .5rem;border-bottom:1px solid #e5e5e7;text-align:left;white-space:nowrap}
th[scope=row]{white-space:normal;min-width:8rem}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.picker{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:end}
.picker label{margin-top:0}.picker select,.picker input{width:auto}.picker button{margin-top:0}
.exports a{margin-right:1rem}
</style>"""
PERIODS = (
    ("month", "This month"),
    ("last-month", "Last month"),
    ("quarter", "This quarter"),
    ("year", "This year"),
    ("last-week", "Last week"),
    ("custom", "Custom dates"),
)


def _table(table: Table) -> str:
    head = "".join(
        f'<th scope="col" class="{"n" if c.kind in NUMERIC else ""}">{escape(c.name)}</th>' for c in table.columns
    )
    body = []
    for row in table.rows:
        cells = []
        for i, (column, value) in enumerate(zip(table.columns, row, strict=True)):
            text = escape(show(value, column.kind))
            numeric = column.kind in NUMERIC or (isinstance(value, (int, float)) and not isinstance(value, bool))
            cells.append(
                f'<th scope="row">{text}</th>' if i == 0 else f'<td class="{"n" if numeric else ""}">{text}</td>'
            )
        body.append(f"<tr>{''.join(cells)}</tr>")
    if not table.rows:
        body.append(f'<tr><td colspan="{len(table.columns)}">Nothing in this period.</td></tr>')
    return (
        f'<div><p class="muted note">{escape(table.note)}</p><div class="scroll" tabindex="0" '
        f'aria-labelledby="h-{table.key}"><table id="table-{table.key}" aria-labelledby="h-{table.key}">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div></div>"
    )


def _section(table: Table, chart: Chart | None) -> str:
    figure = (
        f'<figure id="chart-{chart.key}">{chart.inline()}</figure>'
        if chart is not None
        else '<p class="muted">No payments in this period, so there is nothing to chart.</p>'
        if table.key == "revenue"
        else ""
    )
    wide = len(table.columns) > 4  # a wide table goes under its chart, at the page's full width
    inner = f'<div class="{"stack" if wide else "pair"}">{figure}{_table(table)}</div>' if figure else _table(table)
    return (
        f'<section aria-labelledby="h-{table.key}"><h2 id="h-{table.key}">{escape(table.title)}</h2>{inner}</section>'
    )


def _picker(period: Period, key: str) -> str:
    chosen = period.spec if period.spec in dict(PERIODS) else "custom"  # a month, a quarter or two dates
    options = "".join(
        f'<option value="{v}"{" selected" if v == chosen else ""}>{escape(label)}</option>' for v, label in PERIODS
    )
    return (
        '<form class="picker" method="get" action="/reports">'
        f'<input type="hidden" name="key" value="{escape(key)}">'
        f'<div><label for="period">Period</label><select id="period" name="period">{options}</select></div>'
        f'<div><label for="from">From <span class="hint">(custom)</span></label>'
        f'<input type="date" id="from" name="from" value="{period.start.isoformat()}"></div>'
        f'<div><label for="to">To <span class="hint">(custom)</span></label>'
        f'<input type="date" id="to" name="to" value="{period.end.isoformat()}"></div>'
        '<div><button type="submit">Show</button></div></form>'
    )


UNAVAILABLE = "The report cannot reach its figures just now. Please try again in a minute."


def render(report: Report, key: str, studio: str = "Atelier") -> Page:
    period = report.period
    query = urlencode({"key": key, "period": period.spec})
    figures = "".join(
        f"<div><dt>{escape(line.label)}</dt><dd>{escape(headline_text(line))}</dd></div>" for line in report.headlines()
    )
    charts = all_charts(report)
    body = (
        f"<h1>{escape(studio)}: report for {escape(period.label)}</h1>"
        f'<p class="muted">{period.start:%-d %B %Y} to {period.end:%-d %B %Y}, in UTC. Made '
        f"{report.generated_at:%-d %B %Y at %H:%M} UTC.</p>"
        f"{_picker(period, key)}"
        f'<p class="exports">Download: <a href="/reports.xlsx?{escape(query)}">Excel (.xlsx)</a>'
        f'<a href="/reports.pdf?{escape(query)}">PDF</a></p>'
        f'<dl class="figures" aria-label="Headline figures">{figures}</dl>'
        + "".join(_section(table, charts.get(table.key)) for table in report.tables)
    )
    return Page(f"Report: {period.label}", body, head=STYLE)


def refusal(status: int, message: str, key: str) -> Page:
    """What a refused request is shown: a period that is not one (422), or a link that does not open the report."""
    return bad_period(message, key) if status == 422 else refused(message)


def refused(message: str) -> Page:
    """A link that does not open the report (401 or 403): what happened, how to get one that works; no figures."""
    body = (
        f"<h1>This report link does not open the report</h1><p>{escape(message)}</p>"
        "<p>Ask whoever runs Atelier for a new link: <code>atelier report link</code> prints one, good for "
        "24 hours (<code>--hours N</code> for longer).</p>"
    )
    return Page("Report link refused", body)


def bad_period(message: str, key: str) -> Page:
    """A period that is not one (422): what to write instead, and the way back to this month."""
    body = (
        f'<h1>That period cannot be shown</h1><p class="error">{escape(message)}</p>'
        f'<p><a href="/reports?{escape(urlencode({"key": key}))}">Show this month instead</a>.</p>'
    )
    return Page("Report period refused", body)
