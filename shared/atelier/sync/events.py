"""Notion -> Postgres in seconds: each webhook delivery is a doorbell for one page or one schema.

A page event pulls that page as it is now, through the poll's rules (ownership, echo suppression, soft delete),
so events that arrive aggregated, late, twice or out of order all end in the page's current state. A schema
event reads that data source's schema again: the ids are learnt afresh, what can be mended is, and rows that
waited for it go. Each event is applied once, by its id, in the inbound ledger (source 'notion'); one that could
not be applied (Notion did not answer) is forgotten there, so Notion's redelivery is applied, and the scheduled
poll stays the safety net under all of it.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from atelier.notion.errors import Failure, NotionError, RetryLater
from atelier.notion.webhook import COMMENT_EVENTS, PAGE_EVENTS, SCHEMA_EVENTS, Delivery
from atelier.sync.comments import post_due
from atelier.sync.conversation import read_replies
from atelier.sync.cycle import mend_schemas
from atelier.sync.pull import NotionPoller
from atelier.sync.records import SyncPorts, settle_decisions


@dataclass(frozen=True)
class Outcome:
    event_id: str
    action: str  # "pulled", "schema", "ignored", "duplicate", "not ours"
    detail: dict[str, Any]

    @property
    def metric(self) -> str:
        return "NotionWebhookApplied" if self.action in ("pulled", "schema") else "NotionWebhookSkipped"

    def body(self) -> dict[str, Any]:
        return {"event_id": self.event_id, "action": self.action, **self.detail}


class NotionEvents:
    def __init__(self, ports: SyncPorts) -> None:
        self._ports = ports

    def _entity_of_source(self, data_source_id: str) -> str | None:
        wanted = data_source_id.replace("-", "")
        return next(
            (name for name, source in self._ports.data_sources.items() if source.replace("-", "") == wanted), None
        )

    def handle(self, delivery: Delivery, *, deadline: float | None = None) -> Outcome:
        """Apply one delivery once. Raises NotionError when Notion did not answer (the ledger forgets the event,
        so a redelivery is applied)."""
        known = delivery.type in PAGE_EVENTS | SCHEMA_EVENTS | COMMENT_EVENTS
        if not self._ports.rpc.rpc(
            "record_notion_event",
            p_event_id=delivery.event_id,
            p_event_type=delivery.type,
            p_entity_id=delivery.entity_id,
            p_applied=known,
            p_sent_at=delivery.sent_at(datetime.now(UTC)),
        ):
            return Outcome(delivery.event_id, "duplicate", {})
        if not known:
            return Outcome(delivery.event_id, "ignored", {"type": delivery.type})
        try:
            return self._apply(delivery, deadline)
        except NotionError as exc:
            if exc.failure is Failure.permanent and not isinstance(exc, RetryLater):
                # Notion knows no such object (or refuses the id): nothing of ours to pull, now or later.
                return Outcome(delivery.event_id, "not ours", {"notion": exc.code})
            self._ports.rpc.rpc("forget_notion_event", p_event_id=delivery.event_id)
            raise

    def _apply(self, delivery: Delivery, deadline: float | None) -> Outcome:
        if delivery.type in COMMENT_EVENTS:
            if not delivery.page_id:
                return Outcome(delivery.event_id, "not ours", {"reason": "no page"})
            replies = read_replies(self._ports, delivery.page_id, deadline=deadline)
            return Outcome(delivery.event_id, "pulled", {"entity": "comment", **replies.counts()})
        if delivery.type in SCHEMA_EVENTS:
            entity = self._entity_of_source(delivery.entity_id)
            if entity is None and delivery.entity_type == "database":
                entity = self._entity_of_database(delivery.entity_id, deadline)
            if entity is None:
                return Outcome(delivery.event_id, "not ours", {})
            broken, released = mend_schemas(self._ports, deadline, only=entity)
            return Outcome(
                delivery.event_id, "schema", {"entity": entity, "broken": broken.get(entity), "released": released}
            )
        entity, report = NotionPoller(self._ports).pull_page(delivery.entity_id, deadline=deadline)
        if entity is None:
            return Outcome(delivery.event_id, "not ours", {})
        # A lead's decision: its quote's payment page opened and its e-mail sent now, not at the next run; a
        # milestone done: its instalment invoiced now.
        settled = settle_decisions(self._ports, deadline) if entity in ("lead", "milestone") else {}
        # The comment that answers the edit (a value put back, a decision or a catalogue edit refused) goes now.
        if report.overridden or entity in ("lead", "service", "message"):
            with contextlib.suppress(NotionError):  # else it waits in notion_comments for the next sync run
                post_due(self._ports, deadline=deadline)
        return Outcome(
            delivery.event_id,
            "pulled",
            {
                "entity": entity,
                "applied": report.applied,
                "deleted": report.deleted,
                "restored": report.restored,
                "overridden": report.overridden,
                "unapplied": report.unapplied,
                **settled,
            },
        )

    def _entity_of_database(self, database_id: str, deadline: float | None) -> str | None:
        database = self._ports.notion.retrieve_database(database_id, deadline=deadline)
        for source in database.get("data_sources") or []:
            entity = self._entity_of_source(str(source.get("id")))
            if entity is not None:
                return entity
        return None
