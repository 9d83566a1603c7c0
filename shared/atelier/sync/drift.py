"""Drift: every linked record in Postgres against its Notion page, for `atelier check`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from atelier.sync.mapping import ENTITIES, Owner
from atelier.sync.records import SyncPorts, field_hashes, page_field_hash, page_record_id


@dataclass(frozen=True)
class RecordDrift:
    entity: str
    record_id: str
    problem: str
    detail: str


def drift(ports: SyncPorts) -> list[RecordDrift]:
    """Every linked record against its page: pages missing or trashed, and fields Postgres owns that differ."""
    found: list[RecordDrift] = []
    for entity in ENTITIES:
        ids = ports.ids(entity.name)
        pages = {str(p["id"]): p for p in ports.notion.query(ports.data_sources[entity.name])}
        for item in ports.rpc.rpc("linked_records", p_entity=entity.name):
            record = item["record"] or {}
            page = pages.get(str(record.get("notion_page_id")))
            if page is None:
                found.append(
                    RecordDrift(
                        entity.name,
                        item["id"],
                        "missing page",
                        f"page {record.get('notion_page_id')} is not in {entity.data_source_title}; "
                        "`atelier resync` creates it again",
                    )
                )
                continue
            want = field_hashes(entity, record)
            for f in entity.owned_by(Owner.postgres):
                if f.kind == "relation" and record.get("waiting_for"):
                    continue
                if page_field_hash(f, page, ids) != want[f.property]:
                    shown = entity.values(page, fields=(f,), ids=ids).get(f.column)
                    found.append(
                        RecordDrift(
                            entity.name,
                            item["id"],
                            "differs",
                            f"{f.property}: Notion shows {shown!r}, Postgres has {record.get(f.column)!r}",
                        )
                    )
    return found


@dataclass(frozen=True)
class Duplicate:
    """Pages carrying one record's Atelier ID beyond the one it should have, or a page its record is not
    linked to. `keep` is the page the record links to when it is among them, else the oldest."""

    entity: str
    record_id: str
    keep: str
    extras: list[str]
    linked_to: str | None  # the page Postgres links the record to now

    @property
    def problem(self) -> str:
        return "duplicate pages" if self.extras else "unlinked page"

    @property
    def detail(self) -> str:
        extras = f"; {len(self.extras)} more: {', '.join(self.extras)}" if self.extras else ""
        linked = "" if self.linked_to == self.keep else f" (the record links to {self.linked_to or 'no page'})"
        return f"keep {self.keep}{linked}{extras}; `atelier check --repair` fixes it"


def duplicates(ports: SyncPorts) -> list[Duplicate]:
    """Every record whose Atelier ID is on more than one live page, or on a page it is not linked to."""
    found: list[Duplicate] = []
    for entity in ENTITIES:
        groups: dict[str, list[dict[str, Any]]] = {}
        property_ids = ports.ids(entity.name)
        for page in ports.notion.query(ports.data_sources[entity.name]):
            record_id = page_record_id(entity, page, property_ids)
            if record_id is not None:
                groups.setdefault(record_id, []).append(page)
        if not groups:
            continue
        state = ports.rpc.rpc("sync_pull_state", p_entity=entity.name, p_ids=list(groups))
        for record_id, pages in groups.items():
            if record_id not in state:
                continue  # no such record: import-notion's business, not a duplicate
            linked = state[record_id].get("page_id")
            ids = [str(p["id"]) for p in sorted(pages, key=lambda p: str(p.get("created_time") or ""))]
            if len(ids) == 1 and ids[0] == linked:
                continue
            if linked is not None and linked not in ids and len(ids) == 1:
                continue  # the linked page is missing or trashed: drift reports it
            keep = linked if linked in ids else ids[0]
            found.append(Duplicate(entity.name, record_id, keep, [i for i in ids if i != keep], linked))
    return found


def repair_duplicates(ports: SyncPorts, found: list[Duplicate]) -> int:
    """Moves each extra page to the trash and links each record to the page kept; returns records repaired.
    An extra page leaves every relation first: a two-way relation lists it on the pages it points at (a copy of
    a project sits in its milestones' "Project"), and a page in the trash can no longer be edited out of them."""
    for dup in found:
        for page_id in dup.extras:
            page = ports.notion.retrieve_page(page_id)
            properties = (page.get("properties") or {}).items()
            related: dict[str, Any] = {
                prop.get("id") or name: {"relation": []}
                for name, prop in properties
                if prop.get("type") == "relation" and prop.get("relation")
            }
            if related:
                ports.notion.update_page(page_id, related)
            ports.notion.update_page(page_id, in_trash=True)
        if dup.linked_to != dup.keep:
            ports.rpc.rpc("relink_record", p_entity=dup.entity, p_id=dup.record_id, p_page_id=dup.keep)
    return len(found)
