"""Owns the studio's e-mails: templates, rows in `notifications`, and the outbox that sends them through SES once.
May import: kernel."""
