"""What the CLI prints must never carry a secret."""

from __future__ import annotations

from atelier_local.cli import redacted as _redacted


def test_a_database_password_is_masked_when_printed() -> None:
    shown = _redacted("postgresql://atelier:hunter2@db.example:6543/postgres")
    assert "hunter2" not in shown
    assert "password=***" in shown
    assert "host=db.example" in shown


def test_a_dsn_without_a_password_is_printed_as_it_is() -> None:
    assert _redacted("postgresql://postgres:@/postgres?host=/tmp/pg") == "user=postgres dbname=postgres host=/tmp/pg"


def test_an_unparsable_dsn_is_not_printed() -> None:
    assert _redacted("not a dsn = = =") == "(DATABASE_URL)"
