"""Deliverables: an S3 upload becomes one deliverable row, and its Notion page shows the file (`showcase`).

`DeliverableService.record` turns one S3 `ObjectCreated` record into one `record_deliverable` call, keyed by
bucket + key + version (or sequencer), so a redelivered event changes nothing. Size, type and uploader
come from the object itself (the store's HEAD), not from the event.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from atelier.deliverables.keys import DeliverableKey, KeyOutsideConvention, business_of_key, decode_key, guess_type
from atelier.deliverables.links import DownloadLinks
from atelier.deliverables.store import ObjectStore
from atelier.kernel.errors import AtelierError
from atelier.kernel.rpc import Rpc

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.s3_event import S3EventRecord

    from atelier.sync.push import OutboxPusher

log = logging.getLogger(__name__)

MAX_UPLOADER_CHARS = 200
GENERIC_TYPES = {"", "binary/octet-stream", "application/octet-stream"}
# What Notion shows inline: https://developers.notion.com/reference/file-upload (supported file types).


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
    def __init__(self, rpc: Rpc, store: ObjectStore, links: DownloadLinks) -> None:
        self._rpc = rpc
        self._store = store
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
        head = self._store.head(bucket, key, version_id)
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


def by_business(records: Iterable[S3EventRecord]) -> list[tuple[str | None, list[S3EventRecord]]]:
    """An S3 event's records grouped by the business their keys name (`b/<slug>/`; None: the default), in order."""
    groups: dict[str | None, list[S3EventRecord]] = {}
    for record in records:
        try:
            slug = business_of_key(decode_key(str(record.s3.get_object.key)))[0]
        except (KeyError, TypeError, AttributeError):  # a malformed record: `record` reports it, as the default's
            slug = None
        groups.setdefault(slug, []).append(record)
    return list(groups.items())
