"""Postgres -> Notion: push queued records from the outbox, creating or updating one page each.

Each field in the mapping is hashed as it was last pushed; an update sends only the Postgres-owned
properties whose hash changed, with "Last Synced" in the same PATCH, so an unchanged record costs no call.
A page is created with every field (Notion-owned ones get their first value) and its Atelier ID, through
the gateway's create-once, with the blocks its entity's content provider gives.
Crashes are safe at any point: a claimed row comes back when its lease ends, and the retried create finds
the page it made.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import UTC, datetime
from typing import Any

from atelier.notion.errors import NotionError, RetryLater
from atelier.notion.schema import ATELIER_ID, BY_NAME, LAST_SYNCED, Owner, rich_text
from atelier.sync.records import BATCH, LEASE_SECONDS, MAX_ATTEMPTS, SyncPorts, field_hashes, pushed_hashes


@dataclass
class SweepReport:
    claimed: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    outcome: dict[str, int] = dataclass_field(default_factory=dict)


class OutboxPusher:
    """Claims due outbox rows and creates or updates one page per record. Page content (such as a deliverable's
    showcase) comes from `ports.contents`, by entity: the engine knows no entity's content itself."""

    def __init__(self, ports: SyncPorts, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._rpc = ports.rpc
        self._gateway = ports.notion
        self._data_sources = ports.data_sources
        self._contents = ports.contents
        self._clock = clock
        self._pages: dict[tuple[str, str], str] = {}

    def sweep(self, *, deadline: float | None = None, project_id: str | None = None, batch: int = BATCH) -> SweepReport:
        """Push due rows until none are left or the deadline nears; what is left waits for the next run."""
        report = SweepReport()
        self._pages = {}  # pages pushed in this sweep, so that children claimed with them find them
        while deadline is None or self._clock() < deadline:
            claimed = self._rpc.rpc("claim_outbox", p_limit=batch, p_lease_seconds=LEASE_SECONDS,
                                    p_project_id=project_id)  # fmt: skip
            if not claimed:
                break
            report.claimed += len(claimed)
            results = [self._push(row, report, deadline) for row in claimed]
            outcome = self._rpc.rpc("complete_outbox", p_results=results, p_max_attempts=MAX_ATTEMPTS)
            for key, value in outcome.items():
                report.outcome[key] = report.outcome.get(key, 0) + int(value)
            if any(r.get("retry_later") for r in results):
                break  # Notion asked us to wait past the deadline
        return report

    def _vanished(self, page_id: str, deadline: float | None) -> bool:
        """One confirming read: the page is gone for good (not merely trashed, which an update would show)."""
        try:
            self._gateway.retrieve_page(page_id, deadline=deadline)
        except NotionError as exc:
            return exc.code == "object_not_found"
        return False

    def _push(self, row: dict[str, Any], report: SweepReport, deadline: float | None) -> dict[str, Any]:
        entity = BY_NAME[row["entity"]]
        record = row["record"] or {}
        result: dict[str, Any] = {"outbox_id": row["outbox_id"], "ok": False}
        atelier_id = f"{entity.name}:{row['entity_id']}"
        try:
            if not record:  # hard-deleted since it was queued: nothing left to show
                result.update(ok=True, page_id=None, pushed_hash=None)
                return result
            parent = record.get("waiting_for")
            if parent:
                parent_page = self._pages.get((parent, str(record.get("parent_id"))))
                if parent_page is None:
                    result.update(error=f"waiting for its {parent} page", retry_in=5)
                    return result
                relation = next(f for f in entity.fields if f.relation_to == parent)
                record = {**record, relation.column: [parent_page]}
            hashes = field_hashes(entity, record)
            stamp = {LAST_SYNCED: {"date": {"start": datetime.now(UTC).isoformat()}}}
            page_id = record.get("notion_page_id")
            if page_id:
                pushed = pushed_hashes(record.get("pushed"))
                changed = tuple(
                    f for f in entity.owned_by(Owner.postgres) if pushed.get(f.property) != hashes[f.property]
                )
                if not changed and not record.get("deleted"):
                    report.unchanged += 1
                else:
                    props = entity.properties(record, fields=changed) | stamp
                    self._gateway.update_page(page_id, props, in_trash=True if record.get("deleted") else None,
                                              deadline=deadline)  # fmt: skip
                    report.updated += 1
                # Notion-owned fields keep the hash they were created with: only ours decide what to send.
                hashes = {**hashes, **{f.property: pushed.get(f.property, hashes[f.property])
                                       for f in entity.owned_by(Owner.notion)}}  # fmt: skip
            else:
                source = self._data_sources[entity.name]
                # An earlier attempt may have created the page and died before saying so.
                found = (
                    self._gateway.find_by_atelier_id(source, atelier_id, deadline=deadline)
                    if row["attempts"] > 1
                    else None
                )
                if found is None:
                    props = entity.properties(record) | stamp | {ATELIER_ID: {"rich_text": rich_text(atelier_id)}}
                    content = self._contents.get(entity.name)
                    children = content(str(row["entity_id"]), deadline) if content else None
                    found = self._gateway.create_page(source, atelier_id, props, children=children,
                                                      deadline=deadline).page  # fmt: skip
                    report.created += 1
                page_id = str(found["id"])
            self._pages[(entity.name, str(row["entity_id"]))] = page_id
            result.update(ok=True, page_id=page_id, pushed_hash=json.dumps(hashes, sort_keys=True))
        except RetryLater as exc:
            result.update(error=str(exc), retry_later=True, retry_in=exc.retry_after or 5)
        except NotionError as exc:
            page_id = record.get("notion_page_id")
            if exc.code == "object_not_found" and page_id and self._vanished(str(page_id), deadline):
                result.update(ok=True, gone=True, page_id=page_id, pushed_hash=None)
                return result
            report.failed += 1
            result.update(error=f"{exc.failure}: {exc}")
            if exc.retry_after:
                result["retry_in"] = exc.retry_after
        return result
