"""The studio's e-mails to its clients: templates in the repo, rows in `notifications`, sent through SES by an
outbox, once per event. See `render` (templates), `outbox` (sending) and `ses` (the port and its adapter)."""
