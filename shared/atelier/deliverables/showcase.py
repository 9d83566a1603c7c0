"""A deliverable's Notion page, as the team sees it: the image or PDF itself when Notion can hold it, else a file
block that links to it, and always a download link. Made once, when the page is created."""

from __future__ import annotations

import logging
from typing import Any

from atelier.deliverables.store import ObjectStore, ObjectUnreadable
from atelier.kernel.rpc import Rpc
from atelier.notion.codec import rich_text
from atelier.notion.errors import Failure, NotionError
from atelier.notion.port import NotionPort

log = logging.getLogger(__name__)
IMAGE_TYPES = {
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "image/svg+xml",
    "image/tiff",
    "image/bmp",
    "image/heic",
}
PDF_TYPE = "application/pdf"


class Showcase:
    """The content of a deliverable's Notion page, made once, when the page is created."""

    def __init__(self, rpc: Rpc, gateway: NotionPort, store: ObjectStore) -> None:
        self._rpc = rpc
        self._gateway = gateway
        self._store = store

    def __call__(self, entity_id: str, deadline: float | None) -> list[dict[str, Any]]:
        file = self._rpc.rpc("deliverable_file", p_id=entity_id)
        if not file:
            return []
        name = str(file["key"]).rsplit("/", 1)[-1]
        link = str(file.get("file_url") or "")
        kind = "image" if file["file_type"] in IMAGE_TYPES else "pdf" if file["file_type"] == PDF_TYPE else None
        size = int(file["file_size"])
        blocks: list[dict[str, Any]] = []
        if kind and 0 < size <= self._gateway.max_upload_bytes(deadline=deadline):
            upload_id = self._upload(file, name, deadline)
            if upload_id:
                blocks.append(
                    {
                        "type": kind,
                        kind: {"type": "file_upload", "file_upload": {"id": upload_id}, "caption": rich_text(name)},
                    }
                )
        if not blocks and link:
            blocks.append(
                {
                    "type": "file",
                    "file": {
                        "type": "external",
                        "external": {"url": link},
                        "name": name[:100],
                        "caption": rich_text(name),
                    },
                }
            )
        if link:
            blocks.append(
                {
                    "type": "paragraph",
                    "paragraph": {
                        "rich_text": [{"type": "text", "text": {"content": f"Download {name}", "link": {"url": link}}}]
                    },
                }
            )
        return blocks

    def _upload(self, file: dict[str, Any], name: str, deadline: float | None) -> str | None:
        try:
            data = self._store.read(file)
        except ObjectUnreadable as exc:
            # The page still links to the file; the download route serves it if it is there.
            log.warning("could not read %s from S3 (%s); the page links to it instead", file["key"], exc)
            return None
        try:
            return self._gateway.upload_file(name, str(file["file_type"]), data, deadline=deadline)
        except NotionError as exc:
            if exc.failure is not Failure.permanent:
                raise  # the row is retried; the page is not created without its file
            log.warning("Notion refused the upload of %s (%s); the page links to it instead", file["key"], exc)
            return None
