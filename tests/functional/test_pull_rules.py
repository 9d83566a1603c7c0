"""Notion -> Postgres rules, against in-memory ports: what a poll applies, skips, and puts back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from atelier.sync import LAST_EDITED, NotionPoller, OutboxPusher, SyncPorts
from tests.functional.fakes import FakeNotion, FakeRpc, sync_ports
from tests.functional.test_push_rules import SOURCES

MILESTONE = {
    "id": "7d4f0c70-0000-4000-8000-000000000004",
    "name": "Survey",
    "order": 1,
    "due_date": "2026-12-01",
    "status": "pending",
    "completed_at": None,
}


def pushed_milestone() -> tuple[FakeRpc, FakeNotion, SyncPorts, str]:
    """A milestone pushed once, with the pull state Postgres would hold for it."""
    rpc, notion = FakeRpc(), FakeNotion()
    ports = sync_ports(rpc, notion, SOURCES)
    rpc.queue("milestone", MILESTONE)
    OutboxPusher(ports).sweep()
    (page_id,) = notion.pages
    done = rpc.completed[-1]
    rpc.pull_state[str(MILESTONE["id"])] = {
        "page_id": page_id,
        "pushed": done["pushed_hash"],
        "pulled": None,
        "deleted": False,
    }
    return rpc, notion, ports, page_id


def test_our_own_echo_is_skipped() -> None:
    # Given a page whose last edit is our own push
    rpc, _, ports, _ = pushed_milestone()

    # When the poll reads it
    report = NotionPoller(ports).poll()

    # Then nothing is applied, and it counts as an echo
    assert report.echoes == 1
    assert rpc.applied == []


def test_a_team_members_edit_to_a_field_notion_owns_is_applied() -> None:
    rpc, notion, ports, page_id = pushed_milestone()

    # When a person marks the milestone done in Notion
    notion.edit_as_person(page_id, {"Status": {"status": {"name": "Done"}}})
    NotionPoller(ports).poll()

    # Then Postgres gets the status in its own words
    (change,) = rpc.applied
    assert change["id"] == MILESTONE["id"]
    assert change["values"]["status"] == "completed"


def test_a_bot_edit_whose_values_differ_from_our_push_is_not_taken_for_an_echo() -> None:
    # Given our bot was the last editor, but the page's status is not what we pushed (a person edited it in the
    # same minute, before our own write)
    rpc, notion, ports, page_id = pushed_milestone()
    notion.pages[page_id]["properties"]["Status"] = {"type": "status", "status": {"name": "In progress"}}

    NotionPoller(ports).poll()

    (change,) = rpc.applied
    assert change["values"]["status"] == "in_progress"


def test_a_person_editing_a_field_postgres_owns_is_put_back_not_applied() -> None:
    rpc, notion, ports, page_id = pushed_milestone()

    notion.edit_as_person(page_id, {"Order": {"number": 9}})
    NotionPoller(ports).poll()

    (change,) = rpc.applied
    assert change["repush"] == ["Order"]
    assert change["lost"] == {"Order": "9"}
    assert "values" not in change or change["values"].get("order") is None


def test_an_option_the_schema_cannot_hold_is_left_out() -> None:
    rpc, notion, ports, page_id = pushed_milestone()

    notion.edit_as_person(page_id, {"Status": {"status": {"name": "Blocked"}}})
    NotionPoller(ports).poll()

    assert all("status" not in change.get("values", {}) for change in rpc.applied)


def test_the_cursor_reads_from_the_last_value_less_its_lag_and_keeps_the_runs_start() -> None:
    # Given a data source last polled at 10:00
    now = datetime(2026, 11, 23, 10, 30, 15, tzinfo=UTC)
    since, until = LAST_EDITED.window("2026-11-23T10:00:00+00:00", now)

    # Then this run reads from two minutes before it (Notion rounds edit times down to the minute) to past now
    assert since == datetime(2026, 11, 23, 9, 58, tzinfo=UTC)
    assert until > now
    assert LAST_EDITED.next_value(now) == now
    # And a source never polled starts at the cursor's initial value
    assert LAST_EDITED.window(None, now)[0] == LAST_EDITED.initial_value - timedelta(minutes=2)


def test_the_poll_asks_notion_for_the_cursors_window_and_records_its_new_value() -> None:
    rpc, notion, ports, _ = pushed_milestone()
    rpc.watermarks["ds-milestone"] = "2026-11-23T10:00:00+00:00"
    now = datetime(2026, 11, 23, 10, 30, tzinfo=UTC)

    NotionPoller(ports).poll(now=now)

    asked = next(
        args for name, args in notion.calls if name == "edited_between" and args["data_source_id"] == "ds-milestone"
    )
    assert asked["since"] == datetime(2026, 11, 23, 9, 58, tzinfo=UTC)
    assert rpc.watermarks["ds-milestone"] == now.isoformat()
