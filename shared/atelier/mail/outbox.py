"""The mail outbox: due rows of `notifications` claimed with a lease, rendered, sent through the `Mailer`, and
reported back in one call. A failure waits with backoff; after MAX_ATTEMPTS the row is dead. An address that
bounced or complained is never written to again (its rows are marked failed). A row is one event, so however often
an event is delivered, its message is sent once."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from atelier.kernel.errors import AtelierError
from atelier.kernel.rpc import Rpc
from atelier.mail.render import Attachment, Studio, render
from atelier.mail.ses import Mailer, MailError

LEASE_SECONDS = 120
MAX_ATTEMPTS = 8
BATCH = 20


@dataclass(frozen=True)
class Enclosure:
    """What a template's row adds when it is sent: values for the template, and files (the weekly report's PDF)."""

    values: dict[str, str]
    attachments: tuple[Attachment, ...] = ()


Enclose = Callable[[str, dict[str, Any]], Enclosure | None]


@dataclass
class MailReport:
    claimed: int = 0
    sent: int = 0
    failed: int = 0
    outcome: dict[str, int] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        return {"claimed": self.claimed, "sent": self.sent, "failed": self.failed, **self.outcome}

    def metrics(self) -> dict[str, int]:
        return {"MailSent": self.sent, "MailFailed": self.failed, "MailDead": self.outcome.get("dead", 0)}


class MailOutbox:
    def __init__(
        self,
        rpc: Rpc,
        mailer: Mailer,
        studio: Studio,
        *,
        download_url: Callable[[str], str] | None = None,
        sign_in_url: Callable[[str, int], str] | None = None,
        portal_url: str | None = None,
        enclose: Enclose | None = None,
        quote_url: Callable[[str], str] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._rpc = rpc
        self._mailer = mailer
        self._studio = studio
        self._download_url = download_url
        self._sign_in_url = sign_in_url
        self._portal_url = portal_url
        self._enclose = enclose
        self._quote_url = quote_url
        self._clock = clock

    def send_due(
        self, *, deadline: float | None = None, batch: int = BATCH, templates: tuple[str, ...] | None = None
    ) -> MailReport:
        """Send what is due until `deadline`. The deadline is checked before each send, and each message is
        completed as soon as it is sent: a run stopped at any point has sent nothing that is not recorded as sent
        but the one in flight, so its lease running out never sends a message twice. `templates`: only these (a
        quote's e-mail, sent the moment its decision is applied)."""
        report = MailReport()
        while not self._past(deadline):
            claimed = self._rpc.rpc(
                "claim_notifications",
                p_limit=batch,
                p_lease_seconds=LEASE_SECONDS,
                p_templates=list(templates) if templates else None,
            )
            if not claimed:
                break
            report.claimed += len(claimed)
            for done, row in enumerate(claimed):
                if self._past(deadline):
                    left = [{"id": r["id"], "claim": r["claim"]} for r in claimed[done:]]
                    self._rpc.rpc("release_notifications", p_claims=left)  # for the next run, attempts given back
                    report.claimed -= len(left)
                    return report
                result = self._send(row, report)
                for key, value in self._rpc.rpc(
                    "complete_notifications", p_results=[result], p_max_attempts=MAX_ATTEMPTS
                ).items():
                    report.outcome[key] = report.outcome.get(key, 0) + int(value)
        return report

    def _past(self, deadline: float | None) -> bool:
        return deadline is not None and self._clock() >= deadline

    def _send(self, row: dict[str, Any], report: MailReport) -> dict[str, Any]:
        result: dict[str, Any] = {"id": row["id"], "claim": row["claim"], "ok": False}
        if row.get("suppressed"):
            report.failed += 1
            return result | {"suppressed": True, "error": "the address bounced or complained before"}
        try:
            template, context = str(row["template"]), row.get("context") or {}
            enclosure = self._enclose(template, context) if self._enclose else None
            message = render(
                template,
                context,
                self._studio,
                download_url=self._download_url,
                sign_in_url=self._sign_in_url,
                portal_url=self._portal_url,
                extra=enclosure.values if enclosure else None,
                quote_url=self._quote_url,
                wording=row.get("wording"),
            )
            if enclosure and enclosure.attachments:
                message = replace(message, attachments=enclosure.attachments)
            message_id = self._mailer.send(str(row["recipient"]), message)
        except MailError as exc:
            report.failed += 1
            return result | {"error": str(exc), **({"retry_in": 3600} if exc.permanent else {})}
        except AtelierError as exc:  # what the message encloses could not be made (the report's figures): retried
            report.failed += 1
            return result | {"error": f"{type(exc).__name__}: {exc}"[:500]}
        report.sent += 1
        return result | {
            "ok": True,
            "subject": message.subject,
            "text": message.text,
            "html": message.html,
            "message_id": message_id,
        }
