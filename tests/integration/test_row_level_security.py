"""Row Level Security, cell by cell: every table x every actor x every operation, against a written table."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from psycopg import errors

from tests.integration.rls_world import World, act_as

Conn = psycopg.Connection[tuple[object, ...]]

ACTORS = ("anon", "client_a", "client_b", "team", "admin", "service_role")
OPS = ("select", "insert", "update", "delete")

Rules = dict[str, dict[str, object]]

# What each actor may do. select: "all" rows, only their "own" rows, or "none"; writes: True/False.
CATALOGUE: Rules = {
    "select": dict.fromkeys(ACTORS, "all"),
    "insert": {
        "anon": False,
        "client_a": False,
        "client_b": False,
        "team": True,
        "admin": True,
        "service_role": True,
    },
    "update": {
        "anon": False,
        "client_a": False,
        "client_b": False,
        "team": True,
        "admin": True,
        "service_role": True,
    },
    "delete": {
        "anon": False,
        "client_a": False,
        "client_b": False,
        "team": False,
        "admin": True,
        "service_role": True,
    },
}
CLIENT_OWNED: Rules = {
    **CATALOGUE,
    "select": {
        "anon": "none",
        "client_a": "own",
        "client_b": "own",
        "team": "all",
        "admin": "all",
        "service_role": "all",
    },
}
STAFF_ONLY: Rules = {
    **CATALOGUE,
    "select": {
        "anon": "none",
        "client_a": "none",
        "client_b": "none",
        "team": "all",
        "admin": "all",
        "service_role": "all",
    },
}
APPEND_ONLY: Rules = {
    **STAFF_ONLY,
    "update": {
        "anon": False,
        "client_a": False,
        "client_b": False,
        "team": False,
        "admin": True,
        "service_role": True,
    },
}

NOBODY: dict[str, object] = dict.fromkeys(ACTORS, False)
CLIENT_A_WRITES: dict[str, object] = NOBODY | {"client_a": True, "service_role": True}  # client A's project
STAFF_WRITES: dict[str, object] = {"team": True, "admin": True}
TEAM_WRITES: dict[str, object] = {"team": True, "admin": True, "service_role": True}

EXPECTED: dict[str, Rules] = {
    "tiers": CATALOGUE,
    "milestone_templates": CATALOGUE,
    "users": CLIENT_OWNED,
    # Only an admin (or the backend) attaches a client row to a user; the row in the test names a team member,
    # which the schema refuses to everyone (counted as let through by RLS, then stopped by the constraint).
    "clients": {**CLIENT_OWNED, "insert": APPEND_ONLY["update"]},
    "projects": CLIENT_OWNED,
    "milestones": CLIENT_OWNED,
    "deliverables": CLIENT_OWNED,
    "payments": CLIENT_OWNED,
    "leads": STAFF_ONLY,
    "audit_log": APPEND_ONLY,
    "inbound_events": STAFF_ONLY,
    "sync_outbox": STAFF_ONLY,
    "sync_state": STAFF_ONLY,
    "sync_lease": {**STAFF_ONLY, "insert": APPEND_ONLY["update"], "update": APPEND_ONLY["update"]},
    "notion_budget": {**STAFF_ONLY, "insert": APPEND_ONLY["update"], "update": APPEND_ONLY["update"]},
    "notion_properties": {**STAFF_ONLY, "insert": APPEND_ONLY["update"], "update": APPEND_ONLY["update"]},
    # A client reads the messages about their own projects; only admins (and the backend) write them.
    "notifications": {**CLIENT_OWNED, "insert": APPEND_ONLY["update"], "update": APPEND_ONLY["update"]},
    "email_suppressions": {**STAFF_ONLY, "insert": APPEND_ONLY["update"], "update": APPEND_ONLY["update"]},
    "portal_sign_ins": {**STAFF_ONLY, "insert": APPEND_ONLY["update"], "update": APPEND_ONLY["update"]},
    "notion_comments": {**STAFF_ONLY, "insert": APPEND_ONLY["update"], "update": APPEND_ONLY["update"]},
    "project_history": {**STAFF_ONLY, "insert": APPEND_ONLY["update"], "update": APPEND_ONLY["update"]},
    "notion_webhook_arming": {**STAFF_ONLY, "insert": APPEND_ONLY["update"], "update": APPEND_ONLY["update"]},
    "rate_limit_hits": {**STAFF_ONLY, "insert": APPEND_ONLY["update"], "update": APPEND_ONLY["update"]},
    "portal_sessions": {**STAFF_ONLY, "insert": APPEND_ONLY["update"], "update": APPEND_ONLY["update"]},
    "report_links": {**STAFF_ONLY, "insert": APPEND_ONLY["update"], "update": APPEND_ONLY["update"]},
    "quotes": {**STAFF_ONLY, "insert": APPEND_ONLY["update"], "update": APPEND_ONLY["update"]},
    # A client writes a message on their own project (and reads it, never the team's internal notes); only an
    # admin (or the backend) changes one.
    "messages": {**CLIENT_OWNED, "insert": CLIENT_A_WRITES | STAFF_WRITES, "update": APPEND_ONLY["update"]},
    # A client decides on their own project's files; nobody, the backend included, rewrites or deletes a decision.
    "approvals": {**CLIENT_OWNED, "insert": CLIENT_A_WRITES, "update": NOBODY, "delete": NOBODY},
    # A client answers for their own delivered project (client A's is not delivered: refused).
    "nps_answers": {**CLIENT_OWNED, "insert": NOBODY | {"service_role": True}, "update": APPEND_ONLY["update"]},
    # The team's own: tasks and the notes from project pages; an admin deletes.
    "tasks": {**STAFF_ONLY, "insert": NOBODY | TEAM_WRITES, "update": NOBODY | TEAM_WRITES},
    "project_notes": {**STAFF_ONLY, "insert": NOBODY | TEAM_WRITES, "update": NOBODY | TEAM_WRITES},
    # The catalogue's and the wording's pages: the sync's (and an admin's) to record.
    "notion_source_pages": {**STAFF_ONLY, "insert": APPEND_ONLY["update"], "update": APPEND_ONLY["update"]},
    "notion_file_drops": {**STAFF_ONLY, "insert": APPEND_ONLY["update"], "update": APPEND_ONLY["update"]},
    # Each version of an e-mail's wording is never rewritten or deleted, the backend's hand included.
    "mail_templates": {**STAFF_ONLY, "insert": APPEND_ONLY["update"], "update": NOBODY, "delete": NOBODY},
    # A client reads their own project's instalments; the backend (and an admin) writes them, as Stripe settles.
    "payment_schedule": {**CLIENT_OWNED, "insert": APPEND_ONLY["update"], "update": APPEND_ONLY["update"]},
    "disputes": {**STAFF_ONLY, "insert": APPEND_ONLY["update"], "update": APPEND_ONLY["update"]},
    "document_counters": {**STAFF_ONLY, "insert": APPEND_ONLY["update"], "update": APPEND_ONLY["update"]},
}


def _key(table: str) -> str:
    return {
        "sync_state": "data_source_id",
        "sync_lease": "name",
        "notion_budget": "name",
        "notion_properties": "data_source_id",
        "email_suppressions": "email",
        "project_notes": "project_id",
        "document_counters": "kind",
    }.get(table, "id")


def _insert_statement(table: str, world: World) -> tuple[str, dict[str, object]]:
    a_project = next(iter(world.owned["projects"]["client_a"]))
    a_client = next(iter(world.owned["clients"]["client_a"]))
    new = uuid.uuid4().hex[:10]
    statements = {
        "tiers": "insert into tiers (id, name, min_budget_cents, routing, price_cents) values (4, 'x', 0, 'auto', 1)",
        "milestone_templates": 'insert into milestone_templates (tier, "order", name, due_offset_days)'
        " values (1, 99, 'Extra', 1)",
        "users": "insert into users (email) values (%(email)s)",
        "clients": "insert into clients (user_id, tier) values (%(team)s, 1)",
        "projects": "insert into projects (client_id, tier, name) values (%(client)s, 2, 'Annex')",
        "milestones": "insert into milestones (project_id, tier, name, \"order\") values (%(project)s, 2, 'x', 9)",
        "deliverables": "insert into deliverables (project_id, name, file_path, file_size, s3_bucket)"
        " values (%(project)s, 'x.png', %(new)s, 1, 'b')",
        "payments": "insert into payments (project_id, stripe_payment_intent_id, amount)"
        " values (%(project)s, 'pi_' || %(new)s, 1)",
        "leads": "insert into leads (submission_key, email, name, project_type, recommended_tier, routing_reason)"
        " values (%(new)s, 'n@example.com', 'N', 'new_build', 3, 'r')",
        "audit_log": "insert into audit_log (action, resource_type) values ('x', 'y')",
        "inbound_events": "insert into inbound_events (source, event_id, event_type) values ('s3', %(new)s, 'x')",
        "sync_outbox": "insert into sync_outbox (entity, entity_id) values ('lead', gen_random_uuid())",
        "sync_state": "insert into sync_state (data_source_id, entity) values (%(new)s, 'lead')",
        "sync_lease": "insert into sync_lease (name, holder, expires_at) values (%(new)s, 'x', now())",
        "notion_budget": "insert into notion_budget (name, tokens) values (%(new)s, 1)",
        "email_suppressions": "insert into email_suppressions (email, reason) values (%(new)s || '@example.com', "
        "'bounce')",
        "portal_sign_ins": "insert into portal_sign_ins (email, expires_at) values (%(new)s, now())",
        "notion_comments": "insert into notion_comments (entity, record_id, page_id, body) values "
        "('lead', gen_random_uuid(), %(new)s, 'x')",
        "project_history": "insert into project_history (project_id, kind, summary, dedupe_key) values "
        "(%(project)s, 'delivered', 'Delivered', %(new)s)",
        "notifications": "insert into notifications (recipient, template, dedupe_key, project_id) values "
        "('n@example.com', 'payment_receipt', %(new)s, %(project)s)",
        "notion_properties": "insert into notion_properties (data_source_id, entity, key, property_id, name, kind)"
        " values (%(new)s, 'lead', 'Name', 'title', 'Name', 'title')",
        "notion_webhook_arming": "insert into notion_webhook_arming (id, armed_until) values (true, now())",
        "rate_limit_hits": "insert into rate_limit_hits (bucket, key) values ('lead_email', %(new)s)",
        "portal_sessions": "insert into portal_sessions (user_id, expires_at) values (%(team)s, now())",
        "report_links": "insert into report_links (expires_at) values (now())",
        "quotes": "insert into quotes (lead_id, tier, amount, currency) values (%(lead)s, 3, 1, 'usd')",
        "messages": "insert into messages (project_id, author_kind, author_id, body)"
        " values (%(project)s, 'client', auth.uid(), 'Hello')",
        "approvals": "insert into approvals (project_id, deliverable_id, version, file_path, decision, note, user_id)"
        " values (%(project)s, %(deliverable)s, 2, 'x', 'changes_requested', 'More light', auth.uid())",
        "nps_answers": "insert into nps_answers (project_id, user_id, score) values (%(project)s, auth.uid(), 10)",
        "notion_file_drops": "insert into notion_file_drops (file_key, page_id) values (%(new)s, 'p')",
        "tasks": "insert into tasks (title, project_id) values ('Call the engineer', %(project)s)",
        "project_notes": "insert into project_notes (project_id, markdown) values (%(project)s, 'x')",
        "notion_source_pages": "insert into notion_source_pages (page_id, source, key) values (%(new)s, 'message',"
        " %(new)s)",
        "payment_schedule": "insert into payment_schedule (project_id, label, position, share, amount, currency)"
        " values (%(project)s, 'Design', 7, 40, 1, 'usd')",
        "disputes": "insert into disputes (payment_id, stripe_dispute_id, amount, currency, status)"
        " values (%(payment)s, 'dp_' || %(new)s, 1, 'usd', 'needs_response')",
        "document_counters": "insert into document_counters (kind) values ('receipt')",
        "mail_templates": "insert into mail_templates (name, version, subject, body) values ('nps_request', 99, 's',"
        " 'b')",
    }
    params: dict[str, object] = {
        "email": f"{new}@example.com",
        "team": world.users["team"],
        "client": a_client,
        "project": a_project,
        "new": new,
        "lead": world.target["leads"],
        "deliverable": next(iter(world.owned["deliverables"]["client_a"])),
        "payment": next(iter(world.owned["payments"]["client_a"])),
    }
    return statements[table], params


def _attempt(conn: Conn, actor: str, table: str, op: str, world: World) -> object:
    """Run one cell inside a transaction that is always rolled back; return what the actor got."""
    key = _key(table)
    try:
        with conn.transaction(force_rollback=True):
            act_as(conn, actor, world)
            if op == "select":
                rows = conn.execute(f"select {key}::text from public.{table}".encode()).fetchall()
                return {str(r[0]) for r in rows}
            if op == "insert":
                statement, params = _insert_statement(table, world)
                conn.execute(statement.encode(), params)
                return True
            column = "created_at"  # every table has it; assigning it to itself changes nothing
            sql = (
                f"update public.{table} set {column} = {column} where {key}::text = %s"
                if op == "update"
                else f"delete from public.{table} where {key}::text = %s"
            )
            return conn.execute(sql.encode(), (world.target[table],)).rowcount == 1
    except errors.InsufficientPrivilege:
        return False
    except errors.IntegrityError:
        return True  # RLS let the write through; the schema's own constraint stopped it afterwards


def _expected_rows(table: str, actor: str, visibility: object, world: World, every_row: set[str]) -> set[str]:
    if visibility == "all":
        return every_row
    if visibility == "own":
        return world.owned[table][actor]
    return set()


@pytest.mark.integration
def test_rls_matrix(db: Conn, world: World) -> None:
    mismatches = []
    cells = 0
    for table, rules in EXPECTED.items():
        every_row = {str(r[0]) for r in db.execute(f"select {_key(table)}::text from public.{table}".encode())}
        for actor in ACTORS:
            for op in OPS:
                cells += 1
                got = _attempt(db, actor, table, op, world)
                rule = rules[op][actor]
                want = _expected_rows(table, actor, rule, world, every_row) if op == "select" else rule
                if got != want:
                    mismatches.append(f"{table:20} {actor:12} {op:6} expected {want!r}, got {got!r}")
    assert cells == len(EXPECTED) * len(ACTORS) * len(OPS)
    assert not mismatches, "RLS matrix mismatches:\n" + "\n".join(mismatches)


def test_own_rows_are_a_real_subset(world: World) -> None:
    # Guards the matrix against a vacuous "own": each client owns rows, and not the other's.
    for table in ("users", "clients", "projects", "milestones", "deliverables", "payments"):
        a, b = world.owned[table]["client_a"], world.owned[table]["client_b"]
        assert a, table
        assert b, table
        assert not a & b, table
