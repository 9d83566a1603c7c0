"""Where the files are: the `ObjectStore` port the deliverables use, its S3 adapter (the only code that speaks to
S3 or reads botocore's errors), and the settings that say which bucket and which links. `boto3` is imported only
when a client is built."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from atelier.kernel.errors import AtelierError, ConfigurationError
from atelier.kernel.settings import secret

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from atelier.deliverables.links import DownloadLinks

PRESIGNED_SECONDS = 300  # a fresh URL per click; it only has to last until the browser follows it


class ObjectUnreadable(AtelierError):
    """The store could not give an object's bytes (gone, refused, unreachable)."""


class ObjectStore(Protocol):
    """A file as the deliverables see it: `file` is `deliverable_file`'s answer (bucket, key, version_id)."""

    def head(self, bucket: str, key: str, version_id: str | None) -> dict[str, Any] | None:
        """The object's metadata (ContentType, ContentLength, Metadata, VersionId), or None when it is gone."""
        ...

    def read(self, file: dict[str, Any]) -> bytes:
        """The object's bytes, or `ObjectUnreadable`."""
        ...

    def download_url(self, file: dict[str, Any]) -> str:
        """A URL that downloads the object under its own name, for a few minutes."""
        ...

    def put(self, bucket: str, key: str, data: bytes, content_type: str) -> None:
        """Store a file (a client's attachment), or `ObjectUnreadable` when the store refuses it."""
        ...

    def delete(self, bucket: str, key: str) -> None:
        """Remove a file this process stored and no record came to hold."""
        ...


class S3ObjectStore:
    """The `ObjectStore` on S3; the client is built on first use, so a run that touches no file builds none."""

    def __init__(self, client: Callable[[], S3Client]) -> None:
        self._client = client

    @staticmethod
    def _where(bucket: str, key: str, version_id: str | None) -> dict[str, Any]:
        return {"Bucket": bucket, "Key": key} | ({"VersionId": version_id} if version_id else {})

    def head(self, bucket: str, key: str, version_id: str | None) -> dict[str, Any] | None:
        from botocore.exceptions import ClientError

        try:
            return dict(self._client().head_object(**self._where(bucket, key, version_id)))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NoSuchVersion"):
                return None
            raise

    def read(self, file: dict[str, Any]) -> bytes:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            where = self._where(file["bucket"], file["key"], file.get("version_id"))
            return self._client().get_object(**where)["Body"].read()
        except (BotoCoreError, ClientError) as exc:
            raise ObjectUnreadable(f"could not read {file['key']} from S3 ({exc})") from exc

    def download_url(self, file: dict[str, Any]) -> str:
        where = self._where(file["bucket"], file["key"], file.get("version_id"))
        params = where | {"ResponseContentDisposition": content_disposition(str(file["key"]))}
        return self._client().generate_presigned_url("get_object", Params=params, ExpiresIn=PRESIGNED_SECONDS)

    def put(self, bucket: str, key: str, data: bytes, content_type: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._client().put_object(Bucket=bucket, Key=key, Body=data, ContentType=content_type)
        except (BotoCoreError, ClientError) as exc:
            raise ObjectUnreadable(f"could not store {key} in S3 ({exc})") from exc

    def delete(self, bucket: str, key: str) -> None:
        self._client().delete_object(Bucket=bucket, Key=key)


def content_disposition(filename: str) -> str:
    """`attachment` with the file's own name, unicode included (RFC 6266 / 5987)."""
    last = filename.rsplit("/", 1)[-1]
    ascii_name = last.encode("ascii", "replace").decode().replace('"', "'").replace("?", "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(last, safe='')}"


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
        from atelier.deliverables.links import DownloadLinks

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
