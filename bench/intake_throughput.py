"""1,000 leads through the local front door against embedded Postgres, next to plain psycopg inserts.

Reports leads/s and p50/p99 per lead, and the cost per lead as a multiple of inserting the same row
with psycopg directly (one statement, one round trip, no HTTP, no routing). The inserts alternate with the
leads in one loop, so both are measured under the same load and database state (a commit's cost here
swings with the disk: inserts timed alone, after the run, came out 0.5-1.1 ms).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import psycopg
from psycopg.conninfo import make_conninfo

from atelier.cli.migrate import migrate
from atelier_local.postgres import EmbeddedPostgres
from atelier_local.stack import LocalStack
from bench.rpc_calls import counted_rpc_calls

# Tier 4 (routing `manual`: the team reviews it): routed, stored and answered in one rpc, no checkout call.
LEAD = {
    "email": "bench@example.com",
    "name": "Bench Client",
    "project_address": "1 Bench St",
    "budget": "$40k-60k",
    "timeline_weeks": 16,
    "project_type": "major_renovation",
    "has_survey": True,
    "has_drawings": True,
    "notes": "Throughput run.",
}

INSERT = """
insert into leads (submission_key, request_hash, email, name, project_address, budget_range, budget_min_cents,
  budget_max_cents, timeline, timeline_weeks, project_type, has_survey, has_drawings, notes, recommended_tier,
  routing_reason, confidence, needs_review, red_flags, routing, answer, status)
values (%s, 'h', 'bench@example.com', 'Bench Client', '1 Bench St', '$40k-60k', 4000000, 6000000, '16 weeks', 16,
  'major_renovation', true, true, 'Throughput run.', 4, 'reason', 'high', true, '{}', '{}', '{}', 'needs_review')
"""


WARM = 20  # leads sent before timing starts


@dataclass(frozen=True)
class Timing:
    name: str
    count: int
    total_s: float
    p50_ms: float
    p99_ms: float
    round_trips: float | None = None  # Postgres calls per item, where counted
    catalogue_reads: int = 0  # the catalogue's reads in the run (once a minute per container, not per item)

    @property
    def per_item_ms(self) -> float:
        return self.total_s * 1000 / self.count

    @property
    def per_second(self) -> float:
        return self.count / self.total_s


def _timing(name: str, samples: list[float], total: float, *, round_trips: float | None = None) -> Timing:
    ordered = sorted(samples)
    return Timing(
        name,
        len(samples),
        total,
        statistics.median(ordered) * 1000,
        ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
        round_trips,
    )


@contextmanager
def database() -> Iterator[str]:
    given = os.environ.get("DATABASE_URL")
    if given:
        yield given
        return
    with tempfile.TemporaryDirectory() as tmp, EmbeddedPostgres(Path(tmp) / "pg", delete_on_close=True) as pg:
        with psycopg.connect(pg.dsn(), autocommit=True) as conn:
            conn.execute("create database bench")
        yield make_conninfo(pg.dsn(), dbname="bench")


CLIENT = """
import json, sys, time, uuid
import httpx, psycopg
url, count, lead, dsn, insert = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3]), sys.argv[4], sys.argv[5]
posts, inserts = [], []
with httpx.Client(base_url=url, timeout=30) as client, \\
        psycopg.connect(dsn, autocommit=True, prepare_threshold=None) as conn:
    for _ in range(20):  # warm (WARM): the cold start and the connections are not throughput
        client.post("/leads", json=lead, headers={"Idempotency-Key": f"warm-{uuid.uuid4()}"})
        conn.execute(insert, (f"warm-insert-{uuid.uuid4()}",))
    for i in range(count):
        t0 = time.perf_counter()
        response = client.post("/leads", json={**lead, "name": f"Bench Client {i}"},
                               headers={"Idempotency-Key": f"bench-{uuid.uuid4()}"})
        posts.append(time.perf_counter() - t0)
        if response.status_code != 201:
            sys.exit(f"lead {i} got {response.status_code}: {response.text}")
        t0 = time.perf_counter()
        conn.execute(insert, (f"insert-{uuid.uuid4()}",))
        inserts.append(time.perf_counter() - t0)
print(json.dumps({"posts": posts, "inserts": inserts}))
"""


def through_front_door(url: str, dsn: str, count: int) -> tuple[Timing, Timing]:
    """The load comes from another process, as it would from a browser: no shared GIL with the server.
    After each lead, the same process inserts the same row with psycopg: the reference is measured in the
    same run, under the same load and database state, as the cold-start benchmark interleaves its cases."""
    out = subprocess.run(
        [sys.executable, "-c", CLIENT, url, str(count), json.dumps(LEAD), dsn, INSERT],
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(out.stdout)
    posts, inserts = result["posts"], result["inserts"]
    return _timing("front door", posts, sum(posts)), _timing("plain insert", inserts, sum(inserts))


def run(count: int = 1000) -> tuple[Timing, Timing, Timing]:
    with database() as dsn:
        migrate(dsn)
        # A load test from one address lifts the per-caller limits, as the README says (0 turns each off).
        # The handlers run in this process and read os.environ, as in Lambda.
        unlimited = {"ATELIER_LEAD_LIMIT_PER_SOURCE": "0", "ATELIER_LEAD_LIMIT_PER_EMAIL": "0"}
        saved = {name: os.environ.get(name) for name in unlimited}
        os.environ.update(unlimited)
        stack = LocalStack(dsn, port=0).start()
        try:
            assert stack.front_door is not None
            with counted_rpc_calls() as rpc_calls:
                door, insert = through_front_door(stack.front_door.url, dsn, count)
            handler_samples = [seconds for _, seconds in stack.front_door.timings[-count:]]
        finally:
            stack.stop()
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
        # The catalogue and the business directory are read once a minute per container, not per lead: counted
        # apart, and shown.
        catalogue_reads = rpc_calls.by_function["catalogue"] + rpc_calls.by_function["business_directory"]
        per_lead = (rpc_calls.calls - catalogue_reads) / (count + WARM)
        handler = _timing("handler", handler_samples, sum(handler_samples), round_trips=per_lead)
        handler = replace(handler, catalogue_reads=catalogue_reads)
        return door, handler, insert


def report(door: Timing, handler: Timing, insert: Timing) -> list[tuple[str, str, str, str]]:
    ratio = door.per_item_ms / insert.per_item_ms
    handler_ratio = handler.per_item_ms / insert.per_item_ms
    return [
        (
            "intake: leads through the front door (HTTP)",
            f"{door.per_second:.0f} leads/s",
            f"p50 {door.p50_ms:.2f} ms, p99 {door.p99_ms:.2f} ms",
            f"{door.count} leads, 0 failed",
        ),
        (
            "intake: handler's own time per lead",
            f"{handler.per_item_ms:.2f} ms",
            f"p50 {handler.p50_ms:.2f} ms, p99 {handler.p99_ms:.2f} ms",
            "reference: the plain insert below",
        ),
        (
            "intake: Postgres round trips per lead",
            f"{handler.round_trips or 0:.2f}",
            f"target 1 (a lead to review: no checkout); catalogue and businesses read {handler.catalogue_reads} "
            "time(s) in the run",
            "ok" if (handler.round_trips or 0) <= 1 else "OVER",
        ),
        (
            "intake: plain psycopg insert (reference)",
            f"{insert.per_item_ms:.2f} ms",
            f"p50 {insert.p50_ms:.2f} ms, p99 {insert.p99_ms:.2f} ms",
            "reference",
        ),
        (
            "intake: handler cost per lead vs plain insert",
            f"{handler_ratio:.1f}x",
            f"goal <= 3x (medians: {handler.p50_ms / insert.p50_ms:.1f}x)",
            "ok" if handler_ratio <= 3 else "OVER 3x",
        ),
        (
            "intake: HTTP cost per lead vs plain insert",
            f"{ratio:.1f}x",
            f"goal <= 3x (medians: {door.p50_ms / insert.p50_ms:.1f}x)",
            "ok" if ratio <= 3 else "OVER 3x",
        ),
    ]


if __name__ == "__main__":
    for row in report(*run()):
        print(" | ".join(row))
