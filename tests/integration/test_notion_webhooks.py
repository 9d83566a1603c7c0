"""POST /webhooks/notion on the local stack: the handshake, signatures, and the team's edits in seconds."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import psycopg
import pytest

from atelier.kernel.rpc import PsycopgRpc
from atelier.notion import NotionGateway
from atelier.notion.budget import RequestBudget
from atelier.notion.webhook import FileTokens, sign
from atelier_local.lambda_runtime import LocalLambdas
from atelier_local.samples import paid_project, stored_lead
from atelier_local.stack import LocalStack, scheduled_event

Conn = psycopg.Connection[tuple[object, ...]]


@pytest.fixture
def linked(stack: LocalStack, database_url: str) -> dict[str, Any]:
    """The stack subscribed to the emulator's webhooks, and a paid project pushed to Notion."""
    ids = stack.setup_notion()
    stack.connect_notion_webhooks(delay=0.2)
    rpc = PsycopgRpc(database_url)
    project_id = paid_project(rpc, stored_lead(rpc))
    LocalLambdas().invoke("notion_sync", scheduled_event(), timeout_seconds=60)
    assert stack.notion is not None
    team = NotionGateway(stack.notion.state.human_token, base_url=stack.notion.url, budget=RequestBudget(rate=2000))
    return {"ids": ids, "project_id": project_id, "team": team}


def _token(stack: LocalStack) -> str:
    token = FileTokens(stack.webhook_token_file()).current()
    assert token is not None
    return token


def _post(stack: LocalStack, body: bytes, signature: str | None) -> httpx.Response:
    assert stack.front_door is not None
    headers = {"Content-Type": "application/json"} | ({"X-Notion-Signature": signature} if signature else {})
    return httpx.post(f"{stack.front_door.url}/webhooks/notion", content=body, headers=headers, timeout=30)


def _event(kind: str, entity_id: str, entity_type: str = "page", **extra: Any) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "timestamp": "2026-11-23T10:00:00.000Z",
        "type": kind,
        "attempt_number": 1,
        "entity": {"id": entity_id, "type": entity_type},
        "authors": [{"id": "p", "type": "person"}],
        "data": {},
    } | extra


def _eventually(check: Callable[[], bool], seconds: float = 10.0) -> float:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if check():
            return time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError(f"not within {seconds} s")


def _milestone(db: Conn, project_id: str) -> tuple[str, str]:
    row = db.execute(
        'select id::text, notion_page_id from milestones where project_id = %s order by "order" limit 1', (project_id,)
    ).fetchone()
    assert row is not None
    return str(row[0]), str(row[1])


def test_the_handshake_keeps_the_token_once_and_never_logs_it(stack: LocalStack, tmp_path: Any) -> None:
    stack.setup_notion()
    stack.connect_notion_webhooks()
    token = _token(stack)
    assert token.startswith("secret_")

    again = _post(stack, json.dumps({"verification_token": "secret_another"}).encode(), None)
    assert again.status_code == 409
    assert again.json()["error"] == "token_already_kept"
    assert _token(stack) == token
    assert _post(stack, b'{"verification_token": 7}', None).status_code == 400

    logs = "".join(p.read_text() for p in (tmp_path / "logs").glob("*.log"))
    assert "verification token kept" in logs
    assert token not in logs
    assert stack.dev_state()["notion_webhook_verification_token"] == token


def test_an_unarmed_handshake_is_refused_and_keeps_nothing(stack: LocalStack, db: Conn) -> None:
    # Given a fresh deployment: no token kept, and no window opened
    stack.setup_notion()

    # When a stranger posts a handshake first
    first = _post(stack, json.dumps({"verification_token": "secret_attacker"}).encode(), None)

    # Then it is refused, saying what to do, and nothing is kept
    assert (first.status_code, first.json()["error"]) == (403, "not_armed")
    assert "atelier notion webhook arm" in first.json()["message"]
    assert stack.dev_state()["notion_webhook_verification_token"] is None
    # And Notion's real handshake, once armed, is accepted
    stack.connect_notion_webhooks()
    assert _token(stack).startswith("secret_")
    assert _token(stack) != "secret_attacker"


def test_an_armed_window_takes_one_handshake_and_closes(
    stack: LocalStack, db: Conn, capsys: pytest.CaptureFixture[str]
) -> None:
    from atelier.cli import main
    from atelier.notion.webhook import FileTokens

    stack.setup_notion()
    capsys.readouterr()
    assert main(["notion", "webhook", "arm", "--minutes", "5"]) == 0
    assert "armed for 5 minutes" in capsys.readouterr().out
    assert _post(stack, json.dumps({"verification_token": "secret_one"}).encode(), None).status_code == 200
    assert _post(stack, json.dumps({"verification_token": "secret_one"}).encode(), None).status_code == 200  # again
    FileTokens(stack.webhook_token_file()).clear()  # the operator empties it for a new subscription, and forgets to arm

    late = _post(stack, json.dumps({"verification_token": "secret_two"}).encode(), None)

    assert late.status_code == 403
    assert stack.dev_state()["notion_webhook_verification_token"] is None
    db.execute("update notion_webhook_arming set armed_until = now() - interval '1 second'")
    assert main(["notion", "webhook", "arm", "--minutes", "0"]) == 2


def test_a_milestone_marked_done_by_the_team_reaches_postgres_in_seconds_without_a_sync_run(
    stack: LocalStack, linked: dict[str, Any], db: Conn
) -> None:
    milestone_id, page_id = _milestone(db, linked["project_id"])
    linked["team"].update_page(page_id, {"Status": {"status": {"name": "Done"}}})

    def done() -> bool:
        row = db.execute("select status::text from milestones where id = %s", (milestone_id,)).fetchone()
        return row == ("completed",)

    _eventually(done)
    assert db.execute("select count(*) from inbound_events where source = 'notion'").fetchone() == (1,)
    assert stack.notion is not None
    assert [s.status for s in stack.notion.webhooks.sent] == [200]


def test_rapid_edits_arrive_as_one_event_and_end_in_the_pages_state(
    stack: LocalStack, linked: dict[str, Any], db: Conn
) -> None:
    assert stack.notion is not None
    stack.notion.webhooks.configure(delay=1.0)
    milestone_id, page_id = _milestone(db, linked["project_id"])
    for status in ("In progress", "Done", "In progress"):
        linked["team"].update_page(page_id, {"Status": {"status": {"name": status}}})

    _eventually(lambda: len(stack.notion.webhooks.sent) == 1 if stack.notion else False)
    time.sleep(0.3)
    assert len(stack.notion.webhooks.sent) == 1  # aggregated
    assert db.execute("select status::text from milestones where id = %s", (milestone_id,)).fetchone() == (
        "in_progress",
    )


def test_duplicated_and_out_of_order_deliveries_apply_once_and_end_in_the_current_state(
    stack: LocalStack, linked: dict[str, Any], db: Conn
) -> None:
    assert stack.notion is not None
    stack.notion.webhooks.unsubscribe()  # this test delivers by hand
    milestone_id, page_id = _milestone(db, linked["project_id"])
    team = linked["team"]
    team.update_page(page_id, {"Status": {"status": {"name": "In progress"}}})
    older = json.dumps(_event("page.properties_updated", page_id, timestamp="2026-11-23T10:00:00.000Z")).encode()
    team.update_page(page_id, {"Status": {"status": {"name": "Done"}}})
    newer = json.dumps(_event("page.properties_updated", page_id, timestamp="2026-11-23T10:00:05.000Z")).encode()
    token = _token(stack)

    answers = [_post(stack, body, sign(token, body)) for body in (newer, older, newer, older)]

    assert [a.status_code for a in answers] == [200, 200, 200, 200]
    assert [a.json()["action"] for a in answers] == ["pulled", "pulled", "duplicate", "duplicate"]
    assert db.execute("select status::text from milestones where id = %s", (milestone_id,)).fetchone() == ("completed",)
    changed = db.execute(
        "select count(*) from audit_log where action = 'notion.changed' and resource_id = %s", (milestone_id,)
    ).fetchone()
    assert changed == (1,)  # the second pull found nothing new


@pytest.mark.parametrize("signature", [None, "", "sha256=" + "0" * 64, "sha1=abc", "sha256=zz", "sha256="])
def test_a_bad_or_missing_signature_is_401_and_changes_nothing(
    stack: LocalStack, linked: dict[str, Any], db: Conn, signature: str | None
) -> None:
    assert stack.notion is not None
    milestone_id, page_id = _milestone(db, linked["project_id"])
    stack.notion.webhooks.unsubscribe()
    linked["team"].update_page(page_id, {"Status": {"status": {"name": "Done"}}})
    before = len(stack.notion.requests)
    body = json.dumps(_event("page.properties_updated", page_id)).encode()

    answer = _post(stack, body, signature)

    assert answer.status_code == 401
    assert answer.json()["error"] == "bad_signature"
    assert len(stack.notion.requests) == before  # Notion was not even asked
    assert db.execute("select count(*) from inbound_events where source = 'notion'").fetchone() == (0,)
    assert db.execute("select status::text from milestones where id = %s", (milestone_id,)).fetchone() == ("pending",)


def test_a_body_signed_with_another_token_or_changed_after_signing_is_401(stack: LocalStack, linked: Any) -> None:
    body = json.dumps(_event("page.created", str(uuid.uuid4()))).encode()
    assert _post(stack, body, sign("secret_other", body)).status_code == 401
    assert _post(stack, body + b" ", sign(_token(stack), body)).status_code == 401


def test_unknown_event_types_and_pages_of_no_data_source_of_ours_are_acknowledged(
    stack: LocalStack, linked: dict[str, Any], db: Conn
) -> None:
    token = _token(stack)
    assert stack.notion is not None
    unknown = json.dumps(_event("comment.deleted", str(uuid.uuid4()), "comment")).encode()
    stray = json.dumps(_event("page.created", stack.notion.parent_page_id)).encode()
    gone = json.dumps(_event("page.properties_updated", str(uuid.uuid4()))).encode()

    answers = [_post(stack, body, sign(token, body)).json() for body in (unknown, stray, gone)]

    assert [a["action"] for a in answers] == ["ignored", "not ours", "not ours"]
    # A comment on no page of ours (no page named, or one Notion does not show us) is acknowledged, not ours
    stray_comment = _event("comment.created", str(uuid.uuid4()), "comment") | {
        "data": {"page_id": str(uuid.uuid4()), "parent": {"type": "page"}}
    }
    for event in (_event("comment.created", str(uuid.uuid4()), "comment"), stray_comment):
        body = json.dumps(event).encode()
        assert _post(stack, body, sign(token, body)).json()["action"] == "not ours"


@pytest.mark.parametrize(
    "payload",
    [
        {"type": "page.created"},
        {"id": "e", "type": "page.created", "entity": {"id": "../x"}},
        {"id": 1, "type": "page.created", "entity": {"id": "a"}},
        {"id": "e", "entity": {"id": "a"}},
        [],
    ],
)
def test_a_signed_delivery_that_is_not_an_event_is_400(stack: LocalStack, linked: Any, payload: Any) -> None:
    body = json.dumps(payload).encode()
    answer = _post(stack, body, sign(_token(stack), body))
    assert answer.status_code == 400


def test_a_page_trashed_and_restored_by_the_team_is_soft_deleted_and_restored_by_webhook(
    stack: LocalStack, linked: dict[str, Any], db: Conn
) -> None:
    (page_id,) = (
        db.execute("select notion_page_id from projects where id = %s", (linked["project_id"],)).fetchone() or ()
    )
    linked["team"].update_page(str(page_id), in_trash=True)
    _eventually(
        lambda: (
            db.execute("select deleted_at is not null from projects where id = %s", (linked["project_id"],)).fetchone()
            == (True,)
        )
    )
    linked["team"].update_page(str(page_id), in_trash=False)
    _eventually(
        lambda: (
            db.execute("select deleted_at is null from projects where id = %s", (linked["project_id"],)).fetchone()
            == (True,)
        )
    )
    assert stack.notion is not None
    notion = stack.notion  # a delivery is recorded once its answer is read, a moment after it was applied
    _eventually(lambda: [s.type for s in notion.webhooks.sent] == ["page.deleted", "page.undeleted"])


def test_a_schema_change_by_the_team_is_read_at_once(stack: LocalStack, linked: dict[str, Any], db: Conn) -> None:
    projects = linked["ids"]["NOTION_PROJECT_DATA_SOURCE_ID"]
    linked["team"].update_data_source(projects, {"Payment": None})

    def reported() -> bool:
        assert stack.notion is not None
        return any(s.type == "data_source.schema_updated" and s.status == 200 for s in stack.notion.webhooks.sent)

    _eventually(reported)
    known = db.execute("select key from notion_properties where data_source_id = %s", (projects,)).fetchall()
    assert ("Payment",) not in known  # the id map was refreshed: the property is known to be gone


def test_an_event_that_finds_notion_down_is_502_and_applied_when_notion_sends_it_again(
    stack: LocalStack, linked: dict[str, Any], db: Conn
) -> None:
    assert stack.notion is not None
    stack.notion.webhooks.unsubscribe()
    milestone_id, page_id = _milestone(db, linked["project_id"])
    linked["team"].update_page(page_id, {"Status": {"status": {"name": "Done"}}})
    body = json.dumps(_event("page.properties_updated", page_id)).encode()
    signature = sign(_token(stack), body)

    stack.notion.set_faults(error_rate=1.0, error_statuses=[503])
    down = _post(stack, body, signature)
    stack.notion.set_faults(error_rate=0.0)
    again = _post(stack, body, signature)

    assert (down.status_code, down.headers.get("retry-after")) == (502, "30")
    assert down.json()["error"] == "notion_unavailable"
    assert (again.status_code, again.json()["action"]) == (200, "pulled")
    assert db.execute("select status::text from milestones where id = %s", (milestone_id,)).fetchone() == ("completed",)


@pytest.mark.parametrize(
    ("kind", "entity_type"), [("data_source.schema_updated", "database"), ("page.properties_updated", "page")]
)
def test_an_event_about_something_notion_does_not_know_is_acknowledged(
    stack: LocalStack, linked: dict[str, Any], kind: str, entity_type: str
) -> None:
    body = json.dumps(_event(kind, "\u0663", entity_type)).encode()
    answer = _post(stack, body, sign(_token(stack), body))
    assert (answer.status_code, answer.json()["action"]) == (200, "not ours")
