"""Answers from the knowledge base, with the source cited and an honest "I don't know".

`retrieval.service.answer` does the searching and decides when to abstain (calibrated
confidence against a threshold fitted on held-out data); these actions only pick who may read
what and which response to send. Customers and anonymous visitors search `public` articles
only; staff (reps, agents, managers, admins) also search `internal` ones.
"""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.base import CrmAction, Events
from bot.actions.handoff import count_abstention, hand_over
from bot.actions.identity import scope_from_tracker
from crm_store.models import HandoffReason
from crm_store.scope import Scope
from retrieval.service import answer, snippet
from retrieval.types import Answer, Audience

# Set after every knowledge answer so the follow-up rules know whether a person was offered.
ABSTAINED_SLOT = "kb_abstained"


def audience_for(scope: Scope) -> Audience:
    """Staff read internal articles too; customers and visitors only public ones."""
    return Audience.internal if scope.is_staff else Audience.public


def ask_knowledge_base(tracker: Tracker) -> Answer:
    """Search the knowledge base with the latest message, as the person behind it may."""
    text = (tracker.latest_message or {}).get("text") or ""
    return answer(text, audience=audience_for(scope_from_tracker(tracker)).value)


def utter_answer(dispatcher: CollectingDispatcher, result: Answer) -> None:
    """Send the cited answer: the passage, the source's title and link, the confidence."""
    hit = result.citations[0]
    values = {
        "answer": snippet(hit),
        "title": hit.title,
        "confidence": f"{result.confidence:.0%}",
    }
    if hit.url:
        dispatcher.utter_message(response="utter_kb_answer", url=hit.url, **values)
    else:
        dispatcher.utter_message(response="utter_kb_answer_no_link", **values)


def confident(result: Answer) -> bool:
    """An answer worth giving: not abstained, and with a source to cite."""
    return not result.abstained and bool(result.citations)


class ActionAnswerQuestion(CrmAction):
    """A question for the help centre: answer it with a citation, or offer a person."""

    def name(self) -> str:
        """Name used in domain.yml."""
        return "action_answer_question"

    def handle(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Events:
        """Answer when confident; otherwise say we don't know and offer a human.

        The second "I don't know" in a row hands over without asking again.
        """
        result = ask_knowledge_base(tracker)
        if confident(result):
            utter_answer(dispatcher, result)
            return [SlotSet(ABSTAINED_SLOT, False)]
        if count_abstention(tracker):
            dispatcher.utter_message(response="utter_kb_dont_know_again")
            hand_over(dispatcher, tracker, HandoffReason.bot_abstained)
            return [SlotSet(ABSTAINED_SLOT, False)]  # nothing is offered: no yes/no follows
        dispatcher.utter_message(response="utter_kb_dont_know")
        return [SlotSet(ABSTAINED_SLOT, True)]


class ActionKnowledgeFallback(CrmAction):
    """A message the NLU could not classify: answer it only if the knowledge base is sure.

    Unclassified messages are often chit-chat or typos, so unless the knowledge base clears
    its threshold the reply is the usual "could you rephrase?" rather than "I don't know".
    """

    def name(self) -> str:
        """Name used in domain.yml."""
        return "action_knowledge_fallback"

    def handle(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Events:
        """Send a cited answer when confident, else `utter_default`.

        A second turn in a row the bot could not help with hands over to a person.
        """
        result = ask_knowledge_base(tracker)
        if confident(result):
            utter_answer(dispatcher, result)
        elif count_abstention(tracker):
            dispatcher.utter_message(response="utter_kb_dont_know_again")
            hand_over(dispatcher, tracker, HandoffReason.bot_abstained)
        else:
            dispatcher.utter_message(response="utter_default")
        return []
