"""Properties by id, and the health of each data source's schema.

Notion gives every property a stable id that survives a rename. The id of each mapped property (and of "Atelier
ID" and "Last Synced") is kept in Postgres (`notion_properties`), learnt from the schema at `notion setup` and
whenever the engine reads a schema again; push, pull, echo checks and drift address properties by it.

`inspect` compares a data source's schema with the mapping and sorts what it finds:
- cosmetic, a note: a property renamed, an option added, a property of the team's own;
- breaking: a mapped property deleted or retyped, an option Atelier writes removed, the data source trashed.
`repair` mends what it can: always the missing select options; with `recreate` (`notion setup`), also a deleted
property (under its original name) and a retyped one (back to its type, under the team's name).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from atelier.kernel.catalogue import CatalogueReader
from atelier.kernel.rpc import Rpc
from atelier.notion.codec import Ids, plain_text
from atelier.notion.port import NotionPort
from atelier.sync.mapping import BY_NAME, Entity, synced_names


@dataclass(frozen=True)
class Finding:
    entity: str
    problem: str
    detail: str
    breaking: bool
    key: str = ""  # the mapping's name for the property concerned
    property_id: str | None = None
    missing_options: tuple[str, ...] = ()


@dataclass
class Inspection:
    """One data source's schema against the mapping: the ids it shows, and what differs."""

    entity: str
    data_source_id: str
    properties: dict[str, dict[str, str]] = field(default_factory=dict)  # key -> {id, name, kind}
    findings: list[Finding] = field(default_factory=list)

    @property
    def breaking(self) -> list[Finding]:
        return [f for f in self.findings if f.breaking]

    @property
    def notes(self) -> list[Finding]:
        return [f for f in self.findings if not f.breaking]

    @property
    def ids(self) -> dict[str, str]:
        return {key: prop["id"] for key, prop in self.properties.items()}

    def summary(self) -> str:
        """One line for a broken data source: what is wrong, and what mends it."""
        return "; ".join(f.detail for f in self.breaking)


def _options(prop: dict[str, Any]) -> list[dict[str, Any]]:
    config = prop.get(str(prop.get("type"))) or {}
    return list(config.get("options") or []) if isinstance(config, dict) else []


def inspect(
    entity: Entity, source: dict[str, Any], known: Mapping[str, Mapping[str, str]], tiers: tuple[str, ...] = ()
) -> Inspection:
    """Find each mapped property by its known id, else by its name (a first reading, or one recreated)."""
    title = plain_text(source.get("title")) or entity.data_source_title
    found = Inspection(entity.name, str(source.get("id")))
    if source.get("in_trash") or source.get("archived"):
        found.findings.append(
            Finding(
                entity.name,
                "data source trashed",
                f"{title} is in Notion's trash: restore it there (Atelier cannot take it out of the trash)",
                breaking=True,
            )
        )
    schema: dict[str, dict[str, Any]] = {str(n): p for n, p in (source.get("properties") or {}).items()}
    by_id = {str(p.get("id")): (name, p) for name, p in schema.items()}
    known_ids = {str(v.get("id")) for v in known.values() if v.get("id")}
    used: set[str] = set()
    options = entity.written_options(tiers)
    for key, kind in entity.kinds().items():
        known_id = (known.get(key) or {}).get("id")
        if known_id and known_id in by_id:
            name, prop = by_id[known_id]
        elif key in schema and (str(schema[key].get("id")) == known_id or str(schema[key].get("id")) not in known_ids):
            name, prop = key, schema[key]
        else:
            found.findings.append(
                Finding(
                    entity.name,
                    "deleted property",
                    f"{title}: {key!r} ({kind}) is gone; `atelier notion setup` recreates it",
                    breaking=True,
                    key=key,
                )
            )
            continue
        property_id = str(prop.get("id"))
        used.add(property_id)
        actual = str(prop.get("type"))
        found.properties[key] = {"id": property_id, "name": name, "kind": actual}
        if name != key:
            found.findings.append(
                Finding(
                    entity.name,
                    "renamed property",
                    f"{title}: {key!r} is called {name!r} now",
                    breaking=False,
                    key=key,
                    property_id=property_id,
                )
            )
        if actual != kind:
            found.findings.append(
                Finding(
                    entity.name,
                    "retyped property",
                    f"{title}: {name!r} is {actual}, Atelier writes {kind}; `atelier notion setup` turns it back",
                    breaking=True,
                    key=key,
                    property_id=property_id,
                )
            )
            continue
        have = [str(o.get("name")) for o in _options(prop)]
        wanted = options.get(key, ())
        missing = tuple(o for o in wanted if o not in have)
        if missing:
            mend = (
                "add them back in Notion (the API cannot add status options)"
                if kind == "status"
                else "the next sync run or `atelier notion setup` adds them back"
            )
            found.findings.append(
                Finding(
                    entity.name,
                    "option removed",
                    f"{title}: {name!r} lacks {', '.join(map(repr, missing))}; {mend}",
                    breaking=True,
                    key=key,
                    property_id=property_id,
                    missing_options=missing,
                )
            )
        extra = [o for o in have if wanted and o not in wanted]
        if extra:
            found.findings.append(
                Finding(
                    entity.name,
                    "new option",
                    f"{title}: {name!r} has the team's own option(s) {', '.join(map(repr, extra))}",
                    breaking=False,
                    key=key,
                    property_id=property_id,
                )
            )
    synced = synced_names(entity.name)
    for name, prop in schema.items():
        if str(prop.get("id")) not in used and name not in synced:
            found.findings.append(
                Finding(
                    entity.name,
                    "own property",
                    f"{title}: {name!r} ({prop.get('type')}) is the team's own; Atelier leaves it alone",
                    breaking=False,
                )
            )
    return found


def repair(
    gateway: NotionPort,
    inspection: Inspection,
    source: dict[str, Any],
    data_source_ids: Mapping[str, str],
    *,
    recreate: bool,
    tiers: tuple[str, ...] = (),
) -> list[str]:
    """Mend a data source's schema in one update; returns what was done. Missing select options are always added
    back; with `recreate`, a deleted property is made again under its original name (or "<name> (Atelier)" when
    the team has since used that name) and a retyped one gets its type back under the team's name."""
    entity = BY_NAME[inspection.entity]
    declared = entity.schema(data_source_ids, tiers)
    names = {str(n) for n in (source.get("properties") or {})}
    props_by_id = {str(p.get("id")): p for p in (source.get("properties") or {}).values()}
    changes: dict[str, Any] = {}
    done: list[str] = []
    for finding in inspection.breaking:
        kind = entity.kinds().get(finding.key, "")
        if finding.problem == "option removed" and kind in ("select", "multi_select") and finding.property_id:
            current = [{"id": o["id"]} for o in _options(props_by_id.get(finding.property_id, {})) if o.get("id")]
            changes[finding.property_id] = {kind: {"options": current + [{"name": o} for o in finding.missing_options]}}
            done.append(f"added {', '.join(map(repr, finding.missing_options))} to {finding.key!r}")
        elif finding.problem == "deleted property" and recreate:
            name = finding.key if finding.key not in names else f"{finding.key} (Atelier)"
            changes[name] = declared[finding.key]
            done.append(f"recreated {name!r}")
        elif finding.problem == "retyped property" and recreate and finding.property_id:
            changes[finding.property_id] = declared[finding.key]
            done.append(f"turned {finding.key!r} back into {kind}")
    if changes:
        gateway.update_data_source(inspection.data_source_id, changes)
    return done


class PropertyMap:
    """The ids of the mapped properties, per data source: read from Postgres once, learnt again from a schema."""

    def __init__(self, rpc: Rpc, data_sources: Mapping[str, str]) -> None:
        self._rpc = rpc
        self._sources = data_sources
        self._known: dict[str, dict[str, dict[str, str]]] | None = None
        self.catalogue = CatalogueReader(rpc)

    def tiers(self) -> tuple[str, ...]:
        """The catalogue's tier names: the options of every "Tier" select."""
        return self.catalogue().names()

    def _load(self) -> dict[str, dict[str, dict[str, str]]]:
        if self._known is None:
            self._known = {str(k): dict(v) for k, v in (self._rpc.rpc("notion_property_ids") or {}).items()}
        return self._known

    def known(self, entity: str) -> dict[str, dict[str, str]]:
        """{key: {id, name, kind}} as last learnt for the entity's data source."""
        return self._load().get(self._sources[entity], {})

    def ids(self, entity: str) -> Ids:
        return {key: prop["id"] for key, prop in self.known(entity).items()}

    def learn(self, inspection: Inspection) -> None:
        """Keep what a schema showed; one rpc, and only when something changed."""
        if inspection.properties == self.known(inspection.entity):
            return
        self._rpc.rpc(
            "record_notion_properties",
            p_entity=inspection.entity,
            p_data_source_id=inspection.data_source_id,
            p_properties=inspection.properties,
        )
        self._load()[inspection.data_source_id] = dict(inspection.properties)

    def forget(self) -> None:
        """Read from Postgres again next time (another process may have learnt something)."""
        self._known = None

    def read(
        self, gateway: NotionPort, entity: str, *, deadline: float | None = None
    ) -> tuple[Inspection, dict[str, Any]]:
        """The entity's schema read now, inspected, and learnt."""
        source = gateway.retrieve_data_source(self._sources[entity], deadline=deadline)
        inspection = inspect(BY_NAME[entity], source, self.known(entity), self.tiers())
        self.learn(inspection)
        return inspection, source

    def heal(
        self,
        gateway: NotionPort,
        entity: str,
        *,
        recreate: bool = False,
        deadline: float | None = None,
        say: Callable[[str], None] = lambda _: None,
    ) -> Inspection:
        """Read the schema, mend what can be mended, and read it again if anything was; returns what stands."""
        inspection, source = self.read(gateway, entity, deadline=deadline)
        tiers = self.tiers()
        done = (
            repair(gateway, inspection, source, self._sources, recreate=recreate, tiers=tiers)
            if inspection.breaking
            else []
        )
        for line in done:
            say(f"notion: {BY_NAME[entity].data_source_title}: {line}")
        return self.read(gateway, entity, deadline=deadline)[0] if done else inspection
