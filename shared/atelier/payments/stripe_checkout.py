"""Stripe Checkout for auto-routed leads: one session per lead, created idempotently.

`stripe` is imported only here, and only when a session is created, to keep the intake cold start small.
"""

from __future__ import annotations

from typing import Any

from atelier.intake.checkout import CheckoutGateway, CheckoutLink, CheckoutUnavailable, NoCheckout, TierPrice
from atelier.kernel.rpc import Rpc
from atelier.kernel.settings import IntakeSettings, secret
from atelier.payments.quotes import NoQuoteCheckout, QuoteCheckout, QuoteDesk, QuoteOffer
from atelier.payments.stripe_api import stripe_client


class StripeCheckout:
    def __init__(self, api_key: str, *, success_url: str, cancel_url: str, api_base: str | None = None) -> None:
        self._api_key = api_key
        self._api_base = api_base
        self._success_url = success_url
        self._cancel_url = cancel_url
        self._client: Any = None

    def _stripe(self) -> Any:
        if self._client is None:
            self._client = stripe_client(self._api_key, self._api_base)
        return self._client

    def create_session(self, *, lead_id: str, email: str, price: TierPrice, site: str | None = None) -> CheckoutLink:

        success = self._success_url or (f"{site}/thanks?session_id={{CHECKOUT_SESSION_ID}}" if site else "")
        cancel = self._cancel_url or (f"{site}/cancelled" if site else "")
        if not success or not cancel:
            raise CheckoutUnavailable(
                "no page to return to after Checkout: set CHECKOUT_SUCCESS_URL and "
                "CHECKOUT_CANCEL_URL, or post the form through the API"
            )
        line_item: dict[str, Any] = (
            {"price": price.stripe_price_id, "quantity": 1}
            if price.stripe_price_id
            else {
                "price_data": {
                    "currency": price.currency,
                    "unit_amount": price.price_cents,
                    "product_data": {"name": price.name},
                },
                "quantity": 1,
            }
        )
        metadata = {"lead_id": lead_id, "tier": str(price.tier)}
        params: dict[str, Any] = {
            "mode": "payment",
            "line_items": [line_item],
            "customer_email": email,
            "client_reference_id": lead_id,
            "metadata": metadata,
            "payment_intent_data": {"metadata": metadata},
            "success_url": success,
            "cancel_url": cancel,
        }
        return self._open(params, f"atelier-checkout-{lead_id}")

    def _open(self, params: dict[str, Any], idempotency_key: str) -> CheckoutLink:
        """One Checkout session, once per key however often it is asked for; CheckoutUnavailable when Stripe
        refuses or fails."""
        import stripe

        try:
            session = self._stripe().v1.checkout.sessions.create(
                params=params, options={"idempotency_key": idempotency_key}
            )
        except stripe.StripeError as exc:
            raise CheckoutUnavailable(f"Stripe refused or failed the checkout: {type(exc).__name__}") from exc
        if not session.url:
            raise CheckoutUnavailable("Stripe returned a session without a URL")
        return CheckoutLink(session_id=str(session.id), url=str(session.url))

    def open_quote(self, offer: QuoteOffer, *, site: str, expires_at: int) -> CheckoutLink:
        """A session for a quote: its amount (`price_data`), its metadata, and back to the quote's page if the
        client cancels. One per quote and renewal, whoever asks and however often (the idempotency key)."""

        success = self._success_url or f"{site}/thanks?session_id={{CHECKOUT_SESSION_ID}}"
        metadata = {"lead_id": offer.lead_id, "tier": str(offer.tier), "quote_id": offer.quote_id}
        params: dict[str, Any] = {
            "mode": "payment",
            "line_items": [
                {
                    "price_data": {
                        "currency": offer.currency,
                        "unit_amount": offer.charged,
                        "product_data": {
                            "name": f"{offer.tier_name} (quote)"
                            if offer.due_now is None
                            else f"{offer.tier_name} (quote): deposit"
                        },
                    },
                    "quantity": 1,
                }
            ],
            "customer_email": offer.email,
            "client_reference_id": offer.lead_id,
            "metadata": metadata,
            "payment_intent_data": {"metadata": metadata},
            "success_url": success,
            "cancel_url": f"{site}/quote/{offer.token}",
            "expires_at": expires_at,
        }
        return self._open(params, f"atelier-quote-{offer.quote_id}-{offer.renewal}")

    def expire(self, session_id: str) -> bool:
        """Expire an open session. One Stripe will not expire (paid, or expired already) can no longer be paid
        through this link either: done, as far as the quote is concerned."""
        import stripe

        try:
            self._stripe().v1.checkout.sessions.expire(session_id)
        except stripe.InvalidRequestError:
            return True
        except stripe.StripeError as exc:
            raise CheckoutUnavailable(f"Stripe could not expire the session: {type(exc).__name__}") from exc
        return True


def checkout_from_settings(settings: IntakeSettings) -> CheckoutGateway:
    if not settings.stripe_configured:
        return NoCheckout()
    key = secret(settings.stripe_secret_key, settings.stripe_secret_key_secret, "STRIPE_SECRET_KEY")
    return StripeCheckout(
        key,
        success_url=settings.checkout_success_url,
        cancel_url=settings.checkout_cancel_url,
        api_base=settings.stripe_api_base,
    )


def quote_desk_from_settings(rpc: Rpc, settings: IntakeSettings, *, site: str) -> QuoteDesk:
    """Quotes' sessions through the same Stripe account as the intake's (the business's own, when it has one)."""
    checkout = checkout_from_settings(settings)
    sessions: QuoteCheckout = checkout if isinstance(checkout, StripeCheckout) else NoQuoteCheckout()
    return QuoteDesk(rpc, sessions, site=site, link_hours=settings.atelier_quote_link_hours)
