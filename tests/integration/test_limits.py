"""Limits per caller, held in Postgres (issue 29, items 4, 6 and 16): one address cannot flood the form or a client's
inbox, a refused request writes nothing, and concurrent requests cannot slip past a limit between a read and a write."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import httpx
import psycopg
import pytest

from atelier.kernel.rpc import PsycopgRpc
from atelier.portal.service import PER_ADDRESS, PER_SOURCE
from atelier_local.samples import paid_project, stored_lead

Conn = psycopg.Connection[tuple[object, ...]]
LEAD = {
    "name": "Ada",
    "budget": "$10k-15k",
    "timeline_weeks": 8,
    "project_type": "standard_renovation",
    "has_survey": True,
    "has_drawings": True,
}


def _post(api: httpx.Client, email: str) -> httpx.Response:
    return api.post("/leads", json=LEAD | {"email": email}, headers={"Idempotency-Key": f"limit-{uuid.uuid4()}"})


@pytest.mark.integration
@pytest.mark.parametrize("stack_env", [{"ATELIER_LEAD_LIMIT_PER_SOURCE": "20", "ATELIER_LEAD_LIMIT_PER_EMAIL": "0"}])
def test_leads_from_one_address_are_capped_and_a_refusal_writes_nothing(
    api: httpx.Client, db: Conn, stack_env: dict[str, str]
) -> None:
    answers = [_post(api, f"client{i}@example.com") for i in range(25)]

    assert [a.status_code for a in answers] == [201] * 20 + [429] * 5
    refused = answers[-1]
    assert refused.json()["error"] == "too_many_requests"
    assert "network" in refused.json()["message"]
    assert 0 < int(refused.headers["retry-after"]) <= 3600
    assert db.execute("select count(*) from leads").fetchone() == (20,)


@pytest.mark.integration
@pytest.mark.parametrize("stack_env", [{"ATELIER_LEAD_LIMIT_PER_SOURCE": "0", "ATELIER_LEAD_LIMIT_PER_EMAIL": "3"}])
def test_leads_for_one_email_address_are_capped(api: httpx.Client, db: Conn, stack_env: dict[str, str]) -> None:
    answers = [_post(api, "Same@Example.com" if i % 2 else "same@example.com") for i in range(4)]
    assert [a.status_code for a in answers] == [201, 201, 201, 429]
    assert "e-mail address" in answers[-1].json()["message"]
    assert _post(api, "other@example.com").status_code == 201


@pytest.mark.integration
@pytest.mark.parametrize("stack_env", [{"ATELIER_LEAD_LIMIT_PER_SOURCE": "0", "ATELIER_LEAD_LIMIT_PER_EMAIL": "0"}])
def test_a_limit_of_zero_is_off_for_a_load_test(api: httpx.Client, db: Conn, stack_env: dict[str, str]) -> None:
    assert {_post(api, f"load{i}@example.com").status_code for i in range(30)} == {201}
    assert db.execute("select count(*) from rate_limit_hits").fetchone() == (0,)


def _concurrently(count: int, call: Any) -> list[Any]:
    results: list[Any] = [None] * count
    start = threading.Barrier(count)

    def run(i: int) -> None:
        start.wait()
        results[i] = call(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.mark.integration
def test_twenty_concurrent_sign_ins_for_one_address_send_at_most_the_limit(db: Conn, database_url: str) -> None:
    # Given a client, and twenty Lambdas at once, each with its own connection (as through PostgREST)
    paid_project(PsycopgRpc(database_url), stored_lead(PsycopgRpc(database_url)))

    def ask(i: int) -> Any:
        return PsycopgRpc(database_url).rpc(
            "start_portal_sign_in",
            p_email="client0@example.com",
            p_source_ip=f"198.51.100.{i}",
            p_ttl_seconds=900,
            p_per_address=PER_ADDRESS,
            p_per_source=PER_SOURCE,
        )

    answers = _concurrently(20, ask)

    sent = db.execute("select count(*) from notifications where template = 'portal_sign_in'").fetchone()
    assert sent == (PER_ADDRESS,)
    assert sum(1 for a in answers if a["limited"]) == 20 - PER_ADDRESS
    assert all(0 < a["retry_after"] <= 900 for a in answers if a["limited"])


@pytest.mark.integration
def test_concurrent_takes_of_one_limit_admit_exactly_the_limit(database_url: str) -> None:
    limits = [{"bucket": "lead_source", "key": "203.0.113.7", "limit": 7, "seconds": 3600}]
    answers = _concurrently(20, lambda _: PsycopgRpc(database_url).rpc("take_rate_limits", p_limits=limits))
    assert sum(1 for a in answers if a["allowed"]) == 7


@pytest.mark.integration
def test_the_operators_links_never_lock_a_client_out(db: Conn, rpc: PsycopgRpc, capsys: Any) -> None:
    from atelier.portal.service import PortalService
    from atelier.portal.session import PortalKeys

    paid_project(rpc, stored_lead(rpc))
    service = PortalService(rpc, lambda *_: rpc, PortalKeys(b"k" * 32), base_url="http://portal")
    for _ in range(PER_ADDRESS + 3):
        assert service.link_for("client0@example.com") is not None

    assert service.request_sign_in("client0@example.com", "198.51.100.1") == 0
    assert db.execute("select count(*) from notifications where template = 'portal_sign_in'").fetchone() == (1,)
