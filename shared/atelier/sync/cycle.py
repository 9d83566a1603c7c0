"""One sync run: sweep the outbox, then poll Notion, under a lease so that two runs never overlap.

The lease's term is seconds (RUN_LEASE_SECONDS), and a heartbeat thread renews it while the run lives, so a run
killed mid-drain blocks the next for at most that term. Production reaches Postgres through PostgREST, whose
pooled connections cannot hold a session advisory lock, so the lease is a row renewed by heartbeat; the run
that takes over an expired lease frees the rows the dead run had claimed (and claim tokens fence it off,
should it be alive after all).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from atelier.notion.errors import NotionError
from atelier.sync.brief import HistoryReport, append_history
from atelier.sync.comments import CommentReport, post_due
from atelier.sync.conversation import ReplyReport, poll_replies
from atelier.sync.mapping import ENTITIES, SOURCES
from atelier.sync.pull import NotionPoller, PollReport
from atelier.sync.push import OutboxPusher, SweepReport
from atelier.sync.records import SyncPorts, settle_decisions
from atelier.sync.sources import SourceReport, SourceSync

LEASE_NAME = "notion-sync"
RUN_LEASE_SECONDS = 6  # a crashed run blocks the next for at most this long
HEARTBEAT_SECONDS = 2.0
DURATIONS = ("OldestLastSyncedAge", "OldestPendingChangeAge")  # the metrics in seconds; the rest are counts


@dataclass
class CycleReport:
    ran: bool
    sweep: SweepReport = field(default_factory=SweepReport)
    poll: PollReport = field(default_factory=PollReport)
    rate_limited: int = 0  # 429 and 529 answers from Notion during the run
    health: dict[str, Any] = field(default_factory=dict)  # sync_health after the run: what the alarms watch
    schema_broken: dict[str, str] = field(default_factory=dict)  # entity -> what is wrong with its data source
    schema_released: int = 0  # rows that waited for a schema mended since
    comments: CommentReport = field(default_factory=CommentReport)  # answers to edits of fields Postgres owns
    history: HistoryReport = field(default_factory=HistoryReport)  # state changes appended to project pages
    decisions: dict[str, int] = field(default_factory=dict)  # quotes opened and their e-mails sent (`settle`)
    replies: ReplyReport = field(default_factory=ReplyReport)  # the team's comments read for the clients' threads
    sources: SourceReport = field(default_factory=SourceReport)  # Services and Messages pages read and applied

    def counts(self) -> dict[str, Any]:
        """What the run did, for its log line and the CLI."""
        if not self.ran:
            return {"ran": False}
        sweep, poll = self.sweep, self.poll
        return {
            "ran": True,
            "claimed": sweep.claimed,
            "created": sweep.created,
            "updated": sweep.updated,
            "unchanged": sweep.unchanged,
            "failed": sweep.failed,
            "waiting_for_schema": sweep.schema_waiting,
            **sweep.outcome,
            "applied": poll.applied,
            "deleted": poll.deleted,
            "restored": poll.restored,
            "overridden": poll.overridden,
            "comments": self.comments.posted,
            "history": self.history.written,
            "replies": self.replies.stored,
            "catalogue_applied": self.sources.applied,
            "catalogue_refused": self.sources.refused,
            **self.decisions,
        }

    def metrics(self) -> dict[str, float]:
        """The run's metrics, by name: counts, except those in DURATIONS (seconds)."""
        if not self.ran:
            return {"SyncSkipped": 1}
        sweep = self.sweep
        return {
            "NotionRateLimited": self.rate_limited,
            "OutboxPushed": sweep.created + sweep.updated,
            "OutboxUnchanged": sweep.unchanged,
            "OutboxFailed": sweep.failed,
            "OutboxDead": sweep.outcome.get("dead", 0),
            "NotionEditsApplied": self.poll.applied,
            "NotionCommentsPosted": self.comments.posted,
            "NotionCommentsDead": self.comments.dead,
            "ProjectHistoryWritten": self.history.written,
            "OutboxDepth": float(self.health.get("outbox_depth", 0)),
            "OutboxDeadRows": float(self.health.get("dead", 0)),
            "OutboxWaiting": float(self.health.get("waiting", 0)),
            "OldestLastSyncedAge": float(self.health.get("oldest_last_synced_seconds", 0)),
            # The design's sync latency: how long the oldest change not yet in Notion has waited (alarmed over 300).
            "OldestPendingChangeAge": float(self.health.get("oldest_pending_seconds", 0)),
            "NotionSchemaBroken": len(self.schema_broken | self.sweep.schema_broken),
            "OutboxSchemaWaiting": float(self.health.get("schema_waiting", 0)),
        }

    def broken_schemas(self) -> dict[str, str]:
        """One line per data source whose schema stops the sync, for the log and the CLI."""
        return self.schema_broken | self.sweep.schema_broken


class Heartbeat:
    """Renews the run lease every HEARTBEAT_SECONDS in a daemon thread; `alive` turns false if a renewal finds
    the lease taken (this run was too slow to renew), so the run stops at its next batch."""

    def __init__(self, ports: SyncPorts, holder: str) -> None:
        self._rpc = ports.rpc
        self._holder = holder
        self._stop = threading.Event()
        self._held = True
        self._thread = threading.Thread(target=self._beat, name="sync-lease-heartbeat", daemon=True)

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT_SECONDS):
            try:
                self._held = bool(
                    self._rpc.rpc(
                        "renew_sync_lease", p_name=LEASE_NAME, p_holder=self._holder, p_seconds=RUN_LEASE_SECONDS
                    )
                )
            except Exception:  # a missed beat is retried; the lease's term bounds the harm  # noqa: S112
                continue
            if not self._held:
                return

    def alive(self) -> bool:
        return self._held

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def run_cycle(
    ports: SyncPorts, *, holder: str, budget_seconds: float, clock: Callable[[], float] = time.monotonic
) -> CycleReport:
    """Sweep the outbox, then poll Notion, holding the sync lease so that two runs never overlap."""
    rpc = ports.rpc
    if not rpc.rpc("take_sync_lease", p_name=LEASE_NAME, p_holder=holder, p_seconds=RUN_LEASE_SECONDS):
        return CycleReport(ran=False)
    limited_before = ports.notion.rate_limited
    try:
        deadline = clock() + budget_seconds
        with Heartbeat(ports, holder) as heartbeat:
            broken, released = mend_schemas(ports, deadline)
            swept = OutboxPusher(ports, clock=clock).sweep(deadline=deadline, holder=holder, still_ours=heartbeat.alive)
            history = append_history(ports, deadline=deadline, clock=clock) if heartbeat.alive() else HistoryReport()
            polled = NotionPoller(ports).poll(deadline=deadline) if heartbeat.alive() else PollReport()
            sources = _read_sources(ports, deadline) if heartbeat.alive() and not polled.stopped_early else None
            decisions = settle_decisions(ports, deadline)  # quotes waiting for Stripe, or decided just now
            commented = post_due(ports, deadline=deadline, clock=clock) if heartbeat.alive() else CommentReport()
            replies = poll_replies(ports, deadline=deadline, clock=clock) if heartbeat.alive() else ReplyReport()
    finally:
        rpc.rpc("release_sync_lease", p_name=LEASE_NAME, p_holder=holder)
    return CycleReport(
        ran=True,
        sweep=swept,
        poll=polled,
        rate_limited=ports.notion.rate_limited - limited_before,
        health=dict(rpc.rpc("sync_health")),
        schema_broken=broken,
        schema_released=released,
        comments=commented,
        history=history,
        decisions=decisions,
        replies=replies,
        sources=sources or SourceReport(),
    )


def _read_sources(ports: SyncPorts, deadline: float) -> SourceReport | None:
    """The Services and Messages pages edited since the last run; Notion down or busy leaves them to the next."""
    try:
        return SourceSync(ports).poll(now=datetime.now(UTC), deadline=deadline)
    except NotionError:
        return None


def mend_schemas(
    ports: SyncPorts, deadline: float | None = None, only: str | None = None
) -> tuple[dict[str, str], int]:
    """Before a sweep: the ids are read from Postgres afresh (`notion setup` may have changed them), and each data
    source whose rows wait for its schema, or whose ids were never learnt, is read again and mended where it can be.
    A data source whose schema is whole releases its waiting rows at once. Returns the broken data sources (one
    line each) and how many rows were released. `only` limits it to one entity (a schema webhook)."""
    ports.properties.forget()
    waits = ports.rpc.rpc("schema_waits") or {}
    broken: dict[str, str] = {}
    released = 0
    for entity in ENTITIES + SOURCES:
        if entity.name not in ports.data_sources:
            continue
        if (only is not None and entity.name != only) or (
            only is None and entity.name not in waits and ports.properties.known(entity.name)
        ):
            continue
        try:
            inspection = ports.properties.heal(ports.notion, entity.name, deadline=deadline)
        except NotionError:
            break  # Notion is down or busy: the sweep finds that out, and nothing here is lost
        if inspection.breaking:
            broken[entity.name] = inspection.summary()
        else:
            released += int(ports.rpc.rpc("release_schema_waits", p_entity=entity.name) or 0)
    return broken, released
