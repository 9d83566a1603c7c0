"""Two businesses on one stack: the default (unprefixed routes) and KAA (`/b/kaa/...`), each with its own Notion
workspace, Stripe account and sender. Every trigger is used for both, and nothing of one reaches the other."""

from __future__ import annotations

import email
import email.policy
import json
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import stripe

from atelier import wiring
from atelier.cli import main
from atelier_local.businesses import LocalBusiness
from atelier_local.lambda_runtime import LocalLambdas
from atelier_local.notion_emulator import NotionEmulator
from atelier_local.stack import LocalStack, scheduled_event

Conn = psycopg.Connection[tuple[object, ...]]
LEAD = {
    "name": "Rosa Client",
    "email": "rosa@example.com",
    "project_address": "5 Quay Street",
    "budget": "$10k-15k",
    "timeline_weeks": 10,
    "project_type": "standard_renovation",
    "has_survey": True,
    "has_drawings": True,
}


@pytest.fixture
def kaa(stack: LocalStack) -> LocalBusiness:
    stack.setup_notion()
    return stack.add_business("kaa", "KAA Studio", colour="#7a3b69")


def _lead(api: httpx.Client, prefix: str, **changes: Any) -> dict[str, Any]:
    response = api.post(f"{prefix}/leads", json=LEAD | changes, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert response.status_code == 201, response.text
    return dict(response.json())


def _pay(api: httpx.Client, answer: dict[str, Any]) -> None:
    session_id = str(answer["checkout_url"]).rstrip("/").rsplit("/", 1)[-1]
    paid = api.post(f"/_local/checkout/{session_id}/pay", follow_redirects=False)
    assert paid.status_code == 303


def _wait(check: Any, seconds: float = 15) -> None:
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < seconds, "not in time"
        time.sleep(0.05)


def _pages(notion: NotionEmulator | None) -> str:
    assert notion is not None
    return json.dumps(notion.state.pages)


def test_each_business_takes_its_own_leads_payments_and_notion_pages(
    stack: LocalStack, api: httpx.Client, kaa: LocalBusiness, db: Conn
) -> None:
    # Given one lead at each business's form, from the same client, each paid through its own Stripe account
    home = _lead(api, "", name="Rosa Home")
    away = _lead(api, "/b/kaa", name="Rosa Away", project_address="9 Far Lane")
    _pay(api, home)
    _pay(api, away)
    ids = {str(k): str(v) for k, v in db.execute("select slug, id::text from businesses").fetchall()}
    _wait(lambda: db.execute("select count(*) from projects").fetchone() == (2,))
    projects = {str(k): str(v) for k, v in db.execute("select name, business_id::text from projects").fetchall()}
    # Then each project is its business's, and each lead's checkout came back to its own /thanks
    assert sorted(projects.values()) == sorted([ids["studio"], ids["kaa"]])
    assert db.execute("select count(*) from clients").fetchone() == (2,)  # one client row per business
    thanks = api.get(f"/b/kaa/thanks?session_id={str(away['checkout_url']).rstrip('/').rsplit('/', 1)[-1]}")
    assert thanks.status_code == 200
    assert "Payment received, Rosa" in thanks.text
    assert "KAA Studio" in thanks.text
    # When the scheduled sync runs, each business's records reach its own Notion workspace alone
    LocalLambdas().invoke("notion_sync", scheduled_event(), timeout_seconds=120)
    home_pages, away_pages = _pages(stack.notion), _pages(kaa.notion)
    assert "9 Far Lane" in away_pages
    assert "9 Far Lane" not in home_pages
    assert "Rosa Home" in home_pages
    assert "Rosa Home" not in away_pages


def test_a_stripe_event_signed_with_another_business_s_secret_is_refused(
    stack: LocalStack, api: httpx.Client, kaa: LocalBusiness
) -> None:
    event = {"id": "evt_test_cross", "object": "event", "type": "customer.created", "livemode": False}
    payload = json.dumps(
        event | {"created": int(time.time()), "data": {"object": {"id": "cus_1", "object": "customer"}}}
    )
    home_secret = stack.settings["STRIPE_WEBHOOK_SECRET"]
    header = stripe.WebhookSignature.generate_signature_header(payload, home_secret)
    refused = api.post(
        "/b/kaa/webhooks/stripe",
        content=payload,
        headers={"Stripe-Signature": header, "Content-Type": "application/json"},
    )
    assert refused.status_code == 400
    own = stripe.WebhookSignature.generate_signature_header(payload, kaa.state["stripe_webhook_secret"])
    taken = api.post(
        "/b/kaa/webhooks/stripe", content=payload, headers={"Stripe-Signature": own, "Content-Type": "application/json"}
    )
    assert taken.status_code == 200, taken.text
    home = api.post(
        "/webhooks/stripe", content=payload, headers={"Stripe-Signature": own, "Content-Type": "application/json"}
    )
    assert home.status_code == 400


def test_pages_carry_the_business_s_name_colour_and_prefix(api: httpx.Client, kaa: LocalBusiness) -> None:
    form = api.get("/b/kaa/intake")
    assert form.status_code == 200
    assert "KAA Studio" in form.text
    assert "#7a3b69" in form.text
    assert 'action="/b/kaa/leads"' in form.text
    home = api.get("/intake")
    assert "KAA Studio" not in home.text
    assert 'action="/leads"' in home.text
    unknown = api.get("/b/nobody/intake", headers={"Accept": "text/html"})
    assert unknown.status_code == 404
    assert "There is no studio at /b/nobody/" in unknown.text
    assert api.post("/b/nobody/leads", json=LEAD).json()["error"] == "unknown_business"


def test_a_team_member_of_one_business_sees_and_changes_nothing_of_another(
    stack: LocalStack, api: httpx.Client, kaa: LocalBusiness, db: Conn
) -> None:
    _lead(api, "", name="Home Lead")
    _lead(api, "/b/kaa", name="Away Lead")
    member = db.execute(
        "insert into users (email, user_type) values ('team@home.example', 'team') returning id::text"
    ).fetchone()
    assert member is not None
    columns = "select table_name from information_schema.columns where table_schema = 'public' and column_name = %s"
    tables = [r[0] for r in db.execute(columns, ("business_id",)).fetchall()]
    kaa_id = db.execute("select id::text from businesses where slug = 'kaa'").fetchone()
    home_id = db.execute("select id::text from businesses where slug = 'studio'").fetchone()
    assert kaa_id is not None
    assert home_id is not None
    # As Supabase sets them for a team member of the home business: with no business named, or with theirs
    for claims in ({"sub": member[0], "role": "authenticated"}, {"sub": member[0], "business_id": home_id[0]}):
        with db.transaction():
            db.execute("set local role authenticated")
            db.execute("select set_config('request.jwt.claims', %s, true)", (json.dumps(claims),))
            for table in tables:
                query = f"select count(*) from public.{table} where business_id = %s"
                assert db.execute(query.encode(), kaa_id).fetchone() == (0,), table
            assert db.execute("update public.leads set notes = 'x' where business_id = %s", kaa_id).rowcount == 0
            assert db.execute("select count(*) from public.leads").fetchone() == (1,)  # the home lead alone
            insert = "insert into public.audit_log (action, resource_type, business_id) values ('x', 'y', %s)"
            with pytest.raises(psycopg.errors.InsufficientPrivilege), db.transaction():  # nor add one of B's
                db.execute(insert, kaa_id)


def test_a_client_of_one_business_cannot_sign_in_to_another_s_portal(
    stack: LocalStack, api: httpx.Client, kaa: LocalBusiness, capsys: pytest.CaptureFixture[str]
) -> None:
    _pay(api, _lead(api, "", email="only-home@example.com"))
    _wait(lambda: main(["portal", "link", "only-home@example.com"]) == 0)
    link = capsys.readouterr().out.strip().splitlines()[-1]
    assert main(["portal", "link", "only-home@example.com", "--business", "kaa"]) == 1
    token = link.split("token=", 1)[1]
    # the home link opened at KAA's portal opens nothing
    refused = api.get(f"/b/kaa/portal?token={token}", follow_redirects=False)
    assert refused.status_code == 200
    assert "expired or was used" in refused.text
    # and a home session's cookie is nobody's at KAA
    opened = api.get(f"/portal?token={token}", follow_redirects=False)
    assert opened.status_code == 303
    cookie = opened.headers["set-cookie"].split(";", 1)[0]
    away = api.get("/b/kaa/portal", headers={"Cookie": cookie})
    assert "only-home@example.com" not in away.text
    assert wiring.directory().by_slug("kaa").name == "KAA Studio"


def test_every_trigger_works_for_the_second_business_and_stays_in_it(
    stack: LocalStack,
    api: httpx.Client,
    kaa: LocalBusiness,
    db: Conn,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)  # no developer's .atelier/dev.json
    _pay(api, _lead(api, "/b/kaa", name="Kit Away", email="kit@example.com"))
    _wait(lambda: db.execute("select count(*) from projects").fetchone() == (1,))
    project = db.execute("select id::text from projects").fetchone()
    assert project is not None
    LocalLambdas().invoke("notion_sync", scheduled_event(), timeout_seconds=120)
    # A file uploaded for KAA's project lands under b/kaa/, on KAA's Notion, with a link under /b/kaa/
    plan = tmp_path / "plan.pdf"
    plan.write_bytes(b"%PDF-1.4 plan")
    assert main(["deliverable", "upload", str(project[0]), str(plan), "--business", "kaa"]) == 0
    out = capsys.readouterr().out
    assert f"/b/kaa/projects/{project[0]}/Document/plan.pdf" in out  # its key, in the bucket
    _wait(lambda: db.execute("select count(*) from deliverables where notion_page_id is not null").fetchone() == (1,))
    assert "plan.pdf" in _pages(kaa.notion)
    assert "plan.pdf" not in _pages(stack.notion)
    link = next(line.split()[-1] for line in out.splitlines() if line.startswith("download:"))
    assert "/b/kaa/deliverables/" in link
    assert httpx.get(link, timeout=30, follow_redirects=True).content == b"%PDF-1.4 plan"
    # The team marks a milestone done in KAA's Notion: it comes back to KAA's row
    from atelier.notion.gateway import NotionGateway

    assert kaa.notion is not None
    human = NotionGateway(kaa.notion.state.human_token, base_url=kaa.notion.url)
    milestone = db.execute('select id::text, notion_page_id from milestones order by "order" limit 1').fetchone()
    assert milestone is not None
    human.update_page(str(milestone[1]), {"Status": {"status": {"name": "Done"}}})
    LocalLambdas().invoke("notion_sync", scheduled_event(), timeout_seconds=120)
    done = db.execute("select status::text from milestones where id = %s", (milestone[0],)).fetchone()
    assert done == ("completed",)
    # Its e-mails go from its own sender, in its name and colour
    LocalLambdas().invoke("client_mail", scheduled_event(), timeout_seconds=60)
    from moto.ses.models import ses_backends

    messages = [m for account in ses_backends.values() for backend in account.values() for m in backend.sent_messages]
    sent = [m for m in messages if "kit@example.com" in str(m.destinations)]
    assert sent
    assert all("hello@kaa.atelier.local" in str(m.source) for m in sent)
    assert all("KAA Studio" in _words_of(m) and "#7a3b69" in _words_of(m) for m in sent)
    # Its report and its outbox, from the CLI
    capsys.readouterr()  # the functions' log lines so far
    assert main(["report", "--business", "kaa"]) == 0
    assert capsys.readouterr().out.startswith("KAA Studio: report")
    assert main(["report", "--network"]) == 0
    network = capsys.readouterr().out
    assert "KAA Studio" in network
    assert "All businesses" in network
    assert main(["outbox", "list", "--business", "kaa"]) == 0
    assert main(["outbox", "list", "--business", "nobody"]) == 2


def test_business_add_list_and_set_from_the_cli(
    stack: LocalStack, api: httpx.Client, db: Conn, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["business", "add", "north", "--name", "North Studio", "--currency", "eur"]) == 0
    assert "its routes are under /b/north/" in capsys.readouterr().out
    assert main(["business", "add", "north", "--name", "Again"]) == 2  # the slug is taken: said, nothing changed
    assert "already exists" in capsys.readouterr().err
    with pytest.raises(SystemExit) as refused:
        main(["business", "add", "North!", "--name", "Bad"])
    assert refused.value.code == 2
    assert main(["business", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [b["slug"] for b in listed] == ["studio", "north"]
    assert listed[1]["secrets"]["stripe_webhook_secret"] is False
    assert "whsec" not in json.dumps(listed)
    # its catalogue is its own copy, in its currency
    query = "select count(*), min(t.currency) from tiers t join businesses b on b.id = t.business_id where b.slug = %s"
    tiers = db.execute(query, ("north",)).fetchone()
    assert tiers == (4, "eur")
    # it takes leads at once (no Stripe account yet: the lead is kept, and told a payment link will follow)
    taken = _lead(api, "/b/north", email="first@north.example")
    assert taken["checkout_url"] is None
    whose = "select b.slug from leads l join businesses b on b.id = l.business_id where l.id = %s"
    owner = db.execute(whose, (taken["lead_id"],)).fetchone()
    assert owner == ("north",)
    # with no Stripe webhook secret yet, its endpoint says so instead of trusting anything
    event = json.dumps({"id": "evt_1", "object": "event", "type": "customer.created"})
    answer = api.post("/b/north/webhooks/stripe", content=event, headers={"Stripe-Signature": "t=1,v1=00"})
    assert answer.status_code == 400
    assert answer.json()["error"] == "not_configured"
    assert main(["business", "set", "north", "--brand-colour", "#224466", "--domain", "north.example"]) == 0
    page = api.get("/intake", headers={"Host": "north.example"})  # its own domain: no prefix needed
    assert page.status_code == 200
    assert "North Studio" in page.text
    assert 'action="/leads"' in page.text
    assert main(["business", "set", "north", "--brand-colour", "red"]) == 2  # not #rrggbb: refused, kept
    assert db.execute("select brand_colour from businesses where slug = 'north'").fetchone() == ("#224466",)
    # the schedule goes on for the default, and says North is not connected to Notion yet (no failure)
    stack.setup_notion()
    wiring.directory().forget()
    ran = LocalLambdas().invoke("notion_sync", scheduled_event(), timeout_seconds=120)
    assert ran["businesses"]["north"] == {"ran": False, "not_connected": 1}
    assert ran["failed"] == {}
    assert ran["businesses"]["studio"]["ran"] is True


def test_the_migration_moves_one_studio_s_data_into_the_first_business_with_every_id_kept(
    empty_database_url: str, tmp_path: Path
) -> None:
    import shutil

    from atelier.cli.migrate import SchemaFiles, migrate
    from atelier.kernel.rpc import PsycopgRpc
    from atelier_local.samples import paid_project, stored_lead

    files = SchemaFiles.default()
    before = SchemaFiles(tmp_path / "supabase", files.bootstrap)
    before.migrations_dir.mkdir(parents=True)
    for path in files.migrations():
        if path.name < "20261205000100":
            shutil.copy(path, before.migrations_dir)
    # the seed as it was before businesses (its upserts' keys had no business)
    old_seed = files.seed.read_text().replace("(business_id, id)", "(id)")
    old_seed = old_seed.replace(" and m.business_id = app_private.business_id()", "")
    before.seed.write_text(old_seed.replace('(business_id, tier, "order")', '(tier, "order")'))
    migrate(empty_database_url, before)
    rpc = PsycopgRpc(empty_database_url)
    project = paid_project(rpc, stored_lead(rpc))
    tables = ("leads", "clients", "projects", "milestones", "payments", "sync_outbox", "tiers")
    with psycopg.connect(empty_database_url) as conn:
        counts = {t: conn.execute(f"select count(*) from {t}".encode()).fetchone() for t in tables}
    migrate(empty_database_url, files)
    with psycopg.connect(empty_database_url) as conn:
        for table in tables:
            assert conn.execute(f"select count(*) from {table}".encode()).fetchone() == counts[table], table
            owners = conn.execute(
                f"select distinct b.slug from {table} t join businesses b on b.id = t.business_id".encode()
            )
            assert owners.fetchall() == [("studio",)], table
        assert conn.execute("select count(*) from projects where id = %s", (project,)).fetchone() == (1,)
    # and the one business works as before: a new lead is its own
    assert PsycopgRpc(empty_database_url).rpc("catalogue")["tiers"]


def test_a_bounce_stops_every_business_s_mail_to_that_address(
    stack: LocalStack, api: httpx.Client, kaa: LocalBusiness, db: Conn
) -> None:
    _pay(api, _lead(api, "/b/kaa", email="gone@example.com"))
    _wait(lambda: db.execute("select count(*) from notifications").fetchone() != (0,))
    bounce = {
        "notificationType": "Bounce",
        "bounce": {"bounceType": "Permanent", "bouncedRecipients": [{"emailAddress": "Gone@Example.com"}]},
    }
    event = {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": json.dumps(bounce)}}]}
    LocalLambdas().invoke("client_mail", event, timeout_seconds=30)  # SES's topic is the deployment's
    rows = db.execute("select b.slug, n.status::text from notifications n join businesses b on b.id = n.business_id")
    assert rows.fetchall() == [("kaa", "failed")]


def test_stripe_replay_reads_each_business_s_own_account(
    stack: LocalStack, api: httpx.Client, kaa: LocalBusiness, db: Conn, capsys: pytest.CaptureFixture[str]
) -> None:
    _pay(api, _lead(api, "", email="home@example.com"))
    _pay(api, _lead(api, "/b/kaa", email="away@example.com"))
    _wait(lambda: db.execute("select count(*) from projects").fetchone() == (2,))
    capsys.readouterr()
    assert main(["stripe", "replay", "--since", "2020-01-01T00:00:00+00:00", "--business", "kaa"]) == 0
    away = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert main(["stripe", "replay", "--since", "2020-01-01T00:00:00+00:00"]) == 0
    home = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    # each replays its own one event, already applied: nothing new, nothing refused
    assert away == home == {"duplicate": 1}, (away, home)
    assert db.execute("select count(*) from payments").fetchone() == (2,)


def _words_of(message: Any) -> str:
    """What a sent e-mail says: its body, or (a message with an attachment, sent raw) its text and HTML parts."""
    raw = getattr(message, "raw_data", None)
    if raw is None:
        return str(getattr(message, "body", ""))
    parsed = email.message_from_string(raw, policy=email.policy.default)
    parts = [p for p in parsed.walk() if p.get_content_type() in ("text/plain", "text/html")]
    return " ".join(str(p.get_content()) for p in parts)
