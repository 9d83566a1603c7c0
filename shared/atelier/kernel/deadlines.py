"""How long a handler may work: what Lambda has left, less a margin to answer in, within the handler's own cap."""

from __future__ import annotations

from typing import Any

DEFAULT_SECONDS = 30.0  # when there is no Lambda context to ask (a direct call)


def seconds_left(context: Any, *, keep: float, most: float | None = None) -> float:
    """Seconds to spend: the time remaining less `keep`, at most `most`, and never less than one."""
    remaining = context.get_remaining_time_in_millis() / 1000 if context is not None else DEFAULT_SECONDS
    budget = remaining - keep if most is None else min(most, remaining - keep)
    return max(1.0, budget)
