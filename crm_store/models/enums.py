"""Enumerations stored as strings; their values are part of the public contract."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """Who a person is to the CRM; decides what they may see."""

    customer = "customer"
    rep = "rep"
    manager = "manager"
    support_agent = "support_agent"
    admin = "admin"


class AccountStatus(StrEnum):
    active = "active"
    churned = "churned"


class LeadStatus(StrEnum):
    new = "new"
    contacted = "contacted"
    qualified = "qualified"
    disqualified = "disqualified"
    converted = "converted"


class DealStage(StrEnum):
    prospecting = "prospecting"
    qualification = "qualification"
    proposal = "proposal"
    negotiation = "negotiation"
    closed_won = "closed_won"
    closed_lost = "closed_lost"

    @property
    def is_open(self) -> bool:
        """True until the deal is won or lost."""
        return self not in (DealStage.closed_won, DealStage.closed_lost)


OPEN_DEAL_STAGES = tuple(s for s in DealStage if s.is_open)


class OrderStatus(StrEnum):
    pending = "pending"
    paid = "paid"
    shipped = "shipped"
    delivered = "delivered"
    cancelled = "cancelled"
    returned = "returned"


class TicketStatus(StrEnum):
    open = "open"
    pending = "pending"
    resolved = "resolved"
    closed = "closed"


OPEN_TICKET_STATUSES = (TicketStatus.open, TicketStatus.pending)


class TicketPriority(StrEnum):
    low = "low"
    normal = "normal"
    high = "high"
    urgent = "urgent"


class ActivityKind(StrEnum):
    call = "call"
    email = "email"
    meeting = "meeting"
    note = "note"


class TaskStatus(StrEnum):
    open = "open"
    done = "done"
    cancelled = "cancelled"


class TaskSource(StrEnum):
    manual = "manual"
    bot = "bot"
    rule = "rule"


class Channel(StrEnum):
    web = "web"
    rep = "rep"
    slack = "slack"


class ConversationStatus(StrEnum):
    bot = "bot"
    handoff_pending = "handoff_pending"
    human = "human"
    closed = "closed"


class MessageSender(StrEnum):
    user = "user"
    bot = "bot"
    agent = "agent"
    system = "system"


class NotificationStatus(StrEnum):
    """Outbox states; `sending` means claimed by a deliverer whose post is in flight."""

    pending = "pending"
    sending = "sending"
    sent = "sent"
    failed = "failed"


class HandoffReason(StrEnum):
    """Why the bot handed a conversation to a person."""

    customer_request = "customer_request"
    bot_abstained = "bot_abstained"
    negative_sentiment = "negative_sentiment"


class HandoffStatus(StrEnum):
    """Where a handoff stands; `away` means requested outside business hours."""

    pending = "pending"
    claimed = "claimed"
    resolved = "resolved"
    away = "away"


# A conversation has at most one handoff in these states (a partial unique index says so).
OPEN_HANDOFF_STATUSES = (HandoffStatus.pending, HandoffStatus.claimed, HandoffStatus.away)
