"""A backlog of 1,000 page updates through the gateway against the emulator at a scaled rate limit.

Notion allows about 3 requests/s; here the limit is scaled to 100/s so the run takes seconds, and the
gateway's budget is set to the same limit, as it would be in production. Reports how much of the limit
the drain used, failures, 429s, and duplicate pages.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from atelier.notion import NotionGateway, RequestBudget
from atelier.notion.codec import ATELIER_ID, plain_text, rich_text
from atelier.sync.setup import setup
from atelier_local.notion_emulator import Faults, NotionEmulator

RATE = 100.0


def run(count: int = 1000) -> dict[str, Any]:
    emulator = NotionEmulator(faults=Faults(rate_per_second=10_000, burst=10_000)).start()
    try:
        fast = NotionGateway(emulator.state.bot_token, base_url=emulator.url, budget=RequestBudget(rate=10_000))
        source = setup(fast, emulator.parent_page_id, say=lambda _: None).ids["lead"].data_source_id
        pages = [
            fast.create_page(
                source,
                f"lead-{i}",
                {"Name": {"title": rich_text(f"Lead {i}")}, ATELIER_ID: {"rich_text": rich_text(f"lead-{i}")}},
            ).page["id"]
            for i in range(count)
        ]
        emulator.set_faults(rate_per_second=RATE, burst=RATE)
        time.sleep(1.0)  # let the emulator's bucket settle at the scaled limit
        paced = NotionGateway(
            emulator.state.bot_token, base_url=emulator.url, budget=RequestBudget(rate=RATE, burst=1.0)
        )
        before = len(emulator.requests)
        failed = 0
        started = time.perf_counter()
        for i, page_id in enumerate(pages):
            try:
                paced.update_page(page_id, {"Name": {"title": rich_text(f"Lead {i} (updated)")}})
            except Exception:
                failed += 1
        elapsed = time.perf_counter() - started
        sent = len(emulator.requests) - before
        emulator.set_faults(rate_per_second=10_000, burst=10_000)
        ids = Counter(plain_text(p["properties"][ATELIER_ID]["rich_text"]) for p in fast.query(source))
        return {
            "updates": count,
            "elapsed": elapsed,
            "sent": sent,
            "rate_limited": sent - count + failed,
            "failed": failed,
            "duplicates": sum(n - 1 for n in ids.values() if n > 1),
            "utilisation": count / elapsed / RATE,
        }
    finally:
        emulator.stop()


def report(result: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    use = result["utilisation"]
    return [
        (
            "notion: 1,000-update backlog, limit used",
            f"{use:.0%}",
            f"limit {RATE:.0f}/s (scaled from 3/s)",
            "ok (>= 90%)" if use >= 0.9 else "UNDER 90%",
        ),
        (
            "notion: backlog failed / duplicates / 429s",
            f"{result['failed']} / {result['duplicates']} / {result['rate_limited']}",
            f"{result['updates']} updates in {result['elapsed']:.1f} s",
            "ok" if result["failed"] == 0 and result["duplicates"] == 0 else "FAILED",
        ),
    ]


if __name__ == "__main__":
    for row in report(run()):
        print(" | ".join(row))
