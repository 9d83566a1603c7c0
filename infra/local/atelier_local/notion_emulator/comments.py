"""Comments on pages: create one (a new discussion) and list a page's, oldest first, 100 a page at most. As Notion
does, the rich text keeps to the size limits and the page must exist (and not be in the trash)."""

from __future__ import annotations

from typing import Any

from atelier_local.notion_emulator.state import PERSON_ID, PERSON_NAME, ApiError, NotionState, new_id, norm

MAX_TEXT = 2000
MAX_ITEMS = 100


def _page(state: NotionState, page_id: Any) -> dict[str, Any]:
    found = state.pages.get(norm(str(page_id)))
    if found is None:
        raise ApiError(404, "object_not_found", f"Could not find page with ID: {page_id}.")
    return found


def create(state: NotionState, body: dict[str, Any], actor: str) -> dict[str, Any]:
    parent = body.get("parent") or {}
    page = _page(state, parent.get("page_id"))
    if page.get("in_trash"):
        raise ApiError(400, "validation_error", "Can't comment on a page that is in the trash.")
    items = body.get("rich_text")
    if not isinstance(items, list) or not items or len(items) > MAX_ITEMS:
        raise ApiError(400, "validation_error", f"body.rich_text should be 1 to {MAX_ITEMS} items.")
    texts = [str((item.get("text") or {}).get("content") or "") for item in items]
    if any(len(text) > MAX_TEXT for text in texts):
        raise ApiError(400, "validation_error", f"body.rich_text[].text.content.length should be at most {MAX_TEXT}.")
    rich = state.rich(texts)
    for i, item in enumerate(items):  # a mention of a person reads as their name, as Notion shows it
        user = ((item.get("mention") or {}).get("user") or {}).get("id")
        if item.get("type") == "mention" and user:
            name = PERSON_NAME if norm(str(user)) == norm(PERSON_ID) else "someone"
            rich[i] = rich[i] | {
                "type": "mention",
                "mention": {"type": "user", "user": {"object": "user", "id": str(user)}},
                "plain_text": f"@{name}",
            }
            rich[i].pop("text", None)
    stamp = state.stamp()
    comment = {
        "object": "comment",
        "id": new_id(),
        "parent": {"type": "page_id", "page_id": page["id"]},
        "discussion_id": new_id(),
        "created_time": stamp,
        "last_edited_time": stamp,
        "created_by": state.user_ref(actor),
        "rich_text": rich,
        "display_name": {
            "type": "user" if actor == PERSON_ID else "integration",
            "resolved_name": PERSON_NAME if actor == PERSON_ID else "Atelier",
        },
    }
    state.comments.setdefault(page["id"], []).append(comment)
    return comment


def listing(state: NotionState, params: dict[str, str]) -> dict[str, Any]:
    page = _page(state, params.get("block_id"))
    try:
        size = min(max(int(params.get("page_size") or 100), 1), 100)
    except ValueError:
        raise ApiError(400, "validation_error", "page_size should be a number from 1 to 100.") from None
    comments = state.comments.get(page["id"], [])
    start = next((i for i, c in enumerate(comments) if c["id"] == params.get("start_cursor")), 0)
    more = start + size < len(comments)
    return {
        "object": "list",
        "results": comments[start : start + size],
        "next_cursor": comments[start + size]["id"] if more else None,
        "has_more": more,
        "type": "comment",
        "comment": {},
    }
