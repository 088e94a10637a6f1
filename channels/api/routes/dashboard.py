"""The rep console's dashboard: pipeline, churn risk, segments and conversation analytics."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from channels.api.deps import CurrentRep, SessionDep
from channels.console_schemas import DashboardPublic
from crm_store.queries.analytics import MAX_DAYS, dashboard

router = APIRouter(prefix="/dashboard", tags=["console"])


@router.get(
    "",
    response_model=DashboardPublic,
    responses={401: {"description": "Missing or invalid token"}, 403: {}, 422: {}},
)
def read_dashboard(
    session: SessionDep,
    scope: CurrentRep,
    days: Annotated[
        int, Query(ge=1, le=MAX_DAYS, description="Conversation analytics over the last N days.")
    ] = 30,
) -> DashboardPublic:
    """Figures over your accounts (a manager: the team's, per rep; an admin: everything)."""
    board = dashboard(session=session, scope=scope, days=days)
    return DashboardPublic.model_validate(board, from_attributes=True)
