"""The doorbell (POST /webhooks/supabase) and the scheduled sweep, as Lambda runs them."""

from __future__ import annotations

import psycopg
import pytest

from atelier.kernel.rpc import PsycopgRpc
from atelier_local.lambda_runtime import LocalLambdas
from atelier_local.samples import paid_project, stored_lead
from atelier_local.stack import LocalStack
from tests.events import load_event

Conn = psycopg.Connection[tuple[object, ...]]


@pytest.fixture
def project_id(stack: LocalStack, database_url: str) -> str:
    stack.setup_notion()
    rpc = PsycopgRpc(database_url)
    return paid_project(rpc, stored_lead(rpc))


def _ring(stack: LocalStack, project_id: str, authorization: str | None, **payload: object) -> dict[str, object]:
    assert stack.front_door is not None
    import httpx

    body = {
        "type": "INSERT",
        "table": "projects",
        "schema": "public",
        "record": {"id": project_id},
        "old_record": None,
    } | payload
    headers = {"Authorization": authorization} if authorization else {}
    response = httpx.post(f"{stack.front_door.url}/webhooks/supabase", json=body, headers=headers, timeout=30)
    return {"status": response.status_code, **response.json()}


def test_the_doorbell_pushes_that_project_now(stack: LocalStack, project_id: str, db: Conn) -> None:
    secret = stack.settings["SUPABASE_WEBHOOK_SECRET"]
    answer = _ring(stack, project_id, f"Bearer {secret}")
    assert answer["status"] == 200
    # client, project, 5 milestones and its "Prepare kickoff" task (the lead is not this project's)
    assert answer["created"] == 8
    assert db.execute("select notion_page_id is not null from projects").fetchone() == (True,)
    assert db.execute("select count(*) from sync_outbox where status = 'pending'").fetchall() == [(1,)]  # the lead


@pytest.mark.parametrize("authorization", [None, "Bearer wrong", "Basic abc", ""])
def test_a_missing_or_wrong_secret_is_401_and_pushes_nothing(
    stack: LocalStack, project_id: str, db: Conn, authorization: str | None
) -> None:
    assert stack.notion is not None
    before = len(stack.notion.requests)
    answer = _ring(stack, project_id, authorization)
    assert answer["status"] == 401
    assert answer["error"] == "unauthorized"
    assert len(stack.notion.requests) == before
    assert db.execute("select count(*) from sync_outbox where status = 'pending'").fetchone() == (
        9,
    )  # lead, client, project, 5 milestones and the kickoff task


@pytest.mark.parametrize("payload", [{"table": "leads"}, {"type": "DELETE"}])
def test_other_tables_and_types_are_acknowledged_and_ignored(
    stack: LocalStack, project_id: str, payload: dict[str, str], db: Conn
) -> None:
    answer = _ring(stack, project_id, f"Bearer {stack.settings['SUPABASE_WEBHOOK_SECRET']}", **payload)
    assert (answer["status"], answer["ignored"]) == (200, True)
    assert db.execute("select count(*) from sync_outbox where status = 'pending'").fetchone() == (
        9,
    )  # lead, client, project, 5 milestones and the kickoff task


def test_without_the_doorbell_the_scheduled_sweep_pushes_everything(
    stack: LocalStack, project_id: str, db: Conn
) -> None:
    result = LocalLambdas().invoke("notion_sync", load_event("eventbridge_schedule"), timeout_seconds=60)
    assert (result["created"], result["failed"], result["done"]) == (9, 0, 9)
    assert db.execute("select count(*) from sync_outbox where status <> 'done'").fetchone() == (0,)


def test_the_local_schedule_runs_notion_sync_like_eventbridge(stack: LocalStack, project_id: str, db: Conn) -> None:
    import time

    stack.start_schedule(0.2)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if db.execute("select count(*) from sync_outbox where status <> 'done'").fetchone() == (0,):
            break
        time.sleep(0.2)
    assert db.execute("select count(*) from milestones where notion_page_id is not null").fetchone() == (5,)


def test_cli_finds_the_data_sources_under_the_parent_page(
    stack: LocalStack, project_id: str, db: Conn, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from atelier.cli import main

    for name in ("LEAD", "CLIENT", "PROJECT", "MILESTONE", "DELIVERABLE", "TASK", "SERVICE", "MESSAGE"):
        monkeypatch.delenv(f"NOTION_{name}_DATA_SOURCE_ID", raising=False)
    assert main(["sync", "run"]) == 0
    assert "9 created" in capsys.readouterr().out
