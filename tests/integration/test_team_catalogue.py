"""The studio's catalogue, words and tasks in Notion, on the local stack, as the team works them through the
emulator with the human token: a price or a feature changed in Services reaches the intake form and the next
checkout within seconds (a bad change is refused with one comment); an e-mail's wording changed in Messages is
used by the next e-mail (an unknown placeholder is refused with one comment); the process makes tasks and the
team completes them in Notion; a project page's brief reaches the portal (its Internal section does not); each
applied edit names its author; and a file dropped into a deliverable page becomes a deliverable."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import httpx
import psycopg
import pytest

from atelier.cli import main
from atelier.kernel.rpc import PsycopgRpc
from atelier.notion import NotionGateway
from atelier.notion.codec import plain_text
from atelier_local.lambda_runtime import LocalLambdas
from atelier_local.notion_emulator.state import PERSON_NAME
from atelier_local.stack import LocalStack, scheduled_event
from tests.integration.test_client_portal import PNG, _client, _link, _sign_in

Conn = psycopg.Connection[tuple[object, ...]]
SMALL_RENOVATION = {
    "name": "Cleo",
    "email": "cleo@example.com",
    "project_address": "1 Quiet Lane",
    "budget": 5000,
    "timeline_weeks": 8,
    "project_type": "simple_renovation",
    "has_survey": True,
    "has_drawings": True,
}


def _one(db: Conn, query: str, *params: object) -> Any:
    row = db.execute(query.encode(), params).fetchone()
    return None if row is None else (row[0] if len(row) == 1 else row)


def _sync() -> None:
    LocalLambdas().invoke("notion_sync", scheduled_event(), timeout_seconds=60)


def _within(seconds: float, check: Callable[[], Any]) -> Any:
    """`check`'s first truthy answer within `seconds` (the webhook's path), else its last."""
    stop = time.monotonic() + seconds
    while True:
        found = check()
        if found or time.monotonic() > stop:
            return found
        time.sleep(0.2)


def _page(db: Conn, source: str, key: str) -> str:
    return str(_one(db, "select page_id from notion_source_pages where source = %s and key = %s", source, key))


def _comments(team: NotionGateway, page_id: str) -> list[str]:
    return [plain_text(c.get("rich_text")) or "" for c in team.list_comments(page_id)]


def _delete_block(team: NotionGateway, block_id: str) -> None:
    """A team member deletes a block of a page, as in the app."""
    team._send(lambda: team._client.blocks.delete(block_id=block_id), safe=False, deadline=None)


def _lead(api: httpx.Client, **changes: Any) -> dict[str, Any]:
    body = SMALL_RENOVATION | changes
    answer = api.post("/leads", json=body, headers={"Idempotency-Key": f"cat-{uuid.uuid4()}"})
    assert answer.status_code in (200, 201), answer.text
    return dict(answer.json())


def test_a_price_and_a_feature_changed_in_notion_reach_the_form_and_the_next_checkout_within_seconds(
    stack: LocalStack, team: NotionGateway, api: httpx.Client, db: Conn
) -> None:
    # Given a client who paid tier 2 at its price, and the Services pages setup wrote
    paid = _client(api, db, "Ann", "ann@example.com")
    paid_before = _one(db, "select amount from payments where project_id = %s", paid)
    before = _lead(api)
    assert before["tier"] == 1
    assert before["price_cents"] == 250000
    page = _page(db, "service", "1")
    assert "Concept design: day 14" in [
        b.get("bulleted_list_item", {}).get("rich_text", [{}])[0].get("plain_text")
        for b in team.list_blocks(page)
        if b["type"] == "bulleted_list_item"
    ]

    # When a team member changes tier 1's price and adds a feature in Notion
    features = plain_text(team.retrieve_page(page)["properties"]["Features"]["rich_text"]) or ""
    team.update_page(
        page,
        {
            "Price": {"number": 2900},
            "Features": {"rich_text": [{"type": "text", "text": {"content": features + "\nA 3D model"}}]},
        },
    )

    # Then within 10 s the form's recommendation shows the new price and the feature, and the checkout charges it
    def priced() -> dict[str, Any] | None:
        answer = _lead(api)
        return answer if answer["price_cents"] == 290000 else None

    fresh = _within(10, priced)
    assert fresh, "the new price did not reach the form within 10 s"
    assert "A 3D model" in fresh["features"]
    assert "$2,900" in fresh["next_step"]["message"]
    session_id = str(fresh["checkout_url"]).rstrip("/").rsplit("/", 1)[-1]
    assert stack.stripe is not None
    assert stack.stripe.sessions[session_id]["amount_total"] == 290000
    page_html = api.post(
        "/leads",
        data={k: str(v) for k, v in SMALL_RENOVATION.items()},
        headers={"Idempotency-Key": f"cat-{uuid.uuid4()}", "Accept": "text/html"},
    ).text
    assert "$2,900" in page_html
    assert "A 3D model" in page_html
    # And the project already paid keeps what it was sold for
    assert _one(db, "select amount from payments where project_id = %s", paid) == paid_before
    audit = _one(db, "select details from audit_log where action = 'service.changed' order by created_at desc")
    assert audit["author"]["name"] == PERSON_NAME


def test_an_overlapping_band_is_refused_with_one_comment_and_the_last_good_catalogue_stays(
    stack: LocalStack, team: NotionGateway, api: httpx.Client, db: Conn
) -> None:
    page = _page(db, "service", "2")
    # When the team moves tier 2's band to begin inside tier 1's
    team.update_page(page, {"Budget From": {"number": 5000}})
    refused = _within(10, lambda: [c for c in _comments(team, page) if "overlaps" in c])
    # Then one comment says why, on that page, and nothing changed
    assert len(refused) == 1, refused
    assert "did not apply" in refused[0]
    assert _one(db, "select min_budget_cents from tiers where id = 2") == 750000
    # Even when the same edit is read again (the poll after the webhook)
    _sync()
    _sync()
    assert len([c for c in _comments(team, page) if "overlaps" in c]) == 1
    # And a negative price is refused too, while the form still routes with the last good catalogue
    team.update_page(_page(db, "service", "1"), {"Price": {"number": -5}})
    assert _within(10, lambda: [c for c in _comments(team, _page(db, "service", "1")) if "more than 0" in c])
    assert _lead(api)["price_cents"] == 250000
    # A tier with no milestones is refused
    page3 = _page(db, "service", "3")
    for block in team.list_blocks(page3):
        if block["type"] == "bulleted_list_item":
            _delete_block(team, str(block["id"]))
    _sync()
    assert [c for c in _comments(team, page3) if "no milestones" in c]
    assert _one(db, "select count(*) from milestone_templates where tier = 3") == 7


def test_the_teams_wording_is_used_by_the_next_email_and_an_unknown_placeholder_is_refused(
    stack: LocalStack, team: NotionGateway, api: httpx.Client, db: Conn
) -> None:
    project = _client(api, db, "Ann", "ann@example.com")
    _sync()
    page = _page(db, "message", "milestone_completed")
    # When the team edits the "milestone done" subject
    team.update_page(
        page,
        {
            "Subject": {
                "rich_text": [
                    {"type": "text", "text": {"content": "Good news, {client_name}: {milestone_name} is done"}}
                ]
            }
        },
    )
    assert _within(10, lambda: _one(db, "select max(version) from mail_templates where name = 'milestone_completed'"))
    # Then the next milestone e-mail uses it, and records the version
    milestone = _one(db, 'select id from milestones where project_id = %s order by "order" limit 1', project)
    db.execute("update milestones set status = 'completed' where id = %s", (milestone,))
    LocalLambdas().invoke("client_mail", scheduled_event(), timeout_seconds=60)
    subject, version = _one(
        db,
        "select subject, template_version from notifications where template = "
        "'milestone_completed' and project_id = %s",
        project,
    )
    assert subject == "Good news, Ann: Discovery and site review is done"
    assert version == 1
    # And an unknown placeholder is refused with one comment, the last good wording staying in force
    team.update_page(page, {"Subject": {"rich_text": [{"type": "text", "text": {"content": "Done: {milestone}"}}]}})
    said = _within(10, lambda: [c for c in _comments(team, page) if "{milestone}" in c])
    assert len(said) == 1
    assert "{milestone_name}" in said[0]
    _sync()
    assert len([c for c in _comments(team, page) if "{milestone}" in c]) == 1
    assert _one(db, "select max(version) from mail_templates where name = 'milestone_completed'") == 1


def test_a_lead_waiting_on_review_gets_a_task_and_completing_it_in_notion_stores_when(
    stack: LocalStack, team: NotionGateway, api: httpx.Client, db: Conn
) -> None:
    lead = _lead(api, project_type="new_build", budget=20000, email="dora@example.com", name="Dora")
    assert lead["needs_review"]
    task_id, title, due = _one(
        db, "select id, title, due_date from tasks where lead_id = %s and kind = 'contact_client'", lead["lead_id"]
    )
    assert title == "Contact the client: Dora"
    expected, left = date.today(), 2
    while left:
        expected += timedelta(days=1)
        left -= expected.isoweekday() < 6
    assert due == expected
    _sync()
    page = _one(db, "select notion_page_id from tasks where id = %s", task_id)
    assert page, "the task has no Notion page"
    assert plain_text(team.retrieve_page(page)["properties"]["Name"]["title"]) == title
    team.update_page(page, {"Status": {"status": {"name": "Done"}}})
    assert _within(10, lambda: _one(db, "select completed_at from tasks where id = %s", task_id))
    assert _one(db, "select status from tasks where id = %s", task_id) == "done"


def test_a_brief_typed_on_a_project_page_reaches_the_portal_but_not_its_internal_section(
    stack: LocalStack, team: NotionGateway, api: httpx.Client, db: Conn, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _client(api, db, "Ann", "ann@example.com")
    _sync()
    page = str(_one(db, "select notion_page_id from projects where id = %s", project))
    text = lambda kind, words: {"type": kind, kind: {"rich_text": [{"type": "text", "text": {"content": words}}]}}  # noqa: E731
    team.append_blocks(
        page,
        [
            text("heading_2", "Our brief"),
            text("paragraph", "Open the kitchen to the garden, oak throughout."),
            text("heading_2", "Internal"),
            text("paragraph", "Client is price-sensitive: hold the fee."),
        ],
    )
    assert _within(10, lambda: _one(db, "select studio_notes from projects where id = %s", project))
    portal = _sign_in(stack, _link("ann@example.com", capsys)).get(f"/portal/projects/{project}").text
    assert "From the studio" in portal
    assert "Open the kitchen to the garden" in portal
    assert "price-sensitive" not in portal
    notes = _one(db, "select markdown from project_notes where project_id = %s", project)
    assert "price-sensitive" in notes  # the team's own, kept and searchable
    found = PsycopgRpc(stack.database_url).rpc("search_project_notes", p_query="garden oak")
    assert [r["project_id"] for r in found] == [project]


def test_an_edit_by_a_named_notion_user_names_them_in_the_audit_row_and_the_history(
    stack: LocalStack, team: NotionGateway, api: httpx.Client, db: Conn
) -> None:
    project = _client(api, db, "Ann", "ann@example.com")
    _sync()
    page = str(_one(db, "select notion_page_id from projects where id = %s", project))
    team.update_page(page, {"Name": {"title": [{"type": "text", "text": {"content": "Ann's garden room"}}]}})
    details = _within(
        10,
        lambda: _one(db, "select details from audit_log where action = 'notion.changed' and resource_id = %s", project),
    )
    assert details["author"]["name"] == PERSON_NAME
    history = _one(db, "select summary from project_history where project_id = %s and kind = 'team_edit'", project)
    assert PERSON_NAME in history
    assert "name" in history


def test_a_png_dropped_into_a_deliverable_page_becomes_a_downloadable_deliverable(
    stack: LocalStack, team: NotionGateway, api: httpx.Client, db: Conn, tmp_path: Any
) -> None:
    project = _client(api, db, "Ann", "ann@example.com")
    _sync()
    project_page = str(_one(db, "select notion_page_id from projects where id = %s", project))
    source = _one(db, "select data_source_id from notion_properties where entity = 'deliverable' limit 1")
    upload = team.upload_file("garden.png", "image/png", PNG)
    properties = {
        "Name": {"title": [{"type": "text", "text": {"content": "Garden view"}}]},
        "Project": {"relation": [{"id": project_page}]},
        "File": {"files": [{"type": "file_upload", "file_upload": {"id": upload}, "name": "garden.png"}]},
    }
    made = team._send(
        lambda: team._client.pages.create(parent={"data_source_id": str(source)}, properties=properties),
        safe=False,
        deadline=None,
    )
    found = _within(
        10,
        lambda: _one(
            db,
            "select id, file_path, notion_page_id from deliverables where project_id = %s and name = 'garden.png'",
            project,
        ),
    )
    assert found, "the dropped file did not become a deliverable"
    deliverable, key, page = found
    assert key.endswith(f"projects/{project}/Photo/garden.png")
    assert page == made["id"]
    link = _one(db, "select file_url from deliverables where id = %s", deliverable)
    assert httpx.get(link, follow_redirects=True, timeout=30).content == PNG
    # Seen again (the poll after the webhook), it is not taken twice
    _sync()
    assert _one(db, "select count(*) from deliverables where project_id = %s and name = 'garden.png'", project) == 1


@pytest.fixture
def stack_env() -> dict[str, str]:
    return {"TEAM_EMAIL": "team@studio.example"}


def test_overdue_tasks_are_in_the_report_the_cli_and_one_digest_a_day(
    stack: LocalStack, team: NotionGateway, api: httpx.Client, db: Conn, capsys: pytest.CaptureFixture[str]
) -> None:
    lead = _lead(api, project_type="new_build", budget=20000, email="eve@example.com", name="Eve")
    db.execute("update tasks set due_date = current_date - 3 where lead_id = %s", (lead["lead_id"],))
    capsys.readouterr()
    assert main(["task", "list", "--overdue"]) == 1  # a finding: something is overdue
    assert "Contact the client: Eve" in capsys.readouterr().out
    for _ in range(2):  # the first mail run of the day queues it; the next finds it queued
        LocalLambdas().invoke("client_mail", scheduled_event(), timeout_seconds=60)
    digests = db.execute(
        "select recipient, subject, body_text from notifications where template = 'task_digest'"
    ).fetchall()
    assert len(digests) == 1
    recipient, subject, text = digests[0]
    assert recipient == "team@studio.example"
    assert "1 overdue" in str(subject)
    assert "Contact the client: Eve" in str(text)
    assert "3 days overdue" in str(text)
    capsys.readouterr()
    assert main(["report"]) == 0
    assert "Overdue tasks" in capsys.readouterr().out
