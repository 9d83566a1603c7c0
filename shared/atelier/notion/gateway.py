"""The Notion gateway: the adapter behind `NotionPort`, and every call Atelier makes to Notion.

- API version 2025-09-03 (data sources, `parent: {data_source_id}`, `in_trash`).
- One request budget per process (`budget.py`); `Retry-After` honoured on 429 and 529.
- Never sleeps past the caller's deadline: it raises `RetryLater` instead.
- Errors are typed (`errors.py`). A write that failed ambiguously (5xx, timeout) is retried only once we
  know it did not take effect. Every list call goes through the one paginator (`paging.py`).

`notion_client` is imported here only, when the gateway is built.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from atelier.kernel.settings import NotionSettings
from atelier.notion.budget import PROCESS_BUDGET
from atelier.notion.codec import ATELIER_ID, rich_text
from atelier.notion.errors import Failure, NotionError, RetryLater
from atelier.notion.paging import CursorPaginator
from atelier.notion.port import Created
from atelier.notion.transport import SINGLE_PART_UPLOAD_BYTES, NotionTransport

MAX_PAGE_SIZE = 100
MAX_BLOCKS_PER_APPEND = 100

# Every endpoint the gateway calls, for the spec-coverage test.
ENDPOINTS = (
    ("GET", "/v1/users/me"),
    ("GET", "/v1/pages/{page_id}"),
    ("POST", "/v1/pages"),
    ("PATCH", "/v1/pages/{page_id}"),
    ("GET", "/v1/databases/{database_id}"),
    ("POST", "/v1/databases"),
    ("GET", "/v1/data_sources/{data_source_id}"),
    ("PATCH", "/v1/data_sources/{data_source_id}"),
    ("POST", "/v1/data_sources/{data_source_id}/query"),
    ("GET", "/v1/blocks/{block_id}/children"),
    ("PATCH", "/v1/blocks/{block_id}/children"),
    ("POST", "/v1/search"),
    ("POST", "/v1/file_uploads"),
    ("POST", "/v1/file_uploads/{file_upload_id}/send"),
    ("POST", "/v1/comments"),
    ("GET", "/v1/comments"),
    ("GET", "/v1/views"),
    ("GET", "/v1/views/{view_id}"),
    ("POST", "/v1/views"),
)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def gateway_from_settings(settings: NotionSettings, **options: Any) -> NotionGateway:
    if settings.notion_rate != PROCESS_BUDGET.rate:
        PROCESS_BUDGET.set_rate(settings.notion_rate)
    return NotionGateway(settings.token(), base_url=settings.notion_base_url, **options)


class NotionGateway(NotionTransport):
    """Every call Atelier makes to Notion, each sent through `NotionTransport._send`."""

    # -- reads ---------------------------------------------------------------------------------

    def me(self, *, deadline: float | None = None) -> dict[str, Any]:
        return dict(self._send(lambda: self._client.users.me(), safe=True, deadline=deadline))

    def bot_id(self, *, deadline: float | None = None) -> str:
        """Our integration's user id, asked once per gateway: the author of our own edits."""
        if self._bot_id is None:
            self._learn_bot(deadline)
        assert self._bot_id is not None
        return self._bot_id

    def max_upload_bytes(self, *, deadline: float | None = None) -> int:
        """The largest file we upload: the workspace's limit (5 MB on free plans), at most a single part."""
        if self._max_upload is None:
            self._learn_bot(deadline)
        assert self._max_upload is not None
        return self._max_upload

    def _learn_bot(self, deadline: float | None) -> None:
        me = self.me(deadline=deadline)
        self._bot_id = str(me["id"])
        limits = (me.get("bot") or {}).get("workspace_limits") or {}
        limit = limits.get("max_file_upload_size_in_bytes")
        self._max_upload = min(int(limit), SINGLE_PART_UPLOAD_BYTES) if limit else SINGLE_PART_UPLOAD_BYTES

    def user_name(self, user_id: str, *, deadline: float | None = None) -> str | None:
        """A person's name as Notion shows it, asked once per person; None for a bot, or one Notion will not show."""
        if user_id not in self._names:
            try:
                user = self._send(lambda: self._client.users.retrieve(user_id), safe=True, deadline=deadline)
            except NotionError:
                return None  # asked again next time: the edit is applied all the same, its author unnamed
            self._names[user_id] = (str(user.get("name") or "") or None) if user.get("type") == "person" else None
        return self._names[user_id]

    def retrieve_page(self, page_id: str, *, deadline: float | None = None) -> dict[str, Any]:
        return dict(self._send(lambda: self._client.pages.retrieve(page_id), safe=True, deadline=deadline))

    def retrieve_database(self, database_id: str, *, deadline: float | None = None) -> dict[str, Any]:
        return dict(self._send(lambda: self._client.databases.retrieve(database_id), safe=True, deadline=deadline))

    def retrieve_data_source(self, data_source_id: str, *, deadline: float | None = None) -> dict[str, Any]:
        call = lambda: self._client.data_sources.retrieve(data_source_id)  # noqa: E731
        return dict(self._send(call, safe=True, deadline=deadline))

    def query_page(
        self,
        data_source_id: str,
        *,
        filter: dict[str, Any] | None = None,
        sorts: list[dict[str, Any]] | None = None,
        cursor: str | None = None,
        page_size: int = MAX_PAGE_SIZE,
        in_trash: bool = False,
        deadline: float | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"page_size": min(page_size, MAX_PAGE_SIZE)}
        if in_trash:
            body["in_trash"] = True  # trashed pages too, so the poller sees deletions
        if filter:
            body["filter"] = filter
        if sorts:
            body["sorts"] = sorts
        if cursor:
            body["start_cursor"] = cursor
        # A query changes nothing, so it is safe to repeat.
        return dict(
            self._send(lambda: self._client.data_sources.query(data_source_id, **body), safe=True, deadline=deadline)
        )

    def query(
        self,
        data_source_id: str,
        *,
        filter: dict[str, Any] | None = None,
        sorts: list[dict[str, Any]] | None = None,
        deadline: float | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every matching page, following `next_cursor`."""
        return iter(
            CursorPaginator(
                lambda cursor: self.query_page(
                    data_source_id, filter=filter, sorts=sorts, cursor=cursor, deadline=deadline
                )
            )
        )

    def edited_between(
        self,
        data_source_id: str,
        since: datetime,
        until: datetime,
        *,
        include_trashed: bool = False,
        deadline: float | None = None,
    ) -> list[dict[str, Any]]:
        """Every page last edited in [since, until). A window that reports itself incomplete (Notion stops at
        10,000 results) is split in two by time, down to Notion's one-minute resolution."""
        window = {
            "and": [
                {"timestamp": "last_edited_time", "last_edited_time": {"on_or_after": _iso(since)}},
                {"timestamp": "last_edited_time", "last_edited_time": {"before": _iso(until)}},
            ]
        }
        sorts = [{"timestamp": "last_edited_time", "direction": "ascending"}]
        listing = CursorPaginator(
            lambda cursor: self.query_page(
                data_source_id, filter=window, sorts=sorts, cursor=cursor, in_trash=include_trashed, deadline=deadline
            )
        )
        pages = list(listing)
        if not listing.incomplete:
            return pages
        if until - since <= timedelta(minutes=1):
            raise NotionError(
                f"more than Notion's query limit edited within one minute in {data_source_id}",
                code="incomplete",
                status=None,
                failure=Failure.permanent,
            )
        middle = since + (until - since) / 2
        return [
            page
            for start, end in ((since, middle), (middle, until))
            for page in self.edited_between(
                data_source_id, start, end, include_trashed=include_trashed, deadline=deadline
            )
        ]

    def find_by_atelier_id(
        self, data_source_id: str, atelier_id: str, *, id_property: str = ATELIER_ID, deadline: float | None = None
    ) -> dict[str, Any] | None:
        """The page carrying an Atelier ID; `id_property` is the property's id (or name) in this data source."""
        found = self.query_page(
            data_source_id,
            filter={"property": id_property, "rich_text": {"equals": atelier_id}},
            page_size=2,
            deadline=deadline,
        )
        results = found.get("results") or []
        return dict(results[0]) if results else None

    def list_blocks(self, block_id: str, *, deadline: float | None = None) -> list[dict[str, Any]]:
        def fetch(cursor: str | None) -> dict[str, Any]:
            page = {"page_size": MAX_PAGE_SIZE} | ({"start_cursor": cursor} if cursor else {})
            call = partial(self._client.blocks.children.list, block_id, **page)
            return dict(self._send(call, safe=True, deadline=deadline))

        return list(CursorPaginator(fetch))

    def search(
        self, query: str, *, object_type: str | None = None, deadline: float | None = None
    ) -> list[dict[str, Any]]:
        body: dict[str, Any] = {"query": query, "page_size": MAX_PAGE_SIZE}
        if object_type:
            body["filter"] = {"property": "object", "value": object_type}

        def fetch(cursor: str | None) -> dict[str, Any]:
            page = body | ({"start_cursor": cursor} if cursor else {})
            return dict(self._send(lambda: self._client.search(**page), safe=True, deadline=deadline))

        return list(CursorPaginator(fetch))

    # -- writes --------------------------------------------------------------------------------

    def create_page(
        self,
        data_source_id: str,
        atelier_id: str,
        properties: dict[str, Any],
        *,
        children: list[dict[str, Any]] | None = None,
        id_property: str = ATELIER_ID,
        deadline: float | None = None,
        guard: Callable[[], None] | None = None,
    ) -> Created:
        """Create a page once. After an ambiguous failure, look the page up by its Atelier ID before retrying.
        `guard` runs before every attempt, waits included, and may raise to stop the create (a lost claim)."""
        body: dict[str, Any] = {
            "parent": {"type": "data_source_id", "data_source_id": data_source_id},
            "properties": properties,
        }
        if children:
            body["children"] = children[:MAX_BLOCKS_PER_APPEND]
        for _ in range(self.max_attempts):
            try:
                page = dict(self._send(partial(self._guarded_create, body, guard), safe=False, deadline=deadline))
            except NotionError as error:
                if error.failure is not Failure.ambiguous or isinstance(error, RetryLater):
                    raise
                if error.status is None:
                    # We stopped waiting (a timeout, a dropped connection), but the request may still be on its way
                    # to taking effect: give it as long as we gave it, before asking whether it did.
                    self._settle(deadline)
                existing = self.find_by_atelier_id(
                    data_source_id, atelier_id, id_property=id_property, deadline=deadline
                )
                if existing is not None:
                    return Created(existing, found_existing=True)
                continue  # it did not take effect: creating again is safe
            if children and len(children) > MAX_BLOCKS_PER_APPEND:
                self.append_blocks(str(page["id"]), children[MAX_BLOCKS_PER_APPEND:], deadline=deadline)
            return Created(page, found_existing=False)
        raise NotionError(
            f"could not create the page for {atelier_id} after {self.max_attempts} attempts",
            code="exhausted",
            status=None,
            failure=Failure.transient,
        )

    def _settle(self, deadline: float | None) -> None:
        wait = min(self.timeout_s, 5.0)
        if deadline is not None and self.budget.clock() + wait > deadline:
            raise RetryLater(
                "a create's outcome is unknown and there is no time left to check it",
                code="unknown_outcome",
                status=None,
                failure=Failure.transient,
            )
        self.budget.sleep(wait)

    def _guarded_create(self, body: dict[str, Any], guard: Callable[[], None] | None) -> Any:
        if guard is not None:
            guard()
        return self._client.pages.create(**body)

    def update_page(
        self,
        page_id: str,
        properties: dict[str, Any] | None = None,
        *,
        in_trash: bool | None = None,
        deadline: float | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if properties:
            body["properties"] = properties
        if in_trash is not None:
            body["in_trash"] = in_trash
        # Setting the same values twice leaves the page as once: safe to repeat.
        return dict(self._send(lambda: self._client.pages.update(page_id, **body), safe=True, deadline=deadline))

    def append_blocks(self, block_id: str, children: list[dict[str, Any]], *, deadline: float | None = None) -> None:
        """Append in batches of 100. Appending twice would duplicate, so an ambiguous failure is raised."""
        for start in range(0, len(children), MAX_BLOCKS_PER_APPEND):
            batch = children[start : start + MAX_BLOCKS_PER_APPEND]
            self._send(
                partial(self._client.blocks.children.append, block_id, children=batch), safe=False, deadline=deadline
            )

    def create_database(
        self, parent_page_id: str, title: str, properties: dict[str, Any], *, deadline: float | None = None
    ) -> dict[str, Any]:
        body = {
            "parent": {"type": "page_id", "page_id": parent_page_id},
            "title": [{"type": "text", "text": {"content": title}}],
            "initial_data_source": {"properties": properties},
        }
        return dict(self._send(lambda: self._client.databases.create(**body), safe=False, deadline=deadline))

    def update_data_source(
        self, data_source_id: str, properties: dict[str, Any], *, deadline: float | None = None
    ) -> dict[str, Any]:
        call = lambda: self._client.data_sources.update(data_source_id, properties=properties)  # noqa: E731
        return dict(self._send(call, safe=True, deadline=deadline))

    def _listed(self, call: Callable[..., Any], deadline: float | None, **options: Any) -> list[dict[str, Any]]:
        """Every item of a list endpoint that takes `start_cursor` (views, comments), through the one paginator."""

        def fetch(cursor: str | None) -> dict[str, Any]:
            page = options | {"page_size": MAX_PAGE_SIZE} | ({"start_cursor": cursor} if cursor else {})
            return dict(self._send(partial(call, **page), safe=True, deadline=deadline))

        return [dict(item) for item in CursorPaginator(fetch)]

    def list_views(self, data_source_id: str, *, deadline: float | None = None) -> list[dict[str, Any]]:
        """Every view of a data source, whole (the listing gives ids only, so each is read)."""
        refs = self._listed(self._client.views.list, deadline, data_source_id=data_source_id)
        return [
            dict(self._send(partial(self._client.views.retrieve, str(ref["id"])), safe=True, deadline=deadline))
            for ref in refs
        ]

    def create_comment(
        self, page_id: str, text: str, *, mention: str | None = None, deadline: float | None = None
    ) -> dict[str, Any]:
        """A new discussion on a page, in plain text (cut to Notion's 2,000 characters), beginning with a mention of
        `mention` (a person's user id) when one is given, so that they hear of it."""
        items = rich_text(text[:2000])
        if mention:
            items = [{"type": "mention", "mention": {"user": {"id": mention}}}, *rich_text(" "), *items]
        body = {"parent": {"page_id": page_id}, "rich_text": items}
        return dict(self._send(lambda: self._client.comments.create(**body), safe=False, deadline=deadline))

    def list_comments(self, page_id: str, *, deadline: float | None = None) -> list[dict[str, Any]]:
        """A page's open comments, oldest first."""
        return self._listed(self._client.comments.list, deadline, block_id=page_id)

    def create_view(
        self,
        data_source_id: str,
        name: str,
        view_type: str,
        configuration: dict[str, Any],
        *,
        deadline: float | None = None,
    ) -> dict[str, Any]:
        body = {"data_source_id": data_source_id, "name": name, "type": view_type, "configuration": configuration}
        return dict(self._send(lambda: self._client.views.create(**body), safe=False, deadline=deadline))

    def upload_file(self, filename: str, content_type: str, data: bytes, *, deadline: float | None = None) -> str:
        """Single-part File Upload: returns the upload's id, to reference from a file or image block."""
        if len(data) > SINGLE_PART_UPLOAD_BYTES:
            raise NotionError(
                f"{filename} is larger than a single-part upload ({SINGLE_PART_UPLOAD_BYTES} bytes)",
                code="validation_error",
                status=None,
                failure=Failure.permanent,
            )
        created = self._send(
            lambda: self._client.file_uploads.create(mode="single_part", filename=filename, content_type=content_type),
            safe=False,
            deadline=deadline,
        )
        upload_id = str(created["id"])
        self._send(
            lambda: self._client.file_uploads.send(upload_id, file=(filename, data, content_type)),
            safe=False,
            deadline=deadline,
        )
        return upload_id
