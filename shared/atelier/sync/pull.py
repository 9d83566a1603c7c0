"""Notion -> Postgres: the team's edits, read back by polling each data source with an incremental cursor.

Only Notion-owned fields are applied. Our own echoes are skipped (last edited by our bot and the values
match what we pushed), a trashed page is soft-deleted after one confirming read, and a Postgres-owned
field a person changed is put back (its Notion value kept in the audit log), whoever edited the page last.

A page that cannot be applied (a mapped property is missing from it, say renamed away) is not skipped for
good: the data source's watermark stays at or before that page's edit, so every poll reads it again until it
applies. It is reported once, in the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from atelier.notion.codec import dropped_files, find_property, last_synced_value
from atelier.notion.errors import Failure, NotionError, RetryLater
from atelier.sync.adopt import Adopter
from atelier.sync.mapping import ENTITIES, PROJECT, PROJECT_STATUSES, Entity, Field, Owner
from atelier.sync.notes import author_of, read_notes
from atelier.sync.records import (
    SyncPorts,
    field_hashes,
    page_field_hash,
    page_record_id,
    pushed_hashes,
    short_hash,
)

ALLOWED_VALUES = {
    ("project", "status"): set(PROJECT_STATUSES),
    ("milestone", "status"): {"pending", "in_progress", "completed"},
    ("task", "status"): {"open", "in_progress", "done"},
}


@dataclass(frozen=True)
class Incremental:
    """A named incremental cursor, as dlt's `extract/incremental` has it: which timestamp it follows, where it
    starts, and the lag its source needs. Each data source's last value (the watermark) is kept in Postgres."""

    cursor_path: str
    initial_value: datetime
    lag: timedelta

    def window(self, last_value: str | None, now: datetime) -> tuple[datetime, datetime]:
        """[since, until) for this run: from the last value less the lag, to a minute past now."""
        start = datetime.fromisoformat(last_value) if last_value else self.initial_value
        return start - self.lag, now + timedelta(minutes=1)

    def next_value(self, now: datetime) -> datetime:
        """The value to keep once a run has applied its window: the moment the run began."""
        return now


# Notion rounds last_edited_time down to the minute, so each window reaches two minutes back: an edit stamped
# (rounded down) to the minute a poll began is still inside the next window.
LAST_EDITED = Incremental("last_edited_time", initial_value=datetime(2020, 1, 1, tzinfo=UTC), lag=timedelta(minutes=2))


@dataclass
class PollReport:
    queried: dict[str, int] = dataclass_field(default_factory=dict)
    applied: int = 0
    deleted: int = 0
    restored: int = 0
    overridden: int = 0
    echoes: int = 0
    unapplied: int = 0  # pages a mapped property is missing from: read again next poll
    adopted: int = 0  # pages the team made that became records (or were linked to theirs)
    not_adopted: int = 0  # pages the team made that wait for an answer (an e-mail, say): `notion check` lists them
    notes: int = 0  # project pages whose team content (brief and notes) changed
    files: int = 0  # files dropped into deliverable pages that became deliverables
    stopped_early: bool = False


def _moment(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


class NotionPoller:
    """Reads the team's edits back: Notion-owned fields, trash and restore. Postgres-owned fields a person
    changed are put back (and their Notion values kept in the audit log)."""

    def __init__(self, ports: SyncPorts, *, cursor: Incremental = LAST_EDITED) -> None:
        self._rpc = ports.rpc
        self._gateway = ports.notion
        self._data_sources = ports.data_sources
        self._properties = ports.properties
        self._cursor = cursor
        self._ports = ports

    def poll(self, *, deadline: float | None = None, now: datetime | None = None) -> PollReport:
        report = PollReport()
        now = now or datetime.now(UTC)
        try:
            bot_id = self._gateway.bot_id(deadline=deadline)
        except NotionError as exc:
            if exc.failure is Failure.permanent and not isinstance(exc, RetryLater):
                raise
            report.stopped_early = True  # Notion is down or busy: the next run polls, from the same watermarks
            return report
        watermarks = self._rpc.rpc("sync_watermarks")
        for entity in ENTITIES:
            source = self._data_sources[entity.name]
            since, until = self._cursor.window(watermarks.get(source), now)
            try:
                pages = self._gateway.edited_between(source, since, until, include_trashed=True, deadline=deadline)
            except NotionError as exc:
                if exc.failure is Failure.permanent and not isinstance(exc, RetryLater):
                    raise
                # Out of time, asked to wait, or Notion down: the data sources not read keep their watermark.
                report.stopped_early = True
                break
            report.queried[entity.name] = len(pages)
            self._apply(entity, pages, bot_id, report, deadline, watermark=self._cursor.next_value(now), since=since)
        return report

    def pull_page(self, page_id: str, *, deadline: float | None = None) -> tuple[str | None, PollReport]:
        """One page, as it is now, through the poll's rules (a webhook's doorbell); the watermarks stay where they
        are. Returns the entity it belongs to (None for a page not in our data sources) and what was applied.
        A page that is gone altogether is left to the poll, which confirms it before a soft delete."""
        report = PollReport()
        try:
            page = self._gateway.retrieve_page(page_id, deadline=deadline)
        except NotionError as exc:
            if exc.code == "object_not_found":
                return None, report
            raise
        parent = str((page.get("parent") or {}).get("data_source_id") or "").replace("-", "")
        entity = next((e for e in ENTITIES if self._data_sources[e.name].replace("-", "") == parent), None)
        if entity is None:
            from atelier.sync.sources import read_source_page  # a Services or Messages page: the catalogue's

            entity_name, read = read_source_page(self._ports, page, deadline)
            report.applied, report.unapplied = read.applied, read.refused  # a refused edit waits for a better one
            return entity_name, report
        report.queried[entity.name] = 1
        bot_id = self._gateway.bot_id(deadline=deadline)
        self._apply(entity, [page], bot_id, report, deadline, watermark=None, since=None)
        return entity.name, report

    def _apply(
        self,
        entity: Entity,
        pages: list[dict[str, Any]],
        bot_id: str,
        report: PollReport,
        deadline: float | None,
        *,
        watermark: datetime | None,
        since: datetime | None,
    ) -> None:
        """Apply what the pages show in one transaction, moving the watermark (when given) in the same one."""
        unapplied: list[dict[str, Any]] = []
        made_by_hand: list[dict[str, Any]] = []
        changes = self._changes(entity, pages, bot_id, report, deadline, unapplied, made_by_hand) if pages else []
        made_by_hand = self._take_files(entity, pages, made_by_hand, report, deadline)
        if unapplied:
            report.unapplied += len(unapplied)
            if watermark is not None:
                floor = since + self._cursor.lag if since is not None else watermark
                watermark = min([watermark, *[_moment(p["edited"]) or floor for p in unapplied]])
            self._rpc.rpc("note_unapplied_pages", p_entity=entity.name, p_pages=unapplied)
        if made_by_hand:  # before the watermark moves past them: a failure here leaves them to the next look
            adopted = Adopter(self._ports).adopt(entity, made_by_hand, deadline=deadline)
            report.adopted += adopted.count("create") + adopted.count("link")
            report.not_adopted += adopted.count("skip")
        if not changes and watermark is None:
            return
        # Without a watermark of its own (one page, from a webhook), the earliest there is: it never moves one.
        outcome = self._rpc.rpc(
            "apply_notion_changes",
            p_entity=entity.name,
            p_data_source_id=self._data_sources[entity.name],
            p_changes={"changes": changes},
            p_watermark=(watermark or self._cursor.initial_value).isoformat(),
        )
        report.applied += int(outcome["applied"])
        report.deleted += int(outcome["deleted"])
        report.restored += int(outcome["restored"])
        report.overridden += int(outcome["overridden"])
        self._stamp_pulled(entity, [c for c in changes if "values" in c], deadline)
        if entity.name == "project":
            self._read_notes(pages, bot_id, report, deadline)

    def _read_notes(self, pages: list[dict[str, Any]], bot_id: str, report: PollReport, deadline: float | None) -> None:
        """A project page a person edited: its content below Atelier's sections, read back (one call each)."""
        ids = self._properties.ids("project")
        for page in pages:
            record_id = page_record_id(PROJECT, page, ids)
            edited_by = (page.get("last_edited_by") or {}).get("id")
            if record_id is None or page.get("in_trash") or edited_by == bot_id:
                continue
            try:
                report.notes += read_notes(self._ports, record_id, page, bot_id, deadline=deadline)
            except NotionError:
                return  # Notion busy or down: the next edit, or the next poll's overlap, reads it

    def _take_files(
        self,
        entity: Entity,
        pages: list[dict[str, Any]],
        made_by_hand: list[dict[str, Any]],
        report: PollReport,
        deadline: float | None,
    ) -> list[dict[str, Any]]:
        """Files a person dropped into a deliverable page's File property become deliverables now (their URLs
        expire within the hour); a page the team made that way is its new deliverable's, not one to adopt."""
        drops = self._ports.drops
        if entity.name != "deliverable" or drops is None:
            return made_by_hand
        ids = self._properties.ids("deliverable")
        taken: set[str] = set()
        for page in pages:
            if page.get("in_trash") or not dropped_files(find_property(page, "File", ids)):
                continue
            report.files += drops(page, page_record_id(entity, page, ids), deadline)
            taken.add(str(page["id"]))
        return [p for p in made_by_hand if str(p["id"]) not in taken]

    def _stamp_pulled(self, entity: Entity, pulled: list[dict[str, Any]], deadline: float | None) -> None:
        """ "Last Synced" moves when a team edit is pulled, too. Nothing else is written to that page, so it costs
        one call; a lost one is only a stale date, never a lost edit (the edit is in Postgres already)."""
        stamp = last_synced_value(self._properties.ids(entity.name), datetime.now(UTC))
        for change in pulled:
            try:
                self._gateway.update_page(str(change["page"]), stamp, deadline=deadline)
            except NotionError:
                return  # Notion is busy or down: the next sync's write moves it

    def _changes(
        self,
        entity: Entity,
        pages: list[dict[str, Any]],
        bot_id: str,
        report: PollReport,
        deadline: float | None,
        unapplied: list[dict[str, Any]],
        made_by_hand: list[dict[str, Any]],
    ) -> list[dict[str, Any]]:
        by_id: dict[str, dict[str, Any]] = {}
        ids = self._properties.ids(entity.name)
        for page in pages:
            missing = entity.missing(page, ids)
            if missing:
                unapplied.append(
                    {
                        "page_id": str(page.get("id")),
                        "edited": str(page.get("last_edited_time")),
                        "reason": f"missing properties: {', '.join(missing)}",
                    }
                )
                continue
            record_id = page_record_id(entity, page, ids)
            if record_id is not None:
                by_id[record_id] = page
            elif not page.get("in_trash"):
                made_by_hand.append(page)  # no Atelier ID: a page the team made
        if not by_id:
            return []
        state = self._rpc.rpc("sync_pull_state", p_entity=entity.name, p_ids=list(by_id))
        owned = entity.team_fields()
        ours = entity.owned_by(Owner.postgres)
        changes = []
        for record_id, page in by_id.items():
            known = state.get(record_id)
            if known is None or known.get("page_id") != page.get("id"):
                continue
            change: dict[str, Any] = {"id": record_id, "page": str(page["id"])}
            trashed = bool(page.get("in_trash"))
            if trashed != bool(known.get("deleted")):
                change["trashed"] = self._confirm_trashed(str(page["id"]), deadline) if trashed else False
            pushed = pushed_hashes(known.get("pushed"))
            by_bot = (page.get("last_edited_by") or {}).get("id") == bot_id
            if owned:
                # A value the schema cannot hold (an option typed in by hand) is left out, not applied.
                values = {
                    k: v
                    for k, v in entity.values(page, fields=owned, ids=ids).items()
                    if (entity.name, k) not in ALLOWED_VALUES or v in ALLOWED_VALUES[(entity.name, k)]
                }
                values = {k: v.isoformat() if isinstance(v, date) else v for k, v in values.items()}
                pulled = short_hash(values)
                echo = by_bot and all(page_field_hash(f, page, ids) == pushed.get(f.property) for f in owned)
                if echo:
                    report.echoes += 1
                elif pulled != known.get("pulled"):
                    change.update(values=values, pulled_hash=pulled)
            if pushed:
                # Whoever edited last: a push of ours sends only what changed, so a person's edit it landed on
                # stays on the page, and shows here as a value that is not the one we pushed.
                differ = [
                    f for f in ours if f.property in pushed and page_field_hash(f, page, ids) != pushed[f.property]
                ]
                if differ and by_bot:
                    differ = self._not_in_flight(entity, record_id, page, differ)
                lost = {f.property: entity.values(page, fields=(f,), ids=ids).get(f.column) for f in differ}
                if lost:
                    change.update(
                        repush=sorted(lost),
                        lost={k: str(v) for k, v in lost.items()},
                        comment=entity.put_back(sorted(lost)),
                    )  # one comment on the page, per edit
            if "values" in change and entity.name == "lead":
                change["quote_cap"] = self._ports.quote_cap_cents  # the team's decision is checked against it
            if len(change) > 2:  # more than its id and page
                author = author_of(self._ports, page, bot_id, deadline)
                if author is not None:
                    change["author"] = author  # named in the audit row and the project's History
                changes.append(change)
        return changes

    def _not_in_flight(self, entity: Entity, record_id: str, page: dict[str, Any], differ: list[Field]) -> list[Field]:
        """Of the fields a page shows differently from our last push, those that are not our own push in flight
        (written to the page, its hash not recorded yet): a page value equal to the record's value now is ours."""
        record = self._rpc.rpc("adopted_record", p_entity=entity.name, p_id=record_id) or {}
        now = field_hashes(entity, record)
        ids = self._properties.ids(entity.name)
        return [f for f in differ if page_field_hash(f, page, ids) != now.get(f.property)]

    def _confirm_trashed(self, page_id: str, deadline: float | None) -> bool:
        """One retrieve before a soft delete: the page is in the trash, or gone altogether."""
        try:
            return bool(self._gateway.retrieve_page(page_id, deadline=deadline).get("in_trash"))
        except NotionError as exc:
            return exc.code == "object_not_found"
