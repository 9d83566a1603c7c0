"""A project page's content below what Atelier writes: the team's brief and notes, read back into Postgres as
Markdown when the page changes. The blocks a person made are the team's (Atelier's own, the Brief and the History,
were made by its integration); what sits under a heading called "Internal" stays the team's, and the rest is shown
to the client in the portal under "From the studio"."""

from __future__ import annotations

import re
from typing import Any

from atelier.sync.blocks import is_heading, text_of, to_markdown
from atelier.sync.records import SyncPorts, short_hash

INTERNAL = re.compile(r"^\s*internal\s*[:.]?\s*$", re.IGNORECASE)


def author_of(ports: SyncPorts, page: dict[str, Any], bot_id: str, deadline: float | None) -> dict[str, str] | None:
    """Who last edited a page, when it was a person: their Notion user id and name (None for our integration)."""
    user_id = str((page.get("last_edited_by") or {}).get("id") or "")
    if not user_id or user_id == bot_id:
        return None
    return {"id": user_id, "name": ports.notion.user_name(user_id, deadline=deadline) or "a Notion user"}


def team_part(blocks: list[dict[str, Any]], bot_id: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The blocks a person made, and of those the ones the client may see (all but an "Internal" section, which
    runs to the next heading of its level or above)."""
    team = [b for b in blocks if (b.get("created_by") or {}).get("id") != bot_id and not b.get("in_trash")]
    shown: list[dict[str, Any]] = []
    hidden_from: int | None = None
    for b in team:
        if is_heading(b):
            level = int(str(b["type"])[-1])
            if hidden_from is not None and level <= hidden_from:
                hidden_from = None
            if INTERNAL.match(text_of(b)):
                hidden_from = level
                continue
        if hidden_from is None:
            shown.append(b)
    return team, shown


def read_notes(
    ports: SyncPorts,
    project_id: str,
    page: dict[str, Any],
    bot_id: str,
    *,
    deadline: float | None = None,
) -> bool:
    """Read a project page's content and keep the team's part; True when it changed."""
    team, shown = team_part(ports.notion.list_blocks(str(page["id"]), deadline=deadline), bot_id)
    markdown = to_markdown(team)
    result = ports.rpc.rpc(
        "record_project_notes",
        p_project_id=project_id,
        p_markdown=markdown,
        p_public=to_markdown(shown),
        p_hash=short_hash(markdown),
        p_author=author_of(ports, page, bot_id, deadline),
    )
    return bool((result or {}).get("changed"))
