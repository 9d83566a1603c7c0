"""What push, pull and drift share about a synced record: field hashes and the outbox's constants.

A field's hash is of the Notion property value we would send for it, so what we pushed, what a page shows
and what we would push now compare directly. Push records the hashes it sent; pull and drift read them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

from atelier.kernel.catalogue import Catalogue
from atelier.kernel.errors import AtelierError
from atelier.kernel.rpc import Rpc
from atelier.notion.codec import ATELIER_ID, NO_IDS, Ids, find_property, from_property, plain_text, to_property
from atelier.notion.port import NotionPort
from atelier.sync.mapping import Entity, Field
from atelier.sync.properties import PropertyMap

LEASE_SECONDS = 120  # a claimed outbox row comes back to the queue after this
MAX_ATTEMPTS = 8
BATCH = 25

# The blocks of a new page, by entity: (record id, deadline) -> blocks. Made once, when the page is created.
PageContent = Callable[[str, float | None], list[dict[str, Any]]]


class Words(Protocol):
    """The client e-mails' wording, as the mail package knows it (the sync may not import it): their names and
    what the team calls them, each default, the placeholders each may use, and the check a page's wording passes."""

    def names(self) -> dict[str, str]: ...

    def default(self, name: str) -> tuple[str, str]: ...

    def placeholders(self, name: str) -> tuple[str, ...]: ...

    def check(self, name: str, subject: str, body: str) -> str | None: ...


@dataclass(frozen=True)
class SyncPorts:
    """What the engine works with, wired once (`atelier.wiring.sync_ports`) and handed to each part."""

    rpc: Rpc
    notion: NotionPort
    data_sources: Mapping[str, str]
    contents: Mapping[str, PageContent] = field(default_factory=dict)
    properties: PropertyMap = field(default=None)  # type: ignore[assignment]  # made from rpc when not given
    quote_cap_cents: int | None = None  # the largest quote the team may send (None: the database's own cap)
    # What follows a team's decision on a lead, outside the sync: a quote's payment page opened (or a superseded
    # one expired) and its e-mail sent, now rather than at the mail's next run. Given the deadline; returns counts.
    settle: Callable[[float | None], dict[str, int]] | None = None
    internal_marker: str = "internal:"  # a comment that begins with it is the team's own, never shown to the client
    words: Words | None = None  # the Messages database's defaults and checks (none: Messages is not read)
    # A file a person dropped into a deliverable page: copied to the bucket and recorded (`deliverables.drops`).
    # Given the page, its deliverable's id (None: a page the team made) and the deadline; returns how many it took.
    drops: Callable[[dict[str, Any], str | None, float | None], int] | None = None
    # After the team changed the catalogue: the tiers changed (and the deadline); keeps Stripe's Prices in step.
    catalogue_changed: Callable[[list[int], float | None], int] | None = None

    def __post_init__(self) -> None:
        if cast("PropertyMap | None", self.properties) is None:
            object.__setattr__(self, "properties", PropertyMap(self.rpc, self.data_sources))

    def catalogue(self) -> Catalogue:
        """The studio's tiers and milestones, as Postgres holds them (read again within a minute of a change)."""
        return self.properties.catalogue()

    def ids(self, entity: str) -> Ids:
        """The entity's property ids, by key (its properties' names in the mapping)."""
        return self.properties.ids(entity)


def settle_decisions(ports: SyncPorts, deadline: float | None) -> dict[str, int]:
    """Run what follows the team's decisions (`SyncPorts.settle`), never failing the sync for it: Stripe or the mail
    being down, or unconfigured, leaves the quote waiting for the next run, and says so."""
    if ports.settle is None:
        return {}
    try:
        return ports.settle(deadline)
    except AtelierError as exc:
        return {"decisions_waiting": 1, f"decisions_{type(exc).__name__}": 1}


def short_hash(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:16]


def field_hashes(entity: Entity, record: dict[str, Any]) -> dict[str, str]:
    """A short hash per Notion property, of the value we would send for it."""
    return {f.property: short_hash(to_property(f.kind, f.to_notion_value(record.get(f.column)))) for f in entity.fields}


def page_field_hash(f: Field, page: dict[str, Any], ids: Ids = NO_IDS) -> str | None:
    """The hash of a page's property in the form we push it, comparable with `field_hashes`."""
    prop = find_property(page, f.property, ids)
    if prop is None:
        return None
    return short_hash(to_property(f.kind, from_property(f.kind, prop)))


def page_record_id(entity: Entity, page: dict[str, Any], ids: Ids = NO_IDS) -> str | None:
    """The id of the record a page belongs to, by its Atelier ID ("project:<id>"); None for a page of no record
    of this entity (one the team made, say)."""
    atelier_id = plain_text((find_property(page, ATELIER_ID, ids) or {}).get("rich_text")) or ""
    prefix = f"{entity.name}:"
    return atelier_id.removeprefix(prefix) if atelier_id.startswith(prefix) else None


def pushed_hashes(stored: str | None) -> dict[str, str]:
    """The hashes recorded at the last push (a JSON object), or {} when there are none or they are unreadable."""
    try:
        value = json.loads(stored or "{}")
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}
