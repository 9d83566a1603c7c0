"""The Notion port: what the sync engine, the showcase and setup ask of Notion, as a Protocol.

`NotionGateway` is the adapter that speaks to Notion (or the emulator); the functional tests stand an
in-memory fake behind the same port, so the sync rules run without HTTP.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class Created:
    page: dict[str, Any]
    found_existing: bool  # an earlier, ambiguous attempt had in fact created it


class NotionPort(Protocol):
    rate_limited: int  # 429 and 529 answers so far, for the metric

    # -- reads
    def bot_id(self, *, deadline: float | None = None) -> str: ...

    def max_upload_bytes(self, *, deadline: float | None = None) -> int: ...

    def user_name(self, user_id: str, *, deadline: float | None = None) -> str | None: ...

    def retrieve_page(self, page_id: str, *, deadline: float | None = None) -> dict[str, Any]: ...

    def retrieve_database(self, database_id: str, *, deadline: float | None = None) -> dict[str, Any]: ...

    def retrieve_data_source(self, data_source_id: str, *, deadline: float | None = None) -> dict[str, Any]: ...

    def query_page(
        self,
        data_source_id: str,
        *,
        filter: dict[str, Any] | None = None,
        sorts: list[dict[str, Any]] | None = None,
        cursor: str | None = None,
        page_size: int = 100,
        in_trash: bool = False,
        deadline: float | None = None,
    ) -> dict[str, Any]: ...

    def query(
        self,
        data_source_id: str,
        *,
        filter: dict[str, Any] | None = None,
        sorts: list[dict[str, Any]] | None = None,
        deadline: float | None = None,
    ) -> Iterable[dict[str, Any]]: ...

    def edited_between(
        self,
        data_source_id: str,
        since: datetime,
        until: datetime,
        *,
        include_trashed: bool = False,
        deadline: float | None = None,
    ) -> list[dict[str, Any]]: ...

    def find_by_atelier_id(
        self, data_source_id: str, atelier_id: str, *, id_property: str = ..., deadline: float | None = None
    ) -> dict[str, Any] | None: ...

    def list_blocks(self, block_id: str, *, deadline: float | None = None) -> list[dict[str, Any]]: ...

    def search(
        self, query: str, *, object_type: str | None = None, deadline: float | None = None
    ) -> list[dict[str, Any]]: ...

    # -- writes
    def create_page(
        self,
        data_source_id: str,
        atelier_id: str,
        properties: dict[str, Any],
        *,
        children: list[dict[str, Any]] | None = None,
        id_property: str = ...,
        deadline: float | None = None,
        guard: Callable[[], None] | None = None,
    ) -> Created: ...

    def update_page(
        self,
        page_id: str,
        properties: dict[str, Any] | None = None,
        *,
        in_trash: bool | None = None,
        deadline: float | None = None,
    ) -> dict[str, Any]: ...

    def append_blocks(
        self, block_id: str, children: list[dict[str, Any]], *, deadline: float | None = None
    ) -> None: ...

    def create_database(
        self, parent_page_id: str, title: str, properties: dict[str, Any], *, deadline: float | None = None
    ) -> dict[str, Any]: ...

    def update_data_source(
        self, data_source_id: str, properties: dict[str, Any], *, deadline: float | None = None
    ) -> dict[str, Any]: ...

    def upload_file(self, filename: str, content_type: str, data: bytes, *, deadline: float | None = None) -> str: ...

    def list_views(self, data_source_id: str, *, deadline: float | None = None) -> list[dict[str, Any]]: ...

    def create_comment(
        self, page_id: str, text: str, *, mention: str | None = None, deadline: float | None = None
    ) -> dict[str, Any]: ...

    def list_comments(self, page_id: str, *, deadline: float | None = None) -> list[dict[str, Any]]: ...

    def create_view(
        self,
        data_source_id: str,
        name: str,
        view_type: str,
        configuration: dict[str, Any],
        *,
        deadline: float | None = None,
    ) -> dict[str, Any]: ...
