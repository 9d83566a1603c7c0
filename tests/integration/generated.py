"""What the generated-input tests share: values a hostile or careless client sends, and a harness that sends
them through the front door's real API Gateway v2 events and checks the answer (no 5xx, no traceback, a refusal
writes nothing)."""

from __future__ import annotations

import contextlib
import functools
import json
import os
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from atelier_local.frontdoor import build_event, routes_from_template
from atelier_local.stack import LocalStack

Conn = psycopg.Connection[tuple[object, ...]]
EXAMPLES = int(os.environ.get("ATELIER_FUZZ_EXAMPLES", "1000"))
# moto's server and the local S3 notifier run in threads of their own and use `random` while hypothesis draws;
# hypothesis takes that for a strategy using `random`. The strategies here use none.
FILTER_RANDOM = pytest.mark.filterwarnings("ignore:Do not use the `random` module inside strategies")
SEED = 20261123
WRITTEN = (
    "leads",
    "users",
    "clients",
    "projects",
    "milestones",
    "payments",
    "deliverables",
    "inbound_events",
    "audit_log",
    "sync_outbox",
    "notifications",
    "portal_sign_ins",
)
ROUTES = {r.route_key: r for r in routes_from_template()}

fuzz = settings(
    max_examples=EXAMPLES, deadline=None, database=None, derandomize=False, suppress_health_check=list(HealthCheck)
)

# -- values a hostile or careless client sends -----------------------------------------------------------------

weird_numbers = st.one_of(
    st.integers(),
    st.integers(min_value=10**15, max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, -1, 2**31, 2**63, -(2**63), 10**400, 1e308, -0.0]),
)
weird_text = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=300),
    st.sampled_from(
        [
            "\x00",
            "٣",
            "\uff11\uff12",
            "1e400",
            "-1",
            "NaN",
            "Infinity",
            "9" * 5000,
            "<script>x</script>",
            "' or 1=1 --",
            "\ud7ff",
            "\ud800",
            "²",
            "²1.x",
            "9" * 4400 + ".x",
            "a\r\nBcc: x@example.com",
            "a" * 70000,
        ]
    ),
)
scalars = st.one_of(st.none(), st.booleans(), weird_numbers, weird_text)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=12,
)


def dumps(value: Any) -> str:
    """JSON as a careless client writes it: Python's own, with NaN, Infinity and integers of any size."""
    try:
        return json.dumps(value)
    except ValueError:  # an integer past Python's digit limit for str()
        return "1" * 5000


raw_bodies = st.one_of(
    st.binary(max_size=300),
    st.builds(dumps, json_values),
    st.sampled_from(["[" * 5000 + "]" * 5000, '{"a":' * 3000 + "1" + "}" * 3000, "1" * 5000, "", "null", "[]"]),
).map(lambda b: b if isinstance(b, bytes) else b.encode("utf-8", "surrogatepass"))


class Harness:
    def __init__(self, stack: LocalStack, db: Conn) -> None:
        self.stack = stack
        self.db = db

    def __repr__(self) -> str:  # hypothesis prints its arguments: never the stack's settings and secrets
        return "Harness(local stack)"

    def counts(self) -> dict[str, int]:
        row = self.db.execute(("select " + ", ".join(f"(select count(*) from {t})" for t in WRITTEN)).encode())
        return dict(zip(WRITTEN, (int(str(v)) for v in row.fetchone() or ()), strict=True))

    def call(
        self,
        route_key: str,
        *,
        target: str,
        headers: dict[str, str],
        body: bytes,
        path_parameters: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        route = ROUTES[route_key]
        event = build_event(route, route.method, target, headers, body, "203.0.113.9", path_parameters or {})
        return dict(self.stack.front_door_lambdas().invoke(route.function, event))

    def check(self, route_key: str, **request: Any) -> dict[str, Any]:
        before = self.counts()
        answer = self.call(route_key, **request)
        status = int(answer["statusCode"])
        body = answer.get("body") or ""
        assert status < 500, f"{route_key} answered {status}: {body[:300]!r} for {request!r:.600}"
        assert "Traceback" not in body
        if status >= 400:
            assert self.counts() == before, f"{route_key} refused with {status} but wrote: {body[:200]}"
        return answer


def headers_with(extra: dict[str, str]) -> st.SearchStrategy[dict[str, str]]:
    noise = st.dictionaries(
        st.sampled_from(
            [
                "content-type",
                "idempotency-key",
                "accept",
                "x-forwarded-for",
                "origin",
                "content-length",
                "authorization",
                "stripe-signature",
            ]
        ),
        weird_text.filter(lambda t: "\n" not in t and "\r" not in t),
        max_size=3,
    )
    return noise.map(lambda n: {**n, **extra})


@functools.cache
def _s3(url: str) -> Any:
    import boto3

    return boto3.client(
        "s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )


def _printable(text: str) -> str:
    return "".join(c for c in text if " " <= c <= "~")[:100]


def _put(stack: LocalStack, bucket: str, key: str, content_type: str, uploader: str) -> None:
    from botocore.exceptions import ClientError, ParamValidationError

    assert stack.s3 is not None
    with contextlib.suppress(ClientError, ParamValidationError):  # S3 refuses it: the event can still name it
        _s3(stack.s3.url).put_object(
            Bucket=bucket,
            Key=key,
            Body=b"\x89PNG....",
            ContentType=_printable(content_type),
            Metadata={"uploaded-by": _printable(uploader)},
        )


def _safe(headers: dict[str, str]) -> dict[str, str]:
    """Headers as HTTP can carry them: latin-1 text (API Gateway hands the rest over as it came, decoded)."""
    return {k: v.encode("utf-8", "surrogatepass").decode("latin-1") for k, v in headers.items()}


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
