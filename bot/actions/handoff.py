"""Handing the conversation to a person: the customer asked, or the bot could not help.

The action only opens the handoff in the store (`crm_store.queries.handoffs.open_handoff`,
idempotent) and picks the words from domain.yml: a person is coming, or the team is away and
a ticket was opened. From then on the API routes the customer's messages to the agent
(docs/handoff.md).
"""

from __future__ import annotations

import logging

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bot.actions.base import CrmAction, Events
from bot.actions.identity import conversation_ref, scope_from_tracker
from crm_store.db import session_scope
from crm_store.errors import InvalidInputError
from crm_store.models import Handoff, HandoffReason, HandoffStatus, Ticket
from crm_store.queries.conversations import get_or_create_conversation
from crm_store.queries.handoffs import open_handoff, record_bot_abstention

logger = logging.getLogger(__name__)

# Two "I don't know"s in a row and the bot stops offering and fetches a person.
ABSTENTIONS_BEFORE_HANDOFF = 2


def _conversation_id(tracker: Tracker) -> int:
    """The CRM conversation of this turn (created when a channel sent no id, e.g. Rasa shell)."""
    conversation_id, channel, sender_id = conversation_ref(tracker)
    if conversation_id is not None:
        return conversation_id
    with session_scope() as session:
        return get_or_create_conversation(
            session=session, channel=channel, external_id=sender_id,
            user_id=scope_from_tracker(tracker).user_id,
        ).id  # fmt: skip


def _email(tracker: Tracker) -> str | None:
    """An email the customer gave the bot (a form slot), for the ticket when nobody is in."""
    value = tracker.get_slot("email")
    return value if isinstance(value, str) and "@" in value else None


def _open(conversation_id: int, reason: HandoffReason, email: str | None) -> tuple[str, str | None]:
    """Open (or find) the handoff; returns its status and the away ticket's number."""
    with session_scope() as session:
        try:
            handoff = open_handoff(
                session=session, conversation_id=conversation_id, reason=reason, email=email
            )
        except InvalidInputError:  # a malformed address in the slot: hand over without it
            handoff = open_handoff(session=session, conversation_id=conversation_id, reason=reason)
        return handoff.status.value, _ticket_number(session, handoff)


def _ticket_number(session: Session, handoff: Handoff) -> str | None:
    ticket = session.get(Ticket, handoff.ticket_id) if handoff.ticket_id else None
    return ticket.number if ticket else None


def hand_over(dispatcher: CollectingDispatcher, tracker: Tracker, reason: HandoffReason) -> None:
    """Open the handoff and tell the customer what happens next (wording in domain.yml)."""
    status, ticket = _open(_conversation_id(tracker), reason, _email(tracker))
    if status != HandoffStatus.away.value:
        dispatcher.utter_message(response="utter_handoff")
    elif ticket:
        dispatcher.utter_message(response="utter_handoff_away_ticket", ticket=ticket)
    else:
        dispatcher.utter_message(response="utter_handoff_away")


def count_abstention(tracker: Tracker) -> bool:
    """Record an "I don't know"; True when it is the second in a row (time for a person).

    Customers only: staff chatting with the assistant know where to find a colleague.
    """
    if scope_from_tracker(tracker).is_staff:
        return False
    try:
        conversation_id = _conversation_id(tracker)
        with session_scope() as session:
            streak = record_bot_abstention(session=session, conversation_id=conversation_id)
    except SQLAlchemyError:
        # Counting is secondary: the customer still gets the honest "I don't know".
        logger.exception("could not count an abstention")
        return False
    return streak >= ABSTENTIONS_BEFORE_HANDOFF


class ActionHumanHandoff(CrmAction):
    """The customer asked for a person (or accepted the offer of one)."""

    def name(self) -> str:
        """Name used in domain.yml."""
        return "action_human_handoff"

    def handle(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Events:
        """Open the handoff and say a person is coming (or that the team is away)."""
        hand_over(dispatcher, tracker, HandoffReason.customer_request)
        return []
