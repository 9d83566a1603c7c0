"""The sync engine against the emulator and real Postgres: draining an outbox backlog at a scaled rate
limit, what unchanged records and data sources cost, and how long a team edit takes to reach Postgres."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from atelier.cli.migrate import migrate
from atelier.kernel.rpc import PsycopgRpc
from atelier.notion import NotionGateway, RequestBudget
from atelier.sync import NotionPoller, OutboxPusher, SyncPorts
from atelier.sync.setup import setup
from atelier_local.notion_emulator import Faults, NotionEmulator
from atelier_local.samples import stored_lead
from bench.intake_throughput import database

RATE = 100.0


TEMPLATE = Path(__file__).resolve().parents[1] / "template.yaml"


def _schedule_seconds(template: Path = TEMPLATE) -> int:
    """notion_sync's schedule, as template.yaml sets it (`rate(N unit)`), in seconds."""
    found = re.search(r"ScheduleExpression: rate\((\d+) (second|minute|hour)s?\)", template.read_text())
    if found is None:
        raise RuntimeError("template.yaml has no rate(...) schedule for notion_sync")
    return int(found[1]) * {"second": 1, "minute": 60, "hour": 3600}[found[2]]


POLL_INTERVAL_S = _schedule_seconds()  # notion_sync's schedule


def run(count: int = 300) -> dict[str, Any]:
    with database() as dsn:
        migrate(dsn)
        rpc = PsycopgRpc(dsn)
        emulator = NotionEmulator(faults=Faults(rate_per_second=10_000, burst=10_000)).start()
        try:
            fast = NotionGateway(emulator.state.bot_token, base_url=emulator.url, budget=RequestBudget(rate=10_000))
            ids = setup(fast, emulator.parent_page_id, say=lambda _: None).ids
            sources = {name: i.data_source_id for name, i in ids.items()}
            for i in range(count):
                stored_lead(rpc, i)
            emulator.set_faults(rate_per_second=RATE, burst=RATE)
            time.sleep(1.0)
            paced = NotionGateway(
                emulator.state.bot_token, base_url=emulator.url, budget=RequestBudget(rate=RATE, burst=1.0)
            )
            pusher = OutboxPusher(SyncPorts(rpc, paced, sources))
            before = len(emulator.requests)
            started = time.perf_counter()
            report = pusher.sweep(batch=50)
            drain_s = time.perf_counter() - started
            sent = len(emulator.requests) - before

            rpc.rpc("resync", p_entities=["lead"], p_force=False)  # queue every record again, unchanged
            before = len(emulator.requests)
            unchanged = pusher.sweep(batch=100)
            unchanged_calls = len(emulator.requests) - before

            with psycopg.connect(dsn, autocommit=True) as conn:  # one field changed on every lead
                conn.execute("update leads set needs_review = not needs_review")
            before = len(emulator.requests)
            updated = pusher.sweep(batch=100)
            updated_calls = len(emulator.requests) - before

            # Polls run every few minutes: the pages pushed above were edited long before the idle poll.
            poller = NotionPoller(SyncPorts(rpc, paced, sources))
            poller.poll(now=datetime.now(UTC) + timedelta(minutes=10))
            before = len(emulator.requests)
            poller.poll(now=datetime.now(UTC) + timedelta(minutes=13))
            idle_queries = len(emulator.requests) - before

            human = NotionGateway(emulator.state.human_token, base_url=emulator.url, budget=RequestBudget(rate=RATE))
            page = next(iter(paced.query(sources["lead"])))
            later = datetime.now(UTC) + timedelta(minutes=13, seconds=30)
            emulator.state.clock = lambda: later  # the edit lands between the idle poll and the next
            human.update_page(str(page["id"]), {"Status": {"select": {"name": "closed"}}})
            edited = time.perf_counter()
            seen = poller.poll(now=later + timedelta(seconds=20))
            poll_s = time.perf_counter() - edited
        finally:
            emulator.stop()
            rpc.close()
    return {
        "records": count,
        "created": report.created,
        "failed": report.failed,
        "sent": sent,
        "utilisation": sent / drain_s / RATE,
        "drain_s": drain_s,
        "unchanged_records": unchanged.unchanged,
        "unchanged_calls": unchanged_calls,
        "idle_queries_per_source": idle_queries / 5,
        "updated_records": updated.updated,
        "updated_calls": updated_calls,
        "poll_s": poll_s,
        "edit_seen": seen.queried.get("lead", 0) == 1,
    }


def report(r: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    latency = POLL_INTERVAL_S + r["poll_s"]
    return [
        (
            "sync: outbox backlog drain, limit used",
            f"{r['utilisation']:.1%}",
            f"{r['records']} records, {r['sent']} calls in {r['drain_s']:.1f} s at {RATE:.0f}/s",
            "ok (>= 90%)" if r["utilisation"] >= 0.9 and r["failed"] == 0 else "UNDER 90%",
        ),
        (
            "sync: Notion calls per created record",
            f"{r['sent'] / max(1, r['created']):.2f}",
            f"{r['created']} pages created with {r['sent']} calls; target 1",
            "ok" if r["sent"] <= r["created"] else "OVER",
        ),
        (
            "sync: Notion calls per updated record",
            f"{r['updated_calls'] / max(1, r['updated_records']):.2f}",
            f"{r['updated_records']} records with one field changed; target 1 (the PATCH carries Last Synced)",
            "ok" if r["updated_calls"] <= r["updated_records"] else "OVER",
        ),
        (
            "sync: Notion calls per unchanged record",
            f"{r['unchanged_calls'] / max(1, r['unchanged_records']):.2f}",
            f"{r['unchanged_records']} records pushed again, unchanged; target 0",
            "ok (0)" if r["unchanged_calls"] == 0 else "OVER",
        ),
        (
            "sync: queries per poll of an unchanged source",
            f"{r['idle_queries_per_source']:g}",
            "target 1",
            "ok" if r["idle_queries_per_source"] == 1 else "OVER",
        ),
        (
            "sync: team edit to Postgres, worst case",
            f"{latency:.1f} s",
            f"poll interval {POLL_INTERVAL_S} s + poll {r['poll_s']:.2f} s; target interval + 10 s",
            "ok" if r["poll_s"] <= 10 and r["edit_seen"] else "OVER or MISSED",
        ),
    ]


if __name__ == "__main__":
    for row in report(run()):
        print(" | ".join(row))
