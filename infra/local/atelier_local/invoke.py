"""`atelier invoke FUNCTION [EVENT]`: one function run in this process, as the front door runs it, against the
running stack (its settings from `.atelier/dev.json`): where `sam local invoke` needs Docker, this needs nothing.
It prints the response, then the log lines and the metrics the run emitted."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import yaml

from atelier.cli.logs import line
from atelier.kernel.errors import ConfigurationError
from atelier.kernel.home import dev_state_file, state_home
from atelier_local.frontdoor import _TemplateLoader
from atelier_local.lambda_runtime import FUNCTIONS_DIR, REPO_ROOT, LocalLambdas

EVENTS = REPO_ROOT / "tests" / "events"
TRIGGER_EVENTS = {"S3": "s3_object_created", "ScheduleV2": "eventbridge_schedule", "SNS": "sns_ses_bounce"}
# What the stack gives its functions besides dev.json's keys, for a run outside it.
DEFAULTS = {
    "POWERTOOLS_SERVICE_NAME": "atelier",
    "POWERTOOLS_METRICS_NAMESPACE": "AtelierLocal",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def functions() -> list[str]:
    return sorted(p.parent.name for p in FUNCTIONS_DIR.glob("*/app.py"))


def default_event(function: str) -> Path:
    """The event that stands for the function's first trigger: `tests/events/<function>/`'s first file, else the one
    whose route (or trigger type) the template gives it."""
    own = sorted((EVENTS / function).glob("*.json"))
    if own:
        return own[0]
    template = yaml.load((REPO_ROOT / "template.yaml").read_text(), Loader=_TemplateLoader)  # noqa: S506
    for resource in template["Resources"].values():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        if Path(str(resource["Properties"]["CodeUri"]).rstrip("/")).name != function:
            continue
        for event in (resource["Properties"].get("Events") or {}).values():
            if event["Type"] in TRIGGER_EVENTS:
                return EVENTS / f"{TRIGGER_EVENTS[event['Type']]}.json"
            key = f"{event['Properties']['Method'].upper()} {event['Properties']['Path']}"
            for path in sorted(EVENTS.glob("apigw_v2_*.json")):
                if json.loads(path.read_text()).get("routeKey") == key:
                    return path
    raise ConfigurationError(f"no event in {EVENTS} stands for {function}: give one, as a file or a name there")


def event_path(function: str, given: str | None) -> Path:
    if given is None:
        return default_event(function)
    for candidate in (Path(given), EVENTS / given, EVENTS / f"{given}.json"):
        if candidate.is_file():
            return candidate
    raise ConfigurationError(f"no event at {given!r}: give a JSON file, or a name in {EVENTS}")


def run(function: str, event: dict[str, Any]) -> tuple[Any, list[str], list[str]]:
    """(the response, the log lines, the metrics) of one run."""
    for name, value in DEFAULTS.items():
        os.environ.setdefault(name, value)
    home = state_home()
    key = home / "download-token.key"  # the stack's own, so that download links it makes open
    if "DOWNLOAD_TOKEN_KEY" not in os.environ and key.is_file():
        os.environ["DOWNLOAD_TOKEN_KEY"] = key.read_text().strip()
    if "ATELIER_DEV_STATE" not in os.environ and dev_state_file().exists():  # other businesses' `dev.json:` refs
        os.environ["ATELIER_DEV_STATE"] = str(dev_state_file().resolve())
    with tempfile.TemporaryDirectory(prefix="atelier-invoke-") as folder:
        answer = LocalLambdas(log_dir=Path(folder)).invoke(function, event, timeout_seconds=60)
        log = Path(folder) / f"{function}.log"
        texts = log.read_text().splitlines() if log.exists() else []
    metrics, lines = [], []
    for text in texts:
        record: Any = None
        with contextlib.suppress(ValueError):
            record = json.loads(text)
        if isinstance(record, dict) and "_aws" in record:
            names = [m["Name"] for d in record["_aws"].get("CloudWatchMetrics", []) for m in d.get("Metrics", [])]
            metrics += [f"{name}={record.get(name)}" for name in names]
        elif text.strip():
            lines.append(line(function, text)[2])
    return answer, lines, metrics


def invoke(args: argparse.Namespace) -> int:
    if args.function not in functions():
        raise ConfigurationError(f"no function {args.function!r}: the functions are {', '.join(functions())}")
    path = event_path(args.function, args.event)
    try:
        event = json.loads(path.read_text())
    except ValueError as exc:
        raise ConfigurationError(f"{path} is not JSON: {exc}") from None
    print(f"invoke: {args.function} with {path}", flush=True)
    answer, lines, metrics = run(args.function, event)
    print(json.dumps(answer, indent=2, default=str) if args.full or not isinstance(answer, dict) else _short(answer))
    for shown in lines:
        print(f"log: {shown}")
    print(f"metrics: {', '.join(metrics) or 'none'}")
    status = answer.get("statusCode") if isinstance(answer, dict) else None
    return 1 if isinstance(status, int) and status >= 500 else 0


def _short(answer: dict[str, Any]) -> str:
    """An HTTP answer as its status, headers and the start of its body; anything else whole."""
    if "statusCode" not in answer:
        return json.dumps(answer, indent=2, default=str)
    body = str(answer.get("body") or "")
    more = f" ... ({len(body)} characters; --full shows all)" if len(body) > 400 else ""
    return (
        f"status: {answer['statusCode']}\nheaders: {json.dumps(answer.get('headers') or {})}\nbody: {body[:400]}{more}"
    )
