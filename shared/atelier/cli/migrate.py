"""Applies the schema: the local Supabase bootstrap (plain Postgres only), the migrations, then the seed.

Applied migrations are recorded in `supabase_migrations.schema_migrations`, the table the Supabase CLI
keeps, so `atelier db migrate` and `supabase db push` agree on what has run.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from atelier.kernel.errors import ConfigurationError, DatabaseError

_REPO_ROOT = Path(__file__).resolve().parents[3]
# Any constant will do; it keeps two migrators from interleaving.
_MIGRATION_LOCK_KEY = 0x0A7E11E5


@dataclass(frozen=True)
class SchemaFiles:
    """Where the SQL lives: the Supabase CLI layout under infra/supabase, plus the local bootstrap."""

    supabase_dir: Path
    bootstrap: Path

    @classmethod
    def default(cls) -> SchemaFiles:
        root = Path(os.environ.get("ATELIER_ROOT", _REPO_ROOT))
        files = cls(root / "infra" / "supabase", root / "infra" / "local" / "supabase_bootstrap.sql")
        if not files.migrations_dir.is_dir():
            raise ConfigurationError(
                f"no migrations at {files.migrations_dir}: run from the repository or set ATELIER_ROOT"
            )
        return files

    @property
    def migrations_dir(self) -> Path:
        return self.supabase_dir / "migrations"

    @property
    def seed(self) -> Path:
        return self.supabase_dir / "seed.sql"

    def migrations(self) -> list[Path]:
        return sorted(self.migrations_dir.glob("*.sql"))


@dataclass
class MigrationReport:
    bootstrapped: bool = False
    applied: list[str] = field(default_factory=list)
    already_applied: int = 0
    seeded: bool = False

    def summary(self) -> str:
        if self.applied:
            return f"migrate: applied {len(self.applied)} migration(s); seed is current"
        return f"migrate: up to date ({self.already_applied} migration(s) already applied); seed is current"


def migrate(
    dsn: str, files: SchemaFiles | None = None, *, say: Callable[[str], None] = lambda _: None
) -> MigrationReport:
    """Bring the database at `dsn` up to date. Running it again changes nothing."""
    files = files or SchemaFiles.default()
    report = MigrationReport()
    try:
        with psycopg.connect(dsn, autocommit=True, prepare_threshold=None) as conn:
            conn.execute("select pg_advisory_lock(%s)", (_MIGRATION_LOCK_KEY,))
            if not _has_schema(conn, "auth"):
                say(f"bootstrap: recreating Supabase roles and auth.uid() from {files.bootstrap.name}")
                with conn.transaction():
                    conn.execute(files.bootstrap.read_text().encode())
                report.bootstrapped = True
            conn.execute(
                "create schema if not exists supabase_migrations;"
                "create table if not exists supabase_migrations.schema_migrations"
                " (version text primary key, statements text[], name text)"
            )
            done = {row[0] for row in conn.execute("select version from supabase_migrations.schema_migrations")}
            for path in files.migrations():
                version, _, name = path.stem.partition("_")
                if version in done:
                    report.already_applied += 1
                    continue
                say(f"migrate: applying {path.name}")
                text = path.read_text()
                with conn.transaction():
                    conn.execute(text.encode())
                    conn.execute(
                        "insert into supabase_migrations.schema_migrations (version, statements, name)"
                        " values (%s, %s, %s)",
                        (version, [text], name),
                    )
                report.applied.append(path.name)
            if files.seed.exists():
                with conn.transaction():
                    conn.execute(files.seed.read_text().encode())
                report.seeded = True
            conn.execute("select pg_advisory_unlock(%s)", (_MIGRATION_LOCK_KEY,))
    except psycopg.OperationalError as exc:
        raise DatabaseError(f"cannot connect to the database to migrate: {exc}".splitlines()[0]) from exc
    except psycopg.Error as exc:
        raise DatabaseError(f"migration failed: {exc}", sqlstate=exc.sqlstate) from exc
    say(report.summary())
    return report


def _has_schema(conn: psycopg.Connection[tuple[object, ...]], name: str) -> bool:
    return conn.execute("select 1 from pg_namespace where nspname = %s", (name,)).fetchone() is not None
