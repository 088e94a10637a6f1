"""Pure parts of the Slack adapter: signature checks, the command patterns, mrkdwn."""

from __future__ import annotations

import time

import pytest
from fake_slack import sign

from channels.slack.commands import Action, Command, clean_text, parse
from channels.slack.mrkdwn import escape, link
from channels.slack.verify import SlackVerificationError, verify_request

SECRET = "s3cret-signing"
BODY = b'{"type":"event_callback","event_id":"Ev1"}'
NOW = int(time.time())


def check(body: bytes, headers: dict[str, str], now: float | None = None) -> None:
    verify_request(signing_secret=SECRET, body=body, now=now,
                   timestamp=headers.get("X-Slack-Request-Timestamp"),
                   signature=headers.get("X-Slack-Signature"))  # fmt: skip


def test_a_correct_signature_passes() -> None:
    check(BODY, sign(SECRET, BODY))


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "missing"),
        ({"X-Slack-Request-Timestamp": "yesterday", "X-Slack-Signature": "v0=ab"}, "malformed"),
        (sign("another-secret", BODY), "signature mismatch"),
        ({**sign(SECRET, BODY), "X-Slack-Signature": "v0=" + "0" * 64}, "signature mismatch"),
        (sign(SECRET, BODY, timestamp=NOW - 301), "stale"),
        (sign(SECRET, BODY, timestamp=NOW + 301), "stale"),
    ],
    ids=["no-headers", "bad-timestamp", "wrong-secret", "forged", "old", "future"],
)
def test_bad_requests_are_refused_with_a_reason(headers: dict[str, str], reason: str) -> None:
    with pytest.raises(SlackVerificationError, match=reason):
        check(BODY, headers, now=NOW)


def test_a_changed_body_breaks_the_signature() -> None:
    with pytest.raises(SlackVerificationError, match="mismatch"):
        check(BODY.replace(b"Ev1", b"Ev2"), sign(SECRET, BODY))


def test_the_window_is_five_minutes() -> None:
    headers = sign(SECRET, BODY, timestamp=1_000_000)
    check(BODY, headers, now=1_000_300)
    with pytest.raises(SlackVerificationError, match="stale"):
        check(BODY, headers, now=1_000_301)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", Command(Action.help)),
        ("  help ", Command(Action.help)),
        ("who is jane@acme.example?", Command(Action.who_is, "jane@acme.example")),
        (
            "<@UBOT0001> who is <mailto:Jane@Acme.example|Jane@Acme.example>",
            Command(Action.who_is, "Jane@Acme.example"),
        ),
        ("open tickets for Acme", Command(Action.open_tickets, "Acme")),
        ('Tickets for "Acme Corp"?', Command(Action.open_tickets, "Acme Corp")),
        ("account Acme Corp", Command(Action.account, "Acme Corp")),
        ("summary of Northwind Traders", Command(Action.account, "Northwind Traders")),
        ("deals for Acme", Command(Action.open_deals, "Acme")),
        ("where is ord-100001?", Command(Action.order, "ord-100001")),
        ("ticket TCK-1001", Command(Action.ticket, "TCK-1001")),
        ("claim", Command(Action.claim)),
        ("<@UBOT0001> claim 42", Command(Action.claim, "42")),
        ("resolve #7", Command(Action.resolve, "7")),
        ("how do I reset a password?", Command(Action.search, "how do I reset a password?")),
        ("search discount approval", Command(Action.search, "discount approval")),
        ("who approves discounts", Command(Action.search, "who approves discounts")),
    ],  # fmt: skip
)
def test_commands(text: str, expected: Command) -> None:
    assert parse(text) == expected


def test_clean_text_decodes_slack_entities() -> None:
    assert clean_text("a &lt;b&gt; &amp; <@U1|bob> c") == "a <b> & c"


def test_values_cannot_become_markup() -> None:
    assert (
        escape("<!channel> & <https://evil|x>") == "&lt;!channel&gt; &amp; &lt;https://evil|x&gt;"
    )
    assert link("https://help.example/a", "A & B") == "<https://help.example/a|A &amp; B>"
    assert link("javascript:alert(1)", "<x>") == "&lt;x&gt;"


def test_every_slack_setting_is_documented() -> None:
    from pathlib import Path

    from channels.slack.settings import SlackSettings

    doc = (Path(__file__).resolve().parents[2] / "docs" / "slack.md").read_text()
    for name in SlackSettings.model_fields:
        assert f"CRM_SLACK_{name.upper()}" in doc, name


@pytest.mark.parametrize(
    ("event", "person"),
    [
        ({"user": "U1", "text": "hi"}, True),
        ({"user": "U1", "text": "hi", "subtype": "thread_broadcast"}, True),
        ({"user": "U1", "text": "hi", "bot_id": "B1"}, False),
        ({"user": "U1", "subtype": "message_changed"}, False),
        ({"user": "U1", "subtype": "channel_join"}, False),
        ({"text": "no user"}, False),
    ],
)
def test_only_peoples_messages_count(event: dict, person: bool) -> None:
    from channels.slack.bolt_app import from_a_person

    assert from_a_person(event) is person


@pytest.mark.parametrize(
    ("event", "thread"),
    [
        ({"ts": "1.1", "channel_type": "channel"}, "1.1"),
        ({"ts": "1.2", "thread_ts": "1.0", "channel_type": "channel"}, "1.0"),
        ({"ts": "1.3", "channel_type": "im"}, None),
        ({"ts": "1.4", "thread_ts": "1.0", "channel_type": "im"}, "1.0"),
    ],
)
def test_replies_go_to_the_thread_they_came_from(event: dict, thread: str | None) -> None:
    from channels.slack.bolt_app import reply_thread

    assert reply_thread(event) == thread
