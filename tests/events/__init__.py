"""Real-shaped event JSON, loaded by one helper."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

EVENTS = Path(__file__).parent


def load_event(name: str) -> dict[str, Any]:
    data = json.loads((EVENTS / f"{name}.json").read_text())
    assert isinstance(data, dict)
    return data
