"""Transcripts are stored with PII masked, whoever speaks, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_store.models import Channel, Message, MessageSender
from crm_store.queries.conversations import append_message, get_or_create_conversation

RAW = "I'm jane@acme.example, card 4111 1111 1111 1111, call +44 20 7946 0958 about ORD-100001"
STORED = "I'm [email], card [card], call [phone] about ORD-100001"


@pytest.mark.parametrize("sender", [MessageSender.user, MessageSender.bot, MessageSender.agent])
def test_every_sender_is_stored_redacted(session: Session, sender: MessageSender) -> None:
    conversation = get_or_create_conversation(
        session=session, channel=Channel.web, external_id="s1"
    )
    append_message(session=session, conversation_id=conversation.id, sender=sender, text=RAW)
    session.commit()
    texts = session.scalars(select(Message.text)).all()
    assert texts == [STORED]
    # and nothing in the table holds the raw values
    assert not session.scalars(select(Message).where(Message.text.contains("@"))).all()
