"""The intake form in a real browser (Debian's Chromium, driven by Playwright), as a client uses it."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from atelier_local.stack import LocalStack

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
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )  # fmt: skip
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
    page.goto(f"{stack.front_door.url}/intake")
    page.get_by_label("Your name").fill("Grace Hopper")
    page.get_by_label("Email").fill("grace@example.com")
    page.get_by_label("Budget").fill("$10k-15k")
    page.get_by_label("Timeline in weeks").fill("8")
    page.get_by_label("Project type").select_option("standard_renovation")
    page.get_by_label("I have a survey of the property").check()
    page.get_by_label("I have existing drawings").check()
    page.get_by_role("button", name="Get my recommendation").click()

    assert page.get_by_role("heading", level=1).inner_text() == "Thank you. We recommend The Builder."
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
    assert page.locator(f"#{described_by}").inner_text() == "This field is required."
    assert page.locator("#email + p.error").inner_text() == "This field is required."
    assert page.get_by_label("Your name").input_value() == "Grace Hopper"
    assert page.get_by_role("alert").is_visible()
    assert db.execute("select count(*) from leads").fetchone() == (0,)
