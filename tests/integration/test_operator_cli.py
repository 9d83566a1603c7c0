"""`atelier invoke` runs every event in tests/events through its function against the running stack; `atelier logs`
shows the functions' JSON logs as lines, and `-f` follows them as they are written; the records' list and show."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

from atelier.cli import main
from atelier_local.frontdoor import routes_from_template
from atelier_local.invoke import TRIGGER_EVENTS
from atelier_local.stack import LocalStack
from tests.events import EVENTS

ROOT = Path(__file__).resolve().parents[2]


def _function_of(event: dict[str, object], name: str) -> str | None:
    """The function an event stands for: by its route, or by its trigger."""
    key = event.get("routeKey")
    if key:
        method, path = str(key).split(" ", 1)
        return next((r.function for r in routes_from_template() if (r.method, r.path) == (method, path)), None)
    by_trigger = {
        "s3_object_created": "deliverable_uploaded",
        "eventbridge_schedule": "notion_sync",
        "eventbridge_weekly_report": "client_mail",
        "sns_ses_bounce": "client_mail",
    }
    return by_trigger.get(name)


def test_invoke_runs_every_event_through_its_function(stack: LocalStack, capsys: pytest.CaptureFixture[str]) -> None:
    stack.setup_notion()
    ran = 0
    for path in sorted(EVENTS.glob("*.json")):
        event = json.loads(path.read_text())
        function = _function_of(event, path.stem)
        if function is None:  # a Stripe event, say: a body for a route, not a trigger
            continue
        capsys.readouterr()
        code = main(["invoke", function, str(path)])
        out = capsys.readouterr().out
        assert code == 0, (path.name, out)
        assert out.startswith(f"invoke: {function} with {path}")
        assert "metrics:" in out
        if "routeKey" in event:
            status = int(out.split("status: ", 1)[1].split()[0])
            assert status < 500, (path.name, out)
        ran += 1
    assert ran >= len(list(EVENTS.glob("apigw_v2_*.json")))
    assert set(TRIGGER_EVENTS.values()) <= {p.stem for p in EVENTS.glob("*.json")}


def test_invoke_finds_a_default_event_and_refuses_an_unknown_function(
    stack: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    stack.setup_notion()
    assert main(["invoke", "client_pages"]) == 0
    out = capsys.readouterr().out
    assert "apigw_v2_" in out.splitlines()[0]
    assert "status: " in out
    assert main(["invoke", "no_such_function"]) == 2
    assert "the functions are" in capsys.readouterr().err
    assert main(["invoke", "notion_sync", "/no/such/event.json"]) == 2


def _record(message: str, level: str = "INFO") -> str:
    stamp = time.strftime("%Y-%m-%d %H:%M:%S,000+0000", time.gmtime())
    return json.dumps({"level": level, "message": message, "timestamp": stamp, "service": "x", "sync": {"ran": True}})


def test_logs_prints_lines_and_follows_new_ones(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "notion_sync.log").write_text(_record("sync run") + "\n" + _record("a problem", "WARNING") + "\n")
    metrics = {
        "_aws": {
            "Timestamp": 1796325553886,
            "CloudWatchMetrics": [{"Metrics": [{"Name": "MailSent", "Unit": "Count"}]}],
        },
        "MailSent": 2.0,
    }
    (logs / "client_mail.log").write_text(_record("mail run") + "\nnot json at all\n" + json.dumps(metrics) + "\n")
    (tmp_path / ".atelier").mkdir()
    (tmp_path / ".atelier" / "dev.json").write_text(json.dumps({"log_dir": str(logs)}))
    env = {k: v for k, v in os.environ.items() if k != "ATELIER_HOME"} | {
        "PYTHONPATH": f"{ROOT / 'shared'}:{ROOT / 'infra' / 'local'}"
    }
    command = [sys.executable, "-m", "atelier.cli", "logs"]
    every = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert every.returncode == 0, every.stderr
    assert "notion_sync" in every.stdout
    assert "sync run" in every.stdout
    assert 'sync={"ran":true}' in every.stdout
    assert "not json at all" in every.stdout
    assert "METRICS client_mail          MailSent=2.0" in every.stdout
    warnings = subprocess.run([*command, "--level", "warning"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert "WARNING notion_sync          a problem" in warnings.stdout
    assert len(warnings.stdout.strip().splitlines()) == 1

    follow = subprocess.Popen([*command, "notion_sync", "-f"], cwd=tmp_path, env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert follow.stdout is not None
        assert "sync run" in follow.stdout.readline()
        assert "a problem" in follow.stdout.readline()
        with (logs / "notion_sync.log").open("a") as log:
            log.write(_record("a sync run as it happens") + "\n")
        assert "a sync run as it happens" in follow.stdout.readline()
    finally:
        follow.terminate()
        follow.wait(timeout=30)


def test_records_list_and_show_what_the_studio_holds(
    stack: LocalStack, api: httpx.Client, capsys: pytest.CaptureFixture[str]
) -> None:
    body = {
        "email": "ada@example.com",
        "name": "Ada Lovelace",
        "project_address": "12 Analytical Row",
        "budget": "$10k-15k",
        "timeline_weeks": 8,
        "project_type": "standard_renovation",
        "has_survey": True,
        "has_drawings": True,
    }
    answer = api.post("/leads", json=body, headers={"Idempotency-Key": f"k-{uuid.uuid4()}"}).json()
    session = answer["checkout_url"].rstrip("/").rsplit("/", 1)[-1]
    api.post(f"/_local/checkout/{session}/pay", follow_redirects=False)
    capsys.readouterr()
    assert main(["project", "list", "--json"]) == 0
    [project] = json.loads(capsys.readouterr().out)
    assert (project["client"], project["milestones"], project["payment_status"]) == ("Ada Lovelace", 5, "paid")
    assert main(["project", "show", project["id"], "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert [p["amount"] for p in shown["payments"]] == [750000]
    assert len(shown["milestones"]) == 5
    assert "notion" in shown
    assert main(["project", "show", project["id"]]) == 0
    assert "milestones:" in capsys.readouterr().out
    assert main(["lead", "list", "--status", "converted"]) == 0
    assert "Ada Lovelace" in capsys.readouterr().out
    assert main(["client", "list", "--json"]) == 0
    [client] = json.loads(capsys.readouterr().out)
    assert client["email"] == "ada@example.com"
    assert main(["client", "show", str(uuid.uuid4())]) == 1
    assert "not found" in capsys.readouterr().out
    with pytest.raises(SystemExit) as refused:
        main(["lead", "show", "not-an-id"])
    assert refused.value.code == 2


def test_the_local_notion_window_shows_the_workspace_read_only(stack: LocalStack, api: httpx.Client) -> None:
    from atelier.kernel.rpc import PsycopgRpc
    from atelier_local.lambda_runtime import LocalLambdas
    from atelier_local.samples import paid_project, stored_lead
    from atelier_local.stack import scheduled_event

    ids = stack.setup_notion()
    rpc = PsycopgRpc(stack.database_url)
    project_id = paid_project(rpc, stored_lead(rpc))
    LocalLambdas().invoke("notion_sync", scheduled_event(), timeout_seconds=60)
    home = api.get("/_local/notion")
    assert home.status_code == 200
    assert "Projects" in home.text
    source = ids["NOTION_PROJECT_DATA_SOURCE_ID"]
    board = api.get(f"/_local/notion/databases/{source}")
    assert board.status_code == 200
    assert "Projects board" in board.text
    assert 'class="card"' in board.text
    page_id = str(rpc.rpc("sync_pull_state", p_entity="project", p_ids=[project_id])[project_id]["page_id"])
    page = api.get(f"/_local/notion/pages/{page_id}")
    assert page.status_code == 200
    assert "Payment" in page.text
    assert "Brief" in page.text  # the page's body
    assert api.get("/_local/notion/pages/nope").status_code == 404
    assert api.post("/_local/notion", content=b"").status_code != 200  # read-only


def test_deploy_secrets_never_echo_and_doctor_checks_a_deployed_stack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from moto import mock_aws

    from atelier.cli import doctor
    from atelier.cli.deploy import SECRETS

    for name, value in {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "t",
        "AWS_SECRET_ACCESS_KEY": "t",
    }.items():
        monkeypatch.setenv(name, value)
    values = {env: f"value-{env.lower()}-{uuid.uuid4().hex[:6]}" for _, _, env, _ in SECRETS}
    env_file = tmp_path / "prod.env"
    env_file.write_text("# the stack's secrets\n" + "\n".join(f"export {k}='{v}'" for k, v in values.items()) + "\n")
    with mock_aws():
        capsys.readouterr()
        assert main(["deploy", "secrets", "--stack", "t1", "--env-file", str(env_file)]) == 0
        said = capsys.readouterr()
        assert not any(v in said.out + said.err for v in values.values())  # never echoed
        arns = dict(line.split("=", 1) for line in said.out.strip().splitlines())
        assert set(arns) == {parameter for parameter, *_ in SECRETS}
        # Again, one value changed: the same secrets, updated
        env_file.write_text("NOTION_TOKEN=ntn_new\n")
        assert main(["deploy", "secrets", "--stack", "t1", "--env-file", str(env_file)]) == 0
        again = dict(line.split("=", 1) for line in capsys.readouterr().out.strip().splitlines())
        assert again == arns

        sources = {f"Notion{e}DataSourceId": str(uuid.uuid4()) for e in doctor.ENTITIES}
        seen = doctor.deployed(arns | sources, notion_get=lambda token, _: 200 if token == "ntn_new" else 401)
        assert all(f.ok for f in seen), seen
        broken = arns | sources | {"PortalJwtSecretArn": arns["PortalJwtSecretArn"] + "-gone"}
        bad = [f for f in doctor.deployed(broken, notion_get=lambda *_: 404) if not f.ok]
        assert {f.check for f in bad} == {"secret PortalJwtSecretArn"} | {
            f"notion {e.lower()}s" for e in doctor.ENTITIES
        }
        assert all("does not resolve" in f.said or "share the database" in f.said for f in bad)
        monkeypatch.setattr(doctor, "stack_parameters", lambda name: broken | {"MailFrom": "studio@example.com"})
        monkeypatch.setattr(doctor, "_notion_get", lambda *_: 200)
        assert main(["doctor", "--stack", "t1"]) == 1
        shown = capsys.readouterr().out
        assert "verify it in the SES console" in shown
        assert "doctor: 2 finding(s)" in shown
        assert "ntn_new" not in shown
