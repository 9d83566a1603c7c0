"""The sync on a bad day, against real Postgres and the emulator: a worker slowed past its lease, an outage,
a crashed run, a duplicate page, and a property renamed away while the team edited."""

from __future__ import annotations

import math
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from atelier.kernel.rpc import PsycopgRpc
from atelier.notion import NotionError, NotionGateway, RequestBudget
from atelier.notion.codec import ATELIER_ID, plain_text
from atelier.sync import OutboxPusher, SweepReport, SyncPorts, run_cycle
from atelier.sync.cycle import LEASE_NAME, RUN_LEASE_SECONDS
from atelier.sync.drift import drift, duplicates, repair_duplicates
from atelier.sync.pull import NotionPoller
from atelier.sync.push import ClaimLost
from atelier.sync.records import MAX_ATTEMPTS
from atelier.sync.setup import setup
from atelier_local.notion_emulator import NotionEmulator
from atelier_local.samples import paid_project, stored_lead

Conn = psycopg.Connection[tuple[object, ...]]


def _atelier_ids(gateway: NotionGateway, sources: dict[str, str]) -> Counter[str]:
    return Counter(
        plain_text(p["properties"][ATELIER_ID]["rich_text"]) or ""
        for name, source in sources.items()
        if name not in ("service", "message")  # the catalogue's and the words' pages, seeded by setup
        for p in gateway.query(source)
    )


def _status(db: Conn) -> dict[str, int]:
    return {str(s): int(str(n)) for s, n in db.execute("select status::text, count(*) from sync_outbox group by 1")}


def test_a_worker_slowed_past_its_lease_creates_nothing_another_has_made(
    rpc: PsycopgRpc, gateway: NotionGateway, sources: dict[str, str], db: Conn
) -> None:
    # Given a slow worker that claimed a paid project's rows, and whose lease then ran out
    project_id = paid_project(rpc, stored_lead(rpc))
    slow = OutboxPusher(SyncPorts(rpc, gateway, sources))
    claimed = rpc.rpc("claim_outbox", p_limit=25, p_lease_seconds=120, p_project_id=None, p_holder="slow")
    assert len(claimed) == 9  # lead, client, project, 5 milestones and the kickoff task
    db.execute("update sync_outbox set next_attempt_at = now() - interval '1 second' where status = 'pending'")

    # When the doorbell claims them again and makes every page, and the slow worker then carries on
    doorbell = OutboxPusher(SyncPorts(rpc, gateway, sources)).sweep(project_id=project_id)
    assert doorbell.created == 8  # all but the lead, which is no project's
    report = SweepReport()
    results = [slow._push(row, report, None, -math.inf) for row in claimed]
    outcome = rpc.rpc("complete_outbox", p_results=results, p_max_attempts=MAX_ATTEMPTS)

    # Then the slow worker made only the page still its own (the lead's): so long after its claim, it looked each
    # page up by Atelier ID first and found the doorbell's (where a lookup misses, the claim check stops it:
    # tests/functional/test_push_rules.py). Its report changed nothing, and each record has one page.
    assert report.created == 1, results
    # And the claim check itself, against Postgres: the row claimed again is no longer this worker's
    client_row = next(row for row in claimed if row["entity"] == "client")
    with pytest.raises(ClaimLost):
        slow._hold(client_row)
    assert (outcome["stale"], outcome["done"]) == (8, 1)
    ids = _atelier_ids(gateway, sources)
    assert len(ids) == 9
    assert set(ids.values()) == {1}
    assert _status(db) == {"done": 9}


def test_a_duplicate_page_is_found_by_check_and_repair_archives_it(
    pusher: OutboxPusher, rpc: PsycopgRpc, gateway: NotionGateway, sources: dict[str, str], db: Conn
) -> None:
    # Given a project whose page was made twice (the second by hand, with the same Atelier ID)
    project_id = paid_project(rpc, stored_lead(rpc))
    pusher.sweep()
    (linked,) = [p for p in gateway.query(sources["project"])]
    extra = gateway.create_page(sources["project"], f"project:{project_id}", dict(linked["properties"])).page
    ports = SyncPorts(rpc, gateway, sources)

    # When the drift check looks, Then it finds the extra page, naming the one that stays
    (found,) = duplicates(ports)
    assert (found.entity, found.record_id, found.keep, found.extras) == (
        "project",
        project_id,
        linked["id"],
        [extra["id"]],
    )

    # When it repairs, Then the extra is in the trash, the record still points at the kept page, nothing is found
    assert repair_duplicates(ports, [found]) == 1
    assert gateway.retrieve_page(extra["id"])["in_trash"] is True
    assert db.execute("select notion_page_id from projects where id = %s", (project_id,)).fetchone() == (linked["id"],)
    assert duplicates(ports) == []
    # And the copy is out of every relation it was in (its milestones listed it beside the kept page), so nothing
    # drifts: `check` would otherwise exit 1 for ever
    for milestone in gateway.query(sources["milestone"]):
        assert [r["id"] for r in milestone["properties"]["Project"]["relation"]] == [linked["id"]]
    assert drift(ports) == []


def test_an_outage_kills_no_row_and_the_first_answer_sends_everything_at_once(
    rpc: PsycopgRpc, notion: NotionEmulator, sources: dict[str, str], db: Conn
) -> None:
    # Given three paid projects queued (27 rows, most of them children) while Notion answers nothing but 503
    for i in range(3):
        paid_project(rpc, stored_lead(rpc, i))
    notion.set_faults(error_rate=1.0, error_statuses=[503], retry_after=0.01, seed=3)
    gateway = NotionGateway(
        notion.state.bot_token, base_url=notion.url, budget=RequestBudget(rate=5000), max_attempts=2
    )
    pusher = OutboxPusher(SyncPorts(rpc, gateway, sources))
    before = len(notion.requests)

    # When runs keep coming, four times as many as a refused row would survive, with time passing between them
    for _ in range(MAX_ATTEMPTS * 4):
        pusher.sweep()
        db.execute(
            "update sync_outbox set next_attempt_at = next_attempt_at - interval '10 minutes' where status = 'pending'"
        )

    # Then no row is dead, and each run tried Notion once rather than once per row
    assert _status(db) == {"pending": 27}
    assert db.execute("select max(refusals) from sync_outbox").fetchone() == (0,)
    assert len(notion.requests) - before == MAX_ATTEMPTS * 4 * 2  # each run: one create, tried twice

    # When Notion answers again, Then one sweep makes every page: nothing is left backing off
    notion.set_faults(error_rate=0.0)
    # (the rows the runs backed off; those past the runs' batch of 25 were never tried, and are due now)
    db.execute(
        "update sync_outbox set next_attempt_at = now() + interval '1 minute'"
        " where status = 'pending' and entity <> 'lead' and failure = 'transient'"
    )
    report = pusher.sweep()
    assert report.created == 27
    assert _status(db) == {"done": 27}


def test_children_wait_for_their_parent_without_using_attempts_and_go_when_it_lands(
    rpc: PsycopgRpc, gateway: NotionGateway, sources: dict[str, str], db: Conn
) -> None:
    # Given a project whose own row is held back (claimed elsewhere), so its milestones find no project page
    project_id = paid_project(rpc, stored_lead(rpc))
    db.execute(
        "update sync_outbox set next_attempt_at = now() + interval '1 hour'"
        " where entity = 'project' and entity_id = %s",
        (project_id,),
    )
    pusher = OutboxPusher(SyncPorts(rpc, gateway, sources))
    for _ in range(MAX_ATTEMPTS + 2):
        db.execute("update sync_outbox set next_attempt_at = now() where status = 'pending' and entity = 'milestone'")
        pusher.sweep()
    assert db.execute(
        "select count(*), max(attempts), max(refusals) from sync_outbox where entity = 'milestone'"
        " and failure = 'waiting' and next_attempt_at > now() + interval '30 seconds'"
        ""
    ).fetchone() == (5, 0, 0)

    # When the project's page lands, Then its milestones go in the same sweep, not after their wait
    db.execute("update sync_outbox set next_attempt_at = now() where entity = 'project'")
    assert pusher.sweep(batch=1).created == 7  # the project, its 5 milestones and its kickoff task
    assert _status(db) == {"done": 9}


def test_a_crashed_runs_lease_is_short_and_the_next_run_frees_its_rows(
    rpc: PsycopgRpc, gateway: NotionGateway, sources: dict[str, str], db: Conn
) -> None:
    # Given a run that took the lease, claimed rows, and was killed (no heartbeat, no release)
    paid_project(rpc, stored_lead(rpc))
    assert rpc.rpc("take_sync_lease", p_name=LEASE_NAME, p_holder="killed", p_seconds=RUN_LEASE_SECONDS)
    rpc.rpc("claim_outbox", p_limit=25, p_lease_seconds=120, p_project_id=None, p_holder="killed")
    (term,) = db.execute("select extract(epoch from expires_at - now()) from sync_lease").fetchone() or (None,)
    assert float(str(term)) <= 10  # the next run waits at most this long

    # When the next run comes after the term, Then it runs and pushes the killed run's rows now, not in 120 s
    ports = SyncPorts(rpc, gateway, sources)
    assert not run_cycle(ports, holder="next", budget_seconds=30).ran  # the lease is still the killed run's
    db.execute("update sync_lease set expires_at = now() - interval '1 second'")
    cycle = run_cycle(ports, holder="next", budget_seconds=30)
    assert cycle.ran
    assert cycle.sweep.created == 9
    assert _status(db) == {"done": 9}
    assert db.execute("select count(*) from sync_lease").fetchone() == (0,)


def test_a_team_edit_made_while_a_property_was_deleted_is_applied_once_setup_recreates_it(
    pusher: OutboxPusher,
    rpc: PsycopgRpc,
    gateway: NotionGateway,
    notion: NotionEmulator,
    sources: dict[str, str],
    db: Conn,
) -> None:
    # Given milestone pages; the team deletes the Completed property, through the API with a person's token, and
    # marks a milestone done meanwhile (a rename alone no longer stops anything: properties go by id)
    project_id = paid_project(rpc, stored_lead(rpc))
    pusher.sweep()
    page_id = str(
        (
            db.execute(
                'select notion_page_id from milestones where project_id = %s order by "order" limit 1', (project_id,)
            ).fetchone()
            or ("",)
        )[0]
    )
    source = sources["milestone"]
    person = NotionGateway(notion.state.human_token, base_url=notion.url, budget=RequestBudget(rate=5000))
    person.update_data_source(source, {"Status": {"name": "Stage"}, "Completed": None})
    person.update_page(page_id, {"Stage": {"status": {"name": "Done"}}})
    poller = NotionPoller(SyncPorts(rpc, gateway, sources))
    start = datetime.now(UTC)

    # When polls run for ten minutes while it is gone, Then nothing is applied and it is reported once
    for minutes in (0, 3, 6, 10):
        report = poller.poll(now=start + timedelta(minutes=minutes))
        assert report.unapplied == 5  # the five milestone pages, all edited within the window
    assert db.execute("select count(*) from audit_log where action = 'notion.unapplied'").fetchone() == (5,)
    assert db.execute("select count(*) from milestones where status = 'completed'").fetchone() == (0,)

    # When `notion setup` recreates it, Then the next poll applies the edit (the renamed Status found by its id)
    setup(gateway, notion.parent_page_id, rpc=rpc, say=lambda _: None)
    assert NotionPoller(SyncPorts(rpc, gateway, sources)).poll(now=start + timedelta(minutes=12)).applied == 1
    assert db.execute("select count(*) from milestones where status = 'completed'").fetchone() == (1,)


def test_two_runs_racing_for_a_free_lease_do_not_both_get_it(database_url: str) -> None:
    barrier = threading.Barrier(8)
    won: list[object] = []

    def take(i: int) -> None:
        rpc = PsycopgRpc(database_url)
        barrier.wait()
        got = rpc.rpc("take_sync_lease", p_name=LEASE_NAME, p_holder=f"run-{i}", p_seconds=RUN_LEASE_SECONDS)
        if got:
            won.append(got)
        rpc.close()

    threads = [threading.Thread(target=take, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1


def test_notion_unreachable_is_an_outage_not_a_crash(rpc: PsycopgRpc, sources: dict[str, str], db: Conn) -> None:
    # Given Notion refusing connections (nothing listens on its port), and a paid project queued
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    paid_project(rpc, stored_lead(rpc))
    gateway = NotionGateway(
        "secret_unreachable",
        base_url=f"http://127.0.0.1:{closed_port}",
        budget=RequestBudget(rate=5000),
        max_attempts=2,
    )
    ports = SyncPorts(rpc, gateway, sources)

    # When a run comes, Then the gateway says it cannot reach Notion, and the run ends without raising
    with pytest.raises(NotionError) as refused:
        gateway.retrieve_page("00000000-0000-4000-8000-000000000000")
    assert refused.value.code == "connection"
    cycle = run_cycle(ports, holder="offline", budget_seconds=30)
    assert cycle.ran
    assert cycle.sweep.notion_down
    assert cycle.poll.stopped_early
    # And nothing is dead or used up: every row waits for Notion to answer again
    assert db.execute("select count(*), max(refusals) from sync_outbox where status = 'pending'").fetchone() == (9, 0)
