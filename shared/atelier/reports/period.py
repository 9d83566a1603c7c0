"""Report periods, as the owner names them: this month, a quarter, a year, last week, or two dates.

A period is written one way everywhere (the page's picker, `atelier report --period`, the export links):
`month`, `quarter`, `year`, `last-month`, `last-week`, `2026-11`, `2026-Q4`, `2026`, or `2026-01-01..2026-03-31`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from atelier.kernel.errors import ValidationFailed

MAX_DAYS = 3700  # ten years; the database refuses longer
EARLIEST = date(2000, 1, 1)
_MONTH = re.compile(r"(\d{4})-(\d{2})")
_QUARTER = re.compile(r"(\d{4})-[Qq]([1-4])")
_YEAR = re.compile(r"\d{4}")
_RANGE = re.compile(r"(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})")
HELP = (
    "a period is month, quarter, year, last-month, last-week, a month (2026-11), a quarter (2026-Q4), a year "
    "(2026) or two dates (2026-01-01..2026-03-31)"
)


class PeriodError(ValidationFailed):
    """A period that is not one; the message says what to write instead."""

    default_code = "invalid_period"


def _month_end(year: int, month: int) -> date:
    first_next = date(year + month // 12, month % 12 + 1, 1)
    return first_next - timedelta(days=1)


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive
    spec: str

    @property
    def label(self) -> str:
        if self.start.day == 1 and self.end == _month_end(self.start.year, self.start.month):
            return self.start.strftime("%B %Y")
        if self.start.year == self.end.year:
            if self.start == date(self.start.year, 1, 1) and self.end == date(self.start.year, 12, 31):
                return str(self.start.year)
            return f"{self.start:%-d %b} to {self.end:%-d %b %Y}"
        return f"{self.start:%-d %b %Y} to {self.end:%-d %b %Y}"


def _checked(start: date, end: date, spec: str) -> Period:
    if end < start:
        raise PeriodError(f"the period ends ({end}) before it starts ({start}): put the earlier date first")
    if start < EARLIEST or end.year > 9000:
        raise PeriodError(f"{spec!r} is outside the years a report covers (2000 onwards)")
    if (end - start).days > MAX_DAYS:
        raise PeriodError("a report period is at most ten years long: choose a shorter one")
    return Period(start, end, spec)


def parse(spec: str | None, today: date) -> Period:
    """The period a spec names, relative to `today` (UTC); PeriodError for anything else."""
    text = (spec or "month").strip()
    if len(text) > 40:
        raise PeriodError(HELP)
    if text == "month":
        return _checked(today.replace(day=1), _month_end(today.year, today.month), text)
    if text == "last-month":
        last = today.replace(day=1) - timedelta(days=1)
        return _checked(last.replace(day=1), last, text)
    if text == "quarter":
        first = (today.month - 1) // 3 * 3 + 1
        return _checked(date(today.year, first, 1), _month_end(today.year, first + 2), text)
    if text == "year":
        return _checked(date(today.year, 1, 1), date(today.year, 12, 31), text)
    if text == "last-week":
        monday = today - timedelta(days=today.weekday() + 7)
        return _checked(monday, monday + timedelta(days=6), text)
    try:
        if m := _MONTH.fullmatch(text):
            year, month = int(m[1]), int(m[2])
            return _checked(date(year, month, 1), _month_end(year, month), text)
        if m := _QUARTER.fullmatch(text):
            year, first = int(m[1]), (int(m[2]) - 1) * 3 + 1
            return _checked(date(year, first, 1), _month_end(year, first + 2), text.upper())
        if _YEAR.fullmatch(text):
            return _checked(date(int(text), 1, 1), date(int(text), 12, 31), text)
        if m := _RANGE.fullmatch(text):
            return _checked(date.fromisoformat(m[1]), date.fromisoformat(m[2]), text)
    except ValueError as exc:
        if isinstance(exc, PeriodError):
            raise
        raise PeriodError(f"{text!r} is not a date: {HELP}") from None
    raise PeriodError(HELP)


def custom(start: str | None, end: str | None, today: date) -> Period:
    """The page's custom period: two ISO dates from its date inputs."""
    if not start or not end:
        raise PeriodError("a custom period needs both dates: fill in From and To")
    return parse(f"{start.strip()}..{end.strip()}", today)
