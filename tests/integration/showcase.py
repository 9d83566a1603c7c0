"""The studio the deliverable tests work in: the local stack's S3, Postgres and Notion emulator, a paid project
to upload to, and helpers to read what came of an upload."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import psycopg

from atelier import wiring
from atelier.kernel.rpc import PsycopgRpc
from atelier.kernel.settings import NotionSettings, SyncSettings, load
from atelier.notion import gateway_from_settings
from atelier_local.notion_emulator import NotionEmulator
from atelier_local.s3_local import LocalS3
from atelier_local.samples import paid_project, stored_lead
from atelier_local.stack import LocalStack

Conn = psycopg.Connection[tuple[object, ...]]

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


class Studio:
    """The local stack with Notion set up and one paid project whose page exists."""

    def __init__(self, stack: LocalStack, rpc: PsycopgRpc, db: Conn, tmp_path: Path) -> None:
        assert stack.s3 is not None
        assert stack.notion is not None
        self.stack, self.rpc, self.db, self.tmp_path = stack, rpc, db, tmp_path
        self.s3: LocalS3 = stack.s3
        self.notion: NotionEmulator = stack.notion
        self.sources = stack.setup_notion()
        self.gateway = gateway_from_settings(load(NotionSettings))
        self.data_sources = load(SyncSettings).data_sources()
        self.project_id = paid_project(rpc, stored_lead(rpc))
        wiring.outbox_pusher().sweep()
        self.project_page = db.execute(
            "select notion_page_id from projects where id = %s", (self.project_id,)
        ).fetchone()[0]  # type: ignore[index]
        self.client = self.s3.s3()

    def put(self, key: str, body: bytes, *, content_type: str = "", uploaded_by: str | None = None) -> str:
        args: dict[str, Any] = {"Bucket": self.s3.bucket, "Key": key, "Body": body}
        if content_type:
            args["ContentType"] = content_type
        if uploaded_by:
            args["Metadata"] = {"uploaded-by": uploaded_by}
        return str(self.client.put_object(**args).get("VersionId"))

    def key(self, name: str, category: str = "Photo", project_id: str | None = None) -> str:
        return f"projects/{project_id or self.project_id}/{category}/{name}"

    def settle(self) -> None:
        assert self.s3.wait_idle(), "S3 notifications were not all handled"

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        result = self.stack.front_door_lambdas().invoke("deliverable_uploaded", event, timeout_seconds=60)
        assert isinstance(result, dict)
        return result

    def rows(self) -> list[tuple[Any, ...]]:
        return self.db.execute(
            "select name, version, category::text, file_type, file_size, uploaded_by, s3_version_id"
            " from deliverables order by created_at, version"
        ).fetchall()

    def pages(self) -> list[dict[str, Any]]:
        return list(self.gateway.query(self.data_sources["deliverable"]))

    def metric(self, name: str) -> float:
        """The sum of one metric in the function's log (Powertools' EMF lines, as CloudWatch would read them)."""
        path = self.tmp_path / "logs" / "deliverable_uploaded.log"
        total = 0.0
        for line in path.read_text().splitlines() if path.exists() else []:
            if line.startswith("{") and '"_aws"' in line:
                value = json.loads(line).get(name)
                total += sum(value) if isinstance(value, list) else float(value or 0)
        return total

    def audit(self, action: str) -> list[dict[str, Any]]:
        rows = self.db.execute("select details from audit_log where action = %s", (action,)).fetchall()
        return [r[0] for r in rows]  # type: ignore[misc]


def blocks_of(studio: Studio, page_id: str) -> list[dict[str, Any]]:
    return studio.gateway.list_blocks(page_id)


def uploaded_bytes(notion: NotionEmulator, block: dict[str, Any]) -> bytes:
    """The bytes behind an emulated file block made from a File Upload (its URL names the upload)."""
    url = block[block["type"]]["file"]["url"]
    upload_id = url.split("/")[-2]
    data = notion.state.uploads[upload_id]["data"]
    assert isinstance(data, bytes)
    return data


def download(link: str) -> httpx.Response:
    redirect = httpx.get(link, follow_redirects=False, timeout=30)
    assert redirect.status_code == 302, redirect.text
    assert redirect.headers["cache-control"] == "no-store"
    return httpx.get(redirect.headers["location"], timeout=30)
