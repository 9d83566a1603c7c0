"""The local stack on a free port, against this test's own database."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from atelier.cli.migrate import migrate
from atelier.kernel.rpc import PsycopgRpc
from atelier.notion import NotionGateway, RequestBudget
from atelier.sync import OutboxPusher, SyncPorts
from atelier.sync.setup import setup
from atelier_local.notion_emulator import Faults, NotionEmulator
from atelier_local.openapi_check import OpenApiCheck
from atelier_local.postgres import EmbeddedPostgres
from atelier_local.stack import LocalStack
from tests.integration.generated import Harness
from tests.integration.reporting import PRICES, add_lead, add_payment, add_refund
from tests.integration.rls_world import World, build_world
from tests.integration.showcase import Studio

TEMPLATE_DB = "atelier_test_template"
REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def stack_env() -> dict[str, str]:
    """Extra environment for the stack's functions; a test adds to it before asking for `stack`."""
    return {}


@pytest.fixture
def stack(database_url: str, stack_env: dict[str, str], tmp_path: Path) -> Iterator[LocalStack]:
    saved = dict(os.environ)
    # The tests post many leads from one address; a test of the limits sets them in `stack_env`.
    os.environ.update({"ATELIER_LEAD_LIMIT_PER_SOURCE": "0", "ATELIER_LEAD_LIMIT_PER_EMAIL": "0"} | stack_env)
    running = LocalStack(
        database_url, port=0, environ=dict(os.environ), notion_rate=1000, log_dir=tmp_path / "logs"
    ).start()
    try:
        yield running
    finally:
        running.stop()
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture
def api(stack: LocalStack) -> Iterator[httpx.Client]:
    assert stack.front_door is not None
    with httpx.Client(base_url=stack.front_door.url, timeout=30) as client:
        yield client


@pytest.fixture
def team(stack: LocalStack) -> NotionGateway:
    """The Notion API as a team member uses it (the human token), with the webhooks on, as `make dev` has them."""
    stack.setup_notion()
    stack.connect_notion_webhooks(delay=0.2)
    assert stack.notion is not None
    return NotionGateway(stack.notion.state.human_token, base_url=stack.notion.url, budget=RequestBudget(rate=2000))


@pytest.fixture
def as_operator(
    stack: LocalStack, database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Callable[[], None]:
    """From the moment it is called, the operator's commands run against the stack as from its clone: settings from
    its `.atelier/dev.json` (the Stripe stand-in's address and key among them), none from the environment. (Called
    once the test has arranged what it needs through the stack: the stack's functions share this process.)"""

    def switch() -> None:
        monkeypatch.chdir(tmp_path)
        (tmp_path / ".atelier").mkdir(exist_ok=True)
        (tmp_path / ".atelier" / "dev.json").write_text(json.dumps(stack.dev_state()))
        monkeypatch.delenv("STRIPE_SECRET_KEY", raising=False)
        monkeypatch.delenv("STRIPE_API_BASE", raising=False)
        monkeypatch.setenv("DATABASE_URL", database_url)

    return switch


@pytest.fixture
def rpc(database_url: str) -> PsycopgRpc:
    return PsycopgRpc(database_url)


@pytest.fixture
def sources(gateway: NotionGateway, notion: NotionEmulator, rpc: PsycopgRpc) -> dict[str, str]:
    ids = setup(gateway, notion.parent_page_id, rpc=rpc, say=lambda _: None).ids
    return {name: i.data_source_id for name, i in ids.items()}


@pytest.fixture
def pusher(rpc: PsycopgRpc, gateway: NotionGateway, sources: dict[str, str]) -> OutboxPusher:
    return OutboxPusher(SyncPorts(rpc, gateway, sources))


@pytest.fixture
def harness(stack: LocalStack, db: psycopg.Connection[tuple[object, ...]]) -> Harness:
    """The front door's real events for the generated-input tests (`generated.py`), with Notion set up so that a
    doorbell for a real project pushes, as deployed."""
    stack.setup_notion()
    return Harness(stack, db)


@pytest.fixture
def known(stack: LocalStack, rpc: PsycopgRpc, db: psycopg.Connection[tuple[object, ...]]) -> dict[str, Any]:
    """Eight leads across three tiers in March and April 2024 (two to review), four paid in two months, one
    refunded in full; and one lead and one payment outside the period, which the report must leave out."""
    march, april = "2024-03-12T10:00:00Z", "2024-04-08T15:30:00Z"
    leads = {
        "a": add_lead(rpc, db, 1, review=False, created="2024-03-01T09:00:00Z"),
        "b": add_lead(rpc, db, 1, review=True, created="2024-03-02T09:00:00Z"),
        "c": add_lead(rpc, db, 2, review=False, created="2024-03-03T09:00:00Z"),
        "d": add_lead(rpc, db, 2, review=False, created="2024-03-04T09:00:00Z"),
        "e": add_lead(rpc, db, 2, review=True, created="2024-04-01T09:00:00Z"),
        "f": add_lead(rpc, db, 3, review=False, created="2024-04-02T09:00:00Z"),
        "g": add_lead(rpc, db, 3, review=False, created="2024-04-03T09:00:00Z"),
        "h": add_lead(rpc, db, 2, review=False, created="2024-04-30T23:59:00Z"),
        "outside": add_lead(rpc, db, 1, review=False, created="2024-05-01T00:00:00Z"),
    }
    add_payment(rpc, db, leads["a"], 1, paid=march)
    refunded = add_payment(rpc, db, leads["c"], 2, paid=march)
    add_payment(rpc, db, leads["d"], 2, paid=april)
    add_payment(rpc, db, leads["f"], 3, paid=april)
    add_payment(rpc, db, leads["outside"], 1, paid="2024-05-02T00:00:00Z")
    add_refund(rpc, refunded, PRICES[2], PRICES[2])
    return leads


@pytest.fixture
def world(db: psycopg.Connection[tuple[object, ...]]) -> World:
    """Every actor's own rows, for the row-level security tests (`rls_world.py`)."""
    return build_world(db)


@pytest.fixture
def studio(stack: LocalStack, rpc: PsycopgRpc, db: psycopg.Connection[tuple[object, ...]], tmp_path: Path) -> Studio:
    """A paid project to upload deliverables to, on the local stack (`showcase.py`)."""
    return Studio(stack, rpc, db, tmp_path)


@pytest.fixture(scope="session")
def postgres_admin_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server to test against: DATABASE_URL when given (it must allow CREATE DATABASE), else embedded."""
    given = os.environ.get("DATABASE_URL")
    if given:
        yield given
        return
    with EmbeddedPostgres(tmp_path_factory.mktemp("pg") / "data", delete_on_close=True) as server:
        yield server.dsn()


@pytest.fixture(scope="session")
def template_database(postgres_admin_url: str) -> str:
    """A database migrated once per session; each test clones it, which takes milliseconds."""
    with psycopg.connect(postgres_admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(TEMPLATE_DB)))
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(TEMPLATE_DB)))
    migrate(make_conninfo(postgres_admin_url, dbname=TEMPLATE_DB))
    return TEMPLATE_DB


@pytest.fixture
def database_url(postgres_admin_url: str, template_database: str) -> Iterator[str]:
    """A fresh, migrated and seeded database of this test's own, dropped afterwards."""
    name = f"atelier_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("create database {} template {}").format(sql.Identifier(name), sql.Identifier(template_database))
        )
    yield make_conninfo(postgres_admin_url, dbname=name)
    with psycopg.connect(postgres_admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


@pytest.fixture
def empty_database_url(postgres_admin_url: str) -> Iterator[str]:
    """A fresh database with nothing in it, for tests of the migrator itself."""
    name = f"atelier_empty_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    yield make_conninfo(postgres_admin_url, dbname=name)
    with psycopg.connect(postgres_admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


@pytest.fixture
def db(database_url: str) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """A superuser connection to this test's database, for arranging and asserting."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        yield conn


# --- Notion: the emulator, checking every request against Notion's OpenAPI file -------------------

SPEC = REPO_ROOT / "tests" / "spec" / "notion-openapi.json"


@pytest.fixture(scope="session")
def spec_check() -> OpenApiCheck:
    return OpenApiCheck(SPEC)


@pytest.fixture
def notion(spec_check: OpenApiCheck) -> Iterator[NotionEmulator]:
    """A fresh emulator with a scaled-up rate limit; a request that breaks the spec gets a 400."""
    emulator = NotionEmulator(validator=spec_check, faults=Faults(rate_per_second=2000, burst=2000)).start()
    yield emulator
    emulator.stop()
    assert emulator.spec_violations == []


@pytest.fixture
def gateway(notion: NotionEmulator) -> NotionGateway:
    return NotionGateway(notion.state.bot_token, base_url=notion.url, budget=RequestBudget(rate=2000), timeout_s=5)


@pytest.fixture
def human(notion: NotionEmulator) -> NotionGateway:
    """The team, editing through the ordinary API with the emulator's person token."""
    return NotionGateway(notion.state.human_token, base_url=notion.url, budget=RequestBudget(rate=2000), timeout_s=5)
