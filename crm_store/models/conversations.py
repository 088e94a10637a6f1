"""Chat conversations and their messages (all channels)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm_store.models.base import Base, UTCDateTime, str_enum, utcnow
from crm_store.models.enums import Channel, ConversationStatus, MessageSender

if TYPE_CHECKING:
    from crm_store.models.accounts import Contact
    from crm_store.models.people import User


def new_sender_id() -> str:
    """A fresh, unguessable conversation key for Rasa."""
    return uuid.uuid4().hex


class Conversation(Base):
    """One chat session on one channel; `external_id` is the channel's own id."""

    __tablename__ = "conversations"
    __table_args__ = (
        UniqueConstraint("channel", "external_id", name="uq_conversations_channel_external_id"),
        Index("ix_conversations_status_last_message_at", "status", "last_message_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[Channel] = mapped_column(str_enum(Channel))
    external_id: Mapped[str] = mapped_column(String(200))
    # Rasa's tracker key. Random rather than derived from `id`: ids restart after a restore or
    # in another database, and a reused key would hand one customer another's dialogue state.
    rasa_sender_id: Mapped[str] = mapped_column(String(64), unique=True, default=new_sender_id)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    status: Mapped[ConversationStatus] = mapped_column(
        str_enum(ConversationStatus), default=ConversationStatus.bot
    )
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    csat: Mapped[int | None] = mapped_column(Integer)
    # Set when an agent hands the conversation back: the next customer message may be the
    # rating (1-5). Cleared by the rating or by any other message.
    csat_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Consecutive bot turns that answered "I don't know", and the user message the last one
    # answered: a second abstention right after the first hands the conversation to a person.
    abstain_streak: Mapped[int] = mapped_column(Integer, default=0)
    last_abstained_message_id: Mapped[int | None] = mapped_column(Integer)

    user: Mapped[User | None] = relationship()
    contact: Mapped[Contact | None] = relationship()
    messages: Mapped[list[Message]] = relationship(
        back_populates="conversation", order_by="Message.id"
    )


class Message(Base):
    """One message in a conversation, with the NLU result when the bot parsed it."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_conversation_id_created_at", "conversation_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    sender: Mapped[MessageSender] = mapped_column(str_enum(MessageSender))
    text: Mapped[str] = mapped_column(Text)
    intent: Mapped[str | None] = mapped_column(String(100))
    confidence: Mapped[float | None] = mapped_column()
    # "metadata" is reserved on declarative classes, hence the attribute name.
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    conversation: Mapped[Conversation] = relationship(back_populates="messages")
