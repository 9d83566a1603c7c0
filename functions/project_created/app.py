"""project_created: `POST /webhooks/supabase`, a doorbell that pushes one project's queued rows to Notion now.

It only hurries things along: when it never rings, the scheduled sweep pushes the same rows.
"""

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
from atelier.kernel.settings import SyncSettings, secret
from atelier.kernel.telemetry import emit
from atelier.notion.transport import notion_tally
from atelier.sync.doorbell import authorize, ring
from atelier.web.http import answer_problems

JSON = "application/json"
MAX_SECONDS = 10.0  # answer fast; the sweep finishes what is left

settings = wiring.settings(SyncSettings)
# A logger of its own: where functions share a process (locally), their log keys never cross.
logger, metrics = Logger(service="atelier-project_created"), Metrics()
app = APIGatewayHttpResolver()


@app.post("/webhooks/supabase")
def doorbell() -> Response[str]:
    event = app.current_event
    authorize(
        header(event.headers, "authorization"),
        secret(settings.supabase_webhook_secret, settings.supabase_webhook_secret_secret, "SUPABASE_WEBHOOK_SECRET"),
    )
    project_id, business_id = ring(raw_body(event.body, event.is_base64_encoded))
    if project_id is None:
        return Response(200, JSON, json.dumps({"ignored": True}))
    deadline = time.monotonic() + seconds_left(app.lambda_context, keep=3, most=MAX_SECONDS)
    with wiring.in_business(wiring.directory().slug_of(business_id)):
        report = wiring.outbox_pusher().sweep(deadline=deadline, project_id=project_id)
    emit(metrics, {"DoorbellPushes": report.created + report.updated} | notion_tally())
    logger.info("doorbell", extra={"project_id": project_id, "sweep": report.__dict__})  # nested: see notion_sync
    counts = {k: getattr(report, k) for k in ("claimed", "created", "updated", "failed")}
    return Response(200, JSON, json.dumps({"project_id": project_id, **counts}))


unavailable = "Database unavailable; the scheduled sweep will push."
answer_problems(app, logger, metrics, refused="DoorbellRefused", unavailable=unavailable)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)  # the record names its business
