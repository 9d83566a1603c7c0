"""Views (API 2025-09-03): a data source's saved tables, boards, calendars, timelines, galleries and charts.

Create, list (by database or data source, paginated), retrieve, update and delete, with Notion's checks: the data
source exists, the type is one Notion has, a configuration is of the view's type, and every property a
configuration names exists in the data source with a type that can do what is asked of it (a board groups by a
select or status, a calendar or timeline needs a date, a chart's sum needs a number)."""

from __future__ import annotations

from typing import Any

from atelier_local.notion_emulator.query import data_source
from atelier_local.notion_emulator.state import ApiError, NotionState, new_id, norm

TYPES = ("table", "board", "list", "calendar", "timeline", "gallery", "form", "chart", "map", "dashboard")
GROUPABLE = {
    "select": {"select", "multi_select"},
    "multi_select": {"select", "multi_select"},
    "status": {"status"},
    "date": {"date"},
    "created_time": {"created_time"},
    "last_edited_time": {"last_edited_time"},
    "checkbox": {"checkbox"},
    "number": {"number"},
    "relation": {"relation"},
    "text": {"title", "rich_text"},
    "person": {"people"},
    "created_by": {"created_by"},
    "last_edited_by": {"last_edited_by"},
    "formula": {"formula"},
}
NUMERIC_AGGREGATORS = {"sum", "average", "median", "min", "max", "range"}
MAX_NAME = 200


def _invalid(message: str) -> ApiError:
    return ApiError(400, "validation_error", message)


def _view(state: NotionState, view_id: str) -> dict[str, Any]:
    found = state.views.get(norm(view_id))
    if found is None:
        raise ApiError(404, "object_not_found", f"Could not find view with ID: {view_id}.")
    return found


class _Checked:
    """A view's configuration checked against its data source's schema, with each property's name filled in as
    Notion answers it."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.by_id = {str(p.get("id")): (name, str(p.get("type"))) for name, p in schema.items()}

    def property(self, property_id: Any, where: str, kinds: set[str]) -> str:
        if not isinstance(property_id, str) or property_id not in self.by_id:
            raise _invalid(f"{where}: no property with id {property_id!r} in this data source.")
        name, kind = self.by_id[property_id]
        if kinds and kind not in kinds:
            raise _invalid(f"{where}: property {name!r} is a {kind}, not one of {sorted(kinds)}.")
        return name

    def group_by(self, group: Any, where: str) -> dict[str, Any]:
        if not isinstance(group, dict) or group.get("type") not in GROUPABLE:
            raise _invalid(f"{where}.type should be one of {sorted(GROUPABLE)}.")
        if not isinstance(group.get("sort"), dict) or group["sort"].get("type") not in (
            "manual",
            "ascending",
            "descending",
        ):
            raise _invalid(f"{where}.sort should be {{type: manual | ascending | descending}}.")
        if group["type"] in ("date", "created_time", "last_edited_time") and group.get("group_by") not in (
            "relative",
            "day",
            "week",
            "month",
            "year",
        ):
            raise _invalid(f"{where}.group_by should be one of relative, day, week, month, year.")
        if group["type"] == "status" and group.get("group_by") not in ("group", "option"):
            raise _invalid(f"{where}.group_by should be group or option.")
        name = self.property(group.get("property_id"), f"{where}.property_id", GROUPABLE[group["type"]])
        return dict(group) | {"property_name": name}

    def configuration(self, view_type: str, config: Any) -> dict[str, Any] | None:
        if config is None:
            return None
        if not isinstance(config, dict) or config.get("type") != view_type:
            raise _invalid(f"configuration.type should be {view_type!r}, the view's type.")
        out = dict(config)
        if view_type == "board":
            out["group_by"] = self.group_by(config.get("group_by"), "configuration.group_by")
            if config.get("sub_group_by") is not None:
                out["sub_group_by"] = self.group_by(config["sub_group_by"], "configuration.sub_group_by")
        elif view_type in ("calendar", "timeline"):
            name = self.property(
                config.get("date_property_id"),
                "configuration.date_property_id",
                {"date", "created_time", "last_edited_time"},
            )
            out["date_property_name"] = name
            if view_type == "timeline" and config.get("end_date_property_id") is not None:
                self.property(config["end_date_property_id"], "configuration.end_date_property_id", {"date"})
        elif view_type == "chart":
            if config.get("chart_type") not in ("column", "bar", "line", "donut", "number"):
                raise _invalid("configuration.chart_type should be one of column, bar, line, donut, number.")
            if config.get("x_axis") is not None:
                out["x_axis"] = self.group_by(config["x_axis"], "configuration.x_axis")
            for key in ("y_axis", "value"):
                aggregation = config.get(key)
                if aggregation is None:
                    continue
                if not isinstance(aggregation, dict) or not isinstance(aggregation.get("aggregator"), str):
                    raise _invalid(f"configuration.{key} should be {{aggregator, property_id?}}.")
                if aggregation["aggregator"] in NUMERIC_AGGREGATORS:
                    self.property(aggregation.get("property_id"), f"configuration.{key}.property_id", {"number"})
                elif aggregation.get("property_id") is not None:
                    self.property(aggregation["property_id"], f"configuration.{key}.property_id", set())
        return out


def create(state: NotionState, body: dict[str, Any], actor: str) -> dict[str, Any]:
    source_id = body.get("data_source_id")
    if not isinstance(source_id, str):
        raise _invalid("body.data_source_id should be a string.")
    source = data_source(state, norm(source_id))
    name, view_type = body.get("name"), body.get("type")
    if not isinstance(name, str) or not 0 < len(name) <= MAX_NAME:
        raise _invalid(f"body.name should be a string of 1 to {MAX_NAME} characters.")
    if view_type not in TYPES:
        raise _invalid(f"body.type should be one of {', '.join(TYPES)}.")
    configuration = _Checked(source["properties"]).configuration(view_type, body.get("configuration"))
    view_id, stamp = new_id(), state.stamp()
    database_id = str(source["parent"]["database_id"])
    view = {
        "object": "view",
        "id": view_id,
        "parent": {"type": "database_id", "database_id": database_id},
        "name": name,
        "type": view_type,
        "created_time": stamp,
        "last_edited_time": stamp,
        "url": f"https://www.notion.so/{database_id.replace('-', '')}?v={view_id.replace('-', '')}",
        "data_source_id": source["id"],
        "created_by": state.user_ref(actor),
        "last_edited_by": state.user_ref(actor),
        "filter": body.get("filter"),
        "sorts": body.get("sorts"),
        "configuration": configuration,
    }
    state.views[view_id] = view
    return view


def listing(state: NotionState, params: dict[str, str]) -> dict[str, Any]:
    """The views of a database or a data source, as references, oldest first, 100 a page at most."""
    database_id, source_id = params.get("database_id"), params.get("data_source_id")
    if bool(database_id) == bool(source_id):
        raise _invalid("give one of database_id or data_source_id.")
    if source_id:
        data_source(state, norm(source_id))
    elif norm(str(database_id)) not in state.databases:
        raise ApiError(404, "object_not_found", f"Could not find database with ID: {database_id}.")
    try:
        size = min(max(int(params.get("page_size") or 100), 1), 100)
    except ValueError:
        raise _invalid("page_size should be a number from 1 to 100.") from None
    views = [
        v
        for v in state.views.values()
        if (source_id and v["data_source_id"] == norm(source_id))
        or (database_id and v["parent"]["database_id"] == norm(str(database_id)))
    ]
    start = next((i for i, v in enumerate(views) if v["id"] == params.get("start_cursor")), 0)
    page = views[start : start + size]
    more = start + size < len(views)
    return {
        "object": "list",
        "results": [{"object": "view", "id": v["id"]} for v in page],
        "next_cursor": views[start + size]["id"] if more else None,
        "has_more": more,
        "type": "view",
        "view": {},
    }


def retrieve(state: NotionState, view_id: str) -> dict[str, Any]:
    return _view(state, view_id)


def update(state: NotionState, view_id: str, body: dict[str, Any], actor: str) -> dict[str, Any]:
    view = _view(state, view_id)
    if "name" in body:
        if not isinstance(body["name"], str) or not 0 < len(body["name"]) <= MAX_NAME:
            raise _invalid(f"body.name should be a string of 1 to {MAX_NAME} characters.")
        view["name"] = body["name"]
    if "configuration" in body:
        source = data_source(state, view["data_source_id"])
        view["configuration"] = _Checked(source["properties"]).configuration(view["type"], body["configuration"])
    for key in ("filter", "sorts", "quick_filters"):
        if key in body:
            view[key] = body[key]
    view.update(last_edited_time=state.stamp(), last_edited_by=state.user_ref(actor))
    return view


def delete(state: NotionState, view_id: str) -> dict[str, Any]:
    view = _view(state, view_id)
    del state.views[view["id"]]
    return {"object": "view", "id": view["id"], "parent": view["parent"], "type": view["type"]}
