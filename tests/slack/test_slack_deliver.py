"""The notification deliverer against the fake Slack, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import socket
from datetime import timedelta
from typing import Any

import pytest
from fake_slack import FakeSlack
from fastapi.testclient import TestClient
from slack_support import REP, make_slack_settings
from sqlalchemy import select
from typer.testing import CliRunner

from channels.slack.deliver import Deliverer, backoff_s
from channels.slack.runtime import make_client, notice_kinds
from channels.slack.settings import SlackSettings
from crm_cli.main import app as crm
from crm_store.db import session_scope
from crm_store.models import Notification, NotificationStatus, SlackEventReceipt, utcnow
from crm_store.queries.notifications import UNKNOWN_OUTCOME, claim_due_notifications
from crm_store.queries.slack_events import record_slack_event


def add_note(db_url: str, *, text: str = "Deal Big Co moved to negotiation",
             room: str | None = "#sales", **payload: Any) -> int:  # fmt: skip
    """A pending `rule` notification, as `rules` writes it (docs/rules.md, Actions)."""
    body = {"text": text, "room": room, "user_id": None, "slack_user_id": None, "email": None,
            "rule": "stage-watch", "event_id": 1, **payload}  # fmt: skip
    with session_scope(db_url) as session:
        row = Notification(channel="slack", kind="rule", payload=body, next_attempt_at=utcnow())
        session.add(row)
        session.flush()
        return row.id


def row(db_url: str, note_id: int) -> Notification:
    with session_scope(db_url) as session:
        found = session.get(Notification, note_id)
        assert found is not None
        session.expunge(found)
        return found


def deliverer(db_url: str, settings: SlackSettings) -> Deliverer:
    return Deliverer(client=make_client(settings), settings=settings, database_url=db_url,
                     kinds=notice_kinds(settings))  # fmt: skip


@pytest.fixture
def settings(fake_slack: FakeSlack) -> SlackSettings:
    return make_slack_settings(fake_slack, max_attempts=4, backoff_base_s=5.0)


async def test_a_room_note_is_posted_once_and_marked_sent(
    db_url: str, fake_slack: FakeSlack, settings: SlackSettings
) -> None:
    note = add_note(db_url, text="<!channel> Acme & Co > target")
    d = deliverer(db_url, settings)
    report = await d.run_once()
    assert (report.sent, report.retried, report.failed) == (1, 0, 0)
    [post] = fake_slack.posts()
    assert post["channel"] == "#sales"
    assert post["text"].startswith("&lt;!channel&gt; Acme &amp; Co &gt; target")
    assert "_rule: stage-watch_" in post["text"]
    saved = row(db_url, note)
    assert saved.status is NotificationStatus.sent and saved.sent_at and saved.attempts == 1
    assert (await d.run_once()).handled == 0 and len(fake_slack.posts()) == 1


async def test_a_person_gets_it_by_slack_id_even_when_linked_after_the_rule_fired(
    seeded_db_url: str, linked: dict[str, int], fake_slack: FakeSlack, settings: SlackSettings
) -> None:
    add_note(seeded_db_url, room=None, slack_user_id="UCAPTURED")
    add_note(seeded_db_url, room=None, user_id=linked[REP])  # no Slack id when it fired
    await deliverer(seeded_db_url, settings).run_once()
    assert [p["channel"] for p in fake_slack.posts()] == ["UCAPTURED", REP]


async def test_500s_then_success_posts_exactly_once_with_back_off(
    db_url: str, fake_slack: FakeSlack, settings: SlackSettings
) -> None:
    note = add_note(db_url)
    fake_slack.fail_next("chat.postMessage", times=2, status=500)
    d, t0 = deliverer(db_url, settings), utcnow()

    assert (await d.run_once(t0)).retried == 1
    first = row(db_url, note)
    assert first.status is NotificationStatus.pending and first.attempts == 1
    assert first.last_error == "Slack error HTTP 500"
    assert first.next_attempt_at == pytest.approx(t0 + timedelta(seconds=5), abs=timedelta(0.01))

    assert (await d.run_once(t0 + timedelta(seconds=4))).handled == 0  # not due yet
    assert (await d.run_once(t0 + timedelta(seconds=5))).retried == 1
    second = row(db_url, note)
    assert second.attempts == 2
    assert second.next_attempt_at == pytest.approx(t0 + timedelta(seconds=15),
                                                   abs=timedelta(0.01))  # fmt: skip

    assert (await d.run_once(t0 + timedelta(seconds=15))).sent == 1
    assert len(fake_slack.calls_to("chat.postMessage")) == 3 and len(fake_slack.posts()) == 1
    done = row(db_url, note)
    assert done.status is NotificationStatus.sent and done.last_error is None


def test_back_off_doubles_up_to_the_cap() -> None:
    s = SlackSettings(backoff_base_s=5, backoff_max_s=60)
    assert [backoff_s(n, s) for n in range(1, 7)] == [5, 10, 20, 40, 60, 60]


async def test_a_rate_limit_waits_as_long_as_slack_says(
    db_url: str, fake_slack: FakeSlack, settings: SlackSettings
) -> None:
    note = add_note(db_url)
    fake_slack.fail_next("chat.postMessage", status=429, headers={"Retry-After": "42"},
                         body={"ok": False, "error": "ratelimited"})  # fmt: skip
    now = utcnow()
    await deliverer(db_url, settings).run_once(now)
    saved = row(db_url, note)
    assert saved.last_error == "rate limited (HTTP 429)"
    assert saved.next_attempt_at == pytest.approx(now + timedelta(seconds=42), abs=timedelta(0.01))


async def test_it_gives_up_after_max_attempts_and_keeps_the_reason(
    db_url: str, fake_slack: FakeSlack, settings: SlackSettings
) -> None:
    note = add_note(db_url)
    fake_slack.fail_next("chat.postMessage", times=10, status=503)
    d, when = deliverer(db_url, settings), utcnow()
    for _ in range(settings.max_attempts):
        await d.run_once(when)
        when += timedelta(hours=1)
    saved = row(db_url, note)
    assert saved.status is NotificationStatus.failed and saved.attempts == settings.max_attempts
    assert saved.last_error == "Slack error HTTP 503"
    assert (await d.run_once(when + timedelta(days=1))).handled == 0
    assert len(fake_slack.calls_to("chat.postMessage")) == settings.max_attempts


@pytest.mark.parametrize(
    ("error", "status"), [("invalid_auth", NotificationStatus.failed),
                          ("channel_not_found", NotificationStatus.pending)],
)  # fmt: skip
async def test_slack_refusals_fail_at_once_only_when_retrying_cannot_help(
    db_url: str, fake_slack: FakeSlack, settings: SlackSettings, error: str,
    status: NotificationStatus,
) -> None:  # fmt: skip
    note = add_note(db_url)
    fake_slack.fail_next("chat.postMessage", status=200, body={"ok": False, "error": error})
    await deliverer(db_url, settings).run_once()
    saved = row(db_url, note)
    assert saved.status is status and saved.last_error == f"Slack refused the post: {error}"


async def test_a_note_with_nowhere_to_go_fails_with_the_reason(
    db_url: str, fake_slack: FakeSlack, settings: SlackSettings
) -> None:
    note = add_note(db_url, room=None, email="nobody@crm-demo.example")
    other = Notification(channel="slack", kind="mystery", payload={}, next_attempt_at=utcnow())
    with session_scope(db_url) as session:
        session.add(other)
        session.flush()
        other_id = other.id
    assert (await deliverer(db_url, settings).run_once()).failed == 2
    assert "nobody@crm-demo.example is not linked to Slack" in str(row(db_url, note).last_error)
    assert row(db_url, other_id).last_error == "unknown notification kind 'mystery'"
    assert fake_slack.calls == []


async def test_an_unreachable_slack_is_retried(db_url: str) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = SlackSettings(signing_secret="s", bot_token="xoxb-t",
                             api_url=f"http://127.0.0.1:{port}/api/")  # fmt: skip
    note = add_note(db_url)
    assert (await deliverer(db_url, settings).run_once()).retried == 1
    saved = row(db_url, note)
    assert saved.status is NotificationStatus.pending
    assert saved.last_error == "Slack unreachable: ClientConnectorError"


async def test_a_timeout_is_never_re_sent(db_url: str, fake_slack: FakeSlack) -> None:
    settings = make_slack_settings(fake_slack, request_timeout_s=1)
    note = add_note(db_url)
    fake_slack.slow_next("chat.postMessage", delay_s=2.5)
    assert (await deliverer(db_url, settings).run_once()).failed == 1
    saved = row(db_url, note)
    assert saved.status is NotificationStatus.failed
    assert str(saved.last_error).startswith("outcome unknown (TimeoutError")
    assert len(fake_slack.posts()) == 1  # it did reach Slack: re-sending would double it


async def test_a_post_in_flight_when_a_deliverer_died_is_not_re_sent(
    db_url: str, fake_slack: FakeSlack, settings: SlackSettings
) -> None:
    note = add_note(db_url)
    now = utcnow()
    with session_scope(db_url) as session:  # a deliverer claims it, then dies mid-post
        claimed = claim_due_notifications(
            session=session,
            channel="slack",
            now=now,
            lease=timedelta(seconds=settings.claim_lease_s),
        )
        assert [c.id for c in claimed] == [note]
    d = deliverer(db_url, settings)
    assert (await d.run_once(now + timedelta(seconds=10))).handled == 0  # still leased
    report = await d.run_once(now + timedelta(seconds=settings.claim_lease_s + 1))
    assert report.stale == 1 and fake_slack.calls == []
    saved = row(db_url, note)
    assert saved.status is NotificationStatus.failed and saved.last_error == UNKNOWN_OUTCOME

    runner = CliRunner()
    listed = runner.invoke(crm, ["slack", "outbox", "--database-url", db_url])
    assert listed.exit_code == 0 and f"failed #{note} (rule, 1 attempts)" in listed.output
    assert "failed 1" in listed.output
    again = runner.invoke(crm, ["slack", "requeue", str(note), "--database-url", db_url])
    assert again.exit_code == 0, again.output
    refused = runner.invoke(crm, ["slack", "requeue", str(note), "--database-url", db_url])
    assert refused.exit_code == 1 and "is pending, not failed" in refused.output
    assert (await d.run_once()).sent == 1 and len(fake_slack.posts()) == 1


async def test_two_deliverers_at_once_post_every_note_once(
    db_url: str, fake_slack: FakeSlack, fake_settings_batch: SlackSettings
) -> None:
    notes = [add_note(db_url, text=f"note {n}") for n in range(30)]
    a, b = deliverer(db_url, fake_settings_batch), deliverer(db_url, fake_settings_batch)
    for _ in range(20):  # rounds until both find nothing left
        reports = await asyncio.gather(a.run_once(), b.run_once())
        if not any(r.handled for r in reports):
            break
    texts = sorted(p["text"].split("\n")[0] for p in fake_slack.posts())
    assert texts == sorted(f"note {n}" for n in range(30))
    with session_scope(db_url) as session:
        statuses = session.scalars(select(Notification.status).where(Notification.id.in_(notes)))
        assert set(statuses) == {NotificationStatus.sent}


@pytest.fixture
def fake_settings_batch(fake_slack: FakeSlack) -> SlackSettings:
    return make_slack_settings(fake_slack, deliver_batch=5)


async def test_old_event_receipts_are_pruned(
    db_url: str, fake_slack: FakeSlack, settings: SlackSettings
) -> None:
    with session_scope(db_url) as session:
        old = utcnow() - timedelta(days=2)
        assert record_slack_event(session=session, event_id="EvOLD", now=old)
        assert record_slack_event(session=session, event_id="EvNEW")
        assert not record_slack_event(session=session, event_id="EvNEW")
    await deliverer(db_url, settings).run_once()
    with session_scope(db_url) as session:
        assert list(session.scalars(select(SlackEventReceipt.event_id))) == ["EvNEW"]


def test_the_api_delivers_in_the_background(
    slack_api: TestClient, seeded_db_url: str, fake_slack: FakeSlack
) -> None:
    note = add_note(seeded_db_url, text="from the lifespan")
    post = fake_slack.wait_for(lambda f: f.posts(), what="the background delivery")[0]
    assert post["text"].startswith("from the lifespan")
    fake_slack.wait_for(lambda f: row(seeded_db_url, note).status is NotificationStatus.sent)


def test_crm_slack_deliver_once(db_url: str, fake_slack: FakeSlack,
                                monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    runner = CliRunner()
    monkeypatch.delenv("CRM_SLACK_BOT_TOKEN", raising=False)
    refused = runner.invoke(crm, ["slack", "deliver", "--once", "--database-url", db_url])
    assert refused.exit_code == 1 and "CRM_SLACK_BOT_TOKEN is not set" in refused.output
    for n in range(3):
        add_note(db_url, text=f"cli {n}")
    monkeypatch.setenv("CRM_SLACK_BOT_TOKEN", "xoxb-cli")
    monkeypatch.setenv("CRM_SLACK_API_URL", fake_slack.api_url)
    result = runner.invoke(crm, ["slack", "deliver", "--once", "--database-url", db_url])
    assert result.exit_code == 0, result.output
    assert "sent 3, retry later 0, failed 0" in result.output
    assert len(fake_slack.posts()) == 3
