"""The database itself refuses rows that would corrupt money or identity, whatever the caller."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import errors

Conn = psycopg.Connection[tuple[object, ...]]


@pytest.fixture
def project(db: Conn) -> dict[str, str]:
    user = db.execute("insert into users (email) values ('ada@example.com') returning id").fetchone()
    assert user is not None
    client = db.execute("insert into clients (user_id, tier) values (%s, 2) returning id", (user[0],)).fetchone()
    assert client is not None
    row = db.execute(
        "insert into projects (client_id, tier, name) values (%s, 2, 'Kitchen') returning id", (client[0],)
    ).fetchone()
    assert row is not None
    return {"user_id": str(user[0]), "client_id": str(client[0]), "project_id": str(row[0])}


def _payment(db: Conn, project_id: str, **overrides: object) -> None:
    values: dict[str, object] = {
        "project_id": project_id,
        "stripe_payment_intent_id": "pi_123",
        "amount": 750000,
        "currency": "usd",
    }
    values.update(overrides)
    cols = ", ".join(values)
    marks = ", ".join(f"%({k})s" for k in values)
    db.execute(f"insert into payments ({cols}) values ({marks})", values)


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"amount": -100}, errors.CheckViolation),
        ({"amount": 0}, errors.CheckViolation),
        ({"currency": "US"}, errors.CheckViolation),
        ({"currency": "USD"}, errors.CheckViolation),
        ({"tier": 5}, errors.ForeignKeyViolation),
        ({"status": "paid_twice"}, errors.InvalidTextRepresentation),
        ({"stripe_payment_intent_id": "ch_123"}, errors.CheckViolation),
    ],
)
def test_a_bad_payment_is_refused(
    db: Conn, project: dict[str, str], overrides: dict[str, object], error: type[Exception]
) -> None:
    with pytest.raises(error):
        _payment(db, project["project_id"], **overrides)
    assert db.execute("select count(*) from payments").fetchone() == (0,)


def test_one_payment_per_payment_intent(db: Conn, project: dict[str, str]) -> None:
    _payment(db, project["project_id"])
    with pytest.raises(errors.UniqueViolation):
        _payment(db, project["project_id"], amount=100)
    assert db.execute("select count(*), sum(amount) from payments").fetchone() == (1, 750000)


def test_a_refund_larger_than_the_payment_is_refused(db: Conn, project: dict[str, str]) -> None:
    _payment(db, project["project_id"])
    with pytest.raises(errors.CheckViolation):
        db.execute("update payments set amount_refunded = amount + 1")


@pytest.mark.parametrize(
    ("statement", "error"),
    [
        (
            "insert into projects (client_id, tier, name) values (%(client_id)s, 5, 'x')",
            errors.ForeignKeyViolation,
        ),
        (
            "insert into projects (client_id, tier, name) values (%(client_id)s, 2, '  ')",
            errors.CheckViolation,
        ),
        ("update projects set status = 'finished'", errors.InvalidTextRepresentation),
        ("update projects set payment_status = 'free'", errors.InvalidTextRepresentation),
        (
            "insert into tiers (id, name, min_budget_cents, routing, price_cents) values (5, 'x', 0, 'auto', 1)",
            errors.CheckViolation,
        ),
        ("insert into users (email) values ('Ada@Example.com')", errors.CheckViolation),
        ("insert into users (email) values ('ada@example.com')", errors.UniqueViolation),
        ("insert into clients (user_id, tier) values (%(user_id)s, 1)", errors.UniqueViolation),
        (
            "insert into milestones (project_id, tier, name, \"order\") values (%(project_id)s, 2, 'a', 0)",
            errors.CheckViolation,
        ),
        (
            "insert into inbound_events (source, event_id, event_type) values ('stripe', 'evt_1', 'x'),"
            " ('stripe', 'evt_1', 'x')",
            errors.UniqueViolation,
        ),
        (
            "insert into sync_outbox (entity, entity_id) values ('project', %(project_id)s),"
            " ('project', %(project_id)s)",
            errors.UniqueViolation,
        ),
        (
            "insert into deliverables (project_id, name, file_path, file_size, s3_bucket)"
            " values (%(project_id)s, 'a.png', 'k', -1, 'b')",
            errors.CheckViolation,
        ),
    ],
)
def test_invalid_rows_are_refused_by_the_schema(
    db: Conn, project: dict[str, str], statement: str, error: type[Exception]
) -> None:
    with pytest.raises(error):
        db.execute(statement.encode(), project)


def test_a_done_outbox_row_does_not_block_a_new_pending_one(db: Conn, project: dict[str, str]) -> None:
    db.execute("delete from sync_outbox")  # what the triggers queued for the fixture's rows
    db.execute(
        "insert into sync_outbox (entity, entity_id, status) values ('project', %s, 'done')", (project["project_id"],)
    )
    db.execute("insert into sync_outbox (entity, entity_id) values ('project', %s)", (project["project_id"],))
    assert db.execute("select count(*) from sync_outbox").fetchone() == (2,)
