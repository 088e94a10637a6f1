"""The Slack routes end to end: real API (TestClient), real store, fake Slack on loopback.

Slack's side is played by signing requests with the test secret; the answers are read from
what the fake Slack Web API (or a slash command's response_url) received.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest
from fake_slack import BOT_USER_ID, FakeSlack, command_body, event_body, sign
from fastapi.testclient import TestClient
from slack_support import AGENT, OTHER_REP, REP, SECRET, STRANGER, Sender, app_settings
from sqlalchemy import func, select

from channels.app import create_app
from channels.config import Settings
from channels.slack.settings import SlackSettings
from crm_store.db import session_scope
from crm_store.models import Account, Contact, SlackEventReceipt

pytestmark = pytest.mark.usefixtures("linked")


def contact_of(db_url: str, account_name: str) -> tuple[str, str]:
    """(email, first name) of a contact of the named demo account."""
    with session_scope(db_url) as session:
        contact = session.scalars(
            select(Contact).join(Account).where(Account.name == account_name).order_by(Contact.id)
        ).first()
        assert contact is not None and contact.email
        return contact.email, contact.first_name


def mention(text: str, user: str = AGENT, ts: str = "1700000100.000200", **extra: Any) -> dict:
    return {"type": "app_mention", "user": user, "text": f"<@{BOT_USER_ID}> {text}", "ts": ts,
            "channel": "C0GENERAL", "event_ts": ts, **extra}  # fmt: skip


def receipts(db_url: str) -> int:
    with session_scope(db_url) as session:
        return int(session.scalar(select(func.count()).select_from(SlackEventReceipt)) or 0)


# --- verification ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/slack/events", "/slack/commands"])
@pytest.mark.parametrize("problem", ["unsigned", "wrong-secret", "tampered", "stale"])
def test_bad_requests_are_401_logged_without_payload_and_not_processed(
    slack_api: TestClient, fake_slack: FakeSlack, seeded_db_url: str, path: str, problem: str,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    secret_text = "who is ceo-private@acme.example"
    if path == "/slack/events":
        body = event_body(mention(secret_text), "EvBAD0001")
    else:
        body = command_body(secret_text, AGENT, fake_slack.response_url("bad"))
    headers = {
        "unsigned": {},
        "wrong-secret": sign("not-the-secret", body),
        "tampered": sign(SECRET, body.replace(b"who", b"how")),
        "stale": sign(SECRET, body, timestamp=int(time.time()) - 6 * 60),
    }[problem]
    with caplog.at_level(logging.INFO):
        response = slack_api.post(path, content=body, headers=headers)
    assert response.status_code == 401
    assert response.json()["detail"].startswith("Invalid Slack request")
    assert any("rejected Slack request" in r.getMessage() for r in caplog.records)
    assert "ceo-private" not in caplog.text
    time.sleep(0.3)  # anything processed would have reached Slack by now
    assert fake_slack.calls == [] and receipts(seeded_db_url) == 0


def test_url_verification_answers_the_challenge(slack_api: TestClient) -> None:
    challenge = "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    body = f'{{"token":"x","challenge":"{challenge}","type":"url_verification"}}'.encode()
    response = slack_api.post(
        "/slack/events",
        content=body,
        headers={"Content-Type": "application/json", **sign(SECRET, body)},
    )
    assert response.status_code == 200
    assert challenge in response.text


def test_without_secrets_the_routes_say_why_and_the_rest_runs(
    seeded_db_url: str, fake_slack: FakeSlack
) -> None:
    settings = app_settings(
        seeded_db_url, SlackSettings(api_url=fake_slack.api_url, signing_secret="only-the-secret")
    )
    with TestClient(create_app(settings)) as client:
        body = event_body(mention("help"), "EvOFF0001")
        response = client.post("/slack/events", content=body, headers=sign("only-the-secret", body))
        assert response.status_code == 503
        assert "CRM_SLACK_BOT_TOKEN" in response.json()["detail"]
        assert "SIGNING_SECRET" not in response.json()["detail"]
        assert client.post("/slack/commands", content=b"").status_code == 503
        assert client.get("/v1/health").status_code == 200


# --- answers in threads ------------------------------------------------------------------------


def test_a_mention_is_answered_in_a_thread_on_its_message(
    send_event: Sender, fake_slack: FakeSlack, seeded_db_url: str
) -> None:
    email, first_name = contact_of(seeded_db_url, "Acme Corp")
    started = time.monotonic()
    response = send_event(mention(f"who is {email}?", ts="1700000100.000200"), "EvMENTION1")
    assert response.status_code == 200 and time.monotonic() - started < 3
    [post] = fake_slack.wait_for(lambda f: f.posts(), what="the reply")
    assert post["channel"] == "C0GENERAL" and post["thread_ts"] == "1700000100.000200"
    assert first_name in post["text"] and "Acme Corp" in post["text"]
    assert fake_slack.calls_to("auth.test"), "Bolt learnt the bot's own id"


def test_a_mention_inside_a_thread_is_answered_in_that_thread(
    send_event: Sender, fake_slack: FakeSlack
) -> None:
    event = mention("open tickets for Northwind Traders", ts="1700000200.000300",
                    thread_ts="1700000150.000100")  # fmt: skip
    assert send_event(event, "EvMENTION2").status_code == 200
    [post] = fake_slack.wait_for(lambda f: f.posts(), what="the reply")
    assert post["thread_ts"] == "1700000150.000100"
    assert "Open tickets for *Northwind Traders*" in post["text"] and "TCK-" in post["text"]


def test_a_direct_message_is_answered_in_the_dm(send_event: Sender, fake_slack: FakeSlack) -> None:
    event = {"type": "message", "channel_type": "im", "channel": "D0AGENT", "user": AGENT,
             "text": "order ORD-100001", "ts": "1700000300.000100"}  # fmt: skip
    assert send_event(event, "EvDM0001").status_code == 200
    [post] = fake_slack.wait_for(lambda f: f.posts(), what="the reply")
    assert post["channel"] == "D0AGENT" and post.get("thread_ts") is None
    assert "*ORD-100001* for *Northwind Traders*" in post["text"]


def test_an_unlinked_user_is_asked_to_get_linked(send_event: Sender, fake_slack: FakeSlack) -> None:
    assert send_event(mention("account Acme Corp", user=STRANGER), "EvSTRANGE1").status_code == 200
    [post] = fake_slack.wait_for(lambda f: f.posts(), what="the reply")
    assert "ask an admin to link" in post["text"]
    assert f"--slack-user {STRANGER}" in post["text"] and "Acme" not in post["text"]


def test_answers_use_the_linked_users_scope(send_event: Sender, fake_slack: FakeSlack) -> None:
    send_event(mention("account Acme Corp", user=REP, ts="1.1"), "EvSCOPE1")
    send_event(mention("account Acme Corp", user=OTHER_REP, ts="2.2"), "EvSCOPE2")
    posts = fake_slack.wait_for(lambda f: len(f.posts()) == 2 and f.posts(), what="two replies")
    by_thread = {p["thread_ts"]: p["text"] for p in posts}
    assert by_thread["1.1"].startswith("*Acme Corp*") and "owner Alice Moreno" in by_thread["1.1"]
    assert "no account matching" in by_thread["2.2"]


def test_bots_and_edits_are_ignored(send_event: Sender, fake_slack: FakeSlack) -> None:
    base = {"type": "message", "channel_type": "im", "channel": "D0AGENT", "text": "help"}
    send_event({**base, "bot_id": "B0OTHER", "user": "UOTHERBOT", "ts": "3.1"}, "EvBOT0001")
    send_event({**base, "subtype": "message_changed", "ts": "3.2"}, "EvEDIT0001")
    send_event({**base, "user": BOT_USER_ID, "ts": "3.3"}, "EvSELF0001")
    send_event({"type": "reaction_added", "user": AGENT, "reaction": "eyes"}, "EvREACT001")
    time.sleep(0.5)
    assert fake_slack.posts() == []


# --- retries -------------------------------------------------------------------------------------


def test_a_retry_is_acknowledged_and_not_processed_again(
    send_event: Sender, fake_slack: FakeSlack, seeded_db_url: str
) -> None:
    event = mention("help", ts="1700000400.000100")
    assert send_event(event, "EvRETRY001").status_code == 200
    fake_slack.wait_for(lambda f: f.posts(), what="the first reply")
    for attempt in ("1", "2"):
        retry = {"X-Slack-Retry-Num": attempt, "X-Slack-Retry-Reason": "http_timeout"}
        assert send_event(event, "EvRETRY001", headers=retry).status_code == 200
    time.sleep(0.5)
    assert len(fake_slack.posts()) == 1 and receipts(seeded_db_url) == 1


def test_a_retry_reaching_another_worker_is_not_processed_again(
    send_event: Sender, fake_slack: FakeSlack, seeded_db_url: str, slack_settings: SlackSettings
) -> None:
    event = mention("help", ts="1700000500.000100")
    with TestClient(create_app(app_settings(seeded_db_url, slack_settings))) as other_worker:
        assert send_event(event, "EvWORKERS1").status_code == 200
        retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
        assert send_event(event, "EvWORKERS1", headers=retry,
                          client=other_worker).status_code == 200  # fmt: skip
        fake_slack.wait_for(lambda f: f.posts(), what="the reply")
        time.sleep(0.5)
    assert len(fake_slack.posts()) == 1


# --- the slash command -------------------------------------------------------------------------


def command(client: TestClient, fake: FakeSlack, text: str, user: str = AGENT) -> str:
    """Runs `/crm text`; returns the ephemeral answer that reached the response_url."""
    body = command_body(text, user, fake.response_url(f"r-{user}"))
    headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(SECRET, body)}
    started = time.monotonic()
    response = client.post("/slack/commands", content=body, headers=headers)
    assert response.status_code == 200 and time.monotonic() - started < 3
    [call] = fake.wait_for(lambda f: f.calls_to(f"response:r-{user}"), what="the answer")
    assert call.params["response_type"] == "ephemeral"
    return str(call.params["text"])


def test_slash_command_help(slack_api: TestClient, fake_slack: FakeSlack) -> None:
    text = command(slack_api, fake_slack, "help")
    assert "`open tickets for Acme`" in text and "`who is jane@acme.example`" in text


def test_slash_command_lookup(slack_api: TestClient, fake_slack: FakeSlack) -> None:
    text = command(slack_api, fake_slack, "ticket TCK-1001")
    assert text.startswith("*TCK-1001*")


def test_slash_command_for_an_ambiguous_account_asks_which(
    slack_api: TestClient, fake_slack: FakeSlack
) -> None:
    text = command(slack_api, fake_slack, "open tickets for Acme", user=REP)
    assert "Which account did you mean" in text and "Acme Corp" in text


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_SLACK_SIGNING_SECRET", "from-env")
    monkeypatch.setenv("CRM_SLACK_BOT_TOKEN", "xoxb-from-env")
    monkeypatch.setenv("CRM_SLACK_API_URL", "http://127.0.0.1:9/api/")
    monkeypatch.setenv("CRM_SLACK_SUPPORT_CHANNEL", "#support")
    slack = Settings().slack
    assert slack.enabled and slack.api_url == "http://127.0.0.1:9/api/"
    assert slack.support_channel == "#support"


def test_requests_nobody_handles_are_acknowledged_without_logging_them(
    slack_api: TestClient, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    from fake_slack import interaction_body

    click = interaction_body(
        {
            "type": "block_actions",
            "user": {"id": AGENT},
            "team": {"id": "T0001"},
            "actions": [{"action_id": "some_other_button", "value": "secret-value"}],
        }
    )
    other = command_body("secret-value", AGENT, fake_slack.response_url("x")).replace(
        b"%2Fcrm", b"%2Fother")  # fmt: skip
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    with caplog.at_level(logging.DEBUG):
        assert (
            slack_api.post(
                "/slack/events", content=click, headers={**form, **sign(SECRET, click)}
            ).status_code
            == 200
        )
        answer = slack_api.post(
            "/slack/commands", content=other, headers={**form, **sign(SECRET, other)}
        )
    assert answer.status_code == 200 and "/crm help" in answer.text
    assert "secret-value" not in caplog.text


def test_the_same_app_can_be_started_twice(seeded_db_url: str, slack_settings: SlackSettings,
                                           fake_slack: FakeSlack) -> None:  # fmt: skip
    """Each lifespan runs the deliverer in its own event loop (uvicorn --reload, tests)."""
    app = create_app(app_settings(seeded_db_url, slack_settings))
    for _ in range(2):
        with TestClient(app) as client:
            assert client.post("/slack/events", content=b"{}").status_code == 401
        assert app.state.slack._task is None
