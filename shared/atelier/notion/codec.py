"""Values as Notion holds them: rich text in chunks, plain text back, dates, select names within Notion's
limits, and one converter pair per property type. The mapping (`sync.mapping`) says which property is which."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

RICH_TEXT_CHUNK = 2000
RICH_TEXT_ITEMS = 100
SELECT_NAME_MAX = 100

ATELIER_ID = "Atelier ID"
LAST_SYNCED = "Last Synced"

# A data source's property ids, by the mapping's name for each property (its key). Notion keeps a property's id
# when the team renames it, so every read and write goes by id; a key with no id known yet goes by its name.
Ids = Mapping[str, str]
NO_IDS: Ids = {}


def key_of(ids: Ids, key: str) -> str:
    """What to send for a property: its id when known, else its name."""
    return ids.get(key, key)


def find_property(page: dict[str, Any], key: str, ids: Ids = NO_IDS) -> dict[str, Any] | None:
    """A page's value for one mapped property: by id (the team may have renamed it), else by name."""
    props = page.get("properties") or {}
    property_id = ids.get(key)
    if property_id is None:
        found = props.get(key)
        return found if isinstance(found, dict) else None
    return next((p for p in props.values() if isinstance(p, dict) and p.get("id") == property_id), None)


def rich_text(text: str | None) -> list[dict[str, Any]]:
    """Text as Notion's rich text: 2,000-character chunks, at most 100 of them."""
    if not text:
        return []
    chunks = [text[i : i + RICH_TEXT_CHUNK] for i in range(0, len(text), RICH_TEXT_CHUNK)][:RICH_TEXT_ITEMS]
    return [{"type": "text", "text": {"content": chunk}} for chunk in chunks]


def plain_text(items: list[dict[str, Any]] | None) -> str | None:
    if not items:
        return None
    return "".join(str(item.get("plain_text") or (item.get("text") or {}).get("content") or "") for item in items)


def atelier_id_value(ids: Ids, entity: str, record_id: str) -> dict[str, Any]:
    """The "Atelier ID" a page is given: which record it stands for ("project:<id>")."""
    return {key_of(ids, ATELIER_ID): {"rich_text": rich_text(f"{entity}:{record_id}")}}


def last_synced_value(ids: Ids, moment: datetime) -> dict[str, Any]:
    """The "Last Synced" a write carries."""
    return {key_of(ids, LAST_SYNCED): {"date": {"start": moment.isoformat()}}}


def unlinked_filter(ids: Ids) -> dict[str, Any]:
    """The query filter for pages with no Atelier ID: the ones the team made."""
    return {"property": key_of(ids, ATELIER_ID), "rich_text": {"is_empty": True}}


def select_name(value: str) -> str:
    """Notion refuses commas in select option names, and caps their length."""
    return " ".join(value.replace(",", " ").split())[:SELECT_NAME_MAX]


def _date_to_notion(value: date | datetime | str | None) -> dict[str, Any] | None:
    """A date, a datetime, or an ISO string as Postgres' JSON gives them."""
    if value is None or value == "":
        return None
    return {"start": value if isinstance(value, str) else value.isoformat()}


def _date_from_notion(value: dict[str, Any] | None) -> date | datetime | None:
    if not value or not value.get("start"):
        return None
    start = str(value["start"])
    return date.fromisoformat(start) if len(start) == 10 else datetime.fromisoformat(start.replace("Z", "+00:00"))


def _number(value: Any) -> Any:
    """A whole number as an int (Postgres' 60000.00 and a person's 60000 are one value, with one hash)."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


@dataclass(frozen=True)
class PropertyType:
    """How one Notion property type is written, read, and declared in a data source's schema."""

    name: str
    to_notion: Callable[[Any], Any]
    from_notion: Callable[[Any], Any]


TYPES: dict[str, PropertyType] = {
    "title": PropertyType("title", rich_text, plain_text),
    "rich_text": PropertyType("rich_text", rich_text, plain_text),
    "number": PropertyType("number", _number, _number),
    "select": PropertyType(
        "select",
        lambda v: None if v is None else {"name": select_name(str(v))},
        lambda v: None if not v else v.get("name"),
    ),
    "status": PropertyType(
        "status", lambda v: None if v is None else {"name": str(v)}, lambda v: None if not v else v.get("name")
    ),
    "multi_select": PropertyType(
        "multi_select",
        lambda v: [{"name": select_name(str(x))} for x in (v or [])],
        lambda v: [str(item.get("name")) for item in (v or [])],
    ),
    "checkbox": PropertyType("checkbox", bool, bool),
    "date": PropertyType("date", _date_to_notion, _date_from_notion),
    "url": PropertyType("url", lambda v: v or None, lambda v: v or None),
    "email": PropertyType("email", lambda v: v or None, lambda v: v or None),
    "phone_number": PropertyType("phone_number", lambda v: v or None, lambda v: v or None),
    "relation": PropertyType(
        "relation", lambda ids: [{"id": i} for i in (ids or [])], lambda v: [str(item["id"]) for item in (v or [])]
    ),
    # Atelier's link as the one external file; a file a person drops in beside it is read by `dropped_files`.
    "files": PropertyType(
        "files",
        lambda url: [{"name": "Download", "type": "external", "external": {"url": url}}] if url else [],
        lambda v: next(
            (str(f["external"]["url"]) for f in (v or []) if isinstance(f, dict) and f.get("type") == "external"),
            None,
        ),
    ),
    "people": PropertyType(
        "people",
        lambda ids: [{"object": "user", "id": i} for i in (ids or [])],
        lambda v: [str(item["id"]) for item in (v or []) if isinstance(item, dict) and item.get("id")],
    ),
}


def to_property(kind: str, value: Any) -> dict[str, Any]:
    return {kind: TYPES[kind].to_notion(value)}


def from_property(kind: str, prop: dict[str, Any]) -> Any:
    return TYPES[kind].from_notion(prop.get(kind))


def dropped_files(prop: dict[str, Any] | None) -> list[dict[str, str]]:
    """The files a person dropped into a files property (Notion keeps them; their URLs expire within the hour):
    each one's name, URL, and a key that stays the same when Notion signs its URL afresh."""
    out = []
    for item in (prop or {}).get("files") or []:
        if isinstance(item, dict) and item.get("type") == "file" and (item.get("file") or {}).get("url"):
            url = str(item["file"]["url"])
            out.append({"name": str(item.get("name") or "file"), "url": url, "key": url.split("?", 1)[0]})
    return out
