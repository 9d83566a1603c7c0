"""`atelier outbox`: the queue of records waiting for Notion."""

from __future__ import annotations

import argparse
from typing import Any

from atelier import wiring
from atelier.cli.args import noun, number_in, verb


def list_rows(args: argparse.Namespace) -> int:
    rows = wiring.rpc().rpc("outbox_rows", p_status="dead" if args.dead else None, p_limit=args.limit)
    if not rows:
        print("outbox: empty" if not args.dead else "outbox: no dead rows")
        return 0
    print(f"{'id':>6}  {'entity':11} {'record':36}  {'status':7} {'why':9} {'tries':>5}  last error")
    for row in rows:
        error = (row.get("last_error") or "").splitlines()[0][:60] if row.get("last_error") else ""
        why = row.get("failure") or "-"  # waiting (for a parent page), transient (Notion down), permanent (refused)
        print(
            f"{row['id']:>6}  {row['entity']:11} {row['entity_id']:36}  {row['status']:7} {why:9} "
            f"{row['attempts']:>5}  {error}"
        )
    return 0


def retry(args: argparse.Namespace) -> int:
    ids = [int(i) for i in args.ids] or None
    result = wiring.rpc().rpc("retry_outbox", p_ids=ids, p_dead=args.dead)
    print(f"outbox: {result['retried']} row(s) queued again; `atelier sync run` pushes them now")
    return 0


def register(verbs: Any) -> None:
    actions = noun(verbs, "outbox", "the queue of records waiting for Notion", example="atelier outbox list --dead")
    parser = verb(
        actions, "list", list_rows, help="rows not yet done (or --dead ones)", example="atelier outbox list --dead"
    )
    parser.add_argument("--dead", action="store_true", help="only rows that gave up")
    parser.add_argument("--limit", type=number_in(int, 1, 1000), default=100, help="at most this many (1-1000)")
    parser = verb(
        actions,
        "retry",
        retry,
        help="send rows again now (all due, or the IDs given)",
        example="atelier outbox retry --dead",
    )
    parser.add_argument("--dead", action="store_true", help="retry dead rows")
    parser.add_argument("ids", nargs="*", metavar="ID", type=number_in(int, 1, 2**63 - 1))
