"""The local stack where adversarial testing found it unlike AWS: bursts of connections, repeated headers, the
Stripe stand-in's key, log lines of functions sharing a process, and Postgres after a kill -9."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from atelier_local.frontdoor import build_event, routes_from_template
from atelier_local.postgres import forget_dead_handles
from atelier_local.stack import LocalStack, scheduled_event
from atelier_local.stripe_standin import API_PREFIX, LOCAL_API_KEY


def test_a_burst_of_concurrent_connections_is_answered_not_reset(stack: LocalStack) -> None:
    assert stack.front_door is not None
    url = f"{stack.front_door.url}/intake"
    barrier = threading.Barrier(60)

    def one(_: int) -> int:
        barrier.wait()  # all connect at once
        with httpx.Client(timeout=30) as client:
            return client.get(url).status_code

    with ThreadPoolExecutor(max_workers=60) as pool:
        statuses = list(pool.map(one, range(60)))
    assert statuses == [200] * 60


def test_a_repeated_header_is_joined_with_commas_as_api_gateway_does() -> None:
    route = next(r for r in routes_from_template() if r.route_key == "POST /leads")
    headers = [
        ("X-Forwarded-For", "203.0.113.1"),
        ("x-forwarded-for", "198.51.100.2"),
        ("Cookie", "a=1"),
        ("Cookie", "b=2"),
    ]
    event = build_event(route, "POST", "/leads", headers, b"", "127.0.0.1", {})
    assert event["headers"]["x-forwarded-for"] == "203.0.113.1,198.51.100.2"
    assert event["cookies"] == ["a=1", "b=2"]


def test_the_front_door_passes_repeated_headers_through(stack: LocalStack) -> None:
    assert stack.front_door is not None
    seen: list[dict[str, object]] = []
    lambdas = stack.front_door_lambdas()
    original = lambdas.invoke

    def spy(function: str, event: dict[str, object], **kw: object) -> object:
        seen.append(event)
        return original(function, event)

    lambdas.invoke = spy  # type: ignore[method-assign]
    try:
        httpx.get(f"{stack.front_door.url}/intake", headers=[("Accept-Language", "en"), ("Accept-Language", "fr")])
    finally:
        lambdas.invoke = original  # type: ignore[method-assign]
    assert seen[0]["headers"]["accept-language"] == "en,fr"  # type: ignore[index]


def test_the_stripe_stand_in_lists_events_only_with_its_key(stack: LocalStack) -> None:
    assert stack.front_door is not None
    events = f"{stack.front_door.url}{API_PREFIX}/v1/events"
    assert httpx.get(events).status_code == 401
    assert httpx.get(events, headers={"Authorization": "Bearer sk_test_wrong"}).status_code == 401
    answer = httpx.get(events, headers={"Authorization": f"Bearer {LOCAL_API_KEY}"})
    assert (answer.status_code, answer.json()["object"]) == (200, "list")


def test_functions_sharing_a_process_log_under_their_own_name(stack: LocalStack, tmp_path: Path) -> None:
    # Given the scheduled sync and a Stripe delivery running at the same moment in one process
    stack.setup_notion()
    lambdas = stack.front_door_lambdas()
    route = next(r for r in routes_from_template() if r.route_key == "POST /webhooks/stripe")
    stripe_event = build_event(
        route, "POST", "/webhooks/stripe", {"content-type": "application/json"}, b"{}", "127.0.0.1", {}
    )

    def deliveries() -> None:
        for _ in range(20):
            lambdas.invoke("payment_succeeded", stripe_event)

    worker = threading.Thread(target=deliveries)
    worker.start()
    for _ in range(5):
        lambdas.invoke("notion_sync", scheduled_event())
    worker.join()

    # Then every notion_sync log line that names a function names notion_sync
    log = tmp_path / "logs" / "notion_sync.log"
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    assert {line["function_name"] for line in lines if "function_name" in line} == {"notion_sync"}


@pytest.mark.skipif(sys.platform == "win32", reason="pids")
def test_a_holder_killed_with_minus_9_does_not_keep_postgres_running(tmp_path: Path) -> None:
    # Given the wheel's list of processes holding the server, one of them killed (its pid is gone)
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    ).stdout.strip()
    handles = tmp_path / ".handle_pids.json"
    handles.write_text(json.dumps([int(gone), 1]))  # pid 1 is always alive

    # When a new run starts, Then the dead holder is forgotten, so the last clean stop stops the server
    assert forget_dead_handles(tmp_path) == [int(gone)]
    assert json.loads(handles.read_text()) == [1]
    assert forget_dead_handles(tmp_path) == []
