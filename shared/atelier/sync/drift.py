"""Drift: every linked record in Postgres against its Notion page, for `atelier check`."""

from __future__ import annotations

from dataclasses import dataclass

from atelier.notion.schema import ENTITIES, Owner
from atelier.sync.records import SyncPorts, field_hashes, page_field_hash


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
        pages = {str(p["id"]): p for p in ports.notion.query(ports.data_sources[entity.name])}
        for item in ports.rpc.rpc("linked_records", p_entity=entity.name):
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
                if page_field_hash(f, page) != want[f.property]:
                    shown = entity.values(page, fields=(f,)).get(f.column)
                    found.append(RecordDrift(entity.name, item["id"], "differs",
                                             f"{f.property}: Notion shows {shown!r}, Postgres has "
                                             f"{record.get(f.column)!r}"))  # fmt: skip
    return found
