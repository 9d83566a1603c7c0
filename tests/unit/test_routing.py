"""Tier routing: DESIGN.md's rules as properties over every valid lead, plus worked examples."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from atelier.intake.models import LeadForm, ProjectType
from atelier.intake.routing import Confidence, RedFlag, TierRecommendation
from atelier.intake.routing import route as route_with
from tests.seed_catalogue import seed_catalogue

CATALOGUE = seed_catalogue()
TIERS = CATALOGUE.tiers


def route(lead: LeadForm) -> TierRecommendation:
    return route_with(lead, CATALOGUE)


budgets = st.one_of(
    st.none(),
    st.integers(min_value=0, max_value=2_000_000),
    st.sampled_from(["$10k-15k", "$35,000+", "under 5k", "not sure", "7500", "$2.5k - $7.5k", ""]),
)
leads = st.builds(
    lambda budget, weeks, kind, survey, drawings: LeadForm.model_validate(
        {
            "email": "a@example.com",
            "name": "A",
            "budget": budget,
            "timeline_weeks": weeks,
            "project_type": kind,
            "has_survey": survey,
            "has_drawings": drawings,
        }
    ),
    budgets,
    st.one_of(st.none(), st.integers(min_value=1, max_value=520)),
    st.sampled_from(list(ProjectType)),
    st.booleans(),
    st.booleans(),
)


@given(leads)
@settings(max_examples=400)
def test_every_valid_lead_gets_a_tier_from_1_to_4_with_a_reason(lead: LeadForm) -> None:
    rec = route(lead)
    assert rec.tier in TIERS
    assert rec.tier_name == TIERS[rec.tier].name
    assert rec.reason.startswith(f"We recommend {rec.tier_name}")
    assert rec.reason.endswith(".")
    assert rec.tier not in rec.alternative_tiers


@given(leads)
def test_budget_of_35000_or_more_is_tier_4(lead: LeadForm) -> None:
    if (lead.budget.typical_dollars or 0) >= 35_000:
        assert route(lead).tier == 4


@given(leads)
def test_no_assets_is_at_least_tier_3(lead: LeadForm) -> None:
    if not lead.has_survey and not lead.has_drawings:
        assert route(lead).tier >= 3


@given(leads)
def test_tier_4_always_needs_review_and_never_auto_routes(lead: LeadForm) -> None:
    rec = route(lead)
    if rec.tier == 4:
        assert rec.needs_review
        assert not rec.auto_route


@given(leads)
def test_new_build_complex_and_multiple_properties_floors(lead: LeadForm) -> None:
    tier = route(lead).tier
    if lead.project_type in (ProjectType.new_build, ProjectType.complex_project):
        assert tier >= 3
    if lead.project_type is ProjectType.multiple_properties:
        assert tier == 4


@given(leads)
def test_a_lead_auto_routes_as_its_tier_routing_says_and_only_when_clean(lead: LeadForm) -> None:
    """auto (tiers 1-2): unless flagged or unsure; conditional (tier 3): only when sure; manual (tier 4): never."""
    rec = route(lead)
    routing = TIERS[rec.tier].routing
    clean = not rec.red_flags and rec.confidence is not Confidence.low
    expected = clean and (routing == "auto" or (routing == "conditional" and rec.confidence is Confidence.high))
    assert rec.needs_review is not expected
    assert rec.auto_route == expected
    if rec.red_flags:
        assert rec.needs_review


@given(leads)
def test_alternatives_never_break_a_hard_rule(lead: LeadForm) -> None:
    rec = route(lead)
    if not lead.has_assets:
        assert all(t >= 3 for t in rec.alternative_tiers)


def _lead(**fields: Any) -> LeadForm:
    base: dict[str, Any] = {"email": "a@example.com", "name": "A", "has_survey": True, "has_drawings": True}
    return LeadForm.model_validate({**base, **fields})


@pytest.mark.parametrize(
    ("fields", "tier", "confidence", "flags"),
    [
        ({"budget": 5000, "timeline_weeks": 3, "project_type": "simple_renovation"}, 1, "high", []),
        ({"budget": "$10k-15k", "timeline_weeks": 8, "project_type": "standard_renovation"}, 2, "high", []),
        ({"budget": 25000, "timeline_weeks": 16, "project_type": "major_renovation"}, 3, "high", []),
        ({"budget": 60000, "timeline_weeks": 40, "project_type": "new_build"}, 4, "medium", []),
        (
            {"budget": 12000, "timeline_weeks": 8, "project_type": "multiple_properties"},
            4,
            "low",
            ["complex_low_budget", "multiple_properties"],
        ),
        # An unknown budget backs no tier, so only 35% of the weight stands behind the result.
        (
            {"budget": "not sure", "timeline_weeks": 8, "project_type": "standard_renovation"},
            2,
            "low",
            ["budget_unclear"],
        ),
        ({"budget": 1500, "timeline_weeks": 8, "project_type": "simple_renovation"}, 1, "high", ["budget_unclear"]),
        (
            {"budget": 10000, "timeline_weeks": 1, "project_type": "new_build"},
            3,
            "low",
            ["timeline_unrealistic", "complex_low_budget"],
        ),
        # A long timeline alone does not outvote budget, assets and type.
        (
            {"budget": 5000, "timeline_weeks": 30, "project_type": "simple_renovation"},
            1,
            "high",
            ["budget_timeline_mismatch"],
        ),
        # A tie (budget 40% for tier 2; assets and type 40% for tier 1) goes to the higher tier.
        ({"budget": 9000, "timeline_weeks": 15, "project_type": "simple_renovation"}, 2, "low", []),
    ],
)
def test_worked_examples(fields: dict[str, Any], tier: int, confidence: str, flags: list[str]) -> None:
    rec = route(_lead(**fields))
    assert (rec.tier, rec.confidence.value, [f.value for f in rec.red_flags]) == (tier, confidence, flags)


def test_no_assets_with_a_fast_timeline_is_flagged_and_explained() -> None:
    rec = route(
        _lead(budget=9000, timeline_weeks=2, project_type="standard_renovation", has_survey=False, has_drawings=False)
    )
    assert rec.tier == 3
    assert RedFlag.no_assets_fast_timeline in rec.red_flags
    assert rec.reason == (
        f"We recommend {TIERS[3].name} because work without a survey or drawings starts with measuring what is there."
    )
    assert rec.rules_applied == ("no_assets",)


def test_confidence_is_the_share_of_weight_that_agrees() -> None:
    # budget (40%) and timeline (20%) say tier 2; assets (25%) say 1; type (15%) says 2 -> 75% agree.
    rec = route(_lead(budget=12000, timeline_weeks=8, project_type="standard_renovation"))
    assert rec.tier == 2
    assert rec.confidence is Confidence.high
    assert {f.name: f.suggested_tier for f in rec.factors} == {
        "budget": 2,
        "assets": 1,
        "timeline": 2,
        "project_type": 2,
    }
