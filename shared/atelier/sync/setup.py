"""Creates the studio's Notion databases (the records', Services and Messages) under a parent page, once, mends
what the team broke in them, writes the catalogue's and the e-mails' first pages, and reports how they differ from
the mapping."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from atelier.kernel.catalogue import CatalogueReader
from atelier.kernel.rpc import Rpc
from atelier.notion.codec import ATELIER_ID, find_property, plain_text, select_name, unlinked_filter
from atelier.notion.errors import NotionError
from atelier.notion.port import NotionPort
from atelier.sync.mapping import BY_NAME, ENTITIES, SOURCES, Entity
from atelier.sync.properties import Finding, PropertyMap, inspect
from atelier.sync.records import SyncPorts, Words
from atelier.sync.sources import SourceSync
from atelier.sync.views import VIEWS


@dataclass(frozen=True)
class DataSourceIds:
    database_id: str
    data_source_id: str


@dataclass
class SetupResult:
    ids: dict[str, DataSourceIds] = field(default_factory=dict)
    created: list[str] = field(default_factory=list)
    broken: dict[str, str] = field(default_factory=dict)  # entity -> what setup could not mend
    views_made: list[str] = field(default_factory=list)
    relabelled: int = 0  # pages moved from Postgres' codes to the studio's words
    paired: int = 0  # one-way relations made two-way
    written: int = 0  # Services and Messages pages written for the first time

    def parameter_lines(self) -> list[str]:
        """The data-source ids under the names template.yaml's parameters have (what `sam deploy --guided` asks)."""
        return [f"Notion{entity.title()}DataSourceId={ids.data_source_id}" for entity, ids in self.ids.items()]

    def env_lines(self) -> list[str]:
        lines = []
        for entity, ids in self.ids.items():
            lines.append(f"NOTION_{entity.upper()}_DATABASE_ID={ids.database_id}")
            lines.append(f"NOTION_{entity.upper()}_DATA_SOURCE_ID={ids.data_source_id}")
        return lines


def find_existing(
    gateway: NotionPort, parent_page_id: str, known: Mapping[str, str] | None = None
) -> dict[str, DataSourceIds]:
    """The studio's data sources: those whose ids Postgres keeps (`known`, by entity), found by id whatever the
    team has called them since; the rest by title under the parent page (a first setup)."""
    found: dict[str, DataSourceIds] = {}
    for name, source_id in (known or {}).items():
        try:
            source = gateway.retrieve_data_source(source_id)
        except NotionError as exc:
            if exc.code == "object_not_found":
                continue  # deleted for good: look for it by title, or make it again
            raise
        found[name] = DataSourceIds(str((source.get("parent") or {}).get("database_id")), str(source["id"]))
    for entity in ENTITIES + SOURCES:
        if entity.name in found:
            continue
        for source in gateway.search(entity.data_source_title, object_type="data_source"):
            title = plain_text(source.get("title")) or ""
            parent = source.get("database_parent") or {}
            if title == entity.data_source_title and _same_id(parent.get("page_id"), parent_page_id):
                database_id = str((source.get("parent") or {}).get("database_id"))
                found[entity.name] = DataSourceIds(database_id, str(source["id"]))
                break
    return found


def known_sources(rpc: Rpc | None) -> dict[str, str]:
    """The data source of each entity, as Postgres last learnt it ({} without a database)."""
    return {str(k): str(v) for k, v in (rpc.rpc("notion_data_sources") or {}).items()} if rpc is not None else {}


def _same_id(a: Any, b: Any) -> bool:
    return bool(a) and bool(b) and str(a).replace("-", "") == str(b).replace("-", "")


def setup(
    gateway: NotionPort, parent_page_id: str, *, rpc: Rpc | None = None, say: Any = print, words: Words | None = None
) -> SetupResult:
    """Create whatever is missing and mend what the team broke; a second run finds everything and changes nothing.

    With `rpc` (Postgres), each data source's property ids are recorded, a deleted property is recreated under
    its original name, a retyped one gets its type back, removed options are added back, and the rows that waited
    for a mended schema are due at once. The team's names for everything else are kept."""
    result = SetupResult(ids=find_existing(gateway, parent_page_id, known_sources(rpc)))
    tiers = CatalogueReader(rpc)().names() if rpc is not None else ()  # without a database: added by the first push
    for entity in ENTITIES + SOURCES:
        if entity.name in result.ids:
            say(f"notion: {entity.data_source_title} exists")
            continue
        data_source_ids = {name: ids.data_source_id for name, ids in result.ids.items()}
        database = gateway.create_database(
            parent_page_id, entity.data_source_title, entity.schema(data_source_ids, tiers)
        )
        source = (database.get("data_sources") or [{}])[0]
        result.ids[entity.name] = DataSourceIds(str(database["id"]), str(source["id"]))
        result.created.append(entity.name)
        say(f"notion: created {entity.data_source_title}")
    sources = {name: ids.data_source_id for name, ids in result.ids.items()}
    if rpc is None:
        say("notion: property ids not recorded (no database settings); the first sync run records them")
        return result
    properties = PropertyMap(rpc, sources)
    for entity in ENTITIES + SOURCES:
        inspection = properties.heal(gateway, entity.name, recreate=True, say=say)
        if inspection.breaking:
            say(f"notion: {entity.data_source_title} still broken: {inspection.summary()}")
            result.broken[entity.name] = inspection.summary()
            continue
        released = int(rpc.rpc("release_schema_waits", p_entity=entity.name) or 0)
        if released:
            say(f"notion: {entity.data_source_title}: {released} row(s) that waited for the schema are due now")
        source = gateway.retrieve_data_source(sources[entity.name])  # read once for both: neither changes relations
        ids = properties.ids(entity.name)
        result.relabelled += relabel(gateway, entity, source, ids, say=say)
        result.paired += two_way(gateway, entity, source, sources, ids, say=say)
    for entity_name in dict.fromkeys(view.entity for view in VIEWS):
        if entity_name not in result.broken:
            result.views_made += ensure_views(
                gateway, entity_name, sources[entity_name], properties.ids(entity_name), say=say
            )
    if not {"service", "message"} & set(result.broken):
        # The catalogue's and the e-mails' first pages, from Postgres and the template files; never written again.
        ports = SyncPorts(rpc, gateway, sources, properties=properties, words=words)
        result.written = SourceSync(ports).seed(say=say)
    return result


def two_way(
    gateway: NotionPort,
    entity: Entity,
    source: dict[str, Any],
    sources: Mapping[str, str],
    ids: Mapping[str, str],
    *,
    say: Any = print,
) -> int:
    """A relation from before two-way relations becomes two-way: Notion adds its other side (a project's
    Milestones) and fills it from the pages that already point across. Returns how many were changed."""
    made = 0
    for f in entity.fields:
        prop = find_property(source, f.property, ids) or {}
        if f.kind != "relation" or not f.synced_as or (prop.get("relation") or {}).get("type") != "single_property":
            continue
        config = {"data_source_id": sources[str(f.relation_to)], "dual_property": {"synced_property_name": f.synced_as}}
        gateway.update_data_source(sources[entity.name], {str(prop.get("id")): {"relation": config}})
        say(f"notion: {entity.data_source_title}: {f.property!r} is two-way now ({f.synced_as!r} on the other side)")
        made += 1
    return made


def relabel(
    gateway: NotionPort, entity: Entity, source: dict[str, Any], ids: Mapping[str, str], *, say: Any = print
) -> int:
    """Pages and options from before the studio's words: each page showing a code ("in_progress") is moved to its
    label ("In progress"), then the codes leave the options (the team's own options stay). A page can only show an
    option its data source has, so only codes still among the options are looked for: a second run finds none and
    sends nothing. Returns how many pages were changed."""
    changed = 0
    data_source_id = str(source["id"])
    for f in entity.fields:
        if f.kind not in ("select", "multi_select") or not f.out:
            continue
        key = ids.get(f.property, f.property)
        options = ((find_property(source, f.property, ids) or {}).get(f.kind) or {}).get("options") or []
        present = {str(o.get("name")) for o in options}
        stale = {
            code: select_name(label)
            for code, label in f.out.items()
            if code in present and select_name(code) != select_name(label)
        }
        if not stale:
            continue
        moved = 0
        for code in stale:
            test = {"equals": code} if f.kind == "select" else {"contains": code}
            for page in list(gateway.query(data_source_id, filter={"property": key, f.kind: test})):
                shown = (find_property(page, f.property, ids) or {}).get(f.kind)
                if f.kind == "select":
                    value: Any = {"name": stale[code]}
                else:
                    value = [{"name": stale.get(str(item.get("name")), str(item.get("name")))} for item in shown or []]
                gateway.update_page(str(page["id"]), {key: {f.kind: value}})
                moved += 1
        kept = [o for o in options if o.get("name") not in stale]
        names = {str(o.get("name")) for o in kept}
        wanted = [{"id": o["id"], "name": o["name"]} for o in kept]
        wanted += [{"name": name} for name in f.labels() if name not in names]
        gateway.update_data_source(data_source_id, {key: {f.kind: {"options": wanted}}})
        say(f"notion: {entity.data_source_title}: {f.property} in the studio's words ({moved} page(s) moved)")
        changed += moved
    return changed


def ensure_views(
    gateway: NotionPort, entity: str, data_source_id: str, ids: Mapping[str, str], *, say: Any = print
) -> list[str]:
    """Make the mapping's views of one data source that it does not have yet (by name: a view the team renamed or
    changed is theirs, and a second run makes nothing). Returns the names made."""
    have = {str(view.get("name")) for view in gateway.list_views(data_source_id)}
    made = []
    for view in VIEWS:
        if view.entity != entity or view.name in have:
            continue
        gateway.create_view(data_source_id, view.name, view.type, view.configuration(ids))
        made.append(view.name)
        say(f"notion: {BY_NAME[entity].data_source_title}: made the view {view.name!r}")
    return made


HandMade = Callable[[str, list[dict[str, Any]], bool], list[Finding]]
"""What the sync would make of the pages the team made in one data source (entity, pages, more beyond them)."""


def check(
    gateway: NotionPort, ids: dict[str, DataSourceIds], *, rpc: Rpc | None = None, hand_made: HandMade | None = None
) -> list[Finding]:
    """The data sources against the mapping, without changing anything. Breaking findings stop the sync (a
    property deleted or retyped, an option Atelier writes removed, a data source trashed or missing); notes do
    not (a rename, an option or a property of the team's own, a second data source, pages Atelier did not make)."""
    sources = {name: i.data_source_id for name, i in ids.items()}
    properties = PropertyMap(rpc, sources) if rpc is not None else None
    found: list[Finding] = []
    for entity in ENTITIES + SOURCES:
        if entity.name not in ids:
            found.append(
                Finding(
                    entity.name,
                    "missing data source",
                    f"run `atelier notion setup` to create {entity.data_source_title}",
                    breaking=True,
                )
            )
            continue
        database = gateway.retrieve_database(ids[entity.name].database_id)
        others = (database.get("data_sources") or [])[1:]
        if others:
            names = ", ".join(str(s.get("name")) for s in others)
            found.append(
                Finding(
                    entity.name,
                    "second data source",
                    f"{entity.data_source_title} also has {names}; Atelier syncs only the first",
                    breaking=False,
                )
            )
        source = gateway.retrieve_data_source(ids[entity.name].data_source_id)
        title = plain_text(source.get("title")) or ""
        if title != entity.data_source_title:
            found.append(
                Finding(
                    entity.name,
                    "renamed data source",
                    f"{entity.data_source_title!r} is called {title!r} now",
                    breaking=False,
                )
            )
        inspection = inspect(
            entity, source, *((properties.known(entity.name), properties.tiers()) if properties else ({},))
        )
        found += inspection.findings
        if any(f.key == ATELIER_ID for f in inspection.breaking) or entity in SOURCES:
            continue  # (the catalogue's pages are checked as the team edits them, not adopted)
        unlinked = gateway.query_page(ids[entity.name].data_source_id, filter=unlinked_filter(inspection.ids))
        pages = list(unlinked.get("results") or [])
        if pages and hand_made is not None:
            found += hand_made(entity.name, pages, bool(unlinked.get("has_more")))
        elif pages:
            more = "+" if unlinked.get("has_more") else ""
            found.append(
                Finding(
                    entity.name,
                    "pages without Atelier ID",
                    f"{len(pages)}{more} page(s) the team "
                    "made; `atelier import-notion --dry-run` shows what each becomes",
                    breaking=False,
                )
            )
    return found
