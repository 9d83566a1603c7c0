"""notion_webhook: `POST /webhooks/notion`, Notion's doorbell. A team edit reaches Postgres in seconds.

- The one-time handshake (`{"verification_token": ...}`) keeps the token: in the function's secret while it is
  empty (AWS), in `.atelier/dev.json` locally. The token is never logged.
- Every other delivery must carry `X-Notion-Signature` (HMAC-SHA256 of the raw body, keyed by the token), or it is
  401 and changes nothing. It is applied once, by its event id: a page event pulls that page now, a schema event
  reads that schema again. Unknown event types are acknowledged. The scheduled poll stays the safety net.
"""

from __future__ import annotations

import json
import time
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from atelier import wiring
from atelier.deadlines import seconds_left
from atelier.errors import BadRequest, Conflict, Unauthorized
from atelier.http import answer_problems, header, json_object, raw_body
from atelier.notion.errors import NotionError
from atelier.notion.webhook import MAX_TOKEN_LENGTH, SIGNATURE_HEADER, BadDelivery, Delivery, signed
from atelier.settings import NotionWebhookSettings
from atelier.telemetry import count

JSON = "application/json"
MAX_BODY_BYTES = 64 * 1024
MAX_SECONDS = 8.0  # answer fast: Notion waits for us; the poll finishes what is left

wiring.settings(NotionWebhookSettings)  # validated at cold start; the token's store is made on first use
# A logger of its own: where functions share a process (locally), their log keys never cross.
logger, metrics = Logger(service="atelier-notion_webhook"), Metrics()
app = APIGatewayHttpResolver()


def _handshake(token: Any) -> Response[str]:
    if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN_LENGTH or not token.isprintable():
        raise BadRequest("verification_token must be a non-empty string.", code="invalid_token",
                         fields={"verification_token": "a string of at most 512 characters"})  # fmt: skip
    if not wiring.webhook_tokens().keep(token):
        raise Conflict("A verification token is kept already. To accept a new subscription's token, empty the "
                       "function's secret (locally: delete notion_webhook_verification_token from .atelier/dev.json) "
                       "and send the handshake again.", code="token_already_kept")  # fmt: skip
    count(metrics, "NotionWebhookVerified", 1)
    logger.info("notion webhook verification token kept")  # the token itself is never logged
    return Response(200, JSON, json.dumps({"verified": True}))


@app.post("/webhooks/notion")
def webhook() -> Response[str]:
    event = app.current_event
    body = raw_body(event.body, event.is_base64_encoded, limit=MAX_BODY_BYTES)
    payload = json_object(body, what="a Notion webhook event")
    if "verification_token" in payload and "type" not in payload:
        return _handshake(payload["verification_token"])
    token = wiring.webhook_tokens().current()
    if token is None:
        raise Unauthorized("No verification token is kept yet: create the webhook subscription in Notion, so that "
                           "its handshake reaches this endpoint first.", code="not_verified")  # fmt: skip
    if not signed(token, body, header(event.headers, SIGNATURE_HEADER)):
        count(metrics, "NotionWebhookBadSignature", 1)
        raise Unauthorized("X-Notion-Signature is missing or does not match the body.", code="bad_signature")
    try:
        delivery = Delivery.parse(payload)
    except BadDelivery as exc:
        raise BadRequest(str(exc), code="invalid_event") from None
    deadline = time.monotonic() + seconds_left(app.lambda_context, keep=2, most=MAX_SECONDS)
    started = time.monotonic()
    try:
        outcome = wiring.notion_events().handle(delivery, deadline=deadline)
    except NotionError as exc:
        count(metrics, "NotionWebhookDeferred", 1)
        logger.warning("notion did not answer; the event waits for Notion's retry or the poll",
                       extra={"event_id": delivery.event_id, "type": delivery.type, "code": exc.code})  # fmt: skip
        unavailable = {"error": "notion_unavailable", "message": "Notion did not answer; send the event again later."}
        return Response(503, JSON, json.dumps(unavailable), headers={"Retry-After": "30"})
    count(metrics, "NotionWebhookApplied" if outcome.action in ("pulled", "schema") else "NotionWebhookSkipped", 1)
    elapsed_ms = round((time.monotonic() - started) * 1000)
    logger.info("notion webhook", extra={"event_id": delivery.event_id, "type": delivery.type,
                                         "outcome": outcome.body(), "ms": elapsed_ms})  # fmt: skip
    return Response(200, JSON, json.dumps(outcome.body()))


answer_problems(app, logger, metrics, refused_metric="NotionWebhookRefused",
                unavailable="Database unavailable; Notion will send the event again.", retry_after=30)  # fmt: skip


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
