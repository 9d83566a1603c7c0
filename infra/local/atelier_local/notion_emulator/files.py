"""Files in files properties, as Notion keeps them: an upload attached by id becomes a Notion-hosted file whose URL
is signed and expires (an hour, as Notion's do; `/_control/faults {"file_url_seconds": N}` shortens it), served
at `/_files/...` without the API's token, as S3 serves Notion's; a URL past its time answers 403."""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from atelier_local.notion_emulator.state import ApiError, NotionState, norm

FILE_URL_SECONDS = 3600.0
_KEY = b"emulator file urls"  # not a secret: the emulator's own, as S3's signing is Amazon's


def _signature(upload_id: str, expires: int) -> str:
    return hmac.new(_KEY, f"{upload_id}:{expires}".encode(), hashlib.sha256).hexdigest()[:32]


def hosted(state: NotionState, entry: dict[str, Any], base_url: str, seconds: float) -> dict[str, Any]:
    """A files property's entry as Notion keeps it: an upload (`file_upload`) becomes a hosted `file`."""
    if entry.get("type") != "file_upload":
        return entry
    upload = state.uploads.get(norm(str((entry.get("file_upload") or {}).get("id") or "")))
    if upload is None or upload["status"] != "uploaded":
        raise ApiError(400, "validation_error", "The file upload does not exist or was not sent.")
    expires = int(time.time() + seconds)
    filename = str(upload.get("filename") or "file")
    url = (
        f"{base_url}/_files/{upload['id']}/{quote(filename)}?expires={expires}&sig={_signature(upload['id'], expires)}"
    )
    return {
        "name": str(entry.get("name") or filename)[:100],
        "type": "file",
        "file": {"url": url, "expiry_time": datetime.fromtimestamp(expires, UTC).isoformat().replace("+00:00", "Z")},
    }


def serve(state: NotionState, target: str) -> tuple[int, str, bytes]:
    """GET of a hosted file's URL: its bytes while the URL is good; 403 once it has expired or was altered."""
    parts = urlsplit(target)
    segments = parts.path.split("/")
    query = dict(parse_qsl(parts.query))
    if len(segments) < 4:
        return 404, "text/plain", b"no such file"
    upload = state.uploads.get(norm(unquote(segments[2])))
    try:
        expires = int(query.get("expires", "0"))
    except ValueError:
        expires = 0
    if upload is None or "data" not in upload:
        return 404, "text/plain", b"no such file"
    if not hmac.compare_digest(query.get("sig", ""), _signature(upload["id"], expires)):
        return 403, "application/xml", b"<Error><Code>SignatureDoesNotMatch</Code></Error>"
    if time.time() > expires:
        return 403, "application/xml", b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>"
    return 200, str(upload.get("content_type") or "application/octet-stream"), bytes(upload["data"])
