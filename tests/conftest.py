"""Shared fixtures: one real Postgres per test session, and a fresh migrated database per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from atelier import wiring
from atelier.cli.migrate import migrate
from atelier.notion import NotionGateway, RequestBudget
from atelier_local.notion_emulator import Faults, NotionEmulator
from atelier_local.openapi_check import OpenApiCheck
from atelier_local.postgres import EmbeddedPostgres

TEMPLATE_DB = "atelier_test_template"
REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _environment_restored() -> Iterator[None]:
    """What a test and its fixtures do to os.environ is undone after all of them, whatever their order
    (monkeypatch undone after the stack has restored the environment would otherwise leak a DSN)."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)
    wiring.reset()  # adapters built from this test's settings go with them


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
