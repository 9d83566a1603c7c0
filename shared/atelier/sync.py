"""The sync engine, Postgres -> Notion: push queued records, creating or updating one page each.

Each field in the mapping is hashed as it was last pushed; an update sends only the Postgres-owned
properties whose hash changed, with "Last Synced" in the same PATCH, so an unchanged record costs no call.
A page is created with every field (Notion-owned ones get their first value) and its Atelier ID, through
the gateway's create-once; a deliverable's new page also gets the blocks that show its file.
Crashes are safe at any point: a claimed row comes back when its lease ends, and the retried create finds
the page it made.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from atelier.db import Rpc
from atelier.deliverables import Showcase
from atelier.notion import NotionError, NotionGateway, RetryLater
from atelier.notion_schema import (
    ATELIER_ID,
    BY_NAME,
    ENTITIES,
    LAST_SYNCED,
    PROJECT_STATUSES,
    Entity,
    Field,
    Owner,
    from_property,
    plain_text,
    rich_text,
    to_property,
)

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
    outcome: dict[str, int] = dataclass_field(default_factory=dict)


# The blocks of a new page, by entity: (record id, deadline) -> blocks. Made once, when the page is created.
PageContent = Callable[[str, float | None], list[dict[str, Any]]]


class OutboxPusher:
    def __init__(self, rpc: Rpc, gateway: NotionGateway, data_sources: dict[str, str], *,
                 clock: Any = time.monotonic, contents: dict[str, PageContent] | None = None) -> None:  # fmt: skip
        self._rpc = rpc
        self._gateway = gateway
        self._data_sources = data_sources
        self._clock = clock
        # A deliverable's page shows its file (read from S3 only when such a page is created).
        self._contents = {"deliverable": Showcase(rpc, gateway)} if contents is None else contents
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


# --- Notion -> Postgres ------------------------------------------------------------------------

OVERLAP = timedelta(minutes=2)  # Notion rounds last_edited_time down to the minute
EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
ALLOWED_VALUES = {
    ("project", "status"): set(PROJECT_STATUSES),
    ("milestone", "status"): {"pending", "in_progress", "completed"},
}


def _hash(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _page_field_hash(f: Field, page: dict[str, Any]) -> str | None:
    """The hash of a page's property in the form we push it, comparable with `field_hashes`."""
    prop = (page.get("properties") or {}).get(f.property)
    if prop is None:
        return None
    return hashlib.sha256(
        json.dumps(to_property(f.kind, from_property(f.kind, prop)), sort_keys=True, default=str).encode()
    ).hexdigest()[:16]


@dataclass
class PollReport:
    queried: dict[str, int] = dataclass_field(default_factory=dict)
    applied: int = 0
    deleted: int = 0
    restored: int = 0
    overridden: int = 0
    echoes: int = 0
    stopped_early: bool = False


class NotionPoller:
    """Reads the team's edits back: Notion-owned fields, trash and restore. Postgres-owned fields a person
    changed are put back (and their Notion values kept in the audit log)."""

    def __init__(self, rpc: Rpc, gateway: NotionGateway, data_sources: dict[str, str]) -> None:
        self._rpc = rpc
        self._gateway = gateway
        self._data_sources = data_sources

    def poll(self, *, deadline: float | None = None, now: datetime | None = None) -> PollReport:
        report = PollReport()
        now = now or datetime.now(UTC)
        try:
            bot_id = self._gateway.bot_id(deadline=deadline)
        except RetryLater:
            report.stopped_early = True
            return report
        watermarks = self._rpc.rpc("sync_watermarks")
        for entity in ENTITIES:
            source = self._data_sources[entity.name]
            mark = watermarks.get(source)
            since = (datetime.fromisoformat(mark) if mark else EPOCH) - OVERLAP
            try:
                pages = self._gateway.edited_between(source, since, now + timedelta(minutes=1),
                                                     include_trashed=True, deadline=deadline)  # fmt: skip
            except RetryLater:
                # Out of time or asked to wait: the data sources not read keep their watermark for next run.
                report.stopped_early = True
                break
            report.queried[entity.name] = len(pages)
            changes = self._changes(entity, pages, bot_id, report, deadline) if pages else []
            # The next window starts two minutes before this poll began: an edit stamped (rounded down)
            # to this minute is still inside it, and pages edited long before are not read again.
            outcome = self._rpc.rpc("apply_notion_changes", p_entity=entity.name, p_data_source_id=source,
                                    p_changes={"changes": changes}, p_watermark=now.isoformat())  # fmt: skip
            report.applied += int(outcome["applied"])
            report.deleted += int(outcome["deleted"])
            report.restored += int(outcome["restored"])
            report.overridden += int(outcome["overridden"])
        return report

    def _changes(self, entity: Entity, pages: list[dict[str, Any]], bot_id: str, report: PollReport,
                 deadline: float | None) -> list[dict[str, Any]]:  # fmt: skip
        prefix = f"{entity.name}:"
        by_id: dict[str, dict[str, Any]] = {}
        for page in pages:
            atelier_id = plain_text((page.get("properties") or {}).get(ATELIER_ID, {}).get("rich_text")) or ""
            if atelier_id.startswith(prefix):
                by_id[atelier_id.removeprefix(prefix)] = page
        if not by_id:
            return []
        state = self._rpc.rpc("sync_pull_state", p_entity=entity.name, p_ids=list(by_id))
        owned = entity.owned_by(Owner.notion)
        ours = entity.owned_by(Owner.postgres)
        changes = []
        for record_id, page in by_id.items():
            known = state.get(record_id)
            if known is None or known.get("page_id") != page.get("id"):
                continue
            change: dict[str, Any] = {"id": record_id}
            trashed = bool(page.get("in_trash"))
            if trashed != bool(known.get("deleted")):
                change["trashed"] = self._confirm_trashed(str(page["id"]), deadline) if trashed else False
            pushed = _pushed({"pushed": known.get("pushed")})
            by_bot = (page.get("last_edited_by") or {}).get("id") == bot_id
            if owned:
                # A value the schema cannot hold (an option typed in by hand) is left out, not applied.
                values = {
                    k: v
                    for k, v in entity.values(page, fields=owned).items()
                    if v in ALLOWED_VALUES.get((entity.name, k), {v})
                }
                values = {k: v.isoformat() if isinstance(v, date) else v for k, v in values.items()}
                pulled = _hash(values)
                echo = by_bot and all(_page_field_hash(f, page) == pushed.get(f.property) for f in owned)
                if echo:
                    report.echoes += 1
                elif pulled != known.get("pulled"):
                    change.update(values=values, pulled_hash=pulled)
            if not by_bot and pushed:
                lost = {f.property: entity.values(page, fields=(f,)).get(f.column) for f in ours
                        if f.property in pushed and _page_field_hash(f, page) != pushed[f.property]}  # fmt: skip
                if lost:
                    change.update(repush=sorted(lost), lost={k: str(v) for k, v in lost.items()})
            if len(change) > 1:
                changes.append(change)
        return changes

    def _confirm_trashed(self, page_id: str, deadline: float | None) -> bool:
        """One retrieve before a soft delete: the page is in the trash, or gone altogether."""
        try:
            return bool(self._gateway.retrieve_page(page_id, deadline=deadline).get("in_trash"))
        except NotionError as exc:
            return exc.code == "object_not_found"


# --- one cycle ----------------------------------------------------------------------------------

LEASE_NAME = "notion-sync"


@dataclass
class CycleReport:
    ran: bool
    sweep: SweepReport | None = None
    poll: PollReport | None = None


def run_cycle(rpc: Rpc, gateway: NotionGateway, data_sources: dict[str, str], *, holder: str,
              budget_seconds: float, clock: Any = time.monotonic) -> CycleReport:  # fmt: skip
    """Sweep the outbox, then poll Notion, holding the sync lease so that two runs never overlap."""
    if not rpc.rpc("take_sync_lease", p_name=LEASE_NAME, p_holder=holder, p_seconds=int(budget_seconds) + 60):
        return CycleReport(ran=False)
    try:
        deadline = clock() + budget_seconds
        swept = OutboxPusher(rpc, gateway, data_sources, clock=clock).sweep(deadline=deadline)
        polled = NotionPoller(rpc, gateway, data_sources).poll(deadline=deadline)
        return CycleReport(ran=True, sweep=swept, poll=polled)
    finally:
        rpc.rpc("release_sync_lease", p_name=LEASE_NAME, p_holder=holder)


# --- drift: Postgres against Notion --------------------------------------------------------------


@dataclass(frozen=True)
class RecordDrift:
    entity: str
    record_id: str
    problem: str
    detail: str


def drift(rpc: Rpc, gateway: NotionGateway, data_sources: dict[str, str]) -> list[RecordDrift]:
    """Every linked record against its page: pages missing or trashed, and fields Postgres owns that differ."""
    found: list[RecordDrift] = []
    for entity in ENTITIES:
        pages = {str(p["id"]): p for p in gateway.query(data_sources[entity.name])}
        for item in rpc.rpc("linked_records", p_entity=entity.name):
            record = item["record"] or {}
            page = pages.get(str(record.get("notion_page_id")))
            if page is None:
                found.append(RecordDrift(entity.name, item["id"], "missing page",
                                         f"page {record.get('notion_page_id')} is not in {entity.data_source_title}; "
                                         "`atelier resync` creates it again"))  # fmt: skip
                continue
            want = field_hashes(entity, record)
            for f in entity.owned_by(Owner.postgres):
                if f.kind == "relation" and record.get("waiting_for"):
                    continue
                if _page_field_hash(f, page) != want[f.property]:
                    shown = entity.values(page, fields=(f,)).get(f.column)
                    found.append(RecordDrift(entity.name, item["id"], "differs",
                                             f"{f.property}: Notion shows {shown!r}, Postgres has "
                                             f"{record.get(f.column)!r}"))  # fmt: skip
    return found
