"""Reading many: the query filter language (and/or, timestamps, properties), sorts, search, and cursors."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from atelier_local.notion_emulator.state import ApiError, NotionState, norm


def data_source(state: NotionState, data_source_id: str) -> dict[str, Any]:
    if data_source_id not in state.data_sources:
        raise ApiError(404, "object_not_found", f"Could not find data_source with ID: {data_source_id}.")
    return state.data_sources[data_source_id]


def paginate(items: list[dict[str, Any]], cursor: str | None, page_size: Any) -> dict[str, Any]:
    try:
        size = int(page_size or 100)
    except (TypeError, ValueError):
        raise ApiError(400, "validation_error", "page_size should be a number.") from None
    if not 1 <= size <= 100:
        raise ApiError(400, "validation_error", f"page_size should be <= 100 and >= 1, instead was {size}.")
    start = 0
    if cursor:
        ids = [i["id"] for i in items]
        if cursor not in ids:
            raise ApiError(400, "validation_error", "start_cursor is not valid.")
        start = ids.index(cursor)
    page = items[start : start + size]
    more = start + size < len(items)
    return {
        "object": "list",
        "results": page,
        "has_more": more,
        "next_cursor": items[start + size]["id"] if more else None,
    }


def matches(page: dict[str, Any], condition: dict[str, Any], schema: dict[str, Any]) -> bool:
    if "and" in condition:
        return all(matches(page, c, schema) for c in condition["and"])
    if "or" in condition:
        return any(matches(page, c, schema) for c in condition["or"])
    if condition.get("timestamp") in ("last_edited_time", "created_time"):
        stamp = page[condition["timestamp"]]
        test = condition[condition["timestamp"]]
        return compare_date(stamp, test)
    key = condition.get("property")
    name = next((n for n, p in schema.items() if p.get("id") == key), key)  # a property's name or its id
    prop = page["properties"].get(name) if name else None
    if name not in schema or prop is None:
        raise ApiError(400, "validation_error", f"Could not find property with name or id: {key}.")
    kind = prop["type"]
    test = condition.get(kind) or condition.get({"title": "rich_text"}.get(kind, kind)) or {}
    value = prop[kind]
    if kind in ("title", "rich_text"):
        text = "".join(item.get("plain_text", "") for item in value or [])
        return (
            ("equals" not in test or text == test["equals"])
            and ("contains" not in test or test["contains"] in text)
            and ("is_empty" not in test or not text)
        )
    if kind in ("select", "status"):
        name_ = (value or {}).get("name")
        return ("equals" not in test or name_ == test["equals"]) and ("is_empty" not in test or name_ is None)
    if kind == "multi_select":
        names = [item.get("name") for item in value or []]
        return (
            ("contains" not in test or test["contains"] in names)
            and ("does_not_contain" not in test or test["does_not_contain"] not in names)
            and ("is_empty" not in test or not names)
        )
    if kind == "date":
        return value is not None and compare_date(value["start"], test)
    if kind == "relation":
        ids = [r["id"] for r in value or []]
        return "contains" not in test or norm(test["contains"]) in ids
    return "equals" not in test or value == test["equals"]


def compare_date(stamp: str, test: dict[str, Any]) -> bool:
    def parse(text: str) -> datetime:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

    value = parse(stamp)
    checks: dict[str, Callable[[datetime], bool]] = {
        "on_or_after": lambda o: value >= o,
        "after": lambda o: value > o,
        "before": lambda o: value < o,
        "on_or_before": lambda o: value <= o,
        "equals": lambda o: value == o,
    }
    return all(check(parse(str(test[key]))) for key, check in checks.items() if key in test)


def query(state: NotionState, data_source_id: str, body: dict[str, Any], *, limit: int) -> dict[str, Any]:
    """A data source's pages: filtered, sorted, paged; past `limit` results Notion stops and says so."""
    source = data_source(state, data_source_id)
    pages = [
        p
        for p in state.pages.values()
        if p["parent"].get("data_source_id") == data_source_id and (body.get("in_trash") or not p["in_trash"])
    ]
    if body.get("filter"):
        pages = [p for p in pages if matches(p, body["filter"], source["properties"])]
    for sort in reversed(body.get("sorts") or []):
        key = sort.get("timestamp") or sort.get("property")
        pages.sort(
            key=lambda p, k=key: str(p.get(k) or p["properties"].get(k, {})),  # type: ignore[misc]
            reverse=sort.get("direction") == "descending",
        )
    result = paginate(pages[:limit], body.get("start_cursor"), body.get("page_size"))
    if len(pages) > limit and not result["has_more"]:
        # Notion stops at 10,000 results and says so, rather than paging on.
        result["request_status"] = {"type": "incomplete", "incomplete_reason": "query_result_limit_reached"}
    return result | {"type": "page_or_data_source", "page_or_data_source": {}}


def search(state: NotionState, body: dict[str, Any]) -> dict[str, Any]:
    text = str(body.get("query") or "").lower()
    wanted = (body.get("filter") or {}).get("value")
    items: list[dict[str, Any]] = []
    if wanted in (None, "data_source"):
        items += [
            d for d in state.data_sources.values() if text in "".join(t["plain_text"] for t in d["title"]).lower()
        ]
    if wanted in (None, "page"):
        for page in state.pages.values():
            title: list[dict[str, Any]] = next(
                (p["title"] for p in page["properties"].values() if p["type"] == "title"), []
            )
            if not page["in_trash"] and text in "".join(t.get("plain_text", "") for t in title).lower():
                items.append(page)
    return paginate(items, body.get("start_cursor"), body.get("page_size")) | {
        "type": "page_or_data_source",
        "page_or_data_source": {},
    }
