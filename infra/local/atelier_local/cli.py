"""`atelier dev` and `atelier demo`: the local stack's verbs, added to the `atelier` command as a plugin
(entry-point group `atelier.cli`), so that the shared package never imports the local stack."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from atelier import wiring
from atelier.cli.args import verb
from atelier.cli.migrate import migrate
from atelier.cli.render import redacted
from atelier.kernel.home import DEV_STATE_FILE, state_home
from atelier_local import stacks

# `make dev` serves two businesses: the default, and this one under /b/<slug>/ (ATELIER_SECOND_BUSINESS=slug:Name).
_SLUG, _, _NAME = os.environ.get("ATELIER_SECOND_BUSINESS", "kaa:KAA Studio").partition(":")
SECOND_BUSINESS = (_SLUG.strip(), _NAME.strip() or _SLUG.strip())


def _port_free(port: int, host: str = "127.0.0.1") -> None:
    """Before anything starts: the front door's port must be free (another `make dev`, say, holds it)."""
    import socket

    from atelier.kernel.errors import ConfigurationError

    if port == 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As the front door binds: a port held only by the last run's closed connections (TIME-WAIT) is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            raise ConfigurationError(
                f"port {port} is in use (another `make dev`?): stop it, or choose another, "
                f"e.g. `PORT={port + 1} make dev`"
            ) from None


def _quiet_library_warnings() -> None:
    """A function run with nothing to count makes Powertools warn "No application metrics to publish": in Lambda
    that line goes to the function's log; here it would land on the terminal, between the stack's own lines."""
    import warnings

    warnings.filterwarnings("ignore", "No application metrics to publish", UserWarning)


def dev(args: argparse.Namespace) -> int:
    from atelier_local.postgres import EmbeddedPostgres
    from atelier_local.stack import LocalStack

    _quiet_library_warnings()

    state_dir = Path(args.state_dir) if args.state_dir else state_home()
    port = int(os.environ.get("PORT", "3000")) if args.port is None else args.port
    _port_free(port)
    server = None
    database_url = os.environ.get("DATABASE_URL")
    if not database_url:
        print(f"postgres:   starting the embedded server (data in {state_dir / 'pg'}) ...", flush=True)
        server = EmbeddedPostgres(state_dir / "pg")
        database_url = server.dsn()
    migrate(database_url, say=lambda line: print(f"            {line}"))
    stack = LocalStack(database_url, port=port, state_dir=state_dir).start()
    synced = stack.setup_notion(say=lambda line: print(f"            {line}"))
    # A second business beside the default, as one deployment serves several: its own Notion, Stripe and sender.
    second, second_name = SECOND_BUSINESS
    stack.add_business(second, second_name, say=lambda line: print(f"            {line}"))
    if synced:
        stack.start_schedule(float(os.environ.get("SYNC_INTERVAL", "30")))
    state_file = stacks.register(state_dir, stack.bound_port())  # dev.json: this stack, the one started last
    stack.write_dev_state(state_file)
    webhook_delay = float(os.environ.get("NOTION_WEBHOOK_DELAY", "2"))
    if stack.notion:
        stack.connect_notion_webhooks(delay=webhook_delay)  # the handshake adds its token to dev.json
        with wiring.in_business(second):
            stack.connect_notion_webhooks(delay=webhook_delay)
    url = stack.dev_state()["api_url"]
    print(f"postgres:   {redacted(database_url)}")
    print(f"front door: {url}  (every HTTP function, as API Gateway v2 events)")
    print(f"            {url}/intake  - the intake form")
    print(f"            {url}/b/{second}/intake  - {second_name}'s (a second business: its own Notion, Stripe, sender)")
    notion = f"the emulator at {stack.notion.url}" if stack.notion else "real Notion (NOTION_TOKEN)"
    print(f"notion:     {notion}; notion_sync runs every {os.environ.get('SYNC_INTERVAL', '30')} s")
    if stack.notion:
        print(
            f"            the team's edits arrive by webhook at {url}/webhooks/notion, {webhook_delay:g} s after "
            "they are made (NOTION_WEBHOOK_DELAY)"
        )
    stripe = "the local stand-in (set STRIPE_SECRET_KEY for real Stripe)" if stack.stripe else "real Stripe"
    print(f"stripe:     {stripe}")
    if stack.s3:
        print(
            f"s3:         {stack.s3.url}, bucket {stack.s3.bucket} (in memory; `atelier deliverable upload` puts "
            "files there)"
        )
    print(f"state:      {state_dir / DEV_STATE_FILE.name} -> {state_file} (other atelier commands read it)")
    print(f"logs:       {state_dir / 'logs'}/<function>.log (what CloudWatch Logs would hold)")
    try:
        if args.once:
            return 0
        print("running:    press Ctrl-C to stop", flush=True)
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        print("stopping ... (a scheduled run under way finishes first; Ctrl-C again stops at once)", flush=True)
        return 0
    finally:
        try:
            stack.stop()
        except KeyboardInterrupt:  # a second Ctrl-C: stop now, without waiting for the run
            stack.stop(wait=False)
        if not args.once:  # --once leaves its state, as it says; a stack that ran hands dev.json to the next
            stacks.unregister(state_dir, stack.bound_port())
        if server:
            server.close()


def demo(args: argparse.Namespace) -> int:
    from atelier_local import demo

    _quiet_library_warnings()
    with tempfile.TemporaryDirectory(prefix="atelier-demo-") as tmp:
        workdir = Path(tmp)
        with demo.embedded_database(workdir) as database_url:
            steps = demo.run(database_url, workdir)
        print()
        print(demo.table(steps))
        total = sum(s.seconds for s in steps)
        if all(s.held for s in steps):
            print(f"\ndemo: every step held ({total:.1f} s)")
            print(
                "demo: the demo client's portal link (this demo's stack has stopped; with `make dev` running, "
                "`atelier portal link EMAIL` makes one that opens):"
            )
            print(demo.PORTAL_LINK.get("link", "(none)"))
            print(f"demo: this month's report from the demo's own data: {demo.REPORT.get('figures', '(none)')}")
            print("demo: the owner's report link (`atelier report link` makes one for `make dev`):")
            print(demo.REPORT.get("link", "(none)"))
            return 0
        print(f"\ndemo: a step did not hold; the functions' logs were in {workdir / 'logs'}", file=sys.stderr)
        for log in sorted((workdir / "logs").glob("*.log")):
            lines = log.read_text().splitlines()[-5:]
            print(f"--- {log.name} (last lines)", *lines, sep="\n", file=sys.stderr)
        return 1


def register(verbs: Any) -> None:
    parser = verb(
        verbs, "dev", dev, help="run the whole stack locally on embedded defaults", example="PORT=3400 atelier dev"
    )
    parser.add_argument(
        "--state-dir", default=None, help="where data and dev.json live (default: the clone's .atelier, ATELIER_HOME's)"
    )
    parser.add_argument("--once", action="store_true", help="start, migrate, write dev.json, then stop")
    parser.add_argument("--port", type=int, default=None, help="port of the front door (default: $PORT or 3000)")
    verb(
        verbs,
        "demo",
        demo,
        help="the whole lifecycle end to end on embedded defaults; exit 0 only if every step held",
        example="atelier demo",
    )
    parser = verb(
        verbs,
        "invoke",
        _invoke,
        help="run one function in this process with an event, against the running stack (no Docker needed)",
        example="atelier invoke notion_sync tests/events/eventbridge_schedule.json",
    )
    parser.add_argument("function", metavar="FUNCTION", help="the function's folder name, e.g. client_pages")
    parser.add_argument("event", nargs="?", metavar="EVENT", help="a JSON file, or a name in tests/events")
    parser.add_argument("--full", action="store_true", help="print the whole response body")


def _invoke(args: argparse.Namespace) -> int:
    from atelier_local.invoke import invoke

    _quiet_library_warnings()
    return invoke(args)
