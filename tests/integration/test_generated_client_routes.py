"""Generated inputs at every route a client or the owner reaches (the intake, the pages Checkout returns to,
the portal, the report and the download link): no 5xx, no traceback, and a refusal writes nothing. A fixed seed and
`ATELIER_FUZZ_EXAMPLES` examples per entry point (1,000 in `make test`; `make chaos` runs more)."""

from __future__ import annotations

import math
import uuid
from typing import Any

import pytest
from hypothesis import example, given, seed
from hypothesis import strategies as st

from tests.integration.generated import (
    FILTER_RANDOM,
    SEED,
    Harness,
    _safe,
    dumps,
    fuzz,
    headers_with,
    json_values,
    raw_bodies,
    scalars,
    weird_numbers,
    weird_text,
)

pytestmark = FILTER_RANDOM


# -- POST /leads and GET /intake ---------------------------------------------------------------------------------

LEAD_FIELDS = (
    "name",
    "email",
    "budget",
    "timeline_weeks",
    "project_type",
    "project_address",
    "has_survey",
    "has_drawings",
    "phone",
    "notes",
    "website",
)
good_lead = {
    "name": "Ada",
    "email": "ada@example.com",
    "budget": "$10k-15k",
    "timeline_weeks": 8,
    "project_type": "standard_renovation",
}
lead_bodies = st.one_of(
    st.dictionaries(st.sampled_from(LEAD_FIELDS), json_values, max_size=8).map(lambda d: {**good_lead, **d}),
    st.dictionaries(st.sampled_from(LEAD_FIELDS), scalars, max_size=8),
)


@pytest.mark.integration
@seed(SEED)
@fuzz
@given(
    body=lead_bodies,
    as_form=st.booleans(),
    key=st.one_of(st.none(), weird_text),
    raw=st.one_of(st.none(), raw_bodies),
    content_type=st.sampled_from(
        [
            "application/json",
            "application/x-www-form-urlencoded",
            "text/plain",
            "",
            "multipart/form-data; boundary=x",
            "application/json; charset=latin-1",
        ]
    ),
)
# What adversarial testing found by hand, kept as explicit examples beside the generated ones.
@example(body={**good_lead, "budget": math.inf}, as_form=False, key=None, raw=None, content_type="application/json")
@example(
    body={**good_lead, "budget": "9" * 400},
    as_form=True,
    key=None,
    raw=None,
    content_type="application/x-www-form-urlencoded",
)
@example(body={**good_lead, "budget": 10**400}, as_form=False, key=None, raw=None, content_type="application/json")
@example(
    body={**good_lead, "timeline_weeks": "1e400"}, as_form=False, key=None, raw=None, content_type="application/json"
)
@example(body={}, as_form=False, key=None, raw=b'{"budget": ' + b"1" * 5000 + b"}", content_type="application/json")
def test_post_leads_never_answers_5xx_and_a_refusal_writes_nothing(
    harness: Harness, body: dict[str, Any], as_form: bool, key: str | None, raw: bytes | None, content_type: str
) -> None:
    from urllib.parse import urlencode

    if raw is not None:
        payload = raw
    elif as_form:
        fields = {k: dumps(v) if not isinstance(v, str) else v for k, v in body.items()}
        payload = urlencode(fields, errors="surrogatepass").encode("utf-8", "surrogatepass")
    else:
        payload = dumps(body).encode("utf-8", "surrogatepass")
    headers = {"content-type": content_type} | ({"idempotency-key": key} if key is not None else {})
    harness.check("POST /leads", target="/leads", headers=_safe(headers), body=payload)


@pytest.mark.integration
@seed(SEED)
@fuzz
@given(query=weird_text, headers=headers_with({}))
def test_get_intake_never_answers_5xx(harness: Harness, query: str, headers: dict[str, str]) -> None:
    from urllib.parse import quote

    harness.check(
        "GET /intake",
        target=f"/intake?tier={quote(query, safe='', errors='surrogatepass')}",
        headers=_safe(headers),
        body=b"",
    )


@pytest.mark.integration
@seed(SEED)
@fuzz
@given(
    session=st.one_of(weird_text, st.text(alphabet="cs_test0123456789abcdef", max_size=40)),
    headers=headers_with({}),
    page=st.sampled_from(["/thanks", "/cancelled"]),
)
def test_the_pages_checkout_returns_to_never_answer_5xx(
    harness: Harness, session: str, headers: dict[str, str], page: str
) -> None:
    from urllib.parse import quote

    answer = harness.check(
        f"GET {page}",
        target=f"{page}?session_id={quote(session, safe='', errors='surrogatepass')}",
        headers=_safe(headers),
        body=b"",
    )
    assert int(answer["statusCode"]) in (200, 404)


@pytest.mark.integration
@seed(SEED)
@fuzz
@given(
    token=weird_text,
    body=raw_bodies,
    cookie=weird_text.filter(lambda t: "\n" not in t and "\r" not in t),
    project=st.one_of(st.uuids().map(str), weird_text.filter(lambda t: "/" not in t and t not in ("", ".", ".."))),
)
def test_the_portal_never_answers_5xx_and_a_refusal_writes_nothing(
    harness: Harness, token: str, body: bytes, cookie: str, project: str
) -> None:
    from urllib.parse import quote

    q = quote(token, safe="", errors="surrogatepass")
    harness.check(
        "GET /portal", target=f"/portal?token={q}", headers=_safe({"cookie": f"atelier_portal={cookie}"}), body=b""
    )
    harness.check(
        "POST /portal/login",
        target="/portal/login",
        body=body,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    harness.check(
        "GET /portal/projects/{id}",
        target=f"/portal/projects/{quote(project, safe='', errors='surrogatepass')}",
        headers=_safe({"cookie": f"atelier_portal={cookie}"}),
        body=b"",
        path_parameters={"id": project},
    )


@pytest.mark.integration
@seed(SEED)
@fuzz
@given(
    period=st.one_of(weird_text, st.sampled_from(["month", "custom", "2026-Q5", "0000-01", "9999", "2024-02-30"])),
    start=st.one_of(st.none(), weird_text, st.dates().map(str)),
    end=st.one_of(st.none(), weird_text, st.dates().map(str)),
    key=st.one_of(st.just("right"), weird_text),
    page=st.sampled_from(["/reports", "/reports.xlsx", "/reports.pdf"]),
)
@example(period="month", start=None, end=None, key="²1.abc", page="/reports.xlsx")
@example(period="month", start=None, end=None, key="9" * 4400 + ".abc", page="/reports")
def test_the_report_never_answers_5xx_for_any_period_or_link(
    harness: Harness, period: str, start: str | None, end: str | None, key: str, page: str
) -> None:
    from urllib.parse import urlencode

    from atelier.kernel.rpc import PsycopgRpc
    from atelier.reports.links import ReportLinks

    if key == "right":
        secret = harness.stack.settings["PORTAL_LINK_SECRET"].encode()
        key = ReportLinks(secret, "http://fuzz", PsycopgRpc(harness.stack.database_url)).token(1)
    query = (
        {"key": key, "period": period}
        | ({"from": start} if start is not None else {})
        | ({"to": end} if end is not None else {})
    )
    target = f"{page}?{urlencode(query, errors='surrogatepass')}"
    answer = harness.check(f"GET {page}", target=target, headers={}, body=b"")
    assert int(answer["statusCode"]) in (200, 401, 403, 422), answer.get("body", "")[:300]


# -- GET /deliverables/{id}/download -------------------------------------------------------------------------------


@pytest.mark.integration
@seed(SEED)
@fuzz
@given(
    deliverable=st.one_of(st.uuids().map(str), weird_text.filter(lambda t: "/" not in t and t)),
    token=weird_text,
    expires=st.one_of(weird_numbers.map(str), weird_text),
    extra=st.booleans(),
)
@example(deliverable=str(uuid.UUID(int=1)), token="\u0661" * 20, expires="1", extra=True)
@example(deliverable=str(uuid.UUID(int=1)), token="a" * 20, expires="9" * 400, extra=True)
@example(deliverable=str(uuid.UUID(int=1)), token="²1.abc", expires="1", extra=False)
@example(deliverable=str(uuid.UUID(int=1)), token="9" * 4400 + ".abc", expires="1", extra=False)
def test_download_never_answers_5xx(harness: Harness, deliverable: str, token: str, expires: str, extra: bool) -> None:
    from urllib.parse import quote

    query = f"token={quote(token, safe='', errors='surrogatepass')}"
    if extra:
        query += f"&expires={quote(expires, safe='', errors='surrogatepass')}"
    path_id = quote(deliverable, safe="", errors="surrogatepass")
    harness.check(
        "GET /deliverables/{id}/download",
        target=f"/deliverables/{path_id}/download?{query}",
        headers={},
        body=b"",
        path_parameters={"id": deliverable},
    )
