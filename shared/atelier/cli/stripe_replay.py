"""Re-applying Stripe events from a file or from Stripe's events list, through the webhook's own path."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from atelier.cli.progress import Progress
from atelier.kernel.errors import ConfigurationError
from atelier.payments.stripe_api import stripe_client
from atelier.payments.stripe_events import HANDLED_TYPES, StripeEventService


def events_from_file(path: Path) -> list[dict[str, Any]]:
    """An event, a JSON list of events, or a Stripe list object (`{"data": [...]}`), oldest first."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigurationError(f"no file {path}") from None
    except json.JSONDecodeError as exc:
        raise ConfigurationError(f"{path} is not JSON: {exc}") from None
    if isinstance(data, dict) and isinstance(data.get("data"), list):
        data = data["data"]
    events = data if isinstance(data, list) else [data]
    bad = [i for i, e in enumerate(events) if not (isinstance(e, dict) and e.get("object") == "event" and e.get("id"))]
    if bad:
        raise ConfigurationError(f"{path}: item(s) {bad[:5]} are not Stripe events (object 'event' with an id)")
    return sorted(events, key=lambda e: int(e.get("created") or 0))


def events_since(api_key: str, since: datetime, *, api_base: str | None = None) -> Iterator[dict[str, Any]]:
    """Every handled event created since `since`, delivered or not, oldest first."""
    client = stripe_client(api_key, api_base, retries=None)
    params: dict[str, Any] = {"created": {"gte": int(since.timestamp())}, "types": list(HANDLED_TYPES), "limit": 100}
    listing = client.v1.events.list(params=params)
    collected = [event.to_dict() for event in listing.auto_paging_iter()]
    yield from sorted(collected, key=lambda e: int(e.get("created") or 0))


def replay(
    events: Iterable[dict[str, Any]],
    service: StripeEventService,
    *,
    total: int | None = None,
    label: str = "stripe replay",
) -> Counter[str]:
    outcomes: Counter[str] = Counter()
    progress = Progress(total, label)
    for event in events:
        outcomes[service.apply(event).outcome] += 1
        progress.advance(note=str(event.get("type", "")))
    progress.finish(", ".join(f"{n} {outcome}" for outcome, n in sorted(outcomes.items())))
    return outcomes
