"""`atelier sync run`, `resync`, `check` and `import-notion`: the sync engine, by hand."""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from typing import Any

from atelier import wiring
from atelier.cli.args import noun, verb
from atelier.cli.render import table
from atelier.errors import ConfigurationError


def run(args: argparse.Namespace) -> int:
    from atelier.sync.cycle import run_cycle

    cycle = run_cycle(wiring.sync_ports(), holder=f"cli-{uuid.uuid4()}", budget_seconds=args.budget)
    if not cycle.ran:
        print("sync: another run holds the lease; try again in a minute", file=sys.stderr)
        return 1
    sweep, poll = cycle.sweep, cycle.poll
    print(f"push: {sweep.claimed} claimed, {sweep.created} created, {sweep.updated} updated, "
          f"{sweep.unchanged} unchanged, {sweep.failed} failed {json.dumps(sweep.outcome)}")  # fmt: skip
    print(f"poll: {poll.applied} applied, {poll.deleted} deleted, {poll.restored} restored, "
          f"{poll.overridden} put back, {poll.echoes} of our own edits skipped")  # fmt: skip
    return 0


def resync(args: argparse.Namespace) -> int:
    from atelier.notion.schema import BY_NAME
    from atelier.progress import Progress

    if bool(args.entity) == bool(args.all):
        raise ConfigurationError(f"name one ENTITY ({', '.join(BY_NAME)}) or give --all")
    if args.entity and args.entity not in BY_NAME:
        raise ConfigurationError(f"unknown entity {args.entity!r}: choose one of {', '.join(BY_NAME)}")
    rpc, pusher = wiring.rpc(), wiring.outbox_pusher()
    entities = list(BY_NAME) if args.all else [args.entity]
    queued = int(rpc.rpc("resync", p_entities=entities, p_force=True)["queued"])
    progress = Progress(queued, "resync")
    while True:
        report = pusher.sweep(batch=25)
        progress.advance(report.claimed)
        if report.claimed == 0 or rpc.rpc("sync_health")["outbox_depth"] == 0:
            break
    progress.finish(f"({queued} queued)")
    return 0


def check(args: argparse.Namespace) -> int:
    from atelier.sync.drift import drift

    found = drift(wiring.sync_ports())
    if not found:
        print("check: no drift - every linked record matches its Notion page")
        return 0
    print(table(("entity", "record", "problem", "detail"), [(d.entity, d.record_id, d.problem, d.detail)
                                                           for d in found]))  # fmt: skip
    print(f"\ncheck: {len(found)} difference(s); `atelier resync ENTITY` pushes Postgres' values again",
          file=sys.stderr)  # fmt: skip
    return 1


def import_notion(args: argparse.Namespace) -> int:
    from atelier.sync.imports import import_leads

    ports = wiring.sync_ports()
    report = import_leads(ports.rpc, ports.notion, ports.data_sources)
    for title, why in report.skipped:
        print(f"skipped {title!r}: {why} - fix the page in Notion and run this again")
    for entity, count in report.not_importable.items():
        print(f"left alone: {count} {entity} page(s) without an Atelier ID; create them through Atelier")
    print(f"import-notion: {len(report.imported)} lead(s) imported and linked")
    return 0


def register(verbs: Any) -> None:
    actions = noun(verbs, "sync", "Postgres <-> Notion")
    parser = verb(actions, "run", run, help="one cycle: push the outbox, then poll Notion for edits",
                  example="atelier sync run --budget 60")  # fmt: skip
    parser.add_argument("--budget", type=float, default=240.0, help="seconds to spend at most (default 240)")
    parser = verb(verbs, "resync", resync, help="push every record of an entity (or --all) to Notion again",
                  example="atelier resync project")  # fmt: skip
    parser.add_argument("entity", nargs="?", help="lead, client, project, milestone or deliverable")
    parser.add_argument("--all", action="store_true", help="every entity")
    verb(verbs, "check", check, help="Postgres against Notion for every linked record; exit 1 on drift",
         example="atelier check")  # fmt: skip
    verb(verbs, "import-notion", import_notion, example="atelier import-notion",
         help="first-time import: leads typed into Notion become Atelier leads (safe to repeat)")  # fmt: skip
