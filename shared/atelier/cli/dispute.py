"""`atelier dispute evidence PAYMENT_ID`: the evidence Stripe asks for when a client disputes a payment, in one PDF."""

from __future__ import annotations

import argparse
import uuid
from pathlib import Path
from typing import Any

from atelier import wiring
from atelier.cli.args import noun, verb
from atelier.kernel.errors import ConfigurationError


def evidence(args: argparse.Namespace) -> int:
    from atelier.payments.evidence import document, sections

    try:
        payment_id = str(uuid.UUID(args.payment_id))
    except ValueError:
        raise ConfigurationError(
            f"{args.payment_id!r} is not a payment id: `atelier project show ID` or the dispute's Notion comment "
            "names it"
        ) from None
    found = wiring.rpc().rpc("dispute_evidence", p_payment_id=payment_id)
    if not found:
        print(f"dispute evidence: no payment {payment_id} in this business (try --business SLUG)")
        return 1
    out = Path(args.out or f"dispute-evidence-{payment_id}.pdf")
    out.write_bytes(document(found))
    for title, lines in sections(found):
        print(f"{title}: {len(lines)} line{'s' if len(lines) != 1 else ''}")
    print(f"dispute evidence: wrote {out}")
    return 0


def register(verbs: Any) -> None:
    actions = noun(verbs, "dispute", "disputed payments", example="atelier dispute evidence PAYMENT_ID")
    parser = verb(
        actions,
        "evidence",
        evidence,
        help="write one PDF of what was agreed, paid, delivered and approved, for Stripe's dispute form",
        example="atelier dispute evidence 0b9f... --out evidence.pdf",
    )
    parser.add_argument("payment_id", metavar="PAYMENT_ID", help="the disputed payment's id (payments.id)")
    parser.add_argument("--out", help="where to write the PDF (default: dispute-evidence-PAYMENT_ID.pdf here)")
