"""Owns a posted form becomes a stored, routed lead: models, routing, service, the checkout port, the page.
May import: kernel."""
