"""notion_webhook: `POST /webhooks/notion`, Notion's doorbell: a team edit reaches Postgres in seconds. The handshake
and signatures are `atelier.notion.webhook`'s; what each event does is `atelier.sync.events`'. The poll is the net."""

from __future__ import annotations

import json
import time
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from atelier import wiring
from atelier.kernel.body import header, raw_body
from atelier.kernel.deadlines import seconds_left
from atelier.kernel.settings import NotionWebhookSettings
from atelier.kernel.telemetry import count
from atelier.notion.errors import NotionError
from atelier.notion.webhook import SIGNATURE_HEADER
from atelier.web.http import answer_problems

JSON = "application/json"
UNAVAILABLE = json.dumps({"error": "notion_unavailable", "message": "Notion did not answer; send the event again."})
MAX_BODY_BYTES = 64 * 1024
MAX_SECONDS = 8.0  # answer fast: Notion waits for us; the poll finishes what is left

wiring.settings(NotionWebhookSettings)  # validated at cold start; the token's store is made on first use
logger, metrics = Logger(service="atelier-notion_webhook"), Metrics()
app = APIGatewayHttpResolver()


@app.post("/webhooks/notion")
def webhook() -> Response[str]:
    event = app.current_event
    body = raw_body(event.body, event.is_base64_encoded, limit=MAX_BODY_BYTES)
    delivery = wiring.webhook_gate().admit(body, header(event.headers, SIGNATURE_HEADER))
    if delivery is None:
        count(metrics, "NotionWebhookVerified", 1)
        logger.info("notion webhook verification token kept")  # the token itself is never logged
        return Response(200, JSON, json.dumps({"verified": True}))
    deadline = time.monotonic() + seconds_left(app.lambda_context, keep=2, most=MAX_SECONDS)
    try:
        outcome = wiring.notion_events().handle(delivery, deadline=deadline)
    except NotionError as exc:  # the ledger forgot the event: Notion's retry (or the poll) applies it
        count(metrics, "NotionWebhookDeferred", 1)
        logger.warning("notion did not answer", extra={"event_id": delivery.event_id, "code": exc.code})
        # 502: the upstream failed. 503 is the one table's answer for an unreachable database.
        return Response(502, JSON, UNAVAILABLE, headers={"Retry-After": "30"})
    count(metrics, "NotionWebhookApplied" if outcome.action in ("pulled", "schema") else "NotionWebhookSkipped", 1)
    logger.info("notion webhook", extra={"type": delivery.type, "outcome": outcome.body()})  # with its event id
    return Response(200, JSON, json.dumps(outcome.body()))


answer_problems(
    app,
    logger,
    metrics,
    refused_metric="NotionWebhookRefused",
    unavailable="Database unavailable; Notion will send the event again.",
    retry_after=30,
)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
