"""Deliverable files: the bucket's key convention, download links that never expire, and S3 itself.

Keys follow `projects/<project_id>/<category>/<file name>`; S3 sends them URL-encoded in events.
A link on a Notion page is `<api>/deliverables/<id>/download?token=...`: the token is an HMAC of the id,
so the link outlives any presigned URL, and the route answers it with a fresh presigned URL each time.

`boto3` is imported only when an S3 client is built.
"""

from __future__ import annotations

import mimetypes
import os
import time
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote_plus

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from atelier.kernel.errors import (
    AtelierError,
    ConfigurationError,
    LinkExpired,
    LinkInvalid,
    NotPermitted,
    UnknownRecord,
)
from atelier.kernel.rpc import Rpc
from atelier.kernel.settings import secret
from atelier.kernel.signing import expiry, sign, signed

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

PREFIX = "projects/"
CATEGORIES = ("Document", "Photo", "Drawing", "Render", "Invoice", "Contract", "Other")
MAX_NAME_CHARS = 500
PRESIGNED_SECONDS = 300  # a fresh URL per click; it only has to last until the browser follows it
NEVER = 0  # a token's expiry when it has none: the links on Notion pages


class KeyOutsideConvention(AtelierError):
    """An object key that is not `projects/<project_id>/<category>/<file name>`."""


@dataclass(frozen=True)
class DeliverableKey:
    project_id: str
    category: str  # one of CATEGORIES
    name: str  # the file's name: what follows the category, sub-folders included

    @classmethod
    def parse(cls, key: str) -> DeliverableKey:
        """A decoded key, checked against the convention; the category is matched loosely ("photos")."""
        if not key.startswith(PREFIX):
            raise KeyOutsideConvention(f"{key!r} is not under {PREFIX}")
        parts = key[len(PREFIX) :].split("/", 2)
        if len(parts) < 3 or not parts[2].strip() or key.endswith("/"):
            raise KeyOutsideConvention(f"{key!r} is not projects/<project_id>/<category>/<file name>")
        try:
            project_id = str(uuid.UUID(parts[0]))
        except ValueError:
            raise KeyOutsideConvention(f"{key!r}: {parts[0]!r} is not a project id") from None
        name = unicodedata.normalize("NFC", parts[2]).strip()[:MAX_NAME_CHARS]
        return cls(project_id, category_of(parts[1]), name)

    @staticmethod
    def make(project_id: str, category: str, filename: str) -> str:
        return f"{PREFIX}{project_id}/{category}/{filename}"


def category_of(folder: str) -> str:
    """The category a key's folder names: exact, any case, or plural; anything else is Other."""
    wanted = folder.strip().lower()
    for category in CATEGORIES:
        if wanted in (category.lower(), f"{category.lower()}s"):
            return category
    return "Other"


def decode_key(raw: str) -> str:
    """S3 event keys are URL-encoded with `+` for spaces."""
    return unquote_plus(raw)


def guess_type(filename: str) -> str:
    return mimetypes.guess_type(filename)[0] or "application/octet-stream"


# --- download links ----------------------------------------------------------------------------


class DownloadLinks:
    """Signs and checks the tokens of download links; `base_url` is the public API's address."""

    def __init__(self, key: bytes, base_url: str, *, clock: Callable[[], float] = time.time) -> None:
        if len(key) < 16:
            raise ConfigurationError("DOWNLOAD_TOKEN_KEY must be at least 16 characters")
        self._key = key
        self.base_url = base_url.rstrip("/")
        self._clock = clock

    def token(self, deliverable_id: str, *, expires: int = NEVER) -> str:
        return f"{expires}.{sign(self._key, f'{deliverable_id}.{expires}')}"

    def url(self, deliverable_id: str, *, expires: int = NEVER) -> str:
        token = self.token(deliverable_id, expires=expires)
        return f"{self.base_url}/deliverables/{deliverable_id}/download?token={token}"

    def check(self, deliverable_id: str, token: str | None) -> str | None:
        """None when the token is good for this id, else why it is not."""
        if not token:
            return "the link has no token"
        expires_text, _, signature = token.partition(".")
        expires = expiry(expires_text)
        if expires is None or not signature:
            return "the token is malformed"
        if not signed(self._key, f"{deliverable_id}.{expires}", signature):
            return "the token does not match this deliverable"
        if expires != NEVER and expires < self._clock():
            return "the link has expired"
        return None


class StorageSettings(BaseSettings):
    """Where deliverables live and how their links are made."""

    model_config = SettingsConfigDict(extra="ignore")

    deliverables_bucket: str | None = None
    s3_endpoint_url: str | None = None  # the local stack's S3 (moto); unset in AWS
    # The public address of the HTTP API, for the links on Notion pages (the local run's front door).
    atelier_api_url: str | None = None
    download_token_key: SecretStr | None = None
    download_token_key_secret: str | None = None

    def bucket(self) -> str:
        if not self.deliverables_bucket:
            raise ConfigurationError("DELIVERABLES_BUCKET is not set: export it, or start `make dev`")
        return self.deliverables_bucket

    def links(self) -> DownloadLinks:
        if not self.atelier_api_url:
            raise ConfigurationError("ATELIER_API_URL is not set: export the API's public URL, or start `make dev`")
        key = secret(self.download_token_key, self.download_token_key_secret, "DOWNLOAD_TOKEN_KEY")
        return DownloadLinks(key.encode(), self.atelier_api_url)

    def client(self) -> S3Client:
        import boto3
        from botocore.config import Config

        config = Config(signature_version="s3v4", retries={"mode": "standard", "max_attempts": 4})
        if not self.s3_endpoint_url:
            return boto3.client("s3", config=config)
        # The local run's S3 takes any credentials; a shell with none of its own still reaches it.
        return boto3.client(
            "s3",
            endpoint_url=self.s3_endpoint_url,
            config=config,
            region_name=os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION") or "us-east-1",
            aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID") or "local",
            aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY") or "local",
        )


def content_disposition(filename: str) -> str:
    """`attachment` with the file's own name, unicode included (RFC 6266 / 5987)."""
    last = filename.rsplit("/", 1)[-1]
    ascii_name = last.encode("ascii", "replace").decode().replace('"', "'").replace("?", "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(last, safe='')}"


def presigned_download(client: S3Client, file: dict[str, Any]) -> str:
    params: dict[str, Any] = {
        "Bucket": file["bucket"],
        "Key": file["key"],
        "ResponseContentDisposition": content_disposition(str(file["key"])),
    }
    if file.get("version_id"):
        params["VersionId"] = file["version_id"]
    return client.generate_presigned_url("get_object", Params=params, ExpiresIn=PRESIGNED_SECONDS)


def download_target(rpc: Rpc, client: S3Client, links: DownloadLinks, deliverable_id: str, token: str | None) -> str:
    """Where a download link leads: a fresh presigned URL for the deliverable's file.
    A bad token, or a file whose project was refunded or removed, is `NotPermitted`; an id that is not a live
    deliverable is `UnknownRecord`."""
    try:
        deliverable_id = str(uuid.UUID(deliverable_id))
    except ValueError:
        raise _not_found(deliverable_id) from None
    refused = links.check(deliverable_id, token)
    if refused:
        raise (LinkExpired if refused == "the link has expired" else LinkInvalid)(
            f"This download link is not valid ({refused}); ask for a new one."
        )
    file = rpc.rpc("deliverable_file", p_id=deliverable_id)
    if not file or file.get("deleted"):
        raise _not_found(deliverable_id)
    if file.get("withdrawn"):
        raise NotPermitted("This file is no longer shared: its project was refunded or removed. Ask the studio.")
    return presigned_download(client, file)


def _not_found(deliverable_id: str) -> UnknownRecord:
    return UnknownRecord(f"There is no deliverable {deliverable_id}; check the link.")
