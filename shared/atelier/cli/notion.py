"""`atelier notion`: the Notion databases (records, Services, Messages), made once, and their drift from the mapping."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC
from typing import Any

from atelier import wiring
from atelier.cli.args import noun, verb
from atelier.cli.render import table
from atelier.kernel.errors import ConfigurationError, in_minutes
from atelier.kernel.settings import NotionSettings


def _parent(args: argparse.Namespace, hint: str) -> str:
    parent = args.parent_page or wiring.settings(NotionSettings).notion_parent_page_id
    if not parent:
        raise ConfigurationError(hint)
    return str(parent)


def _rpc_or_none() -> Any:
    """Postgres, where the property ids are kept; None when no database is configured (setup still runs)."""
    try:
        rpc = wiring.rpc()
    except ConfigurationError:
        return None
    return rpc


def setup(args: argparse.Namespace) -> int:
    from atelier.kernel.business import named
    from atelier.mail.wording import MailWords
    from atelier.sync.setup import setup

    parent = _parent(args, "give --parent-page PAGE_ID (a page shared with the integration)")
    result = setup(
        wiring.notion(), parent, rpc=_rpc_or_none(), say=lambda line: print(line, file=sys.stderr), words=MailWords()
    )
    for line in result.parameter_lines():
        print(line)
    business = named()
    if business is not None:  # another business's: the database keeps them, and its functions read them there
        print(f"notion: {business.name}'s data sources are kept in the database; nothing to deploy", file=sys.stderr)
    else:
        print("notion: give these to `sam deploy --guided` when it asks (or to --parameter-overrides)", file=sys.stderr)
    if result.broken:
        print(f"notion: {len(result.broken)} data source(s) still need a hand in Notion (see above)", file=sys.stderr)
        return 1
    return 0


def check(args: argparse.Namespace) -> int:
    from atelier.sync.adopt import hand_made
    from atelier.sync.records import SyncPorts
    from atelier.sync.setup import check, find_existing, known_sources

    parent = _parent(args, "give --parent-page PAGE_ID, or set NOTION_PARENT_PAGE_ID")
    gateway, rpc = wiring.notion(), _rpc_or_none()
    ids = find_existing(gateway, parent, known_sources(rpc))
    judge = hand_made(SyncPorts(rpc, gateway, {n: i.data_source_id for n, i in ids.items()})) if rpc else None
    found = check(gateway, ids, rpc=rpc, hand_made=judge)
    if not found:
        print("notion: no drift - every data source and property matches the mapping")
        return 0
    rows = [
        ("breaks sync" if f.breaking else "note", f.entity, f.problem, f.detail)
        for f in sorted(found, key=lambda f: not f.breaking)
    ]
    print(table(("kind", "entity", "problem", "detail"), rows, rule=True))
    breaking = sum(f.breaking for f in found)
    if breaking:
        print(
            f"\nnotion: {breaking} problem(s) stop the sync; `atelier notion setup` mends what it can", file=sys.stderr
        )
        return 1
    print(f"\nnotion: {len(found)} note(s), nothing that stops the sync", file=sys.stderr)
    return 0


def arm(args: argparse.Namespace) -> int:
    from atelier.notion.webhook import RpcArming

    if not 1 <= args.minutes <= 60:
        raise ConfigurationError("--minutes is how long the window stays open: from 1 to 60")
    until = RpcArming(wiring.rpc()).arm(args.minutes * 60)
    print(
        f"notion webhook: armed for {in_minutes(args.minutes * 60)}, until {until.astimezone(UTC):%H:%M:%S} UTC: "
        "create the subscription in Notion now; its one handshake is accepted, and any other is refused"
    )
    return 0


def register(verbs: Any) -> None:
    actions = noun(verbs, "notion", "Notion databases", example="atelier notion check")
    parser = verb(
        actions,
        "setup",
        setup,
        help="create the databases (and the first Services and Messages pages) under a page, mend them (idempotent)",
        example="atelier notion setup --parent-page 1f2e...",
    )
    parser.add_argument("--parent-page", help="the page to create them under (default NOTION_PARENT_PAGE_ID)")
    parser = verb(
        actions,
        "check",
        check,
        help="compare the databases with the mapping: renames are notes (exit 0), what stops the sync exits 1",
        example="atelier notion check",
    )
    parser.add_argument("--parent-page", help="where the databases live (default NOTION_PARENT_PAGE_ID)")
    webhook = noun(
        actions, "webhook", "the Notion webhook's one-time handshake", example="atelier notion webhook arm --minutes 10"
    )
    parser = verb(
        webhook,
        "arm",
        arm,
        help="open a short window in which one webhook handshake is accepted (outside "
        "it, an unauthenticated handshake is refused and nothing is kept)",
        example="atelier notion webhook arm --minutes 10",
    )
    parser.add_argument("--minutes", type=int, default=10, help="how long the window stays open (1-60, default 10)")
