"""`atelier stripe backfill --since DATE`: what Stripe holds, read by object rather than by event (Stripe keeps events
for 30 days), and applied through the webhook's own path wherever the database misses it.

Each object becomes the event that would have brought its present state (a paid session: `checkout.session.
completed`; a refunded charge: `charge.refunded`; an invoice: `invoice.paid`, `.voided` or `.marked_uncollectible`;
a dispute: `charge.dispute.created`, `.updated` or `.closed`), with an id of its own (`backfill:` and the object's
id and state). The ledger takes each once, and every apply keeps the furthest state, so running it again, or after the
webhooks did arrive, changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from atelier.payments.stripe_api import stripe_client

# What each listing's objects mean, and in which order they apply: payments before what follows them.
LISTINGS = ("checkout/sessions", "charges", "invoices", "disputes")
INVOICE_EVENTS = {"paid": "invoice.paid", "void": "invoice.voided", "uncollectible": "invoice.marked_uncollectible"}


def event_of(listing: str, obj: dict[str, Any]) -> dict[str, Any] | None:
    """The event an object's present state stands for, or None when it has none Atelier applies."""
    kind: str | None = None
    if listing == "checkout/sessions":
        status = obj.get("status")
        kind = {"complete": "checkout.session.completed", "expired": "checkout.session.expired"}.get(str(status))
    elif listing == "charges":
        kind = "charge.refunded" if int(obj.get("amount_refunded") or 0) > 0 else None
    elif listing == "invoices":
        kind = INVOICE_EVENTS.get(str(obj.get("status")))
    elif listing == "disputes":
        status = str(obj.get("status"))
        closed = status in ("won", "lost", "warning_closed")
        kind = "charge.dispute.closed" if closed else "charge.dispute.created"
    if kind is None:
        return None
    state = obj.get("status") or obj.get("amount_refunded")
    return {
        "id": f"backfill:{obj.get('id')}:{state}",
        "object": "event",
        "type": kind,
        "created": int(obj.get("created") or 0),
        "livemode": bool(obj.get("livemode")),
        "data": {"object": obj},
    }


def objects_since(
    api_key: str, since: datetime, *, api_base: str | None = None
) -> Iterator[tuple[str, dict[str, Any]]]:
    """(listing, object) for every object created since `since`, listing by listing, each oldest first."""
    client = stripe_client(api_key, api_base, retries=None)
    services = {
        "checkout/sessions": client.v1.checkout.sessions,
        "charges": client.v1.charges,
        "invoices": client.v1.invoices,
        "disputes": client.v1.disputes,
    }
    params: dict[str, Any] = {"created": {"gte": int(since.timestamp())}, "limit": 100}
    for listing in LISTINGS:
        found = [o.to_dict() for o in services[listing].list(params=params).auto_paging_iter()]
        for obj in sorted(found, key=lambda o: (int(o.get("created") or 0), str(o.get("id")))):
            yield listing, obj


def backfill_events(objects: Iterator[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    return [event for listing, obj in objects if (event := event_of(listing, obj)) is not None]
