"""Deliverables end to end on the local stack: moto's S3 server notifies `deliverable_uploaded` with real S3
events, which records them in real Postgres and pushes showcase pages to the Notion emulator.
"""

from __future__ import annotations

import os
import uuid
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
import pytest

from atelier import cli, wiring
from atelier.deliverables.links import DownloadLinks
from atelier.deliverables.service import DeliverableService
from atelier.deliverables.store import S3ObjectStore
from atelier.notion.codec import plain_text
from tests.events import load_event
from tests.integration.showcase import PNG, Studio, blocks_of, download, uploaded_bytes


def file_link(props: dict[str, Any]) -> str:
    """Atelier's download link: the File property's one external file (a file the team drops there is hosted)."""
    (link,) = [f["external"]["url"] for f in props["File"]["files"] if f["type"] == "external"]
    return str(link)


Conn = psycopg.Connection[tuple[object, ...]]


# --- the "done when" --------------------------------------------------------------------


def test_cli_upload_of_a_png_gives_one_row_one_page_with_the_image_and_a_working_link(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, studio: Studio
) -> None:
    # (capsys first: the functions' own output then still goes to their logs, where the metrics are read.)
    monkeypatch.chdir(tmp_path)  # no .atelier/dev.json of a developer's own run
    png = tmp_path / "kitchen plan.png"
    png.write_bytes(PNG)

    code = cli.main(
        [
            "deliverable",
            "upload",
            studio.project_id,
            str(png),
            "--category",
            "Photo",
            "--uploaded-by",
            "mia@studio.example",
        ]
    )
    studio.settle()

    out = capsys.readouterr().out
    assert code == 0, out
    assert studio.rows() == [
        ("kitchen plan.png", 1, "Photo", "image/png", len(PNG), "mia@studio.example", studio.rows()[0][6])
    ]
    (page,) = studio.pages()
    props = page["properties"]
    assert props["Project"]["relation"] == [{"id": studio.project_page}]
    assert plain_text(props["Name"]["title"]) == "kitchen plan.png"
    assert props["Category"]["select"]["name"] == "Photo"
    assert props["Uploaded"]["date"]["start"]
    link = file_link(props)
    assert f"/deliverables/{studio.db.execute('select id from deliverables').fetchone()[0]}/download?token=" in link  # type: ignore[index]
    assert f"download:   {link}" in out
    image = blocks_of(studio, page["id"])[0]
    assert image["type"] == "image"
    assert uploaded_bytes(studio.notion, image) == PNG
    assert download(link).content == PNG
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
    links = DownloadLinks(os.environ["DOWNLOAD_TOKEN_KEY"].encode(), "http://x")
    service = DeliverableService(studio.rpc, S3ObjectStore(lambda: studio.client), links)
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
    assert download(str(links[1])).content == first
    assert download(str(links[2])).content == second
    assert sorted(plain_text(p["properties"]["Name"]["title"]) or "" for p in studio.pages()) == [
        "plan.png",
        "plan.png (v2)",
    ]


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
        ("rejected", "unknown project")
    ]
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
    blocks = blocks_of(studio, page["id"])
    assert blocks[0]["type"] == "file"
    assert blocks[0]["file"]["external"]["url"] == file_link(page["properties"])
    assert studio.notion.state.uploads == {}
    assert download(file_link(page["properties"])).content == b""


def test_a_file_over_the_upload_limit_is_linked_not_uploaded(studio: Studio) -> None:
    big = b"%PDF-1.7\n" + b"0" * studio.gateway.max_upload_bytes()
    studio.put(studio.key("survey.pdf", "Drawing"), big, content_type="application/pdf")
    studio.settle()
    assert studio.rows()[0][2:5] == ("Drawing", "application/pdf", len(big))
    (page,) = studio.pages()
    assert [b["type"] for b in blocks_of(studio, page["id"])] == ["file", "paragraph"]
    assert studio.notion.state.uploads == {}


def test_a_pdf_within_the_limit_is_shown_on_the_page(studio: Studio) -> None:
    studio.put(studio.key("brief.pdf", "Document"), b"%PDF-1.4 brief")
    studio.settle()
    (page,) = studio.pages()
    block = blocks_of(studio, page["id"])[0]
    assert block["type"] == "pdf"
    assert uploaded_bytes(studio.notion, block) == b"%PDF-1.4 brief"


def test_a_very_large_object_is_recorded_with_its_size(studio: Studio) -> None:
    """5 TiB, S3's largest object: more than moto can hold, so HEAD answers for it."""

    class HugeObject:
        def head_object(self, **_: Any) -> dict[str, Any]:
            return {"ContentLength": 5 * 1024**4, "ContentType": "video/mp4", "VersionId": "v-huge", "Metadata": {}}

    from aws_lambda_powertools.utilities.data_classes import S3Event

    event = load_event("s3_object_created")
    event["Records"][0]["s3"]["object"].update(key=quote(studio.key("walkthrough.mp4", "Render")), size=5 * 1024**4)
    links = DownloadLinks(os.environ["DOWNLOAD_TOKEN_KEY"].encode(), "http://x")
    store = S3ObjectStore(lambda: HugeObject())  # type: ignore[arg-type,return-value]
    recorded = DeliverableService(studio.rpc, store, links).record(next(S3Event(event).records))
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
    response = download(file_link(page["properties"]))
    assert response.content == PNG
    assert (
        "filename*=UTF-8''Fa%C3%A7ade%20view%20%281%29%20%E2%80%93%20final.png"
        in response.headers["content-disposition"]
    )


# --- Notion down: delayed, never lost -------------------------------------------------------------


def test_a_notion_outage_delays_the_showcase_page_and_the_sweep_makes_it(studio: Studio) -> None:
    studio.notion.set_faults(error_rate=1.0, error_statuses=(503,))
    studio.put(studio.key("plan.png"), PNG)
    studio.settle()
    assert len(studio.rows()) == 1
    assert studio.db.execute(
        "select status::text, attempts > 0 from sync_outbox where entity = 'deliverable'"
    ).fetchone() == ("pending", True)
    studio.notion.set_faults(error_rate=0.0)
    studio.db.execute("update sync_outbox set next_attempt_at = now() where entity = 'deliverable'")

    wiring.outbox_pusher().sweep()  # with the showcase content, as the functions wire it

    (page,) = studio.pages()
    assert uploaded_bytes(studio.notion, blocks_of(studio, page["id"])[0]) == PNG
