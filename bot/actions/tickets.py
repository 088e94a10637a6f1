"""Support tickets: check a ticket's status, or open a new one."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.base import CrmAction, Events
from bot.actions.forms import CrmFormValidation, clean_text
from bot.actions.identity import scope_from_tracker
from bot.actions.orders import fmt_date
from bot.actions.parsing import parse_email, parse_ticket_id
from crm_store.db import session_scope
from crm_store.queries.tickets import get_ticket, lookup_ticket, open_ticket

logger = logging.getLogger(__name__)


class ValidateTicketStatusForm(CrmFormValidation):
    """Collects `ticket_id`, and `email` unless the signed-in person can already see it."""

    def name(self) -> str:
        """Name used in domain.yml."""
        return "validate_ticket_status_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        """Skip the email when the signed-in person may see the ticket."""
        number = parse_ticket_id(tracker.get_slot("ticket_id"))
        scope = scope_from_tracker(tracker)
        if number is None or scope.is_anonymous:
            return domain_slots
        try:
            with session_scope() as session:
                visible = get_ticket(session=session, scope=scope, number=number) is not None
        except Exception:
            logger.exception("ticket visibility check failed; asking for the email")
            return domain_slots
        return [slot for slot in domain_slots if slot != "email"] if visible else domain_slots

    def validate_ticket_id(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Accept "TCK-100004", "tck 100004" or "100004"; re-ask otherwise."""
        number = parse_ticket_id(value)
        if number is None:
            dispatcher.utter_message(response="utter_invalid_ticket_id")
        return {"ticket_id": number}


class ActionTicketStatus(CrmAction):
    """Answers with the ticket's real status; a wrong email looks like a missing ticket."""

    def name(self) -> str:
        """Name used in domain.yml."""
        return "action_ticket_status"

    def handle(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Events:
        """Look the ticket up by scope, else by number + email; reset the form's slots."""
        number = parse_ticket_id(tracker.get_slot("ticket_id"))
        email = tracker.get_slot("email")
        scope = scope_from_tracker(tracker)
        if number is None:
            dispatcher.utter_message(response="utter_invalid_ticket_id")
            return [SlotSet("ticket_id", None)]
        with session_scope() as session:
            ticket = lookup_ticket(session=session, scope=scope, number=number, email=email)
            if ticket is None:
                dispatcher.utter_message(response="utter_ticket_not_found", ticket_id=number)
                return [SlotSet("ticket_id", None), SlotSet("email", None)]
            dispatcher.utter_message(
                response="utter_ticket_status",
                ticket_id=ticket.number,
                subject=ticket.subject,
                status=str(ticket.status.value),
                updated_on=fmt_date(ticket.updated_at),
            )
        return [SlotSet("ticket_id", None)]


class ValidateOpenTicketForm(CrmFormValidation):
    """Collects a subject, a description and (for visitors) an email to answer to."""

    def name(self) -> str:
        """Name used in domain.yml."""
        return "validate_open_ticket_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        """A signed-in person with an email on file is answered there: skip asking."""
        if scope_from_tracker(tracker).email:
            return [slot for slot in domain_slots if slot != "email"]
        return domain_slots

    def validate_ticket_subject(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A few words, at most 200 characters."""
        subject = clean_text(value, 200)
        if subject is None:
            dispatcher.utter_message(response="utter_invalid_ticket_text")
        return {"ticket_subject": subject}

    def validate_ticket_description(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Some detail, at most 10,000 characters."""
        description = clean_text(value, 10_000)
        if description is None:
            dispatcher.utter_message(response="utter_invalid_ticket_text")
        return {"ticket_description": description}


class ActionOpenTicket(CrmAction):
    """Creates the ticket and tells the person its number."""

    def name(self) -> str:
        """Name used in domain.yml."""
        return "action_open_ticket"

    def handle(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Events:
        """Open the ticket as whoever is asking and reset the form's slots."""
        scope = scope_from_tracker(tracker)
        with session_scope() as session:
            ticket = open_ticket(
                session=session,
                scope=scope,
                subject=tracker.get_slot("ticket_subject") or "",
                description=tracker.get_slot("ticket_description") or "",
                email=parse_email(tracker.get_slot("email")),
            )
            dispatcher.utter_message(
                response="utter_ticket_opened",
                ticket_id=ticket.number,
                subject=ticket.subject,
                email=ticket.email or scope.email or "your email address",
            )
        return [SlotSet("ticket_subject", None), SlotSet("ticket_description", None)]
