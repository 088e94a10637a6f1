"""The shared shape of our actions: run the blocking work off the event loop, never raise.

Database calls are synchronous (SQLAlchemy), so `CrmAction.run` hands `handle` to a worker
thread; the action server keeps serving other conversations meanwhile. Any error becomes a
polite "something went wrong" reply instead of an exception that Rasa would turn into a
silent failed turn.
"""

from __future__ import annotations

import asyncio
import logging
import time
from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from crm_store.log_context import CONVERSATION_ID, REQUEST_ID

logger = logging.getLogger(__name__)

Events = list[dict[str, Any]]


def reply_failure(dispatcher: CollectingDispatcher, kept: int, action: str) -> None:
    """Drop half-sent replies of a failed action and apologise once."""
    logger.exception("action %s failed", action)
    del dispatcher.messages[kept:]
    dispatcher.utter_message(response="utter_something_went_wrong")


def bind_turn_ids(tracker: Tracker) -> None:
    """Put the turn's request and conversation ids (from the API's metadata) in context."""
    crm = ((tracker.latest_message or {}).get("metadata") or {}).get("crm") or {}
    request_id, conversation_id = crm.get("request_id"), crm.get("conversation_id")
    REQUEST_ID.set(request_id if isinstance(request_id, str) else None)
    CONVERSATION_ID.set(conversation_id if isinstance(conversation_id, int) else None)


class CrmAction(Action, ABC):
    """An action whose `handle` may block on the database and may fail."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Events:
        """Run `handle` in a worker thread; on any error apologise and change nothing."""
        kept = len(dispatcher.messages)
        bind_turn_ids(tracker)  # log lines of this action carry the API's request id
        started = time.perf_counter()
        try:
            events = await asyncio.to_thread(self.handle, dispatcher, tracker, domain)
        except Exception:
            reply_failure(dispatcher, kept, self.name())
            return []
        logger.info(
            "action %s done in %.0f ms", self.name(), (time.perf_counter() - started) * 1000
        )
        return events

    @abstractmethod
    def handle(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Events:
        """Do the work synchronously and return the events to apply."""
