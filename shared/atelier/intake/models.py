"""The studio's nouns as validated models: what a lead form holds, and a budget as the client wrote it."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

MAX_TEXT = 200
MAX_NOTES = 4000


class ProjectType(StrEnum):
    simple_renovation = "simple_renovation"
    standard_renovation = "standard_renovation"
    small_addition = "small_addition"
    standard_addition = "standard_addition"
    major_renovation = "major_renovation"
    new_build = "new_build"
    complex_project = "complex_project"
    multiple_properties = "multiple_properties"


@dataclass(frozen=True)
class Budget:
    """A budget in whole dollars: a number, or a range as written on the form ("$10k-15k", "$35,000+")."""

    text: str
    min_dollars: int | None
    max_dollars: int | None

    @property
    def is_known(self) -> bool:
        return self.min_dollars is not None

    @property
    def typical_dollars(self) -> int | None:
        """The figure routing uses: a range's midpoint, an open range's floor."""
        if self.min_dollars is None:
            return None
        if self.max_dollars is None:
            return self.min_dollars
        return (self.min_dollars + self.max_dollars) // 2


_AMOUNT = re.compile(r"\$?\s*(\d+(?:[.,]\d+)*)\s*(k|m)?", re.IGNORECASE)
_UNKNOWN_WORDS = ("not sure", "unsure", "unknown", "tbd", "don't know", "dont know", "n/a", "?")


MAX_BUDGET_DOLLARS = 1_000_000_000  # past any project the studio takes; bounds what is stored and compared


def _bounded(value: float) -> int:
    """Whole dollars, or ValueError for what is not a budget at all (infinite, NaN, or absurdly large)."""
    if not math.isfinite(value) or value > MAX_BUDGET_DOLLARS:
        raise ValueError(f"enter a budget under ${MAX_BUDGET_DOLLARS:,}, such as 12000 or $10k-15k")
    return round(value)


def _to_dollars(number: str, suffix: str | None) -> int:
    digits = number.replace(",", "")
    if len(digits) > 30:
        raise ValueError("enter a budget in dollars, such as 12000 or $10k-15k")
    scale = {"k": 1_000, "m": 1_000_000}.get((suffix or "").lower(), 1)
    return _bounded(float(digits) * scale)


def parse_budget(raw: Any) -> Budget:
    """Read a budget as a client writes it. Raises ValueError with a message the client can act on."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return Budget("", None, None)
    if isinstance(raw, bool):
        raise ValueError("enter a budget in dollars, such as 12000 or $10k-15k")
    if isinstance(raw, int | float):
        if raw < 0:
            raise ValueError("a budget cannot be negative")
        dollars = _bounded(float(raw) if isinstance(raw, float) or raw <= MAX_BUDGET_DOLLARS else math.inf)
        return Budget(f"${dollars:,}", dollars, dollars)
    if not isinstance(raw, str):
        raise ValueError("enter a budget in dollars, such as 12000 or $10k-15k")
    text = raw.strip()[:MAX_TEXT]
    lowered = text.lower()
    if any(word in lowered for word in _UNKNOWN_WORDS):
        return Budget(text, None, None)
    amounts = _AMOUNT.findall(text)
    if not amounts or len(amounts) > 2:
        raise ValueError("enter a budget in dollars, such as 12000 or $10k-15k")
    # "$10-15k": a suffix on the upper bound applies to the lower one too.
    suffix_of_range = amounts[-1][1]
    values = [_to_dollars(n, s or (suffix_of_range if len(amounts) == 2 else None)) for n, s in amounts]
    if len(values) == 2:
        low, high = sorted(values)
        return Budget(text, low, high)
    value = values[0]
    if text.endswith("+") or lowered.startswith(("over", "more than", "above")):
        return Budget(text, value, None)
    if lowered.startswith(("under", "less than", "below", "up to")):
        return Budget(text, 0, value)
    return Budget(text, value, value)


def _clean_text(value: Any) -> Any:
    """Trim, fold internal runs of whitespace, and drop control characters; markup stays as text."""
    if isinstance(value, str):
        value = "".join(ch for ch in value if ch.isprintable() or ch in "\n\t")
        return value.strip()
    return value


def _blank_to_none(value: Any) -> Any:
    value = _clean_text(value)
    return None if value == "" else value


_TRUE = {"true", "yes", "on", "1", "y"}
_FALSE = {"false", "no", "off", "0", "n", ""}


def _form_bool(value: Any) -> Any:
    """Form checkboxes send "on" or nothing; JSON sends true/false."""
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
    return value


CleanText = Annotated[str, BeforeValidator(_clean_text)]
OptionalText = Annotated[str | None, BeforeValidator(_blank_to_none)]
FormBool = Annotated[bool, BeforeValidator(_form_bool)]

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class LeadAnswers(BaseModel):
    """What a lead told the studio: the intake form's fields. Only the form requires a project type (`LeadForm`);
    a lead the team types into Notion by hand may not know it yet, and routes to review (`project_type_unclear`)."""

    model_config = ConfigDict(extra="ignore", str_max_length=MAX_NOTES)

    email: CleanText = Field(min_length=1, max_length=254)
    name: CleanText = Field(min_length=1, max_length=MAX_TEXT)
    project_address: OptionalText = Field(default=None, max_length=MAX_TEXT)
    budget: Annotated[Budget, BeforeValidator(parse_budget)] = Field(default_factory=lambda: Budget("", None, None))
    timeline_weeks: Annotated[int | None, BeforeValidator(_blank_to_none)] = Field(default=None, ge=1, le=520)
    project_type: Annotated[ProjectType | None, BeforeValidator(_blank_to_none)] = None
    has_survey: FormBool = False
    has_drawings: FormBool = False
    notes: OptionalText = Field(default=None, max_length=MAX_NOTES)

    @field_validator("email")
    @classmethod
    def _normalise_email(cls, value: str) -> str:
        value = value.lower()
        if not _EMAIL.match(value):
            raise ValueError("enter an email address such as name@example.com")
        return value

    @property
    def has_assets(self) -> bool:
        return self.has_survey or self.has_drawings


class LeadForm(LeadAnswers):
    """The intake form, as JSON or form-encoded fields of the same names: a project type is required."""

    project_type: ProjectType
