"""`atelier import-notion --dry-run` over a workspace of 500 pages the team made by hand, at Notion's real rate limit
(3 requests/s, the gateway paced to it): 200 leads (some missing an answer), 150 clients (a third with a known
client's e-mail in another case), 100 projects and 50 milestones (a tenth named as records waiting for a page).
Goal: the plan in under 5 minutes, nothing written."""

from __future__ import annotations

import time
from typing import Any

from atelier.kernel.rpc import PsycopgRpc
from atelier.notion import NotionGateway, RequestBudget
from atelier.notion.codec import rich_text
from atelier.sync.imports import import_notion
from atelier.sync.records import SyncPorts
from atelier.sync.setup import setup
from atelier_local.notion_emulator import Faults, NotionEmulator
from atelier_local.samples import paid_project, stored_lead
from bench.intake_throughput import database

REAL_RATE = 3.0
GOAL_SECONDS = 300.0


class _Quiet:
    def advance(self, step: int = 1, note: str = "") -> None: ...

    def finish(self, summary: str = "") -> None: ...


def _rows(dsn: str) -> tuple[Any, ...]:
    """What a dry run must leave as it found it: the records, and their links to pages."""
    import psycopg

    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "select (select count(*) from leads), (select count(*) from users), "
            "(select count(*) from clients), (select count(notion_page_id) from clients), "
            "(select count(*) from audit_log)"
        ).fetchone()
    return tuple(row or ())


def _workspace(rpc: PsycopgRpc, fast: NotionGateway, sources: dict[str, str]) -> int:
    for i in range(20):  # clients Atelier knows, without pages (as if the team had deleted theirs)
        paid_project(rpc, stored_lead(rpc, 100 + i))
    made = 0

    def page(entity: str, properties: dict[str, Any]) -> None:
        nonlocal made
        fast.create_page(sources[entity], "-", properties)
        made += 1

    for i in range(200):
        props: dict[str, Any] = {"Name": {"title": rich_text(f"Enquiry {i}")}}
        if i % 10:
            props["Email"] = {"email": f"enquiry{i}@example.com"}
        if i % 3 == 0:
            props["Budget"] = {"rich_text": rich_text("$10k-15k")}
        page("lead", props)
    for i in range(150):
        email = f"CLIENT{100 + i % 20}@Example.com" if i % 3 == 0 else f"new{i}@example.com"
        page("client", {"Name": {"title": rich_text(f"Client {i}")}, "Email": {"email": email}})
    for i in range(100):
        page("project", {"Name": {"title": rich_text(f"Project {i}")}})
    for i in range(50):
        page("milestone", {"Name": {"title": rich_text(f"Milestone {i}")}})
    return made


def run() -> dict[str, Any]:
    with database() as dsn:
        from atelier.cli.migrate import migrate

        migrate(dsn)
        rpc = PsycopgRpc(dsn)
        emulator = NotionEmulator(faults=Faults(rate_per_second=10_000, burst=10_000)).start()
        try:
            fast = NotionGateway(emulator.state.human_token, base_url=emulator.url, budget=RequestBudget(rate=10_000))
            bot = NotionGateway(emulator.state.bot_token, base_url=emulator.url, budget=RequestBudget(rate=10_000))
            sources = {
                k: v.data_source_id
                for k, v in setup(bot, emulator.parent_page_id, rpc=rpc, say=lambda _: None).ids.items()
            }
            made = _workspace(rpc, fast, sources)
            emulator.set_faults(rate_per_second=REAL_RATE, burst=REAL_RATE)
            time.sleep(1.5)
            paced = NotionGateway(
                emulator.state.bot_token, base_url=emulator.url, budget=RequestBudget(rate=REAL_RATE, burst=1.0)
            )
            before = len(emulator.requests)
            rows_before = _rows(dsn)
            started = time.perf_counter()
            report = import_notion(SyncPorts(rpc, paced, sources), lambda _: _Quiet(), dry_run=True)
            elapsed = time.perf_counter() - started
            sent = emulator.requests[before:]
            writes = [
                r
                for r in sent
                if r["method"] in ("PATCH", "DELETE") or (r["method"] == "POST" and not r["path"].endswith("/query"))
            ]
            unchanged = _rows(dsn) == rows_before
        finally:
            emulator.stop()
            rpc.close()
    return {
        "pages": made,
        "planned": len(report.plans),
        "create": report.count("create"),
        "link": report.count("link"),
        "skip": report.count("skip"),
        "elapsed": elapsed,
        "requests": len(sent),
        "writes": len(writes),
        "unchanged": unchanged,
    }


def report(result: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    ok = (
        result["elapsed"] < GOAL_SECONDS
        and result["writes"] == 0
        and result["unchanged"]
        and result["planned"] == result["pages"]
    )
    return [
        (
            "import-notion --dry-run: 500 hand-made pages at 3 req/s",
            f"{result['elapsed']:.1f} s",
            f"{result['requests']} Notion requests, {result['writes']} writes; plan: {result['create']} add, "
            f"{result['link']} link, {result['skip']} skip",
            "ok (< 300 s)" if ok else "OVER 300 s or WROTE",
        ),
    ]


if __name__ == "__main__":
    from atelier.cli.render import table

    print(table(("figure", "value", "detail", "verdict"), report(run()), rule=True))
