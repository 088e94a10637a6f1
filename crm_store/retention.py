"""Transcript retention: messages older than the configured period are deleted.

A transcript is personal data kept for support and training, not forever. The conversation
row itself (channel, status, CSAT, times) has no message text and stays, so analytics over
old periods still count it. Deletion runs in small batches so a large purge never holds the
write lock long enough to stall live chat.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from crm_store.errors import InvalidInputError
from crm_store.models import Conversation, Message, utcnow

BATCH = 500


@dataclass(frozen=True, slots=True)
class PurgeResult:
    """What one purge removed."""

    conversations: int
    messages: int
    cutoff: datetime


def retention_days() -> int | None:
    """`CRM_TRANSCRIPT_RETENTION_DAYS`: days to keep transcripts; unset or 0 keeps them.

    Raises:
        InvalidInputError: the variable is set to something other than a whole number >= 0.
    """
    raw = os.environ.get("CRM_TRANSCRIPT_RETENTION_DAYS", "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise InvalidInputError(
            f"CRM_TRANSCRIPT_RETENTION_DAYS must be a whole number of days, not {raw!r}"
        )
    return int(raw) or None


def purge_transcripts(session: Session, days: int, now: datetime | None = None) -> PurgeResult:
    """Delete the messages of conversations quiet for more than `days` days.

    A conversation counts by its last message, so an old conversation that is still going
    keeps its whole transcript. Commits after each batch.

    Args:
        session: Session on the CRM store.
        days: Retention period, at least 1.
        now: The current time (tests pass their own).

    Returns:
        How many conversations lost their transcript, how many messages were deleted.
    """
    if days < 1:
        raise InvalidInputError("retention must be at least 1 day")
    cutoff = (now or utcnow()) - timedelta(days=days)
    stale = (
        select(Conversation.id)
        .where(Conversation.last_message_at < cutoff)
        .where(select(Message.id).where(Message.conversation_id == Conversation.id).exists())
        .order_by(Conversation.id)
        .limit(BATCH)
    )
    conversations = messages = 0
    while ids := list(session.scalars(stale)):
        deleted = session.execute(delete(Message).where(Message.conversation_id.in_(ids)))
        session.commit()
        conversations += len(ids)
        messages += deleted.rowcount or 0
    return PurgeResult(conversations=conversations, messages=messages, cutoff=cutoff)


class RetentionSchedule:
    """Runs the purge from a long-lived worker at most once per `interval`.

    The rules worker calls `tick()` on every poll; purging is idempotent, so several workers
    doing it is harmless, and the interval keeps the cost off the event loop.
    """

    def __init__(self, interval: timedelta = timedelta(hours=1)) -> None:
        self.interval = interval
        self._last: datetime | None = None

    def tick(self, session: Session, now: datetime | None = None) -> PurgeResult | None:
        """Purge when configured and due; returns what was removed, or None when not run."""
        now = now or utcnow()
        days = retention_days()
        if days is None or (self._last is not None and now - self._last < self.interval):
            return None
        self._last = now
        return purge_transcripts(session, days, now)
