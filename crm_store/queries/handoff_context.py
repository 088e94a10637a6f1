"""What an agent needs to see when a handoff arrives: the transcript and who the customer is.

Read by the Slack adapter to post the thread. The agent is staff, so the account's open orders,
tickets and churn risk are shown; an email the visitor merely typed into the chat is marked as
unverified, since anyone can type any address.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_store.errors import NotFoundError
from crm_store.models import (
    OPEN_TICKET_STATUSES,
    Account,
    Contact,
    Conversation,
    Handoff,
    Order,
    OrderStatus,
    PredictionScore,
    Ticket,
    User,
)
from crm_store.queries.conversations import list_messages

TRANSCRIPT_LIMIT = 30
OPEN_ORDER_STATUSES = (OrderStatus.pending, OrderStatus.paid, OrderStatus.shipped)
LIST_LIMIT = 5


@dataclass(frozen=True, slots=True)
class TranscriptLine:
    """One line of the conversation: `sender` is user, bot, agent or system."""

    sender: str
    text: str
    at: datetime


@dataclass(frozen=True, slots=True)
class OrderBrief:
    """An order not yet delivered, cancelled or returned."""

    number: str
    status: str
    placed_at: datetime
    total: Decimal
    currency: str


@dataclass(frozen=True, slots=True)
class TicketBrief:
    """An open or pending ticket."""

    number: str
    subject: str
    status: str
    priority: str


@dataclass(frozen=True, slots=True)
class HandoffContext:
    """Everything the Slack thread shows about one handoff.

    Attributes:
        transcript: the last 30 lines, oldest first.
        email_verified: False when the email is only what the visitor typed into the chat.
        churn_score: the account's latest churn probability in [0, 1], or None.
        churn_reasons: what raises that risk most, in a rep's words, largest first (<= 3).
        ticket_number: the ticket opened because the team was away, if any.
    """

    handoff_id: int
    conversation_id: int
    reason: str
    status: str
    requested_at: datetime
    channel: str
    transcript: list[TranscriptLine]
    customer_name: str | None = None
    customer_email: str | None = None
    email_verified: bool = False
    account_id: int | None = None
    account_name: str | None = None
    open_orders: list[OrderBrief] = field(default_factory=list)
    open_tickets: list[TicketBrief] = field(default_factory=list)
    churn_score: float | None = None
    churn_label: str | None = None
    churn_reasons: list[str] = field(default_factory=list)
    ticket_number: str | None = None
    claimed_by_name: str | None = None


def _contact(session: Session, conversation: Conversation, handoff: Handoff) -> Contact | None:
    """The customer's contact: the conversation's, the signed-in user's, else by the email."""
    if conversation.contact_id is not None:
        return session.get(Contact, conversation.contact_id)
    user = session.get(User, conversation.user_id) if conversation.user_id else None
    if user is not None and user.contact_id is not None:
        return session.get(Contact, user.contact_id)
    if handoff.customer_email:
        stmt = select(Contact).where(func.lower(Contact.email) == handoff.customer_email)
        return session.scalars(stmt.order_by(Contact.id).limit(1)).first()
    return None


def _orders(session: Session, account_id: int) -> list[OrderBrief]:
    stmt = (
        select(Order)
        .where(Order.account_id == account_id, Order.status.in_(OPEN_ORDER_STATUSES))
        .order_by(Order.placed_at.desc())
        .limit(LIST_LIMIT)
    )
    return [
        OrderBrief(o.number, o.status.value, o.placed_at, o.total, o.currency)
        for o in session.scalars(stmt)
    ]


def _tickets(session: Session, account_id: int) -> list[TicketBrief]:
    stmt = (
        select(Ticket)
        .where(Ticket.account_id == account_id, Ticket.status.in_(OPEN_TICKET_STATUSES))
        .order_by(Ticket.created_at.desc())
        .limit(LIST_LIMIT)
    )
    return [
        TicketBrief(t.number, t.subject, t.status.value, t.priority.value)
        for t in session.scalars(stmt)
    ]


def _churn(session: Session, account_id: int) -> PredictionScore | None:
    stmt = (
        select(PredictionScore)
        .where(PredictionScore.account_id == account_id, PredictionScore.kind == "churn")
        .order_by(PredictionScore.scored_at.desc(), PredictionScore.id.desc())
    )
    return session.scalars(stmt.limit(1)).first()


def _raising_reasons(score: PredictionScore, n: int = 3) -> list[str]:
    raising = [r for r in score.reasons or [] if isinstance(r, dict) and r.get("effect", 0) > 0]
    return [str(r.get("text") or r.get("feature")) for r in raising[:n]]


def _account_part(session: Session, account_id: int) -> dict[str, object]:
    account = session.get(Account, account_id)
    churn = _churn(session, account_id)
    return {
        "account_id": account_id,
        "account_name": account.name if account else None,
        "open_orders": _orders(session, account_id),
        "open_tickets": _tickets(session, account_id),
        "churn_score": churn.score if churn else None,
        "churn_label": churn.label if churn else None,
        "churn_reasons": _raising_reasons(churn) if churn else [],
    }


def _customer_part(session: Session, conversation: Conversation, handoff: Handoff) -> dict:
    contact = _contact(session, conversation, handoff)
    user = session.get(User, conversation.user_id) if conversation.user_id else None
    email = (user.email if user else None) or handoff.customer_email
    part: dict[str, object] = {
        "customer_name": contact.full_name if contact else (user.name if user else None),
        "customer_email": email or (contact.email if contact else None),
        "email_verified": user is not None,
    }
    if contact is not None:
        part.update(_account_part(session, contact.account_id))
    return part


def handoff_context(*, session: Session, handoff_id: int) -> HandoffContext:
    """Build the agent's view of a handoff.

    Raises:
        NotFoundError: no such handoff.
    """
    handoff = session.get(Handoff, handoff_id)
    if handoff is None:
        raise NotFoundError(f"handoff {handoff_id} not found")
    conversation = session.get(Conversation, handoff.conversation_id)
    assert conversation is not None  # FK with ON DELETE CASCADE
    lines = list_messages(session=session, conversation_id=conversation.id, limit=TRANSCRIPT_LIMIT)
    ticket = session.get(Ticket, handoff.ticket_id) if handoff.ticket_id else None
    agent = session.get(User, handoff.claimed_by_user_id) if handoff.claimed_by_user_id else None
    return HandoffContext(
        handoff_id=handoff.id, conversation_id=conversation.id, reason=handoff.reason.value,
        status=handoff.status.value, requested_at=handoff.requested_at,
        channel=conversation.channel.value,
        transcript=[TranscriptLine(m.sender.value, m.text, m.created_at) for m in lines],
        ticket_number=ticket.number if ticket else None,
        claimed_by_name=agent.name if agent else None,
        **_customer_part(session, conversation, handoff),  # type: ignore[arg-type]
    )  # fmt: skip
