"""`GET /metrics`: Prometheus text format, for the metrics token or an admin's API token."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection

from channels.api.deps import SettingsDep
from channels.metrics import StoreCollector, render
from crm_store import Role
from crm_store.db import session_scope
from crm_store.queries.users import authenticate_token

router = APIRouter(tags=["metrics"])
_bearer = HTTPBearer(auto_error=False, description="CRM_METRICS_TOKEN or an admin's token.")


def require_metrics_reader(
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """Let in Prometheus (the metrics token, compared in constant time) or an admin.

    Raises:
        HTTPException: 401 otherwise; the figures describe traffic and are not public.
    """
    token = credentials.credentials.strip() if credentials else ""
    expected = settings.metrics_token.get_secret_value() if settings.metrics_token else ""
    if token and expected and hmac.compare_digest(token.encode(), expected.encode()):
        return
    if token:
        with session_scope(settings.database_url) as session:
            user = authenticate_token(session=session, token=token)
            if user is not None and user.role == Role.admin:
                return
    raise HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail="The metrics need CRM_METRICS_TOKEN or an admin's token as a bearer token.",
        headers={"WWW-Authenticate": "Bearer"},
    )


def _collector(conn: HTTPConnection, settings: SettingsDep) -> StoreCollector:
    collector = getattr(conn.app.state, "store_metrics", None)
    if collector is None:
        collector = conn.app.state.store_metrics = StoreCollector(settings.database_url)
    return collector


@router.get(
    "/metrics",
    dependencies=[Depends(require_metrics_reader)],
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}}, 401: {"description": "No valid token"}},
)
async def metrics(store: Annotated[StoreCollector, Depends(_collector)]) -> Response:
    """Turn latency, NLU confidence, fallbacks, handoffs, rule firings, errors by kind."""
    body, content_type = await run_in_threadpool(render, store)
    return Response(content=body, media_type=content_type)
