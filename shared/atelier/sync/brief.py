"""A project page's body: the brief it is created with (the client's answers, the routing, the tier and what was
paid), and its history, appended as each state change happens (paid, a milestone done, delivered, refunded): one
`project_history` row, one call, never rewritten."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from atelier.kernel.rpc import Rpc
from atelier.notion.codec import rich_text
from atelier.notion.errors import Failure, NotionError
from atelier.sync.mapping import RED_FLAG_WORDS
from atelier.sync.records import SyncPorts

BATCH = 25
LEASE_SECONDS = 120


def _heading(text: str) -> dict[str, Any]:
    return {"type": "heading_2", "heading_2": {"rich_text": rich_text(text)}}


def _item(text: str) -> dict[str, Any]:
    return {"type": "bulleted_list_item", "bulleted_list_item": {"rich_text": rich_text(text)}}


class ProjectBrief:
    """The page content a project is created with (a `PageContent` of the sync)."""

    def __init__(self, rpc: Rpc) -> None:
        self._rpc = rpc

    def __call__(self, project_id: str, deadline: float | None) -> list[dict[str, Any]]:
        brief = self._rpc.rpc("project_brief", p_project_id=project_id) or {}
        assets = [
            name for name, has in (("survey", brief.get("has_survey")), ("drawings", brief.get("has_drawings"))) if has
        ]
        flags = [RED_FLAG_WORDS.get(str(f), str(f)) for f in brief.get("red_flags") or []]
        lines = [
            f"Tier: {brief.get('tier_name') or 'to be set'}",
            f"Amount paid: {brief.get('amount_paid') or 'nothing yet'}",
            f"Budget: {brief.get('budget_range') or 'not given'}",
            f"Timeline: {brief['timeline_weeks']} weeks" if brief.get("timeline_weeks") else "Timeline: not given",
            f"Assets: {' and '.join(assets) if assets else 'no survey or drawings yet'}",
            f"Address: {brief.get('project_address') or 'not given'}",
            f"Why this tier: {brief.get('routing_reason') or 'set by hand'}",
            f"Red flags: {', '.join(flags) if flags else 'none'}",
            f"Client's notes: {brief.get('notes') or 'none'}",
        ]
        return [_heading("Brief"), *[_item(line) for line in lines]]


@dataclass
class HistoryReport:
    written: int = 0
    failed: int = 0


def append_history(
    ports: SyncPorts, *, deadline: float | None = None, clock: Callable[[], float] = time.monotonic
) -> HistoryReport:
    """Append each due history row to its project's page, in one call each (the first also adds the heading)."""
    report = HistoryReport()
    headed: set[str] = set()
    while deadline is None or clock() < deadline:
        claimed = ports.rpc.rpc("claim_project_history", p_limit=BATCH, p_lease_seconds=LEASE_SECONDS)
        if not claimed:
            break
        written: list[str] = []
        stopped = False
        for row in claimed:
            page = str(row["page_id"])
            day = str(row.get("at") or "")[:10]
            children = [_item(f"{day}: {row['summary']}")]
            if row.get("first") and page not in headed:
                children.insert(0, _heading("History"))
            try:
                ports.notion.append_blocks(page, children, deadline=deadline)
            except NotionError as exc:
                report.failed += 1
                if exc.failure is not Failure.permanent:
                    stopped = True  # Notion is down or busy: the rest come back when their lease ends
                    break
                continue
            headed.add(page)
            written.append(str(row["id"]))
        report.written += int(ports.rpc.rpc("complete_project_history", p_written=written) or 0)
        if stopped:
            break
    return report
