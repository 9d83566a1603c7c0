"""reports: `GET /reports` (the owner's page), `.xlsx` and `.pdf`, behind a signed link (`atelier.reports`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

from atelier import wiring
from atelier.kernel.page import Page
from atelier.kernel.settings import ReportSettings
from atelier.kernel.telemetry import count
from atelier.reports import page
from atelier.reports.model import Report
from atelier.reports.request import export, open_report, parse_report_request
from atelier.web.frame import PRIVATE, html_response
from atelier.web.http import Problem, answer_problems

wiring.settings(ReportSettings)  # validated at cold start
logger, metrics = Logger(service="atelier-reports"), Metrics()
app = APIGatewayHttpResolver()


def _report() -> Report:
    request = parse_report_request(app.current_event)
    return open_report(request, wiring.report_links(), wiring.rpc(), datetime.now(UTC).date())


@app.get("/reports")
def report_page() -> Response[str]:
    report, key = _report(), parse_report_request(app.current_event).key
    count(metrics, "ReportViewed")
    return html_response(200, page.render(report, key, wiring.settings(ReportSettings).studio_name), PRIVATE)


@app.get("/reports.xlsx")
@app.get("/reports.pdf")
def report_file() -> Response[Any]:
    report, studio = _report(), wiring.settings(ReportSettings).studio_name
    count(metrics, "ReportExported")
    content_type, data, name = export(report, app.current_event.path.rsplit(".", 1)[1], studio)
    headers = PRIVATE | {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(200, content_type, data, headers=headers)


def refusal_page(problem: Problem) -> Page:
    return page.refusal(problem.status, problem.message, parse_report_request(app.current_event).key)


answer_problems(
    app, logger, metrics, refused="ReportRefused", page=refusal_page, unavailable=page.UNAVAILABLE, headers=PRIVATE
)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return wiring.serve(app, event, context)
