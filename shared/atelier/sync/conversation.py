"""The team's side of the conversation: the comments on a project's Notion page become the client's thread.

A comment is read when Notion says one was made (`comment.created`), and by the poll, which reads the pages where
a reply is awaited. Each is stored once, by its id. Atelier's own comments (the client's messages, put-back
notes) are never read back as replies; one whose text begins with the team's marker ("internal:") is kept for
the team and never shown to the client. A reply the client may see queues one e-mail to them."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from atelier.notion.errors import Failure, NotionError
from atelier.sync.records import SyncPorts

POLL_PAGES = 25  # pages whose comments one sync run reads, those with the latest messages first


@dataclass
class ReplyReport:
    stored: int = 0  # replies for the client
    internal: int = 0  # the team's own notes
    known: int = 0  # read before, or Atelier's own
    pages: int = 0

    def counts(self) -> dict[str, int]:
        return asdict(self)

    def add(self, other: ReplyReport) -> None:
        for key, value in asdict(other).items():
            setattr(self, key, getattr(self, key) + value)


def comment_text(comment: Mapping[str, Any]) -> str:
    return "".join(str(item.get("plain_text") or "") for item in comment.get("rich_text") or [])


def read_replies(ports: SyncPorts, page_id: str, *, deadline: float | None = None) -> ReplyReport:
    """Store the page's comments that are new, in one call; raises NotionError when Notion does not answer."""
    report = ReplyReport(pages=1)
    bot = ports.notion.bot_id(deadline=deadline)
    comments = [
        {
            "id": str(c.get("id") or ""),
            "author_id": str((c.get("created_by") or {}).get("id") or ""),
            "author_name": str((c.get("display_name") or {}).get("resolved_name") or ""),
            "body": comment_text(c),
            "created_at": c.get("created_time"),
        }
        for c in ports.notion.list_comments(page_id, deadline=deadline)
        if c.get("id") and (c.get("created_by") or {}).get("id") != bot
    ]
    if comments:
        outcome = ports.rpc.rpc(
            "record_team_comments", p_page_id=page_id, p_comments=comments, p_marker=ports.internal_marker
        )
        report.stored, report.internal = int(outcome.get("stored", 0)), int(outcome.get("internal", 0))
        report.known = len(comments) - report.stored - report.internal
    return report


def poll_replies(
    ports: SyncPorts, *, deadline: float | None = None, clock: Callable[[], float] = time.monotonic
) -> ReplyReport:
    """The safety net under the webhook: the comments of the pages where a reply is awaited."""
    report = ReplyReport()
    for page in ports.rpc.rpc("comment_pages", p_limit=POLL_PAGES) or []:
        if deadline is not None and clock() >= deadline:
            break
        try:
            report.add(read_replies(ports, str(page["page_id"]), deadline=deadline))
        except NotionError as exc:
            if exc.failure is not Failure.permanent:
                break  # Notion is down or busy: the next run reads again, and nothing is lost
    return report
