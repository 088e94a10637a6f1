"""The pages as a person uses them: Debian's Chromium driven by Playwright.

Screenshots are kept in `test-artifacts/` for a human to look at after the run.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from crm_store.db import session_scope
from crm_store.demo import DEMO_CREDENTIALS as CREDS
from crm_store.models import Account
from crm_store.queries.users import get_user_by_email

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
    # The reply names one of her accounts: a link under it opens the account's card.
    page.get_by_role("button", name=f"Open card: {CREDS.rep_account_name}").last.click()
    heading = page.locator("#account-card h2")
    heading.wait_for(timeout=15_000)
    assert heading.text_content() == CREDS.rep_account_name
    page.close()


def _sign_in(page: Page, running, token: str) -> None:
    page.goto(f"{running.api_url}/rep")
    page.fill("#token", token)
    page.keyboard.press("Enter")
    page.locator("#tabs").wait_for(state="visible", timeout=15_000)


def test_rep_console_account_card_and_dashboard_charts(browser: Browser, running) -> None:
    page = browser.new_page(viewport={"width": 1200, "height": 1300})
    _sign_in(page, running, CREDS.rep_token)
    page.click("#tab-accounts")
    page.fill("#account-q", CREDS.rep_account_name)
    page.keyboard.press("Enter")
    card = page.locator("#account-card")
    card.locator("h2").wait_for(timeout=15_000)
    assert card.locator("h2").text_content() == CREDS.rep_account_name
    assert "Alice Moreno" in card.text_content()
    assert card.locator("table tbody tr").count() >= 1  # her open deals
    assert card.get_by_text("Next best action").count() == 1
    _shot(page, "rep-console-card", running)

    # Keyboard: the tabs follow the arrow keys.
    page.focus("#tab-accounts")
    page.keyboard.press("ArrowRight")
    assert page.get_attribute("#tab-dashboard", "aria-selected") == "true"
    bars = page.locator("#chart-pipeline svg rect.bar")
    bars.first.wait_for(timeout=15_000)
    assert bars.count() == 6  # one bar per deal stage
    heights = [float(bars.nth(i).get_attribute("height") or 0) for i in range(bars.count())]
    assert max(heights) > 50
    svg = page.locator("#chart-pipeline svg")
    assert svg.get_attribute("role") == "img"
    assert "Pipeline by stage" in (svg.locator("title").first.text_content() or "")
    # The demo's chats of the last 30 days include some at Alice's accounts.
    tiles = page.locator("#kpis .kpi")
    assert tiles.count() == 7
    assert int(tiles.first.locator(".kpi-value").text_content() or "0") >= 5
    assert page.locator("#chart-response svg rect.bar").count() >= 2
    _shot(page, "rep-console-dashboard", running)

    page.click("#signout")
    assert page.evaluate("sessionStorage.getItem('crm.rep.token')") is None
    assert page.locator("#tabs").is_hidden() and page.locator("#signin").is_visible()
    page.close()


def test_rep_console_shows_crm_text_as_text(browser: Browser, running) -> None:
    hostile = "<img src=x onerror=alert(1)><b>Zephyr</b> Widgets"
    with session_scope(running.database_url) as session:
        alice = get_user_by_email(session=session, email=CREDS.rep_email)
        assert alice is not None
        session.add(Account(name=hostile, owner_id=alice.id, industry="<i>Retail</i>"))
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    _sign_in(page, running, CREDS.rep_token)
    page.click("#tab-accounts")
    page.fill("#account-q", "Zephyr")
    page.keyboard.press("Enter")
    page.locator("#account-card h2").wait_for(timeout=15_000)
    assert page.locator("#account-card h2").text_content() == hostile
    assert page.locator("#account-results img, #account-card img, #account-card b").count() == 0
    assert page.locator("#account-card i").count() == 0
    page.close()


def test_manager_sees_the_team_per_rep(browser: Browser, running) -> None:
    page = browser.new_page(viewport={"width": 1200, "height": 1300})
    _sign_in(page, running, CREDS.manager_token)
    page.click("#tab-dashboard")
    table = page.locator("#by-rep-table")
    table.locator("tbody tr").first.wait_for(timeout=15_000)
    assert "team" in (page.locator("#dashboard-coverage").text_content() or "")
    assert "Alice Moreno" in (table.text_content() or "")
    assert "Ben Okafor" not in (table.text_content() or "")  # another team
    _shot(page, "rep-console-manager", running)
    page.close()
