"""`atelier sync run` and `atelier outbox list|retry`, as an operator runs them."""

from __future__ import annotations

import psycopg
import pytest

from atelier.cli import main
from atelier.kernel.rpc import PsycopgRpc
from atelier.notion import NotionGateway
from atelier_local.notion_emulator import NotionEmulator
from atelier_local.samples import paid_project, stored_lead
from tests.seed_catalogue import TIER_NAME

Conn = psycopg.Connection[tuple[object, ...]]


@pytest.fixture
def operator(
    monkeypatch: pytest.MonkeyPatch,
    notion: NotionEmulator,
    sources: dict[str, str],
    database_url: str,
    tmp_path: object,
) -> None:
    monkeypatch.chdir(str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("NOTION_TOKEN", notion.state.bot_token)
    monkeypatch.setenv("NOTION_BASE_URL", notion.url)
    monkeypatch.setenv("NOTION_RATE", "1000")
    for name, source in sources.items():
        monkeypatch.setenv(f"NOTION_{name.upper()}_DATA_SOURCE_ID", source)


def test_sync_run_pushes_then_reads_back_a_team_edit(
    operator: None, rpc: PsycopgRpc, human: NotionGateway, db: Conn, capsys: pytest.CaptureFixture[str]
) -> None:
    paid_project(rpc, stored_lead(rpc))
    assert main(["sync", "run"]) == 0
    assert "9 created" in capsys.readouterr().out
    page = db.execute('select notion_page_id from milestones order by "order" limit 1').fetchone()
    assert page is not None
    human.update_page(str(page[0]), {"Status": {"status": {"name": "Done"}}})
    assert main(["sync", "run"]) == 0
    out = capsys.readouterr().out
    assert "poll: 1 applied" in out
    assert "{}" not in out  # counts in words, no stray JSON
    assert db.execute("select count(*) from milestones where status = 'completed'").fetchone() == (1,)


def test_a_second_run_waits_while_the_lease_is_held(
    operator: None, rpc: PsycopgRpc, capsys: pytest.CaptureFixture[str]
) -> None:
    assert rpc.rpc("take_sync_lease", p_name="notion-sync", p_holder="other-run", p_seconds=300)
    assert main(["sync", "run"]) == 1
    assert "another run holds the lease" in capsys.readouterr().err
    assert rpc.rpc("release_sync_lease", p_name="notion-sync", p_holder="other-run")
    assert main(["sync", "run"]) == 0


def test_outbox_list_and_retry_dead_rows(
    operator: None, rpc: PsycopgRpc, db: Conn, capsys: pytest.CaptureFixture[str]
) -> None:
    stored_lead(rpc)
    db.execute(
        "update sync_outbox set status = 'dead', attempts = 8, refusals = 8, last_error = 'permanent: validation_error'"
    )
    assert main(["outbox", "list", "--dead"]) == 0
    listing = capsys.readouterr().out
    assert "dead" in listing
    assert "permanent: validation_error" in listing
    assert main(["outbox", "retry", "--dead"]) == 0
    assert "1 row(s) queued again" in capsys.readouterr().out
    # Its refusals are forgotten; its tries are kept, so that the next one looks for a page first.
    assert db.execute("select status::text, refusals, attempts from sync_outbox").fetchall() == [("pending", 0, 8)]
    assert main(["outbox", "list", "--dead"]) == 0
    assert "no dead rows" in capsys.readouterr().out


def test_check_reports_no_drift_then_a_hand_edit_and_resync_puts_it_right(
    operator: None, rpc: PsycopgRpc, human: NotionGateway, db: Conn, capsys: pytest.CaptureFixture[str]
) -> None:
    paid_project(rpc, stored_lead(rpc))
    main(["sync", "run"])
    capsys.readouterr()
    assert main(["check"]) == 0
    assert "no drift" in capsys.readouterr().out

    page = db.execute("select notion_page_id from projects").fetchone()
    assert page is not None
    human.update_page(str(page[0]), {"Payment": {"select": {"name": "refunded"}}})
    assert main(["check"]) == 1
    out = capsys.readouterr().out
    assert "differs" in out
    assert "Payment: Notion shows 'refunded', Postgres has 'paid'" in out

    assert main(["resync", "project"]) == 0
    assert "resync finished" in capsys.readouterr().err
    assert main(["check"]) == 0


def test_check_finds_a_page_that_is_gone(
    operator: None, rpc: PsycopgRpc, human: NotionGateway, db: Conn, capsys: pytest.CaptureFixture[str]
) -> None:
    stored_lead(rpc)
    main(["sync", "run"])
    page = db.execute("select notion_page_id from leads").fetchone()
    assert page is not None
    human.update_page(str(page[0]), in_trash=True)
    capsys.readouterr()
    assert main(["check"]) == 1
    assert "missing page" in capsys.readouterr().out


def test_resync_needs_an_entity_or_all(operator: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["resync"]) == 2
    assert "name one ENTITY" in capsys.readouterr().err
    assert main(["resync", "invoices"]) == 2
    assert "unknown entity 'invoices'" in capsys.readouterr().err


def test_import_notion_turns_hand_typed_leads_into_linked_leads_once(
    operator: None,
    human: NotionGateway,
    gateway: NotionGateway,
    sources: dict[str, str],
    db: Conn,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from atelier.notion.codec import rich_text

    typed = human.create_page(
        sources["lead"],
        "-",
        {
            "Name": {"title": rich_text("Grace Hopper")},
            "Email": {"email": "Grace@Example.com"},
            "Budget": {"rich_text": rich_text("$10k-15k")},
            "Timeline (weeks)": {"number": 8},
            "Project Type": {"select": {"name": "standard_renovation"}},
        },
    ).page
    human.create_page(
        sources["lead"],
        "-",
        {"Name": {"title": rich_text("No email yet")}, "Project Type": {"select": {"name": "new_build"}}},
    )
    human.create_page(sources["project"], "-", {"Name": {"title": rich_text("A project typed by hand")}})

    assert main(["import-notion", "--dry-run"]) == 1  # two pages are left for the team
    plan = capsys.readouterr()
    assert "would add" in plan.out
    assert "nothing was written" in plan.err
    assert db.execute("select count(*) from leads").fetchone() == (0,)

    assert main(["import-notion"]) == 1
    out = capsys.readouterr()
    assert "1 added, 0 linked, 2 skipped" in out.err
    assert "fill in email: This field is required." in out.out
    assert "set its Client first" in out.out
    row = db.execute("select email, recommended_tier, notion_page_id from leads").fetchone()
    assert row == ("grace@example.com", 3, typed["id"])  # no survey or drawings in Notion: tier 3 at least
    shown = gateway.retrieve_page(typed["id"])["properties"]
    assert shown["Atelier ID"]["rich_text"][0]["plain_text"].startswith("lead:")
    assert shown["Tier"]["select"]["name"] == TIER_NAME[3]  # written back with the Atelier ID

    assert main(["import-notion"]) == 1
    assert "0 added, 0 linked, 2 skipped" in capsys.readouterr().err
    assert db.execute("select count(*) from leads").fetchone() == (1,)


def test_a_page_the_team_trashed_takes_later_changes_quietly_and_gets_them_when_restored(
    operator: None,
    rpc: PsycopgRpc,
    human: NotionGateway,
    gateway: NotionGateway,
    db: Conn,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given a project page the team put in the trash, and the record soft-deleted by the next run
    paid_project(rpc, stored_lead(rpc))
    assert main(["sync", "run"]) == 0
    page_id = str(db.execute("select notion_page_id from projects").fetchone()[0])  # type: ignore[index]
    human.update_page(page_id, in_trash=True)
    assert main(["sync", "run"]) == 0
    assert db.execute("select deleted_at is not null from projects").fetchone() == (True,)

    # When the record changes ten times in Postgres, each change synced
    for i in range(10):
        db.execute("update projects set needs_review = %s", (i % 2 == 1,))
        assert main(["sync", "run"]) == 0

    # Then no row is dead or left waiting, the page stays in the trash unwritten, and `check` finds nothing wrong
    assert {str(r[0]) for r in db.execute("select distinct status::text from sync_outbox")} == {"done"}
    page = gateway.retrieve_page(page_id)
    assert page["in_trash"] is True
    assert page["properties"]["Needs Review"]["checkbox"] is False
    capsys.readouterr()
    assert main(["check"]) == 0, capsys.readouterr().out

    # When the team restores the page, the record comes back, and what changed meanwhile reaches the page
    human.update_page(page_id, in_trash=False)
    assert main(["sync", "run"]) == 0
    assert main(["sync", "run"]) == 0
    assert db.execute("select deleted_at is null from projects").fetchone() == (True,)
    assert gateway.retrieve_page(page_id)["properties"]["Needs Review"]["checkbox"] is True


def test_notion_setup_waits_out_notions_rate_limits_with_a_progress_line_and_exits_0(
    operator: None, notion: NotionEmulator, db: Conn, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given Notion answers 429 to most requests (a busy stack shares its 3 requests/s)
    notion.set_faults(error_rate=0.7, error_statuses=[429], retry_after=0.05, seed=5)

    # When the operator runs setup, Then it waits each one out, says so, and finishes
    assert main(["notion", "setup", "--parent-page", notion.parent_page_id]) == 0
    assert "rate-limited; waiting" in capsys.readouterr().err
    # And it took its requests from the deployment's shared budget in Postgres
    assert db.execute("select count(*) from notion_budget").fetchone() == (1,)


def test_sync_run_says_which_record_failed_and_why(
    operator: None, notion: NotionEmulator, rpc: PsycopgRpc, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a lead to push while Notion makes every request wait ~5 s, and a run given 2 s
    lead_id = stored_lead(rpc)
    notion.set_faults(rate_per_second=0.2, burst=0)

    # When the operator runs a sync, Then it says which record failed, why, and that it will try again
    assert main(["sync", "run", "--budget", "2"]) == 0
    captured = capsys.readouterr()
    assert "1 failed" in captured.out
    assert f"push: lead:{lead_id}: transient:" in captured.err
