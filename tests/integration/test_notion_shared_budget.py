"""One Notion request budget for the deployment: functions in different processes draw on one bucket in
Postgres, and a Retry-After seen by one holds back all."""

from __future__ import annotations

import pytest

from atelier.kernel.rpc import PsycopgRpc
from atelier.notion import RetryLater
from atelier.notion.budget import SharedBudget


def _budget(database_url: str, rate: float) -> SharedBudget:
    return SharedBudget(PsycopgRpc(database_url), rate=rate, batch=2)  # its own connection: another process


def test_two_functions_together_get_no_more_than_the_one_bucket_holds(database_url: str) -> None:
    # Given two functions' budgets over one bucket of 3 tokens that refills very slowly
    sync, doorbell = _budget(database_url, 0.001), _budget(database_url, 0.001)
    sync.capacity = doorbell.capacity = 3.0

    # When each takes what it can without waiting
    granted = 0
    for budget in (sync, doorbell, sync, doorbell, sync, doorbell):
        try:
            budget.acquire(deadline=budget.clock())
        except RetryLater:
            continue
        granted += 1

    # Then together they got the bucket's 3, not 3 each
    assert granted == 3
    with pytest.raises(RetryLater):
        doorbell.acquire(deadline=doorbell.clock())


def test_a_retry_after_seen_by_one_function_holds_back_the_others(database_url: str) -> None:
    sync, uploaded = _budget(database_url, 1000), _budget(database_url, 1000)
    sync.hold(30)
    with pytest.raises(RetryLater) as held:
        uploaded.acquire(deadline=uploaded.clock() + 1)
    assert held.value.retry_after is not None
    assert 25 < held.value.retry_after <= 30


def test_bad_arguments_are_refused_by_the_database(database_url: str) -> None:
    from atelier.kernel.errors import InvalidData

    with pytest.raises(InvalidData):
        PsycopgRpc(database_url).rpc("take_notion_tokens", p_name="notion", p_want=0, p_rate=3.0, p_burst=3.0)
