"""Cold start including the first invocation: import, init and one real request, for every function.

Lazy imports move cost from import to the first request, which `cold_start.py` alone does not see. Here each
fresh interpreter imports the function, builds what it needs and serves one real event against the local stack
(embedded Postgres, the Notion emulator, moto's S3): a lead stored, a checkout fulfilled, a doorbell's pages
pushed, a sync run, an upload recorded, a download redirected. The reference is the bare Powertools handler
serving one request. Goal: each function within 1.5x of it. Rounds are interleaved so drift hits all alike.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

import stripe

from atelier import wiring
from atelier.cli.migrate import migrate
from atelier.kernel.rpc import PsycopgRpc
from atelier_local.samples import paid_project, stored_lead
from atelier_local.stack import LocalStack, scheduled_event
from bench.cold_start import BARE, compile_bytecode
from bench.intake_throughput import database
from bench.stripe_webhook import _event as checkout_event

ROOT = Path(__file__).resolve().parents[1]
BASE = json.loads((ROOT / "tests/events/apigw_v2_post_lead_base64.json").read_text())
S3_EVENT = json.loads((ROOT / "tests/events/s3_object_created.json").read_text())
COLD_BUCKET = "bench-first-request"  # no notifications: the event is the child's to handle, once

CHILD = """
import json, sys, time
event = json.loads(open(sys.argv[1]).read())
class Context:
    function_name = "bench"; memory_limit_in_mb = 512; function_version = "$LATEST"; aws_request_id = "bench"
    invoked_function_arn = "arn:aws:lambda:local:000000000000:function:bench"
    log_group_name = "/aws/lambda/bench"; log_stream_name = "bench"
    def get_remaining_time_in_millis(self): return 60_000
_t0 = time.perf_counter()
{load}
result = lambda_handler(event, Context())
elapsed = (time.perf_counter() - _t0) * 1000
status = result.get("statusCode", 200) if isinstance(result, dict) else 200
print(json.dumps({{"ms": elapsed, "status": status}}))
"""
LOAD_APP = """import importlib.util
spec = importlib.util.spec_from_file_location("app", {path!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
lambda_handler = module.lambda_handler"""


def http_event(
    method: str,
    path: str,
    body: str = "",
    headers: dict[str, str] | None = None,
    route: str | None = None,
    query: str = "",
    params: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An API Gateway HTTP API (2.0) event, from the real-shaped sample."""
    event: dict[str, Any] = json.loads(json.dumps(BASE))
    event.update(
        routeKey=f"{method} {route or path}",
        rawPath=path,
        rawQueryString=query,
        body=body,
        isBase64Encoded=False,
        headers={"content-type": "application/json", **(headers or {})},
    )
    event["requestContext"]["http"].update(method=method, path=path)
    event["queryStringParameters"] = dict(p.split("=", 1) for p in query.split("&")) if query else None
    event["pathParameters"] = params
    return event


class Cases:
    """One fresh, real event per function per round."""

    def __init__(self, stack: LocalStack, rpc: PsycopgRpc) -> None:
        self.stack, self.rpc = stack, rpc
        self.s3 = wiring.s3()
        self.s3.create_bucket(Bucket=COLD_BUCKET)
        self.s3.put_bucket_versioning(Bucket=COLD_BUCKET, VersioningConfiguration={"Status": "Enabled"})
        self.project = paid_project(rpc, stored_lead(rpc))
        uploaded = self.deliverable_uploaded()
        stack.front_door_lambdas().invoke("deliverable_uploaded", uploaded)
        found = rpc.rpc(
            "find_deliverable",
            p_bucket=COLD_BUCKET,
            p_key=uploaded["Records"][0]["s3"]["object"]["key"],
            p_version_id=uploaded["Records"][0]["s3"]["object"]["versionId"],
        )
        self.download = str(wiring.download_links().url(found["id"])).split("/deliverables/", 1)[1]
        self.page = str(uuid.uuid4())  # a page Notion does not know: the webhook still verifies, records and asks

    def bare(self) -> dict[str, Any]:
        return http_event("POST", "/leads", json.dumps({"email": "ada@example.com", "name": "Ada"}))

    def lead_intake(self) -> dict[str, Any]:
        lead = {
            "email": "ada@example.com",
            "name": "Ada Lovelace",
            "project_address": "12 Analytical Row",
            "budget": 20000,
            "timeline_weeks": 12,
            "project_type": "major_renovation",
            "has_survey": True,
            "has_drawings": True,
        }
        return http_event("POST", "/leads", json.dumps(lead), {"idempotency-key": f"bench-{uuid.uuid4()}"})

    def payment_succeeded(self) -> dict[str, Any]:
        body = json.dumps(checkout_event(self.rpc, stored_lead(self.rpc)))
        signature = stripe.WebhookSignature.generate_signature_header(
            body, self.stack.settings["STRIPE_WEBHOOK_SECRET"]
        )
        return http_event("POST", "/webhooks/stripe", body, {"stripe-signature": signature})

    def project_created(self) -> dict[str, Any]:
        project = paid_project(self.rpc, stored_lead(self.rpc))
        body = json.dumps({"type": "INSERT", "table": "projects", "schema": "public", "record": {"id": project}})
        auth = f"Bearer {self.stack.settings['SUPABASE_WEBHOOK_SECRET']}"
        return http_event("POST", "/webhooks/supabase", body, {"authorization": auth})

    def notion_sync(self) -> dict[str, Any]:
        return scheduled_event()

    def deliverable_uploaded(self) -> dict[str, Any]:
        key = f"projects/{self.project}/Photo/plan-{uuid.uuid4().hex[:8]}.png"
        put = self.s3.put_object(
            Bucket=COLD_BUCKET, Key=key, Body=b"\x89PNG\r\n\x1a\n" + os.urandom(64), ContentType="image/png"
        )
        event: dict[str, Any] = json.loads(json.dumps(S3_EVENT))
        event["Records"][0]["s3"]["bucket"].update(name=COLD_BUCKET, arn=f"arn:aws:s3:::{COLD_BUCKET}")
        event["Records"][0]["s3"]["object"].update(key=key, versionId=put["VersionId"], sequencer=uuid.uuid4().hex)
        return event

    def client_pages(self) -> dict[str, Any]:
        return http_event("GET", "/cancelled")

    def client_portal(self) -> dict[str, Any]:
        return http_event("GET", "/portal")

    def reports(self) -> dict[str, Any]:
        from atelier.reports.links import ReportLinks

        key = ReportLinks(self.stack.settings["PORTAL_LINK_SECRET"].encode(), "http://bench", self.rpc).token(1)
        return http_event("GET", "/reports", query=f"key={key}&period=month")

    def client_mail(self) -> dict[str, Any]:
        paid_project(self.rpc, stored_lead(self.rpc))  # a receipt to send
        return scheduled_event()

    def notion_webhook(self) -> dict[str, Any]:
        from atelier.notion.webhook import FileTokens, sign

        if FileTokens(self.stack.webhook_token_file()).current() is None:
            self.stack.connect_notion_webhooks()
        token = FileTokens(self.stack.webhook_token_file()).current() or ""
        event = {
            "id": str(uuid.uuid4()),
            "type": "page.properties_updated",
            "data": {},
            "timestamp": "2026-11-23T12:00:00Z",
            "entity": {"id": self.page, "type": "page"},
        }
        body = json.dumps(event)
        return http_event("POST", "/webhooks/notion", body, {"x-notion-signature": sign(token, body.encode())})

    def deliverable_download(self) -> dict[str, Any]:
        path, _, query = self.download.partition("?")
        deliverable_id = path.split("/", 1)[0]
        return http_event(
            "GET",
            f"/deliverables/{path}",
            route="/deliverables/{id}/download",
            query=query,
            params={"id": deliverable_id},
        )


def _once(load: str, event: dict[str, Any], workdir: Path) -> float:
    event_file = workdir / f"{uuid.uuid4().hex}.json"
    event_file.write_text(json.dumps(event))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env |= {
        "POWERTOOLS_SERVICE_NAME": "atelier",
        "POWERTOOLS_METRICS_NAMESPACE": "Bench",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    out = subprocess.run(
        [sys.executable, "-c", CHILD.format(load=load), str(event_file)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    answer = json.loads(out.stdout.strip().splitlines()[-1])
    if int(answer["status"]) >= 400:
        raise RuntimeError(f"the first request was answered {answer['status']}: {out.stdout[-500:]}")
    return float(answer["ms"])


def run(runs: int = 7) -> dict[str, float]:
    """Median ms of import + init + one real request, by case ('bare' is the reference)."""
    compile_bytecode()
    functions = sorted(p.parent.name for p in (ROOT / "functions").glob("*/app.py"))
    with database() as dsn, tempfile.TemporaryDirectory() as tmp:
        migrate(dsn)
        stack = LocalStack(dsn, port=0, notion_rate=1000).start()
        rpc = PsycopgRpc(dsn)
        try:
            stack.setup_notion()
            cases = Cases(stack, rpc)
            loads = {"bare": BARE + "\n"} | {
                f: LOAD_APP.format(path=str(ROOT / "functions" / f / "app.py")) for f in functions
            }
            samples: dict[str, list[float]] = {name: [] for name in loads}
            for _ in range(runs):
                for name, load in loads.items():
                    samples[name].append(_once(load, getattr(cases, name)(), Path(tmp)))
        finally:
            rpc.close()
            stack.stop()
    return {name: statistics.median(values) for name, values in samples.items()}


def report(medians: dict[str, float]) -> list[tuple[str, str, str, str]]:
    bare = medians["bare"]
    rows = [("cold start + first request: bare Powertools handler", f"{bare:.0f} ms", "1.00x bare", "reference")]
    for name, ms in medians.items():
        if name != "bare":
            ratio = ms / bare
            rows.append(
                (
                    f"cold start + first request: {name}",
                    f"{ms:.0f} ms",
                    f"{ratio:.2f}x bare",
                    "ok" if ratio <= 1.5 else "OVER 1.5x",
                )
            )
    return rows


if __name__ == "__main__":
    for row in report(run()):
        print(" | ".join(row))
