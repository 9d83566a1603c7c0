"""The migrator on a real server: bootstrap, migrations, seed, idempotency, rollbacks, and Postgres 15."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from atelier.cli.migrate import SchemaFiles, migrate
from tests.seed_catalogue import TIER_NAME

PG15_BIN = Path("/usr/lib/postgresql/15/bin")

PUBLIC_TABLES = {
    "businesses",
    "business_members",
    "tiers",
    "milestone_templates",
    "users",
    "clients",
    "leads",
    "projects",
    "milestones",
    "payments",
    "deliverables",
    "audit_log",
    "tasks",
    "payment_schedule",
    "disputes",
    "document_counters",
    "notion_source_pages",
    "mail_templates",
    "project_notes",
    "notion_file_drops",
    "inbound_events",
    "sync_outbox",
    "sync_state",
    "sync_lease",
    "notion_budget",
    "notion_properties",
    "notifications",
    "email_suppressions",
    "portal_sign_ins",
    "notion_comments",
    "project_history",
    "notion_webhook_arming",
    "rate_limit_hits",
    "portal_sessions",
    "report_links",
    "quotes",
    "messages",
    "approvals",
    "nps_answers",
}


def _public_tables(conn: psycopg.Connection[tuple[object, ...]]) -> dict[str, bool]:
    rows = conn.execute(
        "select c.relname, c.relrowsecurity from pg_class c join pg_namespace n on n.oid = c.relnamespace"
        " where n.nspname = 'public' and c.relkind = 'r'"
    ).fetchall()
    return {str(name): bool(rls) for name, rls in rows}


def _assert_fully_migrated(dsn: str) -> None:
    with psycopg.connect(dsn) as conn:
        tables = _public_tables(conn)
        assert set(tables) == PUBLIC_TABLES
        assert all(tables.values()), f"RLS is off on: {[t for t, on in tables.items() if not on]}"
        assert conn.execute("select count(*) from public.tiers").fetchone() == (4,)
        assert conn.execute("select auth.uid()").fetchone() == (None,)


def test_migrate_twice_leaves_rls_on_every_table_four_tiers_and_changes_nothing(
    empty_database_url: str,
) -> None:
    # Given an empty database, when it is migrated
    first = migrate(empty_database_url)
    # then the bootstrap ran, every migration applied, and the schema is whole
    assert first.bootstrapped
    assert first.applied == [p.name for p in SchemaFiles.default().migrations()]
    _assert_fully_migrated(empty_database_url)
    with psycopg.connect(empty_database_url) as conn:
        catalogue_before = conn.execute(
            "select xmin::text, id, name, price_cents from public.tiers"
            " union all select xmin::text, tier, name, due_offset_days from public.milestone_templates"
        ).fetchall()

    # When it is migrated again
    second = migrate(empty_database_url)

    # Then nothing is applied and not one catalogue row was rewritten (same xmin)
    assert not second.bootstrapped
    assert second.applied == []
    assert second.already_applied == len(first.applied)
    with psycopg.connect(empty_database_url) as conn:
        catalogue_after = conn.execute(
            "select xmin::text, id, name, price_cents from public.tiers"
            " union all select xmin::text, tier, name, due_offset_days from public.milestone_templates"
        ).fetchall()
    assert catalogue_after == catalogue_before


def test_every_table_has_one_policy_per_operation(db: psycopg.Connection[tuple[object, ...]]) -> None:
    rows = db.execute(
        "select tablename, cmd, count(*) from pg_policies where schemaname = 'public' group by 1, 2"
    ).fetchall()
    by_table: dict[str, dict[str, int]] = {}
    for table, cmd, count in rows:
        by_table.setdefault(str(table), {})[str(cmd)] = int(str(count))
    expected = {"SELECT": 1, "INSERT": 1, "UPDATE": 1, "DELETE": 1}
    assert by_table == dict.fromkeys(PUBLIC_TABLES, expected)


def test_every_foreign_key_has_an_index(db: psycopg.Connection[tuple[object, ...]]) -> None:
    unindexed = db.execute(
        """
        select c.conrelid::regclass::text, a.attname
        from pg_constraint c
        join pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[1]
        where c.contype = 'f' and c.connamespace = 'public'::regnamespace
          and not exists (
            select 1 from pg_index i where i.indrelid = c.conrelid and i.indkey[0] = c.conkey[1])
        """
    ).fetchall()
    assert unindexed == []


def test_updated_at_is_maintained_by_a_trigger(db: psycopg.Connection[tuple[object, ...]]) -> None:
    query = "select updated_at > created_at from public.tiers where id = 1"
    assert db.execute(query).fetchone() == (False,)
    db.execute("update public.tiers set description = 'changed' where id = 1")
    assert db.execute(query).fetchone() == (True,)


def test_each_tier_has_a_milestone_template_and_the_design_budget_bands(
    db: psycopg.Connection[tuple[object, ...]],
) -> None:
    tiers = db.execute(
        "select id, name, min_budget_cents, max_budget_cents, routing::text from public.tiers order by id"
    ).fetchall()
    assert tiers == [
        (1, TIER_NAME[1], 250000, 750000, "auto"),
        (2, TIER_NAME[2], 750000, 1500000, "auto"),
        (3, TIER_NAME[3], 1500000, 3500000, "conditional"),
        (4, TIER_NAME[4], 3500000, None, "manual"),
    ]
    counts = db.execute("select tier, count(*) from public.milestone_templates group by tier order by tier")
    assert [tier for tier, n in counts.fetchall() if int(str(n)) >= 3] == [1, 2, 3, 4]


def test_every_migration_has_a_rollback_that_undoes_it(empty_database_url: str) -> None:
    files = SchemaFiles.default()
    migrate(empty_database_url)
    downs = []
    for path in files.migrations():
        down = files.supabase_dir / "rollbacks" / f"{path.stem}.down.sql"
        assert down.exists(), f"{path.name} has no rollback at {down}"
        assert f"Rollback: infra/supabase/rollbacks/{down.name}" in path.read_text()
        downs.append(down)

    # When every rollback runs, newest first
    with psycopg.connect(empty_database_url, autocommit=True) as conn:
        for down in reversed(downs):
            conn.execute(down.read_text().encode())
        # Then the public schema is empty and no migration is recorded
        assert _public_tables(conn) == {}
        assert conn.execute("select count(*) from supabase_migrations.schema_migrations").fetchone() == (0,)

    # And migrating again rebuilds everything
    again = migrate(empty_database_url)
    assert len(again.applied) == len(downs)
    _assert_fully_migrated(empty_database_url)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def postgres15_url() -> Iterator[str]:
    """A throwaway plain PostgreSQL 15 (Supabase's major version) from Debian's postgresql-15."""
    if not (PG15_BIN / "postgres").exists():
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL 15 is missing under CI: .ci/run should have installed postgresql-15")
        pytest.skip(f"no PostgreSQL 15 at {PG15_BIN}: `apt-get install postgresql-15` to run this check")
    run_as: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        user = "embedded_postgres"
        if subprocess.run(["id", user], capture_output=True, check=False).returncode != 0:
            subprocess.run(["useradd", "--system", "--no-create-home", user], check=True)
        run_as = ["runuser", "-u", user, "--"]
    base = Path(tempfile.mkdtemp(prefix="pg15-"))
    base.chmod(0o777)
    data = base / "data"
    port = _free_port()
    subprocess.run(
        [*run_as, str(PG15_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            *run_as,
            str(PG15_BIN / "pg_ctl"),
            "-D",
            str(data),
            "-w",
            "-l",
            str(base / "log"),
            "-o",
            f"-h '' -k {base} -p {port}",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql://postgres@/postgres?host={base}&port={port}"
    finally:
        subprocess.run(
            [*run_as, str(PG15_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            check=False,
            capture_output=True,
        )
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.integration
def test_migrate_on_plain_postgres_15(postgres15_url: str) -> None:
    with psycopg.connect(postgres15_url) as conn:
        assert conn.info.server_version // 10000 == 15
    first = migrate(postgres15_url)
    second = migrate(postgres15_url)
    assert first.bootstrapped
    assert first.applied
    assert not second.bootstrapped
    assert second.applied == []
    _assert_fully_migrated(postgres15_url)


def test_every_business_table_has_a_scoped_view_with_all_of_its_columns(
    db: psycopg.Connection[tuple[object, ...]],
) -> None:
    # A view is `select *` as it was made: a column added later to the table is missing from it until a migration
    # recreates the view, and the functions that work through it would not see the column.
    rows = db.execute(
        """
        select t.table_name, array_agg(t.column_name::text order by t.ordinal_position),
               (select array_agg(v.column_name::text order by v.ordinal_position) from information_schema.columns v
                 where v.table_schema = 'scoped' and v.table_name = t.table_name)
          from information_schema.columns t
         where t.table_schema = 'public' and t.table_name <> 'business_members'  -- who belongs: not one business's
           and t.table_name in (select table_name from information_schema.columns
                                 where table_schema = 'public' and column_name = 'business_id')
         group by t.table_name
        """
    ).fetchall()
    assert len(rows) >= 20
    for table, columns, view in rows:
        assert view == columns, f"scoped.{table} is not public.{table}: recreate the view in a migration"
