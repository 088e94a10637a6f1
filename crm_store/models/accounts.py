"""Accounts (customer companies), their contacts and imported subscriptions."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm_store.models.base import Base, Money, UTCDateTime, str_enum, utcnow
from crm_store.models.enums import AccountStatus

if TYPE_CHECKING:
    from crm_store.models.people import User


class Account(Base):
    """A customer company, owned by one rep."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    industry: Mapped[str | None] = mapped_column(String(100))
    country: Mapped[str | None] = mapped_column(String(100))
    annual_revenue: Mapped[Decimal | None] = mapped_column(Money)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[AccountStatus] = mapped_column(
        str_enum(AccountStatus), default=AccountStatus.active
    )
    # The id in the system it was imported from, e.g. "telco:7590-VHVEG" or "retail:17850".
    external_ref: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    contacts: Mapped[list[Contact]] = relationship(back_populates="account")


class Contact(Base):
    """A person at an account."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    phone: Mapped[str | None] = mapped_column(String(50))
    title: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    account: Mapped[Account] = relationship(back_populates="contacts")

    @property
    def full_name(self) -> str:
        """First and last name joined by a space."""
        return f"{self.first_name} {self.last_name}".strip()


class Subscription(Base):
    """A service subscription, as imported from the IBM Telco churn data set.

    All source columns are kept typed so churn models can train from the database.
    """

    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), unique=True)
    external_ref: Mapped[str] = mapped_column(String(64), unique=True)
    gender: Mapped[str | None] = mapped_column(String(10))
    senior_citizen: Mapped[bool | None] = mapped_column(Boolean)
    partner: Mapped[bool | None] = mapped_column(Boolean)
    dependents: Mapped[bool | None] = mapped_column(Boolean)
    tenure_months: Mapped[int | None] = mapped_column(Integer)
    contract: Mapped[str | None] = mapped_column(String(30))
    paperless_billing: Mapped[bool | None] = mapped_column(Boolean)
    payment_method: Mapped[str | None] = mapped_column(String(50))
    internet_service: Mapped[str | None] = mapped_column(String(30))
    # Phone, lines, security, backup, protection, support, streaming: value per service.
    services: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    monthly_charges: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    total_charges: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    churned: Mapped[bool | None] = mapped_column(Boolean)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    account: Mapped[Account] = relationship()
