"""Tier routing: which service tier a lead fits, why, how sure we are, and what needs a human look.

Each factor (budget, assets, timeline, project type) backs one tier with its weight; the tier with the most
weight wins, then the hard rules raise it to their floor. Confidence is the share of weight behind the result.

Pure and deterministic. The tiers (names, budget bands, routing) are the catalogue's, which Postgres holds; the
weights and rules are the tables below (DESIGN.md's facts); `route` only applies them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from atelier.intake.models import LeadAnswers, ProjectType
from atelier.kernel.catalogue import Catalogue

# How much each factor counts (DESIGN.md): budget 40%, assets 25%, timeline 20%, project type 15%.
WEIGHTS: dict[str, float] = {"budget": 0.40, "assets": 0.25, "timeline": 0.20, "project_type": 0.15}

# The tier each project type suggests.
PROJECT_TYPE_TIER: dict[ProjectType, int] = {
    ProjectType.simple_renovation: 1,
    ProjectType.standard_renovation: 2,
    ProjectType.small_addition: 2,
    ProjectType.standard_addition: 3,
    ProjectType.major_renovation: 3,
    ProjectType.new_build: 3,
    ProjectType.complex_project: 4,
    ProjectType.multiple_properties: 4,
}
# Work that needs a survey, structure or permits at scale.
COMPLEX_WORK = frozenset(
    {ProjectType.major_renovation, ProjectType.new_build, ProjectType.complex_project, ProjectType.multiple_properties}
)

# Timeline in weeks -> tier: (longest timeline, tier), first match wins.
TIMELINE_TIER: tuple[tuple[float, int], ...] = ((4, 1), (10, 2), (20, 3), (float("inf"), 4))

# Survey and drawings in hand -> tier: both, one, none.
ASSETS_TIER: dict[int, int] = {2: 1, 1: 2, 0: 3}

FAST_TIMELINE_WEEKS = 4
UNREALISTIC_WEEKS_FOR_COMPLEX = 2
COMPLEX_TIER = 3  # where new builds and complex work begin: their budget is low below this tier's band


class RedFlag(StrEnum):
    budget_unclear = "budget_unclear"
    timeline_unrealistic = "timeline_unrealistic"
    budget_timeline_mismatch = "budget_timeline_mismatch"
    no_assets_fast_timeline = "no_assets_fast_timeline"
    complex_low_budget = "complex_low_budget"
    multiple_properties = "multiple_properties"
    project_type_unclear = "project_type_unclear"  # a lead typed into Notion without one: the team asks


class Confidence(StrEnum):
    high = "high"
    medium = "medium"
    low = "low"


@dataclass(frozen=True)
class Factor:
    name: str
    weight: float
    suggested_tier: int | None  # None: the lead gave us nothing to go on
    evidence: str


@dataclass(frozen=True)
class TierRecommendation:
    tier: int
    tier_name: str
    reason: str
    confidence: Confidence
    needs_review: bool
    auto_route: bool
    factors: tuple[Factor, ...]
    red_flags: tuple[RedFlag, ...]
    alternative_tiers: tuple[int, ...]
    rules_applied: tuple[str, ...] = field(default=())


def _budget_tier(dollars: int, catalogue: Catalogue) -> int:
    for tier in sorted(catalogue.tiers.values(), key=lambda t: t.min_dollars, reverse=True):
        if dollars >= tier.min_dollars:
            return tier.id
    return min(catalogue.tiers)


def _timeline_tier(weeks: int) -> int:
    return next(tier for limit, tier in TIMELINE_TIER if weeks <= limit)


def _factors(lead: LeadAnswers, catalogue: Catalogue) -> tuple[Factor, ...]:
    budget = lead.budget.typical_dollars
    assets = int(lead.has_survey) + int(lead.has_drawings)
    return (
        Factor(
            "budget",
            WEIGHTS["budget"],
            None if budget is None else _budget_tier(budget, catalogue),
            "no budget given" if budget is None else f"a budget of about ${budget:,}",
        ),
        Factor(
            "assets",
            WEIGHTS["assets"],
            ASSETS_TIER[assets],
            {
                2: "the survey and drawings you already have",
                1: "the survey you already have" if lead.has_survey else "the drawings you already have",
                0: "a project that starts without a survey or drawings",
            }[assets],
        ),
        Factor(
            "timeline",
            WEIGHTS["timeline"],
            None if lead.timeline_weeks is None else _timeline_tier(lead.timeline_weeks),
            "no timeline given" if lead.timeline_weeks is None else f"a timeline of {lead.timeline_weeks} weeks",
        ),
        Factor(
            "project_type",
            WEIGHTS["project_type"],
            None if lead.project_type is None else PROJECT_TYPE_TIER[lead.project_type],
            "no project type given" if lead.project_type is None else f"a {lead.project_type.value.replace('_', ' ')}",
        ),
    )


@dataclass(frozen=True)
class HardRule:
    name: str
    applies: Callable[[LeadAnswers, Catalogue], bool]
    min_tier: int
    because: Callable[[Catalogue], str]  # finishes "we recommend <tier> because ..."


HARD_RULES: tuple[HardRule, ...] = (
    HardRule(
        "no_assets",
        lambda lead, _: not lead.has_assets,
        3,
        lambda _: "work without a survey or drawings starts with measuring what is there",
    ),
    HardRule(
        "new_build_or_complex",
        lambda lead, _: lead.project_type in (ProjectType.new_build, ProjectType.complex_project),
        COMPLEX_TIER,
        lambda _: "a new build or complex project needs full design and permitting support",
    ),
    HardRule(
        "multiple_properties",
        lambda lead, _: lead.project_type is ProjectType.multiple_properties,
        4,
        lambda _: "work across several properties is led by the studio's principals",
    ),
    HardRule(
        "large_budget",
        lambda lead, catalogue: (lead.budget.typical_dollars or 0) >= catalogue.top.min_dollars,
        4,
        lambda catalogue: f"a budget of ${catalogue.top.min_dollars:,} or more calls for our white-glove service",
    ),
)


def _mismatch(lead: LeadAnswers, catalogue: Catalogue) -> bool:
    budget, weeks = lead.budget.typical_dollars, lead.timeline_weeks
    if budget is None or weeks is None:
        return False
    return abs(_budget_tier(budget, catalogue) - _timeline_tier(weeks)) >= 2


RED_FLAG_RULES: tuple[tuple[RedFlag, Callable[[LeadAnswers, Catalogue], bool]], ...] = (
    (RedFlag.budget_unclear, lambda lead, catalogue: (lead.budget.typical_dollars or 0) < catalogue.min_dollars),
    (
        RedFlag.timeline_unrealistic,
        lambda lead, _: (
            lead.project_type in COMPLEX_WORK and (lead.timeline_weeks or 99) < UNREALISTIC_WEEKS_FOR_COMPLEX
        ),
    ),
    (RedFlag.budget_timeline_mismatch, _mismatch),
    (
        RedFlag.no_assets_fast_timeline,
        lambda lead, _: not lead.has_assets and (lead.timeline_weeks or 99) < FAST_TIMELINE_WEEKS,
    ),
    (
        RedFlag.complex_low_budget,
        lambda lead, catalogue: (
            lead.project_type in COMPLEX_WORK
            and lead.budget.typical_dollars is not None
            and lead.budget.typical_dollars < catalogue.tiers[min(COMPLEX_TIER, max(catalogue.tiers))].min_dollars
        ),
    ),
    (RedFlag.multiple_properties, lambda lead, _: lead.project_type is ProjectType.multiple_properties),
    (RedFlag.project_type_unclear, lambda lead, _: lead.project_type is None),
)

# Share of the weight that agrees with the chosen tier -> confidence: (at least, level), first match wins.
CONFIDENCE_LEVELS: tuple[tuple[float, Confidence], ...] = (
    (0.75, Confidence.high),
    (0.50, Confidence.medium),
    (0.0, Confidence.low),
)


def route(lead: LeadAnswers, catalogue: Catalogue) -> TierRecommendation:
    """Recommend one of the catalogue's tiers for a lead, with a reason the client can read. A tier's routing says
    whether the lead may pay at once: `auto` when nothing is in doubt, `conditional` only when confidence is high
    and nothing is flagged, `manual` never (the studio chooses the client)."""
    factors = _factors(lead, catalogue)
    tiers = catalogue.tiers
    known = [f for f in factors if f.suggested_tier is not None]
    # A weighted vote: each factor backs one tier with its weight; a tie goes to the higher tier.
    votes = {t: sum(f.weight for f in known if f.suggested_tier == t) for t in tiers}
    scored_tier = max(tiers, key=lambda t: (round(votes[t], 9), t))

    applicable = [rule for rule in HARD_RULES if rule.applies(lead, catalogue)]
    floor = max((rule.min_tier for rule in applicable), default=1)
    tier = max(scored_tier, min(floor, max(tiers)))
    rules = [rule for rule in applicable if rule.min_tier > scored_tier]
    deciding = max(rules, key=lambda r: r.min_tier) if rules else None

    # An unknown factor (no budget, no timeline) agrees with nothing, so it lowers confidence.
    agreeing = votes[tier] / sum(WEIGHTS.values())
    confidence = next(level for floor, level in CONFIDENCE_LEVELS if agreeing >= floor - 1e-9)
    red_flags = tuple(flag for flag, applies in RED_FLAG_RULES if applies(lead, catalogue))
    routing = tiers[tier].routing
    clean = not red_flags and confidence is not Confidence.low
    # A service the studio has switched off in Notion is not sold at once: the team talks it through.
    offered = tiers[tier].active
    auto_route = (
        offered and clean and (routing == "auto" or (routing == "conditional" and confidence is Confidence.high))
    )
    needs_review = not auto_route

    # Other tiers some factor pointed at, but never one the hard rules rule out.
    alternatives = tuple(
        sorted(t for t in {f.suggested_tier for f in known if f.suggested_tier} if t >= floor and t != tier)
    )
    return TierRecommendation(
        tier=tier,
        tier_name=tiers[tier].name,
        reason=_reason(tier, factors, deciding, catalogue),
        confidence=confidence,
        needs_review=needs_review,
        auto_route=auto_route,
        factors=factors,
        red_flags=red_flags,
        alternative_tiers=alternatives,
        rules_applied=tuple(rule.name for rule in rules),
    )


def _reason(tier: int, factors: tuple[Factor, ...], deciding: HardRule | None, catalogue: Catalogue) -> str:
    name = catalogue.tiers[tier].name
    if deciding is not None:
        return f"We recommend {name} because {deciding.because(catalogue)}."
    support = [f.evidence for f in sorted(factors, key=lambda f: -f.weight) if f.suggested_tier == tier][:2]
    if not support:
        return f"We recommend {name} as the best overall fit for what you described."
    return f"We recommend {name} for {' with '.join(support)}."
