"""Two-way relations, as Notion keeps them: a relation made with `dual_property` gets a synced property on the
data source it points at, and every change to one side shows on the other (a milestone's Project lists the
milestone on the project page's synced property, and the reverse). Converting a one-way relation to two-way fills
the new side from the pages that already point across."""

from __future__ import annotations

from typing import Any

from atelier_local.notion_emulator.schema import empty_properties, property_id
from atelier_local.notion_emulator.state import NotionState


def pair(state: NotionState, source_id: str) -> None:
    """Give each two-way relation of a data source its synced property on the other side, once, and fill it."""
    source = state.data_sources[source_id]
    title = "".join(item.get("plain_text", "") for item in source.get("title") or [])
    for name, prop in list(source["properties"].items()):
        detail = prop.get("relation") or {}
        if detail.get("type") != "dual_property" or detail["dual_property"].get("synced_property_id"):
            continue
        target = state.data_sources[detail["data_source_id"]]
        wanted = str(detail["dual_property"].get("synced_property_name") or f"Related to {title} ({name})")
        while wanted in target["properties"]:
            wanted += " (2)"
        back = {"synced_property_id": prop["id"], "synced_property_name": name}
        reverse = {
            "id": property_id("relation"),
            "name": wanted,
            "description": None,
            "type": "relation",
            "relation": {
                "database_id": source["parent"]["database_id"],
                "data_source_id": source_id,
                "type": "dual_property",
                "dual_property": back,
            },
        }
        target["properties"][wanted] = reverse
        detail["dual_property"] = {"synced_property_id": reverse["id"], "synced_property_name": wanted}
        empty = empty_properties({wanted: reverse})[wanted]
        for page in state.pages.values():
            if page["parent"].get("data_source_id") == target["id"]:
                page["properties"][wanted] = {**empty, "relation": []}
        for page in state.pages.values():  # the pages that point across already
            if page["parent"].get("data_source_id") == source_id:
                for other in (page["properties"].get(name) or {}).get("relation") or []:
                    _add(state, str(other["id"]), wanted, page["id"])


def _add(state: NotionState, page_id: str, name: str, other: str) -> None:
    page = state.pages.get(page_id)
    if page is None or name not in page["properties"]:
        return
    items = page["properties"][name]["relation"]
    if all(item["id"] != other for item in items):
        items.append({"id": other})


def _remove(state: NotionState, page_id: str, name: str, other: str) -> None:
    page = state.pages.get(page_id)
    if page is not None and name in page["properties"]:
        page["properties"][name]["relation"] = [i for i in page["properties"][name]["relation"] if i["id"] != other]


def follow(state: NotionState, page: dict[str, Any], name: str, prop: dict[str, Any], before: list[str]) -> None:
    """A page's two-way relation changed from `before`: the pages it now points at list it, the others do not."""
    detail = prop.get("relation") or {}
    synced = (detail.get("dual_property") or {}).get("synced_property_name")
    if detail.get("type") != "dual_property" or not synced:
        return
    after = [str(item["id"]) for item in page["properties"][name]["relation"]]
    for gone in set(before) - set(after):
        _remove(state, gone, synced, page["id"])
    for added in after:
        _add(state, added, synced, page["id"])
