"""`atelier portal`: the client portal, from the studio's side."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from atelier import wiring
from atelier.cli.args import noun, verb


def link(args: argparse.Namespace) -> int:
    made = wiring.portal().link_for(args.email)
    if made is None:
        print(
            f"portal: {args.email} is not a client's address (check the spelling, or whether they paid)",
            file=sys.stderr,
        )
        return 1
    print("portal: a sign-in link, good once for 15 minutes; send it to the client yourself", file=sys.stderr)
    print(made)
    return 0


def revoke(args: argparse.Namespace) -> int:
    ended = wiring.portal().revoke(args.email)
    if not ended["known"]:
        print(f"portal: no user has the address {args.email}", file=sys.stderr)
        return 1
    print(
        f"portal: {args.email}: {ended['sessions']} session(s) and {ended['links']} unused sign-in link(s) ended; "
        "they sign in again with a new link"
    )
    return 0


def register(verbs: Any) -> None:
    actions = noun(verbs, "portal", "the client portal", example="atelier portal link client@example.com")
    parser = verb(
        actions,
        "link",
        link,
        help="print a sign-in link for a client (last line), for when they lost "
        "the e-mail; exit 1 for an address that is not a client's",
        example="atelier portal link client@example.com",
    )
    parser.add_argument("email", help="the client's e-mail address")
    parser = verb(
        actions,
        "revoke",
        revoke,
        help="sign a client out everywhere: end every session and unused "
        "sign-in link of theirs; exit 1 for an unknown address",
        example="atelier portal revoke client@example.com",
    )
    parser.add_argument("email", help="the client's e-mail address")
