"""notion_sync: the scheduled sweep that pushes every due outbox row to Notion within a time budget.

It is the guarantee behind the doorbell: whatever was queued and not yet pushed goes now, or next run.
"""

from __future__ import annotations

import time
from functools import lru_cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from atelier.db import rpc_from_settings
from atelier.notion import gateway_from_settings
from atelier.settings import DatabaseSettings, NotionSettings, SyncSettings, load
from atelier.sync import OutboxPusher

SAFETY_SECONDS = 15.0  # stop well before the Lambda timeout; the next run takes the rest

settings = load(SyncSettings)
logger = Logger()
metrics = Metrics()


@lru_cache(maxsize=1)
def pusher() -> OutboxPusher:
    gateway = gateway_from_settings(load(NotionSettings))
    return OutboxPusher(rpc_from_settings(load(DatabaseSettings)), gateway, settings.data_sources())


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@event_source(data_class=EventBridgeEvent)
def lambda_handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, Any]:
    budget = max(1.0, context.get_remaining_time_in_millis() / 1000 - SAFETY_SECONDS)
    report = pusher().sweep(deadline=time.monotonic() + budget)
    metrics.add_metric(name="OutboxPushed", unit=MetricUnit.Count, value=report.created + report.updated)
    metrics.add_metric(name="OutboxUnchanged", unit=MetricUnit.Count, value=report.unchanged)
    metrics.add_metric(name="OutboxFailed", unit=MetricUnit.Count, value=report.failed)
    metrics.add_metric(name="OutboxDead", unit=MetricUnit.Count, value=report.outcome.get("dead", 0))
    result = {"claimed": report.claimed, "created": report.created, "updated": report.updated,
              "unchanged": report.unchanged, "failed": report.failed, **report.outcome}  # fmt: skip
    logger.info("sweep", extra={"sweep": result})  # "created" is a LogRecord attribute: keep counts nested
    return result
