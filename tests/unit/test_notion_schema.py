"""The mapping's converters: every property type used round-trips through Notion's value shape."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from atelier.notion import Failure, classify
from atelier.notion.codec import RICH_TEXT_CHUNK, from_property, rich_text, select_name, to_property
from atelier.sync.mapping import ENTITIES, MILESTONE, SOURCES, Owner

text = st.text(alphabet=st.characters(exclude_categories=["Cs"]), min_size=1, max_size=5000)
names = st.text(
    alphabet=st.characters(exclude_categories=["Cs", "Zs", "Cc"], exclude_characters=","), min_size=1, max_size=100
)


def round_trip(kind: str, value: Any) -> Any:
    prop = to_property(kind, value)
    # Notion echoes rich text with plain_text filled in; the converter reads either.
    if kind in ("title", "rich_text"):
        prop[kind] = [{**item, "plain_text": item["text"]["content"]} for item in prop[kind]]
    return from_property(kind, prop)


@given(text)
def test_title_and_rich_text_round_trip_in_2000_character_chunks(value: str) -> None:
    assert round_trip("title", value) == value
    assert round_trip("rich_text", value) == value
    assert all(len(item["text"]["content"]) <= RICH_TEXT_CHUNK for item in rich_text(value))


@given(st.one_of(st.none(), st.integers(-(10**9), 10**9), st.floats(allow_nan=False, allow_infinity=False)))
def test_number_round_trips(value: float | None) -> None:
    assert round_trip("number", value) == value


@given(names)
def test_select_and_status_round_trip(value: str) -> None:
    assert round_trip("select", value) == select_name(value)
    assert round_trip("status", value) == value


@given(st.booleans())
def test_checkbox_round_trips(value: bool) -> None:
    assert round_trip("checkbox", value) is value


@given(st.one_of(st.dates(), st.datetimes(timezones=st.just(UTC))))
def test_date_round_trips(value: date | datetime) -> None:
    assert round_trip("date", value) == value


@given(st.one_of(st.none(), st.from_regex(r"https://[a-z]{1,20}\.example/[a-z0-9/]{0,30}", fullmatch=True)))
def test_url_round_trips(value: str | None) -> None:
    assert round_trip("url", value) == value


@given(st.emails())
def test_email_round_trips(value: str) -> None:
    assert round_trip("email", value) == value


@given(st.lists(st.uuids().map(str), max_size=20))
def test_relation_round_trips(value: list[str]) -> None:
    assert round_trip("relation", value) == value


def test_select_names_lose_commas() -> None:
    assert select_name("Kitchen, bath,  and hall") == "Kitchen bath and hall"


def test_rich_text_is_capped_at_100_items() -> None:
    assert len(rich_text("x" * (RICH_TEXT_CHUNK * 150))) == 100


def test_ownership_follows_the_design() -> None:
    notion_owned = {(e.name, f.column) for e in ENTITIES for f in e.owned_by(Owner.notion)}
    assert notion_owned == {
        ("milestone", "status"),
        ("milestone", "completed_at"),
        ("project", "name"),
        ("project", "owner"),
        ("milestone", "due_date"),
        ("client", "project_address"),
        ("client", "name"),
        ("client", "phone"),
        ("client", "company"),
        # A task is the team's from the moment it exists: its name, state, due date, assignee and completion.
        ("task", "title"),
        ("task", "status"),
        ("task", "due_date"),
        ("task", "assignee"),
        ("task", "completed_at"),
    }
    # The Services and Messages pages are the team's, every field (Postgres wrote only the first pages).
    assert all(f.owner is Owner.notion for e in SOURCES for f in e.fields)
    # The team decides these, and Atelier moves them too: a lead's review, a project's status as the client decides.
    shared = {(e.name, f.column) for e in ENTITIES for f in e.owned_by(Owner.shared)}
    assert shared == {
        ("lead", "tier_name"),
        ("lead", "status"),
        ("lead", "quote"),
        ("lead", "quote_note"),
        ("project", "status"),
    }


def test_every_field_postgres_owns_says_where_to_change_it() -> None:
    for entity in ENTITIES:
        for f in entity.owned_by(Owner.postgres):
            assert f.guide, f"{entity.name}.{f.column} has no guide for the comment a hand edit gets"
    text = ENTITIES[2].put_back(["Tier", "Payment"])
    assert text.startswith('Atelier put back "Tier", "Payment" on this page')
    assert text.count("Stripe") == 1  # one reason said once, however many fields share it


def test_milestone_status_uses_notions_status_names() -> None:
    status = next(f for f in MILESTONE.fields if f.column == "status")
    page = {"properties": MILESTONE.properties({"status": "completed"}, fields=(status,))}
    page["properties"]["Status"]["status"] = {"name": "Done"}
    assert MILESTONE.values(page, fields=(status,)) == {"status": "completed"}


def test_errors_are_classed_by_code_and_status() -> None:
    assert classify(429, "rate_limited") is Failure.transient
    assert classify(529, None) is Failure.transient
    assert classify(409, "conflict_error") is Failure.transient
    assert classify(503, "service_unavailable") is Failure.transient
    assert classify(500, "internal_server_error") is Failure.ambiguous
    assert classify(None, "notionhq_client_request_timeout") is Failure.ambiguous
    assert classify(400, "validation_error") is Failure.permanent
    assert classify(404, "object_not_found") is Failure.permanent
