"""`atelier demo`: the whole lifecycle on the local stack, and what it reports when a step does not hold."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from atelier_local import demo


def test_every_step_of_the_lifecycle_holds(database_url: str, tmp_path: Path) -> None:
    steps = demo.run(database_url, tmp_path, say=lambda _: None)

    assert [(s.name, s.held) for s in steps] == [
        ("intake form -> lead", True),
        ("Stripe payment -> project", True),
        ("Supabase doorbell -> Notion", True),
        ("deliverable upload -> showcase", True),
        ("team edit in Notion -> Postgres (webhook)", True),
        ("atelier check", True),
        ("client portal", True),
        ("owner's report", True),
    ], demo.table(steps)
    assert "/portal?token=" in demo.PORTAL_LINK["link"]
    assert "no drift across 9 linked records" in steps[-3].result
    assert "/reports?key=" in demo.REPORT["link"]
    assert "Net revenue (USD) 7,500.00 USD" in demo.REPORT["figures"]  # the demo's one payment


def test_a_step_that_does_not_hold_stops_the_demo_and_says_why(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unpaid(self: demo.Demo) -> str:
        raise demo.StepFailed("no project was created for the lead")

    monkeypatch.setattr(demo.Demo, "payment", unpaid)
    steps = demo.run(database_url, tmp_path, say=lambda _: None)

    assert [s.held for s in steps] == [True, False, False, False, False, False, False, False]
    table = demo.table(steps)
    assert re.search(r"Stripe payment -> project +NO", table)
    assert "no project was created for the lead" in table
    assert table.count("not run: an earlier step failed") == 6
