"""Read-only probes of a deployed stack: every route answers as it should, and nothing is written.

Runs when ATELIER_STACK_NAME names a deployed stack and AWS credentials can read its outputs
(`ATELIER_STACK_NAME=atelier make e2e`); otherwise each test is skipped and says why.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import httpx
import pytest


def _api_url() -> str:
    stack = os.environ.get("ATELIER_STACK_NAME")
    if not stack:
        pytest.skip("set ATELIER_STACK_NAME (and AWS credentials) to probe a deployed stack")
    try:
        import boto3
        from botocore.exceptions import BotoCoreError, ClientError

        described = boto3.client("cloudformation").describe_stacks(StackName=stack)
    except (BotoCoreError, ClientError) as exc:
        pytest.skip(f"cannot read stack {stack!r} with these AWS credentials: {exc}")
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described["Stacks"][0].get("Outputs", [])}
    return str(outputs["ApiUrl"])


@pytest.fixture(scope="module")
def api() -> Iterator[httpx.Client]:
    with httpx.Client(base_url=_api_url(), timeout=30) as client:
        yield client


def test_the_intake_form_is_served(api: httpx.Client) -> None:
    page = api.get("/intake")
    assert page.status_code == 200
    assert "<form" in page.text


def test_a_lead_with_missing_fields_is_refused_and_not_stored(api: httpx.Client) -> None:
    answer = api.post("/leads", json={"email": "not-an-email"})
    assert answer.status_code == 422
    assert "email" in answer.json()["fields"]


def test_an_unsigned_stripe_event_is_refused(api: httpx.Client) -> None:
    assert api.post("/webhooks/stripe", content=b"{}", headers={"Content-Type": "application/json"}).status_code == 400


def test_the_doorbell_wants_its_secret(api: httpx.Client) -> None:
    assert api.post("/webhooks/supabase", json={"table": "projects"}).status_code == 401


def test_a_download_link_with_a_bad_token_is_refused(api: httpx.Client) -> None:
    response = api.get(f"/deliverables/{uuid.uuid4()}/download", params={"token": "0.bad"})
    assert response.status_code == 403
