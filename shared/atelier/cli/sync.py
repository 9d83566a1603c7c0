"""`atelier sync run`, `resync`, `check` and `import-notion`: the sync engine, by hand."""

from __future__ import annotations

import argparse
import sys
import uuid
from typing import Any

from atelier import wiring
from atelier.cli.args import noun, number_in, verb
from atelier.cli.render import table
from atelier.kernel.errors import ConfigurationError


def run(args: argparse.Namespace) -> int:
    from atelier.sync.cycle import run_cycle

    cycle = run_cycle(wiring.deciding_ports(), holder=f"cli-{uuid.uuid4()}", budget_seconds=args.budget)
    if not cycle.ran:
        print("sync: another run holds the lease; try again in a few seconds", file=sys.stderr)
        return 1
    sweep, poll = cycle.sweep, cycle.poll
    outcome = ", ".join(f"{n} {what}" for what, n in sorted(sweep.outcome.items()) if n)
    trashed = f", {sweep.trashed} kept in Notion's trash" if sweep.trashed else ""
    print(
        f"push: {sweep.claimed} claimed, {sweep.created} created, {sweep.updated} updated, "
        f"{sweep.unchanged} unchanged, {sweep.failed} failed{trashed}" + (f" ({outcome})" if outcome else "")
    )
    print(
        f"poll: {poll.applied} applied, {poll.deleted} deleted, {poll.restored} restored, "
        f"{poll.overridden} put back, {poll.echoes} of our own edits skipped"
    )
    for error in sweep.errors:
        print(f"push: {error}", file=sys.stderr)
    if cycle.schema_released:
        print(f"schema: {cycle.schema_released} row(s) that waited for a mended schema went now")
    broken = cycle.broken_schemas()
    for entity, problem in broken.items():
        print(f"schema: {entity} rows wait: {problem}", file=sys.stderr)
    return 1 if broken else 0


def resync(args: argparse.Namespace) -> int:
    from atelier.cli.progress import Progress
    from atelier.sync.mapping import ENTITIES

    records = {e.name: e for e in ENTITIES}  # the records' (the catalogue's pages are the team's: never pushed)
    if bool(args.entity) == bool(args.all):
        raise ConfigurationError(f"name one ENTITY ({', '.join(records)}) or give --all")
    if args.entity and args.entity not in records:
        raise ConfigurationError(f"unknown entity {args.entity!r}: choose one of {', '.join(records)}")
    rpc, pusher = wiring.rpc(), wiring.outbox_pusher()
    entities = list(records) if args.all else [args.entity]
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
    """Findings: fields that differ, pages missing, duplicate or unlinked pages, dead rows, records with no page, and
    payments held for the owner."""
    from atelier.sync.drift import drift, duplicates, repair_duplicates

    ports = wiring.sync_ports()
    rows = [(d.entity, d.record_id, d.problem, d.detail) for d in drift(ports)]
    doubles = duplicates(ports)
    if args.repair and doubles:
        repaired = repair_duplicates(ports, doubles)
        print(f"check: repaired {repaired} record(s): extra pages moved to the trash, each record linked to one page")
        doubles = duplicates(ports)
    rows += [(d.entity, d.record_id, d.problem, d.detail) for d in doubles]
    for row in ports.rpc.rpc("outbox_rows", p_status="dead", p_limit=100):
        why = row.get("last_error") or "refused"
        rows.append(
            (
                row["entity"],
                row["entity_id"],
                "dead outbox row",
                f"{why}; fix the cause, then `atelier outbox retry --dead`",
            )
        )
    for held in ports.rpc.rpc("payments_held"):
        rows.append(
            (
                "payment",
                held["id"],
                "payment held",
                f"{held['reason']}; nothing was fulfilled: refund it in Stripe, or reach the payer",
            )
        )
    for item in ports.rpc.rpc("unlinked_records"):
        rows.append(
            (
                item["entity"],
                item["id"],
                "no page",
                f"nothing is queued to make it; `atelier resync {item['entity']}` makes it",
            )
        )
    if not rows:
        print("check: no drift - every record has one Notion page, and it matches")
        return 0
    print(table(("entity", "record", "problem", "detail"), rows))
    print(f"\ncheck: {len(rows)} finding(s); each says what fixes it", file=sys.stderr)
    return 1


def import_notion(args: argparse.Namespace) -> int:
    from atelier.cli.progress import Progress
    from atelier.sync.imports import import_notion as run_import

    report = run_import(wiring.sync_ports(), lambda total: Progress(total, "import-notion"), dry_run=args.dry_run)
    words = {
        "create": "would add" if args.dry_run else "added",
        "link": "would link" if args.dry_run else "linked",
        "skip": "skip",
    }
    rows = [(plan.entity, plan.title, words[plan.action], plan.reason) for plan in report.plans]
    if rows:
        print(table(("entity", "page", "action", "why, or what to do"), rows, rule=True))
    added, linked, skipped = report.count("create"), report.count("link"), report.count("skip")
    if args.dry_run:
        print(
            f"import-notion: the plan: {added} to add, {linked} to link, {skipped} to skip; nothing was written "
            "(run it without --dry-run to do it)",
            file=sys.stderr,
        )
    else:
        print(f"import-notion: {added} added, {linked} linked, {skipped} skipped", file=sys.stderr)
    return 1 if skipped else 0


def register(verbs: Any) -> None:
    actions = noun(verbs, "sync", "Postgres <-> Notion", example="atelier sync run --budget 60")
    parser = verb(
        actions,
        "run",
        run,
        help="one cycle: push the outbox, then poll Notion for edits",
        example="atelier sync run --budget 60",
    )
    parser.add_argument(
        "--budget",
        type=number_in(float, 0.0, 3600.0, above=True),
        default=240.0,
        help="seconds to spend at most (default 240, at most 3600)",
    )
    parser = verb(
        verbs,
        "resync",
        resync,
        help="push every record of an entity (or --all) to Notion again",
        example="atelier resync project",
    )
    parser.add_argument("entity", nargs="?", help="lead, client, project, milestone or deliverable")
    parser.add_argument("--all", action="store_true", help="every entity")
    parser = verb(
        verbs,
        "check",
        check,
        example="atelier check --repair",
        help="Postgres against Notion: drift, duplicate or unlinked pages, dead rows; exit 1 on any",
    )
    parser.add_argument(
        "--repair", action="store_true", help="move duplicate pages to the trash and link each record to the one kept"
    )
    parser = verb(
        verbs,
        "import-notion",
        import_notion,
        example="atelier import-notion --dry-run",
        help="pages the team made in Notion become records: leads routed as the form would, clients "
        "matched by e-mail, projects, milestones and deliverables linked to theirs; exit 1 if any page "
        "was left for the team (safe to repeat)",
    )
    parser.add_argument("--dry-run", action="store_true", help="print what each page would become; write nothing")
