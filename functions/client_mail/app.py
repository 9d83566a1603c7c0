"""client_mail: the studio's e-mails. On its schedule it sends what `notifications` holds (through SES, once per
event, with backoff); from SNS it takes SES's bounces and complaints, and marks those addresses. On Monday
mornings (`{"job": "weekly_report"}`) it first queues last week's report for the owner, once per week. Each day
the first run that finds tasks past their due date queues the team's digest of them, once per day."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.typing import LambdaContext

from atelier import wiring
from atelier.kernel.business import for_each
from atelier.kernel.deadlines import seconds_left
from atelier.kernel.settings import MailSettings, ReportSettings
from atelier.kernel.telemetry import emit
from atelier.mail.events import suppress_reported
from atelier.reports.weekly import queue_due

SAFETY_SECONDS = 10.0

wiring.settings(MailSettings)  # validated at cold start
logger, metrics = Logger(service="atelier-client_mail"), Metrics()


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    records = event.get("Records") or []
    if records and all(r.get("EventSource") == "aws:sns" for r in records):
        marked = suppress_reported(wiring.rpc(), records)
        for reason, details in marked:
            logger.warning("an address is suppressed", extra={"reason": reason, "details": details})
        emit(metrics, {"MailSuppressed": len(marked)})
        return {"suppressed": len(marked)}
    weekly = event.get("job") == "weekly_report"
    deadline = time.monotonic() + seconds_left(context, keep=SAFETY_SECONDS)
    # Each business from its own sender, in its own name; its weekly report is its own.
    return for_each(wiring.directory().all(), lambda _: _send_due(deadline, weekly)).settled(logger).answer(dict)


def _send_due(deadline: float, weekly: bool) -> dict[str, Any]:
    reports = wiring.settings(ReportSettings)
    if weekly and reports.owner() is None:
        logger.warning("the weekly report is off: set OWNER_EMAIL (the OwnerEmail parameter)")
    queued = queue_due(wiring.rpc(), reports, datetime.now(UTC).date(), weekly=weekly)
    emit(metrics, {name: int(bool(value)) for name, value in queued.items()})
    outbox = wiring.mail_outbox()
    if outbox is None:
        logger.warning("mail is off: set MAIL_FROM (the MailFrom parameter) to a verified SES identity")
        return {"sent": 0, "off": True}
    report = outbox.send_due(deadline=deadline)
    emit(metrics, report.metrics())
    logger.info("mail run", extra={"mail": report.counts()})
    return report.counts()
