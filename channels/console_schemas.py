"""The API's versions of the rep console's data: the account card and the dashboard.

Kept apart from `channels/schemas.py` (chat, accounts, orders) because they mirror the
service dataclasses of `predict.card` and `crm_store.queries.analytics` one to one; each
model reads its dataclass by attribute. Money is a decimal string, as elsewhere in the API.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field


class _FromAttributes(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class CardDeal(_FromAttributes):
    """An open deal on the card."""

    id: int
    name: str
    stage: str
    amount: Decimal
    currency: str
    close_date: dt.date | None


class CardTicket(_FromAttributes):
    """An open ticket on the card."""

    number: str
    subject: str
    status: str
    priority: str
    created_at: dt.datetime


class ReasonPublic(_FromAttributes):
    """One input's push on the churn risk; `effect` is in log-odds (positive raises it)."""

    feature: str
    text: str
    effect: float


class ChurnPublic(_FromAttributes):
    """Churn risk with its strongest reasons each way.

    `live` is true when scored for this request (reasons in words); false for the last
    batch score, used when the model cannot score live (its reasons name features only).
    """

    probability: float = Field(ge=0, le=1)
    risk: str
    model_version: str
    scored_at: dt.datetime
    live: bool
    raising: list[ReasonPublic]
    lowering: list[ReasonPublic]


class ProductPublic(_FromAttributes):
    """A product to offer and why (bought together with what the account has)."""

    product: str
    name: str
    text: str


class NextActionPublic(_FromAttributes):
    """What the rep should do next, why, and what to offer."""

    action: str
    why: str
    recommendations: list[ProductPublic]


class AccountCardPublic(BaseModel):
    """Everything the console shows about one account."""

    id: int
    name: str
    industry: str | None
    country: str | None
    status: str
    owner_name: str | None
    owner_email: str | None
    open_deal_count: int
    open_deal_amount: Decimal
    open_ticket_count: int
    last_activity_at: dt.datetime | None
    last_activity_subject: str | None
    segment: str | None
    deals: list[CardDeal]
    tickets: list[CardTicket]
    churn: ChurnPublic | None
    next_action: NextActionPublic | None
    notes: list[str] = Field(description="Why a part of the card is missing, in words.")


class StagePublic(_FromAttributes):
    """Deals in one stage."""

    stage: str
    is_open: bool
    count: int
    amount: Decimal


class BucketPublic(_FromAttributes):
    """Accounts whose latest churn probability is in [lower, upper)."""

    lower: float
    upper: float
    count: int


class ChurnDistributionPublic(_FromAttributes):
    """Histogram of the latest churn probability over the visible accounts."""

    buckets: list[BucketPublic]
    scored: int
    unscored: int
    by_label: dict[str, int]
    average: float | None


class SegmentPublic(_FromAttributes):
    """Accounts in one customer segment."""

    name: str
    count: int


class ResponseTimesPublic(_FromAttributes):
    """Response times in seconds (nearest-rank p90); null when nothing was measured."""

    count: int
    median_seconds: float | None
    p90_seconds: float | None


class ConversationFiguresPublic(_FromAttributes):
    """Conversation analytics over the period; rates in [0, 1], null without data."""

    conversations: int
    handed_off: int
    contained: int
    containment_rate: float | None
    handoff_rate: float | None
    bot_turns: int
    fallback_turns: int
    fallback_rate: float | None
    csat_average: float | None
    csat_count: int
    bot_response: ResponseTimesPublic
    human_response: ResponseTimesPublic


class RepFiguresPublic(_FromAttributes):
    """One rep's figures in a manager's or admin's dashboard."""

    user_id: int
    name: str
    accounts: int
    open_deals: int
    open_amount: Decimal
    high_risk_accounts: int
    conversations: ConversationFiguresPublic


class DashboardPublic(_FromAttributes):
    """The dashboard: `coverage` says whose figures these are (own, team or all)."""

    coverage: str
    days: int
    since: dt.datetime
    until: dt.datetime
    accounts: int
    pipeline: list[StagePublic]
    churn: ChurnDistributionPublic
    segments: list[SegmentPublic]
    conversations: ConversationFiguresPublic
    by_rep: list[RepFiguresPublic]
