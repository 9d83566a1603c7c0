"""The owner's report at a studio's busy scale: 10,000 leads, 3,000 paid projects (15,000 milestones, a tenth of the
payments refunded) over a year. Goal: the whole report in one round trip, under 300 ms of database time.

Database time is Postgres' own `Execution Time` for `select public.report(...)` (EXPLAIN ANALYZE), the median of
seven runs after one warm-up; the round trips are the rpc calls `reports.model.fetch` makes, counted."""

from __future__ import annotations

import json
import statistics
import time
from datetime import UTC, datetime, timedelta

import psycopg

from atelier.cli.migrate import migrate
from atelier.kernel.rpc import PsycopgRpc
from atelier.reports.model import fetch
from atelier.reports.period import Period
from bench.intake_throughput import database
from bench.rpc_calls import counted_rpc_calls

LEADS, PROJECTS, RUNS = 10_000, 3_000, 7

FILL = """
insert into users (email, user_type)
  select 'client' || i || '@bench.example', 'kaa_client' from generate_series(1, %(projects)s) i;
insert into leads (submission_key, email, name, project_type, recommended_tier, routing_reason, needs_review, status,
                   created_at)
  select 'bench-lead-' || i, 'lead' || i || '@bench.example', 'Lead ' || i, 'standard_renovation', 1 + i %% 4,
         'bench', i %% 5 = 0, case when i %% 5 = 0 then 'needs_review' else 'qualified' end::lead_status,
         now() - make_interval(days => i %% 365, mins => i %% 1440)
    from generate_series(1, %(leads)s) i;
insert into clients (user_id, tier)
  select u.id, 2 from users u where u.email like 'client%%@bench.example';
with picked as (
  select l.id as lead_id, l.recommended_tier as tier, l.created_at, row_number() over (order by l.id) as n
    from leads l where l.submission_key like 'bench-lead-%%' order by l.id limit %(projects)s
), numbered_clients as (
  select c.id, row_number() over (order by c.id) as n from clients c
)
insert into projects (client_id, lead_id, tier, status, name, payment_status, created_at)
  select c.id, p.lead_id, p.tier,
         (enum_range(null::project_status))[1 + p.n %% 6],
         'Project ' || p.n, 'paid', p.created_at + make_interval(days => (p.n %% 20)::int)
    from picked p join numbered_clients c on c.n = p.n;
insert into payments (project_id, lead_id, stripe_payment_intent_id, amount, amount_refunded, currency, status, tier,
                      created_at)
  select pr.id, pr.lead_id, 'pi_bench_' || pr.id, t.price_cents,
         case when pr.name like '%%0' then t.price_cents else 0 end, 'usd',
         case when pr.name like '%%0' then 'refunded' else 'succeeded' end::payment_state, pr.tier, pr.created_at
    from projects pr join tiers t on t.id = pr.tier;
insert into milestones (project_id, tier, name, "order", status, due_date, completed_at)
  select pr.id, pr.tier, 'Milestone ' || m, m,
         case when m <= 2 then 'completed' else 'pending' end::milestone_status,
         (pr.created_at + make_interval(days => 14 * m))::date,
         case when m <= 2 then pr.created_at + make_interval(days => 14 * m + (m - 2) * 3) end
    from projects pr cross join generate_series(1, 5) m;
"""


def run() -> dict[str, float]:
    with database() as dsn:
        migrate(dsn)
        with psycopg.connect(dsn, autocommit=True) as conn:
            started = time.perf_counter()
            conn.execute(FILL.encode() % {b"projects": str(PROJECTS).encode(), b"leads": str(LEADS).encode()})
            conn.execute("analyze")
            fill_s = time.perf_counter() - started
            counts = conn.execute(
                "select (select count(*) from leads), (select count(*) from projects), "
                "(select count(*) from milestones)"
            ).fetchone()
            assert counts is not None
            today = datetime.now(UTC).date()
            period = Period(today - timedelta(days=365), today, "year")
            query = "explain (analyze, format json) select public.report(%s::date, %s::date)"
            times = []
            for _ in range(RUNS + 1):
                plan = conn.execute(query, (period.start, period.end)).fetchone()
                assert plan is not None
                times.append(
                    float(json.loads(plan[0])[0]["Execution Time"])
                    if isinstance(plan[0], str)
                    else float(plan[0][0]["Execution Time"])
                )
        rpc = PsycopgRpc(dsn)
        try:
            with counted_rpc_calls() as calls:
                started = time.perf_counter()
                report = fetch(rpc, period)
                wall_ms = (time.perf_counter() - started) * 1000
        finally:
            rpc.close()
        assert report.funnel_totals()["leads"] == LEADS
    return {
        "leads": float(counts[0]),
        "projects": float(counts[1]),
        "milestones": float(counts[2]),
        "db_ms": statistics.median(times[1:]),
        "db_ms_max": max(times[1:]),
        "round_trips": float(calls.calls),
        "wall_ms": wall_ms,
        "fill_s": fill_s,
    }


def report(result: dict[str, float]) -> list[tuple[str, str, str, str]]:
    scale = f"{result['leads']:,.0f} leads, {result['projects']:,.0f} projects, {result['milestones']:,.0f} milestones"
    return [
        (
            "owner's report: database time (median of 7)",
            f"{result['db_ms']:.0f} ms",
            f"{scale}; max {result['db_ms_max']:.0f} ms",
            "ok" if result["db_ms"] < 300 else "OVER 300 ms",
        ),
        (
            "owner's report: round trips",
            f"{result['round_trips']:.0f}",
            f"whole call {result['wall_ms']:.0f} ms",
            "ok" if result["round_trips"] == 1 else "OVER 1",
        ),
    ]


if __name__ == "__main__":
    from atelier.cli.render import table

    print(table(("figure", "value", "detail", "verdict"), report(run()), rule=True))
