"""Who may change whose role, and what the browser roles may never do to any table, under row-level security."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import errors

from tests.integration.rls_world import World, act_as

Conn = psycopg.Connection[tuple[object, ...]]


ROLE_CHANGES = [
    # actor, whose row, new user_type, allowed
    ("team", "client_a", "admin", False),
    ("team", "client_a", "team", False),
    ("team", "team", "admin", False),  # making themselves admin: the reported escalation
    ("team", "admin", "team", False),
    ("client_a", "client_a", "admin", False),
    ("admin", "admin", "team", False),  # nobody changes their own
    ("admin", "client_a", "team", True),
    ("admin", "team", "admin", True),
    ("service_role", "client_a", "team", True),
]


@pytest.mark.integration
@pytest.mark.parametrize(("actor", "whose", "new_type", "allowed"), ROLE_CHANGES)
def test_only_an_admin_changes_a_user_type_and_never_their_own(
    db: Conn, world: World, actor: str, whose: str, new_type: str, allowed: bool
) -> None:
    def attempt() -> bool:
        try:
            with db.transaction(force_rollback=True):
                act_as(db, actor, world)
                changed = db.execute(
                    "update public.users set user_type = %s where id = %s", (new_type, world.users[whose])
                ).rowcount
                return changed == 1
        except errors.InsufficientPrivilege:
            return False

    assert attempt() is allowed


@pytest.mark.integration
@pytest.mark.parametrize("actor", ["team", "client_a"])
def test_nobody_but_an_admin_creates_a_team_or_admin_user(db: Conn, world: World, actor: str) -> None:
    for kind in ("team", "admin"):
        with db.transaction(force_rollback=True):
            act_as(db, actor, world)
            with pytest.raises(errors.InsufficientPrivilege):
                db.execute("insert into public.users (email, user_type) values (%s, %s)", (f"{kind}@example.org", kind))


@pytest.mark.integration
@pytest.mark.parametrize("role", ["anon", "authenticated"])
def test_the_browser_roles_cannot_truncate_trigger_or_reference_any_table(db: Conn, role: str) -> None:
    held = db.execute(
        "select c.relname, p.privilege_type from pg_class c join pg_namespace n on n.oid = c.relnamespace,"
        " lateral (select unnest(array['TRUNCATE', 'TRIGGER', 'REFERENCES']) as privilege_type) p"
        " where n.nspname = 'public' and c.relkind in ('r', 'p')"
        " and has_table_privilege(%s, c.oid, p.privilege_type)",
        (role,),
    ).fetchall()
    assert held == []
    tables = [r[0] for r in db.execute("select tablename from pg_tables where schemaname = 'public'")]
    assert len(tables) >= 10
    for table in tables:
        with db.transaction(force_rollback=True):
            db.execute(f"set local role {role}".encode())
            with pytest.raises(errors.InsufficientPrivilege):
                db.execute(f"truncate public.{table} cascade".encode())
