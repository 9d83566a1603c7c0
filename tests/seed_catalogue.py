"""The catalogue as the seed writes it, read from `infra/supabase/seed.sql`: the tests' copy of the studio's tiers
and milestones without a database, so that the seed stays the one place a tier is named."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

from atelier.kernel.catalogue import Catalogue

SEED = Path(__file__).resolve().parents[1] / "infra" / "supabase" / "seed.sql"
_TIER = re.compile(r"\((\d),\s*'([^']+)',\s*'(?:[^']|'')*',\s*(\d+),\s*(\d+|null),\s*'(\w+)',\s*(\d+)")
_MILESTONE = re.compile(r"\((\d),\s*(\d+),\s*'((?:[^']|'')+)',\s*\d+\)")


@cache
def seed_rows() -> dict[str, Any]:
    """What the `catalogue` rpc answers on a seeded database."""
    text = SEED.read_text()
    tiers = [
        {
            "id": int(i),
            "name": name,
            "min_budget_cents": int(low),
            "routing": routing,
            "price_cents": int(price),
            "max_budget_cents": None if high == "null" else int(high),
        }
        for i, name, low, high, routing, price in _TIER.findall(text)
    ]
    milestones: dict[str, list[str]] = {}
    for tier, _, name in sorted(_MILESTONE.findall(text), key=lambda m: (int(m[0]), int(m[1]))):
        milestones.setdefault(tier, []).append(name.replace("''", "'"))
    assert len(tiers) == 4, f"the seed's tiers could not be read from {SEED}"
    return {"tiers": tiers, "milestones": milestones}


def seed_catalogue() -> Catalogue:
    return Catalogue.from_rpc(seed_rows())


TIER_NAME = {tier.id: tier.name for tier in seed_catalogue().tiers.values()}
"""Each tier's name by its id, as the seed writes it: what the tests expect a page or a payload to show."""
