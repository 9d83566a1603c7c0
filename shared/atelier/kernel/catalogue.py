"""The studio's catalogue as the code reads it: the tiers (names, budget bands, prices, routing) and the milestones
each tier's projects start with. Postgres holds it (`tiers`, `milestone_templates`; the seed writes the defaults),
the team changes it in Notion's Services database (`atelier.sync.sources`), and one `catalogue` rpc reads it;
nothing in the code names a tier."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from atelier.kernel.errors import ConfigurationError

if TYPE_CHECKING:
    from atelier.kernel.rpc import Rpc

FRESH_SECONDS = 3.0  # a change to the catalogue (the team's, in Notion) reaches every warm function within seconds


@dataclass(frozen=True)
class Tier:
    id: int
    name: str
    min_dollars: int
    max_dollars: int | None  # None: no upper bound
    routing: str  # auto: may pay at once; conditional: only when confident and clean; manual: always reviewed
    price_cents: int
    currency: str = "usd"
    description: str = ""
    features: tuple[str, ...] = ()
    active: bool = True  # off: the studio does not sell it at once (its leads are reviewed)
    # The payment schedule: the share paid at booking, and (milestone, share) for each milestone that carries one.
    deposit_percent: Decimal = Decimal(100)
    instalments: tuple[tuple[str, Decimal], ...] = field(default=())

    def due_at_booking(self, total: int) -> int:
        """What booking takes of `total` (cents): what the milestones' shares leave, each rounded to the cent, as
        the database reckons it (`app_private.due_at_booking`)."""
        return total - sum(share_of(total, percent) for _, percent in self.instalments)

    def schedule(self, total: int) -> list[tuple[str, Decimal, int]]:
        """(when, share, amount) for each part of `total`: booking first, then the milestones, in order."""
        parts = [(milestone, percent, share_of(total, percent)) for milestone, percent in self.instalments]
        return [("At booking", self.deposit_percent, self.due_at_booking(total)), *parts]


def share_of(total: int, percent: Decimal) -> int:
    return int((Decimal(total) * percent / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class Catalogue:
    tiers: Mapping[int, Tier]
    milestones: Mapping[int, tuple[str, ...]]  # tier -> milestone names, in order

    @classmethod
    def from_rpc(cls, data: Mapping[str, Any]) -> Catalogue:
        tiers = {
            int(t["id"]): Tier(
                int(t["id"]),
                str(t["name"]),
                int(t["min_budget_cents"]) // 100,
                None if t.get("max_budget_cents") is None else int(t["max_budget_cents"]) // 100,
                str(t["routing"]),
                int(t["price_cents"]),
                str(t.get("currency") or "usd"),
                str(t.get("description") or ""),
                tuple(str(f) for f in t.get("features") or []),
                bool(t.get("active", True)),
                Decimal(str(t.get("deposit_percent") or 100)),
                tuple(
                    (str(m["name"]), Decimal(str(m["percent"])))
                    for m in (data.get("milestone_days") or {}).get(str(t["id"])) or []
                    if m.get("percent") is not None
                ),
            )
            for t in data.get("tiers") or []
        }
        if not tiers:
            raise ConfigurationError("the catalogue has no tiers: run `atelier db migrate`, which writes the seed")
        milestones = {int(k): tuple(str(n) for n in v) for k, v in (data.get("milestones") or {}).items()}
        return cls(dict(sorted(tiers.items())), milestones)

    def names(self) -> tuple[str, ...]:
        """The tier names, in tier order (the options of a Notion "Tier" select)."""
        return tuple(t.name for t in self.tiers.values())

    @property
    def top(self) -> Tier:
        return self.tiers[max(self.tiers)]

    @property
    def min_dollars(self) -> int:
        return min(t.min_dollars for t in self.tiers.values())


class CatalogueReader:
    """The catalogue through one `rpc`, read again when it is older than `fresh_seconds` (thread-safe)."""

    def __init__(self, rpc: Rpc, *, fresh_seconds: float = FRESH_SECONDS) -> None:
        self._rpc, self._fresh = rpc, fresh_seconds
        self._lock = threading.Lock()
        self._read: tuple[float, Catalogue] | None = None

    def __call__(self) -> Catalogue:
        with self._lock:
            if self._read is None or time.monotonic() - self._read[0] > self._fresh:
                self._read = (time.monotonic(), Catalogue.from_rpc(self._rpc.rpc("catalogue") or {}))
            return self._read[1]
