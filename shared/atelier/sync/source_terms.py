"""What a Services or Messages page says, as the catalogue's and the wording's terms: the milestones listed in a
service's page (with their days and shares of the price), its properties, and a message's subject and body."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from atelier.sync.blocks import TEXT_BLOCKS, is_heading, text_of

MILESTONES = "Milestones"
SHARE = r"(?:\s*[,;]\s*(?P<percent>\d{1,3}(?:\.\d+)?)\s*%)?"
MILESTONE_LINE = re.compile(r"^(?P<name>.+?)\s*[:\u2013\u2014-]\s*day\s+(?P<days>\d+)" + SHARE + r"\s*$", re.IGNORECASE)
MILESTONE_DAYS = re.compile(r"^(?P<name>.+?)\s*\((?P<days>\d+)\s*days?\)" + SHARE + r"\s*$", re.IGNORECASE)
BOOKING_LINE = re.compile(r"^(?:at\s+)?booking\s*[:\u2013\u2014-]\s*(?P<percent>\d{1,3}(?:\.\d+)?)\s*%\s*$", re.I)
HOW_TO_LIST = (
    'The milestones each project of this service starts with, one per line, as "Name: day N" (days from the '
    'day it is paid). A milestone that is invoiced carries its share of the price, as "Design development: day 63, '
    '40%", and "At booking: 30%" is the deposit (without shares, the whole price is paid at booking). Atelier reads '
    "this list when the page changes; projects already paid keep theirs."
)


def cents(value: Any) -> int | None:
    """A number in the currency's main unit (Notion's) as cents; None when there is none."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return int((Decimal(str(value)) * 100).to_integral_value())
    except (InvalidOperation, ValueError):
        return None


def main_unit(value: int | None) -> int | float | None:
    if value is None:
        return None
    return value // 100 if value % 100 == 0 else value / 100


def percent(value: Any) -> int | float:
    """A share as JSON carries it: whole where it is whole (40, not 40.0)."""
    number = Decimal(str(value))
    return int(number) if number == number.to_integral_value() else float(number)


def milestones_of(blocks: list[dict[str, Any]]) -> list[dict[str, Any]] | str:
    """The milestones listed under the page's "Milestones" heading (or anywhere, without one), each with its days
    from the start and its share of the price where it carries one, and the share at booking (an entry of its own,
    `{"booking": percent}`, first); or why a line cannot be read."""
    start = next((i + 1 for i, b in enumerate(blocks) if is_heading(b) and "milestone" in text_of(b).lower()), None)
    listed: list[dict[str, Any]] = []
    for b in blocks[start or 0 :]:
        if start is not None and is_heading(b):
            break
        if b.get("in_trash") or str(b.get("type")) not in TEXT_BLOCKS or is_heading(b):
            continue
        if start is None and str(b.get("type")) == "paragraph":
            continue  # without a heading, only list items are milestones
        for line in text_of(b).splitlines():
            line = line.strip().lstrip("-\u2022* ").strip()
            if not line:
                continue
            booking = BOOKING_LINE.match(line)
            if booking is not None:
                listed.insert(0, {"booking": percent(booking["percent"])})
                continue
            found = MILESTONE_LINE.match(line) or MILESTONE_DAYS.match(line)
            if found is None:
                return f'the milestone line "{line[:80]}" has no day: write it as "{line[:40]}: day 14"'
            entry: dict[str, Any] = {"name": found["name"].strip(), "days": int(found["days"])}
            if found["percent"] is not None:
                entry["percent"] = percent(found["percent"])
            listed.append(entry)
    return listed


def milestone_line(m: dict[str, Any]) -> str:
    share = f", {percent(m['percent'])}%" if m.get("percent") is not None else ""
    return f"{m['name']}: day {m['days']}{share}"


def service_terms(tier_id: str, values: dict[str, Any], listed: list[dict[str, Any]]) -> dict[str, Any]:
    """A Services page as the catalogue's terms for its tier (what `apply_services` takes, less page and hash)."""
    features = [line.strip().lstrip("-\u2022* ").strip() for line in str(values.get("features") or "").splitlines()]
    milestones = [m for m in listed if "booking" not in m]
    booking = next((m["booking"] for m in listed if "booking" in m), None)
    return ({} if booking is None else {"deposit_percent": booking}) | {
        "id": tier_id,
        "name": str(values.get("name") or "").strip(),
        "description": str(values.get("description") or "").strip(),
        "features": [f for f in features if f],
        "price_cents": cents(values.get("price")),
        "min_budget_cents": cents(values.get("budget_from")),
        "max_budget_cents": cents(values.get("budget_to")),
        "routing": str(values.get("routing") or ""),
        "active": bool(values.get("active")),
        "milestones": milestones,
    }


def message_body(blocks: list[dict[str, Any]]) -> str:
    """A Messages page's text: its blocks, a blank line apart (a line break inside a block kept)."""
    return "\n\n".join(t.strip() for b in blocks if not b.get("in_trash") and (t := text_of(b)).strip())


def normal_body(body: str) -> str:
    return "\n\n".join(p.strip() for p in re.split(r"\n\s*\n", body.strip()) if p.strip())


def message_terms(values: dict[str, Any], body: str) -> dict[str, Any]:
    return {
        "subject": str(values.get("subject") or "").strip(),
        "body": normal_body(body),
        "in_use": bool(values.get("in_use")),
    }
