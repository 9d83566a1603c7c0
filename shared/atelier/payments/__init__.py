"""Owns Stripe: signatures, what an event means, fulfilment through rpc, Checkout sessions, the return pages.
May import: kernel, intake (the checkout port it fills), mail (the receipt e-mail encloses its receipt)."""
