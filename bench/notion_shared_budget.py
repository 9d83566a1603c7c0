"""Three Notion-calling functions at once against the emulator's real limit (3 requests/s): with one budget
shared through Postgres, and, for reference, with a budget per process as before.

Each worker stands for one function in its own process: its own database connection, gateway and budget. They
sweep one outbox of paid projects together (SKIP LOCKED shares the rows out), as the scheduled `notion_sync`
and two doorbells (`project_created`, `deliverable_uploaded`) would. Reported: records failed, duplicate pages,
429s, and the total request rate against the limit.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from atelier.cli.migrate import migrate
from atelier.kernel.rpc import PsycopgRpc
from atelier.notion import NotionGateway, RequestBudget
from atelier.notion.budget import SharedBudget
from atelier.sync import OutboxPusher, SyncPorts
from atelier.sync.setup import setup
from atelier_local.notion_emulator import Faults, NotionEmulator
from atelier_local.samples import paid_project, stored_lead
from bench.chaos import extra_pages
from bench.intake_throughput import database

LIMIT = 3.0  # Notion's average limit, requests per second per integration
WORKERS = ("notion_sync", "project_created", "deliverable_uploaded")


def _one_round(shared: bool, projects: int) -> dict[str, Any]:
    with database() as dsn:
        migrate(dsn)
        setup_rpc = PsycopgRpc(dsn)
        emulator = NotionEmulator(faults=Faults(rate_per_second=10_000, burst=10_000)).start()
        try:
            fast = NotionGateway(emulator.state.bot_token, base_url=emulator.url, budget=RequestBudget(rate=10_000))
            ids = setup(fast, emulator.parent_page_id, say=lambda _: None).ids
            sources = {name: i.data_source_id for name, i in ids.items()}
            for i in range(projects):
                paid_project(setup_rpc, stored_lead(setup_rpc, i))
            rows = int(setup_rpc.rpc("sync_health")["outbox_depth"])
            emulator.set_faults(rate_per_second=LIMIT, burst=LIMIT * 3)
            before = len(emulator.requests)
            gateways: list[NotionGateway] = []
            reports: list[Any] = []
            lock = threading.Lock()

            def worker() -> None:
                rpc = PsycopgRpc(dsn)
                budget = SharedBudget(rpc, rate=LIMIT) if shared else RequestBudget(rate=LIMIT)
                gateway = NotionGateway(emulator.state.bot_token, base_url=emulator.url, budget=budget)
                report = OutboxPusher(SyncPorts(rpc, gateway, sources)).sweep(batch=5)
                with lock:
                    gateways.append(gateway)
                    reports.append(report)
                rpc.close()

            started = time.perf_counter()
            threads = [threading.Thread(target=worker, name=name) for name in WORKERS]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.perf_counter() - started
            sent = len(emulator.requests) - before
            emulator.set_faults(rate_per_second=10_000, burst=10_000)
            # Children claimed by one worker while another pushed their parent waited; the next run sends them.
            waited = int(setup_rpc.rpc("sync_health")["outbox_depth"])
            setup_rpc.rpc("retry_outbox", p_ids=None, p_dead=False)  # the next run's moment: all due now
            last = OutboxPusher(SyncPorts(setup_rpc, fast, sources)).sweep()
            reports.append(last)
            doubled = extra_pages(SyncPorts(setup_rpc, fast, sources))
            left = int(setup_rpc.rpc("sync_health")["outbox_depth"])
        finally:
            emulator.stop()
            setup_rpc.close()
    return {
        "rows": rows,
        "waited": waited,
        "left": left,
        "failed": sum(r.failed for r in reports),
        "duplicates": doubled,
        "rate_limited": sum(g.rate_limited for g in gateways),
        "sent": sent,
        "elapsed": elapsed,
        "rate": sent / elapsed,
    }


def run(projects: int = 8) -> dict[str, dict[str, Any]]:
    return {"shared": _one_round(True, projects), "per_process": _one_round(False, projects)}


def report(result: dict[str, dict[str, Any]]) -> list[tuple[str, str, str, str]]:
    shared, alone = result["shared"], result["per_process"]

    def detail(r: dict[str, Any]) -> str:
        return (
            f"{r['rows']} rows by 3 functions at once, {r['sent']} requests in {r['elapsed']:.1f} s ({r['waited']} "
            f"waited for a parent: the next run's); {r['failed']} failed, {r['left']} left, "
            f"{r['duplicates']} duplicate pages"
        )

    ok = shared["rate_limited"] == 0 and shared["failed"] == 0 and shared["duplicates"] == 0 and not shared["left"]
    return [
        (
            "notion: 3 functions, one shared budget",
            f"{shared['rate']:.2f} req/s, {shared['rate_limited']} 429s",
            detail(shared),
            "ok (limit 3/s, no 429)" if ok else "OVER",
        ),
        (
            "notion: 3 functions, a budget each (before)",
            f"{alone['rate']:.2f} req/s, {alone['rate_limited']} 429s",
            detail(alone),
            "reference",
        ),
    ]


if __name__ == "__main__":
    for row in report(run()):
        print(row)
