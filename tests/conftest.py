"""What every tier shares: the environment put back after each test. The database and the Notion emulator are the
integration tier's (`tests/integration/conftest.py`), so that the unit and functional tiers start in seconds."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from atelier import wiring


@pytest.fixture(autouse=True)
def _environment_restored() -> Iterator[None]:
    """What a test and its fixtures do to os.environ is undone after all of them, whatever their order
    (monkeypatch undone after the stack has restored the environment would otherwise leak a DSN)."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)
    wiring.reset()  # adapters built from this test's settings go with them
