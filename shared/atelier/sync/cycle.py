"""One sync run: sweep the outbox, then poll Notion, under a lease so that two runs never overlap."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from atelier.sync.pull import NotionPoller, PollReport
from atelier.sync.push import OutboxPusher, SweepReport
from atelier.sync.records import SyncPorts

LEASE_NAME = "notion-sync"
DURATIONS = ("OldestLastSyncedAge",)  # the metrics in seconds; the rest are counts


@dataclass
class CycleReport:
    ran: bool
    sweep: SweepReport = field(default_factory=SweepReport)
    poll: PollReport = field(default_factory=PollReport)
    rate_limited: int = 0  # 429 and 529 answers from Notion during the run
    health: dict[str, Any] = field(default_factory=dict)  # sync_health after the run: what the alarms watch

    def counts(self) -> dict[str, Any]:
        """What the run did, for its log line and the CLI."""
        if not self.ran:
            return {"ran": False}
        sweep, poll = self.sweep, self.poll
        return {"ran": True, "claimed": sweep.claimed, "created": sweep.created, "updated": sweep.updated,
                "unchanged": sweep.unchanged, "failed": sweep.failed, **sweep.outcome, "applied": poll.applied,
                "deleted": poll.deleted, "restored": poll.restored, "overridden": poll.overridden}  # fmt: skip

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
            "OutboxDepth": float(self.health.get("outbox_depth", 0)),
            "OutboxDeadRows": float(self.health.get("dead", 0)),
            "OldestLastSyncedAge": float(self.health.get("oldest_last_synced_seconds", 0)),
        }


def run_cycle(ports: SyncPorts, *, holder: str, budget_seconds: float,
              clock: Callable[[], float] = time.monotonic) -> CycleReport:  # fmt: skip
    """Sweep the outbox, then poll Notion, holding the sync lease so that two runs never overlap."""
    rpc = ports.rpc
    if not rpc.rpc("take_sync_lease", p_name=LEASE_NAME, p_holder=holder, p_seconds=int(budget_seconds) + 60):
        return CycleReport(ran=False)
    limited_before = ports.notion.rate_limited
    try:
        deadline = clock() + budget_seconds
        swept = OutboxPusher(ports, clock=clock).sweep(deadline=deadline)
        polled = NotionPoller(ports).poll(deadline=deadline)
    finally:
        rpc.rpc("release_sync_lease", p_name=LEASE_NAME, p_holder=holder)
    return CycleReport(ran=True, sweep=swept, poll=polled, rate_limited=ports.notion.rate_limited - limited_before,
                       health=dict(rpc.rpc("sync_health")))  # fmt: skip
