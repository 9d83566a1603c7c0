"""`atelier task`: the team's tasks (Notion's Tasks database, kept in Postgres), and who the process's tasks go to."""

from __future__ import annotations

import argparse
import json
import re
from typing import Any

from atelier import wiring
from atelier.cli.args import noun, number_in, verb
from atelier.cli.render import table

STATUSES = ("open", "in_progress", "done")
KINDS = ("contact_client", "review_quote", "prepare_kickoff")


def list_tasks(args: argparse.Namespace) -> int:
    rows = wiring.rpc().rpc("task_list", p_status=args.status, p_overdue=args.overdue, p_limit=args.limit) or []
    if args.json:
        print(json.dumps(rows, indent=2, default=str))
        return 1 if args.overdue and rows else 0
    if not rows:
        print("tasks: none" + (" overdue" if args.overdue else f" {args.status}" if args.status else ""))
        return 0
    print(
        table(
            ("task", "title", "about", "due", "status", "id"),
            [
                (
                    str(r.get("kind")),
                    str(r.get("title")),
                    str(r.get("project_name") or r.get("lead_name") or "-"),
                    str(r.get("due_date") or "-") + (" (overdue)" if r.get("overdue") else ""),
                    str(r.get("status")),
                    str(r["id"]),
                )
                for r in rows
            ],
            rule=True,
        )
    )
    return 1 if args.overdue else 0  # findings: something is overdue


def _user_id(text: str) -> str:
    if text == "none" or re.fullmatch(
        r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}", text
    ):
        return text
    raise argparse.ArgumentTypeError(
        f"{text!r} is not a Notion user id: copy it from the person's profile (32 hex digits), or give none"
    )


def assign(args: argparse.Namespace) -> int:
    assignees = wiring.rpc().rpc(
        "assign_tasks", p_kind=args.kind, p_user_id=None if args.user_id == "none" else args.user_id
    )
    for kind in KINDS:
        print(f"{kind}: {assignees.get(kind) or 'unassigned'}")
    return 0


def register(verbs: Any) -> None:
    actions = noun(verbs, "task", "the team's tasks, and who Atelier's go to", example="atelier task list --overdue")
    parser = verb(
        actions,
        "list",
        list_tasks,
        help="tasks, soonest due first; exit 1 with --overdue if any is",
        example="atelier task list --status open",
    )
    parser.add_argument("--status", choices=STATUSES, help="only tasks in this state")
    parser.add_argument("--overdue", action="store_true", help="only tasks past their due date and not done")
    parser.add_argument("--limit", type=number_in(int, 1, 1000), default=100, help="at most this many (1-1000)")
    parser.add_argument("--json", action="store_true", help="as JSON, for scripts")
    parser = verb(
        actions,
        "assign",
        assign,
        help="who the tasks Atelier makes of a kind go to (a Notion user id; none: unassigned)",
        example="atelier task assign contact_client 9c6b2f3e-1d4a-4e8b-9f0a-1b2c3d4e5f60",
    )
    parser.add_argument("kind", choices=KINDS, help="which of Atelier's tasks")
    parser.add_argument("user_id", metavar="NOTION_USER_ID", type=_user_id, help="the person's Notion user id, or none")
