"""Sales interest from the website: collect a few details and create a lead."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.base import CrmAction, Events
from bot.actions.forms import CrmFormValidation, clean_text
from bot.actions.identity import scope_from_tracker
from bot.actions.parsing import parse_email
from crm_store.db import session_scope
from crm_store.queries.leads import create_lead
from predict.service import score_new_lead

_NAME_PREFIX = re.compile(
    r"^\s*(?:hi,?\s*)?(?:my name is|my name's|name's|i am|i'm|im|this is|it's)\s+",
    re.IGNORECASE,
)
_COMPANY_PREFIX = re.compile(
    r"^\s*(?:i work (?:at|for)|we are|we're|i'm (?:at|with|from)|the company is|it's|from)\s+",
    re.IGNORECASE,
)
LEAD_SLOTS = ("name", "company", "need", "product")


def _strip_prefix(pattern: re.Pattern[str], value: Any) -> Any:
    return pattern.sub("", value, count=1) if isinstance(value, str) else value


class ValidateLeadForm(CrmFormValidation):
    """Collects name, email, company and need; the email is skipped when signed in."""

    def name(self) -> str:
        """Name used in domain.yml."""
        return "validate_lead_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        """Someone signed in is contacted at the email on file."""
        if scope_from_tracker(tracker).email:
            return [slot for slot in domain_slots if slot != "email"]
        return domain_slots

    def validate_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """ "my name is Jane Doe" → "Jane Doe"; at most 100 characters."""
        name = clean_text(_strip_prefix(_NAME_PREFIX, value), 100)
        if name is not None and not re.search(r"[^\W\d_]", name):
            name = None  # digits and punctuation only: not a name
        if name is None:
            dispatcher.utter_message(response="utter_invalid_name")
        return {"name": name}

    def validate_company(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """ "I work at Initech" → "Initech"; at least two characters."""
        text = _strip_prefix(_COMPANY_PREFIX, value)
        company = " ".join(text.split())[:200] if isinstance(text, str) else ""
        if len(company) < 2:
            dispatcher.utter_message(response="utter_invalid_company")
            return {"company": None}
        return {"company": company}

    def validate_need(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A sentence or two about what they are looking for."""
        need = clean_text(value, 5_000)
        if need is None:
            dispatcher.utter_message(response="utter_invalid_need")
        return {"need": need}


def with_product(need: str | None, product: str | None) -> str | None:
    """The need, naming the catalogue product the person mentioned if it does not already.

    "I'm interested in the label printer LP-4" opens the lead form; the answer to "what are
    you looking for?" may not repeat the product, so the sales rep would lose it.
    """
    if not product or (need and product.casefold() in need.casefold()):
        return need
    return f"{need} (product: {product})" if need else f"Product: {product}"


class ActionCreateLead(CrmAction):
    """Records the lead and thanks the person."""

    def name(self) -> str:
        """Name used in domain.yml."""
        return "action_create_lead"

    def handle(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Events:
        """Create the lead through `crm_store.queries.leads.create_lead`, then reset."""
        email = parse_email(tracker.get_slot("email")) or scope_from_tracker(tracker).email
        name = tracker.get_slot("name") or ""
        need = with_product(tracker.get_slot("need"), tracker.get_slot("product"))
        with session_scope() as session:
            lead = create_lead(
                session=session,
                name=name,
                email=email or "",
                company=tracker.get_slot("company"),
                need=need,
            )
            # Scored in the same transaction, so the `lead_created` event's rules (the hot-lead
            # starter rule reads `lead.score`) see the score when the worker picks it up.
            score_new_lead(session, lead.id)
            dispatcher.utter_message(
                response="utter_lead_created", name=lead.name, email=lead.email
            )
        return [SlotSet(slot, None) for slot in LEAD_SLOTS]
