"""`atelier notion setup` and `atelier notion check` against the emulator."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import yaml

from atelier.cli import main
from atelier.kernel.rpc import PsycopgRpc
from atelier.notion import NotionGateway
from atelier.notion.codec import rich_text
from atelier.sync.adopt import hand_made
from atelier.sync.mapping import ENTITIES, SOURCES
from atelier.sync.records import SyncPorts
from atelier.sync.setup import check, find_existing, setup
from atelier_local.notion_emulator import NotionEmulator
from tests.seed_catalogue import TIER_NAME


@pytest.fixture
def cli_env(notion: NotionEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: object, database_url: str) -> None:
    monkeypatch.chdir(str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("NOTION_TOKEN", notion.state.bot_token)
    monkeypatch.setenv("NOTION_BASE_URL", notion.url)
    monkeypatch.setenv("NOTION_PARENT_PAGE_ID", notion.parent_page_id)
    monkeypatch.setenv("NOTION_RATE", "1000")


def _creates(notion: NotionEmulator) -> int:
    return sum(1 for r in notion.requests if (r["method"], r["path"]) == ("POST", "/v1/databases"))


def test_setup_creates_the_related_databases_and_a_second_run_creates_nothing(
    gateway: NotionGateway, notion: NotionEmulator
) -> None:
    first = setup(gateway, notion.parent_page_id, say=lambda _: None)
    assert first.created == [e.name for e in ENTITIES + SOURCES]
    assert _creates(notion) == 8  # the records' six, Services and Messages
    tasks = gateway.retrieve_data_source(first.ids["task"].data_source_id)["properties"]
    assert tasks["Project"]["relation"]["data_source_id"] == first.ids["project"].data_source_id
    assert tasks["Lead"]["relation"]["data_source_id"] == first.ids["lead"].data_source_id
    projects = gateway.retrieve_data_source(first.ids["project"].data_source_id)["properties"]
    assert projects["Client"]["relation"]["data_source_id"] == first.ids["client"].data_source_id
    milestones = gateway.retrieve_data_source(first.ids["milestone"].data_source_id)["properties"]
    assert milestones["Project"]["relation"]["data_source_id"] == first.ids["project"].data_source_id
    assert milestones["Status"]["type"] == "status"

    second = setup(gateway, notion.parent_page_id, say=lambda _: None)
    assert second.created == []
    assert second.ids == first.ids
    assert _creates(notion) == 8


def test_check_finds_no_drift_after_setup(gateway: NotionGateway, notion: NotionEmulator, rpc: PsycopgRpc) -> None:
    ids = setup(gateway, notion.parent_page_id, rpc=rpc, say=lambda _: None).ids
    assert check(gateway, ids, rpc=rpc) == []


def test_check_tells_the_teams_cosmetic_changes_from_breaking_ones(
    gateway: NotionGateway, human: NotionGateway, notion: NotionEmulator, rpc: PsycopgRpc
) -> None:
    ids = setup(gateway, notion.parent_page_id, rpc=rpc, say=lambda _: None).ids
    leads, clients = ids["lead"].data_source_id, ids["client"].data_source_id
    projects, milestones = ids["project"].data_source_id, ids["milestone"].data_source_id
    tier = gateway.retrieve_data_source(projects)["properties"]["Tier"]
    human.update_data_source(
        leads,
        {
            "Budget": {"name": "Budget range"},
            "Atelier ID": {"name": "Ref"},
            "Mood": {"select": {"options": [{"name": "calm"}]}},
        },
    )
    human.update_data_source(leads, {"Tier": {"select": {"options": [{"name": TIER_NAME[1]}, {"name": "Rush"}]}}})
    human.update_data_source(clients, {"Project Address": {"number": {}}})
    human.update_data_source(
        projects, {tier["id"]: {"select": {"options": [{"name": n} for n in (TIER_NAME[2], TIER_NAME[3])]}}}
    )
    human.update_data_source(milestones, {"Due": None})
    notion.add_data_source(ids["project"].database_id, "Archive", {"Name": {"title": {}}})
    human.create_page(milestones, "-", {"Name": {"title": rich_text("Typed in by hand")}})

    sources = {name: i.data_source_id for name, i in ids.items()}
    judge = hand_made(SyncPorts(rpc, gateway, sources))
    found = {(f.entity, f.problem, f.breaking) for f in check(gateway, ids, rpc=rpc, hand_made=judge)}

    assert found == {
        ("lead", "renamed property", False),  # Budget, and Atelier ID: renamed, both still found by id
        ("lead", "own property", False),  # Mood
        ("lead", "new option", False),  # Rush
        ("lead", "option removed", True),  # Tier lost three tiers the lead's tier is written as
        ("client", "retyped property", True),
        ("project", "option removed", True),
        ("project", "second data source", False),
        ("milestone", "deleted property", True),
        ("milestone", "unlinked page", False),  # no project: the finding says to set it
    }


def test_setup_mends_what_was_broken_keeps_the_teams_names_and_then_changes_nothing(
    gateway: NotionGateway, human: NotionGateway, notion: NotionEmulator, rpc: PsycopgRpc
) -> None:
    ids = setup(gateway, notion.parent_page_id, rpc=rpc, say=lambda _: None).ids
    projects = ids["project"].data_source_id
    human.update_data_source(
        projects, {"Last Synced": {"name": "Synced at"}, "Needs Review": None, "Payment": {"number": {}}}
    )
    human.update_data_source(projects, {"Tier": {"select": {"options": [{"name": TIER_NAME[2]}]}}})
    said: list[str] = []

    setup(gateway, notion.parent_page_id, rpc=rpc, say=said.append)

    schema = gateway.retrieve_data_source(projects)["properties"]
    assert schema["Needs Review"]["type"] == "checkbox"  # recreated under its original name
    assert schema["Payment"]["type"] == "select"  # its type back
    assert {o["name"] for o in schema["Tier"]["select"]["options"]} >= {TIER_NAME[1], TIER_NAME[4]}
    assert "Synced at" in schema  # the team's name is kept
    assert "Last Synced" not in schema
    assert any("recreated 'Needs Review'" in line for line in said)
    assert [(f.entity, f.problem) for f in check(gateway, ids, rpc=rpc) if f.breaking] == []

    patches = sum(1 for r in notion.requests if r["method"] == "PATCH" and r["path"].startswith("/v1/data_sources"))
    setup(gateway, notion.parent_page_id, rpc=rpc, say=lambda _: None)
    after = sum(1 for r in notion.requests if r["method"] == "PATCH" and r["path"].startswith("/v1/data_sources"))
    assert after == patches


def test_a_renamed_database_is_still_found_and_a_trashed_one_is_reported_not_replaced(
    gateway: NotionGateway, human: NotionGateway, notion: NotionEmulator, rpc: PsycopgRpc
) -> None:
    ids = setup(gateway, notion.parent_page_id, rpc=rpc, say=lambda _: None).ids
    human._client.data_sources.update(ids["project"].data_source_id, title=rich_text("Client projects"))
    human._client.data_sources.update(ids["milestone"].data_source_id, in_trash=True)
    said: list[str] = []

    again = setup(gateway, notion.parent_page_id, rpc=rpc, say=said.append)

    assert again.created == []  # nothing made twice: both are found by id
    assert again.ids == ids
    assert _creates(notion) == 8
    assert "milestone" in again.broken
    found = {(f.entity, f.problem, f.breaking) for f in check(gateway, again.ids, rpc=rpc)}
    assert ("project", "renamed data source", False) in found
    assert ("milestone", "data source trashed", True) in found


def test_cli_check_lists_renames_with_exit_0_and_what_breaks_with_exit_1(
    cli_env: None, notion: NotionEmulator, human: NotionGateway, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["notion", "setup"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    # Exactly the parameter names template.yaml asks for.
    assert {line.split("=")[0] for line in lines} == {f"Notion{e.name.title()}DataSourceId" for e in ENTITIES + SOURCES}
    assert {line.split("=")[0] for line in lines} <= set(
        yaml.safe_load((Path(__file__).resolve().parents[2] / "template.yaml").read_text().split("\nConditions:")[0])[
            "Parameters"
        ]
    )

    assert main(["notion", "check"]) == 0
    assert "no drift" in capsys.readouterr().out

    lead_source = next(line.split("=")[1] for line in lines if line.startswith("NotionLeadDataSourceId"))
    human.update_data_source(lead_source, {"Email": {"name": "E-mail"}})
    assert main(["notion", "check"]) == 0
    out = capsys.readouterr().out
    assert "'Email' is called 'E-mail' now" in out

    human.update_data_source(lead_source, {"Reason": None})
    assert main(["notion", "check"]) == 1
    captured = capsys.readouterr()
    assert "'Reason' (rich_text) is gone" in captured.out
    assert "stop the sync" in captured.err

    assert main(["notion", "setup"]) == 0
    capsys.readouterr()
    assert main(["notion", "check"]) == 0
    assert "'Email' is called 'E-mail' now" in capsys.readouterr().out


def test_setup_without_a_parent_page_says_what_to_do(
    cli_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("NOTION_PARENT_PAGE_ID")
    assert main(["notion", "setup"]) == 2
    assert "give --parent-page PAGE_ID" in capsys.readouterr().err


def test_find_existing_ignores_databases_under_other_pages(gateway: NotionGateway, notion: NotionEmulator) -> None:
    setup(gateway, notion.parent_page_id, say=lambda _: None)
    assert len(find_existing(gateway, notion.parent_page_id)) == len(ENTITIES + SOURCES)
    assert find_existing(gateway, str(uuid.uuid4())) == {}
