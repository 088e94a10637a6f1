"""Who the bearer token belongs to: lets the rep page check a token when it is pasted."""

from __future__ import annotations

from fastapi import APIRouter

from channels.api.deps import CurrentUser
from channels.schemas import MePublic

router = APIRouter(prefix="/me", tags=["me"])


@router.get("", response_model=MePublic, responses={401: {}})
def read_me(scope: CurrentUser) -> MePublic:
    """The signed-in user's id, email, role and team."""
    return MePublic(
        user_id=scope.user_id, email=scope.email, role=str(scope.role), team_id=scope.team_id
    )
