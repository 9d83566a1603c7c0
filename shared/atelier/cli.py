"""The `atelier` command: operator verbs over the same package the Lambda functions use."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from atelier.errors import AtelierError, ConfigurationError
from atelier.settings import DEV_STATE_ENV, DEV_STATE_FILE, apply_dev_state


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        raise ConfigurationError("DATABASE_URL is not set: export it, or start `make dev` and run this again")
    return url


def cmd_db_migrate(args: argparse.Namespace) -> int:
    from atelier.migrate import migrate

    migrate(_database_url(), say=print)
    return 0


def cmd_dev(args: argparse.Namespace) -> int:
    from atelier.localdb import EmbeddedPostgres
    from atelier.migrate import migrate

    state_dir = Path(args.state_dir)
    state: dict[str, Any] = {key: None for key in DEV_STATE_ENV}
    server = None
    database_url = os.environ.get("DATABASE_URL")
    if not database_url:
        print(f"postgres: starting the embedded server (data in {state_dir / 'pg'}) ...", flush=True)
        server = EmbeddedPostgres(state_dir / "pg")
        database_url = server.dsn()
    migrate(database_url, say=print)
    state["database_url"] = database_url
    for key in ("stripe_webhook_secret", "supabase_webhook_secret"):
        state[key] = os.environ.get(DEV_STATE_ENV[key]) or None
    state_file = state_dir / DEV_STATE_FILE.name
    state_dir.mkdir(parents=True, exist_ok=True)
    state_file.write_text(json.dumps(state, indent=2) + "\n")
    state_file.chmod(0o600)
    print(f"postgres: ready at {database_url}")
    print(f"state:    {state_file} (other atelier commands read their settings from it)")
    if args.once:
        if server:
            server.close()
        return 0
    print("running: press Ctrl-C to stop", flush=True)
    stop = False

    def _stop(*_: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, _stop)
    try:
        while not stop:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    print("stopping ...")
    if server:
        server.close()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="atelier", description="Run and operate the Atelier studio backend.")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="COMMAND")

    db = verbs.add_parser("db", help="database schema")
    db_verbs = db.add_subparsers(dest="db_verb", required=True, metavar="ACTION")
    db_verbs.add_parser(
        "migrate", help="apply the bootstrap (plain Postgres only), migrations and seed to DATABASE_URL"
    ).set_defaults(run=cmd_db_migrate)

    dev = verbs.add_parser("dev", help="run the whole stack locally on embedded defaults")
    dev.add_argument("--state-dir", default=str(DEV_STATE_FILE.parent), help="where data and dev.json live")
    dev.add_argument("--once", action="store_true", help="start, migrate, write dev.json, then stop")
    dev.set_defaults(run=cmd_dev)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.verb != "dev":
        apply_dev_state()
    try:
        return int(args.run(args))
    except AtelierError as exc:
        print(f"atelier: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
