"""One chat turn, whatever the channel: store, ask Rasa, store, answer.

The order is the contract (docs/spine.md): the user's message is committed before Rasa is
called, so a turn that fails on Rasa's side is still in the transcript; the bot's replies are
committed before the answer goes back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool

from channels.config import Settings
from channels.errors import UNAVAILABLE_DETAIL, TurnRejectedError
from channels.handoff.routing import StoredTurn, route_turn
from channels.rasa_client import AssistantUnavailableError, RasaClient
from channels.schemas import BotMessage, ChatRequest, ChatResponse
from crm_store import Scope
from crm_store.db import session_scope
from crm_store.models import Channel, MessageSender
from crm_store.queries.conversations import append_message, get_or_create_conversation


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
    if len(turn.text) > settings.max_text_chars:
        raise TurnRejectedError(
            422, f"text is too long: at most {settings.max_text_chars} characters"
        )
    text = turn.text.strip()
    stored = await run_in_threadpool(
        _store_user_message, settings.database_url, speaker, turn.session_id, text
    )
    # During a handoff the agent, not the bot, hears the message (channels/handoff/routing.py).
    route = await run_in_threadpool(route_turn, settings.database_url, stored, text)
    if route.answer is not None:
        return ChatResponse(
            session_id=turn.session_id, messages=route.answer, handoff=route.handoff
        )
    try:
        messages = await rasa.send_turn(
            sender=f"{speaker.channel}-{stored.sender_key}",
            text=route.rasa_text or text,
            identity=speaker.identity(stored.conversation_id),
        )
    except AssistantUnavailableError as exc:
        raise TurnRejectedError(503, UNAVAILABLE_DETAIL) from exc
    await run_in_threadpool(
        _store_bot_messages, settings.database_url, stored.conversation_id, messages
    )
    return ChatResponse(session_id=turn.session_id, messages=[*route.pending, *messages])


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


def _store_bot_messages(url: str | None, conversation_id: int, messages: list[BotMessage]) -> None:
    """Commit the bot's replies in order; buttons go in the message metadata."""
    with session_scope(url) as session:
        for message in messages:
            buttons = [button.model_dump() for button in message.buttons or []]
            append_message(
                session=session,
                conversation_id=conversation_id,
                sender=MessageSender.bot,
                text=message.text,
                metadata={"buttons": buttons} if buttons else None,
            )
