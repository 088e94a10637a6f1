"""The agent's side of a handoff, as the Slack adapter calls it inside the API process.

Each function changes the store first (committed), then pushes what the customer should see
to their open web chat. If the customer is offline the lines wait in the store
(`delivered: false`) and are shown on reconnect. Store errors (`ConflictError` for a handoff
another agent holds, `NotFoundError`, `PermissionDeniedError`, `InvalidInputError`) propagate
unchanged so the caller can tell the agent why.

`app` is the FastAPI application: the functions read `app.state.settings` (database URL) and
`app.state.chat_hub` (open sockets).
"""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from channels.handoff import wording
from channels.handoff.delivery import deliver_pending
from channels.handoff.hub import ChatHub
from crm_store.db import session_scope
from crm_store.models import HandoffStatus, User
from crm_store.queries.handoffs import (
    claim_handoff,
    get_handoff,
    queue_bot_message,
    record_agent_reply,
    resolve_handoff,
)


def _hub(app: FastAPI) -> ChatHub:
    return app.state.chat_hub


def _url(app: FastAPI) -> str | None:
    return app.state.settings.database_url


def _claimed_by(session: Session, handoff_id: int, agent_user_id: int) -> bool:
    handoff = get_handoff(session=session, handoff_id=handoff_id)
    return (
        handoff is not None
        and handoff.status is HandoffStatus.claimed
        and handoff.claimed_by_user_id == agent_user_id
    )


def _announce(session: Session, conversation_id: int, agent_user_id: int) -> None:
    agent = session.get(User, agent_user_id)
    queue_bot_message(
        session=session, conversation_id=conversation_id, buttons=None,
        text=wording.AGENT_JOINED.format(name=agent.name if agent else "An agent"),
    )  # fmt: skip


def _store_reply(url: str | None, handoff_id: int, agent_user_id: int, text: str) -> int:
    """Store the reply; an agent answering an unclaimed handoff is announced first."""
    with session_scope(url) as session:
        handoff = get_handoff(session=session, handoff_id=handoff_id)
        if handoff is not None and not _claimed_by(session, handoff_id, agent_user_id):
            # Stored first so it shows first; a refused reply rolls it back with the rest.
            _announce(session, handoff.conversation_id, agent_user_id)
        message = record_agent_reply(
            session=session, handoff_id=handoff_id, agent_user_id=agent_user_id, text=text
        )
        return message.conversation_id


def _store_claim(url: str | None, handoff_id: int, agent_user_id: int) -> int:
    """Claim; on a first claim, queue "<agent> has joined" for the customer."""
    with session_scope(url) as session:
        announce = not _claimed_by(session, handoff_id, agent_user_id)
        handoff = claim_handoff(session=session, handoff_id=handoff_id, agent_user_id=agent_user_id)
        if announce:
            _announce(session, handoff.conversation_id, agent_user_id)
        return handoff.conversation_id


def _store_resolve(url: str | None, handoff_id: int, agent_user_id: int) -> int:
    """Resolve; on the first resolve, queue the hand-back line and the CSAT question."""
    with session_scope(url) as session:
        before = get_handoff(session=session, handoff_id=handoff_id)
        was_resolved = before is not None and before.status is HandoffStatus.resolved
        handoff = resolve_handoff(
            session=session, handoff_id=handoff_id, agent_user_id=agent_user_id
        )
        if not was_resolved:
            agent = session.get(User, agent_user_id)
            cid = handoff.conversation_id
            queue_bot_message(
                session=session, conversation_id=cid, buttons=None,
                text=wording.HANDBACK.format(name=agent.name if agent else "The agent"),
            )  # fmt: skip
            queue_bot_message(
                session=session, conversation_id=cid, text=wording.CSAT_QUESTION,
                buttons=wording.CSAT_BUTTONS,
            )  # fmt: skip
        return handoff.conversation_id


async def relay_agent_reply(
    *, app: FastAPI, handoff_id: int, agent_user_id: int, text: str
) -> None:
    """Store an agent's reply (claiming the handoff if nobody had) and push it to the customer.

    Raises:
        ConflictError: another agent holds the handoff, or it is resolved.
        InvalidInputError: empty or over-long text.
    """
    url = _url(app)
    conversation_id = await run_in_threadpool(_store_reply, url, handoff_id, agent_user_id, text)
    await deliver_pending(hub=_hub(app), url=url, conversation_id=conversation_id)


async def relay_claim(*, app: FastAPI, handoff_id: int, agent_user_id: int) -> None:
    """Claim the handoff for the agent and tell the customer a person has joined.

    Raises:
        ConflictError: another agent claimed it first, or it is resolved.
    """
    url = _url(app)
    conversation_id = await run_in_threadpool(_store_claim, url, handoff_id, agent_user_id)
    await deliver_pending(hub=_hub(app), url=url, conversation_id=conversation_id)


async def relay_resolve(*, app: FastAPI, handoff_id: int, agent_user_id: int) -> None:
    """Resolve the handoff: the bot takes the chat back and asks for a rating (buttons 1-5).

    Raises:
        ConflictError: another agent holds the handoff.
    """
    url = _url(app)
    conversation_id = await run_in_threadpool(_store_resolve, url, handoff_id, agent_user_id)
    await deliver_pending(hub=_hub(app), url=url, conversation_id=conversation_id)
