"""The intake form in a real browser (Debian's Chromium, driven by Playwright), as a client uses it."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from atelier_local.stack import LocalStack
from tests.seed_catalogue import TIER_NAME

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if CHROMIUM is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium is missing under CI: .ci/run installs Debian's chromium before `make test`")
        pytest.skip("no Chromium found: `apt-get install chromium` to run the browser test")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any, stack: LocalStack) -> Iterator[Any]:
    context = browser.new_context(java_script_enabled=False)  # the form must work without JavaScript
    page = context.new_page()
    yield page
    context.close()


def test_a_client_fills_the_form_and_sees_the_result(page: Any, stack: LocalStack, db: psycopg.Connection[Any]) -> None:
    assert stack.front_door is not None
    _fill(page, stack.front_door.url, email="grace@example.com", name="Grace Hopper")

    assert page.get_by_role("heading", level=1).inner_text() == f"Thank you. We recommend {TIER_NAME[2]}."
    assert "budget of about $12,500" in page.locator("#reason").inner_text()
    assert (
        page.get_by_role("link", name="Continue to payment")
        .get_attribute("href")
        .startswith(f"{stack.front_door.url}/_local/checkout/cs_test_")
    )
    assert db.execute("select name, recommended_tier from leads").fetchall() == [("Grace Hopper", 2)]


def test_a_missing_field_is_reported_next_to_that_field(
    page: Any, stack: LocalStack, db: psycopg.Connection[Any]
) -> None:
    assert stack.front_door is not None
    page.goto(f"{stack.front_door.url}/intake")
    page.get_by_label("Your name").fill("Grace Hopper")
    page.get_by_label("Project type").select_option("simple_renovation")
    page.get_by_role("button", name="Get my recommendation").click()

    email = page.get_by_label("Email")
    assert email.get_attribute("aria-invalid") == "true"
    # The message is the element the field points at, right after it.
    described_by = email.get_attribute("aria-describedby")
    assert page.locator(f"#{described_by}").inner_text() == "Email: This field is required."
    assert page.locator("#email + p.error").inner_text() == "Email: This field is required."
    assert page.get_by_label("Your name").input_value() == "Grace Hopper"
    assert page.get_by_role("alert").is_visible()
    assert db.execute("select count(*) from leads").fetchone() == (0,)


WIDTHS = (390, 1280)


@pytest.fixture(params=WIDTHS, ids=lambda w: f"{w}px")
def client_page(browser: Any, stack: LocalStack, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A client's browser with JavaScript on, as most are, at a phone's width and a laptop's."""
    context = browser.new_context(viewport={"width": request.param, "height": 844})
    page = context.new_page()
    yield page
    context.close()


def _fill(page: Any, url: str, email: str = "ada@example.com", name: str = "Ada Lovelace") -> None:
    """The form filled as a tier 2 client fills it, and sent."""
    page.goto(f"{url}/intake")
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Budget").fill("$10k-15k")
    page.get_by_label("Timeline in weeks").fill("8")
    page.get_by_label("Project type").select_option("standard_renovation")
    page.get_by_label("I have a survey of the property").check()
    page.get_by_label("I have existing drawings").check()
    page.get_by_role("button", name="Get my recommendation").click()


def _no_sideways_scroll(page: Any) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") == page.viewport_size["width"]


def test_form_to_payment_to_the_thanks_page(client_page: Any, stack: LocalStack, tmp_path: Any) -> None:
    assert stack.front_door is not None
    _fill(client_page, stack.front_door.url)
    _no_sideways_scroll(client_page)
    client_page.get_by_role("link", name="Continue to payment").click()
    _no_sideways_scroll(client_page)
    client_page.get_by_role("button", name="Pay with a test card").click()

    assert client_page.get_by_role("heading", level=1).inner_text() == "Payment received, Ada"
    assert client_page.locator("#project-name").inner_text() == f"Ada Lovelace - {TIER_NAME[2]}"
    _no_sideways_scroll(client_page)
    client_page.screenshot(path=str(tmp_path / f"thanks-{client_page.viewport_size['width']}.png"), full_page=True)


def test_form_to_checkout_cancelled(client_page: Any, stack: LocalStack) -> None:
    assert stack.front_door is not None
    _fill(client_page, stack.front_door.url, email="cancel@example.com")
    client_page.get_by_role("link", name="Continue to payment").click()
    client_page.get_by_role("link", name="Cancel and go back").click()

    assert client_page.get_by_role("heading", level=1).inner_text() == "Payment cancelled"
    assert "Nothing was charged" in client_page.get_by_role("status").inner_text()
    _no_sideways_scroll(client_page)


def test_form_errors_move_focus_to_a_summary_that_names_each_field(client_page: Any, stack: LocalStack) -> None:
    assert stack.front_door is not None
    client_page.goto(f"{stack.front_door.url}/intake")
    _no_sideways_scroll(client_page)
    client_page.get_by_role("button", name="Get my recommendation").click()

    summary = client_page.locator("#error-summary")
    assert client_page.evaluate("document.activeElement.id") == "error-summary"
    items = summary.locator("li").all_inner_texts()
    assert items == [
        "Your name: This field is required.",
        "Email: This field is required.",
        "Project type: Choose the type of project from the list.",
    ]
    assert "simple_renovation" not in client_page.locator("body").inner_text()  # option values are not shown
    _no_sideways_scroll(client_page)
    budget = client_page.get_by_label("Budget")
    assert client_page.locator(f"#{budget.get_attribute('aria-describedby')}").inner_text().startswith("A figure")
    client_page.keyboard.press("Tab")
    outline = client_page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # the keyboard's focus is visible


def test_the_portal_shows_the_timeline_and_the_gallery(
    client_page: Any, stack: LocalStack, db: psycopg.Connection[Any], tmp_path: Any
) -> None:
    from atelier import wiring
    from atelier.cli import main

    assert stack.front_door is not None
    _fill(client_page, stack.front_door.url, email="portal@example.com")
    client_page.get_by_role("link", name="Continue to payment").click()
    client_page.get_by_role("button", name="Pay with a test card").click()
    project = client_page.locator("#project-name").inner_text()
    row = db.execute("select id::text from projects").fetchone()
    assert row is not None
    project_id = row[0]
    photo = tmp_path / "site.png"
    photo.write_bytes(
        bytes.fromhex(
            "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
            "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
        )
    )
    assert main(["deliverable", "upload", str(project_id), str(photo), "--category", "Photo"]) == 0
    assert stack.s3 is not None
    assert stack.s3.wait_idle()
    link = wiring.portal().link_for("portal@example.com")
    assert link is not None

    client_page.goto(link)
    client_page.get_by_role("link", name=project).click()
    assert client_page.locator(".timeline li").count() == 5
    assert "due next" in client_page.locator(".timeline").inner_text()
    assert client_page.locator(".gallery img").count() == 1
    client_page.wait_for_function("document.querySelector('.gallery img').complete")
    assert client_page.evaluate("document.querySelector('.gallery img').naturalWidth") == 1  # the image loaded
    _no_sideways_scroll(client_page)
    client_page.screenshot(path=str(tmp_path / f"portal-{client_page.viewport_size['width']}.png"), full_page=True)


def test_the_owner_report_shows_its_charts_and_tables_and_changes_period(
    client_page: Any, stack: LocalStack, rpc: Any, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from atelier.cli import main
    from atelier_local.samples import paid_project, stored_lead

    for i in range(3):
        lead = stored_lead(rpc, i)
        if i < 2:
            paid_project(rpc, lead)
    capsys.readouterr()
    assert main(["report", "link"]) == 0
    link = capsys.readouterr().out.strip().splitlines()[-1]
    assert stack.front_door is not None
    client_page.goto(link.replace("http://127.0.0.1:3000", stack.front_door.url))
    for chart in ("revenue", "funnel", "projects", "milestones"):
        box = client_page.locator(f"#chart-{chart} svg").bounding_box()
        assert box is not None
        assert 0 < box["width"] <= client_page.viewport_size["width"]
        assert box["height"] > 100
    assert client_page.get_by_role("img", name="Projects by status").count() == 1
    assert "15,000.00 USD" in client_page.locator(".figures").inner_text()  # two paid at $7,500
    _no_sideways_scroll(client_page)
    client_page.screenshot(path=str(tmp_path / f"report-{client_page.viewport_size['width']}.png"), full_page=True)

    client_page.get_by_label("Period", exact=True).select_option("year")
    client_page.get_by_role("button", name="Show").click()
    client_page.wait_for_url("**period=year**")
    assert "report for 20" in client_page.locator("h1").inner_text()
    with client_page.expect_download() as download:
        client_page.get_by_role("link", name="PDF").click()
    assert download.value.suggested_filename.endswith(".pdf")
