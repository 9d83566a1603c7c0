"""The weekly report e-mail to the owner: queued once per week (a `notifications` row, by its dedupe key) and sent
by the mail outbox with the week's PDF attached and the headline figures in the body."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from atelier.kernel.rpc import Rpc
from atelier.kernel.settings import ReportSettings
from atelier.mail.outbox import Enclosure
from atelier.mail.render import Attachment
from atelier.reports.model import fetch, headline_text
from atelier.reports.period import Period

LINK_HOURS = 7 * 24


def last_week(today: date) -> date:
    """The Monday of the week before `today`'s (the week the Monday-morning report is about)."""
    return today - timedelta(days=today.weekday() + 7)


def queue(rpc: Rpc, owner: str, today: date) -> dict[str, Any]:
    """Queue last week's report for the owner; asking again the same week queues nothing (`queued` false)."""
    result: dict[str, Any] = rpc.rpc(
        "queue_weekly_report", p_recipient=owner, p_week_start=last_week(today).isoformat()
    )
    return result


def queue_due(rpc: Rpc, settings: ReportSettings, today: date, *, weekly: bool) -> dict[str, bool]:
    """What a mail run queues before it sends: last week's report (on the weekly run, when there is an owner), and
    the team's digest of overdue tasks (once a day, when something is overdue and there is an address for it), after
    each invoice found past due has become a task (as the sync's runs do too)."""
    queued: dict[str, bool] = {"InvoiceOverdue": bool(rpc.rpc("mark_overdue_invoices"))}
    owner, team = settings.owner(), settings.team()
    if weekly and owner is not None:
        queued["WeeklyReportQueued"] = bool(queue(rpc, owner, today).get("queued"))
    if team is not None:
        queued["TaskDigestQueued"] = bool((rpc.rpc("queue_task_digest", p_recipient=team) or {}).get("queued"))
    return queued


class WeeklyEnclosure:
    """The mail outbox's `enclose` for `weekly_report` rows: the figures and the PDF, read when the row is sent."""

    def __init__(self, rpc: Rpc, studio: str, report_url: Callable[[str], str] | None = None) -> None:
        self._rpc = rpc
        self._studio = studio
        self._report_url = report_url

    def __call__(self, template: str, context: dict[str, Any]) -> Enclosure | None:
        if template != "weekly_report":
            return None
        from atelier.reports.pdf import document

        details = context.get("details") or {}
        start, end = date.fromisoformat(str(details["from"])), date.fromisoformat(str(details["to"]))
        period = Period(start, end, f"{start}..{end}")
        report = fetch(self._rpc, period)
        figures = "\n".join(f"{line.label}: {headline_text(line)}" for line in report.headlines())
        url = self._report_url(period.spec) if self._report_url else ""
        pdf = Attachment(f"report-{start}-{end}.pdf", "application/pdf", document(report, self._studio))
        values = {
            "period_label": f"{start:%-d %B} to {end:%-d %B %Y}",
            "figures_lines": figures,
            "report_url": url or "(ask for a link: atelier report link)",
        }
        return Enclosure(values, (pdf,))
