"""Leads, products, deals and the history of deal stages."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm_store.models.base import Base, Money, UTCDateTime, str_enum, utcnow
from crm_store.models.enums import DealStage, LeadStatus

if TYPE_CHECKING:
    from crm_store.models.accounts import Account
    from crm_store.models.people import User


class Lead(Base):
    """A prospective customer, e.g. captured by the website bot."""

    __tablename__ = "leads"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), index=True)
    company: Mapped[str | None] = mapped_column(String(200))
    need: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(50), default="web_chat")
    status: Mapped[LeadStatus] = mapped_column(str_enum(LeadStatus), default=LeadStatus.new)
    score: Mapped[float | None] = mapped_column()
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    owner: Mapped[User | None] = relationship()


class Product(Base):
    """Something we sell, identified by its SKU (the retail StockCode)."""

    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(100), index=True)
    unit_price: Mapped[Decimal] = mapped_column(Money)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Deal(Base):
    """A sales opportunity on an account."""

    __tablename__ = "deals"
    __table_args__ = (Index("ix_deals_stage_close_date", "stage", "close_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    stage: Mapped[DealStage] = mapped_column(str_enum(DealStage), default=DealStage.prospecting)
    close_date: Mapped[date | None] = mapped_column(Date)
    last_activity_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    account: Mapped[Account] = relationship()
    owner: Mapped[User | None] = relationship()
    stage_changes: Mapped[list[DealStageChange]] = relationship(
        back_populates="deal", order_by="DealStageChange.changed_at"
    )


class DealStageChange(Base):
    """One move of a deal from a stage to another (history for forecasting and rules)."""

    __tablename__ = "deal_stage_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"), index=True)
    from_stage: Mapped[DealStage | None] = mapped_column(str_enum(DealStage))
    to_stage: Mapped[DealStage] = mapped_column(str_enum(DealStage))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Days the deal spent in from_stage; handy for velocity features.
    days_in_previous: Mapped[int | None] = mapped_column(Integer)

    deal: Mapped[Deal] = relationship(back_populates="stage_changes")
