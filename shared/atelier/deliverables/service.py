"""Deliverables: an S3 upload becomes one deliverable row, and its Notion page shows the file.

`DeliverableService.record` turns one S3 `ObjectCreated` record into one `record_deliverable` call, keyed by
bucket + key + version (or sequencer), so a redelivered event changes nothing. Size, type and uploader
come from the object itself (HEAD), not from the event.

`Showcase` builds the blocks of a deliverable's new Notion page: images and PDFs within the workspace's
upload limit are uploaded to Notion and shown; anything else gets a file block that links to the download
route, whose links never expire.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from atelier.deliverables.storage import DeliverableKey, DownloadLinks, KeyOutsideConvention, decode_key, guess_type
from atelier.kernel.errors import AtelierError
from atelier.kernel.rpc import Rpc
from atelier.notion.codec import rich_text
from atelier.notion.errors import Failure, NotionError
from atelier.notion.port import NotionPort

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.s3_event import S3EventRecord
    from mypy_boto3_s3 import S3Client

    from atelier.sync.push import OutboxPusher

log = logging.getLogger(__name__)

MAX_UPLOADER_CHARS = 200
GENERIC_TYPES = {"", "binary/octet-stream", "application/octet-stream"}
# What Notion shows inline: https://developers.notion.com/reference/file-upload (supported file types).
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


class DeliverableOutcome(StrEnum):
    applied = "applied"
    duplicate = "duplicate"  # this upload was recorded before
    orphan = "orphan"  # its project is unknown or deleted: kept in the audit log
    ignored = "ignored"  # not an upload, or a key outside the convention
    gone = "gone"  # the object was deleted before we could read it

    @property
    def unusual(self) -> bool:
        """Worth a warning in the log: something was uploaded that did not become a deliverable."""
        return self in (DeliverableOutcome.orphan, DeliverableOutcome.ignored, DeliverableOutcome.gone)


@dataclass(frozen=True)
class Recorded:
    outcome: DeliverableOutcome
    key: str
    deliverable_id: str | None = None
    project_id: str | None = None
    version: int | None = None
    reason: str | None = None

    def summary(self) -> dict[str, Any]:
        """What the handler logs and answers for this record."""
        keys = ("key", "outcome", "reason", "deliverable_id", "version")
        return {k: getattr(self, k) for k in keys}


def event_id(bucket: str, key: str, version_id: str | None, sequencer: str | None, etag: str) -> str:
    """S3's own identity of one upload: the version when the bucket keeps versions, else the sequencer."""
    return f"{bucket}/{key}#{version_id or sequencer or etag}"


class DeliverableService:
    def __init__(self, rpc: Rpc, s3: S3Client, links: DownloadLinks) -> None:
        self._rpc = rpc
        self._s3 = s3
        self._links = links

    def record(self, record: S3EventRecord) -> Recorded:
        """One record of an S3 event notification, as Powertools' data class reads it."""
        try:
            obj = record.s3.get_object
            bucket = str(record.s3.bucket.name)
            key = decode_key(str(obj.key))
            event_name = str(record.event_name)
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            return Recorded(DeliverableOutcome.ignored, "", reason=f"not an S3 record we can read: {exc!r:.80}")
        if not event_name.startswith("ObjectCreated"):
            return Recorded(DeliverableOutcome.ignored, key, reason=f"not an upload: {event_name:.80}")
        try:
            parsed = DeliverableKey.parse(key)
        except KeyOutsideConvention as exc:
            return Recorded(DeliverableOutcome.ignored, key, reason=str(exc))
        version_id = obj.version_id or None
        head = self._head(bucket, key, version_id)
        if head is None:
            return Recorded(DeliverableOutcome.gone, key, reason="the object was deleted before it could be read")
        content_type = str(head.get("ContentType") or "").split(";", 1)[0].strip().lower()
        if content_type in GENERIC_TYPES:
            content_type = guess_type(parsed.name)
        uploader = str((head.get("Metadata") or {}).get("uploaded-by") or "").strip()[:MAX_UPLOADER_CHARS]
        deliverable_id = str(uuid.uuid4())
        result = self._rpc.rpc(
            "record_deliverable",
            p_event_id=event_id(bucket, key, version_id, obj.get("sequencer"), obj.etag),
            p_id=deliverable_id,
            p_bucket=bucket,
            p_key=key,
            p_version_id=version_id or head.get("VersionId"),
            p_project_id=parsed.project_id,
            p_name=parsed.name,
            p_category=parsed.category,
            p_size=int(head.get("ContentLength") or 0),
            p_type=content_type,
            p_uploaded_by=uploader or None,
            p_file_url=self._links.url(deliverable_id),
        )
        return Recorded(
            DeliverableOutcome(str(result["outcome"])),
            key,
            deliverable_id=result.get("deliverable_id"),
            project_id=parsed.project_id,
            version=result.get("version"),
            reason=result.get("reason"),
        )

    def _head(self, bucket: str, key: str, version_id: str | None) -> dict[str, Any] | None:
        from botocore.exceptions import ClientError

        args: dict[str, Any] = {"Bucket": bucket, "Key": key}
        if version_id:
            args["VersionId"] = version_id
        try:
            return dict(self._s3.head_object(**args))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NoSuchVersion"):
                return None
            raise


class Showcase:
    """The content of a deliverable's Notion page, made once, when the page is created."""

    def __init__(self, rpc: Rpc, gateway: NotionPort, s3: Callable[[], S3Client]) -> None:
        self._rpc = rpc
        self._gateway = gateway
        self._s3 = s3  # asked for only when a file is shown, so a sync run with no new deliverable builds no client

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
        from botocore.exceptions import BotoCoreError, ClientError

        args: dict[str, Any] = {"Bucket": file["bucket"], "Key": file["key"]}
        if file.get("version_id"):
            args["VersionId"] = file["version_id"]
        try:
            data = self._s3().get_object(**args)["Body"].read()
        except (BotoCoreError, ClientError) as exc:
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


def push_showcases(pusher: Callable[[], OutboxPusher], recorded: Iterable[Recorded], *, deadline: float) -> int:
    """Push the pages of the projects that just got a deliverable, now; returns how many pages were pushed.
    The pusher is built only when there is one. A failed push is logged and left to the scheduled sweep:
    the deliverable is recorded and queued already."""
    pushed = 0
    projects = {r.project_id for r in recorded if r.outcome is DeliverableOutcome.applied and r.project_id}
    for project_id in sorted(projects):
        try:
            report = pusher().sweep(deadline=deadline, project_id=project_id)
        except AtelierError:
            log.exception("showcase push failed; the sweep will retry (project %s)", project_id)
            continue
        pushed += report.created + report.updated
    return pushed
