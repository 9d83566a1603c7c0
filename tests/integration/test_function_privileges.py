"""Who may call what: the backend (service_role) every business function and the helpers they use;
the API roles (anon, authenticated) none of them."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from atelier.kernel.rpc import PsycopgRpc

Conn = psycopg.Connection[tuple[object, ...]]

FUNCTIONS = """
select n.nspname || '.' || p.proname, p.oid,
       has_function_privilege('service_role', p.oid, 'EXECUTE'),
       has_function_privilege('anon', p.oid, 'EXECUTE'),
       has_function_privilege('authenticated', p.oid, 'EXECUTE')
from pg_proc p join pg_namespace n on n.oid = p.pronamespace
where n.nspname in ('public', 'app_private') and p.prokind = 'f'
  and p.prorettype <> 'trigger'::regtype
"""
# Read by RLS policies as the API roles themselves: these must stay callable by them.
POLICY_HELPERS = {
    "app_private.current_user_type",
    "app_private.is_team",
    "app_private.is_admin",
    "app_private.my_client_ids",
    "app_private.my_project_ids",
    "app_private.business_id",
    "app_private.default_business",
    "app_private.is_team_of_user",
    "app_private.project_delivered",
}
# The client portal's reads: security invoker, so they run under the client's own role and RLS decides.
CLIENT_READS = {"public.portal_projects", "public.portal_project", "public.portal_deliverable", "public.money_document"}
# The portal's writes: security invoker too, so a client's insert policies are what let them write (or not).
CLIENT_WRITES = {
    "public.portal_post_message",
    "public.portal_decide",
    "public.portal_answer_nps",
    "public.portal_attachment",
}
# The owner's reports: security invoker as well, and each refuses (42501) a caller who is not team or admin.
STAFF_READS = {
    "public.report",
    "public.report_funnel",
    "public.report_money",
    "public.report_revenue",
    "public.report_projects",
    "public.report_milestones",
    "public.report_cycle_times",
    "public.report_sync",
    "public.report_nps",
    "public.report_held",
    "public.overdue_tasks",
    "app_private.business_today",
    "app_private.report_reader",
    "app_private.report_bounds",
    "app_private.spread",
}


def test_service_role_may_call_every_function_and_the_api_roles_none_but_policy_helpers(db: Conn) -> None:
    rows = db.execute(FUNCTIONS.encode()).fetchall()
    assert len(rows) > 20
    for name, _, service, anon, authenticated in rows:
        assert service, f"service_role cannot execute {name}"
        if name in POLICY_HELPERS:
            continue
        assert not anon, f"anon can execute {name}"
        if name in CLIENT_READS | CLIENT_WRITES | STAFF_READS:
            assert authenticated, f"a signed-in user cannot execute {name}"
            continue
        assert not authenticated, f"authenticated can execute {name}"


def test_the_client_and_staff_reads_are_security_invoker(db: Conn) -> None:
    names = [name.split(".")[1] for name in CLIENT_READS | CLIENT_WRITES | STAFF_READS]
    definers = db.execute("select proname from pg_proc where proname = any(%s) and prosecdef", (names,)).fetchall()
    assert definers == []  # a security definer would read past row-level security


def test_the_money_path_runs_as_service_role(database_url: str) -> None:
    # PostgREST calls as service_role; a helper it may not execute would fail every payment.
    dsn = psycopg.conninfo.make_conninfo(database_url, options="-c role=service_role")
    rpc = PsycopgRpc(dsn)
    lead = rpc.rpc(
        "record_lead",
        p_submission_key=f"priv-{uuid.uuid4()}",
        p_request_hash="h",
        p_email="p@example.com",
        p_name="P",
        p_project_address=None,
        p_budget_range=None,
        p_budget_min_cents=None,
        p_budget_max_cents=None,
        p_timeline_weeks=None,
        p_project_type="simple_renovation",
        p_has_survey=True,
        p_has_drawings=True,
        p_notes=None,
        p_recommended_tier=1,
        p_routing_reason="r",
        p_confidence="high",
        p_needs_review=False,
        p_red_flags=[],
        p_routing={},
        p_answer=None,
        p_ip_address=None,
    )
    session = f"cs_{uuid.uuid4().hex}"  # the Checkout session Atelier opened for the lead: what the payment names
    rpc.rpc(
        "record_lead_answer",
        p_lead_id=lead["lead_id"],
        p_answer={"tier": 1},
        p_checkout_session_id=session,
        p_checkout_url="https://checkout.example/",
    )
    result = rpc.rpc(
        "apply_stripe_event",
        p_event_id=f"evt_{uuid.uuid4().hex}",
        p_event_type="checkout.session.completed",
        p_kind="fulfil",
        p_reason=None,
        p_lead_id=lead["lead_id"],
        p_tier=1,
        p_checkout_session_id=session,
        p_payment_intent_id=f"pi_{uuid.uuid4().hex}",
        p_customer_id=None,
        p_email=None,
        p_amount=250000,
        p_amount_refunded=0,
        p_currency="usd",
    )
    assert result["created_project"] is True
    claimed = rpc.rpc("claim_outbox", p_limit=50, p_lease_seconds=60, p_project_id=None)
    assert len(claimed) >= 3
    assert rpc.rpc("sync_health")["outbox_depth"] >= 3
    rpc.close()


def test_an_unknown_entity_is_refused_by_the_database(database_url: str) -> None:
    from atelier.kernel.errors import InvalidData

    with pytest.raises(InvalidData, match="sync_entity"):
        PsycopgRpc(database_url).rpc("resync", p_entities=["invoices"], p_force=False)
