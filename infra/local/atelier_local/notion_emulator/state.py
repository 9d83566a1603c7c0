"""The emulator's state: every database, data source, page, block and upload, and Notion's id and time rules."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

BOT_ID = "a1b2c3d4-0000-4000-8000-00000000b07a"
PERSON_ID = "a1b2c3d4-0000-4000-8000-0000000ea5ed"
PERSON_NAME = "Studio Team"  # the person the human token acts as


class ApiError(Exception):
    """An answer in Notion's error shape: status, code and message (and headers such as Retry-After)."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


def new_id() -> str:
    return str(uuid.uuid4())


def norm(object_id: str) -> str:
    """Notion accepts ids with or without dashes."""
    raw = object_id.replace("-", "")
    return str(uuid.UUID(raw)) if re.fullmatch(r"[0-9a-fA-F]{32}", raw) else object_id


@dataclass
class NotionState:
    bot_token: str
    human_token: str
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    pages: dict[str, dict[str, Any]] = field(default_factory=dict)
    databases: dict[str, dict[str, Any]] = field(default_factory=dict)
    data_sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    blocks: dict[str, dict[str, Any]] = field(default_factory=dict)
    children: dict[str, list[str]] = field(default_factory=dict)
    uploads: dict[str, dict[str, Any]] = field(default_factory=dict)
    views: dict[str, dict[str, Any]] = field(default_factory=dict)
    comments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # by page id, oldest first
    parent_page_id: str = ""
    files_url: str = ""  # where hosted files are served (the emulator's own address)
    file_url_seconds: float = 3600.0  # how long a hosted file's URL is good for

    def __post_init__(self) -> None:
        if not self.parent_page_id:
            self.parent_page_id = new_id()
            stamp = self.stamp()
            self.pages[self.parent_page_id] = {
                "object": "page",
                "id": self.parent_page_id,
                "created_time": stamp,
                "last_edited_time": stamp,
                "created_by": self.user_ref(PERSON_ID),
                "last_edited_by": self.user_ref(PERSON_ID),
                "parent": {"type": "workspace", "workspace": True},
                "in_trash": False,
                "archived": False,
                "icon": None,
                "cover": None,
                "public_url": None,
                "properties": {"title": {"id": "title", "type": "title", "title": self.rich(["Atelier"])}},
                "url": f"https://www.notion.so/{self.parent_page_id.replace('-', '')}",
            }
            self.children[self.parent_page_id] = []

    def stamp(self) -> str:
        """Notion rounds last_edited_time down to the minute."""
        return self.clock().replace(second=0, microsecond=0).strftime("%Y-%m-%dT%H:%M:00.000Z")

    @staticmethod
    def user_ref(user_id: str) -> dict[str, Any]:
        return {"object": "user", "id": user_id}

    @staticmethod
    def rich(
        texts: list[str], links: list[str | None] | None = None, annotations: list[dict[str, Any] | None] | None = None
    ) -> list[dict[str, Any]]:
        """Rich text as Notion answers it: each item with its link (and `href`), plain text and annotations."""
        items = []
        for i, text in enumerate(texts):
            url = links[i] if links else None
            given = (annotations[i] if annotations else None) or {}
            items.append(
                {
                    "type": "text",
                    "text": {"content": text, "link": {"url": url} if url else None},
                    "plain_text": text,
                    "href": url,
                    "annotations": {
                        key: bool(given.get(key, False))
                        for key in ("bold", "italic", "strikethrough", "underline", "code")
                    }
                    | {"color": str(given.get("color") or "default")},
                }
            )
        return items
