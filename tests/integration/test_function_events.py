"""`tests/events` and `env.json`: an event for every function and route, so that `sam local invoke -e` and
`sam local start-api` work for anyone with Docker; each event is also run through the local runtime here."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from atelier_local.frontdoor import routes_from_template
from atelier_local.invoke import TRIGGER_EVENTS
from atelier_local.lambda_runtime import LocalLambdas
from atelier_local.stack import LocalStack
from tests.events import EVENTS, load_event

ROOT = Path(__file__).resolve().parents[2]


def _functions() -> dict[str, dict[str, Any]]:
    import yaml

    from atelier_local.frontdoor import _TemplateLoader

    template = yaml.load((ROOT / "template.yaml").read_text(), Loader=_TemplateLoader)  # noqa: S506 - SafeLoader
    return {name: r for name, r in template["Resources"].items() if r["Type"] == "AWS::Serverless::Function"}


def _events_for(resource: dict[str, Any]) -> list[str]:
    """The event files that stand for each of a function's triggers."""
    api_events = {load_event(p.stem).get("routeKey"): p.stem for p in EVENTS.glob("apigw_v2_*.json")}
    names = []
    for event in (resource["Properties"].get("Events") or {}).values():
        if event["Type"] == "HttpApi":
            key = f"{event['Properties']['Method'].upper()} {event['Properties']['Path']}"
            assert key in api_events, f"no event in tests/events for {key}"
            names += [p.stem for p in EVENTS.glob("apigw_v2_*.json") if load_event(p.stem)["routeKey"] == key]
        else:
            assert event["Type"] in TRIGGER_EVENTS, f"no event file stands for a {event['Type']} trigger"
            names.append(TRIGGER_EVENTS[event["Type"]])
    return names


def test_env_json_names_every_function_and_nothing_else() -> None:
    env = json.loads((ROOT / "env.json").read_text())
    assert set(env) - {"Parameters"} == set(_functions())
    assert all(isinstance(value, str) for block in env.values() for value in block.values())


def test_every_route_and_trigger_has_an_event() -> None:
    for name, resource in _functions().items():
        assert _events_for(resource), f"{name} has no event in tests/events"
    covered = {load_event(p.stem).get("routeKey") for p in EVENTS.glob("apigw_v2_*.json")}
    assert {r.route_key for r in routes_from_template()} <= covered


@pytest.mark.parametrize("function", sorted(_functions()))
def test_each_event_runs_through_its_function(stack: LocalStack, function: str) -> None:
    stack.setup_notion()
    resource = _functions()[function]
    directory = Path(str(resource["Properties"]["CodeUri"]).rstrip("/")).name
    for name in _events_for(resource):
        answer = LocalLambdas().invoke(directory, load_event(name), timeout_seconds=60)
        assert isinstance(answer, dict)
        if "statusCode" in answer:
            assert int(answer["statusCode"]) < 500, (name, answer)
