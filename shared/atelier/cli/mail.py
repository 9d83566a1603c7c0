"""`atelier mail`: the e-mails the studio sends its clients, from `notifications`."""

from __future__ import annotations

import argparse
import time
from typing import Any

from atelier import wiring
from atelier.cli.args import noun, number_in, verb
from atelier.cli.render import table

STATUSES = ("pending", "sent", "failed", "dead")


def list_rows(args: argparse.Namespace) -> int:
    rows = wiring.rpc().rpc("notification_rows", p_status=args.status, p_limit=args.limit)
    if not rows:
        print(f"mail: no {args.status or ''} messages".replace("  ", " "))
        return 0
    print(
        table(
            ("queued", "to", "template", "status", "tries", "subject or last error"),
            [
                (
                    str(r["created_at"])[:19].replace("T", " "),
                    r["recipient"],
                    r["template"],
                    r["status"],
                    str(r["attempts"]),
                    (r.get("subject") or r.get("last_error") or "").splitlines()[0][:70]
                    if (r.get("subject") or r.get("last_error"))
                    else "",
                )
                for r in rows
            ],
            rule=True,
        )
    )
    dead = sum(1 for r in rows if r["status"] == "dead")
    return 1 if dead else 0


def send(args: argparse.Namespace) -> int:
    outbox = wiring.mail_outbox()
    if outbox is None:
        print("mail: off - set MAIL_FROM to a verified SES identity (`make dev` sets one)")
        return 2
    report = outbox.send_due(deadline=time.monotonic() + args.budget)
    print(
        f"mail: {report.claimed} claimed, {report.sent} sent, {report.failed} failed"
        + "".join(f", {n} {what}" for what, n in sorted(report.outcome.items()) if n and what != "sent")
    )
    return 0


def register(verbs: Any) -> None:
    actions = noun(verbs, "mail", "the e-mails the studio sends its clients", example="atelier mail list --status dead")
    parser = verb(
        actions,
        "list",
        list_rows,
        help="messages, newest first: to whom, which, and whether sent; exit 1 if any gave up",
        example="atelier mail list --status pending",
    )
    parser.add_argument("--status", choices=STATUSES, help="only messages in this state")
    parser.add_argument("--limit", type=number_in(int, 1, 1000), default=50, help="at most this many (1-1000)")
    parser = verb(
        actions,
        "send",
        send,
        help="send what is due now (the client_mail schedule does it each minute)",
        example="atelier mail send",
    )
    parser.add_argument(
        "--budget", type=number_in(float, 0.0, 900.0, above=True), default=60.0, help="stop after this many seconds"
    )
