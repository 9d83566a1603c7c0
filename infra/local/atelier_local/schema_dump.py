"""`make schema`: migrate a fresh database (on `DATABASE_URL`, or on an embedded server of its own) and write what
every migration leaves to `infra/supabase/schema.sql` (`atelier.cli.schema`). `--check` writes nothing and exits 1
when the file is not current."""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from atelier.cli.migrate import SchemaFiles, migrate
from atelier.cli.schema import dump
from atelier_local.postgres import EmbeddedPostgres

TARGET = SchemaFiles.default().supabase_dir / "schema.sql"


def dump_database(conn: psycopg.Connection[Any]) -> str:
    """The schema of the database `conn` is connected to."""
    return dump(lambda statement, *params: conn.execute(statement.encode(), params or None).fetchall())


def current_schema(admin_dsn: str) -> str:
    """The dump of a database made just now from the migrations alone (the seed's rows are not schema)."""
    name = f"atelier_schema_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    try:
        dsn = make_conninfo(admin_dsn, dbname=name)
        migrate(dsn)
        with psycopg.connect(dsn) as conn:
            return dump_database(conn)
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


def sections(text: str) -> list[tuple[str, int]]:
    """(title, how many statements) for each section of a dump, from its headings."""
    return [(m[1], int(m[2])) for m in re.finditer(r"^-- =+ (.+) \((\d+)\) =+$", text, re.MULTILINE)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make schema", description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if infra/supabase/schema.sql is not current")
    parser.add_argument("--database-url", help="a server that allows CREATE DATABASE (default: an embedded one)")
    args = parser.parse_args(argv)
    if args.database_url:
        text = current_schema(args.database_url)
    else:
        with tempfile.TemporaryDirectory(prefix="atelier-schema-") as tmp, EmbeddedPostgres(Path(tmp) / "data") as pg:
            text = current_schema(pg.dsn())
    summary = ", ".join(f"{n} {what}" for what, n in sections(text))
    if args.check:
        current = TARGET.exists() and TARGET.read_text() == text
        shown = TARGET.relative_to(TARGET.parents[2])
        print(f"schema: {shown} is {'current' if current else 'NOT current: run `make schema`'} ({summary})")
        return 0 if current else 1
    TARGET.write_text(text)
    print(f"schema: wrote {TARGET.relative_to(TARGET.parents[2])} ({summary})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
