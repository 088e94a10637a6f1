"""Conversation and message persistence for every channel."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from crm_store.errors import InvalidInputError, NotFoundError
from crm_store.models import Channel, Conversation, Message, MessageSender, utcnow
from crm_store.redaction import redact


def _enum(cls: type, value: object, field: str) -> Any:
    try:
        return cls(value)
    except ValueError as exc:
        raise InvalidInputError(f"unknown {field} {value!r}") from exc


def get_or_create_conversation(
    *,
    session: Session,
    channel: Channel | str,
    external_id: str,
    user_id: int | None = None,
    contact_id: int | None = None,
) -> Conversation:
    """The conversation for (channel, external_id), created on first use.

    Safe under concurrency: when two requests race, both get the one row that won.
    """
    channel = _enum(Channel, channel, "channel")
    if not external_id or len(external_id) > 200:
        raise InvalidInputError("external_id must be 1-200 characters")
    stmt = select(Conversation).where(
        Conversation.channel == channel, Conversation.external_id == external_id
    )
    found = session.scalars(stmt).first()
    if found is not None:
        return found
    # INSERT ... ON CONFLICT DO NOTHING: two racing first turns create one row, and no
    # savepoint is needed (SQLite's driver would commit a leading savepoint on release).
    insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else pg_insert
    session.execute(
        insert(Conversation)
        .values(channel=channel, external_id=external_id, user_id=user_id, contact_id=contact_id)
        .on_conflict_do_nothing(index_elements=["channel", "external_id"])
    )
    return session.scalars(stmt).one()


def append_message(
    *,
    session: Session,
    conversation_id: int,
    sender: MessageSender | str,
    text: str,
    intent: str | None = None,
    confidence: float | None = None,
    metadata: dict[str, Any] | None = None,
) -> Message:
    """Append a message and bump the conversation's `last_message_at`.

    The text is stored with PII masked (`crm_store.redaction`), whoever wrote it (customer,
    bot or agent) and whatever the channel: a transcript is read by staff and kept for
    analytics, and never needs a card number or an address. Callers that need the raw value
    (the order check, the lead form) get it from the turn itself, not from the transcript.

    Raises:
        NotFoundError: no such conversation.
        InvalidInputError: unknown sender or a confidence outside [0, 1].
    """
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise NotFoundError(f"conversation {conversation_id} not found")
    sender = _enum(MessageSender, sender, "sender")
    if confidence is not None and not 0.0 <= confidence <= 1.0:
        raise InvalidInputError("confidence must be in [0, 1]")
    now = utcnow()
    message = Message(
        conversation_id=conversation_id, sender=sender, text=redact(text or ""), intent=intent,
        confidence=confidence, meta=dict(metadata or {}), created_at=now,
    )  # fmt: skip
    conversation.last_message_at = now
    session.add(message)
    session.flush()
    return message


def list_messages(*, session: Session, conversation_id: int, limit: int = 100) -> list[Message]:
    """The conversation's messages, oldest first (the last `limit` ones)."""
    stmt = (
        select(Message)
        .where(Message.conversation_id == conversation_id)
        .order_by(Message.id.desc())
        .limit(max(1, min(limit, 1000)))
    )
    return list(reversed(list(session.scalars(stmt))))
