"""Where a customer's message goes, decided after it is stored and before Rasa is asked.

- A person has the chat (handoff pending or claimed): the message is queued for the agent's
  Slack thread and not sent to the bot. The answer carries the agent lines not shown yet
  (often none) and `handoff: pending|claimed`; the page shows a "sent to the team" note.
- The bot just asked for a rating and the message is 1-5 (typed, or a button's payload): it
  is stored as the CSAT and thanked. Anything else clears the question and goes to the bot.
- On the website, a message that reads clearly upset (VADER compound <= SENTIMENT_HANDOFF_AT)
  records `negative_sentiment`, opens a handoff, and Rasa is asked `/human_handoff` instead of
  the text, so the bot's own wording ("a person is coming" or "the team is away") answers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.orm import Session

from channels.handoff import wording
from channels.handoff.delivery import as_bot_message
from channels.schemas import BotMessage
from crm_store.db import session_scope
from crm_store.models import Channel, Conversation, ConversationStatus, MessageSender
from crm_store.queries.conversations import append_message
from crm_store.queries.events import record_negative_sentiment
from crm_store.queries.handoffs import (
    clear_csat_request,
    mark_delivered,
    open_handoff,
    open_handoff_for_conversation,
    record_csat,
    record_customer_message_for_agent,
    undelivered_messages,
)
from predict.sentiment import analyze

# Clearly upset, not merely negative: ordinary requests about bad events ("my card was
# stolen", "the transfer failed") must still reach the bot. Measured (bench/handoff_sentiment.py):
# at -0.6, 1.4 % of 10,003 BANKING77 and 0.3 % of 18,200 CLINC150 requests would be handed
# over (-0.4, predict's UPSET_AT, hands over 7.4 % and 2.2 %); docs/handoff.md has the table.
SENTIMENT_HANDOFF_AT = -0.6
HANDOFF_INTENT = "/human_handoff"
_RATING_RE = re.compile(r"^\s*([1-5])\s*(?:/\s*5|stars?|out of 5)?\s*[.!]?\s*$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class StoredTurn:
    """The customer's message as committed: the handles routing needs."""

    conversation_id: int
    message_id: int
    sender_key: str
    channel: Channel


@dataclass(frozen=True, slots=True)
class Route:
    """The routing decision for one turn.

    Attributes:
        answer: set when the API answers without Rasa (handoff in progress, CSAT thanks).
        handoff: the handoff state for the answer (`pending` or `claimed`), if any.
        rasa_text: what to send Rasa instead of the customer's text, when not None.
        pending: lines for the customer that were waiting (agent replies, hand-back).
    """

    answer: list[BotMessage] | None = None
    handoff: str | None = None
    rasa_text: str | None = None
    pending: tuple[BotMessage, ...] = ()


def parse_rating(text: str) -> int | None:
    """A CSAT rating from "4", "4/5", "5 stars"; None for anything else."""
    match = _RATING_RE.match(text)
    return int(match.group(1)) if match else None


def _take_pending(session: Session, conversation_id: int) -> tuple[BotMessage, ...]:
    waiting = undelivered_messages(session=session, conversation_id=conversation_id)
    mark_delivered(session=session, message_ids=[m.id for m in waiting])
    return tuple(as_bot_message(m) for m in waiting)


def route_turn(url: str | None, stored: StoredTurn, text: str) -> Route:
    """Decide, in one transaction, whether the bot hears this message (see module doc)."""
    with session_scope(url) as session:
        conversation = session.get(Conversation, stored.conversation_id)
        assert conversation is not None  # the message was just stored in it
        pending = _take_pending(session, conversation.id)
        if conversation.status in (ConversationStatus.handoff_pending, ConversationStatus.human):
            handoff = open_handoff_for_conversation(
                session=session, conversation_id=conversation.id
            )
            if handoff is not None:
                record_customer_message_for_agent(
                    session=session, handoff_id=handoff.id, message_id=stored.message_id
                )
                state = "claimed" if conversation.status is ConversationStatus.human else "pending"
                return Route(answer=list(pending), handoff=state)
            conversation.status = ConversationStatus.bot  # no open handoff: the bot has it
        if conversation.csat_requested_at is not None:
            rating = parse_rating(text)
            if rating is not None:
                record_csat(session=session, conversation_id=conversation.id, rating=rating)
                thanks = append_message(
                    session=session, conversation_id=conversation.id, sender=MessageSender.bot,
                    text=wording.CSAT_THANKS,
                )  # fmt: skip
                return Route(answer=[*pending, BotMessage(text=thanks.text)])
            clear_csat_request(session=session, conversation_id=conversation.id)
        if stored.channel is Channel.web and _upset(session, stored, text):
            return Route(rasa_text=HANDOFF_INTENT, pending=pending)
        return Route(pending=pending)


def _upset(session: Session, stored: StoredTurn, text: str) -> bool:
    """Score the message; when clearly upset, record it and open a handoff."""
    compound = analyze(text).compound
    if compound > SENTIMENT_HANDOFF_AT:
        return False
    record_negative_sentiment(
        session=session, conversation_id=stored.conversation_id,
        message_id=stored.message_id, score=compound,
    )  # fmt: skip
    open_handoff(
        session=session, conversation_id=stored.conversation_id, reason="negative_sentiment"
    )
    return True
