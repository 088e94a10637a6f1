"""Handing the conversation to a person.

For now the action records a system message on the CRM conversation so staff can see the
request; routing to an agent comes with the handoff feature in `channels/`.
"""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.base import CrmAction, Events
from bot.actions.identity import conversation_ref, scope_from_tracker
from crm_store.db import session_scope
from crm_store.queries.conversations import append_message, get_or_create_conversation

HANDOFF_NOTE = "Handoff requested: the person asked to talk to a human."


class ActionHumanHandoff(CrmAction):
    """Records the handoff request, then tells the person someone will join."""

    def name(self) -> str:
        """Name used in domain.yml."""
        return "action_human_handoff"

    def handle(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Events:
        """Append a system message to the conversation (created if the channel sent no id)."""
        conversation_id, channel, sender_id = conversation_ref(tracker)
        scope = scope_from_tracker(tracker)
        with session_scope() as session:
            if conversation_id is None:
                conversation_id = get_or_create_conversation(
                    session=session, channel=channel, external_id=sender_id, user_id=scope.user_id
                ).id
            append_message(
                session=session,
                conversation_id=conversation_id,
                sender="system",
                text=HANDOFF_NOTE,
                intent=(tracker.latest_message.get("intent") or {}).get("name"),
            )
        dispatcher.utter_message(response="utter_handoff")
        return []
