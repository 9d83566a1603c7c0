"""Issue 29 on the local stack: odd input answered as a person would expect, never a 5xx and never mis-recorded."""

from __future__ import annotations

import httpx
import psycopg
import pytest

from atelier.kernel.rpc import PsycopgRpc

Conn = psycopg.Connection[tuple[object, ...]]


@pytest.mark.integration
def test_a_nul_in_the_sign_in_address_gets_the_form_again_not_json(api: httpx.Client, db: Conn) -> None:
    answer = api.post("/portal/login", data={"email": "ada\x00@example.com"})

    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("text/html")
    assert "name@example.com" in answer.text
    assert db.execute("select count(*) from portal_sign_ins").fetchone() == (0,)


@pytest.mark.integration
@pytest.mark.parametrize(
    ("reason", "words"), [("complaint", "the address complained"), ("bounce", "the address bounced")]
)
def test_an_address_marked_by_ses_says_why_in_words(rpc: PsycopgRpc, db: Conn, reason: str, words: str) -> None:
    db.execute(
        "insert into notifications (recipient, template, dedupe_key) "
        "values ('ann@example.com', 'payment_receipt', 'k1')"
    )

    assert rpc.rpc("suppress_email", p_email="Ann@example.com", p_reason=reason, p_details={}) == 1
    assert db.execute("select status::text, last_error from notifications").fetchone() == ("failed", words)
