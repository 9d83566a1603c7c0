"""The `atelier` command: operator verbs over the same package the Lambda functions use."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from atelier.errors import AtelierError, ConfigurationError
from atelier.settings import DEV_STATE_FILE, apply_dev_state
from atelier.storage import CATEGORIES


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        raise ConfigurationError("DATABASE_URL is not set: export it, or start `make dev` and run this again")
    return url


def cmd_db_migrate(args: argparse.Namespace) -> int:
    from atelier.migrate import migrate

    migrate(_database_url(), say=print)
    return 0


def _redacted(dsn: str) -> str:
    """A connection string fit to print: any password replaced."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    try:
        parts = conninfo_to_dict(dsn)
    except Exception:
        return "(DATABASE_URL)"
    if parts.get("password"):
        parts["password"] = "***"  # noqa: S105 - the mask, not a password
    return make_conninfo(**{k: str(v) for k, v in parts.items()})


def cmd_dev(args: argparse.Namespace) -> int:
    from atelier.localdb import EmbeddedPostgres
    from atelier.migrate import migrate

    try:
        from atelier_local.stack import LocalStack
    except ImportError as exc:
        raise ConfigurationError("the local stack is not installed: run `make install`") from exc

    state_dir = Path(args.state_dir)
    server = None
    database_url = os.environ.get("DATABASE_URL")
    if not database_url:
        print(f"postgres:   starting the embedded server (data in {state_dir / 'pg'}) ...", flush=True)
        server = EmbeddedPostgres(state_dir / "pg")
        database_url = server.dsn()
    migrate(database_url, say=lambda line: print(f"            {line}"))
    port = int(os.environ.get("PORT", "3000")) if args.port is None else args.port
    stack = LocalStack(database_url, port=port, state_dir=state_dir).start()
    if stack.setup_notion(say=lambda line: print(f"            {line}")):
        stack.start_schedule(float(os.environ.get("SYNC_INTERVAL", "30")))
    state_file = state_dir / DEV_STATE_FILE.name
    stack.write_dev_state(state_file)
    url = stack.dev_state()["api_url"]
    print(f"postgres:   {_redacted(database_url)}")
    print(f"front door: {url}  (every HTTP function, as API Gateway v2 events)")
    print(f"            {url}/intake  - the intake form")
    notion = f"the emulator at {stack.notion.url}" if stack.notion else "real Notion (NOTION_TOKEN)"
    print(f"notion:     {notion}; notion_sync runs every {os.environ.get('SYNC_INTERVAL', '30')} s")
    stripe = "the local stand-in (set STRIPE_SECRET_KEY for real Stripe)" if stack.stripe else "real Stripe"
    print(f"stripe:     {stripe}")
    if stack.s3:
        print(f"s3:         {stack.s3.url}, bucket {stack.s3.bucket} (in memory; `atelier deliverable upload` puts "
              "files there)")  # fmt: skip
    print(f"state:      {state_file} (other atelier commands read their settings from it)")
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
        print("stopping ...")
        return 0
    finally:
        stack.stop()
        if server:
            server.close()


def cmd_demo(args: argparse.Namespace) -> int:
    import tempfile

    try:
        from atelier_local import demo
    except ImportError as exc:
        raise ConfigurationError("the local stack is not installed: run `make install`") from exc

    with tempfile.TemporaryDirectory(prefix="atelier-demo-") as tmp:
        workdir = Path(tmp)
        with demo.embedded_database(workdir) as database_url:
            steps = demo.run(database_url, workdir)
        print()
        print(demo.table(steps))
        held = all(s.held for s in steps)
        total = sum(s.seconds for s in steps)
        if held:
            print(f"\ndemo: every step held ({total:.1f} s)")
            return 0
        print(f"\ndemo: a step did not hold; the functions' logs were in {workdir / 'logs'}", file=sys.stderr)
        for log in sorted((workdir / "logs").glob("*.log")):
            lines = log.read_text().splitlines()[-5:]
            print(f"--- {log.name} (last lines)", *lines, sep="\n", file=sys.stderr)
        return 1


def cmd_stripe_replay(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from atelier.db import rpc_from_settings
    from atelier.settings import DatabaseSettings, PaymentSettings, load, read_dev_state
    from atelier.stripe_events import StripeEventService
    from atelier.stripe_replay import events_from_file, events_since, replay

    if bool(args.file) == bool(args.since):
        raise ConfigurationError("give a FILE of events, or --since TIME to list them from Stripe (not both)")
    service = StripeEventService(
        rpc_from_settings(load(DatabaseSettings)), livemode=load(PaymentSettings).stripe_livemode
    )
    if args.file:
        events = events_from_file(Path(args.file))
        outcomes = replay(events, service, total=len(events))
    else:
        try:
            since = datetime.fromisoformat(args.since)
        except ValueError:
            raise ConfigurationError(
                f"--since {args.since!r} is not a time such as 2026-11-20T00:00:00+00:00"
            ) from None
        since = since if since.tzinfo else since.replace(tzinfo=UTC)
        key = os.environ.get("STRIPE_SECRET_KEY")
        api_base = os.environ.get("STRIPE_API_BASE")
        api_url = read_dev_state().get("api_url")
        if not key and api_url:  # a running `make dev`: its Stripe stand-in
            from atelier_local.stripe_standin import API_PREFIX, LOCAL_API_KEY

            key, api_base = LOCAL_API_KEY, f"{api_url}{API_PREFIX}"
        if not key:
            raise ConfigurationError("STRIPE_SECRET_KEY is not set: export it to list events from Stripe")
        listed = list(events_since(key, since, api_base=api_base))
        outcomes = replay(listed, service, total=len(listed))
    print(json.dumps(dict(sorted(outcomes.items()))))
    return 0


def _notion() -> tuple[Any, Any]:
    from atelier.notion import gateway_from_settings
    from atelier.settings import NotionSettings, load

    settings = load(NotionSettings)
    return gateway_from_settings(settings), settings


def cmd_notion_setup(args: argparse.Namespace) -> int:
    from atelier.notion_setup import setup

    gateway, settings = _notion()
    parent = args.parent_page or settings.notion_parent_page_id
    if not parent:
        raise ConfigurationError("give --parent-page PAGE_ID (a page shared with the integration)")
    result = setup(gateway, parent, say=lambda line: print(line, file=sys.stderr))
    for line in result.env_lines():
        print(line)
    if args.ssm_prefix:
        import boto3

        ssm = boto3.client("ssm")
        for line in result.env_lines():
            name, _, value = line.partition("=")
            ssm.put_parameter(Name=f"{args.ssm_prefix.rstrip('/')}/{name}", Value=value, Type="String", Overwrite=True)
        print(f"notion: stored {len(result.env_lines())} ids under {args.ssm_prefix}", file=sys.stderr)
    return 0


def cmd_notion_check(args: argparse.Namespace) -> int:
    from atelier.notion_setup import check, find_existing, format_table

    gateway, settings = _notion()
    parent = args.parent_page or settings.notion_parent_page_id
    if not parent:
        raise ConfigurationError("give --parent-page PAGE_ID, or set NOTION_PARENT_PAGE_ID")
    drift = check(gateway, find_existing(gateway, parent))
    if not drift:
        print("notion: no drift - every data source and property matches the mapping")
        return 0
    print(format_table(drift))
    print(f"\nnotion: {len(drift)} difference(s) from the mapping", file=sys.stderr)
    return 1


def _sync_ports() -> tuple[Any, Any, dict[str, str]]:
    """The database, the gateway, and the data sources: from the environment, or found under the parent page
    (as against a running `make dev`, whose dev.json names the page but not the data sources)."""
    from atelier.db import rpc_from_settings
    from atelier.notion_setup import find_existing
    from atelier.settings import DatabaseSettings, SyncSettings, load

    gateway, notion = _notion()
    try:
        sources = load(SyncSettings).data_sources()
    except ConfigurationError:
        if not notion.notion_parent_page_id:
            raise
        found = find_existing(gateway, notion.notion_parent_page_id)
        if len(found) < 5:
            raise ConfigurationError("the Notion databases are not set up: run `atelier notion setup`") from None
        sources = {name: ids.data_source_id for name, ids in found.items()}
    return rpc_from_settings(load(DatabaseSettings)), gateway, sources


def cmd_sync_run(args: argparse.Namespace) -> int:
    import uuid

    from atelier.sync import run_cycle

    rpc, gateway, sources = _sync_ports()
    cycle = run_cycle(rpc, gateway, sources, holder=f"cli-{uuid.uuid4()}", budget_seconds=args.budget)
    if not cycle.ran or cycle.sweep is None or cycle.poll is None:
        print("sync: another run holds the lease; try again in a minute", file=sys.stderr)
        return 1
    sweep, poll = cycle.sweep, cycle.poll
    print(f"push: {sweep.claimed} claimed, {sweep.created} created, {sweep.updated} updated, "
          f"{sweep.unchanged} unchanged, {sweep.failed} failed {json.dumps(sweep.outcome)}")  # fmt: skip
    print(f"poll: {poll.applied} applied, {poll.deleted} deleted, {poll.restored} restored, "
          f"{poll.overridden} put back, {poll.echoes} of our own edits skipped")  # fmt: skip
    return 0


def cmd_outbox_list(args: argparse.Namespace) -> int:
    from atelier.db import rpc_from_settings
    from atelier.settings import DatabaseSettings, load

    rows = rpc_from_settings(load(DatabaseSettings)).rpc("outbox_rows", p_status="dead" if args.dead else None,
                                                         p_limit=args.limit)  # fmt: skip
    if not rows:
        print("outbox: empty" if not args.dead else "outbox: no dead rows")
        return 0
    print(f"{'id':>6}  {'entity':11} {'record':36}  {'status':7} {'tries':>5}  last error")
    for row in rows:
        error = (row.get("last_error") or "").splitlines()[0][:60] if row.get("last_error") else ""
        print(
            f"{row['id']:>6}  {row['entity']:11} {row['entity_id']:36}  {row['status']:7} {row['attempts']:>5}  {error}"
        )
    return 0


def cmd_outbox_retry(args: argparse.Namespace) -> int:
    from atelier.db import rpc_from_settings
    from atelier.settings import DatabaseSettings, load

    ids = [int(i) for i in args.ids] or None
    result = rpc_from_settings(load(DatabaseSettings)).rpc("retry_outbox", p_ids=ids, p_dead=args.dead)
    print(f"outbox: {result['retried']} row(s) queued again; `atelier sync run` pushes them now")
    return 0


def cmd_resync(args: argparse.Namespace) -> int:
    from atelier.notion_schema import BY_NAME
    from atelier.progress import Progress
    from atelier.sync import OutboxPusher

    if bool(args.entity) == bool(args.all):
        raise ConfigurationError(f"name one ENTITY ({', '.join(BY_NAME)}) or give --all")
    if args.entity and args.entity not in BY_NAME:
        raise ConfigurationError(f"unknown entity {args.entity!r}: choose one of {', '.join(BY_NAME)}")
    rpc, gateway, sources = _sync_ports()
    entities = list(BY_NAME) if args.all else [args.entity]
    queued = int(rpc.rpc("resync", p_entities=entities, p_force=True)["queued"])
    progress = Progress(queued, "resync")
    pusher = OutboxPusher(rpc, gateway, sources)
    while True:
        report = pusher.sweep(batch=25)
        progress.advance(report.claimed)
        if report.claimed == 0 or rpc.rpc("sync_health")["outbox_depth"] == 0:
            break
    progress.finish(f"({queued} queued)")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from atelier.sync import drift

    rpc, gateway, sources = _sync_ports()
    found = drift(rpc, gateway, sources)
    if not found:
        print("check: no drift - every linked record matches its Notion page")
        return 0
    rows = [("entity", "record", "problem", "detail"), *[(d.entity, d.record_id, d.problem, d.detail) for d in found]]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for row in rows:
        print("  ".join(cell.ljust(widths[i]) if i < 3 else cell for i, cell in enumerate(row)))
    print(
        f"\ncheck: {len(found)} difference(s); `atelier resync ENTITY` pushes Postgres' values again", file=sys.stderr
    )
    return 1


def cmd_import_notion(args: argparse.Namespace) -> int:
    from atelier.notion_import import import_leads

    rpc, gateway, sources = _sync_ports()
    report = import_leads(rpc, gateway, sources)
    for title, why in report.skipped:
        print(f"skipped {title!r}: {why} - fix the page in Notion and run this again")
    for entity, count in report.not_importable.items():
        print(f"left alone: {count} {entity} page(s) without an Atelier ID; create them through Atelier")
    print(f"import-notion: {len(report.imported)} lead(s) imported and linked")
    return 0


def cmd_deliverable_upload(args: argparse.Namespace) -> int:
    import getpass
    import uuid

    from boto3.exceptions import S3UploadFailedError
    from botocore.exceptions import BotoCoreError, ClientError

    from atelier.progress import Progress
    from atelier.settings import load
    from atelier.storage import DeliverableKey, StorageSettings, guess_type

    try:
        project_id = str(uuid.UUID(args.project_id))
    except ValueError:
        raise ConfigurationError(f"{args.project_id!r} is not a project id (a uuid)") from None
    path = Path(args.file)
    if not path.is_file():
        raise ConfigurationError(f"{path} is not a file")
    database_url = os.environ.get("DATABASE_URL")
    if database_url and not args.force and _project_state(database_url, project_id) != "live":
        raise ConfigurationError(f"there is no live project {project_id}: check the id (`--force` uploads anyway, "
                                 "and the upload is kept as an orphan in the audit log)")  # fmt: skip
    settings = load(StorageSettings)
    bucket = settings.bucket()
    key = DeliverableKey.make(project_id, args.category, args.name or path.name)
    content_type = guess_type(path.name)
    s3 = settings.client()
    size = path.stat().st_size
    uploader = _ascii(args.uploaded_by or os.environ.get("ATELIER_USER") or getpass.getuser())
    progress = Progress(size, f"uploading {path.name}")
    try:
        s3.upload_file(str(path), bucket, key, Callback=progress.advance,
                       ExtraArgs={"ContentType": content_type, "Metadata": {"uploaded-by": uploader}})  # fmt: skip
        version = s3.head_object(Bucket=bucket, Key=key).get("VersionId")
    except (BotoCoreError, ClientError, S3UploadFailedError) as exc:
        raise ConfigurationError(f"could not upload to s3://{bucket}: {_first_line(exc)} - is `make dev` running, "
                                 "or are your AWS credentials and DELIVERABLES_BUCKET right?") from None  # fmt: skip
    progress.finish(f"({size} bytes)")
    print(f"uploaded s3://{bucket}/{key} ({content_type}, version {version or '-'})")
    if not database_url or args.wait <= 0:
        print("the deliverable is recorded when S3 notifies deliverable_uploaded")
        return 0
    found = _wait_for_deliverable(database_url, bucket, key, version, seconds=args.wait)
    if found:
        print(f"deliverable {found['id']} (version {found['version']})")
        print(f"download:   {found['file_url']}")
        return 0
    print(f"atelier: not recorded within {args.wait:.0f} s; is `make dev` running? see .atelier/logs/"
          "deliverable_uploaded.log", file=sys.stderr)  # fmt: skip
    return 1


def _ascii(text: str) -> str:
    """S3 metadata values travel as HTTP headers: ASCII only."""
    return text.encode("ascii", "replace").decode()[:200]


def _project_state(database_url: str, project_id: str) -> str:
    import psycopg

    try:
        with psycopg.connect(database_url, autocommit=True, connect_timeout=10) as conn:
            row = conn.execute("select deleted_at is null from public.projects where id = %s",
                               (project_id,)).fetchone()  # fmt: skip
    except psycopg.OperationalError as exc:
        raise ConfigurationError(f"cannot reach the database to check the project ({_first_line(exc)}); "
                                 "start `make dev`, or pass --force to upload without the check") from None  # fmt: skip
    return "missing" if row is None else "live" if row[0] else "deleted"


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _wait_for_deliverable(database_url: str, bucket: str, key: str, version: str | None, *,
                          seconds: float) -> dict[str, Any] | None:  # fmt: skip
    """The deliverable row for this upload, once S3's event has been handled; None if not within `seconds`."""
    import time

    import psycopg
    from psycopg.rows import dict_row

    deadline = time.monotonic() + seconds
    with psycopg.connect(database_url, autocommit=True, row_factory=dict_row) as conn:
        while True:
            found = conn.execute(
                "select id, version, file_url from public.deliverables where s3_bucket = %s and file_path = %s"
                " and s3_version_id is not distinct from %s order by version desc limit 1",
                (bucket, key, version),
            ).fetchone()
            if found or time.monotonic() >= deadline:
                return found
            time.sleep(0.3)


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
    dev.add_argument("--port", type=int, default=None, help="port of the front door (default: $PORT or 3000)")
    dev.set_defaults(run=cmd_dev)

    verbs.add_parser(
        "demo", help="the whole lifecycle end to end on embedded defaults; exit 0 only if every step held"
    ).set_defaults(run=cmd_demo)

    stripe = verbs.add_parser("stripe", help="Stripe payments")
    stripe_verbs = stripe.add_subparsers(dest="stripe_verb", required=True, metavar="ACTION")
    replay = stripe_verbs.add_parser(
        "replay", help="re-apply events through the webhook's path; safe to run any number of times"
    )
    replay.add_argument("file", nargs="?", help="a JSON file: an event, a list of events, or a Stripe list")
    replay.add_argument("--since", help="list events created since this ISO time from Stripe, delivered or not")
    replay.set_defaults(run=cmd_stripe_replay)

    notion = verbs.add_parser("notion", help="Notion databases")
    notion_verbs = notion.add_subparsers(dest="notion_verb", required=True, metavar="ACTION")
    notion_setup = notion_verbs.add_parser("setup", help="create the five databases under a page (idempotent)")
    notion_setup.add_argument("--parent-page", help="the page to create them under (default NOTION_PARENT_PAGE_ID)")
    notion_setup.add_argument("--ssm-prefix", help="also store the ids as SSM parameters under this path")
    notion_setup.set_defaults(run=cmd_notion_setup)
    notion_check = notion_verbs.add_parser("check", help="report drift from the mapping; exit 1 on drift")
    notion_check.add_argument("--parent-page", help="where the databases live (default NOTION_PARENT_PAGE_ID)")
    notion_check.set_defaults(run=cmd_notion_check)

    sync = verbs.add_parser("sync", help="Postgres <-> Notion")
    sync_verbs = sync.add_subparsers(dest="sync_verb", required=True, metavar="ACTION")
    sync_run = sync_verbs.add_parser("run", help="one cycle: push the outbox, then poll Notion for edits")
    sync_run.add_argument("--budget", type=float, default=240.0, help="seconds to spend at most (default 240)")
    sync_run.set_defaults(run=cmd_sync_run)

    outbox = verbs.add_parser("outbox", help="the queue of records waiting for Notion")
    outbox_verbs = outbox.add_subparsers(dest="outbox_verb", required=True, metavar="ACTION")
    outbox_list = outbox_verbs.add_parser("list", help="rows not yet done (or --dead ones)")
    outbox_list.add_argument("--dead", action="store_true", help="only rows that gave up")
    outbox_list.add_argument("--limit", type=int, default=100)
    outbox_list.set_defaults(run=cmd_outbox_list)
    outbox_retry = outbox_verbs.add_parser("retry", help="send rows again now (all due, or the IDs given)")
    outbox_retry.add_argument("--dead", action="store_true", help="retry dead rows")
    outbox_retry.add_argument("ids", nargs="*", metavar="ID", type=int)
    outbox_retry.set_defaults(run=cmd_outbox_retry)

    resync = verbs.add_parser("resync", help="push every record of an entity (or --all) to Notion again")
    resync.add_argument("entity", nargs="?", help="lead, client, project, milestone or deliverable")
    resync.add_argument("--all", action="store_true", help="every entity")
    resync.set_defaults(run=cmd_resync)
    verbs.add_parser("check", help="Postgres against Notion for every linked record; exit 1 on drift").set_defaults(
        run=cmd_check
    )
    verbs.add_parser(
        "import-notion", help="first-time import: leads typed into Notion become Atelier leads (safe to repeat)"
    ).set_defaults(run=cmd_import_notion)

    deliverable = verbs.add_parser("deliverable", help="files for clients")
    deliverable_verbs = deliverable.add_subparsers(dest="deliverable_verb", required=True, metavar="ACTION")
    upload = deliverable_verbs.add_parser(
        "upload", help="put a file in the deliverables bucket for a project; its showcase page follows"
    )
    upload.add_argument("project_id", metavar="PROJECT_ID")
    upload.add_argument("file", metavar="FILE")
    upload.add_argument("--category", default="Document", choices=CATEGORIES, help="default Document")
    upload.add_argument("--name", help="the file's name in the bucket and on Notion (default: FILE's name)")
    upload.add_argument("--uploaded-by", help="who uploaded it (default $ATELIER_USER, else your login)")
    upload.add_argument(
        "--wait",
        type=float,
        default=30.0,
        help="seconds to wait for the deliverable row when DATABASE_URL is known (0: don't)",
    )
    upload.add_argument("--force", action="store_true", help="upload even when the project is unknown")
    upload.set_defaults(run=cmd_deliverable_upload)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.verb not in ("dev", "demo"):
        apply_dev_state()
    try:
        return int(args.run(args))
    except AtelierError as exc:
        print(f"atelier: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
