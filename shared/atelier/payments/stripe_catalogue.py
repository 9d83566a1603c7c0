"""The catalogue in Stripe, when Stripe is real: each tier a Product (its name and description kept in step) and
its price a Price. Prices cannot change in Stripe, so a new price is a new Price, and the tier's Checkout uses it
from then on; payments already made are untouched. Without a real Stripe account (the local stand-in, or none),
Checkout sends the price with each session instead, which needs nothing kept in step."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from atelier.kernel.rpc import Rpc
from atelier.kernel.settings import IntakeSettings, secret
from atelier.payments.stripe_api import stripe_client

log = logging.getLogger(__name__)


class StripeCatalogue:
    """Keeps each tier's Stripe Product and Price in step with the catalogue (`SyncPorts.catalogue_changed`)."""

    def __init__(self, rpc: Rpc, client: Callable[[], Any]) -> None:
        self._rpc, self._client = rpc, client

    def __call__(self, tiers: list[int], deadline: float | None) -> int:
        """Bring the given tiers (and any without a Price) into step; returns how many Prices were made. A Stripe
        failure is logged and left: the next change tries again, and Checkout charges the right amount anyway."""
        made = 0
        for tier in (self._rpc.rpc("catalogue") or {}).get("tiers") or []:
            if int(tier["id"]) not in tiers and tier.get("stripe_price_id"):
                continue
            try:
                made += self._one(tier)
            except Exception as exc:
                log.warning(
                    "a tier's Stripe Price could not be kept in step", extra={"tier": tier["id"], "why": str(exc)}
                )
        return made

    def _one(self, tier: dict[str, Any]) -> int:
        stripe = self._client()
        about = {"name": str(tier["name"]), "description": str(tier.get("description") or "") or None}
        product = tier.get("stripe_product_id")
        if product:
            stripe.v1.products.update(product, {k: v for k, v in about.items() if v is not None})
        else:
            made = stripe.v1.products.create(
                {**{k: v for k, v in about.items() if v is not None}, "metadata": {"atelier_tier": str(tier["id"])}}
            )
            product = made.id
        if tier.get("stripe_price_id"):
            self._rpc.rpc(
                "set_tier_stripe",
                p_tier=tier["id"],
                p_product_id=product,
                p_price_id=tier["stripe_price_id"],
                p_price_cents=tier["price_cents"],
            )
            return 0
        price = stripe.v1.prices.create(
            {"product": product, "unit_amount": int(tier["price_cents"]), "currency": str(tier["currency"])}
        )
        self._rpc.rpc(
            "set_tier_stripe",
            p_tier=tier["id"],
            p_product_id=product,
            p_price_id=price.id,
            p_price_cents=tier["price_cents"],
        )
        return 1


def stripe_catalogue(rpc: Rpc, settings: IntakeSettings) -> StripeCatalogue | None:
    """The port when the business's Stripe is real (a key, and Stripe's own address); None otherwise."""
    if not settings.stripe_configured or settings.stripe_api_base:
        return None
    key = secret(settings.stripe_secret_key, settings.stripe_secret_key_secret, "STRIPE_SECRET_KEY")

    return StripeCatalogue(rpc, lambda: stripe_client(key))
