"""One chat turn, whatever the channel: store, ask Rasa, store, answer.

The order is the contract (docs/spine.md): the user's message is committed before Rasa is
called, so a turn that fails on Rasa's side is still in the transcript; the bot's replies are
committed before the answer goes back.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from starlette.concurrency import run_in_threadpool

from channels.config import Settings
from channels.errors import UNAVAILABLE_DETAIL, TurnRejectedError
from channels.handoff.routing import StoredTurn, route_turn
from channels.metrics import ERRORS, TURN_SECONDS, observe_nlu, observe_outcomes
from channels.rasa_client import AssistantUnavailableError, RasaClient, TurnReply
from channels.schemas import BotMessage, ChatRequest, ChatResponse
from crm_store import Scope
from crm_store.db import session_scope
from crm_store.log_context import CONVERSATION_ID, REQUEST_ID
from crm_store.models import Channel, Message, MessageSender
from crm_store.queries.conversations import append_message, get_or_create_conversation

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Speaker:
    """Who is talking, on which channel: the verified half of a turn."""

    channel: Channel
    scope: Scope

    def conversation_key(self, session_id: str) -> str:
        """The conversation's `external_id` for a client's session id.

        A signed-in user's sessions are namespaced by user id, so a rep who reuses (or
        guesses) another rep's session id gets a conversation of their own.
        """
        if self.scope.user_id is None:
            return session_id
        return f"user-{self.scope.user_id}:{session_id}"

    def identity(self, conversation_id: int) -> dict[str, Any]:
        """The `metadata.crm` object Rasa's actions trust (docs/spine.md, Identity)."""
        return {
            "role": str(self.scope.role),
            "user_id": self.scope.user_id,
            "team_id": self.scope.team_id,
            "contact_id": self.scope.contact_id,
            "email": self.scope.email,
            "channel": str(self.channel),
            "conversation_id": conversation_id,
            "request_id": REQUEST_ID.get(),
        }


async def run_turn(
    *, turn: ChatRequest, speaker: Speaker, settings: Settings, rasa: RasaClient
) -> ChatResponse:
    """Answer one message and keep the transcript.

    Args:
        turn: The validated request (session id and non-blank text).
        speaker: The verified channel and scope.
        settings: Limits and the database URL.
        rasa: The client for Rasa's REST webhook.

    Returns:
        The bot's replies for the client.

    Raises:
        TurnRejectedError: 422 when the text is too long; 503 when the assistant is down
            (the user's message is stored all the same).
    """
    started = time.perf_counter()
    outcome = "rejected"
    try:
        response = await _answer(turn=turn, speaker=speaker, settings=settings, rasa=rasa)
        outcome = "handoff" if response.handoff else "answered"
        return response
    except TurnRejectedError as exc:
        outcome = "unavailable" if exc.status == 503 else "rejected"
        if exc.status == 503:
            ERRORS.labels("assistant_unavailable").inc()
        raise
    except Exception:
        outcome = "error"
        ERRORS.labels("turn_internal").inc()
        raise
    finally:
        seconds = time.perf_counter() - started
        TURN_SECONDS.labels(str(speaker.channel), outcome).observe(seconds)
        # One line per turn, never the text: with the request and conversation ids (added to
        # every record) it is how a person follows a conversation through the logs.
        logger.info("turn %s on %s in %.0f ms", outcome, speaker.channel, seconds * 1000)


async def _answer(
    *, turn: ChatRequest, speaker: Speaker, settings: Settings, rasa: RasaClient
) -> ChatResponse:
    if len(turn.text) > settings.max_text_chars:
        raise TurnRejectedError(
            422, f"text is too long: at most {settings.max_text_chars} characters"
        )
    text = turn.text.strip()
    stored = await run_in_threadpool(
        _store_user_message, settings.database_url, speaker, turn.session_id, text
    )
    CONVERSATION_ID.set(stored.conversation_id)
    # During a handoff the agent, not the bot, hears the message (channels/handoff/routing.py).
    route = await run_in_threadpool(route_turn, settings.database_url, stored, text)
    if route.answer is not None:
        return ChatResponse(
            session_id=turn.session_id, messages=route.answer, handoff=route.handoff
        )
    try:
        reply = await rasa.ask(
            sender=f"{speaker.channel}-{stored.sender_key}",
            text=route.rasa_text or text,
            identity=speaker.identity(stored.conversation_id),
        )
    except AssistantUnavailableError as exc:
        raise TurnRejectedError(503, UNAVAILABLE_DETAIL) from exc
    observe_nlu(str(speaker.channel), reply.intent, reply.confidence)
    observe_outcomes(str(speaker.channel), [m.outcome for m in reply.messages])
    logger.info("nlu intent %s confidence %s", reply.intent, reply.confidence)
    await run_in_threadpool(_store_bot_messages, settings.database_url, stored, reply)
    return ChatResponse(session_id=turn.session_id, messages=[*route.pending, *reply.messages])


def _store_user_message(
    url: str | None, speaker: Speaker, session_id: str, text: str
) -> StoredTurn:
    """Commit the user's message; returns its ids and the conversation's Rasa sender key."""
    with session_scope(url) as session:
        conversation = get_or_create_conversation(
            session=session,
            channel=speaker.channel,
            external_id=speaker.conversation_key(session_id),
            user_id=speaker.scope.user_id,
        )
        message = append_message(
            session=session, conversation_id=conversation.id, sender=MessageSender.user, text=text
        )
        return StoredTurn(
            conversation_id=conversation.id,
            message_id=message.id,
            sender_key=conversation.rasa_sender_id,
            channel=speaker.channel,
        )


def _store_bot_messages(url: str | None, stored: StoredTurn, reply: TurnReply) -> None:
    """Commit the bot's replies in order (buttons and the outcome mark in their metadata), and
    what NLU understood of the user's message (its intent and confidence feed the fallback
    analytics)."""
    conversation_id = stored.conversation_id
    with session_scope(url) as session:
        if reply.intent is not None:
            session.execute(
                update(Message)
                .where(Message.id == stored.message_id)
                .values(intent=reply.intent, confidence=reply.confidence)
            )
        for message in reply.messages:
            append_message(
                session=session,
                conversation_id=conversation_id,
                sender=MessageSender.bot,
                text=message.text,
                metadata=bot_message_meta(message),
            )


def bot_message_meta(message: BotMessage) -> dict[str, Any]:
    """What a stored bot message keeps besides its text: buttons, and `outcome` when the bot
    fell back or abstained (the dashboard's fallback rate counts those)."""
    meta: dict[str, Any] = {}
    if message.buttons:
        meta["buttons"] = [button.model_dump() for button in message.buttons]
    if message.outcome:
        meta["outcome"] = message.outcome
    return meta
