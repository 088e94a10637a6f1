"""Conversations and messages."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from crm_store.errors import InvalidInputError, NotFoundError
from crm_store.models import Channel, ConversationStatus, MessageSender
from crm_store.queries.conversations import (
    append_message,
    get_or_create_conversation,
    list_messages,
)


def test_get_or_create_is_idempotent(session: Session) -> None:
    first = get_or_create_conversation(session=session, channel="web", external_id="abc")
    again = get_or_create_conversation(session=session, channel=Channel.web, external_id="abc")
    other = get_or_create_conversation(session=session, channel="slack", external_id="abc")
    assert first.id == again.id != other.id
    assert first.status is ConversationStatus.bot and first.last_message_at is None
    with pytest.raises(InvalidInputError):
        get_or_create_conversation(session=session, channel="fax", external_id="abc")
    with pytest.raises(InvalidInputError):
        get_or_create_conversation(session=session, channel="web", external_id="")


def test_append_message(session: Session) -> None:
    conv = get_or_create_conversation(session=session, channel="web", external_id="c1")
    user = append_message(
        session=session, conversation_id=conv.id, sender="user", text="where is my order?",
        intent="order_status", confidence=0.93,
    )  # fmt: skip
    bot = append_message(session=session, conversation_id=conv.id, sender=MessageSender.bot,
                         text="Which order number?", metadata={"buttons": 0})  # fmt: skip
    session.commit()
    session.expire_all()
    assert [m.text for m in list_messages(session=session, conversation_id=conv.id)] == [
        "where is my order?", "Which order number?"]  # fmt: skip
    assert conv.last_message_at == bot.created_at >= user.created_at
    assert bot.meta == {"buttons": 0} and user.intent == "order_status"
    with pytest.raises(NotFoundError):
        append_message(session=session, conversation_id=999_999, sender="user", text="x")
    with pytest.raises(InvalidInputError):
        append_message(session=session, conversation_id=conv.id, sender="robot", text="x")
    with pytest.raises(InvalidInputError):
        append_message(session=session, conversation_id=conv.id, sender="bot", text="x",
                       confidence=1.5)  # fmt: skip
