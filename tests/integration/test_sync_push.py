"""Postgres -> Notion: the outbox pushed through the gateway to the emulator, against real Postgres."""

from __future__ import annotations

from collections import Counter
from typing import Any

import psycopg
import pytest

from atelier.kernel.rpc import PsycopgRpc
from atelier.notion import NotionGateway, RequestBudget
from atelier.notion.codec import ATELIER_ID, plain_text
from atelier.sync import OutboxPusher, SweepReport, SyncPorts
from atelier_local.notion_emulator import NotionEmulator
from atelier_local.samples import paid_project, stored_lead

Conn = psycopg.Connection[tuple[object, ...]]


def _pages(gateway: NotionGateway, source: str) -> list[dict[str, Any]]:
    return list(gateway.query(source))


def _ids(pages: list[dict[str, Any]]) -> Counter[str]:
    return Counter(plain_text(p["properties"][ATELIER_ID]["rich_text"]) or "" for p in pages)


def test_a_paid_project_appears_with_its_client_milestones_and_relations(
    pusher: OutboxPusher, rpc: PsycopgRpc, gateway: NotionGateway, sources: dict[str, str], db: Conn
) -> None:
    project_id = paid_project(rpc, stored_lead(rpc))

    report = pusher.sweep()

    assert (report.created, report.failed) == (9, 0)  # lead, client, project, 5 milestones, its kickoff task
    (project,) = _pages(gateway, sources["project"])
    (client,) = _pages(gateway, sources["client"])
    milestones = _pages(gateway, sources["milestone"])
    assert project["properties"]["Client"]["relation"] == [{"id": client["id"]}]
    assert project["properties"]["Status"]["select"]["name"] == "Onboarding"
    assert len(milestones) == 5
    assert all(m["properties"]["Project"]["relation"] == [{"id": project["id"]}] for m in milestones)
    assert {m["properties"]["Status"]["status"]["name"] for m in milestones} == {"Not started"}
    assert db.execute(
        "select notion_page_id, last_synced_at is not null from projects where id = %s", (project_id,)
    ).fetchone() == (project["id"], True)
    assert db.execute("select count(*) from sync_outbox where status <> 'done'").fetchone() == (0,)


def test_an_unchanged_record_costs_no_call_and_a_change_sends_only_what_changed(
    pusher: OutboxPusher,
    rpc: PsycopgRpc,
    gateway: NotionGateway,
    notion: NotionEmulator,
    db: Conn,
    sources: dict[str, str],
) -> None:
    project_id = paid_project(rpc, stored_lead(rpc))
    pusher.sweep()
    db.execute("select app_private.enqueue_sync('project', %s)", (project_id,))
    before = len(notion.requests)
    report = pusher.sweep()
    assert (report.claimed, report.unchanged, len(notion.requests) - before) == (1, 1, 0)

    db.execute("update projects set payment_status = 'refunded' where id = %s", (project_id,))
    before = len(notion.requests)
    pusher.sweep()
    (patch,) = notion.requests[before:]
    assert patch["method"] == "PATCH"
    # Properties are sent by id (the team may rename them), as `notion setup` recorded the ids.
    names = {p["id"]: name for name, p in gateway.retrieve_data_source(sources["project"])["properties"].items()}
    assert {names[key] for key in patch["body"]["properties"]} == {"Payment", "Last Synced"}


def test_a_change_during_a_push_is_not_lost(
    pusher: OutboxPusher, rpc: PsycopgRpc, gateway: NotionGateway, sources: dict[str, str], db: Conn
) -> None:
    lead_id = stored_lead(rpc)
    claimed = rpc.rpc("claim_outbox", p_limit=10, p_lease_seconds=120, p_project_id=None)
    db.execute("update leads set name = 'Renamed while pushing' where id = %s", (lead_id,))
    results = [{"outbox_id": row["outbox_id"], "ok": True, "page_id": None, "pushed_hash": None} for row in claimed]
    rpc.rpc("complete_outbox", p_results=results, p_max_attempts=8)
    assert db.execute("select status::text from sync_outbox").fetchall() == [("pending",)]
    pusher.sweep()
    (page,) = _pages(gateway, sources["lead"])
    assert page["properties"]["Name"]["title"][0]["plain_text"] == "Renamed while pushing"


def test_a_crash_after_the_push_before_marking_done_leaves_one_page(
    pusher: OutboxPusher, rpc: PsycopgRpc, gateway: NotionGateway, sources: dict[str, str], db: Conn
) -> None:
    stored_lead(rpc)
    # The worker claims, pushes, and dies before complete_outbox.
    (row,) = rpc.rpc("claim_outbox", p_limit=10, p_lease_seconds=120, p_project_id=None)
    doomed = OutboxPusher(SyncPorts(rpc, gateway, sources))
    doomed._push(row, SweepReport(), None, 0.0)
    db.execute("update sync_outbox set next_attempt_at = now()")  # the lease runs out
    pusher.sweep()
    assert _ids(_pages(gateway, sources["lead"])).most_common(1)[0][1] == 1
    assert db.execute("select count(*) from leads where notion_page_id is not null").fetchone() == (1,)


def test_a_crash_after_commit_before_push_is_swept_up(
    pusher: OutboxPusher, rpc: PsycopgRpc, gateway: NotionGateway, sources: dict[str, str], db: Conn
) -> None:
    stored_lead(rpc)
    rpc.rpc("claim_outbox", p_limit=10, p_lease_seconds=120, p_project_id=None)  # claimed, then the worker died
    assert pusher.sweep().claimed == 0  # leased: not due yet
    db.execute("update sync_outbox set next_attempt_at = now()")
    pusher.sweep()
    assert len(_pages(gateway, sources["lead"])) == 1


def test_notion_failures_lose_nothing_and_duplicate_nothing(
    rpc: PsycopgRpc, notion: NotionEmulator, sources: dict[str, str], gateway: NotionGateway, db: Conn
) -> None:
    for i in range(500):
        stored_lead(rpc, i)
    notion.set_faults(
        error_rate=0.2,
        error_statuses=[429, 503, 500],
        timeout_rate=0.05,
        timeout_seconds=0.3,
        commit_then_fail_rate=0.05,
        retry_after=0.01,
        seed=11,
    )
    flaky = NotionGateway(
        notion.state.bot_token, base_url=notion.url, budget=RequestBudget(rate=5000), timeout_s=0.2, max_attempts=2
    )
    worker = OutboxPusher(SyncPorts(rpc, flaky, sources))
    for _ in range(300):  # a sweep stops at the first failure that looks like an outage
        worker.sweep(batch=100)
        if db.execute("select count(*) from sync_outbox where status = 'pending'").fetchone() == (0,):
            break
        db.execute("update sync_outbox set next_attempt_at = now() where status = 'pending'")  # time passes
    notion.set_faults(error_rate=0.0, timeout_rate=0.0, commit_then_fail_rate=0.0)
    ids = _ids(_pages(gateway, sources["lead"]))
    assert len(ids) == 500
    assert max(ids.values()) == 1
    assert db.execute("select count(*) from sync_outbox where status <> 'done'").fetchone() == (0,)


def test_a_page_deleted_for_good_in_notion_soft_deletes_its_record(
    pusher: OutboxPusher, rpc: PsycopgRpc, notion: NotionEmulator, db: Conn
) -> None:
    lead_id = stored_lead(rpc)
    pusher.sweep()
    page = db.execute("select notion_page_id from leads").fetchone()
    assert page is not None
    notion.delete_permanently(str(page[0]))
    db.execute("update leads set name = 'Changed after the page was deleted' where id = %s", (lead_id,))

    pusher.sweep()

    assert db.execute("select deleted_at is not null, name from leads").fetchone() == (
        True,
        "Changed after the page was deleted",
    )
    assert db.execute("select count(*) from audit_log where action = 'notion.vanished'").fetchone() == (1,)
    assert db.execute("select count(*) from sync_outbox where status <> 'done'").fetchone() == (0,)


def test_a_crash_before_commit_leaves_nothing_and_the_retry_makes_one_page(
    pusher: OutboxPusher,
    rpc: PsycopgRpc,
    gateway: NotionGateway,
    sources: dict[str, str],
    db: Conn,
    database_url: str,
) -> None:
    # The business write and the death of its Lambda in one transaction, as a single statement.
    crash = (
        "with lead as (insert into leads (submission_key, email, name, project_type, recommended_tier,"
        " routing_reason) values ('crash-key-1', 'c@example.com', 'C', 'new_build', 3, 'r') returning id)"
        " select (select count(*) from lead) / 0"
    )
    with psycopg.connect(database_url) as conn, pytest.raises(psycopg.errors.DivisionByZero):
        conn.execute(crash)
    assert db.execute("select count(*) from sync_outbox").fetchone() == (0,)
    assert pusher.sweep().claimed == 0
    stored_lead(rpc)  # the retried delivery
    pusher.sweep()
    assert len(_pages(gateway, sources["lead"])) == 1
