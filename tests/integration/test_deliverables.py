"""Deliverables end to end on the local stack: moto's S3 server notifies `deliverable_uploaded` with real S3
events, which records them in real Postgres and pushes showcase pages to the Notion emulator.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import psycopg
import pytest

from atelier import cli, wiring
from atelier.deliverables.service import DeliverableService
from atelier.deliverables.storage import DownloadLinks
from atelier.kernel.rpc import PsycopgRpc
from atelier.kernel.settings import NotionSettings, SyncSettings, load
from atelier.notion import gateway_from_settings
from atelier.notion.schema import plain_text
from atelier_local.notion_emulator import NotionEmulator
from atelier_local.s3_local import LocalS3
from atelier_local.samples import paid_project, stored_lead
from atelier_local.stack import LocalStack
from tests.events import load_event

Conn = psycopg.Connection[tuple[object, ...]]

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")  # fmt: skip


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
        self.project_page = db.execute("select notion_page_id from projects where id = %s",
                                       (self.project_id,)).fetchone()[0]  # type: ignore[index]  # fmt: skip
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
        return self.db.execute("select name, version, category::text, file_type, file_size, uploaded_by, s3_version_id"
                               " from deliverables order by created_at, version").fetchall()  # fmt: skip

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


@pytest.fixture
def studio(stack: LocalStack, rpc: PsycopgRpc, db: Conn, tmp_path: Path) -> Studio:
    return Studio(stack, rpc, db, tmp_path)


def _blocks(studio: Studio, page_id: str) -> list[dict[str, Any]]:
    return studio.gateway.list_blocks(page_id)


def _uploaded_bytes(notion: NotionEmulator, block: dict[str, Any]) -> bytes:
    """The bytes behind an emulated file block made from a File Upload (its URL names the upload)."""
    url = block[block["type"]]["file"]["url"]
    upload_id = url.split("/")[-2]
    data = notion.state.uploads[upload_id]["data"]
    assert isinstance(data, bytes)
    return data


def _download(link: str) -> httpx.Response:
    redirect = httpx.get(link, follow_redirects=False, timeout=30)
    assert redirect.status_code == 302, redirect.text
    assert redirect.headers["cache-control"] == "no-store"
    return httpx.get(redirect.headers["location"], timeout=30)


# --- the "done when" --------------------------------------------------------------------


def test_cli_upload_of_a_png_gives_one_row_one_page_with_the_image_and_a_working_link(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, studio: Studio
) -> None:
    # (capsys first: the functions' own output then still goes to their logs, where the metrics are read.)
    monkeypatch.chdir(tmp_path)  # no .atelier/dev.json of a developer's own run
    png = tmp_path / "kitchen plan.png"
    png.write_bytes(PNG)

    code = cli.main(["deliverable", "upload", studio.project_id, str(png), "--category", "Photo",
                     "--uploaded-by", "mia@studio.example"])  # fmt: skip
    studio.settle()

    out = capsys.readouterr().out
    assert code == 0, out
    assert studio.rows() == [("kitchen plan.png", 1, "Photo", "image/png", len(PNG), "mia@studio.example",
                              studio.rows()[0][6])]  # fmt: skip
    (page,) = studio.pages()
    props = page["properties"]
    assert props["Project"]["relation"] == [{"id": studio.project_page}]
    assert plain_text(props["Name"]["title"]) == "kitchen plan.png"
    assert props["Category"]["select"]["name"] == "Photo"
    assert props["Uploaded"]["date"]["start"]
    link = props["File"]["url"]
    assert f"/deliverables/{studio.db.execute('select id from deliverables').fetchone()[0]}/download?token=" in link  # type: ignore[index]
    assert f"download:   {link}" in out
    image = _blocks(studio, page["id"])[0]
    assert image["type"] == "image"
    assert _uploaded_bytes(studio.notion, image) == PNG
    assert _download(link).content == PNG
    assert studio.metric("DeliverableRecorded") == 1


def test_the_same_event_delivered_again_changes_nothing(studio: Studio) -> None:
    studio.put(studio.key("plan.png"), PNG)
    studio.settle()
    event = studio.s3.delivered[-1]
    before = (studio.rows(), len(studio.pages()), len(studio.audit("deliverable.uploaded")))

    answer = studio.invoke(event)

    assert [r["outcome"] for r in answer["records"]] == ["duplicate"]
    assert (studio.rows(), len(studio.pages()), len(studio.audit("deliverable.uploaded"))) == before
    assert before[1:] == (1, 1)
    assert studio.db.execute("select count(*) from sync_outbox where entity = 'deliverable'").fetchone() == (1,)
    assert studio.metric("DeliverableDuplicate") == 1


def test_five_concurrent_deliveries_of_one_event_record_it_once(studio: Studio) -> None:
    from concurrent.futures import ThreadPoolExecutor

    studio.put(studio.key("plan.png"), PNG)
    studio.settle()
    event = studio.s3.delivered[-1]
    service = DeliverableService(studio.rpc, studio.client, DownloadLinks(os.environ["DOWNLOAD_TOKEN_KEY"].encode(),
                                                                          "http://x"))  # fmt: skip
    from aws_lambda_powertools.utilities.data_classes import S3Event

    record = next(S3Event(event).records)
    with ThreadPoolExecutor(5) as pool:
        outcomes = Counter(r.outcome for r in pool.map(lambda _: service.record(record), range(5)))
    assert outcomes == Counter({"duplicate": 5})
    assert len(studio.rows()) == 1


def test_a_reupload_of_the_same_key_is_recorded_as_its_next_version(studio: Studio) -> None:
    first, second = PNG, PNG + b"v2"
    v1 = studio.put(studio.key("plan.png"), first)
    v2 = studio.put(studio.key("plan.png"), second)
    studio.settle()

    rows = studio.rows()
    assert [(r[0], r[1], r[6]) for r in rows] == [("plan.png", 1, v1), ("plan.png (v2)", 2, v2)]
    links = {r[0]: r[1] for r in studio.db.execute("select version, file_url from deliverables").fetchall()}
    assert _download(str(links[1])).content == first
    assert _download(str(links[2])).content == second
    assert sorted(plain_text(p["properties"]["Name"]["title"]) or "" for p in studio.pages()) == [
        "plan.png", "plan.png (v2)"]  # fmt: skip


# --- odd input: none crashes, none is lost --------------------------------------------------------


def test_keys_outside_the_convention_are_logged_and_ignored(studio: Studio) -> None:
    studio.put("projects/not-a-project/Photo/a.png", PNG)
    studio.put(f"projects/{studio.project_id}/Photo/", b"")  # a "folder" made by a console
    studio.put(f"projects/{studio.project_id}/loose.png", PNG)
    studio.put("elsewhere/a.png", PNG)  # outside the notification's prefix: never delivered
    studio.settle()

    assert studio.rows() == []
    assert studio.audit("deliverable.orphan") == []
    assert studio.metric("DeliverableKeyIgnored") == 3
    assert len(studio.s3.delivered) == 3
    event = load_event("s3_object_created")
    event["Records"][0]["s3"]["object"]["key"] = "misc/notes.txt"
    assert [r["outcome"] for r in studio.invoke(event)["records"]] == ["ignored"]


def test_an_unknown_project_is_an_orphan_in_the_audit_log_with_a_metric(studio: Studio) -> None:
    stranger = str(uuid.uuid4())
    studio.put(studio.key("lost.png", project_id=stranger), PNG, uploaded_by="sam")
    studio.settle()
    studio.invoke(studio.s3.delivered[-1])  # redelivered: still one entry

    assert studio.rows() == []
    (orphan,) = studio.audit("deliverable.orphan")
    assert (orphan["project_id"], orphan["reason"], orphan["uploaded_by"]) == (stranger, "unknown project", "sam")
    assert studio.db.execute("select outcome::text, reason from inbound_events where source = 's3'").fetchall() == [
        ("rejected", "unknown project")]  # fmt: skip
    assert studio.metric("DeliverableOrphan") == 1


def test_a_deleted_project_is_an_orphan_too(studio: Studio) -> None:
    studio.db.execute("update projects set deleted_at = now() where id = %s", (studio.project_id,))
    studio.put(studio.key("late.pdf", "Document"), b"%PDF-1.4")
    studio.settle()
    assert studio.rows() == []
    assert [o["reason"] for o in studio.audit("deliverable.orphan")] == ["deleted project"]


def test_a_zero_byte_file_is_recorded_and_its_page_links_to_it(studio: Studio) -> None:
    studio.put(studio.key("empty.txt", "Document"), b"")
    studio.settle()
    assert studio.rows()[0][:5] == ("empty.txt", 1, "Document", "text/plain", 0)
    (page,) = studio.pages()
    blocks = _blocks(studio, page["id"])
    assert blocks[0]["type"] == "file"
    assert blocks[0]["file"]["external"]["url"] == page["properties"]["File"]["url"]
    assert studio.notion.state.uploads == {}
    assert _download(page["properties"]["File"]["url"]).content == b""


def test_a_file_over_the_upload_limit_is_linked_not_uploaded(studio: Studio) -> None:
    big = b"%PDF-1.7\n" + b"0" * studio.gateway.max_upload_bytes()
    studio.put(studio.key("survey.pdf", "Drawing"), big, content_type="application/pdf")
    studio.settle()
    assert studio.rows()[0][2:5] == ("Drawing", "application/pdf", len(big))
    (page,) = studio.pages()
    assert [b["type"] for b in _blocks(studio, page["id"])] == ["file", "paragraph"]
    assert studio.notion.state.uploads == {}


def test_a_pdf_within_the_limit_is_shown_on_the_page(studio: Studio) -> None:
    studio.put(studio.key("brief.pdf", "Document"), b"%PDF-1.4 brief")
    studio.settle()
    (page,) = studio.pages()
    block = _blocks(studio, page["id"])[0]
    assert block["type"] == "pdf"
    assert _uploaded_bytes(studio.notion, block) == b"%PDF-1.4 brief"


def test_a_very_large_object_is_recorded_with_its_size(studio: Studio) -> None:
    """5 TiB, S3's largest object: more than moto can hold, so HEAD answers for it."""

    class HugeObject:
        def head_object(self, **_: Any) -> dict[str, Any]:
            return {"ContentLength": 5 * 1024**4, "ContentType": "video/mp4", "VersionId": "v-huge", "Metadata": {}}

    from aws_lambda_powertools.utilities.data_classes import S3Event

    event = load_event("s3_object_created")
    event["Records"][0]["s3"]["object"].update(key=quote(studio.key("walkthrough.mp4", "Render")), size=5 * 1024**4)
    links = DownloadLinks(os.environ["DOWNLOAD_TOKEN_KEY"].encode(), "http://x")
    recorded = DeliverableService(studio.rpc, HugeObject(), links).record(next(S3Event(event).records))  # type: ignore[arg-type]
    assert recorded.outcome == "applied"
    assert studio.rows()[0][2:5] == ("Render", "video/mp4", 5 * 1024**4)


def test_unicode_and_spaces_in_the_name_survive_the_round_trip(studio: Studio) -> None:
    name = "Façade view (1) \u2013 final.png"  # an en dash
    studio.put(studio.key(name), PNG, content_type="image/png")
    studio.settle()
    assert studio.s3.delivered[-1]["Records"][0]["s3"]["object"]["key"].endswith(
        "Fa%C3%A7ade+view+%281%29+%E2%80%93+final.png"
    )
    assert studio.rows()[0][0] == name
    (page,) = studio.pages()
    assert plain_text(page["properties"]["Name"]["title"]) == name
    response = _download(page["properties"]["File"]["url"])
    assert response.content == PNG
    assert "filename*=UTF-8''Fa%C3%A7ade%20view%20%281%29%20%E2%80%93%20final.png" in response.headers[
        "content-disposition"]  # fmt: skip


# --- Notion down: delayed, never lost -------------------------------------------------------------


def test_a_notion_outage_delays_the_showcase_page_and_the_sweep_makes_it(studio: Studio) -> None:
    studio.notion.set_faults(error_rate=1.0, error_statuses=(503,))
    studio.put(studio.key("plan.png"), PNG)
    studio.settle()
    assert len(studio.rows()) == 1
    assert studio.db.execute("select status::text, attempts > 0 from sync_outbox where entity = 'deliverable'"
                             ).fetchone() == ("pending", True)  # fmt: skip
    studio.notion.set_faults(error_rate=0.0)
    studio.db.execute("update sync_outbox set next_attempt_at = now() where entity = 'deliverable'")

    wiring.outbox_pusher().sweep()  # with the showcase content, as the functions wire it

    (page,) = studio.pages()
    assert _uploaded_bytes(studio.notion, _blocks(studio, page["id"])[0]) == PNG


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
    assert _download(links.url(deliverable_id, expires=int(time.time()) + 60)).content == PNG
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
