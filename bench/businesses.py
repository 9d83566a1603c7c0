"""Twenty businesses on one deployment, each with its own Notion workspace (an emulator each, at Notion's real
limit of 3 requests/s per integration) and its own backlog, pushed side by side as the scheduled `notion_sync` does
(`kernel.business.for_each`). One business carries a 5,000-row import.

Reported: each business's share of its own limit, 429s and duplicate pages; and how long a small business's
doorbell (`project_created`: one new project pushed at once) takes while the import runs, against the same doorbell
on an idle deployment. The doorbell may wait at most one claim batch (its batch's rows at 3/s) longer.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from atelier.cli.migrate import migrate
from atelier.kernel.business import Business, for_each
from atelier.kernel.rpc import PsycopgRpc
from atelier.notion import NotionGateway, RequestBudget
from atelier.notion.budget import SharedBudget
from atelier.sync import OutboxPusher, SyncPorts
from atelier.sync.setup import setup
from atelier_local.notion_emulator import Faults, NotionEmulator
from atelier_local.samples import paid_project, stored_lead
from bench.chaos import extra_pages
from bench.intake_throughput import database

LIMIT = 3.0  # requests per second per integration: each business's own
BATCH = 5  # rows per claim
FAST = 10_000.0


@dataclass
class Tenant:
    business: Business
    emulator: NotionEmulator
    sources: dict[str, str]

    def ports(self, dsn: str, *, rate: float = LIMIT) -> tuple[SyncPorts, NotionGateway]:
        rpc = PsycopgRpc(dsn).for_business(self.business.id)
        budget = SharedBudget(rpc, rate=rate) if rate == LIMIT else RequestBudget(rate=rate)
        gateway = NotionGateway(self.emulator.state.bot_token, base_url=self.emulator.url, budget=budget)
        return SyncPorts(rpc, gateway, self.sources), gateway


def _tenants(dsn: str, count: int) -> list[Tenant]:
    database = PsycopgRpc(dsn)
    for i in range(1, count):
        database.rpc("add_business", p_slug=f"studio-{i:02d}", p_name=f"Studio {i:02d}")
    rows = database.rpc("business_directory")
    tenants = []
    for i, row in enumerate(rows):
        business = Business.from_row(row, default=i == 0)
        emulator = NotionEmulator(faults=Faults(rate_per_second=FAST, burst=FAST), bot_token=f"secret_{i}").start()
        gateway = NotionGateway(emulator.state.bot_token, base_url=emulator.url, budget=RequestBudget(rate=FAST))
        rpc = database.for_business(business.id)
        ids = setup(gateway, emulator.parent_page_id, rpc=rpc, say=lambda _: None).ids
        tenants.append(Tenant(business, emulator, {name: i.data_source_id for name, i in ids.items()}))
    database.close()
    return tenants


def _doorbell(tenant: Tenant, dsn: str) -> float:
    """Seconds from a new paid project to its page in Notion, pushed by its doorbell."""
    rpc = PsycopgRpc(dsn).for_business(tenant.business.id)
    project = paid_project(rpc, stored_lead(rpc))
    ports, _ = tenant.ports(dsn)
    started = time.perf_counter()
    OutboxPusher(ports).sweep(project_id=project, batch=BATCH, deadline=time.monotonic() + 60)
    return time.perf_counter() - started


def run(businesses: int = 20, projects: int = 10, imported: int = 5_000, seconds: float = 20.0) -> dict[str, Any]:
    with database() as dsn:
        migrate(dsn)
        tenants = _tenants(dsn, businesses)
        try:
            large, small = tenants[1], tenants[-1]
            idle = _doorbell(small, dsn)  # the same doorbell with nothing else under way
            for tenant in tenants[:-1]:
                rpc = PsycopgRpc(dsn).for_business(tenant.business.id)
                for i in range(projects):
                    paid_project(rpc, stored_lead(rpc, i))
                if tenant is large:
                    for i in range(imported):  # a 5,000-row import: a lead each, queued for Notion
                        stored_lead(rpc, 10_000 + i)
            for tenant in tenants:
                tenant.emulator.set_faults(rate_per_second=LIMIT, burst=LIMIT * 3)
            before = {t.business.slug: len(t.emulator.requests) for t in tenants}
            gateways: dict[str, NotionGateway] = {}
            deadline = time.monotonic() + seconds

            def drain(business: Business) -> Any:
                tenant = next(t for t in tenants if t.business.id == business.id)
                if tenant is small:  # its doorbell rings while the others drain
                    time.sleep(seconds / 4)
                    return _doorbell(tenant, dsn)
                ports, gateway = tenant.ports(dsn)
                gateways[business.slug] = gateway
                return OutboxPusher(ports).sweep(batch=BATCH, deadline=deadline)

            started = time.perf_counter()
            runs = for_each([t.business for t in tenants], drain).settled()
            elapsed = time.perf_counter() - started
            busy = seconds  # the drains' window; each business's share of its own limit in it
            shares = {
                t.business.slug: (len(t.emulator.requests) - before[t.business.slug]) / busy / LIMIT
                for t in tenants
                if t is not small
            }
            loaded = float(runs.done[small.business.slug])
            for tenant in tenants:
                tenant.emulator.set_faults(rate_per_second=FAST, burst=FAST)
            duplicates = sum(extra_pages(t.ports(dsn, rate=FAST)[0]) for t in tenants)
        finally:
            for tenant in tenants:
                tenant.emulator.stop()
    return {
        "businesses": businesses,
        "shares": shares,
        "rate_limited": sum(g.rate_limited for g in gateways.values()),
        "failed": len(runs.failed),
        "duplicates": duplicates,
        "idle": idle,
        "loaded": loaded,
        "elapsed": elapsed,
        "imported": imported,
    }


def report(result: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    shares = result["shares"]
    lowest = min(shares.values())
    batch = BATCH / LIMIT
    waited = result["loaded"] - result["idle"]
    fair = result["rate_limited"] == 0 and result["duplicates"] == 0 and not result["failed"]
    return [
        (
            f"businesses: {result['businesses']} side by side, each at its own limit",
            f"lowest {lowest:.0%} of 3/s, {result['rate_limited']} 429s, {result['duplicates']} duplicates",
            f"{len(shares)} busy businesses (one with a {result['imported']:,}-row import), shares "
            f"{min(shares.values()):.0%}-{max(shares.values()):.0%}; {result['failed']} runs failed",
            "ok (>= 90% each, no 429, no duplicate)" if fair and lowest >= 0.9 else "MISS",
        ),
        (
            "businesses: a small one's doorbell behind the import",
            f"{result['loaded']:.2f} s (idle {result['idle']:.2f} s)",
            f"waited {max(waited, 0):.2f} s longer; one claim batch is {batch:.2f} s ({BATCH} rows at 3/s)",
            "ok (at most one batch)" if waited <= batch else "MISS",
        ),
    ]


if __name__ == "__main__":
    for row in report(run()):
        print(row)
