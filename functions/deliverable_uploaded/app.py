"""deliverable_uploaded: S3 `ObjectCreated` in the deliverables bucket -> one deliverable row, then its page.

Each record is recorded once (S3 delivers at least once); the showcase page is then pushed through the
outbox like any other page. If Notion is slow or down the push waits for the scheduled sweep: the record
is already safe. A failure to record raises, so Lambda retries the event and, after that, sends it to the
function's dead-letter queue.
"""

from __future__ import annotations

import time
from functools import lru_cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import S3Event, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from atelier.db import Rpc, rpc_from_settings
from atelier.deliverables import DeliverableService
from atelier.errors import AtelierError
from atelier.notion import gateway_from_settings
from atelier.settings import DatabaseSettings, NotionSettings, SyncSettings, load
from atelier.storage import StorageSettings
from atelier.sync import OutboxPusher

MAX_PUSH_SECONDS = 20.0  # the sweep finishes what is left
METRIC_BY_OUTCOME = {
    "applied": "DeliverableRecorded",
    "duplicate": "DeliverableDuplicate",
    "orphan": "DeliverableOrphan",
    "ignored": "DeliverableKeyIgnored",
    "gone": "DeliverableObjectGone",
}

settings = load(StorageSettings)
logger = Logger()
metrics = Metrics()


@lru_cache(maxsize=1)
def rpc() -> Rpc:
    return rpc_from_settings(load(DatabaseSettings))


@lru_cache(maxsize=1)
def service() -> DeliverableService:
    return DeliverableService(rpc(), settings.client(), settings.links())


@lru_cache(maxsize=1)
def pusher() -> OutboxPusher:
    gateway = gateway_from_settings(load(NotionSettings))
    return OutboxPusher(rpc(), gateway, load(SyncSettings).data_sources())


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@event_source(data_class=S3Event)
def lambda_handler(event: S3Event, context: LambdaContext) -> dict[str, Any]:
    recorded = []
    for record in event.records:
        result = service().record(record)
        metrics.add_metric(name=METRIC_BY_OUTCOME[result.outcome], unit=MetricUnit.Count, value=1)
        log = logger.warning if result.outcome in ("orphan", "ignored", "gone") else logger.info
        log("deliverable", extra={"key": result.key, "outcome": result.outcome, "reason": result.reason,
                                  "deliverable_id": result.deliverable_id, "version": result.version})  # fmt: skip
        recorded.append(result)
    pushed = 0
    projects = {r.project_id for r in recorded if r.outcome == "applied" and r.project_id}
    if projects:
        deadline = time.monotonic() + max(1.0, min(MAX_PUSH_SECONDS, context.get_remaining_time_in_millis() / 1000 - 5))
        for project_id in sorted(projects):
            try:
                report = pusher().sweep(deadline=deadline, project_id=project_id)
            except AtelierError:
                # Recorded and queued: the scheduled sweep shows it. Retrying the event would add nothing.
                logger.exception("showcase push failed; the sweep will retry", extra={"project_id": project_id})
                continue
            pushed += report.created + report.updated
    metrics.add_metric(name="ShowcasePagesPushed", unit=MetricUnit.Count, value=pushed)
    return {"records": [{"key": r.key, "outcome": r.outcome, "deliverable_id": r.deliverable_id,
                         "version": r.version} for r in recorded], "pushed": pushed}  # fmt: skip
