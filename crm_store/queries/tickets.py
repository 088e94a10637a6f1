"""Ticket lookups and ticket creation from any channel."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from crm_store.errors import InvalidInputError
from crm_store.models import OPEN_TICKET_STATUSES, Contact, Ticket, TicketPriority, utcnow
from crm_store.queries._common import normalize_email, normalize_public_id, require_text
from crm_store.queries.events import emit_event
from crm_store.queries.visibility import ticket_filter
from crm_store.scope import Scope

TICKET_NUMBER_BASE = 100_000
SLA_HOURS = {
    TicketPriority.urgent: 4,
    TicketPriority.high: 8,
    TicketPriority.normal: 24,
    TicketPriority.low: 72,
}


def normalize_ticket_number(text: str | None) -> str | None:
    """ "tck-100004", "TCK 100004" or "100004" → "TCK-100004"; None when not a ticket number."""
    return normalize_public_id("TCK", text)


def get_ticket(*, session: Session, scope: Scope, number: str) -> Ticket | None:
    """The ticket with this public number if `scope` may see it."""
    normalized = normalize_ticket_number(number)
    if normalized is None:
        return None
    stmt = select(Ticket).where(Ticket.number == normalized, ticket_filter(scope))
    return session.scalars(stmt.options(selectinload(Ticket.account))).first()


def find_ticket_for_customer(*, session: Session, number: str, email: str) -> Ticket | None:
    """The ticket when `email` matches the one on it (case-insensitive), else None."""
    normalized = normalize_ticket_number(number)
    try:
        address = normalize_email(email)
    except InvalidInputError:
        return None
    if normalized is None:
        return None
    stmt = select(Ticket).where(Ticket.number == normalized, func.lower(Ticket.email) == address)
    return session.scalars(stmt).first()


def lookup_ticket(
    *, session: Session, scope: Scope, number: str, email: str | None = None
) -> Ticket | None:
    """The ticket as this person may see it: through their scope, or by proving its email."""
    ticket = None if scope.is_anonymous else get_ticket(session=session, scope=scope, number=number)
    if ticket is None and email:
        ticket = find_ticket_for_customer(session=session, number=number, email=email)
    return ticket


def _contact_for(session: Session, scope: Scope, email: str | None) -> Contact | None:
    if scope.contact_id is not None and scope.user_id is not None:
        return session.get(Contact, scope.contact_id)
    if email is None:
        return None
    stmt = select(Contact).where(func.lower(Contact.email) == email).order_by(Contact.id)
    return session.scalars(stmt.limit(1)).first()


def assign_ticket_number(session: Session, ticket: Ticket) -> None:
    """Give `ticket` its public number "TCK-<100000 + id>" (unique because the id is)."""
    ticket.number = f"TCK-TMP-{uuid.uuid4().hex[:24]}"
    session.add(ticket)
    session.flush()
    ticket.number = f"TCK-{TICKET_NUMBER_BASE + ticket.id}"
    session.flush()


def open_ticket(
    *,
    session: Session,
    scope: Scope,
    subject: str,
    description: str,
    email: str | None = None,
    priority: TicketPriority | str = TicketPriority.normal,
) -> Ticket:
    """Open a support ticket for whoever is asking.

    A signed-in customer's ticket is tied to their contact and account. An anonymous visitor
    must give an email: it is how they will be answered and how they can look the ticket up.

    Raises:
        InvalidInputError: empty subject, bad email, or an anonymous request without email.
    """
    subject = require_text(subject, "subject", 200)
    description = (description or "").strip()[:10_000]
    address = normalize_email(email) if email else (scope.email or None)
    if address is None and scope.user_id is None:
        raise InvalidInputError("an email address is needed to open a ticket")
    priority = TicketPriority(priority)
    contact = _contact_for(session, scope, address)
    now = utcnow()
    ticket = Ticket(
        subject=subject,
        description=description,
        email=address or (contact.email if contact else None),
        contact_id=contact.id if contact else None,
        account_id=contact.account_id if contact else None,
        priority=priority,
        sla_due_at=now + timedelta(hours=SLA_HOURS[priority]),
        created_at=now,
        updated_at=now,
    )
    assign_ticket_number(session, ticket)
    emit_event(
        session=session,
        type="ticket_created",
        subject_type="ticket",
        subject_id=ticket.id,
        account_id=ticket.account_id,
        payload={"priority": str(priority)},
        occurred_at=now,
    )
    session.flush()
    return ticket


def list_tickets(
    *,
    session: Session,
    scope: Scope,
    account_id: int | None = None,
    open_only: bool = False,
    limit: int = 20,
) -> list[Ticket]:
    """Tickets visible to `scope`, newest first."""
    stmt = select(Ticket).where(ticket_filter(scope))
    if account_id is not None:
        stmt = stmt.where(Ticket.account_id == account_id)
    if open_only:
        stmt = stmt.where(Ticket.status.in_(OPEN_TICKET_STATUSES))
    stmt = stmt.order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(max(1, min(limit, 500)))
    return list(session.scalars(stmt))
