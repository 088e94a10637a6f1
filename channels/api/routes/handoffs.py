"""Handoffs for support staff over REST: the same actions as in Slack, without Slack.

A support agent (or manager, admin) lists open handoffs, reads one's context, claims it,
replies and resolves it; replies reach the customer's web chat through the same relay the
Slack adapter uses. Also what the integration tests drive in the real API process.
"""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from channels.api.deps import CurrentRep, SettingsDep
from channels.handoff.relay import relay_agent_reply, relay_claim, relay_resolve
from channels.schemas import MAX_ROW_ID
from crm_store import Role, Scope
from crm_store.db import session_scope
from crm_store.errors import ConflictError, CrmError, NotFoundError, PermissionDeniedError
from crm_store.models import Handoff
from crm_store.queries.handoffs import (
    HandoffContext,
    get_handoff,
    handoff_context,
    list_handoffs,
)

router = APIRouter(prefix="/handoffs", tags=["handoffs"])

AGENT_ROLES = frozenset({Role.support_agent, Role.manager, Role.admin})
_ERRORS = {
    401: {"description": "Missing, invalid or revoked token"},
    403: {"description": "Not a support agent, manager or admin"},
    404: {"description": "No such handoff"},
}


def get_current_agent(scope: CurrentRep) -> Scope:
    """The current user, who must answer customers: support agent, manager or admin.

    Raises:
        HTTPException: 403 for reps (they sell; support answers customers) and customers.
    """
    if scope.role not in AGENT_ROLES:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Handoffs are for support agents.")
    return scope


CurrentAgent = Annotated[Scope, Depends(get_current_agent)]
HandoffId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="The handoff's id.")]


class HandoffPublic(BaseModel):
    """A handoff's state."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    conversation_id: int
    reason: str
    status: str
    requested_at: datetime
    claimed_at: datetime | None
    claimed_by_user_id: int | None
    first_agent_reply_at: datetime | None
    resolved_at: datetime | None


class AgentReply(BaseModel):
    """What the agent writes to the customer (shown as plain text)."""

    text: str = Field(min_length=1, max_length=4000)


def _public(handoff: Handoff) -> HandoffPublic:
    return HandoffPublic.model_validate(handoff)


def _http_error(exc: CrmError) -> HTTPException:
    """The store's reason, with the status that fits it."""
    code = {
        ConflictError: status.HTTP_409_CONFLICT,
        NotFoundError: status.HTTP_404_NOT_FOUND,
        PermissionDeniedError: status.HTTP_403_FORBIDDEN,
    }.get(type(exc), 422)
    return HTTPException(code, str(exc))


def _read(url: str | None, handoff_id: int) -> HandoffPublic:
    with session_scope(url) as session:
        handoff = get_handoff(session=session, handoff_id=handoff_id)
        if handoff is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"handoff {handoff_id} not found")
        return _public(handoff)


async def _act(settings: SettingsDep, work: Awaitable[None], hid: int) -> HandoffPublic:
    """Run a relay call, mapping store errors to 4xx, and return the handoff's new state."""
    try:
        await work
    except CrmError as exc:
        raise _http_error(exc) from exc
    return await run_in_threadpool(_read, settings.database_url, hid)


@router.get("", response_model=list[HandoffPublic], responses=_ERRORS)
def read_handoffs(
    agent: CurrentAgent,
    settings: SettingsDep,
    state: Annotated[Literal["open", "pending", "claimed", "away", "resolved"], Query()] = "open",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[HandoffPublic]:
    """Handoffs in a state, oldest request first (`open` = pending, claimed or away)."""
    with session_scope(settings.database_url) as session:
        return [_public(h) for h in list_handoffs(session=session, state=state, limit=limit)]


@router.get("/{handoff_id}", response_model=HandoffContext, responses=_ERRORS)
def read_handoff_context(
    agent: CurrentAgent, settings: SettingsDep, handoff_id: HandoffId
) -> HandoffContext:
    """What the agent needs: transcript, customer, account, open orders and tickets, churn risk."""
    with session_scope(settings.database_url) as session:
        try:
            return handoff_context(session=session, handoff_id=handoff_id)
        except CrmError as exc:
            raise _http_error(exc) from exc


@router.post("/{handoff_id}/claim", response_model=HandoffPublic, responses={**_ERRORS, 409: {}})
async def claim(
    request: Request, agent: CurrentAgent, settings: SettingsDep, handoff_id: HandoffId
) -> HandoffPublic:
    """Take the handoff; the customer is told a person joined. 409 if another agent has it."""
    work = relay_claim(app=request.app, handoff_id=handoff_id, agent_user_id=agent.user_id)
    return await _act(settings, work, handoff_id)


@router.post("/{handoff_id}/reply", response_model=HandoffPublic, responses={**_ERRORS, 409: {}})
async def reply(
    request: Request, agent: CurrentAgent, settings: SettingsDep, handoff_id: HandoffId,
    body: AgentReply,
) -> HandoffPublic:  # fmt: skip
    """Send the customer a message (claims an unclaimed handoff)."""
    work = relay_agent_reply(
        app=request.app, handoff_id=handoff_id, agent_user_id=agent.user_id, text=body.text
    )
    return await _act(settings, work, handoff_id)


@router.post("/{handoff_id}/resolve", response_model=HandoffPublic, responses={**_ERRORS, 409: {}})
async def resolve(
    request: Request, agent: CurrentAgent, settings: SettingsDep, handoff_id: HandoffId
) -> HandoffPublic:
    """Hand the chat back to the bot, which asks the customer for a rating."""
    work = relay_resolve(app=request.app, handoff_id=handoff_id, agent_user_id=agent.user_id)
    return await _act(settings, work, handoff_id)
