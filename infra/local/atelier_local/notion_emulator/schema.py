"""Property schemas and values as Notion checks them: one type per property, one title, option names
without commas, rich text within 2,000 characters and arrays within 100 items, relations to data sources."""

from __future__ import annotations

import copy
import random
import string
import uuid
from typing import Any
from urllib.parse import quote

from atelier_local.notion_emulator.state import ApiError, NotionState, new_id, norm

RICH_TEXT_LIMIT = 2000
ARRAY_LIMIT = 100
PROPERTY_TYPES = {
    "title",
    "rich_text",
    "number",
    "select",
    "multi_select",
    "status",
    "date",
    "people",
    "files",
    "checkbox",
    "url",
    "email",
    "phone_number",
    "relation",
    "created_time",
    "last_edited_time",
}
STATUS_DEFAULT_OPTIONS = [
    ("Not started", "default", "to_do"),
    ("In progress", "blue", "in_progress"),
    ("Done", "green", "complete"),
]


def check_schema(state: NotionState, properties: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = {}
    titles = 0
    for name, config in properties.items():
        if config is None:
            continue
        kinds = [k for k in config if k in PROPERTY_TYPES]
        if len(kinds) != 1:
            raise ApiError(400, "validation_error", f"Property {name!r} needs exactly one known type.")
        kind = kinds[0]
        titles += kind == "title"
        detail = dict(config[kind] or {})
        if kind in ("select", "status", "multi_select"):
            options = detail.get("options") or []
            for option in options:
                if "," in str(option.get("name", "")):
                    raise ApiError(400, "validation_error", f"Select option names cannot contain commas: {option}")
            if kind == "status" and not options:
                options = [{"name": n, "color": c} for n, c, _ in STATUS_DEFAULT_OPTIONS]
            elif kind == "status":
                raise ApiError(400, "validation_error", "Status options cannot be set through the API.")
            detail["options"] = options = [
                {
                    "id": o.get("id") or new_id()[:8],
                    "name": o["name"],
                    "color": o.get("color", "default"),
                    "description": None,
                }
                for o in options
            ]
            if kind == "status":
                ids = [o["id"] for o in options]
                detail["groups"] = [
                    {"id": new_id()[:8], "name": group, "color": color, "option_ids": [ids[i]]}
                    for i, (group, color) in enumerate(
                        (("To-do", "gray"), ("In progress", "blue"), ("Complete", "green"))
                    )
                ]
        if kind == "number":
            detail.setdefault("format", "number")
        if kind == "relation":
            target = norm(str(detail.get("data_source_id", "")))
            if target not in state.data_sources:
                raise ApiError(400, "validation_error", f"Relation {name!r} points at no data source.")
            database_id = state.data_sources[target]["parent"]["database_id"]
            dual = detail.get("dual_property")
            detail = {"database_id": database_id, "data_source_id": target} | (
                {
                    "type": "dual_property",
                    "dual_property": {"synced_property_name": str((dual or {}).get("synced_property_name") or "")},
                }
                if isinstance(dual, dict)
                else {"type": "single_property", "single_property": {}}
            )
        schema[name] = {"id": property_id(kind), "name": name, "description": None, "type": kind, kind: detail}
    if titles != 1:
        raise ApiError(400, "validation_error", "A data source needs exactly one title property.")
    return schema


def property_id(kind: str) -> str:
    """A new property's id as Notion makes them: "title" for the title, else a few characters, URL-encoded
    (so "%3AUPp" and the like: a client must send an id back exactly as it was given)."""
    if kind == "title":
        return "title"
    return quote("".join(random.choices(string.ascii_letters + string.digits + ":;<=>@[]^`{|}", k=4)), safe="")  # noqa: S311


def check_value(state: NotionState, name: str, kind: str, value: Any, prop: dict[str, Any] | None = None) -> Any:
    if kind in ("title", "rich_text"):
        items = value or []
        if len(items) > ARRAY_LIMIT:
            raise ApiError(400, "validation_error", f"{name}: at most {ARRAY_LIMIT} rich text items.")
        texts, links, styles = [], [], []
        for item in items:
            text = item.get("text") or {}
            content = str(text.get("content", ""))
            if len(content) > RICH_TEXT_LIMIT:
                raise ApiError(
                    400,
                    "validation_error",
                    f"{name}: text content length should be <= {RICH_TEXT_LIMIT}, got {len(content)}.",
                )
            texts.append(content)
            links.append(str((text.get("link") or {}).get("url") or "") or None)
            styles.append(item.get("annotations"))
        return state.rich(texts, links, styles)
    if kind in ("select", "status"):
        if value is None:
            return None
        if "," in str(value.get("name", "")):
            raise ApiError(400, "validation_error", f"{name}: select option names cannot contain commas.")
        options = ((prop or {}).get(kind) or {}).setdefault("options", []) if prop is not None else None
        if options is None:
            return {"id": uuid.uuid4().hex[:8], "name": value.get("name"), "color": "default"}
        option = next((o for o in options if o["name"] == value.get("name")), None)
        if option is None and kind == "status":
            raise ApiError(400, "validation_error", f"Invalid status option {value.get('name')!r} for {name}.")
        if option is None:  # Notion adds a select option the first time a value uses it
            option = {"id": new_id()[:8], "name": value.get("name"), "color": "default", "description": None}
            options.append(option)
        return {"id": option["id"], "name": option["name"], "color": option["color"]}
    if kind == "multi_select":
        if len(value or []) > ARRAY_LIMIT:
            raise ApiError(400, "validation_error", f"{name}: at most {ARRAY_LIMIT} options.")
        return [
            check_value(state, name, "select", {"name": item.get("name")}, _as_select(prop)) for item in value or []
        ]
    if kind == "relation":
        if len(value or []) > ARRAY_LIMIT:
            raise ApiError(400, "validation_error", f"{name}: at most {ARRAY_LIMIT} relations.")
        return [{"id": norm(str(r["id"]))} for r in value or []]
    if kind == "files":
        from atelier_local.notion_emulator.files import hosted

        if len(value or []) > ARRAY_LIMIT:
            raise ApiError(400, "validation_error", f"{name}: at most {ARRAY_LIMIT} files.")
        return [hosted(state, dict(entry), state.files_url, state.file_url_seconds) for entry in value or []]
    if kind == "date" and value is not None:
        return {"start": value.get("start"), "end": value.get("end"), "time_zone": value.get("time_zone")}
    return value


def _as_select(prop: dict[str, Any] | None) -> dict[str, Any] | None:
    """A multi-select property's options, as `check_value` reads a select's (the same list, so new names stay)."""
    if prop is None:
        return None
    return {"select": prop.setdefault("multi_select", {})}


def set_properties(
    state: NotionState, page: dict[str, Any], values: dict[str, Any], schema: dict[str, Any] | None
) -> None:
    for key, value in values.items():
        if schema is None:
            if key != "title":
                raise ApiError(400, "validation_error", f"{key} is not a property that exists.")
            page["properties"]["title"] = {
                "id": "title",
                "type": "title",
                "title": check_value(state, key, "title", value.get("title")),
            }
            continue
        name = next((n for n, p in schema.items() if p["id"] == key or n == key), None)
        if name is None:
            raise ApiError(400, "validation_error", f"{key} is not a property that exists.")
        kind = schema[name]["type"]
        if kind not in value:
            raise ApiError(400, "validation_error", f"{name} is expected to be {kind}.")
        before = [str(i["id"]) for i in (page["properties"].get(name) or {}).get("relation") or []]
        page["properties"][name] = {
            "id": schema[name]["id"],
            "type": kind,
            kind: check_value(state, name, kind, value[kind], schema[name]),
        }
        if kind == "relation":
            from atelier_local.notion_emulator.relations import follow

            follow(state, page, name, schema[name], before)


def empty_properties(schema: dict[str, Any]) -> dict[str, Any]:
    empty: dict[str, Any] = {
        "title": [],
        "rich_text": [],
        "number": None,
        "select": None,
        "status": None,
        "date": None,
        "checkbox": False,
        "url": None,
        "email": None,
        "relation": [],
        "files": [],
        "people": [],
        "multi_select": [],
        "phone_number": None,
    }
    # A list of its own for each property: a two-way relation's other side is appended to in place.
    return {
        n: {"id": p["id"], "type": p["type"], p["type"]: copy.deepcopy(empty.get(p["type"]))} for n, p in schema.items()
    }
