"""What every form validator shares: polite re-asks, a safe `run`, and the email check.

rasa-sdk finds validators by name (`validate_<slot>`), so each form class spells out one
method per required slot; `tests/bot/test_forms.py` checks that none is missing.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from bot.actions.base import Events, reply_failure
from bot.actions.parsing import parse_email

MIN_TEXT = 3


class CrmFormValidation(FormValidationAction, ABC):
    """A form validator that never raises: on an error it clears what it could not check."""

    @abstractmethod
    def name(self) -> str:
        """`validate_<form name>`, as listed in domain.yml."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Events:
        """Validate as rasa-sdk does; on any error apologise and reject this turn's values."""
        kept = len(dispatcher.messages)
        try:
            return await super().run(dispatcher, tracker, domain)
        except Exception:
            reply_failure(dispatcher, kept, self.name())
            return [SlotSet(slot, None) for slot in tracker.slots_to_validate()]

    def validate_email(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Keep the email found in the reply, or re-ask politely."""
        email = parse_email(value)
        if email is None:
            dispatcher.utter_message(response="utter_invalid_email")
        return {"email": email}


def clean_text(value: Any, max_len: int) -> str | None:
    """Stripped free text of at least `MIN_TEXT` characters, cut to `max_len`; else None."""
    if not isinstance(value, str):
        return None
    text = " ".join(value.split())
    return text[:max_len] if len(text) >= MIN_TEXT else None
