"""Creates the studio's five Notion databases under a parent page, once, and reports drift from the mapping."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from atelier.notion.port import NotionPort
from atelier.notion.schema import ATELIER_ID, ENTITIES, LAST_SYNCED, Entity, plain_text


@dataclass(frozen=True)
class DataSourceIds:
    database_id: str
    data_source_id: str


@dataclass
class SetupResult:
    ids: dict[str, DataSourceIds] = field(default_factory=dict)
    created: list[str] = field(default_factory=list)

    def env_lines(self) -> list[str]:
        lines = []
        for entity, ids in self.ids.items():
            lines.append(f"NOTION_{entity.upper()}_DATABASE_ID={ids.database_id}")
            lines.append(f"NOTION_{entity.upper()}_DATA_SOURCE_ID={ids.data_source_id}")
        return lines


def find_existing(gateway: NotionPort, parent_page_id: str) -> dict[str, DataSourceIds]:
    """The studio's data sources already under the parent page, found by title."""
    found: dict[str, DataSourceIds] = {}
    for entity in ENTITIES:
        for source in gateway.search(entity.data_source_title, object_type="data_source"):
            title = plain_text(source.get("title")) or ""
            parent = source.get("database_parent") or {}
            if title == entity.data_source_title and _same_id(parent.get("page_id"), parent_page_id):
                database_id = str((source.get("parent") or {}).get("database_id"))
                found[entity.name] = DataSourceIds(database_id, str(source["id"]))
                break
    return found


def _same_id(a: Any, b: Any) -> bool:
    return bool(a) and bool(b) and str(a).replace("-", "") == str(b).replace("-", "")


def setup(gateway: NotionPort, parent_page_id: str, *, say: Any = print) -> SetupResult:
    """Create whatever is missing; a second run finds everything and creates nothing."""
    result = SetupResult(ids=find_existing(gateway, parent_page_id))
    for entity in ENTITIES:
        if entity.name in result.ids:
            say(f"notion: {entity.data_source_title} exists")
            continue
        data_source_ids = {name: ids.data_source_id for name, ids in result.ids.items()}
        database = gateway.create_database(parent_page_id, entity.data_source_title, entity.schema(data_source_ids))
        source = (database.get("data_sources") or [{}])[0]
        result.ids[entity.name] = DataSourceIds(str(database["id"]), str(source["id"]))
        result.created.append(entity.name)
        say(f"notion: created {entity.data_source_title}")
    return result


@dataclass(frozen=True)
class Drift:
    entity: str
    problem: str
    detail: str


def check(gateway: NotionPort, ids: dict[str, DataSourceIds]) -> list[Drift]:
    """Differences between Notion and the mapping: missing, renamed or retyped properties, extra data sources,
    and pages without an Atelier ID."""
    drift: list[Drift] = []
    for entity in ENTITIES:
        if entity.name not in ids:
            drift.append(
                Drift(
                    entity.name,
                    "missing data source",
                    f"run `atelier notion setup` to create {entity.data_source_title}",
                )
            )
            continue
        database = gateway.retrieve_database(ids[entity.name].database_id)
        sources = database.get("data_sources") or []
        if len(sources) > 1:
            names = ", ".join(str(s.get("name")) for s in sources)
            drift.append(
                Drift(
                    entity.name,
                    "second data source",
                    f"{entity.data_source_title} has {len(sources)}: {names}; Atelier syncs only the first",
                )
            )
        schema = gateway.retrieve_data_source(ids[entity.name].data_source_id).get("properties") or {}
        drift += _property_drift(entity, schema)
        unlinked = gateway.query_page(
            ids[entity.name].data_source_id, filter={"property": ATELIER_ID, "rich_text": {"is_empty": True}}
        )
        count = len(unlinked.get("results") or [])
        if count:
            more = "+" if unlinked.get("has_more") else ""
            drift.append(
                Drift(
                    entity.name,
                    "pages without Atelier ID",
                    f"{count}{more} page(s) Atelier did not create; `atelier import-notion` links them",
                )
            )
    return drift


def _property_drift(entity: Entity, schema: dict[str, Any]) -> list[Drift]:
    expected = {f.property: f.kind for f in entity.fields} | {ATELIER_ID: "rich_text", LAST_SYNCED: "date"}
    actual = {name: str(prop.get("type")) for name, prop in schema.items()}
    drift = []
    unexpected = {name: kind for name, kind in actual.items() if name not in expected}
    for name, kind in expected.items():
        if name not in actual:
            twin = next((n for n, k in unexpected.items() if k == kind), None)
            detail = f"renamed to {twin!r}? rename it back to {name!r}" if twin else f"add a {kind} property {name!r}"
            drift.append(Drift(entity.name, "missing property" if not twin else "renamed property", detail))
        elif actual[name] != kind:
            drift.append(Drift(entity.name, "retyped property", f"{name!r} is {actual[name]}, expected {kind}"))
    return drift
