"""Owns the operator's `atelier` command: a module per noun, plus migrate, progress, Stripe replay. Never shipped.
May import: anything in atelier; nothing imports it but tests, benchmarks and the local stack."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from importlib.metadata import entry_points

from atelier import wiring
from atelier.cli import (
    business,
    db,
    deliverable,
    deploy,
    dispute,
    doctor,
    logs,
    mail,
    notion,
    outbox,
    portal,
    quote,
    records,
    report,
    status,
    stripe,
    sync,
    task,
)
from atelier.kernel.errors import AtelierError
from atelier.kernel.settings import apply_dev_state

NOUNS = (
    db,
    business,
    stripe,
    notion,
    sync,
    outbox,
    deliverable,
    mail,
    portal,
    report,
    quote,
    dispute,
    task,
    records,
    status,
    logs,
    doctor,
    deploy,
)
PLUGIN_GROUP = "atelier.cli"
# Verbs that start a stack of their own, so they must not pick up a running one's settings.
SELF_CONTAINED = ("dev", "demo")
# An operator's command waits out Notion's rate limits this long (a busy stack shares Notion's 3 requests/s).
RATE_LIMIT_PATIENCE_SECONDS = 300.0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="atelier",
        description="Run and operate the Atelier studio backend.",
        epilog="Exit codes: 0 ok, 1 findings (drift, dead rows, a schema that stops the sync), 2 could not run "
        "(settings missing, the stack or Notion unreachable). `atelier COMMAND --help` describes each command.",
    )
    parser.add_argument("--version", action="version", version=f"atelier {_version()}")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="COMMAND")
    for plugin in entry_points(group=PLUGIN_GROUP):
        plugin.load()(verbs)
    for noun in NOUNS:
        noun.register(verbs)
    business.add_business_option(parser)
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("atelier")
    except PackageNotFoundError:  # run from a source tree that is not installed
        return "(not installed)"


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.verb not in SELF_CONTAINED:
        apply_dev_state()
    wiring.reset()  # this run's settings, not a previous run's in the same process
    wiring.wait_out_rate_limits(RATE_LIMIT_PATIENCE_SECONDS, _waiting())
    try:
        slug = getattr(args, "business", None)
        with wiring.in_business(slug) if slug else nullcontext():
            return int(args.run(args))
    except AtelierError as exc:
        print(f"atelier: {exc}{_hint(exc)}", file=sys.stderr)
        return 2
    except Exception as exc:
        said = _aws_setup(exc)
        if said is None:
            raise
        print(f"atelier: {said}", file=sys.stderr)
        return 2


def _waiting() -> Callable[[float], None]:
    """A progress line while Notion asks us to wait (at most one every few seconds), on stderr."""
    said = [0.0]

    def say(seconds: float) -> None:
        if time.monotonic() - said[0] >= 5:
            said[0] = time.monotonic()
            minutes = RATE_LIMIT_PATIENCE_SECONDS / 60
            print(
                f"notion: rate-limited; waiting {seconds:.1f} s as Notion asks, then going on (up to {minutes:.0f} "
                "min in all)",
                file=sys.stderr,
                flush=True,
            )

    return say


def _aws_setup(error: Exception) -> str | None:
    """One line for AWS set-up a user can fix (no region, no credentials), instead of botocore's traceback."""
    try:
        from botocore.exceptions import NoCredentialsError, NoRegionError
    except ImportError:  # pragma: no cover - boto3 is a dependency
        return None
    if isinstance(error, NoRegionError):
        return "no AWS region is set: export AWS_REGION (or run `aws configure`), or start `make dev` for the local one"
    if isinstance(error, NoCredentialsError):
        return "no AWS credentials found: run `aws configure` (or export AWS_PROFILE), or start `make dev`"
    from botocore.exceptions import BotoCoreError, ClientError

    if isinstance(error, BotoCoreError | ClientError):  # unreachable, refused, no such stack: AWS said why
        said = (str(error).strip().splitlines() or [type(error).__name__])[0]
        return f"AWS: {said[:300]}; check the stack's name, your region and credentials, and the network"
    return None


def _hint(error: AtelierError) -> str:
    """What to do when the stack these settings came from is not there."""
    import os

    from atelier.kernel.errors import DatabaseUnavailable
    from atelier.kernel.home import dev_state_file
    from atelier.kernel.settings import DEV_STATE_ENV, dev_state_in_use, read_dev_state
    from atelier.notion.errors import NotionError

    database = isinstance(error, DatabaseUnavailable)
    unreachable = database or (isinstance(error, NotionError) and error.code == "connection")
    if not unreachable:
        return ""
    setting = "DATABASE_URL" if database else "NOTION_BASE_URL"
    key = next(k for k, env in DEV_STATE_ENV.items() if env == setting)
    if dev_state_in_use() and os.environ.get(setting) == read_dev_state().get(key):
        return f" (these settings come from {dev_state_file()}: is `make dev` running?)"
    if os.environ.get(setting):
        return f" ({setting} comes from your environment: check it, or unset it to use `make dev`'s)"
    return ""
