"""`make chaos`: the bad days adversarial testing found, replayed against the local stack, as one table.

- lease expiry: a worker slowed past its claim lease while doorbells make the same pages -> duplicate pages;
  then a duplicate made on purpose -> `atelier check` (exit 1) and `atelier check --repair` (exit 0 after);
- a 30-minute Notion outage on a clock we move (a run every 30 s) -> dead rows, and runs until every page is
  made once Notion answers again;
- kill -9 of `atelier sync run` mid-drain -> seconds until the next run takes over;
- the generated-input corpus (`tests/integration/test_generated_*.py`, more examples than `make test`) ->
  5xx answers;
- a Stripe burst: N events, each delivered 5 times at once -> payments and projects made;
- a slow day: 30% of Notion's answers 429 or 529 -> rows per second against a clear day;
- issue 29's attacks and bad days (`bench/chaos_security.py`): the privilege chain, a $1 session, an unarmed
  handshake, 100 leads from one address, a trashed page, `notion setup` during a backlog, a team edit against our
  push, slow SES killed at its timeout, concurrent sign-ins.

Tests assert these outcomes (tests/integration/test_sync_bad_days.py and friends); this prints the figures.
"""

from __future__ import annotations

import json
import logging
import math
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import warnings
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from io import StringIO
from pathlib import Path
from typing import Any

import httpx
import psycopg
import stripe

from atelier import wiring
from atelier.cli import main as atelier
from atelier.cli.migrate import migrate
from atelier.cli.render import table
from atelier.kernel.rpc import PsycopgRpc
from atelier.notion import NotionGateway, RequestBudget
from atelier.notion.codec import ATELIER_ID, plain_text
from atelier.sync import OutboxPusher, SweepReport, SyncPorts, run_cycle
from atelier.sync.drift import duplicates
from atelier.sync.records import MAX_ATTEMPTS
from atelier_local.samples import paid_project, stored_lead
from atelier_local.stack import LocalStack
from bench.intake_throughput import database
from bench.stripe_webhook import _event as checkout_event

ROOT = Path(__file__).resolve().parents[1]
Row = tuple[str, str, str, str]


@contextmanager
def local_stack(notion_rate: float = 1000.0) -> Iterator[tuple[LocalStack, PsycopgRpc, str]]:
    """A fresh database and stack; Notion set up; the stack's settings in this process's environment."""
    with database() as dsn:
        migrate(dsn)
        stack = LocalStack(dsn, port=0, notion_rate=notion_rate).start()
        rpc = PsycopgRpc(dsn)
        try:
            stack.setup_notion()
            wiring.reset()
            yield stack, rpc, dsn
        finally:
            rpc.close()
            stack.stop()
            wiring.reset()


def _ports(stack: LocalStack, rpc: PsycopgRpc, *, max_attempts: int = 5) -> SyncPorts:
    assert stack.notion is not None
    gateway = NotionGateway(
        stack.notion.state.bot_token,
        base_url=stack.notion.url,
        budget=RequestBudget(rate=1000),
        max_attempts=max_attempts,
    )
    return SyncPorts(rpc, gateway, wiring.sync_ports().data_sources)


def extra_pages(ports: SyncPorts) -> int:
    """Pages beyond the one each record should have (what `atelier check` reports as duplicates)."""
    return sum(len(found.extras) for found in duplicates(ports))


def _count(db: psycopg.Connection[Any], sql: str) -> int:
    row = db.execute(sql.encode()).fetchone()
    return int(str(row[0])) if row else 0


def _quiet(args: list[str]) -> int:
    with redirect_stdout(StringIO()), redirect_stderr(StringIO()):
        return atelier(args)


def lease_expiry(projects: int = 10) -> list[Row]:
    with local_stack() as (stack, rpc, dsn):
        ids = [paid_project(rpc, stored_lead(rpc, i)) for i in range(projects)]
        ports = _ports(stack, rpc)
        slow = OutboxPusher(ports)
        claimed = rpc.rpc("claim_outbox", p_limit=1000, p_lease_seconds=120, p_project_id=None, p_holder="slow")
        with psycopg.connect(dsn, autocommit=True) as db:
            db.execute("update sync_outbox set next_attempt_at = now() - interval '1 second' where status = 'pending'")
        for project_id in ids:  # the doorbells, after the slow worker's lease ran out
            OutboxPusher(ports).sweep(project_id=project_id)
        report = SweepReport()
        results = [slow._push(row, report, None, -math.inf) for row in claimed]
        outcome = rpc.rpc("complete_outbox", p_results=results, p_max_attempts=MAX_ATTEMPTS)
        doubled = extra_pages(ports)
        # A duplicate made on purpose: found, then repaired.
        (project_page,) = [p for p in ports.notion.query(ports.data_sources["project"])][:1]
        atelier_id = plain_text(project_page["properties"][ATELIER_ID]["rich_text"]) or ""
        ports.notion.create_page(ports.data_sources["project"], atelier_id, dict(project_page["properties"]))
        os.environ["DATABASE_URL"] = dsn
        found = _quiet(["check"])
        repaired = _quiet(["check", "--repair"])
        after = _quiet(["check"])
    verdict = "ok" if doubled == 0 and (found, after) == (1, 0) else "FAIL"
    return [
        (
            "lease expiry: duplicate pages",
            str(doubled),
            f"{len(claimed)} rows claimed by the slow worker, then "
            f"{projects} doorbells; it made {report.created} (leads, still its own), stopped {report.lost} "
            f"by the claim "
            f"check, {outcome['stale']} of its reports ignored as stale",
            verdict,
        ),
        (
            "lease expiry: a duplicate on purpose",
            f"check exit {found}",
            f"--repair exit {repaired}, then check exit {after}",
            "ok" if (found, after) == (1, 0) else "FAIL",
        ),
    ]


def outage(projects: int = 3, minutes: int = 30, every_seconds: int = 30) -> list[Row]:
    with local_stack() as (stack, rpc, dsn):
        assert stack.notion is not None
        for i in range(projects):
            paid_project(rpc, stored_lead(rpc, i))
        ports = _ports(stack, rpc, max_attempts=3)
        stack.notion.set_faults(error_rate=1.0, error_statuses=[503, 502, 500], retry_after=0.01, seed=7)
        with psycopg.connect(dsn, autocommit=True) as db:

            def tick() -> None:  # the clock moves on by one schedule interval
                db.execute(
                    "update sync_outbox set next_attempt_at = next_attempt_at - make_interval(secs => %s)"
                    " where status = 'pending'",
                    (every_seconds,),
                )

            runs = minutes * 60 // every_seconds
            started = time.perf_counter()
            for i in range(runs):
                run_cycle(ports, holder=f"outage-{i}", budget_seconds=20)
                tick()
            dead = _count(db, "select count(*) from sync_outbox where status = 'dead'")
            stack.notion.set_faults(error_rate=0.0)
            recovered = time.perf_counter()
            catch_up_runs = 0
            while True:
                catch_up_runs += 1
                run_cycle(ports, holder=f"after-{catch_up_runs}", budget_seconds=60)
                left = _count(db, "select count(*) from sync_outbox where status <> 'done'")
                if left == 0 or catch_up_runs >= 10:
                    break
                tick()
            caught_up_s = time.perf_counter() - recovered
            total = _count(db, "select count(*) from sync_outbox")
    # The first run after Notion answers again comes within one interval; it is counted as a whole interval.
    simulated = catch_up_runs * every_seconds
    verdict = "ok" if dead == 0 and left == 0 and simulated <= 120 else "FAIL"
    return [
        (
            f"outage: {minutes} min of 5xx, a run every {every_seconds} s",
            f"{dead} dead",
            f"{total} rows, {runs} runs in {recovered - started:.0f} s",
            "ok" if dead == 0 else "FAIL",
        ),
        (
            "outage: Notion answers again -> every page made",
            f"<= {simulated} s",
            f"{catch_up_runs} run(s), {caught_up_s:.1f} s of work, {left} rows left",
            verdict,
        ),
    ]


def kill_mid_drain(projects: int = 40) -> list[Row]:
    with local_stack(notion_rate=3.0) as (stack, rpc, dsn), tempfile.TemporaryDirectory() as work:
        for i in range(projects):
            paid_project(rpc, stored_lead(rpc, i))
        stack.write_dev_state(Path(work) / ".atelier" / "dev.json")
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | {"DATABASE_URL": dsn}
        child = subprocess.Popen(
            [sys.executable, "-m", "atelier.cli", "sync", "run", "--budget", "300"],
            cwd=work,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        with psycopg.connect(dsn, autocommit=True) as db:
            deadline = time.monotonic() + 60
            while _count(db, "select count(*) from sync_outbox where status = 'done'") < 5:
                if time.monotonic() > deadline or child.poll() is not None:
                    raise RuntimeError("the sync run did not start draining")
                time.sleep(0.1)
            child.send_signal(signal.SIGKILL)
            child.wait()
            killed = time.monotonic()
            ports = _ports(stack, rpc)
            attempts = 0
            while True:
                attempts += 1
                tried_at = time.monotonic()
                cycle = run_cycle(ports, holder=f"next-{uuid.uuid4()}", budget_seconds=5)
                if cycle.ran:
                    break
                time.sleep(0.2)
            took_over = tried_at - killed
            freed = cycle.sweep.claimed
            left = _count(db, "select count(*) from sync_outbox where status <> 'done'")
    verdict = "ok" if took_over <= 10 else "OVER 10 s"
    return [
        (
            "kill -9 mid-drain: next run starts after",
            f"{took_over:.1f} s",
            f"{attempts} tries, every 0.2 s; it pushed {freed} rows in its 5 s ({left} left for later runs)",
            verdict,
        ),
    ]


def slow_day(projects: int = 3, fault_rate: float = 0.3) -> list[Row]:
    """Rows pushed per second at Notion's own pace (3 requests/s, the deployment's shared budget) on a clear day, then
    with 30% of Notion's answers 429 or 529 (Retry-After 1 s): the sync waits them out within its budget and goes
    on with the other rows, instead of ending the run at the first one."""
    rates: dict[float, float] = {}
    for rate in (0.0, fault_rate):
        with local_stack(notion_rate=3.0) as (stack, rpc, dsn), psycopg.connect(dsn, autocommit=True) as db:
            assert stack.notion is not None
            for i in range(projects):
                paid_project(rpc, stored_lead(rpc, i))
            total = _count(db, "select count(*) from sync_outbox")
            ports = wiring.sync_ports()  # as notion_sync has them: the shared budget in Postgres
            stack.notion.set_faults(error_rate=rate, error_statuses=[429, 529], retry_after=1.0, seed=11)
            started = time.perf_counter()
            for run in range(20):
                run_cycle(ports, holder=f"slow-day-{run}", budget_seconds=30)
                if _count(db, "select count(*) from sync_outbox where status <> 'done'") == 0:
                    break
                db.execute("update sync_outbox set next_attempt_at = now() where status = 'pending'")  # next run
            rates[rate] = total / (time.perf_counter() - started)
            dead = _count(db, "select count(*) from sync_outbox where status = 'dead'")
    clear, faulty = rates[0.0], rates[fault_rate]
    verdict = "ok" if faulty >= clear / 2 and dead == 0 else "FAIL"
    return [
        (
            f"slow day: {fault_rate:.0%} of answers 429/529",
            f"{faulty:.1f} rows/s",
            f"{faulty / clear:.0%} of a clear day's {clear:.1f} rows/s ({projects} projects); {dead} dead",
            verdict,
        ),
    ]


GENERATED = [
    str(ROOT / "tests/integration" / name) for name in ("test_generated_client_routes.py", "test_generated_webhooks.py")
]


def generated_inputs(examples: int) -> list[Row]:
    env = os.environ | {"ATELIER_FUZZ_EXAMPLES": str(examples)}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="chaos-fuzz-") as basetemp:  # its own: another pytest may be running
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "--no-cov",
                "-p",
                "no:cacheprovider",
                "-p",
                "no:logging",
                f"--basetemp={basetemp}/t",
                *GENERATED,
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
    summary = (run.stdout.strip().splitlines() or ["?"])[-1]
    failures = [line for line in run.stdout.splitlines() if "answered 5" in line]
    verdict = "ok" if run.returncode == 0 else "FAIL"
    return [
        (
            "generated inputs: 5xx answers",
            str(len(failures)) if run.returncode == 0 or failures else "see pytest",
            f"{examples} per test, one test per entry point; {summary} in {time.perf_counter() - started:.0f} s",
            verdict,
        ),
    ]


def stripe_burst(count: int = 200, copies: int = 5) -> list[Row]:
    with local_stack() as (stack, rpc, dsn):
        assert stack.front_door is not None
        events = [checkout_event(rpc, stored_lead(rpc, i)) for i in range(count)]
        secret = stack.settings["STRIPE_WEBHOOK_SECRET"]
        deliveries = [e for e in events for _ in range(copies)]
        statuses: Counter[int] = Counter()
        lock = threading.Lock()

        def deliver(event: dict[str, Any]) -> None:
            body = json.dumps(event)
            signature = stripe.WebhookSignature.generate_signature_header(body, secret)
            with httpx.Client(base_url=stack.front_door.url if stack.front_door else "", timeout=60) as client:
                status = client.post(
                    "/webhooks/stripe", content=body.encode(), headers={"Stripe-Signature": signature}
                ).status_code
            with lock:
                statuses[status] += 1

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=copies * 5) as pool:
            list(pool.map(deliver, deliveries))
        elapsed = time.perf_counter() - started
        with psycopg.connect(dsn, autocommit=True) as db:
            payments = _count(db, "select count(*) from payments")
            projects = _count(db, "select count(*) from projects")
    verdict = "ok" if (payments, projects) == (count, count) and set(statuses) == {200} else "FAIL"
    return [
        (
            f"stripe burst: {count} events x {copies} at once",
            f"{payments} payments",
            f"{projects} projects; answers {dict(statuses)} in {elapsed:.1f} s",
            verdict,
        ),
    ]


def main() -> int:
    # The injected faults, one line each (notion-client resets its logger's level, so a filter it is).
    logging.getLogger("atelier.notion.client").addFilter(lambda record: record.levelno >= logging.ERROR)
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    examples = int(os.environ.get("CHAOS_FUZZ_EXAMPLES", "3000"))
    started = time.perf_counter()
    rows: list[Row] = []
    from bench.chaos_security import STEPS

    steps = [
        ("a slow worker's lease expires while doorbells push", lease_expiry),
        ("a 30-minute Notion outage on a moved clock", outage),
        ("kill -9 of a sync run mid-drain", kill_mid_drain),
        (f"generated inputs, {examples} per entry point", lambda: generated_inputs(examples)),
        ("a burst of duplicated Stripe deliveries", stripe_burst),
        ("30% of Notion's answers 429 or 529", slow_day),
        *STEPS,
    ]
    for title, step in steps:
        print(f"chaos: {title} ...", file=sys.stderr, flush=True)
        rows += step()
    print(table(("scenario", "figure", "detail", "verdict"), rows, rule=True))
    print(f"\n{len(rows)} figures in {time.perf_counter() - started:.0f} s")
    return 0 if all(row[3] == "ok" for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
