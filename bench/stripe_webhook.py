"""Signed checkout.session.completed events through the front door: the handler's own time per event,
and Postgres round trips per event (target: p99 <= 100 ms, one round trip)."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from atelier.cli.migrate import migrate
from atelier.kernel.rpc import PsycopgRpc
from atelier_local.samples import opened_checkout, stored_lead
from atelier_local.stack import LocalStack
from bench.intake_throughput import database
from bench.rpc_calls import counted_rpc_calls

EVENT = json.loads(
    (Path(__file__).resolve().parents[1] / "tests/events/stripe_checkout_session_completed.json").read_text()
)

CLIENT = """
import json, sys
import httpx, stripe
url, secret = sys.argv[1], sys.argv[2]
events = json.loads(sys.stdin.read())
with httpx.Client(base_url=url, timeout=30) as client:
    for event in events:
        body = json.dumps(event)
        r = client.post("/webhooks/stripe", content=body.encode(),
                        headers={"Stripe-Signature": stripe.WebhookSignature.generate_signature_header(body, secret)})
        if r.status_code != 200:
            sys.exit(f"{event['id']}: {r.status_code} {r.text}")
"""


def _event(rpc: PsycopgRpc, lead_id: str) -> dict[str, Any]:
    """A paid session for a stored lead: the session Atelier opened for it (what fulfils a lead)."""
    event: dict[str, Any] = json.loads(json.dumps(EVENT))
    event["id"] = f"evt_{uuid.uuid4().hex[:24]}"
    obj = event["data"]["object"]
    obj.update(
        id=opened_checkout(rpc, lead_id),
        payment_intent=f"pi_{uuid.uuid4().hex[:24]}",
        client_reference_id=lead_id,
        metadata={"lead_id": lead_id, "tier": "2"},
    )
    return event


def run(count: int = 300) -> dict[str, float]:
    with database() as dsn:
        migrate(dsn)
        setup = PsycopgRpc(dsn)
        events = [_event(setup, stored_lead(setup, i)) for i in range(count + 20)]
        setup.close()
        stack = LocalStack(dsn, port=0).start()
        try:
            assert stack.front_door is not None
            secret = stack.settings["STRIPE_WEBHOOK_SECRET"]
            with counted_rpc_calls() as rpc_calls:
                subprocess.run(
                    [sys.executable, "-c", CLIENT, stack.front_door.url, secret],
                    input=json.dumps(events),
                    text=True,
                    check=True,
                )
            samples = sorted(seconds for _, seconds in stack.front_door.timings[20:])
        finally:
            stack.stop()
    return {
        "events": float(len(samples)),
        "p50_ms": statistics.median(samples) * 1000,
        "p99_ms": samples[int(len(samples) * 0.99) - 1] * 1000,
        # The business directory is read once a minute per container, not per event: counted apart.
        "round_trips_per_event": (rpc_calls.calls - rpc_calls.by_function["business_directory"]) / len(events),
        "directory_reads": rpc_calls.by_function["business_directory"],
    }


def report(result: dict[str, float]) -> list[tuple[str, str, str, str]]:
    return [
        (
            "stripe: handler time per paid checkout",
            f"p99 {result['p99_ms']:.1f} ms",
            f"p50 {result['p50_ms']:.1f} ms",
            "ok (<= 100 ms)" if result["p99_ms"] <= 100 else "OVER 100 ms",
        ),
        (
            "stripe: Postgres round trips per event",
            f"{result['round_trips_per_event']:.2f}",
            f"target 1; the business directory read {result['directory_reads']:.0f} time(s) in the run",
            "ok" if result["round_trips_per_event"] <= 1 else "OVER",
        ),
    ]


if __name__ == "__main__":
    for row in report(run()):
        print(" | ".join(row))
