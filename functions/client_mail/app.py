"""client_mail: the studio's e-mails. On its schedule it sends what `notifications` holds (through SES, once per
event, with backoff); from SNS it takes SES's bounces and complaints, and marks those addresses. On Monday
mornings (`{"job": "weekly_report"}`) it first queues last week's report for the owner, once per week."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.typing import LambdaContext

from atelier import wiring
from atelier.kernel.deadlines import seconds_left
from atelier.kernel.settings import MailSettings, ReportSettings
from atelier.kernel.telemetry import count, emit
from atelier.mail.events import suppress_reported
from atelier.reports.weekly import queue

SAFETY_SECONDS = 10.0

wiring.settings(MailSettings)  # validated at cold start
logger, metrics = Logger(service="atelier-client_mail"), Metrics()


def _ses_events(records: list[dict[str, Any]]) -> dict[str, Any]:
    marked = suppress_reported(wiring.rpc(), records)
    for reason, details in marked:
        logger.warning("an address is suppressed", extra={"reason": reason, "details": details})
    emit(metrics, {"MailSuppressed": len(marked)})
    return {"suppressed": len(marked)}


def _weekly_report() -> None:
    owner = wiring.settings(ReportSettings).owner()
    if owner is None:
        logger.warning("the weekly report is off: set OWNER_EMAIL (the OwnerEmail parameter)")
        return
    queued = queue(wiring.rpc(), owner, datetime.now(UTC).date())
    count(metrics, "WeeklyReportQueued", bool(queued.get("queued")))
    logger.info("weekly report", extra={"queued": queued.get("queued"), "from": queued.get("from")})


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    records = event.get("Records") or []
    if records and all(r.get("EventSource") == "aws:sns" for r in records):
        return _ses_events(records)
    if event.get("job") == "weekly_report":
        _weekly_report()
    outbox = wiring.mail_outbox()
    if outbox is None:
        logger.warning("mail is off: set MAIL_FROM (the MailFrom parameter) to a verified SES identity")
        return {"sent": 0, "off": True}
    report = outbox.send_due(deadline=time.monotonic() + seconds_left(context, keep=SAFETY_SECONDS))
    emit(metrics, {"MailSent": report.sent, "MailFailed": report.failed, "MailDead": report.outcome.get("dead", 0)})
    logger.info("mail run", extra={"mail": {"claimed": report.claimed, "sent": report.sent, **report.outcome}})
    return {"claimed": report.claimed, "sent": report.sent, "failed": report.failed, **report.outcome}
