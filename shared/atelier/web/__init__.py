"""Owns the HTTP edge's one table from error type to status, the refusal JSON, CORS, and the page frame.
May import: kernel."""
