"""client_portal: the client's portal (`portal.desk`): sign-in, their projects and files, and their side of the
conversation (messages, decisions on deliverables, the question at delivery). Each route is one desk method."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

from atelier import wiring
from atelier.kernel.settings import PortalSettings
from atelier.kernel.telemetry import count
from atelier.portal.desk import ROUTES, UNAVAILABLE, parse_portal_request
from atelier.web.frame import PRIVATE, html_response
from atelier.web.http import answer_problems

settings = wiring.settings(PortalSettings)  # validated at cold start
logger, metrics = Logger(service="atelier-client_portal"), Metrics()
app = APIGatewayHttpResolver()


def _route(name: str) -> Any:
    def answer(**params: str) -> Response[str]:
        desk = wiring.portal_desk(secure=settings.secure, contact=settings.contact())
        sent = getattr(desk, name)(parse_portal_request(app.current_event), *params.values())
        if sent.metric:
            count(metrics, sent.metric)
        if sent.file is not None:  # a receipt or an invoice
            return Response(sent.status, sent.file[1], sent.file[2], headers=PRIVATE | sent.headers)
        if sent.page is None:  # a redirect
            return Response(sent.status, "text/plain", "", headers=PRIVATE | sent.headers)
        return html_response(sent.status, sent.page, PRIVATE | sent.headers)

    answer.__name__ = name
    return answer


for method, rule, name in ROUTES:
    app.route(rule, method)(_route(name))
answer_problems(app, logger, metrics, refused="PortalRefused", unavailable=UNAVAILABLE)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return wiring.serve(app, event, context)
