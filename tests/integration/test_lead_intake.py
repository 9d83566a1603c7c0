"""POST /leads and GET /intake through the local front door, against real Postgres."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import httpx
import psycopg
import pytest

from atelier_local.lambda_runtime import LocalLambdas
from atelier_local.stack import LocalStack
from tests.events import load_event
from tests.seed_catalogue import TIER_NAME

Conn = psycopg.Connection[tuple[object, ...]]

GOOD: dict[str, Any] = {
    "email": "  Ada.Lovelace@Example.COM ",
    "name": "  Ada Lovelace ",
    "project_address": "12 Analytical Row",
    "budget": "$10k-15k",
    "timeline_weeks": 8,
    "project_type": "standard_renovation",
    "has_survey": True,
    "has_drawings": True,
    "notes": "Kitchen and bath.",
}


def counts(db: Conn) -> dict[str, int]:
    tables = ("leads", "audit_log", "sync_outbox")
    return {t: int(str(db.execute(f"select count(*) from {t}".encode()).fetchone()[0])) for t in tables}  # type: ignore[index]


NOTHING = {"leads": 0, "audit_log": 0, "sync_outbox": 0}


def post(api: httpx.Client, body: Any, key: str | None = None, **headers: str) -> httpx.Response:
    if key:
        headers["Idempotency-Key"] = key
    return api.post("/leads", json=body, headers=headers)


def test_a_posted_lead_is_stored_routed_and_answered_with_a_checkout_link(api: httpx.Client, db: Conn) -> None:
    # Given a clean tier-2 lead, when it is posted
    response = post(api, GOOD, key="lead-key-0001")

    # Then the answer has the interface's keys and a checkout link from the Stripe stand-in
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) >= {
        "lead_id",
        "tier",
        "tier_name",
        "reason",
        "confidence",
        "needs_review",
        "red_flags",
        "alternative_tiers",
        "next_step",
    }
    assert (body["tier"], body["tier_name"], body["confidence"]) == (2, TIER_NAME[2], "high")
    assert body["next_step"]["action"] == "pay"
    assert "/_local/checkout/cs_test_" in body["checkout_url"]

    # And one lead, one audit row and one outbox row were written together, cleaned and normalised
    assert counts(db) == {"leads": 1, "audit_log": 1, "sync_outbox": 1}
    row = db.execute(
        "select email, name, recommended_tier, routing_reason, status::text, budget_min_cents, budget_max_cents,"
        " checkout_session_id is not null from leads"
    ).fetchone()
    assert row == (
        "ada.lovelace@example.com",
        "Ada Lovelace",
        2,
        body["reason"],
        "qualified",
        1_000_000,
        1_500_000,
        True,
    )


def test_a_replay_with_the_same_key_returns_the_same_answer_and_creates_nothing(
    api: httpx.Client, db: Conn, stack: LocalStack
) -> None:
    first = post(api, GOOD, key="lead-key-0002")
    before = counts(db)
    sessions = len(stack.stripe.sessions) if stack.stripe else 0

    again = post(api, GOOD, key="lead-key-0002")

    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert counts(db) == before
    assert stack.stripe is not None
    assert len(stack.stripe.sessions) == sessions


def test_the_same_key_with_different_answers_is_a_conflict(api: httpx.Client, db: Conn) -> None:
    post(api, GOOD, key="lead-key-0003")
    before = counts(db)
    changed = post(api, {**GOOD, "budget": 60000}, key="lead-key-0003")
    assert changed.status_code == 409
    assert changed.json()["error"] == "submission_key_reused"
    assert counts(db) == before


def test_without_a_key_an_identical_double_submit_files_one_lead(api: httpx.Client, db: Conn) -> None:
    first = post(api, GOOD)
    second = post(api, GOOD)
    assert first.json()["lead_id"] == second.json()["lead_id"]
    assert counts(db)["leads"] == 1
    assert post(api, {**GOOD, "name": "Someone Else"}).json()["lead_id"] != first.json()["lead_id"]


@pytest.mark.parametrize(
    ("content", "content_type", "status", "error"),
    [
        (b'{"email": "a@example.com", "name": ', "application/json", 400, "invalid_json"),
        (b'["a", "b"]', "application/json", 400, "invalid_json"),
        (b"\xff\xfe not utf-8", "application/json", 400, "invalid_json"),
        (b"email=a%40example.com", "text/plain", 415, "unsupported_media_type"),
        (b"email=a%40example.com", "multipart/form-data; boundary=x", 415, "unsupported_media_type"),
        (b"{}", "", 415, "unsupported_media_type"),
        (b"x" * (16 * 1024 + 1), "application/json", 413, "payload_too_large"),
        (b"name=%FF%FE", "application/x-www-form-urlencoded", 400, "invalid_form"),
    ],
)
def test_bad_bodies_get_their_own_status_and_write_nothing(
    api: httpx.Client, db: Conn, content: bytes, content_type: str, status: int, error: str
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = api.post("/leads", content=content, headers=headers)
    assert response.status_code == status, response.text
    assert response.json()["error"] == error
    assert response.json()["message"]
    assert counts(db) == NOTHING


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"email": None, "name": None, "project_type": None}, {"email", "name", "project_type"}),
        ({"email": "not-an-email"}, {"email"}),
        ({"project_type": "castle"}, {"project_type"}),
        ({"timeline_weeks": "soon"}, {"timeline_weeks"}),
        ({"timeline_weeks": 0}, {"timeline_weeks"}),
        ({"budget": "lots of money maybe 5 or 6 or 7"}, {"budget"}),
        ({"budget": -5}, {"budget"}),
        ({"name": "x" * 201}, {"name"}),
        ({"notes": "n" * 4001}, {"notes"}),
        ({"has_survey": "perhaps"}, {"has_survey"}),
        ({"leave_blank": "http://spam.example"}, {"leave_blank"}),
    ],
)
def test_invalid_fields_get_422_naming_each_field_and_write_nothing(
    api: httpx.Client, db: Conn, changes: dict[str, Any], fields: set[str]
) -> None:
    body = {k: v for k, v in {**GOOD, **changes}.items() if v is not None}
    response = post(api, body, key=f"bad-{uuid.uuid4().hex}")
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "validation_failed"
    assert set(response.json()["fields"]) == fields
    assert all(message.endswith(".") for message in response.json()["fields"].values())
    assert counts(db) == NOTHING


def test_a_malformed_submission_key_is_refused(api: httpx.Client, db: Conn) -> None:
    response = post(api, GOOD, key="short")
    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"submission_key"}
    assert counts(db) == NOTHING


def test_markup_is_kept_as_text_and_escaped_on_the_page(api: httpx.Client, db: Conn) -> None:
    form = {
        **GOOD,
        "name": "<script>alert(1)</script>",
        "has_survey": "on",
        "has_drawings": "on",
        "submission_key": "form-key-0001",
    }
    response = api.post("/leads", data=form, headers={"Accept": "text/html"})
    assert response.status_code == 201
    assert response.headers["content-type"].startswith("text/html")
    assert db.execute("select name from leads").fetchone() == ("<script>alert(1)</script>",)
    assert "<script>alert(1)</script>" not in response.text


def test_the_form_page_posts_without_javascript_and_shows_the_result(api: httpx.Client, db: Conn) -> None:
    page = api.get("/intake")
    assert page.status_code == 200
    assert '<form method="post" action="/leads"' in page.text
    assert '<label for="email">Email <span class="req">(required)</span></label>' in page.text
    assert "<script" not in page.text
    key = page.text.split('name="submission_key" value="')[1].split('"')[0]

    form = {
        "name": "Ada",
        "email": "ada@example.com",
        "budget": "5000",
        "timeline_weeks": "3",
        "project_type": "simple_renovation",
        "has_survey": "on",
        "has_drawings": "on",
        "submission_key": key,
    }
    result = api.post("/leads", data=form, headers={"Accept": "text/html,application/xhtml+xml"})

    assert result.status_code == 201
    assert f"We recommend {TIER_NAME[1]}" in result.text
    assert "Continue to payment" in result.text
    assert db.execute("select submission_key from leads").fetchone() == (key,)


def test_a_form_with_a_missing_field_shows_the_error_next_to_it(api: httpx.Client, db: Conn) -> None:
    form = {"name": "Ada", "email": "", "project_type": "simple_renovation", "submission_key": "form-key-0002"}
    result = api.post("/leads", data=form, headers={"Accept": "text/html"})
    assert result.status_code == 422
    assert 'id="email" name="email" value="" required aria-invalid="true" aria-describedby="email-error"' in result.text
    assert '<p class="error" id="email-error">Email: This field is required.</p>' in result.text
    # What the client typed is kept, and the same submission key comes back.
    assert 'value="Ada"' in result.text
    assert 'name="submission_key" value="form-key-0002"' in result.text
    assert counts(db) == NOTHING


def test_leads_that_need_review_hear_the_team_will_contact_them(api: httpx.Client, db: Conn, stack: LocalStack) -> None:
    response = post(
        api, {**GOOD, "budget": 80000, "project_type": "new_build", "timeline_weeks": 40}, key="lead-key-0004"
    )
    body = response.json()
    assert (body["tier"], body["needs_review"]) == (4, True)
    assert body["next_step"]["action"] == "wait_for_contact"
    assert body["checkout_url"] is None
    assert stack.stripe is not None
    assert stack.stripe.sessions == {}
    assert db.execute("select status::text from leads").fetchone() == ("needs_review",)


@pytest.mark.parametrize("stack_env", [{"STRIPE_SECRET_KEY": "sk_test_wrong_key"}])
def test_when_stripe_refuses_the_lead_is_kept_and_a_link_will_follow(
    api: httpx.Client, db: Conn, stack_env: dict[str, str]
) -> None:
    # The stand-in is off (a key is given) and real Stripe is out of reach: the checkout fails.
    response = post(api, GOOD, key="lead-key-0005")
    assert response.status_code == 201
    assert response.json()["next_step"]["action"] == "wait_for_payment_link"
    assert counts(db) == {"leads": 1, "audit_log": 1, "sync_outbox": 1}
    again = post(api, GOOD, key="lead-key-0005")
    assert again.json() == response.json()


@pytest.mark.parametrize("stack_env", [{"ALLOWED_ORIGINS": "https://studio.example, https://www.studio.example"}])
def test_cors_allows_only_configured_origins_and_answers_preflight(
    api: httpx.Client, stack_env: dict[str, str]
) -> None:
    preflight = api.options(
        "/leads", headers={"Origin": "https://studio.example", "Access-Control-Request-Method": "POST"}
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "https://studio.example"
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert "Idempotency-Key" in preflight.headers["access-control-allow-headers"]

    foreign = post(api, GOOD, key="lead-key-0006", Origin="https://evil.example")
    assert "access-control-allow-origin" not in foreign.headers
    allowed = post(api, GOOD, key="lead-key-0007", Origin="https://www.studio.example")
    assert allowed.headers["access-control-allow-origin"] == "https://www.studio.example"


def test_a_base64_encoded_body_from_api_gateway_is_decoded(stack: LocalStack, db: Conn) -> None:
    event = load_event("apigw_v2_post_lead_base64")
    event["body"] = base64.b64encode(json.dumps(GOOD).encode()).decode()
    result = LocalLambdas().invoke("lead_intake", event)
    assert result["statusCode"] == 201, result["body"]
    assert db.execute(
        "select submission_key, host(ip_address) from leads join audit_log on audit_log.resource_id = leads.id::text"
    ).fetchone() == ("evt-base64-0001", "203.0.113.7")


def test_unknown_paths_get_404_like_api_gateway(api: httpx.Client) -> None:
    assert api.get("/nope").status_code == 404
    assert api.delete("/leads").status_code == 404
