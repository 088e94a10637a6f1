"""Deliver what waits for a customer (agent replies, hand-back lines) to their open sockets.

The store is the queue: a message for the customer is committed with `delivered: false`
first, then pushed; it is marked delivered only once a socket took it. A customer who is
offline therefore loses nothing, and sees it on reconnect or with the next turn's answer.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool

from channels.handoff.hub import ChatHub
from channels.schemas import BotMessage, Button, PushFrame
from crm_store.db import session_scope
from crm_store.models import Message
from crm_store.queries.handoffs import mark_delivered, undelivered_messages


def as_bot_message(message: Message) -> BotMessage:
    """The chat form of a stored message; agent lines carry the agent's name."""
    meta: dict[str, Any] = message.meta or {}
    buttons = [Button(**b) for b in meta.get("buttons") or []] or None
    return BotMessage(
        text=message.text, buttons=buttons, sender=message.sender.value,
        agent_name=meta.get("agent_name"), id=message.id,
    )  # fmt: skip


def load_undelivered(url: str | None, conversation_id: int) -> list[BotMessage]:
    """The messages still waiting for the customer, oldest first."""
    with session_scope(url) as session:
        pending = undelivered_messages(session=session, conversation_id=conversation_id)
        return [as_bot_message(m) for m in pending]


def confirm_delivered(url: str | None, message_ids: list[int]) -> None:
    """Mark messages as shown to the customer."""
    with session_scope(url) as session:
        mark_delivered(session=session, message_ids=message_ids)


def take_undelivered(url: str | None, conversation_id: int) -> list[BotMessage]:
    """Load and mark delivered in one go: for a turn's answer, which the client surely gets."""
    with session_scope(url) as session:
        pending = undelivered_messages(session=session, conversation_id=conversation_id)
        mark_delivered(session=session, message_ids=[m.id for m in pending])
        return [as_bot_message(m) for m in pending]


async def deliver_pending(*, hub: ChatHub, url: str | None, conversation_id: int) -> int:
    """Push every waiting message to the conversation's open sockets.

    Runs under the conversation's hub lock, so a reconnect and a relay racing each other
    push each message once.

    Returns:
        How many messages were delivered (0 when the customer is offline).
    """
    async with hub.lock(conversation_id):
        if not hub.is_online(conversation_id):
            return 0
        messages = await run_in_threadpool(load_undelivered, url, conversation_id)
        if not messages:
            return 0
        frame = PushFrame(messages=messages).model_dump_json(exclude_none=True)
        if await hub.send(conversation_id, frame) == 0:
            return 0
        ids = [m.id for m in messages if m.id is not None]
        await run_in_threadpool(confirm_delivered, url, ids)
        return len(messages)
