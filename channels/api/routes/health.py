"""Health of the API and what it depends on."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from channels.api.deps import RasaDep, SettingsDep
from channels.health import check_health
from channels.ratelimit import ChatLimiterDep
from channels.schemas import HealthPublic

router = APIRouter(prefix="/health", tags=["health"])


@router.get("", response_model=HealthPublic)
async def health(
    settings: SettingsDep,
    rasa: RasaDep,
    limiter: ChatLimiterDep,
    response: Response,
    strict: Annotated[
        bool, Query(description="Answer 503 instead of 200 when a component is down.")
    ] = False,
) -> HealthPublic:
    """Status of the API, Rasa, the action server, the database and Redis (when configured).

    Always 200 by default, so a dashboard can read which component is down; load balancers
    that only look at the status code should call `?strict=true`.
    """
    result = await check_health(settings, rasa, limiter)
    if strict and result.status != "ok":
        response.status_code = 503
    return result
