"""A team edit, Notion -> Postgres, by webhook: a milestone marked Done with the human token, timed until Postgres
shows it completed, with no sync run (the local schedule is off). The local stack runs as `make dev` does, with the
emulator at Notion's real limit (3 requests/s) and its webhook delay at the local default.

Reported: the median and p95 of that latency against the poll interval (notion_sync's schedule in template.yaml),
which is what a team edit waited for before the webhook.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from atelier.cli.migrate import migrate
from atelier.kernel.rpc import PsycopgRpc
from atelier.notion import NotionGateway, RequestBudget
from atelier_local.samples import paid_project, stored_lead
from atelier_local.stack import LocalStack, scheduled_event
from bench.intake_throughput import database
from bench.sync_drain import POLL_INTERVAL_S

GOAL_S = 10.0  # the bar for the median
WEBHOOK_DELAY_S = 2.0  # `make dev`'s default (NOTION_WEBHOOK_DELAY)


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))]


def run(edits: int = 5, projects: int = 2) -> dict[str, Any]:
    with database() as dsn:
        migrate(dsn)
        stack = LocalStack(dsn, port=0, notion_rate=3.0).start()
        try:
            stack.setup_notion()
            stack.connect_notion_webhooks(delay=WEBHOOK_DELAY_S)
            rpc = PsycopgRpc(dsn)
            for i in range(projects):
                paid_project(rpc, stored_lead(rpc, i))
            stack.front_door_lambdas().invoke("notion_sync", scheduled_event(), timeout_seconds=120)
            assert stack.notion is not None
            team = NotionGateway(
                stack.notion.state.human_token, base_url=stack.notion.url, budget=RequestBudget(rate=3.0)
            )
            milestones = rpc.rpc("linked_records", p_entity="milestone")[:edits]
            latencies: list[float] = []
            for item in milestones:
                page_id = str(item["record"]["notion_page_id"])

                def pulled(record_id: str = item["id"]) -> Any:
                    state = rpc.rpc("sync_pull_state", p_entity="milestone", p_ids=[record_id]).get(record_id) or {}
                    return state.get("pulled")  # the hash of what was last applied from Notion

                before = pulled()
                started = time.perf_counter()
                team.update_page(page_id, {"Status": {"status": {"name": "Done"}}})
                while time.perf_counter() - started < 120 and pulled() == before:
                    time.sleep(0.05)
                latencies.append(time.perf_counter() - started)
            sent = [s for s in stack.notion.webhooks.sent if s.type == "page.properties_updated"]
            rpc.close()
        finally:
            stack.stop()
    return {"latencies": latencies, "deliveries": len(sent), "failed": sum(1 for s in sent if s.status != 200)}


def report(result: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    latencies = result["latencies"]
    median, p95 = statistics.median(latencies), _percentile(latencies, 0.95)
    detail = (
        f"{len(latencies)} milestones marked Done by the team, no sync run; webhook delay {WEBHOOK_DELAY_S:g} s; "
        f"{result['deliveries']} deliveries, {result['failed']} not answered 200; poll interval "
        f"{POLL_INTERVAL_S} s (up to {2 * POLL_INTERVAL_S} s before)"
    )
    ok = median <= GOAL_S and result["failed"] == 0
    return [
        (
            "notion -> postgres by webhook: median, p95",
            f"{median:.1f} s, {p95:.1f} s",
            detail,
            f"ok (<= {GOAL_S:g} s)" if ok else "SLOW",
        )
    ]


if __name__ == "__main__":
    for row in report(run()):
        print(row)
