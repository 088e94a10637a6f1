"""Turn every failure into a JSON answer with a reason, and log server faults without PII.

FastAPI's default 422 lists errors with the offending `input` echoed back; for a 2,000
character chat message that is both noisy and a copy of customer text. Here the reason is a
single sentence in `detail` (what the pages show) plus the structured `errors` without inputs.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger(__name__)

UNAVAILABLE_DETAIL = "The assistant is unavailable right now, please try again shortly."
DATABASE_DETAIL = "The CRM database is unavailable right now, please try again shortly."
INTERNAL_DETAIL = "Internal error; it has been logged."


# Where a parameter came from; the field name alone reads better in a reason.
_SOURCES = frozenset({"body", "path", "query", "header", "cookie"})


class TurnRejectedError(Exception):
    """A chat turn that cannot be answered, with the HTTP status it maps to.

    Args:
        status: HTTP status (4xx for the client's fault, 503 when a dependency is down).
        detail: The reason, safe to show to the person chatting.
    """

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def describe_errors(errors: Iterable[dict[str, Any]]) -> tuple[int, str, list[dict[str, Any]]]:
    """Summarise Pydantic errors as (status, one-line reason, errors without inputs).

    Malformed JSON is a 400 (the body is not JSON at all); anything else is a 422.

    Args:
        errors: `exc.errors()` from a `RequestValidationError` or `ValidationError`.

    Returns:
        The status, a `"; "`-joined reason naming each field, and the cleaned errors.
    """
    cleaned, reasons, status = [], [], 422
    for error in errors:
        loc = [str(part) for part in error.get("loc", ()) if part not in _SOURCES]
        kind = error.get("type", "")
        if kind == "json_invalid":
            status = 400
            reasons.append("malformed JSON body")
        elif not loc and kind in ("missing", "model_attributes_type", "dict_type"):
            reasons.append("the body must be a JSON object with session_id and text")
        else:
            message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
            reasons.append(f"{'.'.join(loc) or 'body'}: {message}")
        cleaned.append({"loc": loc, "msg": reasons[-1], "type": kind})
    return status, "; ".join(dict.fromkeys(reasons)), cleaned


async def _validation_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    status, detail, errors = describe_errors(exc.errors())
    return JSONResponse(status_code=status, content={"detail": detail, "errors": errors})


async def _turn_rejected_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, TurnRejectedError)
    return JSONResponse(status_code=exc.status, content={"detail": exc.detail})


def log_server_fault(exc: BaseException, where: str) -> None:
    """Log an unexpected error's type and stack, but not its message.

    Database and validation messages embed SQL parameters and user text (PII), so only the
    frames are logged; they are enough to find the faulty line.
    """
    frames = "".join(traceback.format_tb(exc.__traceback__))
    logger.error("Unhandled %s in %s\n%s", type(exc).__name__, where, frames)


async def _database_handler(request: Request, exc: Exception) -> JSONResponse:
    log_server_fault(exc, f"{request.method} {request.url.path}")
    return JSONResponse(status_code=503, content={"detail": DATABASE_DETAIL})


class ServerFaultMiddleware:
    """Answer an unhandled exception with a JSON 500 and log it without its message.

    Starlette's own catch-all (`ServerErrorMiddleware`) re-raises after answering so the
    server can log it, and uvicorn's log line would carry the message, PII and all. This
    middleware sits inside it and stops the exception here.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app; on an escaped exception, log it and answer if nothing was sent."""
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] in ("http.response.start", "websocket.accept")
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            log_server_fault(exc, f"{scope.get('method', 'WS')} {scope.get('path', '?')}")
            if scope["type"] == "http" and not started:
                await JSONResponse(status_code=500, content={"detail": INTERNAL_DETAIL})(
                    scope, receive, send
                )
            elif scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1011})


def is_database_outage(exc: BaseException) -> bool:
    """True when `exc` means the database could not be reached (a 503, not a bug)."""
    return isinstance(exc, OperationalError | PoolTimeoutError)


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers and the catch-all middleware on `app`."""
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.add_exception_handler(TurnRejectedError, _turn_rejected_handler)
    app.add_exception_handler(OperationalError, _database_handler)
    app.add_exception_handler(PoolTimeoutError, _database_handler)
    app.add_middleware(ServerFaultMiddleware)
