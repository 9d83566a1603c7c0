"""`make chaos`, the attacker's rows and the bad days of issue 29: each replayed against a local stack, with its
figure. Tests assert the same outcomes (tests/integration/test_roles_locked.py, test_limits.py, test_notion_webhooks.py,
test_sync_cli.py, test_sync_poll.py, test_mail_bad_days.py); this prints what each one measured."""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from collections import Counter
from typing import Any

import httpx
import psycopg
from psycopg import errors

from atelier import wiring
from atelier.kernel.rpc import PsycopgRpc
from atelier.mail.outbox import MailOutbox
from atelier.mail.render import Message, Studio
from atelier.notion import NotionGateway, RequestBudget
from atelier.portal.service import PER_ADDRESS, PER_SOURCE
from atelier.sync import run_cycle
from atelier.sync.comments import post_due
from atelier_local.samples import paid_project, stored_lead
from bench.chaos import Row, _count, _quiet, local_stack


def _ok(held: bool) -> str:
    return "ok" if held else "FAIL"


def privilege_chain() -> list[Row]:
    """A team member attaches a client row to the admin, to take the admin's portal session: refused at step 1."""
    with local_stack() as (_, rpc, dsn), psycopg.connect(dsn, autocommit=True) as db:
        team = db.execute("insert into users (email, user_type) values ('t@studio.example', 'team') returning id")
        admin = db.execute("insert into users (email, user_type) values ('a@studio.example', 'admin') returning id")
        team_id, admin_id = (str(row.fetchone()[0]) for row in (team, admin))  # type: ignore[index]
        refused_at = "none"
        with contextlib.suppress(errors.InsufficientPrivilege), db.transaction(force_rollback=True):
            db.execute("set local role authenticated")
            db.execute("select set_config('request.jwt.claims', %s, true)", (json.dumps({"sub": team_id}),))
            refused_at = "step 1 (client row for the admin)"
            db.execute("insert into clients (user_id, tier) values (%s, 1)", (admin_id,))
            refused_at = "none"
        link = rpc.rpc(
            "start_portal_sign_in",
            p_email="a@studio.example",
            p_source_ip=None,
            p_ttl_seconds=900,
            p_per_address=5,
            p_per_source=20,
            p_send=False,
        )
    held = refused_at.startswith("step 1") and not link["known"]
    figure = "refused at step 1" if held else f"refused at {refused_at}"
    return [
        (
            "privilege chain: team -> admin",
            figure,
            "a client row for the admin refused (42501); the admin's address gets no portal link",
            _ok(held),
        )
    ]


def one_dollar_session() -> list[Row]:
    """A $1 Checkout on another of the studio's links, carrying a tier 4 lead's reference in its metadata."""
    with local_stack() as (_, rpc, dsn), psycopg.connect(dsn, autocommit=True) as db:
        lead = stored_lead(rpc)
        rpc.rpc(
            "apply_stripe_event",
            p_event_id=f"evt_{uuid.uuid4().hex}",
            p_event_type="checkout.session.completed",
            p_kind="fulfil",
            p_reason=None,
            p_lead_id=lead,
            p_tier=4,
            p_checkout_session_id="cs_live_other",
            p_payment_intent_id=f"pi_{uuid.uuid4().hex}",
            p_customer_id=None,
            p_email=None,
            p_amount=100,
            p_amount_refunded=0,
            p_currency="usd",
        )
        projects = _count(db, "select count(*) from projects")
        held = len(rpc.rpc("payments_held"))
    return [
        (
            "the $1 session naming a lead",
            f"{projects} projects",
            f"{held} payment held for the owner (listed by `atelier check`, alarmed)",
            _ok(projects == 0 and held == 1),
        )
    ]


def unarmed_handshake() -> list[Row]:
    with local_stack() as (stack, _, dsn), psycopg.connect(dsn, autocommit=True) as db:
        assert stack.front_door is not None
        answer = httpx.post(
            f"{stack.front_door.url}/webhooks/notion", json={"verification_token": "secret_mine"}, timeout=30
        )
        kept = stack.dev_state()["notion_webhook_verification_token"]
        armed = _count(db, "select count(*) from notion_webhook_arming where armed_until > now()")
    held = answer.status_code == 403 and kept is None
    return [
        (
            "an unarmed Notion handshake",
            f"{answer.status_code} {answer.json().get('error')}",
            f"token kept: {'no' if kept is None else 'YES'}; windows open: {armed}",
            _ok(held),
        )
    ]


def leads_from_one_address(count: int = 100, limit: int = 20) -> list[Row]:
    import os

    saved = {k: os.environ.get(k) for k in ("ATELIER_LEAD_LIMIT_PER_SOURCE", "ATELIER_LEAD_LIMIT_PER_EMAIL")}
    os.environ.update(ATELIER_LEAD_LIMIT_PER_SOURCE=str(limit), ATELIER_LEAD_LIMIT_PER_EMAIL="0")
    try:
        with local_stack() as (stack, _, dsn), psycopg.connect(dsn, autocommit=True) as db:
            assert stack.front_door is not None
            lead = {"name": "Flood", "budget": "$10k-15k", "timeline_weeks": 8, "project_type": "standard_renovation"}
            statuses: Counter[int] = Counter()
            with httpx.Client(base_url=stack.front_door.url, timeout=30) as client:
                for i in range(count):
                    statuses[client.post("/leads", json=lead | {"email": f"f{i}@example.com"}).status_code] += 1
            stored = _count(db, "select count(*) from leads")
    finally:
        for key, value in saved.items():
            os.environ.pop(key, None) if value is None else os.environ.__setitem__(key, value)
    return [
        (
            f"{count} leads from one address",
            f"{stored} stored",
            f"answers {dict(statuses)} (limit {limit}/hour)",
            _ok(stored == limit and statuses[429] == count - limit),
        )
    ]


def _synced_project(stack: Any, rpc: PsycopgRpc, db: psycopg.Connection[Any]) -> tuple[Any, str, NotionGateway]:
    """A paid project pushed to Notion: the sync's ports, the project's page, and the team's hand (the human token)."""
    assert stack.notion is not None
    paid_project(rpc, stored_lead(rpc))
    ports = wiring.sync_ports()
    run_cycle(ports, holder="first-push", budget_seconds=30)
    page_id = str(db.execute("select notion_page_id from projects").fetchone()[0])  # type: ignore[index]
    human = NotionGateway(stack.notion.state.human_token, base_url=stack.notion.url, budget=RequestBudget(1000))
    return ports, page_id, human


def trashed_page(changes: int = 10) -> list[Row]:
    with local_stack() as (stack, rpc, dsn), psycopg.connect(dsn, autocommit=True) as db:
        ports, page_id, human = _synced_project(stack, rpc, db)
        human.update_page(page_id, in_trash=True)
        run_cycle(ports, holder="trash-1", budget_seconds=30)
        for i in range(changes):
            db.execute("update projects set needs_review = %s", (i % 2 == 0,))
            run_cycle(ports, holder=f"trash-change-{i}", budget_seconds=30)
        dead = _count(db, "select count(*) from sync_outbox where status = 'dead'")
        waiting = _count(db, "select count(*) from sync_outbox where status = 'pending'")
        checked = _quiet(["check"])
    return [
        (
            f"a trashed page, then {changes} changes",
            f"{dead} dead",
            f"{waiting} pending; `atelier check` exit {checked}",
            _ok(dead == 0 and waiting == 0 and checked == 0),
        )
    ]


def setup_during_backlog(rows: int = 1000) -> list[Row]:
    """`atelier notion setup` while the sync drains a backlog at Notion's own 3 requests/s, sharing one budget."""
    with local_stack(notion_rate=3.0) as (_, rpc, dsn), psycopg.connect(dsn, autocommit=True) as db:
        for i in range(rows // 8):
            paid_project(rpc, stored_lead(rpc, i))
        backlog = _count(db, "select count(*) from sync_outbox where status = 'pending'")
        drain = threading.Thread(
            target=run_cycle, args=(wiring.sync_ports(),), kwargs={"holder": "backlog", "budget_seconds": 40}
        )
        drain.start()
        time.sleep(2)
        started = time.perf_counter()
        exit_code = _quiet(["notion", "setup"])
        took = time.perf_counter() - started
        drain.join()
        limited = _count(db, "select count(*) from sync_outbox where status = 'dead'")
    return [
        (
            f"notion setup during a {backlog}-row backlog",
            f"exit {exit_code}",
            f"{took:.0f} s, sharing 3 requests/s with the drain; {limited} dead rows",
            _ok(exit_code == 0 and limited == 0),
        )
    ]


def edit_versus_push() -> list[Row]:
    with local_stack() as (stack, rpc, dsn), psycopg.connect(dsn, autocommit=True) as db:
        ports, page_id, human = _synced_project(stack, rpc, db)
        human.update_page(page_id, {"Needs Review": {"checkbox": True}})  # a person ticks it...
        db.execute("update projects set payment_status = 'refunded'")  # ...and a refund's push lands after it
        for run in range(2):
            run_cycle(ports, holder=f"race-{run + 1}", budget_seconds=30)
        post_due(ports)
        shown = ports.notion.retrieve_page(page_id)["properties"]["Needs Review"]["checkbox"]
        comments = _count(db, "select count(*) from notion_comments")
    return [
        (
            "a team edit, then our push lands on it",
            f"put back: {'yes' if shown is False else 'NO'}",
            f"{comments} comment on the page saying why",
            _ok(shown is False and comments == 1),
        )
    ]


def slow_ses(clients: int = 20, ses_seconds: float = 3.5, timeout: float = 60.0) -> list[Row]:
    class Killed(BaseException):
        pass

    class SlowSes:
        def __init__(self) -> None:
            self.now, self.sent = 0.0, Counter[str]()

        def send(self, recipient: str, message: Message) -> str:
            if self.now >= timeout:
                raise Killed
            self.now += ses_seconds
            self.sent[recipient] += 1
            return "m"

    with local_stack() as (_, rpc, dsn), psycopg.connect(dsn, autocommit=True) as db:
        for i in range(clients):
            paid_project(rpc, stored_lead(rpc, i))
        first, later = SlowSes(), SlowSes()
        with contextlib.suppress(Killed):
            MailOutbox(rpc, first, Studio("S", "S"), clock=lambda: first.now).send_due(deadline=timeout - 10)
        db.execute("update notifications set next_attempt_at = now() where status = 'pending'")  # leases run out
        MailOutbox(rpc, later, Studio("S", "S"), clock=lambda: later.now).send_due()
    both = first.sent + later.sent
    twice = sum(1 for n in both.values() if n > 1)
    detail = f"{len(both)} of {clients} clients mailed once; {sum(first.sent.values())} in the first run"
    return [
        (f"SES at {ses_seconds} s a send, killed at {timeout:.0f} s", f"{twice} duplicates", detail, _ok(twice == 0))
    ]


def concurrent_sign_ins(count: int = 20) -> list[Row]:
    with local_stack() as (_, rpc, dsn), psycopg.connect(dsn, autocommit=True) as db:
        paid_project(rpc, stored_lead(rpc))
        start = threading.Barrier(count)

        def ask(i: int) -> None:
            start.wait()
            PsycopgRpc(dsn).rpc(
                "start_portal_sign_in",
                p_email="client0@example.com",
                p_source_ip=f"198.51.100.{i}",
                p_ttl_seconds=900,
                p_per_address=PER_ADDRESS,
                p_per_source=PER_SOURCE,
            )

        threads = [threading.Thread(target=ask, args=(i,)) for i in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        sent = _count(db, "select count(*) from notifications where template = 'portal_sign_in'")
    return [
        (
            f"{count} concurrent sign-ins for one address",
            f"{sent} e-mails",
            f"limit {PER_ADDRESS} per 15 min",
            _ok(sent <= PER_ADDRESS),
        )
    ]


STEPS: list[tuple[str, Any]] = [
    ("the privilege chain", privilege_chain),
    ("a $1 session naming a lead", one_dollar_session),
    ("an unarmed handshake", unarmed_handshake),
    ("100 leads from one address", leads_from_one_address),
    ("a trashed page with later changes", trashed_page),
    ("notion setup during a backlog", setup_during_backlog),
    ("a team edit against our push", edit_versus_push),
    ("slow SES and a kill at the timeout", slow_ses),
    ("concurrent sign-ins", concurrent_sign_ins),
]
