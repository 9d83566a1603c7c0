"""The one paginator: every Notion list call (query, block children, search) follows `next_cursor` here."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

# One page of a list: given the cursor to start at (None for the first), Notion's list object.
FetchPage = Callable[[str | None], dict[str, Any]]


class CursorPaginator:
    """Follows `has_more` / `next_cursor` until the list ends; `last` keeps the final list object, so a caller
    can read what Notion said about the whole list (`request_status` on a query that stopped early)."""

    def __init__(self, fetch: FetchPage) -> None:
        self._fetch = fetch
        self.last: dict[str, Any] = {}

    def __iter__(self) -> Iterator[dict[str, Any]]:
        cursor: str | None = None
        while True:
            self.last = self._fetch(cursor)
            yield from self.last.get("results") or []
            cursor = self.last.get("next_cursor")
            if not self.last.get("has_more") or not cursor:
                return

    @property
    def incomplete(self) -> bool:
        """Notion stopped the list short of every match (a query past 10,000 results) and said so."""
        return (self.last.get("request_status") or {}).get("type") == "incomplete"
