"""reports: `GET /reports` (the owner's page), `/reports.xlsx` and `/reports.pdf`, for a period, behind a signed,
expiring link (`atelier report link`). One rpc reads the whole report (`atelier.reports`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

from atelier import wiring
from atelier.kernel.errors import Forbidden, Unauthorized
from atelier.kernel.settings import ReportSettings
from atelier.kernel.telemetry import count
from atelier.reports import page
from atelier.reports.model import Report, fetch
from atelier.reports.period import PeriodError, custom, parse
from atelier.web.frame import html_response
from atelier.web.http import answer_problems

PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

settings = wiring.settings(ReportSettings)
logger, metrics = Logger(service="atelier-reports"), Metrics()
app = APIGatewayHttpResolver()


def _report() -> Report | Response[str]:
    """The report the link and period ask for, or the page that says why not (401, 403, 422)."""
    event = app.current_event
    key = event.get_query_string_value("key") or ""
    try:
        wiring.report_links().check(key)
    except (Unauthorized, Forbidden) as refusal:
        count(metrics, "ReportLinkRefused")
        status = 401 if isinstance(refusal, Unauthorized) else 403
        status, body = page.refused(status, refusal.message)
        return html_response(status, body, PRIVATE)
    today = datetime.now(UTC).date()
    spec = event.get_query_string_value("period")
    try:
        if spec == "custom":
            period = custom(event.get_query_string_value("from"), event.get_query_string_value("to"), today)
        else:
            period = parse(spec, today)
    except PeriodError as exc:
        status, body = page.bad_period(str(exc), key)
        return html_response(status, body, PRIVATE)
    return fetch(wiring.rpc(), period)


@app.get("/reports")
def report_page() -> Response[str]:
    report = _report()
    if isinstance(report, Response):
        return report
    count(metrics, "ReportViewed")
    key = app.current_event.get_query_string_value("key") or ""
    return html_response(200, page.render(report, key, settings.studio_name), PRIVATE)


def _export(extension: str, content_type: str, make: Callable[[Report], bytes]) -> Response[Any]:
    """The report as a file to download, for the same link and period as the page."""
    report = _report()
    if isinstance(report, Response):
        return report
    count(metrics, "ReportExported")
    name = f"report-{report.period.start}-{report.period.end}.{extension}"
    return Response(
        200, content_type, make(report), headers=PRIVATE | {"Content-Disposition": f'attachment; filename="{name}"'}
    )


@app.get("/reports.xlsx")
def report_xlsx() -> Response[Any]:
    from atelier.reports.xlsx import workbook  # each export imports its library on its own route

    return _export("xlsx", XLSX, workbook)


@app.get("/reports.pdf")
def report_pdf() -> Response[Any]:
    from atelier.reports.pdf import document

    return _export("pdf", "application/pdf", lambda report: document(report, settings.studio_name))


answer_problems(
    app,
    logger,
    metrics,
    refused_metric="ReportRefused",
    unavailable="The report cannot reach its figures just now. Please try again in a minute.",
)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
