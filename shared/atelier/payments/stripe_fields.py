"""The checks every Stripe event's fields pass before they reach the database: ids, text, amounts, currencies.

A field that fails makes the event `Unappliable`: recorded as rejected, with the reason, for replay once fixed.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

MAX_ID_CHARS = 255
MAX_AMOUNT_CENTS = 10**12  # beyond any charge Stripe makes
CURRENCY = re.compile(r"[a-z]{3}")


class Unappliable(Exception):
    """A signed event that can never apply as it is: recorded as rejected, with this reason."""


def text(value: Any, what: str, *, limit: int = MAX_ID_CHARS) -> str | None:
    """A string field, or None when absent; refused when it is not text a ledger can hold."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise Unappliable(f"{what} is not a string")
    if len(value) > limit or any(ord(c) < 32 or 0xD800 <= ord(c) <= 0xDFFF for c in value):
        raise Unappliable(f"{what} is longer than {limit} characters or holds control characters or lone surrogates")
    return value or None


def id_of(value: Any, what: str) -> str | None:
    """Stripe sends either an id or, when expanded, the object itself."""
    if isinstance(value, dict):
        value = value.get("id")
    return text(value, what)


def amount(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise Unappliable(f"{what} is not a whole number of cents: {str(value)[:40]!r}")
    if not 0 <= value <= MAX_AMOUNT_CENTS:
        raise Unappliable(f"{what} is out of range: {str(value)[:40]}")
    return value


def currency(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not CURRENCY.fullmatch(value.lower()):
        raise Unappliable(f"currency is not an ISO currency code: {str(value)[:20]!r}")
    return value.lower()


def uuid_or_none(value: Any) -> str | None:
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        return str(uuid.UUID(value)) if value else None
    except ValueError:
        return None
