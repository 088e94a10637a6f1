"""Slack events already received: the de-duplication key for Slack's retries.

Slack re-sends an Events API request (with `X-Slack-Retry-Num`) when it did not get a 200
within 3 seconds, or got an error. The first delivery inserts the event's `event_id` here
before any work is done; a retry finds the key taken and is acknowledged without being
processed. A table (not process memory) so the rule holds across API workers and restarts.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from crm_store.models.base import Base, UTCDateTime, utcnow


class SlackEventReceipt(Base):
    """One Events API `event_id` that has been accepted for processing."""

    __tablename__ = "slack_event_receipts"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
