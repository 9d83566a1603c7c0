"""The one way Atelier makes a Stripe client: the business's key, and an API address where one is given (the local
stand-in's). `stripe` is imported here, when a client is first made, so a function that never calls Stripe never
loads it."""

from __future__ import annotations

from typing import Any


def stripe_client(api_key: str, api_base: str | None = None, *, retries: int | None = 1) -> Any:
    """A `stripe.StripeClient`; `retries`: its network retries (None: the library's default)."""
    import stripe

    options: dict[str, Any] = {} if retries is None else {"max_network_retries": retries}
    if api_base:
        options["base_addresses"] = {"api": api_base}
    return stripe.StripeClient(api_key, **options)
