"""Named dependencies, so route signatures read like a sentence.

`CurrentUser` / `CurrentRep` are the verified `Scope` of the bearer token's user. They
authenticate in a short transaction of their own: a chat route then waits seconds on Rasa,
and holding a session (on SQLite, possibly a write lock) for that long would stall others.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session
from starlette.requests import HTTPConnection

from channels.config import Settings
from channels.rasa_client import RasaClient
from crm_store import Role, Scope
from crm_store.db import session_scope
from crm_store.queries.users import authenticate_token

STAFF_ROLES = frozenset({Role.rep, Role.manager, Role.support_agent, Role.admin})

_bearer = HTTPBearer(auto_error=False, description="An API token from `crm users create`.")


def get_settings(conn: HTTPConnection) -> Settings:
    """The settings the app was created with."""
    return conn.app.state.settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_rasa(conn: HTTPConnection) -> RasaClient:
    """The shared Rasa client, opened by the app's lifespan."""
    return conn.app.state.rasa


RasaDep = Annotated[RasaClient, Depends(get_rasa)]


def get_session(settings: SettingsDep) -> Iterator[Session]:
    """A session for one request; commits on success, rolls back on error."""
    with session_scope(settings.database_url) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail=detail,
        headers={"WWW-Authenticate": "Bearer"},
    )


def get_current_user(
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Scope:
    """Authenticate `Authorization: Bearer TOKEN` and return the user's scope.

    Raises:
        HTTPException: 401 when the header is missing or the token is unknown or revoked.
    """
    if credentials is None or not credentials.credentials.strip():
        raise _unauthorized("Missing bearer token: send 'Authorization: Bearer <token>'.")
    with session_scope(settings.database_url) as session:
        user = authenticate_token(session=session, token=credentials.credentials.strip())
        if user is None:
            raise _unauthorized("Invalid or revoked token.")
        return Scope.for_user(user)


CurrentUser = Annotated[Scope, Depends(get_current_user)]


def get_current_rep(scope: CurrentUser) -> Scope:
    """The current user, who must be staff (rep, manager, support agent or admin).

    Raises:
        HTTPException: 403 for a customer's token.
    """
    if scope.role not in STAFF_ROLES:
        raise HTTPException(
            status_code=status.HTTP_403_FORBIDDEN,
            detail="This endpoint is for staff (rep, manager, support agent or admin).",
        )
    return scope


CurrentRep = Annotated[Scope, Depends(get_current_rep)]
