"""The client's portal: sign-in by e-mail link, a session that is the client's own JWT, and reads that run under
the `authenticated` role with that JWT's claims, so that row-level security keeps one client from another."""
