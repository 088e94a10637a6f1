"""Finishing a rep request that waited for an account ("Which one did you mean?")."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

# Imported so that every AccountRequest subclass is registered by intent.
from bot.actions import activities, automations, deals, predictions  # noqa: F401
from bot.actions.accounts import AccountRequest, ActionAccountSummary, clear_pending
from bot.actions.base import CrmAction, Events
from bot.actions.identity import scope_from_tracker


class ActionResumeAccountRequest(CrmAction):
    """Runs the waiting request (`pending_intent`) for the account just chosen.

    With nothing waiting, a rep who names an account gets its summary.
    """

    def name(self) -> str:
        """Name used in domain.yml."""
        return "action_resume_account_request"

    def handle(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Events:
        """Resume with the chosen account, or ask what to do with it."""
        account = next(tracker.get_latest_entity_values("account"), None)
        pending = AccountRequest.registry.get(tracker.get_slot("pending_intent") or "")
        scope = scope_from_tracker(tracker)
        if account is None:
            response = "utter_ask_account" if pending else "utter_anything_else"
            dispatcher.utter_message(response=response)
            return []
        if not scope.is_staff:
            # A customer naming a company outside a form: nothing to look up for them.
            dispatcher.utter_message(response="utter_anything_else")
            return clear_pending()
        if pending is None:
            # A bare account name from a rep most often means "tell me about it".
            return ActionAccountSummary().resolve_and_act(dispatcher, tracker, scope, account, "")
        text = tracker.get_slot("pending_text") or ""
        return pending().resolve_and_act(dispatcher, tracker, scope, account, text)
