"""`make bench`: every benchmark in one run, printed as one table, each figure next to its reference."""

from __future__ import annotations

import sys
import time

from atelier.cli.render import table
from bench import (
    artifacts,
    businesses,
    cold_start,
    first_request,
    intake_throughput,
    notion_backlog,
    notion_import_plan,
    notion_shared_budget,
    notion_webhook_latency,
    report_query,
    stripe_webhook,
    sync_drain,
)


def main() -> int:
    rows: list[tuple[str, str, str, str]] = []
    started = time.perf_counter()
    print("bench: cold starts (fresh interpreters, interleaved) ...", file=sys.stderr, flush=True)
    rows += cold_start.report(cold_start.run())
    print("bench: cold start + one real request per function, against the local stack ...", file=sys.stderr, flush=True)
    rows += first_request.report(first_request.run())
    print(
        "bench: 1,000 leads through the front door, each followed by a plain insert of the same row ...",
        file=sys.stderr,
        flush=True,
    )
    rows += intake_throughput.report(*intake_throughput.run())
    print("bench: 300 signed Stripe checkout events through the front door ...", file=sys.stderr, flush=True)
    rows += stripe_webhook.report(stripe_webhook.run())
    print("bench: 1,000 Notion page updates at a scaled rate limit ...", file=sys.stderr, flush=True)
    rows += notion_backlog.report(notion_backlog.run())
    print("bench: three Notion-calling functions at once at Notion's real limit (3/s) ...", file=sys.stderr, flush=True)
    rows += notion_shared_budget.report(notion_shared_budget.run())
    print(
        "bench: 20 businesses side by side, each at its own 3 req/s, one with a 5,000-row import ...",
        file=sys.stderr,
        flush=True,
    )
    rows += businesses.report(businesses.run())
    print("bench: team edits, Notion -> Postgres by webhook, no sync run ...", file=sys.stderr, flush=True)
    rows += notion_webhook_latency.report(notion_webhook_latency.run())
    print("bench: the sync engine: a 300-record outbox, unchanged records, idle polls ...", file=sys.stderr, flush=True)
    rows += sync_drain.report(sync_drain.run())
    print("bench: import-notion --dry-run over 500 hand-made pages at 3 req/s ...", file=sys.stderr, flush=True)
    rows += notion_import_plan.report(notion_import_plan.run())
    print("bench: the owner's report over 10,000 leads and 3,000 projects ...", file=sys.stderr, flush=True)
    rows += report_query.report(report_query.run())
    rows += artifacts.report(artifacts.run())
    print(table(("figure", "value", "detail", "verdict"), rows, rule=True))
    print(f"\n{len(rows)} figures in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
