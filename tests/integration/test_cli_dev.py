"""`atelier dev --once`: the local stack starts, migrates, and leaves a state file other commands read."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any, cast

import psycopg
import pytest

from atelier.cli import main
from atelier.cli.migrate import SchemaFiles
from atelier.cli.render import redacted as _redacted
from atelier.kernel.settings import DEV_STATE_ENV

MIGRATIONS = len(SchemaFiles.default().migrations())


def _state(state_dir: Path) -> dict[str, object]:
    data = json.loads((state_dir / "dev.json").read_text())
    assert isinstance(data, dict)
    return data


def test_dev_once_on_embedded_defaults_starts_postgres_and_writes_dev_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    state_dir = tmp_path / ".atelier"

    assert main(["dev", "--once", "--port", "0", "--state-dir", str(state_dir)]) == 0

    out = capsys.readouterr().out
    assert "postgres:   starting the embedded server" in out
    assert f"migrate: applied {MIGRATIONS} migration(s)" in out
    state = _state(state_dir)
    # the stable keys, and which process serves them (`atelier status` and the next stack to stop read these)
    assert set(state) == set(DEV_STATE_ENV) | {"businesses", "pid", "started_at", "log_dir"}, "dev.json keys"
    # Two businesses: the default (its keys also at the top, no prefix) and a second one, with its own of each
    businesses = cast("dict[str, dict[str, Any]]", state["businesses"])
    default, second = businesses["studio"], businesses["kaa"]
    assert (default["url_prefix"], default["notion_token"]) == ("", state["notion_token"])
    assert second["url_prefix"] == "/b/kaa"
    for key in ("notion_token", "notion_base_url", "stripe_webhook_secret", "mail_from", "notion_parent_page_id"):
        assert second[key]
        assert second[key] != default[key], key
    assert set(second["data_sources"]) == {
        "lead",
        "client",
        "project",
        "milestone",
        "deliverable",
        "task",
        "service",
        "message",
    }
    assert (state_dir / "pg" / "PG_VERSION").exists()
    # The file holds connection strings and webhook secrets: owner-only.
    assert stat.S_IMODE((state_dir / "dev.json").stat().st_mode) == 0o600

    # A second start reuses the data directory and changes nothing.
    assert main(["dev", "--once", "--port", "0", "--state-dir", str(state_dir)]) == 0
    assert "DATABASE_URL" not in os.environ, "the stopped stack left its environment behind"
    assert f"migrate: up to date ({MIGRATIONS} migration(s) already applied)" in capsys.readouterr().out


def test_dev_once_uses_database_url_when_given(
    empty_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", empty_database_url)
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "whsec_test_value")

    assert main(["dev", "--once", "--port", "0", "--state-dir", str(tmp_path)]) == 0

    out = capsys.readouterr().out
    assert "embedded" not in out
    state = _state(tmp_path)
    assert f"front door: {state['api_url']}" in out
    assert str(state["api_url"]).startswith("http://127.0.0.1:")
    assert state["database_url"] == empty_database_url
    assert state["stripe_webhook_secret"] == "whsec_test_value"
    with psycopg.connect(empty_database_url) as conn:
        per_business = conn.execute("select count(*) from tiers group by business_id").fetchall()
        assert per_business == [(4,), (4,)]  # the default's, and the second business's own copy


def test_migrate_in_process_reads_dev_json(
    empty_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", "placeholder")
    monkeypatch.delenv("DATABASE_URL")
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".atelier").mkdir()
    (tmp_path / ".atelier" / "dev.json").write_text(json.dumps({"database_url": empty_database_url}))

    assert main(["db", "migrate"]) == 0
    assert f"migrate: applied {MIGRATIONS} migration(s)" in capsys.readouterr().out


def test_a_configuration_error_exits_2_with_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", "placeholder")
    monkeypatch.delenv("DATABASE_URL")
    monkeypatch.chdir(tmp_path)
    assert main(["db", "migrate"]) == 2
    assert "atelier: DATABASE_URL is not set" in capsys.readouterr().err


def test_the_emulators_pages_outlive_a_restart(tmp_path: Path) -> None:
    from atelier.notion import NotionGateway, RequestBudget
    from atelier.notion.codec import rich_text
    from atelier.sync.setup import setup
    from atelier_local.notion_emulator import Faults, NotionEmulator

    state = tmp_path / "notion.json"
    first = NotionEmulator(faults=Faults(rate_per_second=1000, burst=1000), state_file=state).start()
    gateway = NotionGateway(first.state.bot_token, base_url=first.url, budget=RequestBudget(rate=1000))
    leads = setup(gateway, first.parent_page_id, say=lambda _: None).ids["lead"].data_source_id
    page = gateway.create_page(leads, "lead:1", {"Name": {"title": rich_text("Kept")}}).page
    first.stop()

    again = NotionEmulator(faults=Faults(rate_per_second=1000, burst=1000), state_file=state).start()
    try:
        gateway = NotionGateway(again.state.bot_token, base_url=again.url, budget=RequestBudget(rate=1000))
        assert again.parent_page_id == first.parent_page_id
        assert gateway.retrieve_page(page["id"])["properties"]["Name"]["title"][0]["plain_text"] == "Kept"
        assert setup(gateway, again.parent_page_id, say=lambda _: None).created == []
    finally:
        again.stop()


def test_a_database_password_is_masked_when_printed() -> None:
    shown = _redacted("postgresql://atelier:hunter2@db.example:6543/postgres")
    assert "hunter2" not in shown
    assert "password=***" in shown
    assert "host=db.example" in shown


def test_a_dsn_without_a_password_is_printed_as_it_is() -> None:
    assert _redacted("postgresql://postgres:@/postgres?host=/tmp/pg") == "user=postgres dbname=postgres host=/tmp/pg"


def test_an_unparsable_dsn_is_not_printed() -> None:
    assert _redacted("not a dsn = = =") == "(DATABASE_URL)"
