"""Owns the client's portal: e-mail sign-in, sessions as rows, reads under the client's own RLS, its pages.
May import: kernel."""
