"""deliverable_uploaded: S3 `ObjectCreated` in the deliverables bucket -> one deliverable row, then its page.

Each record is recorded once (S3 delivers at least once); the showcase page is then pushed through the
outbox like any other page. If Notion is slow or down the push waits for the scheduled sweep: the record
is already safe. A failure to record raises, so Lambda retries the event and, after that, sends it to the
function's dead-letter queue.
"""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.data_classes import S3Event, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from atelier import wiring
from atelier.deliverables.service import DeliverableOutcome, by_business, push_showcases
from atelier.deliverables.store import StorageSettings
from atelier.kernel.deadlines import seconds_left
from atelier.kernel.telemetry import count, emit
from atelier.notion.transport import notion_tally

MAX_PUSH_SECONDS = 20.0  # the sweep finishes what is left
METRIC_BY_OUTCOME = {
    DeliverableOutcome.applied: "DeliverableRecorded",
    DeliverableOutcome.duplicate: "DeliverableDuplicate",
    DeliverableOutcome.orphan: "DeliverableOrphan",
    DeliverableOutcome.ignored: "DeliverableKeyIgnored",
    DeliverableOutcome.gone: "DeliverableObjectGone",
}

wiring.settings(StorageSettings)  # validated at cold start
# A logger of its own: where functions share a process (locally), their log keys never cross.
logger, metrics = Logger(service="atelier-deliverable_uploaded"), Metrics()


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@event_source(data_class=S3Event)
def lambda_handler(event: S3Event, context: LambdaContext) -> dict[str, Any]:
    deadline = time.monotonic() + seconds_left(context, keep=5, most=MAX_PUSH_SECONDS)
    summaries, pushed = [], 0
    for slug, records in by_business(event.records):  # a key under b/<slug>/ is that business's file
        if not wiring.directory().has(slug):
            logger.warning("deliverable", extra={"outcome": "ignored", "reason": f"no business is called {slug!r}"})
            count(metrics, METRIC_BY_OUTCOME[DeliverableOutcome.ignored], len(records))
            continue
        with wiring.in_business(slug):
            recorded = [wiring.deliverable_service().record(record) for record in records]
            for result in recorded:
                count(metrics, METRIC_BY_OUTCOME[result.outcome])
                (logger.warning if result.outcome.unusual else logger.info)("deliverable", extra=result.summary())
            pushed += push_showcases(wiring.outbox_pusher, recorded, deadline=deadline)
            summaries += [r.summary() for r in recorded]
    emit(metrics, {"ShowcasePagesPushed": pushed} | notion_tally())
    return {"records": summaries, "pushed": pushed}
