"""Logged activities (calls, emails, meetings, notes) and tasks."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm_store.models.base import Base, UTCDateTime, str_enum, utcnow
from crm_store.models.enums import ActivityKind, TaskSource, TaskStatus

if TYPE_CHECKING:
    from crm_store.models.accounts import Account, Contact
    from crm_store.models.people import User
    from crm_store.models.sales import Deal


class Activity(Base):
    """Something that happened with an account: a call, an email, a meeting or a note."""

    __tablename__ = "activities"
    __table_args__ = (Index("ix_activities_account_id_occurred_at", "account_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ActivityKind] = mapped_column(str_enum(ActivityKind))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    deal_id: Mapped[int | None] = mapped_column(ForeignKey("deals.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    account: Mapped[Account] = relationship()
    contact: Mapped[Contact | None] = relationship()
    deal: Mapped[Deal | None] = relationship()
    user: Mapped[User | None] = relationship()


class Task(Base):
    """A to-do for a user, created by hand, by the bot or by a rule."""

    __tablename__ = "tasks"
    __table_args__ = (Index("ix_tasks_owner_id_status_due_at", "owner_id", "status", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[TaskStatus] = mapped_column(str_enum(TaskStatus), default=TaskStatus.open)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    deal_id: Mapped[int | None] = mapped_column(ForeignKey("deals.id"), index=True)
    source: Mapped[TaskSource] = mapped_column(str_enum(TaskSource), default=TaskSource.manual)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    owner: Mapped[User | None] = relationship()
    account: Mapped[Account | None] = relationship()
    deal: Mapped[Deal | None] = relationship()
