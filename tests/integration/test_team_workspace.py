"""Notion as the team's workspace: pages the team makes become records (a lead routed as the form would route it,
a client matched by e-mail), pages that cannot be matched are reported, and all of it through the emulator with
the team's own (human) token."""

from __future__ import annotations

import time
from typing import Any

import psycopg
import pytest

from atelier.kernel.rpc import PsycopgRpc
from atelier.notion import NotionGateway
from atelier.notion.codec import ATELIER_ID, plain_text, rich_text, unlinked_filter
from atelier_local.lambda_runtime import LocalLambdas
from atelier_local.samples import paid_project, stored_lead
from atelier_local.stack import LocalStack, scheduled_event
from tests.seed_catalogue import TIER_NAME

Conn = psycopg.Connection[tuple[object, ...]]


@pytest.fixture
def sources(stack: LocalStack) -> dict[str, str]:
    ids = stack.setup_notion()
    return {
        entity: ids[f"NOTION_{entity.upper()}_DATA_SOURCE_ID"]
        for entity in ("lead", "client", "project", "milestone", "deliverable")
    }


@pytest.fixture
def team(stack: LocalStack) -> NotionGateway:
    assert stack.notion is not None
    return NotionGateway(stack.notion.state.human_token, base_url=stack.notion.url)


def _sync() -> dict[str, Any]:
    return dict(LocalLambdas().invoke("notion_sync", scheduled_event(), timeout_seconds=60))


def _made_by_hand(team: NotionGateway, source: str, properties: dict[str, Any]) -> str:
    return str(team.create_page(source, "none", properties).page["id"])


def _shown(team: NotionGateway, page_id: str) -> dict[str, Any]:
    return dict(team.retrieve_page(page_id)["properties"])


def test_a_lead_typed_into_notion_with_a_name_and_an_email_is_routed_in_one_sync(
    stack: LocalStack, sources: dict[str, str], team: NotionGateway, db: Conn
) -> None:
    page = _made_by_hand(
        team,
        sources["lead"],
        {"Name": {"title": rich_text("Phone Enquiry")}, "Email": {"email": " Caller@Example.com "}},
    )
    _sync()
    row = db.execute(
        "select id::text, email, needs_review, red_flags, routing_reason, notion_page_id, project_type from leads"
    ).fetchall()
    assert len(row) == 1
    lead_id, email, needs_review, red_flags, reason, linked, project_type = row[0]
    assert (email, needs_review, linked, project_type) == ("caller@example.com", True, page, None)
    assert {"budget_unclear", "project_type_unclear"} <= set(red_flags)  # type: ignore[call-overload]
    shown = _shown(team, page)
    assert plain_text(shown[ATELIER_ID]["rich_text"]) == f"lead:{lead_id}"
    assert shown["Tier"]["select"]["name"]  # routed, and shown on the page in the same sync
    assert plain_text(shown["Reason"]["rich_text"]) == reason
    assert shown["Confidence"]["select"]["name"] in ("High", "Medium", "Low")
    assert {o["name"] for o in shown["Red Flags"]["multi_select"]} >= {"Budget unclear", "Project type unclear"}
    # A second sync changes nothing: no second lead, no second write
    _sync()
    assert db.execute("select count(*) from leads").fetchone() == (1,)


def test_a_hand_made_lead_without_an_email_waits_and_is_routed_once_the_email_is_typed(
    stack: LocalStack, sources: dict[str, str], team: NotionGateway, db: Conn
) -> None:
    page = _made_by_hand(team, sources["lead"], {"Name": {"title": rich_text("Referral")}})
    _sync()
    assert db.execute("select count(*) from leads").fetchone() == (0,)  # nothing half-written
    assert team.query_page(sources["lead"], filter=unlinked_filter({}))["results"]  # still waiting, as the team left it
    team.update_page(page, {"Email": {"email": "referral@example.com"}, "Budget": {"rich_text": rich_text("$20k")}})
    _sync()
    assert db.execute("select email, recommended_tier from leads").fetchone() == ("referral@example.com", 3)


def test_with_webhooks_a_hand_made_lead_is_routed_within_seconds(
    stack: LocalStack, sources: dict[str, str], team: NotionGateway, db: Conn
) -> None:
    stack.connect_notion_webhooks(delay=0.2)
    page = _made_by_hand(
        team, sources["lead"], {"Name": {"title": rich_text("Walk-in")}, "Email": {"email": "walkin@example.com"}}
    )
    started = time.monotonic()
    while not plain_text(_shown(team, page)[ATELIER_ID]["rich_text"]):  # linked in Postgres, then stamped
        assert time.monotonic() - started < 15, "the webhook did not bring the lead in"
        time.sleep(0.1)
    (lead_id,) = db.execute("select id::text from leads where notion_page_id = %s", (page,)).fetchone() or ("",)
    assert plain_text(_shown(team, page)[ATELIER_ID]["rich_text"]) == f"lead:{lead_id}"
    assert _shown(team, page)["Tier"]["select"]["name"]


def test_a_client_page_with_a_known_clients_email_in_another_case_links_to_that_client(
    stack: LocalStack, sources: dict[str, str], team: NotionGateway, db: Conn, rpc: PsycopgRpc
) -> None:
    paid_project(rpc, stored_lead(rpc, 7))  # client7@example.com, a client with a page made by the sync
    _sync()
    db.execute("update clients set notion_page_id = null")  # as if Atelier's page were deleted for good
    before = db.execute("select count(*) from clients").fetchone()
    page = _made_by_hand(
        team,
        sources["client"],
        {"Name": {"title": rich_text("Client Seven")}, "Email": {"email": "  CLIENT7@Example.COM"}},
    )
    _sync()
    assert db.execute("select count(*) from clients").fetchone() == before  # matched, not made again
    assert db.execute("select notion_page_id from clients").fetchone() == (page,)
    client_id = db.execute("select id::text from clients").fetchone()
    assert plain_text(_shown(team, page)[ATELIER_ID]["rich_text"]) == f"client:{client_id[0]}"  # type: ignore[index]


def test_a_second_page_for_a_client_who_has_one_is_left_alone_and_a_new_address_with_a_tier_is_a_new_client(
    stack: LocalStack, sources: dict[str, str], team: NotionGateway, db: Conn, rpc: PsycopgRpc
) -> None:
    paid_project(rpc, stored_lead(rpc, 8))
    _sync()
    twin = _made_by_hand(
        team, sources["client"], {"Name": {"title": rich_text("Twin")}, "Email": {"email": "client8@example.com"}}
    )
    fresh = _made_by_hand(
        team,
        sources["client"],
        {
            "Name": {"title": rich_text("New Client")},
            "Email": {"email": "new@example.com"},
            "Tier": {"select": {"name": TIER_NAME[1]}},
        },
    )
    _sync()
    assert db.execute("select count(*) from clients").fetchone() == (2,)
    assert not _shown(team, twin)[ATELIER_ID]["rich_text"]  # reported by `notion check`, not linked
    (tier, linked) = db.execute(
        "select c.tier, c.notion_page_id from clients c join users u on u.id = c.user_id "
        "where u.email = 'new@example.com'"
    ).fetchone() or (None, None)
    assert (tier, linked) == (1, fresh)


def _every_option_and_value(team: NotionGateway, sources: dict[str, str]) -> set[str]:
    names: set[str] = set()
    for source in sources.values():
        for prop in team.retrieve_data_source(source)["properties"].values():
            kind = prop["type"]
            if kind in ("select", "multi_select", "status"):
                names |= {str(o["name"]) for o in prop[kind].get("options") or []}
        for page in team.query(source):
            for value in page["properties"].values():
                kind = value["type"]
                shown = value.get(kind)
                if kind in ("select", "status") and shown:
                    names.add(str(shown["name"]))
                elif kind == "multi_select":
                    names |= {str(item["name"]) for item in shown or []}
    return names


def test_notion_shows_the_studios_words_and_setup_moves_old_pages_to_them_once(
    stack: LocalStack, sources: dict[str, str], team: NotionGateway, db: Conn, rpc: PsycopgRpc
) -> None:
    paid_project(rpc, stored_lead(rpc))
    _made_by_hand(
        team, sources["lead"], {"Name": {"title": rich_text("Label Check")}, "Email": {"email": "labels@example.com"}}
    )
    _sync()
    shown = _every_option_and_value(team, sources)
    assert "In progress" in shown
    assert "Standard renovation" in shown
    assert [name for name in shown if "_" in name] == []

    # A workspace from before the labels: a project page still says "in_progress", an option of that name exists
    (page_id,) = db.execute("select notion_page_id from projects").fetchone() or ()
    status = team.retrieve_data_source(sources["project"])["properties"]["Status"]
    options = [{"id": o["id"], "name": o["name"]} for o in status["select"]["options"]] + [{"name": "in_progress"}]
    team.update_data_source(sources["project"], {status["id"]: {"select": {"options": options}}})
    team.update_page(str(page_id), {"Status": {"select": {"name": "in_progress"}}})
    _sync()  # the team's value (a code) is read as the code: the project is in progress
    assert db.execute("select status::text from projects").fetchone() == ("in_progress",)

    assert stack.notion is not None
    before = len(stack.notion.requests)
    first = stack_setup(stack)
    assert team.retrieve_page(str(page_id))["properties"]["Status"]["select"]["name"] == "In progress"
    assert [name for name in _every_option_and_value(team, sources) if "_" in name] == []
    assert first >= 1
    # Run again: no view, property or option is added, and no page is touched
    middle = len(stack.notion.requests)
    assert stack_setup(stack) == 0
    writes = [
        (r["method"], r["path"])
        for r in stack.notion.requests[middle:]
        if r["method"] in ("POST", "PATCH") and not r["path"].endswith("/query") and r["path"] != "/v1/search"
    ]
    assert writes == []
    assert middle > before


def stack_setup(stack: LocalStack) -> int:
    """`notion setup` against the stack's emulator; returns how many pages it moved to the studio's words."""
    from atelier import wiring
    from atelier.kernel.settings import NotionSettings
    from atelier.sync.setup import setup

    parent = wiring.settings(NotionSettings).notion_parent_page_id
    assert parent
    return setup(wiring.notion(), parent, rpc=wiring.rpc(), say=lambda _: None).relabelled


def test_relations_are_two_way_and_setup_makes_old_ones_two_way(
    stack: LocalStack, sources: dict[str, str], team: NotionGateway, db: Conn, rpc: PsycopgRpc
) -> None:
    paid_project(rpc, stored_lead(rpc))
    _sync()
    (project_page, client_page) = db.execute(
        "select p.notion_page_id, c.notion_page_id from projects p join clients c on c.id = p.client_id"
    ).fetchone() or ("", "")
    milestone_pages = {str(r[0]) for r in db.execute("select notion_page_id from milestones").fetchall()}
    shown = _shown(team, str(project_page))
    assert {item["id"] for item in shown["Milestones"]["relation"]} == milestone_pages
    assert shown["Deliverables"]["relation"] == []
    assert [item["id"] for item in _shown(team, str(client_page))["Projects"]["relation"]] == [project_page]

    # A workspace from before: the milestones' Project relation made one-way again (its other side gone)
    milestones = team.retrieve_data_source(sources["milestone"])["properties"]["Project"]
    team.update_data_source(
        sources["milestone"],
        {milestones["id"]: {"relation": {"data_source_id": sources["project"], "single_property": {}}}},
    )
    team.update_data_source(sources["project"], {"Milestones": None})
    assert "Milestones" not in _shown(team, str(project_page))
    stack_setup(stack)
    shown = _shown(team, str(project_page))
    assert {item["id"] for item in shown["Milestones"]["relation"]} == milestone_pages  # filled from the other side
    assert stack_setup(stack) == 0  # and a second run changes nothing


def _body(team: NotionGateway, page_id: str) -> list[str]:
    return [f"{b['type']}: {plain_text(b[b['type']].get('rich_text'))}" for b in team.list_blocks(page_id)]


def test_a_project_page_has_its_brief_and_a_history_appended_once_per_change(
    stack: LocalStack, sources: dict[str, str], team: NotionGateway, db: Conn, rpc: PsycopgRpc
) -> None:
    lead = stored_lead(rpc)
    db.execute("update leads set notes = 'Keep the old oak floor.' where id = %s", (lead,))
    project = paid_project(rpc, lead)
    _sync()
    (page,) = db.execute("select notion_page_id from projects where id = %s", (project,)).fetchone() or ("",)
    body = _body(team, str(page))
    assert body[0] == "heading_2: Brief"
    assert "bulleted_list_item: Amount paid: 7,500.00 USD" in body
    assert "bulleted_list_item: Client's notes: Keep the old oak floor." in body
    assert f"bulleted_list_item: Tier: {TIER_NAME[2]}" in body
    assert body[-2:] == ["heading_2: History", f"bulleted_list_item: {body[-1].split(': ', 1)[1]}"]
    assert body[-1].endswith(": Paid 7,500.00 USD")

    (milestone,) = db.execute(
        'select notion_page_id from milestones where project_id = %s order by "order" limit 1', (project,)
    ).fetchone() or ("",)
    team.update_page(str(milestone), {"Status": {"status": {"name": "Done"}}})
    _sync()  # the poll applies it (and queues the history row), the next run appends it
    _sync()
    _sync()
    after = _body(team, str(page))
    assert len(after) == len(body) + 1  # one item, no second heading, nothing rewritten
    assert after[:-1] == body
    # The line names who marked it done in Notion.
    assert after[-1].endswith(": Milestone done: Discovery and site review (Studio Team)")
    assert db.execute("select count(*) from project_history where status = 'pending'").fetchone() == (0,)


def test_a_page_atelier_refuses_is_left_for_the_team_and_the_sync_goes_on(
    stack: LocalStack, sources: dict[str, str], team: NotionGateway, db: Conn
) -> None:
    page = _made_by_hand(
        team, sources["lead"], {"Name": {"title": rich_text("Twice")}, "Email": {"email": "twice@example.com"}}
    )
    _sync()
    # The team clears its Atelier ID and changes an answer: the page now says other things than the lead it became
    team.update_page(page, {ATELIER_ID: {"rich_text": []}, "Budget": {"rich_text": rich_text("$50k")}})
    outcome = _sync()
    assert outcome.get("failed", 0) == 0
    assert db.execute("select count(*) from leads").fetchone() == (1,)  # not a second lead, and no error
