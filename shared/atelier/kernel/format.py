"""Figures as a client reads them, in e-mails and pages alike: an amount of money and a day."""

from __future__ import annotations

from datetime import date
from typing import Any


def money(cents: Any, currency: Any) -> str:
    amount = int(cents or 0) / 100
    symbol = {"usd": "$", "eur": "€", "gbp": "£"}.get(str(currency or "usd").lower())
    figure = f"{amount:,.2f}".removesuffix(".00")
    return f"{symbol}{figure}" if symbol else f"{figure} {str(currency).upper()}"


def day(value: Any, *, missing: str = "date to be set") -> str:
    """A date (or the date of a timestamp) as a client reads it: "23 November 2026"; `missing` when there is none."""
    try:
        return date.fromisoformat(str(value)[:10]).strftime("%-d %B %Y")
    except ValueError:
        return missing


def moment(value: Any) -> str:
    """A timestamp as a thread shows it: "3 December 2026, 21:04 UTC" (the day alone if its time cannot be read)."""
    from datetime import UTC, datetime

    try:
        when = datetime.fromisoformat(str(value)).astimezone(UTC)
    except ValueError:
        return day(value, missing="")
    return f"{when.strftime('%-d %B %Y, %H:%M')} UTC"


def latin1(text: Any) -> str:
    """Text a PDF's built-in fonts can draw (Latin-1): dashes and curly quotes made plain, anything else that
    Latin-1 lacks replaced by "?", never dropped silently."""
    out = str(text if text is not None else "")
    for wide, narrow in (("\u2013", "-"), ("\u2014", "-"), ("\u2019", "'"), ("\u201c", '"'), ("\u201d", '"')):
        out = out.replace(wide, narrow)
    return out.encode("latin-1", "replace").decode("latin-1")
