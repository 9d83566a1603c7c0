"""The team renames and deletes properties by hand, with the human token, on the local stack; the sync holds."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from atelier.cli import main
from atelier.kernel.rpc import PsycopgRpc
from atelier.notion import NotionGateway
from atelier.notion.budget import RequestBudget
from atelier.notion.codec import plain_text
from atelier_local.lambda_runtime import LocalLambdas
from atelier_local.samples import paid_project, stored_lead
from atelier_local.stack import LocalStack, scheduled_event
from tests.seed_catalogue import TIER_NAME

Conn = psycopg.Connection[tuple[object, ...]]


@pytest.fixture
def sources(stack: LocalStack) -> dict[str, str]:
    ids = stack.setup_notion()
    return {
        name.removeprefix("NOTION_").removesuffix("_DATA_SOURCE_ID").lower(): value
        for name, value in ids.items()
        if name.endswith("_DATA_SOURCE_ID")
    }


@pytest.fixture
def team(stack: LocalStack) -> NotionGateway:
    assert stack.notion is not None
    return NotionGateway(stack.notion.state.human_token, base_url=stack.notion.url, budget=RequestBudget(rate=2000))


def _sync() -> dict[str, Any]:
    return dict(LocalLambdas().invoke("notion_sync", scheduled_event(), timeout_seconds=60))


def _paid_project(database_url: str) -> str:
    rpc = PsycopgRpc(database_url)
    return paid_project(rpc, stored_lead(rpc))


def test_every_mapped_property_renamed_by_hand_and_the_sync_goes_on(
    stack: LocalStack,
    sources: dict[str, str],
    team: NotionGateway,
    database_url: str,
    db: Conn,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for entity in ("project", "milestone"):
        schema = team.retrieve_data_source(sources[entity])["properties"]
        team.update_data_source(sources[entity], {p["id"]: {"name": f"{name} (team)"} for name, p in schema.items()})

    project_id = _paid_project(database_url)
    first = _sync()
    assert (first["failed"], first["created"]) == (0, 9)  # lead, client, project, 5 milestones, its kickoff task

    (page_id,) = db.execute("select notion_page_id from projects where id = %s", (project_id,)).fetchone() or ()
    props = team.retrieve_page(str(page_id))["properties"]
    assert set(props) == {
        f"{n} (team)"
        for n in (
            "Name",
            "Tier",
            "Client",
            "Status",
            "Payment",
            "Needs Review",
            "Amount Paid",
            "Balance Due",
            "Disputed",
            "Paid On",
            "Owner",
            "Client Score",
            "Client Feedback",
            "Atelier ID",
            "Last Synced",
            "Milestones",
            "Deliverables",
            "Tasks",  # the other side of the Tasks' Project relation
        )
    }
    assert plain_text(props["Name (team)"]["title"])
    assert props["Tier (team)"]["select"]["name"] == TIER_NAME[2]
    assert len(props["Client (team)"]["relation"]) == 1
    assert props["Status (team)"]["select"]["name"] == "Onboarding"  # the studio's word for the code
    assert props["Payment (team)"]["select"]["name"] == "Paid"
    assert props["Needs Review (team)"]["checkbox"] is False
    assert props["Amount Paid (team)"]["number"] == 7500
    assert (props["Balance Due (team)"]["number"], props["Disputed (team)"]["number"]) == (0, 0)
    assert plain_text(props["Atelier ID (team)"]["rich_text"]) == f"project:{project_id}"
    assert props["Last Synced (team)"]["date"]["start"]

    (milestone_id, milestone_page) = db.execute(
        'select id, notion_page_id from milestones where project_id = %s order by "order" limit 1', (project_id,)
    ).fetchone() or (None, None)
    shown = team.retrieve_page(str(milestone_page))["properties"]
    assert shown["Status (team)"]["status"]["name"] == "Not started"
    assert shown["Project (team)"]["relation"] == [{"id": str(page_id)}]
    team.update_page(str(milestone_page), {"Status (team)": {"status": {"name": "Done"}}})
    second = _sync()
    assert second["applied"] == 1
    assert db.execute("select status::text from milestones where id = %s", (milestone_id,)).fetchone() == ("completed",)

    capsys.readouterr()
    assert main(["notion", "check"]) == 0
    out = capsys.readouterr().out
    assert "'Atelier ID' is called 'Atelier ID (team)' now" in out
    assert "'Last Synced' is called 'Last Synced (team)' now" in out


def test_a_deleted_property_stops_its_rows_until_setup_recreates_it_then_they_go_untouched(
    stack: LocalStack,
    sources: dict[str, str],
    team: NotionGateway,
    database_url: str,
    db: Conn,
    capsys: pytest.CaptureFixture[str],
) -> None:
    team.update_data_source(sources["project"], {"Payment": None})
    project_id = _paid_project(database_url)

    first = _sync()
    assert first["failed"] == 0  # waiting is not failing
    assert first["waiting_for_schema"] == 1  # the project; its milestones wait for its page
    waiting = db.execute(
        "select entity::text, failure, last_error from sync_outbox where status = 'pending' order by id"
    ).fetchall()
    assert {(entity, failure) for entity, failure, _ in waiting} == {
        ("project", "waiting"),
        ("milestone", "waiting"),
        ("task", "waiting"),  # the kickoff task waits for its project's page too
    }
    assert any("'Payment' (select) is gone" in str(error) for _, _, error in waiting)
    again = _sync()  # the next run looks again, finds it still broken, and asks Notion for nothing per row
    assert (again["failed"], again["created"]) == (0, 0)
    assert db.execute("select sum(refusals) from sync_outbox").fetchone() == (0,)

    capsys.readouterr()
    assert main(["sync", "run"]) == 1  # a finding: the rows wait, and the run says why, once
    assert capsys.readouterr().err.count("project rows wait: Projects: 'Payment' (select) is gone") == 1
    assert main(["notion", "check"]) == 1
    assert "'Payment' (select) is gone" in capsys.readouterr().out
    assert main(["notion", "setup"]) == 0
    assert "row(s) that waited for the schema are due now" in capsys.readouterr().err

    after = _sync()  # no `outbox retry`: the rows were released by setup
    assert (after["failed"], after["created"]) == (0, 7)  # the project, its 5 milestones and its kickoff task
    assert db.execute("select count(*) from sync_outbox where status <> 'done'").fetchone() == (0,)
    (page_id,) = db.execute("select notion_page_id from projects where id = %s", (project_id,)).fetchone() or ()
    assert team.retrieve_page(str(page_id))["properties"]["Payment"]["select"]["name"] == "Paid"
