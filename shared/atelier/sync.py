"""The sync engine, Postgres -> Notion: push queued records, creating or updating one page each.

Each field in the mapping is hashed as it was last pushed; an update sends only the Postgres-owned
properties whose hash changed, with "Last Synced" in the same PATCH, so an unchanged record costs no call.
A page is created with every field (Notion-owned ones get their first value) and its Atelier ID, through
the gateway's create-once. Crashes are safe at any point: a claimed row comes back when its lease ends,
and the retried create finds the page it made.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from atelier.db import Rpc
from atelier.notion import NotionError, NotionGateway, RetryLater
from atelier.notion_schema import ATELIER_ID, BY_NAME, LAST_SYNCED, Entity, Owner, rich_text, to_property

LEASE_SECONDS = 120
MAX_ATTEMPTS = 8
BATCH = 25


def field_hashes(entity: Entity, record: dict[str, Any]) -> dict[str, str]:
    """A short hash per Notion property, of the value we would send for it."""
    return {
        f.property: hashlib.sha256(
            json.dumps(
                to_property(f.kind, f.to_notion_value(record.get(f.column))), sort_keys=True, default=str
            ).encode()
        ).hexdigest()[:16]
        for f in entity.fields
    }


def _pushed(record: dict[str, Any]) -> dict[str, str]:
    try:
        value = json.loads(record.get("pushed") or "{}")
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


@dataclass
class SweepReport:
    claimed: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    outcome: dict[str, int] = field(default_factory=dict)


class OutboxPusher:
    def __init__(self, rpc: Rpc, gateway: NotionGateway, data_sources: dict[str, str], *,
                 clock: Any = time.monotonic) -> None:  # fmt: skip
        self._rpc = rpc
        self._gateway = gateway
        self._data_sources = data_sources
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
                pushed = _pushed(record)
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
                    found = self._gateway.create_page(source, atelier_id, props, deadline=deadline).page
                    report.created += 1
                page_id = str(found["id"])
            self._pages[(entity.name, str(row["entity_id"]))] = page_id
            result.update(ok=True, page_id=page_id, pushed_hash=json.dumps(hashes, sort_keys=True))
        except RetryLater as exc:
            result.update(error=str(exc), retry_later=True, retry_in=exc.retry_after or 5)
        except NotionError as exc:
            report.failed += 1
            result.update(error=f"{exc.failure}: {exc}")
            if exc.retry_after:
                result["retry_in"] = exc.retry_after
        return result
