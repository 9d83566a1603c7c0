"""In-memory fakes of the ports (`Rpc`, `NotionPort`), so the sync rules run in milliseconds, with no HTTP.

They keep only what the rules read and write; the real emulator and Postgres are for tests/integration.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, cast

from atelier.notion import Created, Failure, NotionError, NotionPort
from atelier.notion.codec import ATELIER_ID, from_property, plain_text
from atelier.sync.mapping import BY_NAME as ENTITIES
from tests.seed_catalogue import seed_catalogue, seed_rows

BOT = "bot-user"
PERSON = "person-user"


class FakeNotion:
    """Pages kept in a dict; every call is counted by name; `fail_next` makes the next call of a name fail."""

    def __init__(self) -> None:
        self.pages: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.rate_limited = 0
        self.fail_next: dict[str, NotionError] = {}
        self.refuse: dict[str, NotionError] = {}  # every call of a name fails so
        self.schemas: dict[str, dict[str, Any]] = {}  # data source id -> its properties, by name

    def _call(self, name: str, **args: Any) -> None:
        self.calls.append((name, args))
        if name in self.fail_next:
            raise self.fail_next.pop(name)
        if name in self.refuse:
            raise self.refuse[name]

    def retrieve_data_source(self, data_source_id: str, *, deadline: float | None = None) -> dict[str, Any]:
        self._call("retrieve_data_source", data_source_id=data_source_id)
        return {"id": data_source_id, "properties": self.schemas.get(data_source_id, {})}

    def update_data_source(
        self, data_source_id: str, properties: dict[str, Any], *, deadline: float | None = None
    ) -> dict[str, Any]:
        self._call("update_data_source", data_source_id=data_source_id, properties=properties)
        return self.retrieve_data_source(data_source_id)

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]

    # -- reads
    def bot_id(self, *, deadline: float | None = None) -> str:
        return BOT

    def max_upload_bytes(self, *, deadline: float | None = None) -> int:
        return 5 * 1024 * 1024

    def user_name(self, user_id: str, *, deadline: float | None = None) -> str | None:
        self._call("user_name", user_id=user_id)
        return None if user_id == BOT else f"Person {user_id[:4]}"

    def retrieve_page(self, page_id: str, *, deadline: float | None = None) -> dict[str, Any]:
        self._call("retrieve_page", page_id=page_id)
        if page_id not in self.pages:
            raise NotionError("gone", code="object_not_found", status=404, failure=Failure.permanent)
        return self.pages[page_id]

    def find_by_atelier_id(
        self, data_source_id: str, atelier_id: str, *, id_property: str = ATELIER_ID, deadline: float | None = None
    ) -> dict[str, Any] | None:
        self._call("find_by_atelier_id", atelier_id=atelier_id)
        return next(
            (
                p
                for p in self.pages.values()
                if p["parent"] == data_source_id
                and plain_text(p["properties"].get(ATELIER_ID, {}).get("rich_text")) == atelier_id
            ),
            None,
        )

    def query(self, data_source_id: str, **_: Any) -> Iterator[dict[str, Any]]:
        self._call("query", data_source_id=data_source_id)
        return iter([p for p in self.pages.values() if p["parent"] == data_source_id and not p["in_trash"]])

    def edited_between(self, data_source_id: str, since: datetime, until: datetime, **_: Any) -> list[dict[str, Any]]:
        self._call("edited_between", data_source_id=data_source_id, since=since, until=until)
        return [p for p in self.pages.values() if p["parent"] == data_source_id]

    # -- writes
    def create_page(
        self,
        data_source_id: str,
        atelier_id: str,
        properties: dict[str, Any],
        *,
        children: list[dict[str, Any]] | None = None,
        id_property: str = ATELIER_ID,
        deadline: float | None = None,
        guard: Callable[[], None] | None = None,
    ) -> Created:
        if guard is not None:
            guard()
        self._call("create_page", atelier_id=atelier_id, properties=properties, children=children)
        page_id = str(uuid.uuid4())
        self.pages[page_id] = {
            "id": page_id,
            "parent": data_source_id,
            "properties": _as_page(properties),
            "in_trash": False,
            "last_edited_by": {"id": BOT},
            "children": children or [],
        }
        return Created(self.pages[page_id], found_existing=False)

    def update_page(
        self,
        page_id: str,
        properties: dict[str, Any] | None = None,
        *,
        in_trash: bool | None = None,
        deadline: float | None = None,
    ) -> dict[str, Any]:
        self._call("update_page", page_id=page_id, properties=properties)
        page = self.pages[page_id]
        page["properties"] |= _as_page(properties or {})
        page["last_edited_by"] = {"id": BOT}
        if in_trash is not None:
            page["in_trash"] = in_trash
        return page

    def edit_as_person(self, page_id: str, properties: dict[str, Any]) -> None:
        """A team member's edit in the app."""
        self.pages[page_id]["properties"] |= _as_page(properties)
        self.pages[page_id]["last_edited_by"] = {"id": PERSON}


def _as_page(properties: dict[str, Any]) -> dict[str, Any]:
    """Request-shaped property values as a page shows them (rich text gains plain_text)."""
    shown: dict[str, Any] = {}
    for name, value in properties.items():
        ((kind, inner),) = value.items()
        if kind in ("title", "rich_text"):
            inner = [{**item, "plain_text": item["text"]["content"]} for item in inner]
        shown[name] = {"type": kind, kind: inner}
    return shown


class FakeRpc:
    """The outbox and pull functions, in memory: `queue` a record, and read back what the engine recorded."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.completed: list[dict[str, Any]] = []
        self.applied: list[dict[str, Any]] = []
        self.pull_state: dict[str, dict[str, Any]] = {}
        self.watermarks: dict[str, str] = {}
        self.unapplied: list[dict[str, Any]] = []
        self.taken: set[int] = set()  # outbox rows whose claim another worker has taken
        self.property_ids: dict[str, dict[str, Any]] = {}  # data source -> {key: {id, name, kind}}, as learnt

    def queue(self, entity: str, record: dict[str, Any], *, attempts: int = 1) -> str:
        entity_id = str(record.get("id") or uuid.uuid4())
        outbox_id = len(self.rows) + 1
        self.rows.append(
            {
                "outbox_id": outbox_id,
                "entity": entity,
                "entity_id": entity_id,
                "record": record,
                "attempts": attempts,
                "claim": outbox_id,
            }
        )
        return entity_id

    def rpc(self, function: str, /, **args: Any) -> Any:
        if function == "claim_outbox":
            claimed, self.rows = self.rows[: args["p_limit"]], self.rows[args["p_limit"] :]
            return claimed
        if function == "complete_outbox":
            self.completed += args["p_results"]
            return {"done": sum(1 for r in args["p_results"] if r["ok"])}
        if function == "note_unapplied_pages":
            self.unapplied += args["p_pages"]
            return len(args["p_pages"])
        if function == "hold_claims":
            return [c["outbox_id"] for c in args["p_claims"] if c["outbox_id"] not in self.taken]
        if function == "notion_property_ids":
            return self.property_ids
        if function == "record_notion_properties":
            self.property_ids[args["p_data_source_id"]] = args["p_properties"]
            return len(args["p_properties"])
        if function == "catalogue":
            return seed_rows()
        if function == "sync_watermarks":
            return self.watermarks
        if function == "sync_pull_state":
            return {i: self.pull_state[i] for i in args["p_ids"] if i in self.pull_state}
        if function == "apply_notion_changes":
            self.applied += args["p_changes"]["changes"]
            self.watermarks[args["p_data_source_id"]] = args["p_watermark"]
            return {"applied": len(args["p_changes"]["changes"]), "deleted": 0, "restored": 0, "overridden": 0}
        raise AssertionError(f"the fake has no {function}")

    def pushed_record(self, entity: str, record: dict[str, Any], page_id: str) -> dict[str, Any]:
        """The record as the outbox hands it back after a push: linked, with the hashes it was pushed with."""
        done = next(r for r in reversed(self.completed) if r.get("page_id") == page_id)
        return {**record, "notion_page_id": page_id, "pushed": done["pushed_hash"]}


def page_values(page: dict[str, Any], entity: str) -> dict[str, Any]:
    fields = ENTITIES[entity].fields
    props = page["properties"]
    return {f.column: from_property(f.kind, props[f.property]) for f in fields if f.property in props}


def sync_ports(
    rpc: FakeRpc, notion: FakeNotion, sources: dict[str, str], contents: dict[str, Any] | None = None
) -> Any:
    """The engine's ports over the fakes (the fake Notion has only the calls the sync rules make)."""
    from atelier.sync import SyncPorts

    notion.schemas = {source: schema_of(name) for name, source in sources.items()}
    return SyncPorts(rpc, cast(NotionPort, notion), sources, contents=contents or {})


def schema_of(entity: str) -> dict[str, Any]:
    """A data source's properties as Notion shows them, for an entity as the mapping declares it (ids = names)."""
    shown = {}
    for name, config in ENTITIES[entity].schema({}, seed_catalogue().names()).items():
        ((kind, detail),) = config.items()
        if kind == "status":
            detail = {"options": [{"id": n, "name": n} for n in ("Not started", "In progress", "Done")]}
        shown[name] = {"id": name, "name": name, "type": kind, kind: detail}
    return shown
