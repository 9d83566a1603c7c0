"""Generated inputs at every entry point the world rings (the Stripe and Notion webhooks, the Supabase doorbell
and the S3 upload event): no 5xx, no traceback, and a refusal writes nothing. A fixed seed and
`ATELIER_FUZZ_EXAMPLES` examples per entry point (1,000 in `make test`; `make chaos` runs more)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import stripe
from hypothesis import example, given, seed
from hypothesis import strategies as st

from tests.events import load_event
from tests.integration.generated import (
    FILTER_RANDOM,
    SEED,
    Harness,
    _encodable,
    _put,
    _safe,
    dumps,
    fuzz,
    json_values,
    raw_bodies,
    scalars,
    weird_numbers,
    weird_text,
)

pytestmark = FILTER_RANDOM


# -- POST /webhooks/stripe: signed events whose contents are anything ------------------------------------------


def stripe_objects() -> st.SearchStrategy[dict[str, Any]]:
    ids = st.one_of(
        st.text(max_size=30), st.sampled_from(["pi_\x00", "pi_" + "x" * 5000, "cs_1", "pi_123"]), json_values
    )
    return st.fixed_dictionaries(
        {},
        optional={
            "id": ids,
            "object": json_values,
            "payment_intent": ids,
            "payment_status": st.sampled_from(["paid", "unpaid"]) | json_values,
            "amount_total": weird_numbers | json_values,
            "amount": weird_numbers | json_values,
            "amount_received": weird_numbers,
            "amount_refunded": weird_numbers | json_values,
            "currency": st.sampled_from(["usd", "eur", "US", "", "\x00\x00\x00"]) | json_values,
            "customer": ids,
            "customer_email": weird_text,
            "client_reference_id": st.uuids().map(str) | weird_text,
            "customer_details": json_values | st.fixed_dictionaries({"email": weird_text}),
            "metadata": json_values | st.fixed_dictionaries({}, optional={"tier": scalars, "lead_id": scalars}),
        },
    )


EXAMPLE_EVENT = load_event("stripe_checkout_session_completed")
EXAMPLE_REFUND = load_event("stripe_charge_refunded")

stripe_events = st.fixed_dictionaries(
    {
        "id": st.one_of(st.uuids().map(lambda u: f"evt_{u.hex}"), weird_text.filter(bool)),
        "object": st.just("event"),
        "type": st.sampled_from(
            [
                "checkout.session.completed",
                "checkout.session.async_payment_succeeded",
                "checkout.session.async_payment_failed",
                "payment_intent.succeeded",
                "charge.refunded",
                "customer.created",
            ]
        ),
        "livemode": st.booleans() | json_values,
        "created": weird_numbers,
        "data": st.one_of(st.fixed_dictionaries({"object": stripe_objects()}), json_values),
    }
)


@pytest.mark.integration
@seed(SEED)
@fuzz
@given(
    event=stripe_events,
    signed=st.sampled_from(["good", "good", "good", "garbage", "stale"]),
    garbage=weird_text,
    raw=st.one_of(st.none(), raw_bodies),
)
@example(event={}, signed="garbage", garbage="t=1,v1=\u00e9\u00e9", raw=None)
@example(event={}, signed="garbage", garbage="t=" + "9" * 5000 + ",v1=ab", raw=None)
@example(event={}, signed="garbage", garbage="v1=" + "a" * 100_000, raw=None)
@example(
    event={**EXAMPLE_EVENT, "data": {"object": {**EXAMPLE_EVENT["data"]["object"], "metadata": "lead"}}},
    signed="good",
    garbage="",
    raw=None,
)
@example(event={**EXAMPLE_EVENT, "data": {"object": ["not", "an", "object"]}}, signed="good", garbage="", raw=None)
@example(
    event={**EXAMPLE_EVENT, "data": {"object": {**EXAMPLE_EVENT["data"]["object"], "amount_total": None}}},
    signed="good",
    garbage="",
    raw=None,
)
@example(
    event={**EXAMPLE_EVENT, "data": {"object": {**EXAMPLE_EVENT["data"]["object"], "amount_total": "750000"}}},
    signed="good",
    garbage="",
    raw=None,
)
@example(
    event={**EXAMPLE_EVENT, "data": {"object": {**EXAMPLE_EVENT["data"]["object"], "amount_total": -1}}},
    signed="good",
    garbage="",
    raw=None,
)
@example(
    event={**EXAMPLE_EVENT, "data": {"object": {**EXAMPLE_EVENT["data"]["object"], "currency": "dollars"}}},
    signed="good",
    garbage="",
    raw=None,
)
@example(
    event={**EXAMPLE_EVENT, "data": {"object": {**EXAMPLE_EVENT["data"]["object"], "payment_intent": "pi_\x00"}}},
    signed="good",
    garbage="",
    raw=None,
)
@example(event={**EXAMPLE_EVENT, "id": "evt_\x00"}, signed="good", garbage="", raw=None)
@example(
    event={**EXAMPLE_REFUND, "data": {"object": {**EXAMPLE_REFUND["data"]["object"], "amount_refunded": 10**9}}},
    signed="good",
    garbage="",
    raw=None,
)
def test_stripe_webhook_never_answers_5xx_and_a_refusal_writes_nothing(
    harness: Harness, event: dict[str, Any], signed: str, garbage: str, raw: bytes | None
) -> None:
    secret = harness.stack.settings["STRIPE_WEBHOOK_SECRET"]
    payload = raw if raw is not None else dumps(event).encode("utf-8", "surrogatepass")
    text = payload.decode("utf-8", "replace")
    if signed == "good":
        signature = stripe.WebhookSignature.generate_signature_header(text, secret)
        payload = text.encode()
    elif signed == "stale":
        signature = stripe.WebhookSignature.generate_signature_header(text, secret, timestamp=int(time.time()) - 10**6)
    else:
        signature = garbage
    answer = harness.check(
        "POST /webhooks/stripe",
        target="/webhooks/stripe",
        body=payload,
        headers=_safe({"content-type": "application/json", "stripe-signature": signature}),
    )
    if signed == "good" and answer["statusCode"] == 200:
        assert json.loads(answer["body"])["outcome"] in ("applied", "duplicate", "ignored", "unhandled", "rejected")


# -- POST /webhooks/supabase (the doorbell) ------------------------------------------------------------------------

doorbell_bodies = st.one_of(
    st.fixed_dictionaries(
        {
            "type": st.sampled_from(["INSERT", "UPDATE", "DELETE"]) | json_values,
            "table": st.sampled_from(["projects", "leads"]) | json_values,
            "record": json_values | st.fixed_dictionaries({"id": scalars | st.uuids().map(str)}),
        }
    ).map(lambda d: dumps(d).encode("utf-8", "surrogatepass")),
    raw_bodies,
)


@pytest.mark.integration
@seed(SEED)
@fuzz
@given(body=doorbell_bodies, bearer=st.sampled_from(["right", "right", "wrong", "none"]), wrong=weird_text)
@example(body=b'{"type": "INSERT", "table": "projects", "record": "x"}', bearer="right", wrong="")
@example(body=b'{"type": "INSERT", "table": "projects", "record": {"id": "\\u0000"}}', bearer="right", wrong="")
def test_doorbell_never_answers_5xx_and_a_refusal_writes_nothing(
    harness: Harness, body: bytes, bearer: str, wrong: str
) -> None:
    secret = harness.stack.settings["SUPABASE_WEBHOOK_SECRET"]
    auth = {"right": f"Bearer {secret}", "wrong": wrong, "none": None}[bearer]
    headers = {"content-type": "application/json"} | ({"authorization": auth} if auth is not None else {})
    harness.check("POST /webhooks/supabase", target="/webhooks/supabase", headers=_safe(headers), body=body)


# -- POST /webhooks/notion -----------------------------------------------------------------------------------------

notion_ids = st.one_of(st.uuids().map(str), weird_text, st.sampled_from(["", "title", "../etc", "a" * 300]))
notion_events = st.fixed_dictionaries(
    {
        "id": st.uuids().map(str) | scalars,
        "type": st.sampled_from(
            [
                "page.created",
                "page.properties_updated",
                "page.deleted",
                "page.undeleted",
                "data_source.schema_updated",
                "database.schema_updated",
                "comment.created",
            ]
        )
        | json_values,
        "entity": st.fixed_dictionaries(
            {"id": notion_ids, "type": st.sampled_from(["page", "data_source", "database"]) | json_values}
        )
        | json_values,
    },
    optional={"attempt_number": json_values, "timestamp": json_values, "data": json_values},
)
notion_bodies = st.one_of(
    notion_events.map(lambda d: dumps(d).encode("utf-8", "surrogatepass")),
    st.fixed_dictionaries({"verification_token": json_values}).map(lambda d: dumps(d).encode("utf-8", "surrogatepass")),
    raw_bodies,
)


def _subscribed(harness: Harness) -> str:
    from atelier.notion.webhook import FileTokens

    tokens = FileTokens(harness.stack.webhook_token_file())
    if tokens.current() is None:
        harness.stack.connect_notion_webhooks()
        assert harness.stack.notion is not None
        harness.stack.notion.webhooks.unsubscribe()  # deliveries here come from the strategy, not the emulator
    return tokens.current() or ""


@pytest.mark.integration
@seed(SEED)
@fuzz
@given(body=notion_bodies, signature=st.sampled_from(["right", "right", "right", "wrong", "none"]), wrong=weird_text)
@example(
    body=b'{"id": "e1", "type": "page.created", "entity": {"id": "1d2e3f40-0000-4000-8000-000000000000"}}',
    signature="right",
    wrong="",
)
@example(body=b'{"verification_token": "secret_x"}', signature="none", wrong="")
@example(body=b'{"id": "\\ud800", "type": "page.created", "entity": {"id": "1d2e3f40"}}', signature="right", wrong="")
def test_notion_webhook_never_answers_5xx_and_a_refusal_writes_nothing(
    harness: Harness, body: bytes, signature: str, wrong: str
) -> None:
    from atelier.notion.webhook import sign

    token = _subscribed(harness)
    value = {"right": sign(token, body), "wrong": wrong, "none": None}[signature]
    headers = {"content-type": "application/json"} | ({"x-notion-signature": value} if value is not None else {})
    harness.check("POST /webhooks/notion", target="/webhooks/notion", headers=_safe(headers), body=body)


# -- the S3 upload event -------------------------------------------------------------------------------------------

s3_keys = st.one_of(
    weird_text,
    st.builds(
        lambda p, c, n: f"projects/{p}/{c}/{n}",
        st.uuids().map(str) | weird_text,
        st.sampled_from(["Photo", "Document", "Drawing", "photo", ""]) | weird_text,
        weird_text,
    ),
)


@pytest.mark.integration
@seed(SEED)
@fuzz
@given(
    key=s3_keys,
    put=st.booleans(),
    size=weird_numbers,
    name=st.sampled_from(["ObjectCreated:Put", "ObjectRemoved:Delete", "ObjectCreated:CompleteMultipartUpload", ""])
    | weird_text,
    uploader=weird_text,
    content_type=weird_text,
    version=st.one_of(st.none(), weird_text),
    drop=st.sampled_from(["", "object", "bucket", "s3"]),
)
def test_the_upload_event_never_raises_for_any_record(
    harness: Harness,
    key: str,
    put: bool,
    size: Any,
    name: str,
    uploader: str,
    content_type: str,
    version: str | None,
    drop: str,
) -> None:
    from urllib.parse import quote_plus

    stack = harness.stack
    assert stack.s3 is not None
    bucket = stack.settings["DELIVERABLES_BUCKET"]
    encoded = quote_plus(key, safe="/", errors="surrogatepass")
    if put and key and _encodable(key) and len(key.encode()) < 1000:
        _put(stack, bucket, key, content_type, uploader)
    record: dict[str, Any] = {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": "us-east-1",
        "eventTime": "2026-11-23T09:00:00.000Z",
        "eventName": name,
        "s3": {
            "s3SchemaVersion": "1.0",
            "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
            "object": {
                "key": encoded,
                "size": size,
                "eTag": "d41d8cd98f00b204e9800998ecf8427e",
                "sequencer": "0055AED6DCD90281E5",
            }
            | ({"versionId": version} if version is not None else {}),
        },
    }
    if drop == "s3":
        record.pop("s3")
    elif drop:
        record["s3"].pop(drop)
    stack.front_door_lambdas().invoke("deliverable_uploaded", {"Records": [record]})
