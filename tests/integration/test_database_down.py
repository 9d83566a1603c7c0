"""With the database unreachable, every function answers 503 (HTTP) or fails so that AWS retries (S3):
never a 500, and nothing is lost."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import stripe

from atelier.deliverables.links import DownloadLinks
from atelier_local.stack import LocalStack
from tests.events import load_event

UNREACHABLE = "postgresql://atelier@127.0.0.1:9/none?connect_timeout=2"


@pytest.fixture
def down(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalStack]:
    for name in ("LEAD", "CLIENT", "PROJECT", "MILESTONE", "DELIVERABLE"):
        monkeypatch.setenv(f"NOTION_{name}_DATA_SOURCE_ID", str(uuid.uuid4()))
    stack = LocalStack(UNREACHABLE, port=0, environ=dict(os.environ), log_dir=tmp_path / "logs").start()
    try:
        yield stack
    finally:
        stack.stop()


def _unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.json()["error"] == "unavailable"


def test_every_http_function_answers_503_when_the_database_is_down(down: LocalStack) -> None:
    assert down.front_door is not None
    api = httpx.Client(base_url=down.front_door.url, timeout=30)
    lead = {
        "email": "a@example.com",
        "name": "A",
        "project_address": "1 Road",
        "budget": 20000,
        "timeline_weeks": 12,
        "project_type": "major_renovation",
        "has_survey": True,
        "has_drawings": True,
    }
    answer = api.post("/leads", json=lead)
    _unavailable(answer)
    assert answer.headers["retry-after"] == "60"

    event = load_event("stripe_checkout_session_completed")
    payload = json.dumps(event)
    signature = stripe.WebhookSignature.generate_signature_header(payload, down.settings["STRIPE_WEBHOOK_SECRET"])
    _unavailable(
        api.post(
            "/webhooks/stripe",
            content=payload,
            headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
        )
    )

    doorbell = {"type": "INSERT", "table": "projects", "record": {"id": str(uuid.uuid4())}}
    bearer = {"Authorization": f"Bearer {down.settings['SUPABASE_WEBHOOK_SECRET']}"}
    _unavailable(api.post("/webhooks/supabase", json=doorbell, headers=bearer))

    links = DownloadLinks(down.settings["DOWNLOAD_TOKEN_KEY"].encode(), down.front_door.url)
    _unavailable(api.get(links.url(str(uuid.uuid4())), follow_redirects=False))


def test_an_upload_that_cannot_be_recorded_is_retried_then_kept_as_a_dead_letter(down: LocalStack) -> None:
    assert down.s3 is not None
    key = f"projects/{uuid.uuid4()}/Photo/plan.png"
    down.s3.s3().put_object(Bucket=down.s3.bucket, Key=key, Body=b"png")
    started = time.monotonic()
    assert down.s3.wait_idle(timeout=60)
    assert len(down.s3.dead_letters) == 1, f"after {time.monotonic() - started:.0f} s"
    assert down.s3.dead_letters[0]["Records"][0]["s3"]["object"]["key"] == key
