"""Human handoffs: a conversation the bot handed to a support agent, and what became of it.

One row per handoff, not per conversation: a customer may ask for a person again next week,
and analytics (handoff rate, first response time) count handoffs. At most one handoff per
conversation is open (pending, claimed or away) at a time; a partial unique index enforces it,
so two racing triggers (the customer asks while sentiment fires) open one row.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm_store.models.base import Base, UTCDateTime, str_enum, utcnow
from crm_store.models.enums import HandoffReason, HandoffStatus

if TYPE_CHECKING:
    from crm_store.models.conversations import Conversation
    from crm_store.models.people import User

# The SQL form of OPEN_HANDOFF_STATUSES, for the partial unique index (same on both databases).
OPEN_STATUSES_SQL = "status IN ('pending', 'claimed', 'away')"


class Handoff(Base):
    """One request for a person in one conversation, from request to resolution."""

    __tablename__ = "handoffs"
    __table_args__ = (
        # One Slack thread belongs to one handoff; NULLs (not yet posted) never collide.
        UniqueConstraint(
            "slack_channel", "slack_thread_ts", name="uq_handoffs_slack_channel_slack_thread_ts"
        ),
        Index(
            "uq_handoffs_open_conversation",
            "conversation_id",
            unique=True,
            sqlite_where=text(OPEN_STATUSES_SQL),
            postgresql_where=text(OPEN_STATUSES_SQL),
        ),
        Index("ix_handoffs_status_requested_at", "status", "requested_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    reason: Mapped[HandoffReason] = mapped_column(str_enum(HandoffReason, length=30))
    status: Mapped[HandoffStatus] = mapped_column(
        str_enum(HandoffStatus), default=HandoffStatus.pending
    )
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_agent_reply_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    slack_channel: Mapped[str | None] = mapped_column(String(40))
    slack_thread_ts: Mapped[str | None] = mapped_column(String(40))
    # The ticket opened when the request came outside business hours (status `away`).
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    # The address the customer gave the bot, when the conversation has no signed-in contact:
    # the agent needs it to answer later, so it is one of the fields kept unredacted.
    customer_email: Mapped[str | None] = mapped_column(String(254))
    # The rating (1-5) the customer gave after this handoff was resolved.
    csat: Mapped[int | None] = mapped_column(Integer)

    conversation: Mapped[Conversation] = relationship()
    claimed_by: Mapped[User | None] = relationship()

    @property
    def is_open(self) -> bool:
        """True until resolved (pending, claimed or away)."""
        return self.status is not HandoffStatus.resolved
