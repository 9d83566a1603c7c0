"""A file the team drops into a deliverable page's File property becomes a deliverable, as an upload through the
CLI would: copied at once to the bucket under the project's prefix (Notion's file URLs expire within the hour),
recorded, and shown to the client. On a page the team made (no Atelier ID yet), the page becomes the new
deliverable's; on an existing deliverable's page, the file is a new deliverable of its own (a new version when it
has the same name) and the page keeps its link. Each file is taken once (`claim_file_drop`)."""

from __future__ import annotations

import contextlib
import logging
import urllib.request
import uuid
from collections.abc import Callable
from typing import Any

from atelier.deliverables.keys import CATEGORIES, DeliverableKey, guess_type
from atelier.deliverables.links import DownloadLinks
from atelier.deliverables.service import event_id
from atelier.deliverables.store import ObjectStore, ObjectUnreadable
from atelier.kernel.rpc import Rpc
from atelier.notion.codec import Ids, dropped_files, find_property, key_of, to_property
from atelier.notion.errors import NotionError
from atelier.notion.port import NotionPort
from atelier.sync.records import SyncPorts

log = logging.getLogger(__name__)
MAX_BYTES = 100 * 1024 * 1024  # what one dropped file may be; Notion's own limit on a paid plan is 5 GB
FETCH_SECONDS = 60


class FileTooLarge(Exception):
    pass


def fetch(url: str) -> bytes:
    """A Notion-hosted file's bytes, read before its URL expires (no token: the URL is signed)."""
    if not url.startswith(("https://", "http://")):
        raise ValueError(f"not a web address: {url[:40]}")
    with urllib.request.urlopen(url, timeout=FETCH_SECONDS) as answer:  # noqa: S310 - checked above
        data: bytes = answer.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise FileTooLarge(f"over {MAX_BYTES // (1024 * 1024)} MB")
    return data


def _category(page: dict[str, Any], ids: Ids, content_type: str, given: str | None) -> str:
    if given in CATEGORIES:
        return str(given)
    chosen = ((find_property(page, "Category", ids) or {}).get("select") or {}).get("name")
    if chosen in CATEGORIES:
        return str(chosen)
    return (
        "Photo" if content_type.startswith("image/") else "Document" if content_type == "application/pdf" else "Other"
    )


class FileDrops:
    """The sync's `drops` port: given a deliverable page (and its deliverable's id, or None for a page the team
    made), takes each file a person dropped there; returns how many became deliverables."""

    def __init__(
        self,
        rpc: Rpc,
        notion: NotionPort,
        store: ObjectStore,
        links: Callable[[], DownloadLinks],
        bucket: Callable[[], str],
        ids: Callable[[], Ids],
        *,
        business: str | None = None,
        read: Callable[[str], bytes] = fetch,
    ) -> None:
        self._rpc, self._notion, self._store, self._links = rpc, notion, store, links
        self._bucket, self._ids, self._business, self._read = bucket, ids, business, read

    @classmethod
    def of(
        cls,
        ports: SyncPorts,
        store: ObjectStore,
        links: Callable[[], DownloadLinks],
        bucket: Callable[[], str],
        business: Any,
    ) -> FileDrops:
        """The drops of the business `ports` serve (`business`: None for the default one)."""
        slug = getattr(business, "slug", None)
        return cls(ports.rpc, ports.notion, store, links, bucket, lambda: ports.ids("deliverable"), business=slug)

    def __call__(self, page: dict[str, Any], deliverable_id: str | None, deadline: float | None) -> int:
        ids = self._ids()
        files = dropped_files(find_property(page, "File", ids))
        relation = (find_property(page, "Project", ids) or {}).get("relation") or []
        target = self._rpc.rpc(
            "file_drop_target",
            p_deliverable_id=deliverable_id,
            p_project_page_id=str(relation[0]["id"]) if relation else None,
        )
        if not files or not target:
            return 0  # a page with no project yet: taken once its Project is set (the edit is seen again)
        author = str((page.get("last_edited_by") or {}).get("id") or "")
        who = (self._notion.user_name(author, deadline=deadline) if author else None) or "the team, in Notion"
        taken: list[str] = []
        for file in files:
            if not self._rpc.rpc("claim_file_drop", p_file_key=file["key"], p_page_id=str(page["id"])):
                continue  # taken already (the edit seen twice), or being taken now
            made = None
            try:
                made = self._take(file, str(target["project_id"]), page, ids, target.get("category"), who)
            except (OSError, ValueError, FileTooLarge, ObjectUnreadable) as exc:
                log.warning("a file dropped in Notion could not be copied", extra={"page": page["id"], "why": str(exc)})
            finally:
                self._rpc.rpc("settle_file_drop", p_file_key=file["key"], p_deliverable_id=made)
            if made:
                taken.append(made)
        if taken:
            self._settle_page(
                page, deliverable_id or taken[0], adopt=deliverable_id is None, ids=ids, deadline=deadline
            )
        return len(taken)

    def _take(
        self, file: dict[str, str], project_id: str, page: dict[str, Any], ids: Ids, category: str | None, who: str
    ) -> str | None:
        data = self._read(file["url"])
        name = file["name"].replace("/", "_").strip() or "file"
        content_type = guess_type(name)
        category = _category(page, ids, content_type, category)
        bucket = self._bucket()
        key = DeliverableKey.make(project_id, category, name, business=self._business)
        self._store.put(bucket, key, data, content_type)
        head = self._store.head(bucket, key, None) or {}
        version = head.get("VersionId")
        new_id = str(uuid.uuid4())
        result = self._rpc.rpc(
            "record_deliverable",
            p_event_id=event_id(bucket, key, version, None, str(head.get("ETag") or "")),
            p_id=new_id,
            p_bucket=bucket,
            p_key=key,
            p_version_id=version,
            p_project_id=project_id,
            p_name=name,
            p_category=category,
            p_size=len(data),
            p_type=content_type,
            p_uploaded_by=who[:200],
            p_file_url=self._links().url(new_id),
        )
        made = result.get("deliverable_id")
        return None if made is None else str(made)

    def _settle_page(
        self, page: dict[str, Any], deliverable_id: str, *, adopt: bool, ids: Ids, deadline: float | None
    ) -> None:
        """The page shows its deliverable's link again (the dropped file is in the bucket now); a page the team
        made becomes that deliverable's page."""
        if adopt:
            self._rpc.rpc("link_notion_page", p_entity="deliverable", p_id=deliverable_id, p_page_id=str(page["id"]))
        record = self._rpc.rpc("adopted_record", p_entity="deliverable", p_id=deliverable_id) or {}
        with contextlib.suppress(NotionError):  # else the next push puts the link back; the file is taken already
            self._notion.update_page(
                str(page["id"]), {key_of(ids, "File"): to_property("files", record.get("file_url"))}, deadline=deadline
            )
