"""`atelier demo`: the whole lifecycle on the local stack, and what it reports when a step does not hold."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from atelier_local import demo


def test_every_step_of_the_lifecycle_holds(database_url: str, tmp_path: Path) -> None:
    steps = demo.run(database_url, tmp_path, say=lambda _: None)

    lifecycle = [
        "intake form -> lead",
        "Stripe payment -> project",
        "Supabase doorbell -> Notion",
        "deliverable upload -> showcase",
        "team edit in Notion -> Postgres (webhook)",
        "review: quote in Notion -> e-mail -> paid",
        "atelier check",
        "client portal",
        "conversation: message, reply, approval",
        "catalogue, tasks and brief in Notion",
        "owner's report",
    ]
    # The lifecycle for the default business, then for a second one on the same stack, under /b/kaa/
    expected = [(name, True) for name in lifecycle] + [(f"{name} (KAA Studio)", True) for name in lifecycle]
    assert [(s.name, s.held) for s in steps] == expected, demo.table(steps)
    assert "/portal?token=" in demo.PORTAL_LINK["link"]
    assert "/b/kaa/" not in demo.PORTAL_LINK["link"]  # the default business's, printed at the end
    assert "tier 4 lead quoted $60,000 in Notion" in steps[5].result
    by_name = {s.name: s.result for s in steps}
    checks = (by_name["atelier check"], by_name["atelier check (KAA Studio)"])  # each business's own
    assert all(re.search(r"no drift across \d+ linked records", check) for check in checks), checks
    catalogue = by_name["catalogue, tasks and brief in Notion"]
    assert "tier 1 at 2,600 in Notion -> the form in" in catalogue
    assert "task 'Contact the client: " in catalogue
    assert "brief on the project page -> portal" in catalogue
    assert "team reply -> portal" in steps[8].result
    assert "in progress" in steps[8].result
    assert "/reports?key=" in demo.REPORT["link"]
    assert "Net revenue (USD) 67,500.00 USD" in demo.REPORT["figures"]  # the intake's payment and the quote's


def test_a_step_that_does_not_hold_stops_the_demo_and_says_why(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unpaid(self: demo.Demo) -> str:
        raise demo.StepFailed("no project was created for the lead")

    monkeypatch.setattr(demo.Demo, "payment", unpaid)
    steps = demo.run(database_url, tmp_path, say=lambda _: None)

    assert [s.held for s in steps] == [True] + [False] * 21
    table = demo.table(steps)
    assert re.search(r"Stripe payment -> project +NO", table)
    assert "no project was created for the lead" in table
    assert table.count("not run: an earlier step failed") == 20
