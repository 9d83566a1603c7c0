"""Owns the two-way sync of Postgres and Notion: push, pull, cycle, drift, adoption, import, field ownership.
May import: kernel, notion, intake (a lead the team types in is routed as the form would)."""

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
