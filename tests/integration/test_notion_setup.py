"""`atelier notion setup` and `atelier notion check` against the emulator."""

from __future__ import annotations

import uuid

import boto3
import pytest
from moto import mock_aws

from atelier.cli import main
from atelier.notion import NotionGateway
from atelier.notion.schema import ENTITIES, rich_text
from atelier.notion.setup import check, find_existing, setup
from atelier_local.notion_emulator import NotionEmulator


@pytest.fixture
def cli_env(notion: NotionEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.chdir(str(tmp_path))
    monkeypatch.setenv("NOTION_TOKEN", notion.state.bot_token)
    monkeypatch.setenv("NOTION_BASE_URL", notion.url)
    monkeypatch.setenv("NOTION_PARENT_PAGE_ID", notion.parent_page_id)
    monkeypatch.setenv("NOTION_RATE", "1000")


def _creates(notion: NotionEmulator) -> int:
    return sum(1 for r in notion.requests if (r["method"], r["path"]) == ("POST", "/v1/databases"))


def test_setup_creates_five_related_databases_and_a_second_run_creates_nothing(
    gateway: NotionGateway, notion: NotionEmulator
) -> None:
    first = setup(gateway, notion.parent_page_id, say=lambda _: None)
    assert first.created == [e.name for e in ENTITIES]
    assert _creates(notion) == 5
    projects = gateway.retrieve_data_source(first.ids["project"].data_source_id)["properties"]
    assert projects["Client"]["relation"]["data_source_id"] == first.ids["client"].data_source_id
    milestones = gateway.retrieve_data_source(first.ids["milestone"].data_source_id)["properties"]
    assert milestones["Project"]["relation"]["data_source_id"] == first.ids["project"].data_source_id
    assert milestones["Status"]["type"] == "status"

    second = setup(gateway, notion.parent_page_id, say=lambda _: None)
    assert second.created == []
    assert second.ids == first.ids
    assert _creates(notion) == 5


def test_check_finds_no_drift_after_setup(gateway: NotionGateway, notion: NotionEmulator) -> None:
    ids = setup(gateway, notion.parent_page_id, say=lambda _: None).ids
    assert check(gateway, ids) == []


def test_check_reports_what_a_person_changed_by_hand(
    gateway: NotionGateway, human: NotionGateway, notion: NotionEmulator
) -> None:
    ids = setup(gateway, notion.parent_page_id, say=lambda _: None).ids
    human.update_data_source(ids["lead"].data_source_id, {"Budget": {"name": "Budget range"}})
    human.update_data_source(ids["client"].data_source_id, {"Project Address": {"number": {}}})
    notion.add_data_source(ids["project"].database_id, "Archive", {"Name": {"title": {}}})
    human.create_page(ids["milestone"].data_source_id, "-", {"Name": {"title": rich_text("Typed in by hand")}})

    drift = {(d.entity, d.problem) for d in check(gateway, ids)}

    assert drift == {
        ("lead", "renamed property"),
        ("client", "retyped property"),
        ("project", "second data source"),
        ("milestone", "pages without Atelier ID"),
    }


def test_cli_setup_prints_env_lines_and_check_exits_1_on_drift(
    cli_env: None, notion: NotionEmulator, human: NotionGateway, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["notion", "setup"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert {line.split("=")[0] for line in lines} == {
        f"NOTION_{e.name.upper()}_{kind}_ID" for e in ENTITIES for kind in ("DATABASE", "DATA_SOURCE")}  # fmt: skip

    assert main(["notion", "check"]) == 0
    assert "no drift" in capsys.readouterr().out

    lead_source = next(line.split("=")[1] for line in lines if line.startswith("NOTION_LEAD_DATA_SOURCE_ID"))
    human.update_data_source(lead_source, {"Email": {"name": "E-mail"}})
    assert main(["notion", "check"]) == 1
    out = capsys.readouterr().out
    assert "renamed property" in out
    assert "rename it back to 'Email'" in out


def test_cli_setup_can_store_the_ids_in_ssm(
    cli_env: None, notion: NotionEmulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        assert main(["notion", "setup", "--ssm-prefix", "/atelier/prod"]) == 0
        names = {p["Name"] for p in boto3.client("ssm", region_name="eu-west-1").describe_parameters()["Parameters"]}
    assert "/atelier/prod/NOTION_PROJECT_DATA_SOURCE_ID" in names
    assert len(names) == 10


def test_setup_without_a_parent_page_says_what_to_do(
    cli_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("NOTION_PARENT_PAGE_ID")
    assert main(["notion", "setup"]) == 2
    assert "give --parent-page PAGE_ID" in capsys.readouterr().err


def test_find_existing_ignores_databases_under_other_pages(gateway: NotionGateway, notion: NotionEmulator) -> None:
    setup(gateway, notion.parent_page_id, say=lambda _: None)
    assert len(find_existing(gateway, notion.parent_page_id)) == len(ENTITIES)
    assert find_existing(gateway, str(uuid.uuid4())) == {}
