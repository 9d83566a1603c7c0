"""`atelier stripe`: re-apply Stripe events through the webhook's own path, or rebuild them from Stripe's objects."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from atelier import wiring
from atelier.cli.args import noun, verb
from atelier.kernel.errors import ConfigurationError
from atelier.kernel.settings import IntakeSettings, secret


def replay(args: argparse.Namespace) -> int:
    from atelier.cli.stripe_replay import events_from_file, events_since, replay

    if [bool(args.file), bool(args.since), args.rejected].count(True) != 1:
        raise ConfigurationError(
            "give one of: a FILE of events, --since TIME to list them from Stripe, or "
            "--rejected for the events the ledger holds as rejected"
        )
    service = wiring.stripe_events()
    if args.rejected:
        events = list(wiring.rpc().rpc("rejected_stripe_events"))
        if not events:
            print("stripe replay: no rejected events are waiting")
            return 0
    elif args.file:
        events = events_from_file(Path(args.file))
    else:
        since = _since(args.since)
        key, base = _stripe_key()
        events = list(events_since(key, since, api_base=base))
    outcomes = replay(events, service, total=len(events))
    print(json.dumps(dict(sorted(outcomes.items()))))
    return 0


def _stripe_key() -> tuple[str, str | None]:
    """The Stripe key and API address to read from: the environment's, or a running `make dev`'s stand-in; with
    --business, that business's own account."""
    stripe_settings = wiring.settings(IntakeSettings)
    given = stripe_settings.stripe_secret_key
    if not (stripe_settings.stripe_secret_key_secret or (given and given.get_secret_value())):
        raise ConfigurationError("STRIPE_SECRET_KEY is not set: export it to read from Stripe")
    return secret(given, stripe_settings.stripe_secret_key_secret, "STRIPE_SECRET_KEY"), stripe_settings.stripe_api_base


def _since(text: str) -> datetime:
    try:
        since = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigurationError(f"--since {text!r} is not a time such as 2026-11-20 or 2026-11-20T00:00") from None
    return since if since.tzinfo else since.replace(tzinfo=UTC)


def backfill(args: argparse.Namespace) -> int:
    from atelier.cli.stripe_backfill import backfill_events, objects_since
    from atelier.cli.stripe_replay import replay

    since = _since(args.since)
    key, base = _stripe_key()
    events = backfill_events(objects_since(key, since, api_base=base))
    outcomes = replay(events, wiring.stripe_events(), total=len(events), label="stripe backfill")
    print(json.dumps(dict(sorted(outcomes.items()))))
    return 0


def register(verbs: Any) -> None:
    actions = noun(verbs, "stripe", "Stripe payments", example="atelier stripe replay --since 2026-11-20T00:00")
    parser = verb(
        actions,
        "replay",
        replay,
        help="re-apply events through the webhook's path; safe to run any number of times",
        example="atelier stripe replay --since 2026-11-20T00:00",
    )
    parser.add_argument("file", nargs="?", help="a JSON file: an event, a list of events, or a Stripe list")
    parser.add_argument("--since", help="list events created since this ISO time from Stripe, delivered or not")
    parser.add_argument(
        "--rejected",
        action="store_true",
        help="events recorded as rejected, once their cause is fixed; each applies once",
    )
    parser = verb(
        actions,
        "backfill",
        backfill,
        help="read checkout sessions, charges, invoices and disputes since DATE (beyond the 30 days Stripe keeps "
        "events) and apply whatever the database misses; safe to run any number of times",
        example="atelier stripe backfill --since 2026-01-01",
    )
    parser.add_argument("--since", required=True, help="read objects created since this date (or ISO time)")
