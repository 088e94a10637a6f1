"""The ticket a handoff opens when nobody is in: the customer's request must not be lost."""

from __future__ import annotations

from sqlalchemy.orm import Session

from crm_store.errors import InvalidInputError
from crm_store.models import Conversation, Handoff, Ticket, User
from crm_store.queries.conversations import list_messages
from crm_store.queries.tickets import open_ticket
from crm_store.scope import Scope

AWAY_SUBJECT = "Chat: customer asked for a person outside business hours"
TRANSCRIPT_LINES = 20


def _scope_of(session: Session, conversation: Conversation) -> Scope:
    user = session.get(User, conversation.user_id) if conversation.user_id else None
    return Scope.for_user(user) if user is not None else Scope.anonymous()


def _transcript(session: Session, conversation_id: int) -> str:
    lines = list_messages(session=session, conversation_id=conversation_id, limit=TRANSCRIPT_LINES)
    return "\n".join(f"{m.sender.value}: {m.text}" for m in lines)


def open_away_ticket(
    *, session: Session, conversation: Conversation, handoff: Handoff
) -> Ticket | None:
    """Open a ticket for the customer behind `conversation`, when we know who that is.

    Known means signed in (the user's contact) or an email the customer gave the bot
    (`handoff.customer_email`). An anonymous visitor who gave no email gets no ticket: there
    would be nobody to answer.

    Returns:
        The ticket, or None when the customer is unknown.
    """
    scope = _scope_of(session, conversation)
    if scope.is_anonymous and not handoff.customer_email:
        return None
    description = (
        f"Handoff {handoff.id} ({handoff.reason.value}) from conversation {conversation.id}.\n\n"
        + _transcript(session, conversation.id)
    )
    try:
        return open_ticket(
            session=session, scope=scope, subject=AWAY_SUBJECT, description=description,
            email=handoff.customer_email,
        )  # fmt: skip
    except InvalidInputError:
        return None
