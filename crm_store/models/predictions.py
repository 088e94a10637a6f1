"""Model outputs stored per account: churn, propensity, segment, lead score."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm_store.models.base import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from crm_store.models.accounts import Account


class PredictionScore(Base):
    """One score from one model version; the latest row per (account, kind) is current."""

    __tablename__ = "prediction_scores"
    __table_args__ = (
        Index("ix_prediction_scores_account_kind_scored", "account_id", "kind", "scored_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))  # churn | propensity | segment | lead_score
    score: Mapped[float | None] = mapped_column()
    label: Mapped[str | None] = mapped_column(String(100))
    model_version: Mapped[str] = mapped_column(String(64))
    # Reasons, largest contribution first: [{"feature": ..., "effect": ...}, ...].
    reasons: Mapped[list[Any]] = mapped_column(JSON, default=list)
    scored_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    account: Mapped[Account] = relationship()
