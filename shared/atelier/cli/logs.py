"""`atelier logs [FUNCTION] [-f] [--since 10m] [--level warning]`: the functions' JSON logs as lines a person reads,
like `sam logs --tail`: the local stack's files (`make dev`), or CloudWatch Logs with `--stack NAME`."""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from atelier.cli.args import verb
from atelier.kernel.errors import ConfigurationError
from atelier.kernel.home import state_home
from atelier.kernel.settings import read_dev_state

LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40, "critical": 50}
SHOWN_KEYS = ("level", "location", "message", "timestamp", "service", "cold_start", "function_name")
HIDDEN = ("function_memory_size", "function_arn", "function_request_id", "xray_trace_id", "sampling_rate")
SPAN = re.compile(r"(\d+)\s*([smhd])")
POLL_SECONDS = 0.3


def since(text: str) -> datetime:
    """`10m`, `2h`, `1d`, `30s` ago, or an ISO time."""
    found = SPAN.fullmatch(text.strip())
    if found:
        amount, unit = int(found.group(1)), found.group(2)
        return datetime.now(UTC) - timedelta(
            **{{"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[unit]: amount}
        )
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a time: write 10m, 2h, 1d or 2026-12-03T09:00") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _moment(record: dict[str, Any]) -> datetime | None:
    stamp = str(record.get("timestamp") or "")
    for shape in ("%Y-%m-%d %H:%M:%S,%f%z", "%Y-%m-%dT%H:%M:%S.%f%z"):
        try:
            return datetime.strptime(stamp, shape)
        except ValueError:
            continue
    return None


def line(function: str, text: str) -> tuple[datetime | None, int, str]:
    """(when, level, the line as a person reads it) for one log line; a line that is not JSON is shown as it is."""
    try:
        record = json.loads(text)
    except ValueError:
        return None, LEVELS["info"], f"{function:20} {text.rstrip()}"
    if not isinstance(record, dict):
        return None, LEVELS["info"], f"{function:20} {text.rstrip()}"
    if isinstance(record.get("_aws"), dict):  # a metrics line (CloudWatch's embedded metric format)
        aws = record["_aws"]
        names = [m.get("Name") for d in aws.get("CloudWatchMetrics") or [] for m in d.get("Metrics") or []]
        stamped = datetime.fromtimestamp(int(aws.get("Timestamp") or 0) / 1000, UTC)
        shown = " ".join(f"{n}={record.get(n)}" for n in names if n)
        return stamped, LEVELS["info"], f"{stamped:%H:%M:%S} METRICS {function:20} {shown}"
    level = str(record.get("level") or "INFO").upper()
    moment = _moment(record)
    extra = " ".join(
        f"{key}={json.dumps(value, default=str, separators=(',', ':'))}"
        for key, value in record.items()
        if key not in SHOWN_KEYS and key not in HIDDEN
    )
    when = moment.astimezone(UTC).strftime("%H:%M:%S") if moment else "--:--:--"
    shown = f"{when} {level:7} {function:20} {record.get('message', '')}" + (f"  {extra}" if extra else "")
    return moment, LEVELS.get(level.lower(), 20), shown


def _log_dir() -> Path:
    state = read_dev_state()
    folder = state.get("log_dir")
    if folder:
        return Path(str(folder))
    fallback = state_home() / "logs"
    if fallback.is_dir():
        return fallback
    raise ConfigurationError(
        "no local logs: start `make dev` (its functions log to .atelier/logs), or read a deployed stack's with "
        "--stack NAME"
    )


def _files(folder: Path, function: str | None) -> list[Path]:
    files = sorted(folder.glob("*.log"))
    if function is None:
        return files
    chosen = [f for f in files if f.stem == function]
    if not chosen:
        names = ", ".join(f.stem for f in files) or "none yet"
        raise ConfigurationError(f"no log for {function!r} in {folder}: the functions that logged are {names}")
    return chosen


def _wanted(entry: tuple[datetime | None, int, str], args: argparse.Namespace) -> bool:
    moment, level, _ = entry
    if level < LEVELS[args.level]:
        return False
    return args.since is None or moment is None or moment >= args.since


def local(args: argparse.Namespace) -> Iterator[str]:
    files = _files(_log_dir(), args.function)
    entries = []
    offsets: dict[Path, int] = {}
    for path in files:
        data = path.read_text(errors="replace")
        offsets[path] = len(data.encode())
        entries += [line(path.stem, text) for text in data.splitlines() if text.strip()]
    entries.sort(key=lambda e: e[0] or datetime.min.replace(tzinfo=UTC))
    yield from (shown for *_, shown in (e for e in entries if _wanted(e, args)))
    while args.follow:
        time.sleep(POLL_SECONDS)
        for path in _files(_log_dir(), args.function):
            size = path.stat().st_size
            if size <= offsets.get(path, 0):
                continue
            with path.open("rb") as handle:
                handle.seek(offsets.get(path, 0))
                chunk = handle.read().decode(errors="replace")
            offsets[path] = size
            for text in chunk.splitlines():
                entry = line(path.stem, text)
                if text.strip() and _wanted(entry, args):
                    yield entry[2]


def cloudwatch(args: argparse.Namespace) -> Iterator[str]:
    """A deployed stack's functions' logs (`/aws/lambda/<stack>-<Function>...`), through CloudWatch Logs."""
    import boto3

    logs = boto3.client("logs")
    groups = [
        g["logGroupName"]
        for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=f"/aws/lambda/{args.stack}-")
        for g in page["logGroups"]
        if args.function is None or args.function.replace("_", "").lower() in g["logGroupName"].lower()
    ]
    if not groups:
        raise ConfigurationError(
            f"no log groups for stack {args.stack!r}: check the name (`aws cloudformation list-stacks`)"
        )
    start = int((args.since or datetime.now(UTC) - timedelta(minutes=10)).timestamp() * 1000)
    while True:
        for group in groups:
            for page in logs.get_paginator("filter_log_events").paginate(logGroupName=group, startTime=start):
                for event in page["events"]:
                    start = max(start, int(event["timestamp"]) + 1)
                    entry = line(group.rsplit("/", 1)[-1], str(event["message"]))
                    if _wanted(entry, args):
                        yield entry[2]
        if not args.follow:
            return
        time.sleep(2)


def logs(args: argparse.Namespace) -> int:
    try:
        for shown in cloudwatch(args) if args.stack else local(args):
            print(shown, flush=True)
    except KeyboardInterrupt:
        return 0
    except BrokenPipeError:  # `atelier logs | head`
        sys.stderr.close()
    return 0


def register(verbs: Any) -> None:
    parser = verb(
        verbs,
        "logs",
        logs,
        help="the functions' logs as readable lines (local, or a deployed stack's); -f follows them",
        example="atelier logs notion_sync -f --since 10m --level warning",
    )
    parser.add_argument("function", nargs="?", metavar="FUNCTION", help="one function (e.g. notion_sync); default all")
    parser.add_argument("-f", "--follow", action="store_true", help="keep printing new lines until Ctrl-C")
    parser.add_argument("--since", type=since, help="only lines since then: 10m, 2h, 1d or an ISO time")
    parser.add_argument("--level", choices=tuple(LEVELS), default="debug", help="only this level and above")
    parser.add_argument("--stack", metavar="NAME", help="a deployed stack's logs, from CloudWatch Logs")
