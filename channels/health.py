"""Health of the API's dependencies, probed concurrently with short timeouts."""

from __future__ import annotations

import asyncio

from sqlalchemy import literal, select

from channels.config import Settings
from channels.rasa_client import RasaClient, summarize_replicas
from channels.ratelimit import ChatLimiter
from channels.schemas import ComponentHealth, HealthPublic
from crm_store.db import session_scope


async def check_health(
    settings: Settings, rasa: RasaClient, limiter: ChatLimiter | None = None
) -> HealthPublic:
    """Probe Rasa, the action server, the database and (when configured) Redis at once.

    Args:
        settings: Where the database is and how long a probe may take.
        rasa: The client that knows Rasa's and the action server's addresses.
        limiter: The chat limiter, whose Redis is reported when `CRM_REDIS_URL` is set.

    Returns:
        `ok` when every component is up, else `degraded`; `api` is `ok` by definition,
        since this code is running.
    """
    replicas, action_health, db_health, redis_health = await asyncio.gather(
        rasa.probe_rasa_replicas(),
        rasa.probe_action_server(),
        probe_database(settings),
        limiter.probe() if limiter else asyncio.sleep(0),
    )
    components = {
        "api": ComponentHealth(status="ok"),
        "rasa": summarize_replicas(replicas),
        "action_server": action_health,
        "database": db_health,
    }
    if len(replicas) > 1:  # one replica down leaves the service up, but degraded
        for number, health in enumerate(replicas.values(), start=1):
            components[f"rasa_replica_{number}"] = health
    if redis_health is not None:
        components["redis"] = redis_health
    degraded = any(c.status != "ok" for c in components.values())
    return HealthPublic(status="degraded" if degraded else "ok", components=components)


async def probe_database(settings: Settings) -> ComponentHealth:
    """Run `SELECT 1` in a worker thread, giving up after the probe timeout.

    Returns:
        `ok`, or `down` with the error's type (never its message, which may hold the URL).
    """
    try:
        await asyncio.wait_for(
            asyncio.to_thread(_select_one, settings.database_url), settings.probe_timeout_s
        )
    except TimeoutError:
        return ComponentHealth(status="down", detail="timed out")
    except Exception as exc:
        return ComponentHealth(status="down", detail=f"unreachable ({type(exc).__name__})")
    return ComponentHealth(status="ok")


def _select_one(url: str | None) -> None:
    with session_scope(url) as session:
        session.execute(select(literal(1))).scalar_one()
