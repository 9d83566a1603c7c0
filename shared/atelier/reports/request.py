"""A report request as the reports routes read it: the link's key and the period asked for; and the report they
open, once the link holds and the period is one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from atelier.reports.links import ReportLinks
from atelier.reports.model import Report, fetch
from atelier.reports.period import custom, parse

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

    from atelier.kernel.rpc import Rpc


@dataclass(frozen=True)
class ReportRequest:
    key: str
    period: str | None = None
    start: str | None = None  # the custom period's first day (the picker's `from`)
    end: str | None = None


def parse_report_request(event: APIGatewayProxyEventV2) -> ReportRequest:
    query = event.get_query_string_value
    return ReportRequest(query("key") or "", query("period"), query("from"), query("to"))


def open_report(request: ReportRequest, links: ReportLinks, rpc: Rpc, today: date) -> Report:
    """The report the request asks for. The link is checked first (`NotAuthenticated` without one; `LinkInvalid`,
    `LinkExpired` or `LinkRevoked`), then the period (`PeriodError`); no figure is read before both hold."""
    links.check(request.key)
    period = custom(request.start, request.end, today) if request.period == "custom" else parse(request.period, today)
    return fetch(rpc, period)


EXPORTS = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "pdf": "application/pdf"}


def export(report: Report, extension: str, studio: str) -> tuple[str, bytes, str]:
    """The report as a file to download: its content type, its bytes and its name. Each format imports its library
    only when asked for."""
    if extension == "xlsx":
        from atelier.reports.xlsx import workbook

        data = workbook(report)
    else:
        from atelier.reports.pdf import document

        data = document(report, studio)
    return EXPORTS[extension], data, f"report-{report.period.start}-{report.period.end}.{extension}"
