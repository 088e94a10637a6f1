"""The pages as a person uses them: Debian's Chromium driven by Playwright.

Screenshots are kept in `test-artifacts/` for a human to look at after the run.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from crm_store.demo import DEMO_CREDENTIALS as CREDS

pytestmark = pytest.mark.integration

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Without these, Chromium keeps trying to reach Google's services from a closed network.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


BOT_REPLIES = "#log .msg.bot:not(.typing)"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _send(page: Page, text: str, expect: str | None = None) -> None:
    """Type a message and wait for the bot's reply (containing `expect`, when given)."""
    page.wait_for_function("() => !document.querySelector('#send').disabled", timeout=30_000)
    before = page.locator(BOT_REPLIES).count()
    page.fill("#text", text)
    page.keyboard.press("Enter")
    page.wait_for_function(
        f"n => document.querySelectorAll('{BOT_REPLIES}').length > n", arg=before, timeout=30_000
    )
    if expect is not None:
        page.get_by_text(expect, exact=False).last.wait_for(timeout=30_000)


def _shot(page: Page, name: str, running) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    kind = "postgresql" if "postgresql" in running.database_url else "sqlite"
    page.screenshot(path=str(ARTIFACTS / f"{name}-{kind}.png"), full_page=True)


def test_customer_chat_page_answers_and_shows_html_as_text(browser: Browser, running) -> None:
    page = browser.new_page(viewport={"width": 1000, "height": 800})
    page.goto(f"{running.api_url}/")
    _send(page, f"where is my order {CREDS.customer_order_number}?", "What email address")
    _send(page, CREDS.customer_email, f"Order {CREDS.customer_order_number}")
    hostile = "<img src=x onerror=alert(1)><b>bold?</b>"
    _send(page, hostile)
    # Shown as typed, never parsed: no element was created from the message.
    assert page.locator("#log .msg.user").last.text_content() == hostile
    assert page.locator("#log img, #log b").count() == 0
    _shot(page, "customer-chat", running)
    page.close()


def test_rep_signs_in_and_gets_an_account_summary(browser: Browser, running) -> None:
    page = browser.new_page(viewport={"width": 1000, "height": 800})
    page.goto(f"{running.api_url}/rep")
    page.fill("#token", CREDS.rep_token)
    page.keyboard.press("Enter")
    page.locator("#composer").wait_for(state="visible", timeout=15_000)
    _send(page, f"give me a summary of {CREDS.rep_account_name}", "owned by")
    assert page.get_by_text(f"{CREDS.rep_account_name} (").count() >= 1
    _shot(page, "rep-console", running)
    page.close()
