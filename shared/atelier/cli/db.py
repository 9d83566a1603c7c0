"""`atelier db`: the database schema."""

from __future__ import annotations

import argparse
import os
from typing import Any

from atelier.cli.args import noun, verb
from atelier.kernel.errors import ConfigurationError


def database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        raise ConfigurationError("DATABASE_URL is not set: export it, or start `make dev` and run this again")
    return url


def migrate(args: argparse.Namespace) -> int:
    from atelier.cli.migrate import migrate

    migrate(database_url(), say=print)
    return 0


def register(verbs: Any) -> None:
    actions = noun(verbs, "db", "database schema", example="atelier db migrate")
    verb(
        actions,
        "migrate",
        migrate,
        help="apply the bootstrap (plain Postgres only), migrations and seed to DATABASE_URL",
        example="DATABASE_URL=postgresql://... atelier db migrate",
    )
