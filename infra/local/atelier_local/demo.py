"""`atelier demo`: the studio's whole lifecycle, end to end, through the entry points production uses.

It starts the local stack on a free port against a database of its own, then:
  1. posts the intake form over HTTP (a tier 2 lead, with a checkout link),
  2. pays on the Stripe stand-in, which sends a signed `checkout.session.completed` to the webhook,
  3. rings the Supabase doorbell, which pushes the project and its milestones to Notion (the emulator),
  4. uploads a deliverable image to S3 (moto), whose event makes a showcase page showing the image,
  5. marks a milestone Done as a person in Notion, which reaches Postgres through the Notion webhook (no sync run),
  6. runs `notion_sync` as the schedule does, and checks every linked record against Notion,
  7. signs the client in to the portal with an e-mail link and reads the project there.
Each step says what it saw; the demo holds only if every step did.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from atelier import wiring
from atelier_local.businesses import LocalBusiness
from atelier_local.stack import LocalStack, scheduled_event

# A 1x1 PNG: the deliverable image.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
LEAD = {
    "email": "demo.client@example.com",
    "name": "Dana Demo",
    "project_address": "12 Orchard Lane",
    "budget": "$10k-15k",
    "timeline_weeks": 10,
    "project_type": "standard_renovation",
    "has_survey": True,
    "has_drawings": True,
    "notes": "Kitchen and dining room",
}


WEBHOOK_DELAY_S = 2.0  # the emulator sends a team edit's webhook this long after it, as `make dev` does
WEBHOOK_WAIT_S = 15.0


class StepFailed(Exception):
    """A step ran but did not see what it should have."""


@dataclass
class Step:
    name: str
    held: bool
    result: str
    seconds: float


class Demo:
    def __init__(
        self, stack: LocalStack, database_url: str, workdir: Path, business: LocalBusiness | None = None
    ) -> None:
        from atelier import wiring
        from atelier.kernel.rpc import PsycopgRpc

        assert stack.front_door is not None
        self.stack = stack
        self.api = httpx.Client(base_url=stack.front_door.url, timeout=60)
        self.business = business  # None: the default business, at the unprefixed routes
        self.slug = business.slug if business else None
        self.prefix = f"/b/{business.slug}" if business else ""
        database = PsycopgRpc(database_url)
        self.business_id = wiring.directory().named(self.slug).id
        self.rpc = database.for_business(self.business_id) if business else database
        self.database_url = database_url
        self.workdir = workdir / (business.slug if business else "default")
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.facts: dict[str, Any] = {}

    def _one(self, query: str, *args: Any) -> Any:
        import psycopg

        with psycopg.connect(self.database_url, autocommit=True) as conn:
            return conn.execute(query, args).fetchone()

    def _gateway(self, token: str | None = None) -> Any:
        from atelier.kernel.settings import NotionSettings, load
        from atelier.notion import NotionGateway, gateway_from_settings

        if self.business is not None:  # its own workspace
            state = self.business.state
            return NotionGateway(token or state["notion_token"], base_url=state["notion_base_url"])
        overrides = {"notion_token": token} if token else {}
        return gateway_from_settings(load(NotionSettings, **overrides))

    def _human_token(self) -> str:
        return str(self.business.state["notion_human_token"] if self.business else os.environ["NOTION_HUMAN_TOKEN"])

    def _sources(self) -> dict[str, str]:
        from atelier.kernel.settings import SyncSettings, load

        if self.business is not None:
            return dict(self.business.state["data_sources"])
        return load(SyncSettings).data_sources()

    # -- the steps ---------------------------------------------------------------------------------

    def intake(self) -> str:
        response = self.api.post(f"{self.prefix}/leads", json=LEAD, headers={"Idempotency-Key": f"demo-{uuid.uuid4()}"})
        answer = response.json()
        if response.status_code != 201:
            raise StepFailed(f"POST /leads answered {response.status_code}: {answer}")
        if answer["tier"] != 2 or not answer.get("checkout_url"):
            raise StepFailed(f"expected tier 2 with a checkout link, got tier {answer['tier']}: {answer['next_step']}")
        self.facts |= {"lead_id": answer["lead_id"], "checkout_url": answer["checkout_url"]}
        return f"lead {answer['lead_id'][:8]}: tier 2 {answer['tier_name']} ({answer['confidence']}), checkout link"

    def payment(self) -> str:
        if self.stack.stripe is None:
            raise StepFailed("the Stripe stand-in is not running (STRIPE_SECRET_KEY is set)")
        session_id = str(self.facts["checkout_url"]).rstrip("/").rsplit("/", 1)[-1]
        self.stack.stripe.pay(session_id)  # a signed checkout.session.completed to /webhooks/stripe
        row = self._one(
            "select p.id::text, p.payment_status::text, (select count(*) from milestones m where m.project_id = p.id),"
            " (select amount from payments where project_id = p.id and status = 'succeeded'),"
            " (select count(*) from clients c where c.id = p.client_id)"
            " from projects p where p.lead_id = %s",
            self.facts["lead_id"],
        )
        if row is None:
            raise StepFailed("no project was created for the lead")
        project_id, payment_status, milestones, amount, clients = row
        if payment_status != "paid" or milestones < 1 or not amount or clients != 1:
            raise StepFailed(f"project {payment_status}, {milestones} milestones, payment {amount}, {clients} client")
        self.facts |= {"project_id": project_id, "milestones": milestones}
        return f"client, project {project_id[:8]} (paid ${amount / 100:,.0f}), {milestones} milestones"

    def doorbell(self) -> str:
        secret = os.environ["SUPABASE_WEBHOOK_SECRET"]
        payload = {
            "type": "INSERT",
            "table": "projects",
            "schema": "public",
            "record": {"id": self.facts["project_id"], "business_id": self.business_id},
            "old_record": None,
        }
        response = self.api.post("/webhooks/supabase", json=payload, headers={"Authorization": f"Bearer {secret}"})
        if response.status_code != 200:
            raise StepFailed(f"POST /webhooks/supabase answered {response.status_code}: {response.text}")
        page_id = self._one("select notion_page_id from projects where id = %s", self.facts["project_id"])[0]
        if not page_id:
            raise StepFailed(f"the project has no Notion page after the doorbell: {response.json()}")
        gateway, sources = self._gateway(), self._sources()
        milestones = [
            p
            for p in gateway.query(sources["milestone"])
            if p["properties"]["Project"]["relation"] == [{"id": page_id}]
        ]
        if len(milestones) != self.facts["milestones"]:
            raise StepFailed(f"{len(milestones)} milestone pages in Notion, expected {self.facts['milestones']}")
        self.facts |= {"project_page": page_id, "milestone_pages": milestones}
        return f"project page and {len(milestones)} milestone pages in Notion, related"

    def deliverable(self) -> str:
        image = self.workdir / "site-photo.png"
        image.write_bytes(PNG)
        # The team's own command, in its own process, with the stack's settings from the environment.
        upload = subprocess.run(  # noqa: S603 - our own CLI, with arguments we made
            [
                sys.executable,
                "-m",
                "atelier.cli",
                "deliverable",
                "upload",
                self.facts["project_id"],
                str(image),
                "--category",
                "Photo",
                "--uploaded-by",
                "demo@studio.example",
                *(["--business", self.slug] if self.slug else []),
            ],
            cwd=self.workdir,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if upload.returncode != 0:
            raise StepFailed(f"atelier deliverable upload exited {upload.returncode}: {upload.stderr.strip()[-300:]}")
        assert self.stack.s3 is not None
        if not self.stack.s3.wait_idle():
            raise StepFailed("the S3 notification was not handled in time")
        row = self._one(
            "select notion_page_id, file_url from deliverables where project_id = %s", self.facts["project_id"]
        )
        if row is None or not row[0]:
            raise StepFailed("no deliverable row, or no showcase page for it")
        page_id, link = row
        gateway = self._gateway()
        page = gateway.retrieve_page(page_id)
        if page["properties"]["Project"]["relation"] != [{"id": self.facts["project_page"]}]:
            raise StepFailed("the showcase page is not related to the project's page")
        blocks = gateway.list_blocks(page_id)
        if not blocks or blocks[0]["type"] != "image":
            raise StepFailed(f"the showcase page shows no image: {[b['type'] for b in blocks]}")
        downloaded = httpx.get(link, follow_redirects=True, timeout=30)
        if downloaded.content != PNG:
            raise StepFailed(f"the download link answered {downloaded.status_code} without the file")
        return "1 deliverable, showcase page with the image; its link redirects to the file"

    def human_edit(self) -> str:
        human = self._gateway(self._human_token())
        first = min(self.facts["milestone_pages"], key=lambda p: p["properties"]["Order"]["number"] or 0)
        query = "select name, status::text, completed_at from milestones where notion_page_id = %s"
        started = time.perf_counter()
        human.update_page(first["id"], {"Status": {"status": {"name": "Done"}}})
        row = self._one(query, first["id"])
        while (row is None or row[1] != "completed") and time.perf_counter() - started < WEBHOOK_WAIT_S:
            time.sleep(0.05)
            row = self._one(query, first["id"])
        latency = time.perf_counter() - started
        if row is None or row[1] != "completed" or row[2] is None:
            raise StepFailed(
                f"the milestone in Postgres is {row and row[1]} {WEBHOOK_WAIT_S:g} s after the edit; "
                f"see {self.workdir / 'logs' / 'notion_webhook.log'}"
            )
        return f"'{row[0]}' Done in Notion -> completed in Postgres by webhook in {latency:.1f} s, with no sync run"

    def check(self) -> str:
        from atelier.sync import SyncPorts, drift
        from atelier.sync.drift import duplicates

        # The schedule's run: what no doorbell pushed (the lead) goes now, and the poll finds nothing left to apply.
        self.stack.front_door_lambdas().invoke("notion_sync", scheduled_event(), timeout_seconds=120)
        ports = SyncPorts(self.rpc, self._gateway(), self._sources())
        found = [(d.entity, d.record_id, d.detail) for d in drift(ports)]
        found += [(d.entity, d.record_id, d.detail) for d in duplicates(ports)]
        found += [
            (r["entity"], r["entity_id"], f"dead: {r.get('last_error')}")
            for r in self.rpc.rpc("outbox_rows", p_status="dead", p_limit=10)
        ]
        found += [(r["entity"], r["id"], "no page") for r in self.rpc.rpc("unlinked_records")]
        if found:
            raise StepFailed("; ".join(f"{entity} {str(record)[:8]}: {detail}" for entity, record, detail in found[:3]))
        linked = self._one(  # this business's records
            "select (select count(*) from leads where notion_page_id is not null and business_id = %s)"
            " + (select count(*) from clients where notion_page_id is not null and business_id = %s)"
            " + (select count(*) from projects where notion_page_id is not null and business_id = %s)"
            " + (select count(*) from milestones where notion_page_id is not null and business_id = %s)"
            " + (select count(*) from deliverables where notion_page_id is not null and business_id = %s)",
            *[self.business_id] * 5,
        )[0]
        return f"no drift across {linked} linked records: one page each, no dead rows"

    def portal(self) -> str:
        """The client signs in with a link and sees the project, its timeline and the deliverable."""
        from atelier import wiring

        link = wiring.portal().link_for(str(LEAD["email"]))
        if link is None:
            raise StepFailed(f"no sign-in link for {LEAD['email']}: not a client?")
        client = httpx.Client(timeout=30, follow_redirects=False)
        opened = client.get(link)
        if opened.status_code != 303:
            raise StepFailed(f"the sign-in link answered {opened.status_code}")
        page = client.get(f"{self.api.base_url}{self.prefix}/portal/projects/{self.facts['project_id']}")
        if page.status_code != 200 or "timeline" not in page.text or "site-photo.png" not in page.text:
            raise StepFailed(f"the portal's project page answered {page.status_code} without its timeline or file")
        self.facts["portal_link"] = wiring.portal().link_for(str(LEAD["email"]))  # a fresh one: links work once
        return "signed in by e-mail link: the project, its milestones and the photo, read under RLS"

    def report(self) -> str:
        """The owner opens the report by its signed link; the page, the Excel and the PDF all answer, and the page
        shows the figures SQL gives for the demo's own data."""
        from datetime import UTC, datetime

        from atelier import wiring
        from atelier.reports.model import fetch, headline_text
        from atelier.reports.period import parse

        link = wiring.report_links().url(24, period="month")
        page = self.api.get(link.removeprefix(str(self.api.base_url).rstrip("/")))
        if page.status_code != 200 or "<svg" not in page.text:
            raise StepFailed(f"the report page answered {page.status_code} without its charts")
        for export in ("xlsx", "pdf"):
            answer = self.api.get(f"{self.prefix}/reports.{export}?{link.split('?', 1)[1]}")
            if answer.status_code != 200 or not answer.content:
                raise StepFailed(f"/reports.{export} answered {answer.status_code}")
        report = fetch(self.rpc, parse("month", datetime.now(UTC).date()))
        figures = {line.label: headline_text(line) for line in report.headlines()}
        missing = [label for label, text in figures.items() if text not in page.text]
        if missing:
            raise StepFailed(f"the page does not show {missing[0]} as SQL gives it ({figures[missing[0]]})")
        if self.business is None:  # the default business's is printed at the end
            REPORT["link"], REPORT["figures"] = link, "; ".join(f"{k} {v}" for k, v in figures.items())
        return f"page, Excel and PDF for {report.period.label}; the page's figures match SQL"

    def steps(self) -> list[tuple[str, Callable[[], str]]]:
        from atelier_local.demo_catalogue import catalogue
        from atelier_local.demo_conversation import conversation
        from atelier_local.demo_review import review

        return [
            ("intake form -> lead", self.intake),
            ("Stripe payment -> project", self.payment),
            ("Supabase doorbell -> Notion", self.doorbell),
            ("deliverable upload -> showcase", self.deliverable),
            ("team edit in Notion -> Postgres (webhook)", self.human_edit),
            ("review: quote in Notion -> e-mail -> paid", lambda: review(self)),
            ("atelier check", self.check),
            ("client portal", self.portal),
            ("conversation: message, reply, approval", lambda: conversation(self, str(LEAD["email"]))),
            ("catalogue, tasks and brief in Notion", lambda: catalogue(self, str(LEAD["email"]))),
            ("owner's report", self.report),
        ]


SECOND = ("kaa", "KAA Studio")  # the demo's second business
PORTAL_LINK: dict[str, str] = {}  # the demo client's last sign-in link, for `atelier demo` to print
REPORT: dict[str, str] = {}  # the owner's report link and headline figures, for `atelier demo` to print last


def run(database_url: str, workdir: Path, say: Callable[[str], None] = print) -> list[Step]:
    """Start the stack, run every step (stopping at the first that fails) and stop the stack."""
    stack = LocalStack(
        database_url, port=0, environ={k: v for k, v in os.environ.items() if k not in _REAL}, log_dir=workdir / "logs"
    ).start()
    done: list[Step] = []
    try:
        stack.setup_notion()
        stack.connect_notion_webhooks(delay=WEBHOOK_DELAY_S)
        # The same lifecycle for a second business on the same stack, under /b/kaa/, in its own Notion workspace.
        second = stack.add_business(*SECOND)
        with wiring.in_business(second.slug):
            stack.connect_notion_webhooks(delay=WEBHOOK_DELAY_S)
        demos = [Demo(stack, database_url, workdir), Demo(stack, database_url, workdir, second)]
        steps = [(demo, name, action) for demo in demos for name, action in demo.steps()]
        for number, (demo, name, action) in enumerate(steps, 1):
            name = f"{name} ({second.name})" if demo.business else name
            say(f"[{number}/{len(steps)}] {name} ...")
            started = time.perf_counter()
            try:
                with wiring.in_business(demo.slug):
                    result, held = action(), True
            except StepFailed as exc:
                result, held = str(exc), False
            except Exception as exc:  # the table still shows which step broke, and how
                result, held = f"{type(exc).__name__}: {exc}", False
                traceback.print_exc()
            done.append(Step(name, held, result, time.perf_counter() - started))
            if not held:
                break
        for demo, name, _ in steps[len(done) :]:
            name = f"{name} ({second.name})" if demo.business else name
            done.append(Step(name, False, "not run: an earlier step failed", 0.0))
        if demos[0].facts.get("portal_link"):
            PORTAL_LINK["link"] = str(demos[0].facts["portal_link"])
    finally:
        stack.stop()
    return done


# The demo runs on the embedded defaults only: real accounts in the environment are not used.
_REAL = ("NOTION_TOKEN", "NOTION_BASE_URL", "NOTION_PARENT_PAGE_ID", "STRIPE_SECRET_KEY", "STRIPE_API_BASE")


def table(steps: list[Step]) -> str:
    rows = [("#", "step", "held", "time", "result")]
    rows += [
        (str(i), s.name, "yes" if s.held else "NO", f"{s.seconds:.2f} s", s.result) for i, s in enumerate(steps, 1)
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(widths[i]) if i < 4 else cell for i, cell in enumerate(row)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths) + "  " + "-" * 6)
    return "\n".join(lines)


@contextlib.contextmanager
def embedded_database(workdir: Path, say: Callable[[str], None] = print) -> Iterator[str]:
    """A fresh embedded Postgres for one demo, migrated and seeded, deleted afterwards."""
    from atelier.cli.migrate import migrate
    from atelier_local.postgres import EmbeddedPostgres

    say("postgres: starting a fresh embedded server for the demo ...")
    with EmbeddedPostgres(workdir / "pg", delete_on_close=True) as server:
        migrate(server.dsn(), say=lambda _: None)
        yield server.dsn()
