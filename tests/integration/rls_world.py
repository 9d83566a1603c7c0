"""The world the row-level security tests act in: one user per actor (two clients, a team member, an admin),
each owning a row of every table a client can own, and how a test acts as one of them."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass

import psycopg

Conn = psycopg.Connection[tuple[object, ...]]


@dataclass
class World:
    users: dict[str, str]
    owned: dict[str, dict[str, set[str]]]  # table -> actor -> ids of the rows that are theirs
    target: dict[str, str]  # table -> the row that update/delete aim at (client A's, where it has one)


def _one(conn: Conn, statement: str, params: dict[str, object] | None = None) -> str:
    row = conn.execute(statement.encode(), params or {}).fetchone()
    assert row is not None
    return str(row[0])


def build_world(db: Conn) -> World:
    """One row of every table for each actor that can own one: two clients, a team member, an admin."""
    users = {
        actor: _one(
            db,
            "insert into users (email, user_type) values (%(e)s, %(t)s) returning id",
            {"e": f"{actor}@example.com", "t": kind},
        )
        for actor, kind in [
            ("client_a", "kaa_client"),
            ("client_b", "sage_client"),
            ("team", "team"),
            ("admin", "admin"),
        ]
    }
    # every table: the rows each client owns (none, for a table a client cannot own)
    owned: dict[str, dict[str, set[str]]] = defaultdict(lambda: {"client_a": set(), "client_b": set()})
    for actor in ("client_a", "client_b"):
        uid = users[actor]
        owned["users"][actor].add(uid)
        client = _one(db, "insert into clients (user_id, tier) values (%(u)s, 2) returning id", {"u": uid})
        project = _one(
            db,
            "insert into projects (client_id, tier, name) values (%(c)s, 2, %(n)s) returning id",
            {"c": client, "n": f"{actor} house"},
        )
        milestone = _one(
            db,
            "insert into milestones (project_id, tier, name, \"order\") values (%(p)s, 2, 'Design', 1) returning id",
            {"p": project},
        )
        deliverable = _one(
            db,
            "insert into deliverables (project_id, name, file_path, file_size, s3_bucket, category)"
            " values (%(p)s, 'plan.pdf', %(k)s, 10, 'b', 'Document') returning id",
            {"p": project, "k": f"projects/{project}/Document/plan.pdf"},
        )
        payment = _one(
            db,
            "insert into payments (project_id, stripe_payment_intent_id, amount)"
            " values (%(p)s, %(pi)s, 750000) returning id",
            {"p": project, "pi": f"pi_{actor}"},
        )
        notification = _one(db, "select id from notifications where project_id = %(p)s", {"p": project})
        message = _one(
            db,
            "insert into messages (project_id, author_kind, author_id, body) values (%(p)s, 'client', %(u)s, 'Hi')"
            " returning id",
            {"p": project, "u": uid},
        )
        approval = _one(
            db,
            "insert into approvals (project_id, deliverable_id, version, file_path, decision, user_id)"
            " values (%(p)s, %(d)s, 1, 'plan.pdf', 'approved', %(u)s) returning id",
            {"p": project, "d": deliverable, "u": uid},
        )
        answer = _one(
            db,
            "insert into nps_answers (project_id, user_id, score) values (%(p)s, %(u)s, 9) returning id",
            {"p": project, "u": uid},
        )
        instalment = _one(
            db,
            "insert into payment_schedule (project_id, label, position, share, amount, currency)"
            " values (%(p)s, 'At booking', 0, 100, 750000, 'usd') returning id",
            {"p": project},
        )
        for table, row in [
            ("payment_schedule", instalment),
            ("clients", client),
            ("projects", project),
            ("milestones", milestone),
            ("deliverables", deliverable),
            ("payments", payment),
            ("notifications", notification),
            ("messages", message),
            ("approvals", approval),
            ("nps_answers", answer),
        ]:
            owned[table][actor].add(row)
    lead = _one(
        db,
        "insert into leads (submission_key, email, name, project_type, recommended_tier,"
        " routing_reason) values ('key-00000001', 'l@example.com', 'L', 'new_build', 3, 'r')"
        " returning id",
    )
    target = {
        "tiers": "1",
        "milestone_templates": _one(db, 'select id from milestone_templates order by tier, "order" limit 1'),
        "leads": lead,
        "audit_log": _one(db, "insert into audit_log (action, resource_type) values ('seen', 'lead') returning id"),
        "inbound_events": _one(
            db, "insert into inbound_events (source, event_id, event_type) values ('stripe', 'evt_1', 'x') returning id"
        ),
        "sync_outbox": _one(
            db, "select id from sync_outbox where entity = 'lead' and entity_id = %(l)s", {"l": lead}
        ),  # queued by the trigger
        "sync_lease": _one(
            db, "insert into sync_lease (name, holder, expires_at) values ('sync', 'w', now()) returning name"
        ),
        "sync_state": _one(
            db, "insert into sync_state (data_source_id, entity) values ('ds_1', 'lead') returning data_source_id"
        ),
        "notion_budget": _one(db, "insert into notion_budget (name, tokens) values ('notion', 3) returning name"),
        "portal_sign_ins": _one(
            db, "insert into portal_sign_ins (email, expires_at) values ('p@example.com', now()) returning id"
        ),
        "notion_comments": _one(
            db,
            "insert into notion_comments (entity, record_id, page_id, body) values "
            "('lead', gen_random_uuid(), 'page-1', 'Put back') returning id",
        ),
        "project_history": _one(
            db,
            "insert into project_history (project_id, kind, summary, dedupe_key) select id, "
            "'delivered', 'Delivered', 'world' from projects limit 1 returning id",
        ),
        "email_suppressions": _one(
            db, "insert into email_suppressions (email, reason) values ('x@example.com', 'bounce') returning email"
        ),
        "notion_webhook_arming": _one(
            db, "insert into notion_webhook_arming (armed_until) values (now()) returning id::text"
        ),
        "rate_limit_hits": _one(
            db, "insert into rate_limit_hits (bucket, key) values ('lead_source', '1') returning id"
        ),
        "portal_sessions": _one(
            db, "insert into portal_sessions (user_id, expires_at) select id, now() from users limit 1 returning id"
        ),
        "report_links": _one(db, "insert into report_links (expires_at) values (now()) returning id"),
        "quotes": _one(
            db,
            "insert into quotes (lead_id, tier, amount, currency) values (%(l)s, 3, 2000000, 'usd') returning id",
            {"l": lead},
        ),
        "tasks": _one(db, "select id from tasks where kind = 'prepare_kickoff' limit 1"),  # made by the trigger
        "disputes": _one(
            db,
            "insert into disputes (payment_id, stripe_dispute_id, amount, currency, status)"
            " select id, 'dp_world', 100, 'usd', 'needs_response' from payments limit 1 returning id",
        ),
        "document_counters": _one(
            db, "insert into document_counters (kind, last_number) values ('invoice', 1) returning kind"
        ),
        "notion_source_pages": _one(
            db,
            "insert into notion_source_pages (page_id, source, key) values ('page-s1', 'service', '1') returning id",
        ),
        "notion_file_drops": _one(
            db, "insert into notion_file_drops (file_key, page_id) values ('https://f/1', 'page-f1') returning id"
        ),
        "mail_templates": _one(
            db,
            "insert into mail_templates (name, version, subject, body) values ('nps_request', 1, 'How did we do?',"
            " 'Dear {client_name}') returning id",
        ),
        "project_notes": _one(
            db,
            "insert into project_notes (project_id, markdown) select id, '# Brief' from projects"
            " where id = any(%(p)s) returning project_id",
            {"p": list(owned["projects"]["client_b"])},
        ),
        "notion_properties": _one(
            db,
            "insert into notion_properties (data_source_id, entity, key, property_id,"
            " name, kind) values ('ds_p', 'lead', 'Name', 'title', 'Name', 'title')"
            " returning data_source_id",
        ),
    }
    # The team's internal note on a client's project: the team's to read, never the client's.
    a_project = next(iter(owned["projects"]["client_a"]))
    _one(
        db,
        "insert into messages (project_id, author_kind, body, internal) values (%(p)s, 'team', 'internal: x', true)"
        " returning id",
        {"p": a_project},
    )
    for table, rows in owned.items():
        if rows["client_a"]:
            target[table] = next(iter(rows["client_a"]))
    return World(users, owned, target)


def act_as(conn: Conn, actor: str, world: World) -> None:
    if actor in ("anon", "service_role"):
        conn.execute(f"set local role {actor}".encode())
        return
    conn.execute(b"set local role authenticated")
    claims = json.dumps({"sub": world.users[actor], "role": "authenticated"})
    conn.execute("select set_config('request.jwt.claims', %s, true)", (claims,))
