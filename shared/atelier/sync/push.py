"""Postgres -> Notion: push queued records from the outbox, creating or updating one page each.

Each field in the mapping is hashed as it was last pushed; an update sends only the Postgres-owned
properties whose hash changed, with "Last Synced" in the same PATCH, so an unchanged record costs no call.
A page is created with every field (Notion-owned ones get their first value) and its Atelier ID, through
the gateway's create-once, with the blocks its entity's content provider gives.
Crashes are safe at any point: a claimed row comes back when its lease ends, and the retried create finds
the page it made. Claims are fenced: before each create (and each retry of one) the pusher checks that its
claim token is still the row's, so a worker slowed past its lease creates nothing another has since made.

Waiting is not failing: a row whose parent has no page yet waits, free, and goes when the parent lands. An
outage counts once: the first transient failure ends the batch, the rest is released untried, and none of it
uses up attempts; only an error that retrying cannot fix does.

Properties go by id, so a rename by the team changes nothing. When Notion refuses a write as invalid, the schema
is read again once per data source and sweep: what can be mended is (ids learnt again, select options added back),
and the row is tried once more; what cannot (a property deleted or retyped) makes the data source's rows wait for
its schema, with one message for the data source (`SweepReport.schema_broken`), not one error per row.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import UTC, datetime
from typing import Any

from atelier.notion.codec import ATELIER_ID, atelier_id_value, key_of, last_synced_value
from atelier.notion.errors import Failure, NotionError, RetryLater
from atelier.sync.mapping import BY_NAME, Entity, Owner
from atelier.sync.properties import Inspection
from atelier.sync.records import BATCH, LEASE_SECONDS, MAX_ATTEMPTS, SyncPorts, field_hashes, pushed_hashes


@dataclass
class SweepReport:
    claimed: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    waiting: int = 0  # rows whose parent had no page yet
    lost: int = 0  # rows whose claim another worker took: left to it
    notion_down: bool = False  # a transient failure ended the sweep
    schema_waiting: int = 0  # rows whose data source's schema is broken: they wait for it to be mended
    trashed: int = 0  # rows of deleted records: their page kept in the trash, nothing else sent
    schema_broken: dict[str, str] = dataclass_field(default_factory=dict)  # entity -> what is wrong, one line
    outcome: dict[str, int] = dataclass_field(default_factory=dict)
    errors: list[str] = dataclass_field(default_factory=list)  # the first few failures, each with its record


class ClaimLost(Exception):
    """This worker's claim on a row was taken by another: it must not create the row's page."""


MAX_ERRORS_SHOWN = 5
AMBIGUOUS_GAP = 30.0  # seconds since the claim after which a create first looks for the page by Atelier ID
SCHEMA_WAIT_SECONDS = 300  # a row waiting for its schema is looked at again after this (or when it is mended)


class OutboxPusher:
    """Claims due outbox rows and creates or updates one page per record. Page content (such as a deliverable's
    showcase) comes from `ports.contents`, by entity: the engine knows no entity's content itself."""

    def __init__(self, ports: SyncPorts, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._rpc = ports.rpc
        self._gateway = ports.notion
        self._data_sources = ports.data_sources
        self._contents = ports.contents
        self._properties = ports.properties
        self._clock = clock
        self._pages: dict[tuple[str, str], str] = {}
        self._schemas: dict[str, Inspection] = {}  # entity -> its schema as read (and mended) in this sweep
        self._held_at: dict[int, float] = {}  # outbox row -> when its claim was last known to be ours

    def sweep(
        self,
        *,
        deadline: float | None = None,
        project_id: str | None = None,
        batch: int = BATCH,
        holder: str | None = None,
        still_ours: Callable[[], bool] = lambda: True,
    ) -> SweepReport:
        """Push due rows until none are left, the deadline nears, Notion stops answering, or (for a run under the
        sync lease) `still_ours` says the lease is gone; what is left waits for the next run."""
        report = SweepReport()
        self._pages = {}  # pages pushed in this sweep, so that children claimed with them find them
        self._schemas = {}
        while (deadline is None or self._clock() < deadline) and still_ours():
            claimed = self._rpc.rpc(
                "claim_outbox", p_limit=batch, p_lease_seconds=LEASE_SECONDS, p_project_id=project_id, p_holder=holder
            )
            if not claimed:
                break
            report.claimed += len(claimed)
            claimed_at = self._clock()
            results: list[dict[str, Any]] = []
            for row in claimed:
                if report.notion_down:
                    results.append(
                        {
                            "outbox_id": row["outbox_id"],
                            "claim": row.get("claim"),
                            "ok": False,
                            "skipped": True,
                            "retry_in": results[-1].get("retry_in", 30),
                        }
                    )
                    continue
                results.append(self._push(row, report, deadline, claimed_at))
            outcome = self._rpc.rpc("complete_outbox", p_results=results, p_max_attempts=MAX_ATTEMPTS)
            for key, value in outcome.items():
                report.outcome[key] = report.outcome.get(key, 0) + int(value)
            if report.notion_down:
                break  # Notion is down or asked us to wait: the next run tries again, and nothing is dead
        return report

    def _hold(self, row: dict[str, Any]) -> None:
        """Before a write to Notion: the claim is still this worker's. Within half a lease of claiming (or of the
        last check) it surely is, at no cost; later, one call checks and extends it, or raises ClaimLost."""
        outbox_id = row["outbox_id"]
        if row.get("claim") is None or self._clock() - self._held_at.get(outbox_id, 0.0) < LEASE_SECONDS / 2:
            return
        held = self._rpc.rpc(
            "hold_claims", p_claims=[{"outbox_id": outbox_id, "claim": row["claim"]}], p_lease_seconds=LEASE_SECONDS
        )
        if outbox_id not in held:
            raise ClaimLost(f"outbox row {outbox_id} was claimed by another worker")
        self._held_at[outbox_id] = self._clock()

    def _vanished(self, page_id: str, deadline: float | None) -> bool:
        """One confirming read: the page is gone for good (not merely trashed, which an update would show)."""
        try:
            self._gateway.retrieve_page(page_id, deadline=deadline)
        except NotionError as exc:
            return exc.code == "object_not_found"
        return False

    def _schema(self, entity: Entity, deadline: float | None) -> Inspection:
        """The entity's schema, read and mended once per sweep (after Notion refused a write as invalid)."""
        if entity.name not in self._schemas:
            self._schemas[entity.name] = self._properties.heal(self._gateway, entity.name, deadline=deadline)
        return self._schemas[entity.name]

    def _wait_for_schema(self, entity: Entity, result: dict[str, Any], report: SweepReport) -> dict[str, Any]:
        summary = self._schemas[entity.name].summary()
        report.schema_broken[entity.name] = summary
        report.schema_waiting += 1
        result.update(
            error=f"waiting for the {entity.data_source_title} schema: {summary}",
            waiting_for=None,
            retry_in=SCHEMA_WAIT_SECONDS,
        )
        return result

    def _push(
        self,
        row: dict[str, Any],
        report: SweepReport,
        deadline: float | None,
        claimed_at: float,
        *,
        mended: bool = False,
    ) -> dict[str, Any]:
        entity = BY_NAME[row["entity"]]
        record = row["record"] or {}
        result: dict[str, Any] = {"outbox_id": row["outbox_id"], "claim": row.get("claim"), "ok": False}
        self._held_at[row["outbox_id"]] = claimed_at
        atelier_id = f"{entity.name}:{row['entity_id']}"
        answered = False
        try:
            if not record:  # hard-deleted since it was queued: nothing left to show
                result.update(ok=True, page_id=None, pushed_hash=None)
                return result
            if entity.name in report.schema_broken:
                return self._wait_for_schema(entity, result, report)  # no call: Notion would refuse it again
            ids = self._properties.ids(entity.name)
            parent = record.get("waiting_for")
            if parent:
                parent_page = self._pages.get((parent, str(record.get("parent_id"))))
                if parent_page is None:
                    report.waiting += 1
                    result.update(error=f"waiting for its {parent} page", waiting_for=str(record.get("parent_id")))
                    return result
                relation = next(f for f in entity.fields if f.relation_to == parent)
                record = {**record, relation.column: [parent_page]}
            hashes = field_hashes(entity, record)
            stamp = last_synced_value(ids, datetime.now(UTC))
            page_id = record.get("notion_page_id")
            if page_id and record.get("deleted"):
                # A deleted record's page is in the trash (the team's hand, or this call's). Notion refuses edits
                # there, so only the trash is asked for; what changed stays unpushed until the page comes back.
                self._hold(row)
                self._gateway.update_page(page_id, {}, in_trash=True, deadline=deadline)
                report.trashed += 1
                result.update(ok=True, page_id=page_id, pushed_hash=record.get("pushed"), answered=True)
                return result
            if page_id:
                pushed = pushed_hashes(record.get("pushed"))
                changed = tuple(f for f in entity.pushed_fields() if pushed.get(f.property) != hashes[f.property])
                if not changed:
                    report.unchanged += 1
                else:
                    props = entity.properties(record, fields=changed, ids=ids) | stamp
                    if not pushed:  # a page the team made, adopted: it gets its Atelier ID with the first push
                        props |= atelier_id_value(ids, entity.name, str(row["entity_id"]))
                    self._hold(row)  # a stale worker must not put older values over a newer push
                    self._gateway.update_page(page_id, props, deadline=deadline)
                    report.updated += 1
                    answered = True
                # Notion-owned fields keep the hash they were created with: only ours decide what to send.
                hashes = {
                    **hashes,
                    **{f.property: pushed.get(f.property, hashes[f.property]) for f in entity.owned_by(Owner.notion)},
                }
            else:
                source = self._data_sources[entity.name]
                # An earlier attempt, or a worker whose claim ran out, may have created the page already.
                ambiguous = row["attempts"] > 1 or self._clock() - claimed_at > AMBIGUOUS_GAP
                id_key = key_of(ids, ATELIER_ID)
                found = (
                    self._gateway.find_by_atelier_id(source, atelier_id, id_property=id_key, deadline=deadline)
                    if ambiguous
                    else None
                )
                answered = ambiguous
                if found is None:
                    props = (
                        entity.properties(record, ids=ids)
                        | stamp
                        | atelier_id_value(ids, entity.name, str(row["entity_id"]))
                    )
                    content = self._contents.get(entity.name)
                    children = content(str(row["entity_id"]), deadline) if content else None
                    found = self._gateway.create_page(
                        source,
                        atelier_id,
                        props,
                        children=children,
                        id_property=id_key,
                        deadline=deadline,
                        guard=lambda: self._hold(row),
                    ).page
                    report.created += 1
                    answered = True
                page_id = str(found["id"])
            self._pages[(entity.name, str(row["entity_id"]))] = page_id
            # `answered`: Notion answered a call for this row, so rows backing off after an outage may go now.
            result.update(ok=True, page_id=page_id, pushed_hash=json.dumps(hashes, sort_keys=True), answered=answered)
        except ClaimLost as exc:
            report.lost += 1
            result.update(error=str(exc), lost=True)
        except NotionError as exc:
            page_id = record.get("notion_page_id")
            if exc.code == "object_not_found" and page_id and self._vanished(str(page_id), deadline):
                result.update(ok=True, gone=True, page_id=page_id, pushed_hash=None)
                return result
            if exc.code == "validation_error" and not isinstance(exc, RetryLater) and not mended:
                first_look = entity.name not in self._schemas
                try:
                    schema = self._schema(entity, deadline)
                except NotionError as reading:
                    exc = reading  # Notion would not even show the schema: that failure stands for the row's
                else:
                    if schema.breaking:
                        return self._wait_for_schema(entity, result, report)
                    if first_look:  # the schema is whole (or mended now): one more try, with the ids as they are
                        return self._push(row, report, deadline, claimed_at, mended=True)
            report.failed += 1
            result.update(error=f"{exc.failure}: {exc}")
            if len(report.errors) < MAX_ERRORS_SHOWN:
                report.errors.append(f"{atelier_id}: {exc.failure}: {exc}")
            if isinstance(exc, RetryLater) or exc.failure is not Failure.permanent:
                report.notion_down = True
                result.update(transient=True, retry_in=exc.retry_after or 30)
            elif exc.retry_after:
                result["retry_in"] = exc.retry_after
        return result
