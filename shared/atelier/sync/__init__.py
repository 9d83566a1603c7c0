"""The sync engine between Postgres and Notion: `push` (outbox -> pages), `pull` (pages -> Postgres, by an
incremental cursor), `cycle` (one run under a lease), `drift` (what differs), `imports` (first-time import),
and `records` (what they share). Each part is handed a `SyncPorts`; none builds its own adapters."""

from atelier.sync.cycle import LEASE_NAME, CycleReport, run_cycle
from atelier.sync.drift import RecordDrift, drift
from atelier.sync.pull import LAST_EDITED, Incremental, NotionPoller, PollReport
from atelier.sync.push import OutboxPusher, SweepReport
from atelier.sync.records import BATCH, LEASE_SECONDS, MAX_ATTEMPTS, PageContent, SyncPorts, field_hashes

__all__ = [
    "BATCH",
    "LAST_EDITED",
    "LEASE_NAME",
    "LEASE_SECONDS",
    "MAX_ATTEMPTS",
    "CycleReport",
    "Incremental",
    "NotionPoller",
    "OutboxPusher",
    "PageContent",
    "PollReport",
    "RecordDrift",
    "SweepReport",
    "SyncPorts",
    "drift",
    "field_hashes",
    "run_cycle",
]
