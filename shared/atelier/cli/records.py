"""`atelier lead|project|client list|show`: the studio's records as the operator looks them up, newest first. A table
on a terminal, plain text off one, `--json` for scripts; a record's Notion page as a link."""

from __future__ import annotations

import argparse
import json
import os
import uuid
from typing import Any

from atelier import wiring
from atelier.cli.args import noun, number_in, verb
from atelier.cli.render import table
from atelier.kernel.format import money

KINDS = {
    "lead": ("leads", ("new", "qualified", "needs_review", "converted", "closed")),
    "project": (
        "projects",
        ("onboarding", "in_progress", "awaiting_feedback", "revisions", "delivered", "closed"),
    ),
    "client": ("clients", ("onboarding", "active", "completed", "closed")),
}
COLUMNS = {
    "lead": ("id", "name", "email", "status", "tier_name", "quote", "created_at"),
    "project": ("id", "name", "client", "status", "tier_name", "payment_status", "milestones_done", "created_at"),
    "client": ("id", "name", "email", "status", "projects", "created_at"),
}


def notion_link(page_id: Any) -> str:
    """Where the team sees a page: the local window on the emulator under `make dev`, else Notion itself."""
    if not page_id:
        return "-"
    base = os.environ.get("NOTION_BASE_URL")
    api = os.environ.get("ATELIER_API_URL")
    if base and api:
        return f"{api.rstrip('/')}/_local/notion/pages/{page_id}"
    return f"https://www.notion.so/{str(page_id).replace('-', '')}"


def _cell(key: str, row: dict[str, Any]) -> str:
    value = row.get(key)
    if key == "created_at":
        return str(value or "")[:16].replace("T", " ")
    if key == "milestones_done":
        return f"{value or 0}/{row.get('milestones') or 0}"
    return "-" if value is None else str(value)


def _list(kind: str) -> Any:
    def run(args: argparse.Namespace) -> int:
        rows = wiring.rpc().rpc("operator_list", p_kind=kind, p_status=args.status, p_limit=args.limit) or []
        if args.json:
            print(json.dumps(rows, indent=2, default=str))
            return 0
        if not rows:
            print(f"{KINDS[kind][0]}: none{f' {args.status}' if args.status else ''}")
            return 0
        columns = COLUMNS[kind]
        print(
            table(
                [c.replace("_name", "").replace("_", " ") for c in columns],
                [[_cell(c, r) for c in columns] for r in rows],
                rule=True,
            )
        )
        return 0

    return run


def _show(kind: str) -> Any:
    def run(args: argparse.Namespace) -> int:
        found = wiring.rpc().rpc("operator_show", p_kind=kind, p_id=args.id)
        if not found:
            print(f"{kind} {args.id}: not found in this business (`atelier {kind} list` shows them)")
            return 1
        found = dict(found) | {"notion": notion_link(found.get("notion_page_id"))}
        if args.json:
            print(json.dumps(found, indent=2, default=str))
            return 0
        for key, value in found.items():
            if not isinstance(value, list):
                print(f"{key:22} {'-' if value is None else value}")
        for key, value in found.items():
            if isinstance(value, list) and value and isinstance(value[0], dict):
                print(f"\n{key}:")
                columns = list(value[0])
                shown = [[_money(c, v) for c in columns] for v in value]
                print(table(columns, shown, rule=True))
            elif isinstance(value, list):
                print(f"{key:22} {', '.join(map(str, value)) or '-'}")
        return 0

    return run


def _money(column: str, row: dict[str, Any]) -> str:
    if column in ("amount", "amount_refunded") and row.get("currency"):
        return money(row.get(column), row.get("currency"))
    return _cell(column, row)


def _uuid(text: str) -> str:
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an id (a UUID, as the list shows)") from None


def register(verbs: Any) -> None:
    for kind, (plural, statuses) in KINDS.items():
        actions = noun(verbs, kind, f"the studio's {plural}", example=f"atelier {kind} list --json")
        parser = verb(actions, "list", _list(kind), help=f"{plural}, newest first", example=f"atelier {kind} list")
        parser.add_argument("--status", choices=statuses, help="only these")
        parser.add_argument("--limit", type=number_in(int, 1, 1000), default=50, help="at most this many (1-1000)")
        parser.add_argument("--json", action="store_true", help="as JSON, for scripts")
        parser = verb(
            actions,
            "show",
            _show(kind),
            help=f"one {kind}, with everything it holds and its Notion page",
            example=f"atelier {kind} show 6f1c0d9e-1b7a-4a51-9f0e-2f1f3f7c9a10",
        )
        parser.add_argument("id", metavar="ID", type=_uuid, help=f"the {kind}'s id")
        parser.add_argument("--json", action="store_true", help="as JSON, for scripts")
