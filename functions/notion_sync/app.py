"""notion_sync: the scheduled run. It pushes every due outbox row to Notion, then polls Notion for the team's
edits, within a time budget and under a lease, so that two overlapping schedules never both run.

It is the guarantee behind the doorbell: whatever was queued and not yet pushed goes now, or next run.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from atelier import wiring
from atelier.kernel.business import Business, for_each
from atelier.kernel.deadlines import seconds_left
from atelier.kernel.settings import SyncSettings
from atelier.kernel.telemetry import emit
from atelier.notion.transport import notion_tally
from atelier.sync.cycle import DURATIONS, CycleReport, run_cycle

SAFETY_SECONDS = 15.0  # stop well before the Lambda timeout; the next run takes the rest

wiring.settings(SyncSettings)  # validated at cold start
# A logger of its own: where functions share a process (locally), their log keys never cross.
logger, metrics = Logger(service="atelier-notion_sync"), Metrics()


def _report(slug: str, cycle: CycleReport) -> dict[str, Any]:
    emit(metrics, cycle.metrics() | notion_tally(), seconds=DURATIONS)
    if not cycle.ran:
        logger.info("another run holds the sync lease", extra={"business": slug})
        return cycle.counts()
    for entity, problem in cycle.broken_schemas().items():  # one line per data source, not one per row
        logger.warning("a Notion schema stops the sync", extra={"entity": entity, "problem": problem, "business": slug})
    logger.info("sync run", extra={"sync": cycle.counts(), "business": slug})  # nested: "created" is a LogRecord key
    return cycle.counts()


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@event_source(data_class=EventBridgeEvent)
def lambda_handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, Any]:
    budget = seconds_left(context, keep=SAFETY_SECONDS)

    # Each business side by side, each within its own Notion limit and under its own lease.
    def sync(business: Business) -> dict[str, Any]:
        if not business.default and "notion_token" not in (business.refs or {}):
            return {"ran": False, "not_connected": 1}  # no Notion yet: `atelier business set SLUG --notion-token-ref`
        return _report(
            business.slug, run_cycle(wiring.deciding_ports(), holder=context.aws_request_id, budget_seconds=budget)
        )

    return for_each(wiring.directory().all(), sync).settled(logger).answer(dict)
