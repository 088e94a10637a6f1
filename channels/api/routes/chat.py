"""Chat turns: the anonymous website visitor (POST and WebSocket) and the signed-in rep."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, WebSocket, WebSocketDisconnect
from pydantic import ValidationError

from channels.api.deps import CurrentRep, RasaDep, SettingsDep
from channels.config import Settings
from channels.errors import (
    DATABASE_DETAIL,
    INTERNAL_DETAIL,
    TurnRejectedError,
    describe_errors,
    is_database_outage,
    log_server_fault,
)
from channels.handoff.hub import ChatHub
from channels.handoff.resume import attach_socket, collect_pending
from channels.rasa_client import RasaClient
from channels.ratelimit import ChatLimiter, ChatLimiterDep, ClientAddress, RateLimitedError
from channels.schemas import SESSION_ID_PATTERN, ChatRequest, ChatResponse, ErrorFrame
from channels.turns import Speaker, run_turn
from crm_store import Scope
from crm_store.models import Channel

router = APIRouter(prefix="/chat", tags=["chat"])

_TURN_ERRORS = {
    400: {"description": "Malformed JSON"},
    422: {"description": "Blank or too long text, bad session id, missing fields"},
    503: {"description": "Rasa or the action server is down; the message was still stored"},
}
_LIMITED = {429: {"description": "Too many messages from this session or address; see Retry-After"}}


@router.post("/web", response_model=ChatResponse, responses={**_TURN_ERRORS, **_LIMITED})
async def web_chat(
    turn: ChatRequest,
    settings: SettingsDep,
    rasa: RasaDep,
    limiter: ChatLimiterDep,
    address: ClientAddress,
) -> ChatResponse:
    """Answer an anonymous website visitor (rate limited per session and per address)."""
    await limiter.enforce(session_id=turn.session_id, address=address)
    speaker = Speaker(channel=Channel.web, scope=Scope.anonymous())
    return await run_turn(turn=turn, speaker=speaker, settings=settings, rasa=rasa)


@router.post(
    "/rep",
    response_model=ChatResponse,
    responses={**_TURN_ERRORS, 401: {"description": "Missing, invalid or revoked token"}},
)
async def rep_chat(
    turn: ChatRequest, scope: CurrentRep, settings: SettingsDep, rasa: RasaDep
) -> ChatResponse:
    """Answer a signed-in rep, manager, support agent or admin."""
    speaker = Speaker(channel=Channel.rep, scope=scope)
    return await run_turn(turn=turn, speaker=speaker, settings=settings, rasa=rasa)


SessionQuery = Annotated[
    str | None,
    Query(
        description="The chat page's session id: resume it (pushes and waiting lines).",
        pattern=SESSION_ID_PATTERN,
    ),
]


@router.get(
    "/web/pending", response_model=ChatResponse, responses={422: _TURN_ERRORS[422], **_LIMITED}
)
async def web_chat_pending(
    session_id: Annotated[str, Query(pattern=SESSION_ID_PATTERN)],
    settings: SettingsDep,
    limiter: ChatLimiterDep,
    address: ClientAddress,
) -> ChatResponse:
    """Lines the visitor has not seen yet (agent replies, hand-back): for socket-less clients."""
    await limiter.enforce_poll(session_id=session_id, address=address)
    speaker = Speaker(channel=Channel.web, scope=Scope.anonymous())
    messages = await collect_pending(
        url=settings.database_url, speaker=speaker, session_id=session_id
    )
    return ChatResponse(session_id=session_id, messages=messages)


@router.websocket("/web/ws")
async def web_chat_socket(
    websocket: WebSocket,
    settings: SettingsDep,
    rasa: RasaDep,
    limiter: ChatLimiterDep,
    address: ClientAddress,
    session_id: SessionQuery = None,
) -> None:
    """The website chat over one WebSocket: a JSON frame in, a JSON frame out, plus pushes.

    A frame that cannot be answered gets an `ErrorFrame` with the status the same problem
    gets over POST (429 with `retry_after` when rate limited); the socket stays open so the
    visitor can simply try again. Once the socket is tied to a conversation (`?session_id=`
    on connect, or its first answered message), an agent's replies arrive unasked as
    `{"type": "push", "messages": [...]}` frames.
    """
    gate = _Gate(limiter, address)
    await websocket.accept()
    hub: ChatHub = websocket.app.state.chat_hub
    speaker = Speaker(channel=Channel.web, scope=Scope.anonymous())
    attached: set[str] = set()
    # Generous for JSON escaping of a maximal message, but bounded before parsing.
    max_frame_chars = settings.max_text_chars * 6 + 512
    try:
        if session_id and await _attach(hub, settings, speaker, session_id, websocket):
            attached.add(session_id)
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            frame = message.get("text")
            reply = await _answer_frame(frame, max_frame_chars, speaker, settings, rasa, gate)
            async with hub.socket_lock(websocket):
                await websocket.send_text(reply)
            turn_session = _session_of(reply)
            if turn_session and turn_session not in attached:
                await _attach(hub, settings, speaker, turn_session, websocket)
                attached.add(turn_session)
    except WebSocketDisconnect:
        return
    finally:
        hub.detach(websocket)


async def _attach(
    hub: ChatHub, settings: Settings, speaker: Speaker, session_id: str, websocket: WebSocket
) -> bool:
    conversation_id = await attach_socket(
        hub=hub, url=settings.database_url, speaker=speaker, session_id=session_id,
        socket=websocket,
    )  # fmt: skip
    return conversation_id is not None


def _session_of(reply: str) -> str | None:
    """The session id of a successful answer frame (errors have none)."""
    try:
        return ChatResponse.model_validate_json(reply).session_id
    except ValidationError:
        return None


class _Gate:
    """The rate limits one socket's frames pass, with the socket's client address."""

    def __init__(self, limiter: ChatLimiter, address: str | None) -> None:
        self.limiter = limiter
        self.address = address

    async def enforce(self, session_id: str) -> None:
        """Raise `RateLimitedError` when this frame must wait."""
        await self.limiter.enforce(session_id=session_id, address=self.address)


async def _answer_frame(
    frame: str | None,
    max_chars: int,
    speaker: Speaker,
    settings: Settings,
    rasa: RasaClient,
    gate: _Gate,
) -> str:
    """The JSON text to send back for one incoming frame."""
    if frame is None:
        return _error(400, "frames must be JSON text, not binary")
    if len(frame) > max_chars:
        return _error(413, "frame too large")
    try:
        turn = ChatRequest.model_validate_json(frame)
        await gate.enforce(turn.session_id)
        response = await run_turn(turn=turn, speaker=speaker, settings=settings, rasa=rasa)
    except ValidationError as exc:
        status, detail, _errors = describe_errors(exc.errors())
        return _error(status, detail)
    except RateLimitedError as exc:
        return _error(429, exc.detail, exc.retry_after_s)
    except TurnRejectedError as exc:
        return _error(exc.status, exc.detail)
    except Exception as exc:  # a server fault must not drop the visitor's socket
        log_server_fault(exc, "websocket /v1/chat/web/ws")
        if is_database_outage(exc):
            return _error(503, DATABASE_DETAIL)
        return _error(500, INTERNAL_DETAIL)
    return response.model_dump_json(exclude_none=True)


def _error(status: int, detail: str, retry_after: int | None = None) -> str:
    frame = ErrorFrame(status=status, detail=detail, retry_after=retry_after)
    return frame.model_dump_json(exclude_none=True)
