"""A deliverable's download link (refused when bad, expired or unknown) and the upload command's refusals."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import httpx
import psycopg
import pytest

from atelier import cli
from atelier.deliverables.links import DownloadLinks
from tests.integration.showcase import PNG, Studio, download

Conn = psycopg.Connection[tuple[object, ...]]


# --- the download route ---------------------------------------------------------------------------


def test_download_links_refuse_bad_and_expired_tokens_and_unknown_ids(studio: Studio) -> None:
    studio.put(studio.key("plan.png"), PNG)
    studio.settle()
    row = studio.db.execute("select id::text, file_url from deliverables").fetchone()
    assert row is not None
    deliverable_id, link = str(row[0]), str(row[1])
    assert studio.stack.front_door is not None
    base = studio.stack.front_door.url
    links = DownloadLinks(os.environ["DOWNLOAD_TOKEN_KEY"].encode(), base)
    other = str(uuid.uuid4())
    cases = {
        "no token": (f"{base}/deliverables/{deliverable_id}/download", 403),
        "tampered": (link[:-2] + ("AA" if not link.endswith("AA") else "BB"), 403),
        "another id's token": (f"{base}/deliverables/{deliverable_id}/download?token={links.token(other)}", 403),
        "expired": (links.url(deliverable_id, expires=int(time.time()) - 60), 403),
        "forged by another key": (DownloadLinks(b"k" * 32, base).url(deliverable_id), 403),
        "unknown id": (links.url(other), 404),
        "not an id": (f"{base}/deliverables/nope/download?token=0.x", 404),
    }
    for case, (url, status) in cases.items():
        response = httpx.get(url, follow_redirects=False, timeout=30)
        assert response.status_code == status, case
        assert response.json()["error"] == ("forbidden" if status == 403 else "not_found"), case
    assert download(links.url(deliverable_id, expires=int(time.time()) + 60)).content == PNG
    studio.db.execute("update deliverables set deleted_at = now()")
    assert httpx.get(link, follow_redirects=False, timeout=30).status_code == 404


# --- the upload command's refusals ---------------------------------------------------------------


def test_the_upload_command_refuses_what_it_cannot_do_and_says_what_to_do(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, studio: Studio
) -> None:
    monkeypatch.chdir(tmp_path)
    png = tmp_path / "plan.png"
    png.write_bytes(PNG)
    cases = {
        "an unknown project": ([str(uuid.uuid4()), str(png)], "there is no live project"),
        "not a project id": (["not-a-uuid", str(png)], "is not a project id"),
        "no such file": ([studio.project_id, str(tmp_path / "missing.png")], "is not a file"),
    }
    for case, (args, message) in cases.items():
        assert cli.main(["deliverable", "upload", *args]) == 2, case
        assert message in capsys.readouterr().err, case
    monkeypatch.setenv("S3_ENDPOINT_URL", "http://127.0.0.1:9")
    assert cli.main(["deliverable", "upload", studio.project_id, str(png)]) == 2
    assert "could not upload to s3://" in capsys.readouterr().err
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:9/none")
    assert cli.main(["deliverable", "upload", studio.project_id, str(png)]) == 2
    assert "cannot reach the database" in capsys.readouterr().err
    assert studio.client.list_objects_v2(Bucket=studio.s3.bucket).get("KeyCount") == 0
    assert studio.rows() == []
