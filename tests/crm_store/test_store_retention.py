"""Transcript retention: old transcripts go, recent ones and the conversation rows stay."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from crm_cli.main import app
from crm_store.errors import InvalidInputError
from crm_store.models import Conversation, Message, utcnow
from crm_store.queries.conversations import append_message, get_or_create_conversation
from crm_store.retention import RetentionSchedule, purge_transcripts, retention_days


def _conversation(session: Session, key: str, age_days: float, messages: int = 3) -> int:
    conv = get_or_create_conversation(session=session, channel="web", external_id=key)
    for i in range(messages):
        append_message(session=session, conversation_id=conv.id, sender="user", text=f"m{i}")
    conv.last_message_at = utcnow() - timedelta(days=age_days)
    session.commit()
    return conv.id


def _messages(session: Session, conversation_id: int) -> int:
    stmt = select(func.count()).where(Message.conversation_id == conversation_id)
    return session.scalar(stmt) or 0


def test_purge_deletes_only_quiet_transcripts(session: Session) -> None:
    old = _conversation(session, "old", age_days=40)
    edge = _conversation(session, "edge", age_days=29)
    fresh = _conversation(session, "fresh", age_days=0)
    result = purge_transcripts(session, days=30)
    assert (result.conversations, result.messages) == (1, 3)
    assert _messages(session, old) == 0
    assert _messages(session, edge) == 3 and _messages(session, fresh) == 3
    assert session.get(Conversation, old) is not None  # the row stays for analytics
    again = purge_transcripts(session, days=30)
    assert (again.conversations, again.messages) == (0, 0)


def test_purge_works_in_batches(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("crm_store.retention.BATCH", 2)
    ids = [_conversation(session, f"c{i}", age_days=100, messages=2) for i in range(5)]
    result = purge_transcripts(session, days=1)
    assert (result.conversations, result.messages) == (5, 10)
    assert all(_messages(session, cid) == 0 for cid in ids)


def test_setting_is_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CRM_TRANSCRIPT_RETENTION_DAYS", raising=False)
    assert retention_days() is None
    monkeypatch.setenv("CRM_TRANSCRIPT_RETENTION_DAYS", "0")
    assert retention_days() is None
    monkeypatch.setenv("CRM_TRANSCRIPT_RETENTION_DAYS", "90")
    assert retention_days() == 90
    monkeypatch.setenv("CRM_TRANSCRIPT_RETENTION_DAYS", "ninety")
    with pytest.raises(InvalidInputError, match="whole number"):
        retention_days()


def test_schedule_runs_at_most_once_per_interval(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRM_TRANSCRIPT_RETENTION_DAYS", "10")
    schedule = RetentionSchedule(interval=timedelta(hours=1))
    now = utcnow()
    _conversation(session, "a", age_days=20)
    assert schedule.tick(session, now).messages == 3
    _conversation(session, "b", age_days=20)
    assert schedule.tick(session, now + timedelta(minutes=30)) is None
    assert schedule.tick(session, now + timedelta(hours=2)).messages == 3


def test_cli(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CRM_TRANSCRIPT_RETENTION_DAYS", raising=False)
    runner = CliRunner()
    result = runner.invoke(app, ["retention", "run", "--database-url", db_url])
    assert result.exit_code == 1 and "no retention period" in result.stderr
    result = runner.invoke(app, ["retention", "run", "--days", "30", "--database-url", db_url])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("deleted 0 messages")
