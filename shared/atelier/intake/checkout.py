"""Checkout for auto-routed leads, as the intake sees it: the port, its answers, and the stand-in for when Stripe is
not configured. Stripe's own adapter is `atelier.payments.stripe_checkout`, so that nothing here reaches the `stripe`
library (the sync adopts hand-made leads through the intake, in functions that do not ship it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from atelier.kernel.errors import AtelierError


class CheckoutUnavailable(AtelierError):
    """Stripe is not configured, refused the request or could not be reached. The lead is kept regardless."""


@dataclass(frozen=True)
class TierPrice:
    tier: int
    name: str
    price_cents: int
    currency: str
    stripe_price_id: str | None


@dataclass(frozen=True)
class CheckoutLink:
    session_id: str
    url: str


class CheckoutGateway(Protocol):
    def create_session(self, *, lead_id: str, email: str, price: TierPrice, site: str | None = None) -> CheckoutLink:
        """`site`: the API's public address, for the default /thanks and /cancelled pages."""
        ...


class NoCheckout:
    """What runs when Stripe is not configured: every lead hears that a payment link will follow."""

    def create_session(self, *, lead_id: str, email: str, price: TierPrice, site: str | None = None) -> CheckoutLink:
        raise CheckoutUnavailable("Stripe is not configured (STRIPE_SECRET_KEY is unset)")
