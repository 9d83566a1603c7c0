"""`atelier quote`: the team's quotes, and sending one without Notion (the same decision as setting a lead page's
status to "Qualified")."""

from __future__ import annotations

import argparse
import json
import time
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from atelier import wiring
from atelier.cli.args import noun, number_in, verb
from atelier.cli.render import table
from atelier.kernel.format import money
from atelier.kernel.settings import IntakeSettings

STATUSES = ("sent", "paid", "expired", "withdrawn", "superseded")
SETTLE_SECONDS = 20.0


def list_quotes(args: argparse.Namespace) -> int:
    rows = wiring.rpc().rpc("quote_list", p_status=args.status, p_limit=args.limit) or []
    if args.json:
        print(json.dumps(rows, indent=2, default=str))
        return 0
    if not rows:
        print(f"quotes: none{f' {args.status}' if args.status else ''}")
        return 0
    print(
        table(
            ("quote", "lead", "client", "tier", "amount", "status", "e-mail", "created"),
            [
                (
                    str(r["id"]),
                    str(r["lead_id"]),
                    f"{r.get('name') or ''} <{r.get('email') or ''}>",
                    str(r.get("tier_name") or r.get("tier")),
                    money(r.get("amount"), r.get("currency")),
                    str(r.get("status")),
                    str(r.get("mail") or "-"),
                    str(r.get("created_at") or "")[:16].replace("T", " "),
                )
                for r in rows
            ],
            rule=True,
        )
    )
    return 0


def _cents(text: str) -> int:
    """An amount in the studio's main unit ("60000", "60,000.50") as cents; refused unless above 0."""
    try:
        value = Decimal(text.replace(",", "").strip())
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"{text!r} is not an amount: write it as 60000 or 60000.00") from None
    if not value.is_finite() or value <= 0 or value > Decimal(10**10):
        raise argparse.ArgumentTypeError(f"{text!r} is out of range: a quote is more than 0")
    return int((value * 100).to_integral_value())


def _lead_id(text: str) -> str:
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a lead id (a UUID, as `atelier quote list` or the lead's Notion page shows)"
        ) from None


def send(args: argparse.Namespace) -> int:
    cap = wiring.settings(IntakeSettings).atelier_quote_cap * 100
    result = wiring.rpc().rpc(
        "send_quote", p_lead_id=args.lead_id, p_tier=args.tier, p_amount=args.amount, p_note=args.note, p_cap=cap
    )
    if result.get("refused"):
        print(f"quote: not sent: {result['refused']}")
        return 2
    if not result.get("created"):
        print(f"quote {result['quote_id']}: the same quote is open already; nothing sent again")
        return 0
    print(f"quote {result['quote_id']}: written; its e-mail waits for its payment page")
    opened = wiring.quote_desk().settle(wiring.decision_mail, deadline=time.monotonic() + SETTLE_SECONDS)
    if opened.get("quotes_waiting"):
        print("quote: Stripe did not open the payment page yet; the next sync run tries again, and the e-mail waits")
    elif opened.get("decision_mail_sent"):
        print("quote: payment page open and e-mail sent")
    else:
        print("quote: payment page open; the e-mail goes with the next mail run (`atelier mail send` sends it now)")
    return 0


def register(verbs: Any) -> None:
    actions = noun(verbs, "quote", "the team's quotes for reviewed leads", example="atelier quote list --status sent")
    parser = verb(
        actions, "list", list_quotes, help="quotes, newest first", example="atelier quote list --status expired"
    )
    parser.add_argument("--status", choices=STATUSES, help="only quotes in this state")
    parser.add_argument("--limit", type=number_in(int, 1, 1000), default=50, help="at most this many (1-1000)")
    parser.add_argument("--json", action="store_true", help="as JSON, for scripts")
    parser = verb(
        actions,
        "send",
        send,
        help="quote a lead: its e-mail and payment link (supersedes an open quote)",
        example="atelier quote send 6f1c0d9e-1b7a-4a51-9f0e-2f1f3f7c9a10 --amount 60000 --tier 4",
    )
    parser.add_argument("lead_id", metavar="LEAD_ID", type=_lead_id, help="the lead's id")
    parser.add_argument(
        "--amount", type=_cents, help="in the studio's currency, e.g. 60000 (default: the tier's price)"
    )
    parser.add_argument("--tier", type=number_in(int, 1, 4), help="the tier to quote, 1-4 (default: the lead's)")
    parser.add_argument("--note", help="a note to the client, in the e-mail")
