"""The client's portal on the local stack: sign-in by e-mail link, and two clients kept apart by row-level security."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import psycopg
import pytest

from atelier.cli import main
from atelier.kernel.rpc import PsycopgRpc
from atelier.portal.service import PortalService
from atelier.portal.session import Claims, PortalKeys
from atelier_local.lambda_runtime import LocalLambdas
from atelier_local.stack import LocalStack, scheduled_event
from tests.seed_catalogue import TIER_NAME

Conn = psycopg.Connection[tuple[object, ...]]
PNG = b"\x89PNG\r\n\x1a\n0000"


def _client(api: httpx.Client, db: Conn, name: str, email: str) -> str:
    """A paid client, through the form and the Checkout stand-in; returns the project id."""
    lead = {
        "name": name,
        "email": email,
        "project_address": f"{name} House",
        "budget": "$10k-15k",
        "timeline_weeks": 10,
        "project_type": "standard_renovation",
        "has_survey": True,
        "has_drawings": True,
    }
    answer = api.post("/leads", json=lead, headers={"Idempotency-Key": f"portal-{uuid.uuid4()}"}).json()
    session_id = str(answer["checkout_url"]).rstrip("/").rsplit("/", 1)[-1]
    api.post(f"/_local/checkout/{session_id}/pay", follow_redirects=False)
    assert "Payment received" in api.get("/thanks", params={"session_id": session_id}).text
    row = db.execute(
        "select p.id from projects p join clients c on c.id = p.client_id join users u on "
        "u.id = c.user_id where u.email = %s",
        (email,),
    ).fetchone()
    assert row is not None
    return str(row[0])


def _link(email: str, capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    assert main(["portal", "link", email]) == 0
    return capsys.readouterr().out.strip().splitlines()[-1]


def _browser(stack: LocalStack) -> httpx.Client:
    assert stack.front_door is not None
    return httpx.Client(base_url=stack.front_door.url, timeout=30, follow_redirects=False)


def _sign_in(stack: LocalStack, link: str) -> httpx.Client:
    visitor = _browser(stack)
    opened = visitor.get(link.removeprefix(str(visitor.base_url).rstrip("/")))
    assert opened.status_code == 303, opened.text
    assert "HttpOnly" in opened.headers["set-cookie"]
    assert "SameSite=Lax" in opened.headers["set-cookie"]
    return visitor


def signed_in_as(database_url: str, email: str, role: str) -> tuple[PortalService, Claims]:
    """The portal's service with a client signed in, its reads and writes run under `role`: `authenticated` as in
    production, or `service_role`, to show what row-level security alone refuses."""
    rpc = PsycopgRpc(database_url)
    keys = PortalKeys(b"k" * 32)
    service = PortalService(rpc, lambda jwt, claims: rpc.as_user(jwt, claims, role=role), keys, base_url="http://x")
    started = rpc.rpc(
        "start_portal_sign_in",
        p_email=email,
        p_source_ip=None,
        p_ttl_seconds=60,
        p_per_address=99,
        p_per_source=99,
        p_send=False,
    )
    opened = service.open(keys.sign_in_token(str(started["id"]), int(started["expires"])))
    assert opened is not None
    session = service.session(opened.session)
    assert session is not None
    return service, session


@pytest.fixture
def two_clients(stack: LocalStack, api: httpx.Client, db: Conn, tmp_path: Any) -> dict[str, str]:
    stack.setup_notion()
    a, b = _client(api, db, "Ann", "ann@example.com"), _client(api, db, "Bob", "bob@example.com")
    photo = tmp_path / "site.png"
    photo.write_bytes(PNG)
    assert main(["deliverable", "upload", a, str(photo), "--category", "Photo"]) == 0
    assert stack.s3 is not None
    assert stack.s3.wait_idle()
    return {"a": a, "b": b}


def test_each_client_sees_their_own_project_and_gets_404_for_the_other(
    stack: LocalStack, two_clients: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    ann = _sign_in(stack, _link("ann@example.com", capsys))
    home = ann.get("/portal")
    assert home.status_code == 200
    assert f"Ann House - {TIER_NAME[2]}" in home.text
    assert "Bob" not in home.text

    mine = ann.get(f"/portal/projects/{two_clients['a']}")
    assert mine.status_code == 200
    assert "Discovery and site review" in mine.text  # the timeline
    assert "due next" in mine.text
    assert "site.png" in mine.text  # the gallery
    assert "$7,500" in mine.text
    download = re.search(r'<a href="(/portal/deliverables/[0-9a-f-]{36})"', mine.text)
    assert download is not None
    sent_on = ann.get(download.group(1))  # a fresh link that lasts minutes, for the signed-in client only
    assert sent_on.status_code == 302
    assert httpx.get(sent_on.headers["location"], follow_redirects=True).content == PNG
    stranger = _browser(stack).get(download.group(1))  # the same link without the client's sign-in
    assert stranger.status_code == 401
    assert "location" not in stranger.headers

    theirs = ann.get(f"/portal/projects/{two_clients['b']}")
    nowhere = ann.get(f"/portal/projects/{uuid.uuid4()}")
    assert (theirs.status_code, nowhere.status_code) == (404, 404)
    assert theirs.text == nowhere.text  # the same answer: ids cannot be probed
    assert "Bob" not in theirs.text


@pytest.mark.parametrize("role", ["authenticated", "service_role"])
def test_row_level_security_is_the_wall(
    stack: LocalStack, two_clients: dict[str, str], database_url: str, role: str
) -> None:
    """The same portal reads as `service_role` would show Ann Bob's project: RLS, not the queries, keeps them apart."""
    service, session = signed_in_as(database_url, "ann@example.com", role)
    seen = service.project(session, two_clients["b"])
    if role == "authenticated":
        assert seen is None
        assert [p["id"] for p in service.projects(session)] == [two_clients["a"]]
    else:
        assert seen is not None  # without RLS the very same query would show it
        assert len(service.projects(session)) == 2


def test_a_reused_an_expired_or_a_forged_link_and_a_forged_cookie_show_sign_in_and_no_data(
    stack: LocalStack, two_clients: dict[str, str], capsys: pytest.CaptureFixture[str], db: Conn
) -> None:
    link = _link("ann@example.com", capsys)
    ann = _sign_in(stack, link)
    again = _browser(stack).get(link.removeprefix(str(ann.base_url).rstrip("/")))
    assert again.status_code == 200
    assert "expired or was used" in again.text
    assert "set-cookie" not in again.headers

    expired = _link("ann@example.com", capsys)
    db.execute("update portal_sign_ins set expires_at = now() - interval '1 second' where used_at is null")
    assert "expired or was used" in _browser(stack).get(expired.removeprefix(str(ann.base_url).rstrip("/"))).text

    token = link.split("token=", 1)[1]
    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    assert "expired or was used" in _browser(stack).get(f"/portal?token={forged}").text

    session = ann.cookies.get("atelier_portal")
    assert session
    session_id, signature = session.split(".")
    tampered = f"{uuid.uuid4()}.{signature}"  # another session's id under this one's signature
    for cookie in (tampered, f"{session_id}.{signature[:-2]}", "x.y.z", "garbage", ""):
        page = _browser(stack).get(
            f"/portal/projects/{two_clients['a']}", headers={"Cookie": f"atelier_portal={cookie}"}
        )
        assert page.status_code == 401
        assert "Send me a sign-in link" in page.text
        assert "Ann House" not in page.text


def test_login_says_the_same_for_a_known_and_an_unknown_address_and_is_rate_limited(
    stack: LocalStack, two_clients: dict[str, str], db: Conn
) -> None:
    visitor = _browser(stack)
    known = visitor.post("/portal/login", data={"email": "ann@example.com"})
    unknown = visitor.post("/portal/login", data={"email": "stranger@example.com"})
    assert (known.status_code, unknown.status_code) == (200, 200)
    assert known.text == unknown.text
    assert "ann@example.com" not in known.text

    LocalLambdas().invoke("client_mail", scheduled_event(), timeout_seconds=60)
    (body,) = db.execute("select body_text from notifications where template = 'portal_sign_in'").fetchone() or ()
    link = next(line.strip() for line in str(body).splitlines() if "/portal?token=" in line)
    assert _sign_in(stack, link).get("/portal").status_code == 200

    answers = [visitor.post("/portal/login", data={"email": "bob@example.com"}).status_code for _ in range(6)]
    assert answers[:5] == [200] * 5
    assert answers[5] == 429
    sent = db.execute(
        "select count(*) from notifications where template = 'portal_sign_in' and recipient = 'bob@example.com'"
    ).fetchone()
    assert sent == (5,)
    assert visitor.post("/portal/login", data={"email": "not an address"}).status_code == 422


def test_nothing_a_client_typed_is_shown_unescaped(
    stack: LocalStack, api: httpx.Client, db: Conn, capsys: pytest.CaptureFixture[str]
) -> None:
    stack.setup_notion()
    _client(api, db, "<script>alert(1)</script>", "xss@example.com")
    visitor = _sign_in(stack, _link("xss@example.com", capsys))
    page = visitor.get("/portal").text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_an_unknown_address_gets_no_link_from_the_cli(stack: LocalStack, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["portal", "link", "nobody@example.com"]) == 1
    assert "not a client" in capsys.readouterr().err


def test_signing_out_ends_the_session_on_the_server_and_a_copied_cookie_opens_nothing(
    stack: LocalStack, two_clients: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    ann = _sign_in(stack, _link("ann@example.com", capsys))
    copied = ann.cookies.get("atelier_portal")
    assert copied

    assert "signed out" in ann.get("/portal", params={"signout": "1"}).text

    replay = _browser(stack).get(f"/portal/projects/{two_clients['a']}", headers={"Cookie": f"atelier_portal={copied}"})
    assert replay.status_code == 401
    assert "Ann House" not in replay.text


def test_portal_revoke_signs_a_client_out_everywhere_and_voids_their_unused_links(
    stack: LocalStack, two_clients: dict[str, str], capsys: pytest.CaptureFixture[str], db: Conn
) -> None:
    phone, laptop = (_sign_in(stack, _link("ann@example.com", capsys)) for _ in range(2))
    unused = _link("ann@example.com", capsys)
    bob = _sign_in(stack, _link("bob@example.com", capsys))

    capsys.readouterr()
    assert main(["portal", "revoke", "Ann@Example.com"]) == 0
    said = capsys.readouterr().out
    assert "2 session(s) and 1 unused sign-in link(s) ended" in said

    for browser in (phone, laptop):
        assert browser.get(f"/portal/projects/{two_clients['a']}").status_code == 401
    assert "expired or was used" in _browser(stack).get(unused.removeprefix(str(bob.base_url).rstrip("/"))).text
    assert bob.get(f"/portal/projects/{two_clients['b']}").status_code == 200  # another client is untouched
    assert db.execute("select count(*) from audit_log where action = 'portal.revoked'").fetchone() == (1,)
    assert main(["portal", "revoke", "nobody@example.com"]) == 1


def test_a_refunded_projects_files_stop_downloading_for_its_client(
    stack: LocalStack, two_clients: dict[str, str], capsys: pytest.CaptureFixture[str], db: Conn
) -> None:
    ann = _sign_in(stack, _link("ann@example.com", capsys))
    (file_id,) = db.execute("select id::text from deliverables").fetchone() or ()
    assert ann.get(f"/portal/deliverables/{file_id}").status_code == 302

    db.execute("update projects set payment_status = 'refunded' where id = %s", (two_clients["a"],))

    refused = ann.get(f"/portal/deliverables/{file_id}")
    assert refused.status_code == 404
    assert "location" not in refused.headers
    # And the link with no expiry (on the Notion page, and in e-mails sent before links went through the portal)
    (file_url,) = db.execute("select file_url from deliverables").fetchone() or ()
    leaked = httpx.get(str(file_url), timeout=30)
    assert leaked.status_code == 403
    assert "no longer shared" in leaked.json()["message"]


def test_the_deliverable_email_links_through_the_portal_not_to_the_file(
    stack: LocalStack, two_clients: dict[str, str], db: Conn
) -> None:
    LocalLambdas().invoke("client_mail", scheduled_event(), timeout_seconds=60)
    (body,) = db.execute("select body_text from notifications where template = 'deliverable_ready'").fetchone() or ()
    (link,) = re.findall(r"https?://\S+/portal/deliverables/[0-9a-f-]{36}", str(body))
    assert "token=" not in str(body)
    leaked = _browser(stack).get(link.removeprefix(str(_browser(stack).base_url).rstrip("/")))
    assert leaked.status_code == 401  # forwarded, the e-mail opens nothing without the client's sign-in
