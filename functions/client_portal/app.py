"""client_portal: `/portal`, `/portal/login`, `/portal/projects/{id}`, `/portal/deliverables/{id}` (`portal.desk`)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

from atelier import wiring
from atelier.kernel.settings import PortalSettings
from atelier.kernel.telemetry import count
from atelier.portal.desk import UNAVAILABLE, Answer, PortalDesk, parse_portal_request
from atelier.web.frame import PRIVATE, html_response
from atelier.web.http import answer_problems

settings = wiring.settings(PortalSettings)  # validated at cold start
logger, metrics = Logger(service="atelier-client_portal"), Metrics()
app = APIGatewayHttpResolver()


def _desk() -> PortalDesk:
    return PortalDesk(wiring.portal(), wiring.download_links(), secure=settings.secure, contact=settings.contact())


def _send(answer: Answer) -> Response[str]:
    if answer.metric:
        count(metrics, answer.metric)
    if answer.page is None:  # a redirect
        return Response(answer.status, "text/plain", "", headers=PRIVATE | answer.headers)
    return html_response(answer.status, answer.page, PRIVATE | answer.headers)


@app.get("/portal")
def portal() -> Response[str]:
    return _send(_desk().home(parse_portal_request(app.current_event)))


@app.post("/portal/login")
def login() -> Response[str]:
    return _send(_desk().login(parse_portal_request(app.current_event)))


@app.get("/portal/projects/<project_id>")
def project(project_id: str) -> Response[str]:
    return _send(_desk().project(parse_portal_request(app.current_event), project_id))


@app.get("/portal/deliverables/<deliverable_id>")
def deliverable(deliverable_id: str) -> Response[str]:
    return _send(_desk().deliverable(parse_portal_request(app.current_event), deliverable_id))


answer_problems(app, logger, metrics, refused="PortalRefused", unavailable=UNAVAILABLE)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return wiring.serve(app, event, context)
