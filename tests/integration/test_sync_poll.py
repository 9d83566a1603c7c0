"""Notion -> Postgres: the team's edits read back by polling, minute-safe, echo-free, applied once."""

from __future__ import annotations

from typing import Any, cast

import psycopg
import pytest

from atelier.kernel.rpc import PsycopgRpc
from atelier.notion import NotionGateway
from atelier.notion.codec import plain_text, rich_text
from atelier.sync import NotionPoller, OutboxPusher, SyncPorts
from atelier.sync.comments import post_due
from atelier_local.notion_emulator import NotionEmulator
from atelier_local.samples import paid_project, stored_lead
from tests.seed_catalogue import TIER_NAME

Conn = psycopg.Connection[tuple[object, ...]]


@pytest.fixture
def synced(rpc: PsycopgRpc, pusher: OutboxPusher, db: Conn) -> str:
    """A paid project, pushed to Notion; returns its id."""
    project_id = paid_project(rpc, stored_lead(rpc))
    pusher.sweep()
    return project_id


@pytest.fixture
def poller(rpc: PsycopgRpc, gateway: NotionGateway, sources: dict[str, str]) -> NotionPoller:
    return NotionPoller(SyncPorts(rpc, gateway, sources))


def _page(db: Conn, table: str, where: str = "true") -> str:
    row = db.execute(
        f"select notion_page_id from {table} where {where} order by created_at limit 1".encode()
    ).fetchone()
    assert row is not None
    return str(row[0])


def _first_milestone(db: Conn) -> tuple[str, str]:
    row = db.execute('select id::text, notion_page_id from milestones order by "order" limit 1').fetchone()
    assert row is not None
    return str(row[0]), str(row[1])


def test_a_milestone_marked_done_by_the_team_is_completed_in_postgres(
    synced: str, poller: NotionPoller, human: NotionGateway, db: Conn
) -> None:
    milestone_id, page_id = _first_milestone(db)
    human.update_page(page_id, {"Status": {"status": {"name": "Done"}}})

    report = poller.poll()

    assert report.applied == 1
    row = db.execute("select status::text, completed_at is not null from milestones where id = %s", (milestone_id,))
    assert row.fetchone() == ("completed", True)
    audit = db.execute("select details from audit_log where action = 'notion.changed'").fetchone()
    assert audit is not None
    details: Any = audit[0]
    assert (details["old"]["status"], details["new"]["status"]) == ("pending", "completed")


def test_our_own_writes_are_not_read_back_but_a_same_minute_human_edit_is(
    synced: str, poller: NotionPoller, pusher: OutboxPusher, human: NotionGateway, db: Conn
) -> None:
    assert poller.poll().applied == 0  # only our own pushes so far: echoes
    milestone_id, page_id = _first_milestone(db)
    human.update_page(page_id, {"Status": {"status": {"name": "In progress"}}})
    # Within the same minute, our bot writes the page again (a due date moved in Postgres).
    db.execute("update milestones set due_date = due_date + 1 where id = %s", (milestone_id,))
    pusher.sweep()

    poller.poll()

    assert db.execute("select status::text from milestones where id = %s", (milestone_id,)).fetchone() == (
        "in_progress",
    )


def test_overlapping_poll_windows_apply_an_edit_once(
    synced: str, poller: NotionPoller, human: NotionGateway, db: Conn
) -> None:
    human.update_page(_page(db, "projects"), {"Status": {"select": {"name": "in_progress"}}})
    assert poller.poll().applied == 1
    assert poller.poll().applied == 0  # the same page is in the overlapping window again
    assert db.execute("select count(*) from audit_log where action = 'notion.changed'").fetchone() == (1,)
    assert db.execute("select status::text from projects").fetchone() == ("in_progress",)


def test_trash_then_restore(synced: str, poller: NotionPoller, human: NotionGateway, db: Conn) -> None:
    page_id = _page(db, "projects")
    human.update_page(page_id, in_trash=True)
    assert poller.poll().deleted == 1
    assert db.execute("select deleted_at is not null from projects").fetchone() == (True,)

    human.update_page(page_id, in_trash=False)
    assert poller.poll().restored == 1
    assert db.execute("select deleted_at is null from projects").fetchone() == (True,)
    actions = [
        r[0] for r in db.execute("select action from audit_log where action like 'notion.%' order by created_at")
    ]
    assert actions == ["notion.deleted", "notion.restored"]


def test_a_field_postgres_owns_is_put_back_and_the_teams_value_kept_with_one_comment_that_says_why(
    synced: str,
    poller: NotionPoller,
    pusher: OutboxPusher,
    human: NotionGateway,
    gateway: NotionGateway,
    db: Conn,
    rpc: PsycopgRpc,
    sources: dict[str, str],
) -> None:
    page_id = _page(db, "projects")
    human.update_page(page_id, {"Tier": {"select": {"name": TIER_NAME[4]}}})
    assert poller.poll().overridden == 1
    ports = SyncPorts(rpc, gateway, sources)
    assert post_due(ports).posted == 1
    pusher.sweep()
    tier = gateway.retrieve_page(page_id)["properties"]["Tier"]["select"]["name"]
    assert tier == TIER_NAME[2]  # what Postgres holds
    audit = db.execute("select details from audit_log where action = 'notion.overridden'").fetchone()
    assert audit is not None
    details = cast("dict[str, Any]", audit[0])
    assert details["notion_values"] == {"Tier": TIER_NAME[4]}
    assert details["author"]["name"] == "Studio Team"  # who made the edit that was put back
    # Later runs see the page as Atelier left it: no second comment for the same edit
    poller.poll()
    assert post_due(ports).posted == 0
    (comment,) = gateway.list_comments(page_id)
    text = plain_text(comment["rich_text"]) or ""
    assert text.startswith('Atelier put back "Tier" on this page')
    assert "Stripe" in text  # where the tier is changed instead
    assert db.execute("select status::text from notion_comments").fetchall() == [("posted",)]


def test_what_the_team_owns_is_applied_without_a_comment(
    synced: str,
    poller: NotionPoller,
    human: NotionGateway,
    gateway: NotionGateway,
    db: Conn,
    rpc: PsycopgRpc,
    sources: dict[str, str],
) -> None:
    synced_before = gateway.retrieve_page(_page(db, "projects"))["properties"]["Last Synced"]["date"]["start"]
    human.update_page(_page(db, "projects"), {"Name": {"title": rich_text("Kitchen, back wall")}})
    human.update_page(_page(db, "milestones"), {"Due": {"date": {"start": "2027-02-01"}}})
    poll = poller.poll()
    assert (poll.applied, poll.overridden) == (2, 0)
    assert db.execute("select name from projects").fetchone() == ("Kitchen, back wall",)
    assert db.execute('select due_date::text from milestones order by created_at, "order" limit 1').fetchone() == (
        "2027-02-01",
    )
    assert post_due(SyncPorts(rpc, gateway, sources)).posted == 0
    assert db.execute("select count(*) from notion_comments").fetchone() == (0,)
    synced_after = gateway.retrieve_page(_page(db, "projects"))["properties"]["Last Synced"]["date"]["start"]
    assert synced_after > synced_before  # "Last Synced" moves when a team edit is pulled, too


def test_a_value_the_schema_cannot_hold_is_not_applied(
    synced: str, poller: NotionPoller, human: NotionGateway, db: Conn
) -> None:
    human.update_page(_page(db, "projects"), {"Status": {"select": {"name": "Blocked by the council"}}})
    poller.poll()
    assert db.execute("select status::text from projects").fetchone() == ("onboarding",)


def test_a_poll_of_unchanged_data_sources_costs_one_query_each(
    synced: str, poller: NotionPoller, notion: NotionEmulator
) -> None:
    poller.poll()
    before = len(notion.requests)
    poller.poll()
    calls = [(r["method"], r["path"].rsplit("/", 1)[-1]) for r in notion.requests[before:]]
    assert calls == [("POST", "query")] * 6  # one per records' data source (the cycle reads Services and Messages)


def test_a_poll_out_of_time_stops_cleanly_and_the_next_one_catches_up(
    synced: str, poller: NotionPoller, human: NotionGateway, notion: NotionEmulator, db: Conn
) -> None:
    import time

    poller.poll()  # knows our bot by now
    human.update_page(_page(db, "projects"), {"Status": {"select": {"name": "revisions"}}})
    notion.set_faults(rate_per_second=0.2, burst=0)  # every request now has to wait ~5 s
    report = poller.poll(deadline=time.monotonic() + 0.5)
    assert report.stopped_early
    assert db.execute("select status::text from projects").fetchone() == ("onboarding",)
    notion.set_faults(rate_per_second=2000, burst=2000)
    assert poller.poll().applied == 1
    assert db.execute("select status::text from projects").fetchone() == ("revisions",)


def test_a_clients_name_phone_and_company_typed_in_notion_are_kept(
    synced: str, poller: NotionPoller, pusher: OutboxPusher, human: NotionGateway, gateway: NotionGateway, db: Conn
) -> None:
    # Given the client's page, named by the lead's form
    page_id = _page(db, "clients")
    assert db.execute("select name from clients").fetchone() == ("Client 0",)

    # When the team types the client's full name, phone and company, and the sync runs both ways (twice)
    human.update_page(
        page_id,
        {
            "Name": {"title": rich_text("Ada King, Countess of Lovelace")},
            "Phone": {"phone_number": "+44 20 7946 0000"},
            "Company": {"rich_text": rich_text("Analytical Engines Ltd")},
        },
    )
    for _ in range(2):
        poller.poll()
        pusher.sweep()

    # Then Postgres has them, the page keeps them, and no comment says they were put back
    assert db.execute("select name, phone, company from clients").fetchone() == (
        "Ada King, Countess of Lovelace",
        "+44 20 7946 0000",
        "Analytical Engines Ltd",
    )
    page = gateway.retrieve_page(page_id)
    assert plain_text(page["properties"]["Name"]["title"]) == "Ada King, Countess of Lovelace"
    assert db.execute("select count(*) from notion_comments").fetchone() == (0,)


def test_the_payers_name_fills_an_empty_client_name_and_never_replaces_one(rpc: PsycopgRpc, db: Conn) -> None:
    for i, (before, paid_as, after) in enumerate(
        [(None, "Ada Lovelace", "Ada Lovelace"), ("Ada", "A. Lovelace", "Ada")]
    ):
        lead = stored_lead(rpc, 10 + i)
        email = f"client{10 + i}@example.com"
        user = db.execute("insert into users (email, user_type) values (%s, 'sage_client') returning id", (email,))
        db.execute("insert into clients (user_id, tier, name) values (%s, 2, %s)", (user.fetchone()[0], before))  # type: ignore[index]
        session = f"cs_name_{i}"
        rpc.rpc(
            "record_lead_answer",
            p_lead_id=lead,
            p_answer={"tier": 2},
            p_checkout_session_id=session,
            p_checkout_url="https://checkout.example/",
        )
        rpc.rpc(
            "apply_stripe_event",
            p_event_id=f"evt_name_{i}",
            p_event_type="checkout.session.completed",
            p_kind="fulfil",
            p_reason=None,
            p_lead_id=lead,
            p_tier=2,
            p_checkout_session_id=session,
            p_payment_intent_id=f"pi_name_{i}",
            p_customer_id=None,
            p_email=email,
            p_amount=750000,
            p_amount_refunded=0,
            p_currency="usd",
            p_name=paid_as,
        )
        name = db.execute("select c.name from clients c join users u on u.id = c.user_id where u.email = %s", (email,))
        assert name.fetchone() == (after,)


def test_a_team_edit_to_a_field_postgres_owns_is_put_back_even_when_our_push_lands_after_it(
    synced: str,
    poller: NotionPoller,
    pusher: OutboxPusher,
    human: NotionGateway,
    gateway: NotionGateway,
    db: Conn,
    rpc: PsycopgRpc,
    sources: dict[str, str],
) -> None:
    # Given a person ticks the project's "Needs Review" (a field Postgres owns) in Notion
    page_id = _page(db, "projects")
    human.update_page(page_id, {"Needs Review": {"checkbox": True}})
    # When, within seconds, a refund changes the project and its push lands on the page after the person's edit
    db.execute("update projects set payment_status = 'refunded'")
    pusher.sweep()
    assert gateway.retrieve_page(page_id)["last_edited_by"]["id"] == gateway.bot_id()  # our bot edited it last

    # And the sync runs twice
    for _ in range(2):
        poller.poll()
        pusher.sweep()
        post_due(SyncPorts(rpc, gateway, sources))

    # Then the person's value is put back, with one comment that says why, and Postgres keeps its own
    assert gateway.retrieve_page(page_id)["properties"]["Needs Review"]["checkbox"] is False
    assert db.execute("select needs_review from projects").fetchone() == (False,)
    assert db.execute("select count(*) from notion_comments").fetchone() == (1,)
