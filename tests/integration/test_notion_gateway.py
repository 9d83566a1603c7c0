"""The gateway against the stateful emulator, every request checked against Notion's OpenAPI file."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from atelier.notion import ENDPOINTS, NOTION_VERSION, NotionError, NotionGateway, RequestBudget, RetryLater
from atelier.notion.codec import ATELIER_ID, rich_text
from atelier.sync.setup import DataSourceIds, setup
from atelier_local.notion_emulator import BOT_ID, PERSON_ID, NotionEmulator
from atelier_local.openapi_check import OpenApiCheck

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


@pytest.fixture
def leads(gateway: NotionGateway, notion: NotionEmulator) -> str:
    return setup(gateway, notion.parent_page_id, say=lambda _: None).ids["lead"].data_source_id


def _lead(name: str, atelier_id: str) -> dict[str, object]:
    return {"Name": {"title": rich_text(name)}, ATELIER_ID: {"rich_text": rich_text(atelier_id)}}


def test_the_gateway_speaks_version_2025_09_03(gateway: NotionGateway, notion: NotionEmulator) -> None:
    assert NOTION_VERSION >= "2025-09-03"
    assert gateway.me()["id"] == BOT_ID


def test_a_create_that_commits_then_fails_is_found_not_repeated(
    gateway: NotionGateway, notion: NotionEmulator, leads: str
) -> None:
    notion.set_faults(commit_then_fail_rate=1.0)
    created = gateway.create_page(leads, "lead-1", _lead("Ada", "lead-1"))
    notion.set_faults(commit_then_fail_rate=0.0)
    assert created.found_existing
    assert [p["id"] for p in gateway.query(leads)] == [created.page["id"]]


def test_rate_limits_are_honoured_with_retry_after(notion: NotionEmulator, leads: str) -> None:
    notion.set_faults(rate_per_second=20, burst=2)
    fast = NotionGateway(notion.state.bot_token, base_url=notion.url, budget=RequestBudget(rate=1000), timeout_s=5)
    for i in range(12):
        fast.create_page(leads, f"lead-{i}", _lead(f"Lead {i}", f"lead-{i}"))
    assert len(list(fast.query(leads))) == 12
    assert fast.calls > 13  # some requests were refused with 429 and sent again


def test_529_and_503_are_retried(notion: NotionEmulator, gateway: NotionGateway, leads: str) -> None:
    notion.set_faults(error_rate=0.3, error_statuses=[529, 503], retry_after=0.01, seed=7)
    for i in range(10):
        gateway.update_page(
            gateway.create_page(leads, f"l{i}", _lead("x", f"l{i}")).page["id"],
            {"Name": {"title": rich_text(f"Lead {i}")}},
        )
    notion.set_faults(error_rate=0.0)
    assert sorted(str(p["properties"]["Name"]["title"][0]["plain_text"]) for p in gateway.query(leads)) == sorted(
        f"Lead {i}" for i in range(10)
    )


def test_waiting_past_the_deadline_raises_retry_later(notion: NotionEmulator, leads: str) -> None:
    notion.set_faults(rate_per_second=0.2, burst=1)
    slow = NotionGateway(notion.state.bot_token, base_url=notion.url, budget=RequestBudget(rate=1000), timeout_s=5)
    slow.me()  # takes the only token
    started = time.monotonic()
    with pytest.raises(RetryLater):
        slow.me(deadline=time.monotonic() + 0.5)
    assert time.monotonic() - started < 0.5


def test_the_budget_never_sleeps_past_a_deadline() -> None:
    budget = RequestBudget(rate=1.0, burst=1.0)
    budget.acquire(None)
    with pytest.raises(RetryLater):
        budget.acquire(time.monotonic() + 0.2)


def test_a_permanent_error_is_not_retried(gateway: NotionGateway, leads: str) -> None:
    calls = gateway.calls
    with pytest.raises(NotionError) as caught:
        gateway.create_page(leads, "x", {"Name": {"title": [{"type": "text", "text": {"content": "x" * 2001}}]}})
    assert caught.value.code == "validation_error"
    assert gateway.calls == calls + 1


def test_queries_follow_next_cursor(gateway: NotionGateway, notion: NotionEmulator, leads: str) -> None:
    for i in range(230):
        gateway.create_page(leads, f"p{i}", _lead(f"Lead {i}", f"p{i}"))
    before = len(notion.requests)
    assert len(list(gateway.query(leads))) == 230
    assert len(notion.requests) - before == 3  # 100 + 100 + 30


def test_page_size_over_100_is_refused_by_the_emulator(gateway: NotionGateway, leads: str) -> None:
    with pytest.raises(NotionError, match="page_size"):
        gateway._send(lambda: gateway._client.data_sources.query(leads, page_size=101), safe=True, deadline=None)


def test_long_text_is_chunked_and_stored(gateway: NotionGateway, leads: str) -> None:
    page = gateway.create_page(leads, "long", {**_lead("Long", "long"), "Reason": {"rich_text": rich_text("y" * 4500)}})
    stored = gateway.retrieve_page(page.page["id"])["properties"]["Reason"]["rich_text"]
    assert [len(item["plain_text"]) for item in stored] == [2000, 2000, 500]


def test_edits_are_minute_stamped_and_attributed(gateway: NotionGateway, human: NotionGateway, leads: str) -> None:
    page = gateway.create_page(leads, "who", _lead("Who", "who")).page
    assert page["last_edited_time"].endswith(":00.000Z")
    assert page["last_edited_by"]["id"] == BOT_ID
    edited = human.update_page(page["id"], {"Name": {"title": rich_text("Edited by the team")}})
    assert edited["last_edited_by"]["id"] == PERSON_ID


def test_trash_and_restore(gateway: NotionGateway, leads: str) -> None:
    page = gateway.create_page(leads, "t", _lead("Trash me", "t")).page
    gateway.update_page(page["id"], in_trash=True)
    assert list(gateway.query(leads)) == []
    assert gateway.retrieve_page(page["id"])["in_trash"] is True
    gateway.update_page(page["id"], in_trash=False)
    assert len(list(gateway.query(leads))) == 1


def test_file_upload_then_image_block(gateway: NotionGateway, leads: str) -> None:
    upload_id = gateway.upload_file("plan.png", "image/png", PNG)
    page = gateway.create_page(
        leads,
        "img",
        _lead("With image", "img"),
        children=[{"type": "image", "image": {"type": "file_upload", "file_upload": {"id": upload_id}}}],
    )
    blocks = gateway.list_blocks(page.page["id"])
    assert [b["type"] for b in blocks] == ["image"]
    assert blocks[0]["image"]["file"]["url"].endswith("/plan.png")


def test_an_upload_over_the_single_part_limit_is_refused_before_sending(gateway: NotionGateway) -> None:
    calls = gateway.calls
    with pytest.raises(NotionError, match="single-part"):
        gateway.upload_file("huge.pdf", "application/pdf", b"x" * (20 * 1024 * 1024 + 1))
    assert gateway.calls == calls


def test_appends_go_in_batches_of_100(gateway: NotionGateway, notion: NotionEmulator, leads: str) -> None:
    page = gateway.create_page(leads, "b", _lead("Blocks", "b")).page
    paragraphs = [{"type": "paragraph", "paragraph": {"rich_text": rich_text(f"line {i}")}} for i in range(250)]
    before = len(notion.requests)
    gateway.append_blocks(page["id"], paragraphs)
    assert len(notion.requests) - before == 3
    assert len(gateway.list_blocks(page["id"])) == 250


def test_search_finds_pages_by_title(gateway: NotionGateway, leads: str) -> None:
    gateway.create_page(leads, "s", _lead("Findable lead", "s"))
    assert [p["object"] for p in gateway.search("Findable", object_type="page")] == ["page"]


def test_a_request_that_breaks_the_spec_is_refused_and_recorded(
    gateway: NotionGateway, notion: NotionEmulator, leads: str
) -> None:
    with pytest.raises(NotionError, match="OpenAPI spec"):
        gateway._send(
            lambda: gateway._client.data_sources.query(leads, sorts=[{"direction": 3}]), safe=True, deadline=None
        )
    assert notion.spec_violations
    notion.spec_violations.clear()  # expected here; the fixture fails any test that leaves one


def test_every_endpoint_the_gateway_calls_is_checked_against_the_spec(
    gateway: NotionGateway, human: NotionGateway, notion: NotionEmulator, spec_check: OpenApiCheck
) -> None:
    ids: dict[str, DataSourceIds] = setup(gateway, notion.parent_page_id, say=lambda _: None).ids
    source = ids["lead"].data_source_id
    page = gateway.create_page(source, "cov", _lead("Coverage", "cov")).page
    gateway.me()
    gateway.retrieve_page(page["id"])
    gateway.update_page(page["id"], {"Name": {"title": rich_text("Coverage 2")}})
    gateway.retrieve_database(ids["lead"].database_id)
    gateway.retrieve_data_source(source)
    gateway.update_data_source(source, {"Reason": {"rich_text": {}}})
    list(gateway.query(source))
    gateway.append_blocks(page["id"], [{"type": "paragraph", "paragraph": {"rich_text": rich_text("x")}}])
    gateway.list_blocks(page["id"])
    gateway.search("Coverage")
    gateway.upload_file("a.png", "image/png", PNG)
    gateway.create_view(source, "Coverage", "table", {"type": "table"})
    gateway.list_views(source)
    gateway.create_comment(page["id"], "Coverage")
    gateway.list_comments(page["id"])
    file_uploads = {("POST", "/v1/file_uploads"), ("POST", "/v1/file_uploads/{file_upload_id}/send")}
    covered = spec_check.checked | spec_check.unspecified | file_uploads
    assert set(ENDPOINTS) <= covered, set(ENDPOINTS) - covered
    assert ("POST", "/v1/databases") in spec_check.unspecified


def test_a_query_past_the_result_limit_is_split_by_time_and_completes(
    gateway: NotionGateway, notion: NotionEmulator, leads: str
) -> None:
    # Given 120 pages edited over two hours, and a query limit of 50 results
    start = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    for i in range(120):
        notion.state.clock = lambda i=i: start + timedelta(minutes=i)  # type: ignore[misc]
        gateway.create_page(leads, f"w{i}", _lead(f"Lead {i}", f"w{i}"))
    notion.state.clock = lambda: datetime.now(UTC)
    notion.set_faults(max_query_results=50)
    # A plain query stops at the limit and says so
    first = gateway.query_page(leads, page_size=100)
    assert len(first["results"]) == 50
    assert first["request_status"]["type"] == "incomplete"

    # When the poller asks by time window, the window is split until each half completes
    pages = gateway.edited_between(leads, start, start + timedelta(hours=3))

    assert sorted(p["properties"][ATELIER_ID]["rich_text"][0]["plain_text"] for p in pages) == sorted(
        f"w{i}" for i in range(120)
    )


def test_the_control_endpoint_edits_as_a_person(gateway: NotionGateway, notion: NotionEmulator, leads: str) -> None:
    import httpx

    page = gateway.create_page(leads, "h", _lead("Before", "h")).page
    answer = httpx.post(
        f"{notion.url}/_control/edit-as-human",
        json={"page_id": page["id"], "properties": {"Name": {"title": rich_text("After")}}},
    )
    assert answer.status_code == 200
    edited = gateway.retrieve_page(page["id"])
    assert edited["last_edited_by"]["id"] == PERSON_ID
    assert edited["properties"]["Name"]["title"][0]["plain_text"] == "After"
