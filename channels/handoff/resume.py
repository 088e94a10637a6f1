"""Picking a web chat up again: find the conversation behind a browser's session id.

The chat page keeps its session id in localStorage, so a reload or a new tab continues the
same conversation; on (re)connect the agent lines that arrived meanwhile are shown.
"""

from __future__ import annotations

from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from channels.handoff.delivery import deliver_pending, take_undelivered
from channels.handoff.hub import ChatHub
from channels.schemas import BotMessage
from channels.turns import Speaker
from crm_store.db import session_scope
from crm_store.models import Conversation


def find_conversation_id(url: str | None, speaker: Speaker, session_id: str) -> int | None:
    """The conversation's id for this client session, or None before its first message."""
    with session_scope(url) as session:
        stmt = select(Conversation.id).where(
            Conversation.channel == speaker.channel,
            Conversation.external_id == speaker.conversation_key(session_id),
        )
        return session.scalars(stmt).first()


async def attach_socket(
    *, hub: ChatHub, url: str | None, speaker: Speaker, session_id: str, socket: object
) -> int | None:
    """Register the socket for its conversation's pushes and deliver what was waiting.

    Returns:
        The conversation id, or None when the session has no conversation yet.
    """
    conversation_id = await run_in_threadpool(find_conversation_id, url, speaker, session_id)
    if conversation_id is None:
        return None
    hub.attach(conversation_id, socket)  # type: ignore[arg-type]
    await deliver_pending(hub=hub, url=url, conversation_id=conversation_id)
    return conversation_id


async def collect_pending(
    *, url: str | None, speaker: Speaker, session_id: str
) -> list[BotMessage]:
    """For clients without a socket: the waiting lines, marked delivered as they are returned."""
    conversation_id = await run_in_threadpool(find_conversation_id, url, speaker, session_id)
    if conversation_id is None:
        return []
    return await run_in_threadpool(take_undelivered, url, conversation_id)
