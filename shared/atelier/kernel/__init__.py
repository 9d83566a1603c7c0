"""Owns the studio's own errors, settings, signing, telemetry, deadlines, body parsing, figures, PDFs, the rpc port.
May import: nothing else in atelier: every other package builds on this one."""
