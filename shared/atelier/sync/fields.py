"""The model of the mapping: who owns a field (`Owner`), a field and its Notion property (`Field`), and an entity's
data source with its fields (`Entity`). `atelier.sync.mapping` declares the studio's entities with them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from atelier.notion.codec import (
    ATELIER_ID,
    LAST_SYNCED,
    NO_IDS,
    Ids,
    find_property,
    from_property,
    key_of,
    select_name,
    to_property,
)

FROM_ATELIER = "Atelier sets it; ask an admin to change it in Supabase, and Notion follows within a minute"


class Owner(StrEnum):
    postgres = "postgres"
    notion = "notion"  # Notion owns the field once the page exists; Postgres sets its first value
    # The team decides it in Notion, and Atelier writes it too when its own state moves it (a payment converts a
    # lead): pulled like Notion's, pushed like Postgres' whenever Postgres' value is not the one last pushed.
    shared = "shared"


@dataclass(frozen=True)
class Field:
    column: str  # the record's key
    property: str  # the Notion property name
    kind: str  # a key of TYPES
    owner: Owner = Owner.postgres
    options: tuple[str, ...] = ()  # select/status option names
    relation_to: str | None = None  # the entity a relation points at
    # Postgres value <-> Notion value, where they differ (e.g. milestone status names)
    out: dict[str, str] = field(default_factory=dict)
    # For a field Postgres owns: why, and where the team changes it instead (the comment a hand edit gets)
    guide: str = ""
    # For a relation: the name of its other side, which Notion keeps on the page it points at (two-way)
    synced_as: str | None = None
    # The options are the catalogue's tier names (Postgres' `tiers`), not the mapping's
    tier_names: bool = False

    def to_notion_value(self, value: Any) -> Any:
        """The studio's word for a code ("in_progress" is "In progress"); each item of a list alike."""
        if self.out and isinstance(value, list):
            return [self.out.get(str(item), item) for item in value]
        if self.out and value is not None:
            value = self.out.get(str(value), value)
        return value

    def from_notion_value(self, value: Any) -> Any:
        """Back to the code; a code typed as it is (a page from before the labels) reads as itself."""
        if self.out and value is not None:
            back = {v: k for k, v in self.out.items()}
            if isinstance(value, list):
                return [back.get(str(item), item) for item in value]
            value = back.get(str(value), value)
        return value

    def labels(self, tiers: tuple[str, ...] = ()) -> tuple[str, ...]:
        """The option names Notion shows for this field: the labels of its codes, in the mapping's order; for a tier
        field, the catalogue's tier names (`tiers`, none when the catalogue cannot be read)."""
        return (
            tuple(select_name(name) for name in tiers)
            if self.tier_names
            else tuple(select_name(self.out.get(o, o)) for o in self.options)
        )


@dataclass(frozen=True)
class Entity:
    name: str  # as in sync_outbox.entity
    table: str
    data_source_title: str
    fields: tuple[Field, ...]

    @property
    def title_field(self) -> Field:
        return next(f for f in self.fields if f.kind == "title")

    def put_back(self, properties: list[str]) -> str:
        """The comment a person's edit to fields Postgres owns gets: what was put back, why, and where to change it."""
        fields = [f for f in self.fields if f.property in properties]
        names = ", ".join(f'"{f.property}"' for f in fields) or "a field"
        reasons = list(dict.fromkeys(f.guide or FROM_ATELIER for f in fields))
        return (
            f"Atelier put back {names} on this page: Atelier keeps {'these' if len(fields) > 1 else 'it'} in "
            f"step with its records, so an edit here would not last. Why, and where to change it: "
            + "; ".join(reasons)
            + "."
        )

    def owned_by(self, owner: Owner) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.owner is owner)

    def team_fields(self) -> tuple[Field, ...]:
        """The fields a person's edit is read back from: Notion's and the shared ones."""
        return tuple(f for f in self.fields if f.owner in (Owner.notion, Owner.shared))

    def pushed_fields(self) -> tuple[Field, ...]:
        """The fields a push sends when Postgres' value moves: Postgres' and the shared ones."""
        return tuple(f for f in self.fields if f.owner in (Owner.postgres, Owner.shared))

    def kinds(self) -> dict[str, str]:
        """Every property the sync needs, by key: the mapped fields, "Atelier ID" and "Last Synced"."""
        return {f.property: f.kind for f in self.fields} | {ATELIER_ID: "rich_text", LAST_SYNCED: "date"}

    def written_options(self, tiers: tuple[str, ...] = ()) -> dict[str, tuple[str, ...]]:
        """The select and status options Atelier writes, by key: each must exist in Notion."""
        out: dict[str, tuple[str, ...]] = {}
        for f in self.fields:
            if f.kind in ("select", "multi_select") and (f.options or (f.tier_names and tiers)):
                out[f.property] = f.labels(tiers)
            elif f.kind == "status" and f.out:
                out[f.property] = tuple(f.out.values())
        return out

    def schema(self, data_source_ids: Mapping[str, str], tiers: tuple[str, ...] = ()) -> dict[str, Any]:
        """The data source's properties as `databases.create` takes them, by key (`tiers`: the catalogue's names)."""
        props: dict[str, Any] = {ATELIER_ID: {"rich_text": {}}, LAST_SYNCED: {"date": {}}}
        for f in self.fields:
            if f.kind in ("select", "status", "multi_select") and (f.options or f.tier_names):
                config: dict[str, Any] = {"options": [{"name": name} for name in f.labels(tiers)]}
            elif f.kind == "relation":
                target = data_source_ids.get(f.relation_to or "")
                config = (
                    (
                        {"data_source_id": target}
                        | (
                            {"dual_property": {"synced_property_name": f.synced_as}}
                            if f.synced_as
                            else {"single_property": {}}
                        )
                    )
                    if target
                    else {}
                )
            else:
                config = {}
            props[f.property] = {f.kind: config}
        return props

    def properties(
        self, record: dict[str, Any], *, fields: tuple[Field, ...] | None = None, ids: Ids = NO_IDS
    ) -> dict[str, Any]:
        """Notion property values for a record's fields (all, or the given ones), keyed by property id."""
        return {
            key_of(ids, f.property): to_property(f.kind, f.to_notion_value(record.get(f.column)))
            for f in fields or self.fields
        }

    def values(
        self, page: dict[str, Any], *, fields: tuple[Field, ...] | None = None, ids: Ids = NO_IDS
    ) -> dict[str, Any]:
        """A page's values by column, for the fields given (all by default); a property missing is left out."""
        out: dict[str, Any] = {}
        for f in fields or self.fields:
            prop = find_property(page, f.property, ids)
            if prop is not None:
                out[f.column] = f.from_notion_value(from_property(f.kind, prop))
        return out

    def missing(self, page: dict[str, Any], ids: Ids = NO_IDS) -> list[str]:
        """The keys of the properties the sync needs that a page does not show (deleted, say)."""
        return sorted(key for key in self.kinds() if find_property(page, key, ids) is None)
