"""`atelier status`: which stack a command would use (the `.atelier` folder found from here, or `ATELIER_HOME`'s),
and whether each of its parts answers, with its address and version."""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from atelier.cli.args import verb
from atelier.cli.render import redacted, table
from atelier.kernel.home import dev_state_file, stacks
from atelier.kernel.settings import DEV_STATE_ENV, read_dev_state

TIMEOUT = 3.0


@dataclass(frozen=True)
class Part:
    name: str
    where: str
    answers: bool
    version: str
    detail: str = ""


def _http(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str]]:
    import httpx

    response = httpx.get(url, headers=headers or {}, timeout=TIMEOUT)
    return response.status_code, dict(response.headers)


def _postgres(url: str) -> Part:
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=int(TIMEOUT)) as conn:
            row = conn.execute("select current_setting('server_version')").fetchone()
        return Part("postgres", redacted(url), True, f"PostgreSQL {row[0] if row else '?'}")
    except psycopg.Error as exc:
        return Part("postgres", redacted(url), False, "", str(exc).strip().splitlines()[0][:100])


def _probe(name: str, url: str | None, path: str, version: Callable[[dict[str, str]], str], **headers: str) -> Part:
    if not url:
        return Part(name, "-", False, "", "not in this stack's state")
    try:
        status, got = _http(url.rstrip("/") + path, headers)
    except Exception as exc:  # any failure to connect is the finding itself
        return Part(name, url, False, "", f"{type(exc).__name__}: does not answer")
    return Part(name, url, status < 500, version(got), f"HTTP {status}")


def parts(state: dict[str, Any]) -> list[Part]:
    env = {key: os.environ.get(name) or state.get(key) for key, name in DEV_STATE_ENV.items()}
    found = [_postgres(str(env["database_url"]))] if env.get("database_url") else []
    from atelier.cli import _version  # the one `atelier --version` prints

    found.append(_probe("front door", env.get("api_url"), "/intake", lambda _: f"atelier {_version()}"))
    notion_headers = {"Authorization": f"Bearer {env.get('notion_token')}", "Notion-Version": "2025-09-03"}
    found.append(
        _probe("notion", env.get("notion_base_url"), "/v1/users/me", lambda _: "API 2025-09-03", **notion_headers)
    )
    found.append(_probe("s3 and ses", env.get("s3_endpoint_url"), "/", lambda h: h.get("server", "moto")))
    stripe = state.get("stripe_api_base")
    key = {"Authorization": f"Bearer {state.get('stripe_api_key')}"}
    found.append(_probe("stripe stand-in", stripe, "/v1/events?limit=1", lambda _: "local stand-in", **key))
    return found


def _stacks(state_file: Path) -> list[dict[str, Any]]:
    return [
        {"file": str(path), "api_url": state.get("api_url"), "pid": state.get("pid"), "running": alive}
        for path, state, alive in stacks(state_file.parent)
    ]


def status(args: argparse.Namespace) -> int:
    state_file = dev_state_file()
    state = read_dev_state(state_file)
    if not state and not os.environ.get("DATABASE_URL"):
        print(
            f"status: no stack: {state_file} is not there and DATABASE_URL is not set. Start `make dev` in the clone "
            "(or set ATELIER_HOME to the clone's folder)."
        )
        return 2
    started = state.get("started_at")
    found = parts(state)
    stacks = _stacks(state_file)
    if args.json:
        print(json.dumps({"state": str(state_file), "parts": [p.__dict__ for p in found], "stacks": stacks}, indent=2))
    else:
        target = state_file.resolve() if state_file.exists() else state_file
        since = f", started {time.strftime('%H:%M:%S', time.localtime(float(started)))}" if started else ""
        print(f"stack: {target} (pid {state.get('pid', '-')}{since})" if state else "stack: from the environment")
        rows = [(p.name, p.where, "ok" if p.answers else "no", p.version or "-", p.detail) for p in found]
        print(table(("part", "address", "answers", "version", "detail"), rows, rule=True))
        others = [s for s in stacks if s["file"] != str(target)]
        for other in others:
            print(f"also: {other['api_url']} ({'running' if other['running'] else 'stopped'}; {other['file']})")
    return 0 if all(p.answers for p in found) else 1


def register(verbs: Any) -> None:
    parser = verb(
        verbs,
        "status",
        status,
        help="which stack commands use, and whether each part answers (exit 1 if one does not)",
        example="ATELIER_HOME=~/atelier atelier status",
    )
    parser.add_argument("--json", action="store_true", help="as JSON, for scripts")
