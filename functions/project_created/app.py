"""project_created: `POST /webhooks/supabase`, a doorbell that pushes one project's queued rows to Notion now.

It only hurries things along: when it never rings, the scheduled sweep pushes the same rows.
"""

from __future__ import annotations

import hmac
import json
import time
import uuid
from functools import lru_cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from atelier.db import rpc_from_settings
from atelier.http import HttpProblem, answer_problems, header, raw_body
from atelier.notion import gateway_from_settings
from atelier.settings import DatabaseSettings, NotionSettings, SyncSettings, load, secret
from atelier.sync import OutboxPusher

JSON = "application/json"
HANDLED_TYPES = ("INSERT", "UPDATE")
MAX_SECONDS = 10.0  # answer fast; the sweep finishes what is left

settings = load(SyncSettings)
logger = Logger()
metrics = Metrics()
app = APIGatewayHttpResolver()


@lru_cache(maxsize=1)
def expected_authorization() -> bytes:
    value = secret(settings.supabase_webhook_secret, settings.supabase_webhook_secret_secret, "SUPABASE_WEBHOOK_SECRET")
    return f"Bearer {value}".encode()


@lru_cache(maxsize=1)
def pusher() -> OutboxPusher:
    gateway = gateway_from_settings(load(NotionSettings))
    return OutboxPusher(rpc_from_settings(load(DatabaseSettings)), gateway, settings.data_sources())


@app.post("/webhooks/supabase")
def doorbell() -> Response[str]:
    event = app.current_event
    given = (header(event.headers, "authorization") or "").encode()
    if not hmac.compare_digest(given, expected_authorization()):
        raise HttpProblem(401, "unauthorized", "Missing or wrong Authorization: Bearer <SUPABASE_WEBHOOK_SECRET>.")
    try:
        payload = json.loads(raw_body(event.body, event.is_base64_encoded))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise HttpProblem(400, "invalid_json", f"The body is not valid JSON: {exc}.") from None
    if not isinstance(payload, dict):
        raise HttpProblem(400, "invalid_json", "The body must be a Supabase webhook payload object.")
    if payload.get("table") != "projects" or payload.get("type") not in HANDLED_TYPES:
        return Response(200, JSON, json.dumps({"ignored": True}))
    try:
        project_id = str(uuid.UUID(str((payload.get("record") or {}).get("id"))))
    except ValueError:
        raise HttpProblem(400, "invalid_record", "record.id must be the project's uuid.") from None
    context = app.lambda_context
    remaining = context.get_remaining_time_in_millis() / 1000 if context else MAX_SECONDS
    deadline = time.monotonic() + max(1.0, min(MAX_SECONDS, remaining - 3))
    report = pusher().sweep(deadline=deadline, project_id=project_id)
    metrics.add_metric(name="DoorbellPushes", unit=MetricUnit.Count, value=report.created + report.updated)
    # ("created" is a LogRecord attribute, so the counts go under their own key.)
    logger.info("doorbell", extra={"project_id": project_id, "sweep": report.__dict__})
    return Response(200, JSON, json.dumps({"project_id": project_id, "claimed": report.claimed,
                                           "created": report.created, "updated": report.updated,
                                           "failed": report.failed}))  # fmt: skip


answer_problems(
    app,
    logger,
    metrics,
    refused_metric="DoorbellRefused",
    unavailable="Database unavailable; the scheduled sweep will push.",
)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
