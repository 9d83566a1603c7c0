"""Comments Atelier posts on Notion pages, from their outbox (`notion_comments`): the answer to a person's edit of a
field Postgres owns, queued in the same transaction that puts the value back, and what a client did in the portal
(a message, a decision, an answer), which mentions the project's owner where the team set one. Each is posted once:
claimed with a lease, reported back in one call; a failure waits with backoff, and a page that is gone for good
makes it dead at once."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from atelier.notion.errors import Failure, NotionError
from atelier.sync.records import SyncPorts

BATCH = 20
LEASE_SECONDS = 120
MAX_ATTEMPTS = 8


@dataclass
class CommentReport:
    posted: int = 0
    failed: int = 0
    dead: int = 0


def post_due(
    ports: SyncPorts, *, deadline: float | None = None, clock: Callable[[], float] = time.monotonic
) -> CommentReport:
    report = CommentReport()
    while deadline is None or clock() < deadline:
        claimed = ports.rpc.rpc("claim_notion_comments", p_limit=BATCH, p_lease_seconds=LEASE_SECONDS)
        if not claimed:
            break
        results = []
        stop = False
        for row in claimed:
            if stop:  # Notion is down or busy: the rest keep their lease and come back when it ends
                break
            try:
                page = str(row["page_id"])
                posted = _already(ports, row, deadline) or ports.notion.create_comment(
                    page,
                    str(row["body"]),
                    mention=_owner(ports, page, deadline) if row.get("mention") else None,
                    deadline=deadline,
                )
            except NotionError as exc:
                results.append(
                    {
                        "id": row["id"],
                        "ok": False,
                        "error": f"{exc.code}: {exc}"[:500],
                        "permanent": exc.failure is Failure.permanent,
                    }
                )
                stop = exc.failure is not Failure.permanent
                continue
            results.append({"id": row["id"], "ok": True, "comment_id": str(posted.get("id") or "")})
        outcome = ports.rpc.rpc("complete_notion_comments", p_results=results, p_max_attempts=MAX_ATTEMPTS)
        report.posted += int(outcome.get("posted", 0))
        report.failed += int(outcome.get("failed", 0))
        report.dead += int(outcome.get("dead", 0))
        if stop:
            break
    return report


def _already(ports: SyncPorts, row: dict[str, object], deadline: float | None) -> dict[str, object] | None:
    """A comment tried before (a timeout, a crash after posting) may be on the page already: posted once, not twice."""
    if int(str(row.get("attempts") or 1)) <= 1:
        return None
    body = str(row["body"])
    for comment in ports.notion.list_comments(str(row["page_id"]), deadline=deadline):
        text = "".join(str(item.get("plain_text") or "") for item in comment.get("rich_text") or [])
        if text == body or text.endswith(" " + body):  # a comment that mentions someone begins with their name
            return dict(comment)
    return None


def _owner(ports: SyncPorts, page_id: str, deadline: float | None) -> str | None:
    """The person a comment about the client mentions: the first in the page's people property (the project's
    Owner, whatever the team named it), or None when nobody is set."""
    properties = ports.notion.retrieve_page(page_id, deadline=deadline).get("properties") or {}
    people: list[Any] = next(
        (p["people"] for p in properties.values() if p.get("type") == "people" and p.get("people")), []
    )
    return next((str(p["id"]) for p in people if isinstance(p, dict) and p.get("id")), None)
