"""Reading a lead as a client writes it: budgets, checkboxes, whitespace, email."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from atelier.intake.models import Budget, LeadForm, parse_budget


@pytest.mark.parametrize(
    ("raw", "low", "high"),
    [
        (12000, 12000, 12000),
        (12000.4, 12000, 12000),
        ("12000", 12000, 12000),
        ("$12,500", 12500, 12500),
        ("$10k-15k", 10000, 15000),
        ("$10k\u201315k", 10000, 15000),  # an en dash, as word processors write it
        ("10-15k", 10000, 15000),
        ("$2.5k - $7.5k", 2500, 7500),
        ("$35,000+", 35000, None),
        ("over 50k", 50000, None),
        ("under 5k", 0, 5000),
        ("1.2m", 1_200_000, 1_200_000),
        ("15k to 10k", 10000, 15000),
        ("not sure", None, None),
        ("", None, None),
        (None, None, None),
    ],
)
def test_budgets_as_clients_write_them(raw: Any, low: int | None, high: int | None) -> None:
    budget = parse_budget(raw)
    assert (budget.min_dollars, budget.max_dollars) == (low, high)


@pytest.mark.parametrize("raw", ["lots", "5 or 6 or 7", -1, True, [], {"a": 1}])
def test_unreadable_budgets_are_refused_with_an_example(raw: Any) -> None:
    with pytest.raises(ValueError, match=r"such as 12000|cannot be negative"):
        parse_budget(raw)


@given(st.integers(min_value=0, max_value=10_000_000), st.integers(min_value=0, max_value=10_000_000))
def test_a_range_reads_back_as_its_bounds(a: int, b: int) -> None:
    budget = parse_budget(f"${a:,} - ${b:,}")
    assert (budget.min_dollars, budget.max_dollars) == (min(a, b), max(a, b))
    assert budget.typical_dollars == (min(a, b) + max(a, b)) // 2


def test_typical_budget() -> None:
    assert Budget("", None, None).typical_dollars is None
    assert Budget("$35k+", 35000, None).typical_dollars == 35000


def test_form_fields_are_trimmed_normalised_and_checkboxes_read() -> None:
    form = LeadForm.model_validate(
        {
            "email": "  Ada@Example.COM ",
            "name": " Ada\x00 ",
            "project_type": "new_build",
            "has_survey": "on",
            "has_drawings": "",
            "timeline_weeks": "",
            "notes": "  ",
            "project_address": " 1 Main St ",
        }
    )
    assert (form.email, form.name, form.project_address) == ("ada@example.com", "Ada", "1 Main St")
    assert (form.has_survey, form.has_drawings, form.timeline_weeks, form.notes) == (True, False, None, None)
    assert form.has_assets


def test_unknown_fields_are_ignored_and_known_ones_validated() -> None:
    with pytest.raises(ValidationError) as caught:
        LeadForm.model_validate({"email": "a@b.co", "name": "A", "project_type": "castle", "extra": 1})
    assert [e["loc"] for e in caught.value.errors()] == [("project_type",)]
