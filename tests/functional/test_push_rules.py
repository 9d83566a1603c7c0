"""Postgres -> Notion rules, against in-memory ports: what each push sends, and what it must not send."""

from __future__ import annotations

from typing import Any

from atelier.notion import Failure, NotionError
from atelier.notion.codec import ATELIER_ID, LAST_SYNCED
from atelier.sync import OutboxPusher
from tests.functional.fakes import FakeNotion, FakeRpc, page_values, sync_ports
from tests.seed_catalogue import TIER_NAME

SOURCES = {
    "lead": "ds-lead",
    "client": "ds-client",
    "project": "ds-project",
    "milestone": "ds-milestone",
    "deliverable": "ds-deliverable",
    "task": "ds-task",
}
LEAD = {
    "id": "0b6f6a8e-6f3c-4f35-9d2b-9b5c0c1d2e3f",
    "name": "Ada Lovelace",
    "email": "ada@example.com",
    "tier_name": TIER_NAME[2],
    "status": "qualified",
    "budget_range": "$10k-15k",
    "timeline_weeks": 8,
    "project_type": "standard_renovation",
    "needs_review": False,
    "routing_reason": "Budget fits tier 2.",
}


def engine(contents: dict[str, Any] | None = None) -> tuple[FakeRpc, FakeNotion, OutboxPusher]:
    rpc, notion = FakeRpc(), FakeNotion()
    return rpc, notion, OutboxPusher(sync_ports(rpc, notion, SOURCES, contents))


def test_a_new_record_is_one_create_with_every_field_its_atelier_id_and_last_synced() -> None:
    # Given a lead never pushed
    rpc, notion, pusher = engine()
    lead_id = rpc.queue("lead", LEAD)

    # When the outbox is swept
    report = pusher.sweep()

    # Then one call made the page, carrying every mapped value, the Atelier ID and "Last Synced"
    assert notion.names() == ["create_page"]
    assert report.created == 1
    assert rpc.completed[0]["ok"]
    (page,) = notion.pages.values()
    assert page_values(page, "lead")["email"] == "ada@example.com"
    assert page["properties"][ATELIER_ID]["rich_text"][0]["plain_text"] == f"lead:{lead_id}"
    assert LAST_SYNCED in page["properties"]


def test_an_unchanged_record_costs_no_call_and_a_changed_one_sends_only_what_changed() -> None:
    # Given a lead already pushed
    rpc, notion, pusher = engine()
    rpc.queue("lead", LEAD)
    pusher.sweep()
    (page_id,) = notion.pages
    pushed = rpc.pushed_record("lead", LEAD, page_id)
    notion.calls.clear()

    # When it is queued again unchanged, Then nothing is sent
    rpc.queue("lead", pushed)
    assert pusher.sweep().unchanged == 1
    assert notion.names() == []

    # When one field Postgres owns changes, Then one PATCH carries that property and "Last Synced", nothing else
    rpc.queue("lead", {**pushed, "routing_reason": "Reviewed by the owner."})
    assert pusher.sweep().updated == 1
    ((name, args),) = notion.calls
    assert name == "update_page"
    assert sorted(args["properties"]) == sorted(["Reason", LAST_SYNCED])


def test_a_field_notion_owns_is_never_pushed_over_the_teams_value() -> None:
    # Given a project page whose name the team owns
    rpc, notion, pusher = engine()
    project = {
        "id": "4a1e0c70-0000-4000-8000-000000000001",
        "name": "Loft",
        "tier_name": TIER_NAME[2],
        "status": "onboarding",
        "payment_status": "paid",
        "needs_review": False,
    }
    rpc.queue("project", project)
    pusher.sweep()
    (page_id,) = notion.pages
    notion.calls.clear()

    # When Postgres' copy of the name differs (the team renamed it in Notion)
    rpc.queue("project", {**rpc.pushed_record("project", project, page_id), "name": "Loft, phase 2"})
    pusher.sweep()

    # Then no call is made: the name is the team's once the page exists
    assert notion.names() == []


def test_a_retry_after_an_ambiguous_failure_finds_the_page_instead_of_making_a_second() -> None:
    # Given a first attempt that created the page and then failed ambiguously (a timeout after the write)
    rpc, notion, pusher = engine()
    rpc.queue("lead", LEAD)
    pusher.sweep()
    rpc.completed.clear()

    # When the row comes back for its second attempt, unlinked
    rpc.queue("lead", LEAD, attempts=2)
    pusher.sweep()

    # Then the page is found by its Atelier ID and linked; no second page is made
    assert len(notion.pages) == 1
    assert notion.names()[-1] == "find_by_atelier_id"
    assert rpc.completed[0]["page_id"] == next(iter(notion.pages))


def test_a_worker_slowed_past_half_its_lease_checks_its_claim_and_creates_nothing_once_it_is_taken() -> None:
    # Given a worker whose every step takes a minute (more than half the claim lease)
    ticks = iter(range(0, 100_000, 61))
    rpc, notion = FakeRpc(), FakeNotion()
    pusher = OutboxPusher(sync_ports(rpc, notion, SOURCES), clock=lambda: float(next(ticks)))
    rpc.queue("lead", LEAD)
    rpc.queue("lead", {**LEAD, "id": "1c6f6a8e-6f3c-4f35-9d2b-9b5c0c1d2e3f", "email": "grace@example.com"})
    rpc.taken = {1}  # another worker claimed the first row again meanwhile

    # When it pushes
    report = pusher.sweep()

    # Then the row it lost gets no page (and no report), and the one still its own is made
    assert (report.lost, report.created) == (1, 1)
    assert [c["atelier_id"] for name, c in notion.calls if name == "create_page"] == [
        "lead:1c6f6a8e-6f3c-4f35-9d2b-9b5c0c1d2e3f"
    ]
    assert [r.get("lost") for r in rpc.completed] == [True, None]


def test_a_child_waits_for_its_parent_page_and_is_related_once_the_parent_is_pushed() -> None:
    rpc, notion, pusher = engine()
    milestone = {
        "id": "5b2f0c70-0000-4000-8000-000000000002",
        "name": "Survey",
        "order": 1,
        "status": "pending",
        "waiting_for": "project",
        "parent_id": "p-1",
    }

    # Given a milestone whose project page does not exist yet, When swept alone, Then it waits, unsent
    rpc.queue("milestone", milestone)
    pusher.sweep()
    assert notion.names() == []
    assert rpc.completed[-1]["ok"] is False
    assert "waiting for its project page" in rpc.completed[-1]["error"]

    # When its project is pushed in the same sweep, first, Then the milestone's page relates to the project's
    rpc.queue("project", {"id": "p-1", "name": "Loft", "status": "onboarding"})
    rpc.queue("milestone", milestone)
    pusher.sweep()
    project_page = next(p for p in notion.pages.values() if p["parent"] == "ds-project")
    milestone_page = next(p for p in notion.pages.values() if p["parent"] == "ds-milestone")
    assert milestone_page["properties"]["Project"]["relation"] == [{"id": project_page["id"]}]


def test_page_content_comes_from_the_provider_injected_for_its_entity_only_when_a_page_is_made() -> None:
    made: list[str] = []

    def showcase(record_id: str, deadline: float | None) -> list[dict[str, Any]]:
        made.append(record_id)
        return [{"type": "paragraph", "paragraph": {"rich_text": []}}]

    rpc, notion, pusher = engine({"deliverable": showcase})
    deliverable = {"id": "6c3f0c70-0000-4000-8000-000000000003", "name": "plan.png", "category": "Photo"}
    rpc.queue("deliverable", deliverable)
    rpc.queue("lead", LEAD)
    pusher.sweep()

    # Then only the deliverable's page was given blocks, once
    assert made == [deliverable["id"]]
    children = {args["atelier_id"].split(":")[0]: args["children"] for name, args in notion.calls}
    assert children["deliverable"]
    assert children["lead"] is None

    # And an update of that deliverable asks for no content again
    (page_id,) = [p["id"] for p in notion.pages.values() if p["parent"] == "ds-deliverable"]
    rpc.queue("deliverable", {**rpc.pushed_record("deliverable", deliverable, page_id), "name": "plan-v2.png"})
    pusher.sweep()
    assert made == [deliverable["id"]]


def test_a_permanent_refusal_is_reported_on_the_row_and_counted_as_failed() -> None:
    rpc, notion, pusher = engine()
    notion.refuse["create_page"] = NotionError("bad", code="validation_error", status=400, failure=Failure.permanent)
    rpc.queue("lead", LEAD)

    report = pusher.sweep()

    assert report.failed == 1
    assert rpc.completed[0]["ok"] is False
    assert rpc.completed[0]["error"].startswith("permanent:")
    # The schema was read once and found whole, so the row was tried once more before it counted as refused.
    assert notion.names().count("retrieve_data_source") == 1
    assert notion.names().count("create_page") == 2
