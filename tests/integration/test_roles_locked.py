"""Issue 29, items 1, 7 and 12, as an attacker would try them: a team member climbing to admin through the portal,
a payment that attaches a client to a staff address, a lead that rewrites a returning client, and a client reading
what was soft-deleted."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from psycopg import errors

from atelier.kernel.rpc import PsycopgRpc
from atelier_local.samples import paid_project, stored_lead
from tests.seed_catalogue import TIER_NAME

Conn = psycopg.Connection[tuple[object, ...]]


def _user(db: Conn, email: str, kind: str) -> str:
    row = db.execute("insert into users (email, user_type) values (%s, %s) returning id", (email, kind)).fetchone()
    assert row is not None
    return str(row[0])


@contextmanager
def _acting_as(db: Conn, user_id: str) -> Iterator[Conn]:
    """One transaction as a signed-in user (as PostgREST runs a request), rolled back afterwards."""
    with db.transaction(force_rollback=True):
        db.execute("set local role authenticated")
        db.execute(
            "select set_config('request.jwt.claims', %s, true)",
            (json.dumps({"sub": user_id, "role": "authenticated"}),),
        )
        yield db


@pytest.fixture
def staff(db: Conn) -> dict[str, str]:
    return {"team": _user(db, "tess@studio.example", "team"), "admin": _user(db, "ada@studio.example", "admin")}


@pytest.mark.integration
def test_the_privilege_chain_is_refused_at_its_first_step(db: Conn, rpc: PsycopgRpc, staff: dict[str, str]) -> None:
    # Step 1: the team member attaches a client row to the admin. Refused.
    with pytest.raises(errors.InsufficientPrivilege, match="only an admin can attach"), _acting_as(db, staff["team"]):
        db.execute("insert into clients (user_id, tier) values (%s, 1)", (staff["admin"],))
    # Step 2 (were step 1 to pass): the admin's e-mail changed to the team member's own. Refused too.
    with pytest.raises(errors.InsufficientPrivilege, match="e-mail"), _acting_as(db, staff["team"]):
        db.execute("update users set email = 'mine@example.com' where id = %s", (staff["admin"],))
    # Step 3: a portal link for the admin's address. None: it is not a client's.
    assert (
        rpc.rpc(
            "start_portal_sign_in",
            p_email="ada@studio.example",
            p_source_ip=None,
            p_ttl_seconds=900,
            p_per_address=5,
            p_per_source=20,
            p_send=False,
        )["known"]
        is False
    )
    assert db.execute("select count(*) from clients").fetchone() == (0,)
    assert db.execute("select email from users where id = %s", (staff["admin"],)).fetchone() == ("ada@studio.example",)


@pytest.mark.integration
def test_only_an_admin_or_the_backend_changes_who_a_user_is(db: Conn, staff: dict[str, str]) -> None:
    client = _user(db, "cleo@example.com", "sage_client")
    for change in ("email = 'other@example.com'", f"id = '{uuid.uuid4()}'", "user_type = 'kaa_client'"):
        with pytest.raises(errors.InsufficientPrivilege), _acting_as(db, staff["team"]):
            db.execute(f"update users set {change} where id = %s".encode(), (client,))
    with _acting_as(db, staff["team"]):  # what is not identity, the team still keeps up to date
        assert db.execute("update users set address = '1 Row' where id = %s", (client,)).rowcount == 1
    with _acting_as(db, staff["admin"]):
        assert db.execute("update users set email = 'cleo@new.example' where id = %s", (client,)).rowcount == 1


@pytest.mark.integration
def test_a_client_row_moves_between_users_only_by_an_admin(db: Conn, staff: dict[str, str]) -> None:
    one, two = _user(db, "one@example.com", "sage_client"), _user(db, "two@example.com", "sage_client")
    client = db.execute("insert into clients (user_id, tier) values (%s, 1) returning id", (one,)).fetchone()
    assert client is not None
    with pytest.raises(errors.InsufficientPrivilege), _acting_as(db, staff["team"]):
        db.execute("update clients set user_id = %s where id = %s", (two, client[0]))
    with pytest.raises(errors.CheckViolation, match="never attached to a team or admin"):
        db.execute("update clients set user_id = %s where id = %s", (staff["team"], client[0]))


@pytest.mark.integration
def test_a_legacy_client_row_of_a_staff_user_opens_no_portal_session(
    db: Conn, rpc: PsycopgRpc, staff: dict[str, str]
) -> None:
    # Given a client row for the admin from before the schema refused it, and a link asked for before this change
    db.execute("set session_replication_role = replica")  # triggers off: the state an older deployment may hold
    db.execute("insert into clients (user_id, tier) values (%s, 1)", (staff["admin"],))
    db.execute("set session_replication_role = origin")
    old = db.execute(
        "insert into portal_sign_ins (email, user_id, expires_at) values ('ada@studio.example', %s, "
        "now() + interval '10 minutes') returning id",
        (staff["admin"],),
    ).fetchone()
    assert old is not None

    # When a link is asked for, and the old one opened
    asked = rpc.rpc(
        "start_portal_sign_in",
        p_email="ada@studio.example",
        p_source_ip=None,
        p_ttl_seconds=900,
        p_per_address=5,
        p_per_source=20,
    )

    # Then nothing is sent, and nothing opens
    assert asked["known"] is False
    assert db.execute("select count(*) from notifications where template = 'portal_sign_in'").fetchone() == (0,)
    assert rpc.rpc("use_portal_sign_in", p_id=str(old[0])) is None


@pytest.mark.integration
def test_a_payment_with_a_staff_address_is_held_and_attaches_no_client(
    db: Conn, rpc: PsycopgRpc, staff: dict[str, str]
) -> None:
    lead = stored_lead(rpc)
    db.execute("update leads set email = 'tess@studio.example' where id = %s", (lead,))

    paid_project(rpc, lead)

    assert db.execute("select count(*) from clients").fetchone() == (0,)
    assert db.execute("select count(*) from projects").fetchone() == (0,)
    held = rpc.rpc("payments_held")
    assert len(held) == 1
    assert "belongs to a member of the team" in held[0]["reason"]


@pytest.mark.integration
def test_a_notion_client_page_with_a_staff_address_is_left_for_the_team(
    db: Conn, rpc: PsycopgRpc, staff: dict[str, str]
) -> None:
    answer = rpc.rpc(
        "adopt_notion_client",
        p_page_id="page-1",
        p_email="Tess@Studio.example",
        p_name="Tess",
        p_tier_name=TIER_NAME[1],
        p_project_address=None,
        p_dry_run=False,
    )
    assert answer["action"] == "skip"
    assert "member of the team" in answer["reason"]
    assert db.execute("select count(*) from clients").fetchone() == (0,)
    assert db.execute("select count(*) from audit_log where action = 'notion.client_refused'").fetchone() == (1,)


@pytest.mark.integration
def test_a_lead_typed_with_a_returning_clients_address_does_not_rewrite_them(db: Conn, rpc: PsycopgRpc) -> None:
    # Given a client who paid for a tier 2 project at "0 Sample St"
    first = paid_project(rpc, stored_lead(rpc, 0))
    before = db.execute(
        "select u.tier, c.tier, c.project_address from users u join clients c on c.user_id = u.id"
    ).fetchone()
    # When someone pays for a lead typed with that client's address, at another address and tier
    lead = stored_lead(rpc, 1)
    db.execute(
        "update leads set email = 'client0@example.com', project_address = '9 Elsewhere', recommended_tier = 1 "
        "where id = %s",
        (lead,),
    )
    rpc.rpc(
        "record_lead_answer",
        p_lead_id=lead,
        p_answer={"tier": 1},
        p_checkout_session_id="cs_other",
        p_checkout_url="https://checkout.example/cs_other",
    )
    rpc.rpc(
        "apply_stripe_event",
        p_event_id="evt_other",
        p_event_type="checkout.session.completed",
        p_kind="fulfil",
        p_reason=None,
        p_lead_id=lead,
        p_tier=1,
        p_checkout_session_id="cs_other",
        p_payment_intent_id="pi_other",
        p_customer_id=None,
        p_email=None,
        p_amount=250000,
        p_amount_refunded=0,
        p_currency="usd",
    )
    # Then the client keeps their tier and address, and the new project waits for the team's review
    after = db.execute(
        "select u.tier, c.tier, c.project_address from users u join clients c on c.user_id = u.id"
    ).fetchone()
    assert after == before
    flagged = db.execute("select needs_review, review_reason from projects where id <> %s", (first,)).fetchone()
    assert flagged is not None
    assert flagged[0] is True
    assert "existing client" in str(flagged[1])


@pytest.mark.integration
def test_a_client_reads_nothing_soft_deleted_and_the_team_still_does(
    db: Conn, rpc: PsycopgRpc, staff: dict[str, str]
) -> None:
    project = paid_project(rpc, stored_lead(rpc))
    client_user = str(db.execute("select id from users where email = 'client0@example.com'").fetchone()[0])  # type: ignore[index]
    gone = db.execute('select id from milestones where project_id = %s order by "order" limit 1', (project,)).fetchone()
    assert gone is not None
    db.execute("update milestones set deleted_at = now() where id = %s", (gone[0],))

    def seen(user: str, sql: str) -> set[str]:
        with _acting_as(db, user):
            return {str(r[0]) for r in db.execute(sql.encode())}

    assert str(gone[0]) not in seen(client_user, "select id from milestones")
    assert str(gone[0]) in seen(staff["team"], "select id from milestones")

    db.execute("update projects set deleted_at = now() where id = %s", (project,))
    for table in ("projects", "milestones", "payments", "notifications"):
        assert seen(client_user, f"select id from {table}") == set(), table
    assert project in seen(staff["team"], "select id from projects")
