"""notion_sync: the scheduled run. It pushes every due outbox row to Notion, then polls Notion for the team's
edits, within a time budget and under a lease, so that two overlapping schedules never both run.

It is the guarantee behind the doorbell: whatever was queued and not yet pushed goes now, or next run.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from atelier.db import Rpc, rpc_from_settings
from atelier.notion import NotionGateway, gateway_from_settings
from atelier.settings import DatabaseSettings, NotionSettings, SyncSettings, load
from atelier.sync import run_cycle

SAFETY_SECONDS = 15.0  # stop well before the Lambda timeout; the next run takes the rest

settings = load(SyncSettings)
logger = Logger()
metrics = Metrics()


@lru_cache(maxsize=1)
def ports() -> tuple[Rpc, NotionGateway, dict[str, str]]:
    return (
        rpc_from_settings(load(DatabaseSettings)),
        gateway_from_settings(load(NotionSettings)),
        settings.data_sources(),
    )


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@event_source(data_class=EventBridgeEvent)
def lambda_handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, Any]:
    budget = max(1.0, context.get_remaining_time_in_millis() / 1000 - SAFETY_SECONDS)
    rpc, gateway, sources = ports()
    limited_before = gateway.rate_limited
    cycle = run_cycle(rpc, gateway, sources, holder=context.aws_request_id, budget_seconds=budget)
    if not cycle.ran or cycle.sweep is None or cycle.poll is None:
        metrics.add_metric(name="SyncSkipped", unit=MetricUnit.Count, value=1)
        logger.info("another run holds the sync lease")
        return {"ran": False}
    sweep, poll = cycle.sweep, cycle.poll
    metrics.add_metric(name="NotionRateLimited", unit=MetricUnit.Count, value=gateway.rate_limited - limited_before)
    metrics.add_metric(name="OutboxPushed", unit=MetricUnit.Count, value=sweep.created + sweep.updated)
    metrics.add_metric(name="OutboxUnchanged", unit=MetricUnit.Count, value=sweep.unchanged)
    metrics.add_metric(name="OutboxFailed", unit=MetricUnit.Count, value=sweep.failed)
    metrics.add_metric(name="OutboxDead", unit=MetricUnit.Count, value=sweep.outcome.get("dead", 0))
    metrics.add_metric(name="NotionEditsApplied", unit=MetricUnit.Count, value=poll.applied)
    health = rpc.rpc("sync_health")  # the alarms: outbox depth, dead rows, the oldest "Last Synced"
    metrics.add_metric(name="OutboxDepth", unit=MetricUnit.Count, value=float(health["outbox_depth"]))
    metrics.add_metric(name="OutboxDeadRows", unit=MetricUnit.Count, value=float(health["dead"]))
    metrics.add_metric(name="OldestLastSyncedAge", unit=MetricUnit.Seconds,
                       value=float(health["oldest_last_synced_seconds"]))  # fmt: skip
    result = {"ran": True, "claimed": sweep.claimed, "created": sweep.created, "updated": sweep.updated,
              "unchanged": sweep.unchanged, "failed": sweep.failed, **sweep.outcome, "applied": poll.applied,
              "deleted": poll.deleted, "restored": poll.restored, "overridden": poll.overridden}  # fmt: skip
    logger.info("sync run", extra={"sync": result})  # "created" is a LogRecord attribute: keep counts nested
    return result
