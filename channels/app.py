"""The channels API: `uvicorn channels.app:create_app --factory`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from channels.api.main import api_router
from channels.api.routes import metrics, pages, slack
from channels.config import Settings
from channels.errors import install_error_handlers
from channels.handoff.hub import ChatHub
from channels.handoff.sweep import sweep_forever
from channels.limits import BodySizeLimitMiddleware
from channels.rasa_client import RasaClient
from channels.ratelimit import ChatLimiter, install_rate_limits
from channels.request_ids import RequestIdMiddleware
from channels.slack.runtime import build_runtime
from crm_store.business_hours import check_configured
from crm_store.log_context import install_log_context, use_json_logs
from crm_store.log_redaction import install_log_redaction
from crm_store.production import require_production_secrets


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the API for `settings` (default: from `CRM_*` environment variables).

    Args:
        settings: Configuration; tests pass their own (database URL, Rasa address).

    Returns:
        The FastAPI application. Its Rasa client opens and closes with the app's lifespan,
        so run it under a server or `with TestClient(app)`.
    """
    settings = settings or Settings()
    require_production_secrets()  # CRM_ENV=production with a default secret: refuse to start
    # A typo in CRM_BUSINESS_HOURS stops the API now, not at the first handoff.
    check_configured()
    install_log_redaction()  # before anything logs: no PII in this process's logs
    install_log_context()  # request and conversation ids in every log line
    if settings.log_format == "json":
        use_json_logs()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.rasa = RasaClient(
            rasa_url=settings.rasa_url,
            action_server_url=settings.action_server_url,
            timeout_s=settings.rasa_timeout_s,
            probe_timeout_s=settings.probe_timeout_s,
        )
        app.state.limiter = ChatLimiter(settings)  # opened here: Redis binds to this loop
        if app.state.slack is not None:
            await app.state.slack.start()
        sweep = _start_push_sweep(app, settings)
        try:
            yield
        finally:
            if sweep is not None:
                sweep.cancel()
            if app.state.slack is not None:
                await app.state.slack.stop()
            await app.state.rasa.aclose()
            await app.state.limiter.aclose()

    app = FastAPI(
        title="CRM assistant API",
        version="1",
        description="Web chat, rep chat and scoped CRM lookups in front of the Rasa bot.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    # Open web-chat sockets by conversation, for agent replies pushed by the handoff relay.
    app.state.chat_hub = ChatHub()
    # None when CRM_SLACK_SIGNING_SECRET or CRM_SLACK_BOT_TOKEN is unset: /slack/* answer 503.
    app.state.slack = build_runtime(app)
    install_error_handlers(app)
    install_rate_limits(app)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestIdMiddleware)  # outermost: every response and log line has one
    app.include_router(api_router)
    app.include_router(pages.router)
    app.include_router(slack.router)
    app.include_router(metrics.router)
    app.mount("/static", StaticFiles(directory=pages.STATIC_DIR), name="static")
    return app


def _start_push_sweep(app: FastAPI, settings: Settings) -> asyncio.Task[None] | None:
    """Deliver handoff lines stored by other API processes to this process's sockets."""
    if settings.push_sweep_s <= 0:
        return None
    return asyncio.create_task(
        sweep_forever(
            hub=app.state.chat_hub, url=settings.database_url, interval_s=settings.push_sweep_s
        )
    )
