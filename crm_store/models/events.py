"""CRM events (what happened), rule firings (what the rules did about it) and rule state.

The store writes an event row in the same transaction as the change it describes, so an event
exists exactly when its change committed; rule workers claim pending events later, and nothing
is lost while no worker runs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crm_store.models.base import Base, UTCDateTime, utcnow

EVENT_PENDING = "pending"
EVENT_DONE = "done"


class CrmEvent(Base):
    """One thing that happened to one record (`subject_type`, `subject_id`)."""

    __tablename__ = "crm_events"
    __table_args__ = (
        Index("ix_crm_events_status_id", "status", "id"),
        Index("ix_crm_events_occurred_at", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(String(50))
    subject_type: Mapped[str] = mapped_column(String(30))
    subject_id: Mapped[int | None] = mapped_column(Integer)
    account_id: Mapped[int | None] = mapped_column(Integer, index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Time events (deal idle, SLA due...) are emitted by a scheduler that may run many times:
    # the key makes each occurrence exist once.
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(10), default=EVENT_PENDING)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RuleFiring(Base):
    """The audit record of one rule acting on one event; unique per (rule, event)."""

    __tablename__ = "rule_firings"
    __table_args__ = (
        UniqueConstraint("rule_name", "event_id", name="uq_rule_firings_rule_name_event_id"),
        Index("ix_rule_firings_rule_name_fired_at", "rule_name", "fired_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_name: Mapped[str] = mapped_column(String(100))
    # Hash of the rule's text: which wording of the rule made this decision.
    rule_version: Mapped[str] = mapped_column(String(64))
    event_id: Mapped[int] = mapped_column(ForeignKey("crm_events.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(10))  # fired | failed
    matched: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    actions: Mapped[list[Any]] = mapped_column(JSON, default=list)
    error: Mapped[str | None] = mapped_column(Text)
    worker: Mapped[str | None] = mapped_column(String(64))
    fired_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RuleState(Base):
    """Small named counters the rules keep between firings (round-robin cursors)."""

    __tablename__ = "rule_state"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)
