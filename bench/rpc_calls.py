"""Counting Postgres round trips: every business call goes through `PsycopgRpc.rpc`, one statement each."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from atelier.kernel.rpc import PsycopgRpc


@dataclass
class Count:
    calls: int = 0
    by_function: Counter[str] = field(default_factory=Counter)


@contextmanager
def counted_rpc_calls() -> Iterator[Count]:
    """Counts the rpc calls made in this process inside the block (the functions run in it locally)."""
    count = Count()
    original = PsycopgRpc.rpc

    def counted(self: PsycopgRpc, function: str, /, **args: Any) -> Any:
        count.calls += 1
        count.by_function[function] += 1
        return original(self, function, **args)

    PsycopgRpc.rpc = counted  # type: ignore[method-assign]
    try:
        yield count
    finally:
        PsycopgRpc.rpc = original  # type: ignore[method-assign]
