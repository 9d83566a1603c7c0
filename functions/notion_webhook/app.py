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
from atelier.kernel.deadlines import seconds_left
from atelier.kernel.settings import NotionWebhookSettings
from atelier.kernel.telemetry import count, emit
from atelier.notion.transport import notion_tally
from atelier.notion.webhook import parse_notion_webhook
from atelier.web.http import answer_problems

JSON = "application/json"
MAX_SECONDS = 8.0  # answer fast: Notion waits for us; the poll finishes what is left

wiring.settings(NotionWebhookSettings)  # validated at cold start; the token's store is made on first use
logger, metrics = Logger(service="atelier-notion_webhook"), Metrics()
app = APIGatewayHttpResolver()


@app.post("/webhooks/notion")
def webhook() -> Response[str]:
    delivery = wiring.webhook_gate().admit(*parse_notion_webhook(app.current_event))
    if delivery is None:
        count(metrics, "NotionWebhookVerified", 1)
        logger.info("notion webhook verification token kept")  # the token itself is never logged
        return Response(200, JSON, json.dumps({"verified": True}))
    deadline = time.monotonic() + seconds_left(app.lambda_context, keep=2, most=MAX_SECONDS)
    # If Notion fails, the ledger forgets the event and the table answers 502: Notion's retry (or the poll) applies it.
    outcome = wiring.notion_events().handle(delivery, deadline=deadline)
    emit(metrics, {outcome.metric: 1} | notion_tally())
    logger.info("notion webhook", extra={"type": delivery.type, "outcome": outcome.body()})  # with its event id
    return Response(200, JSON, json.dumps(outcome.body()))


unavailable = "Database unavailable; Notion will send the event again."
answer_problems(
    app,
    logger,
    metrics,
    refused="NotionWebhookRefused",
    unavailable=unavailable,
    retry_after=30,
    deferred="NotionWebhookDeferred",
)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return wiring.serve(app, event, context)
