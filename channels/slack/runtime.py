"""The Slack adapter as one object the API holds: the Bolt app, its request handler, the Web
API client and the outbox deliverer, built from settings and started by the lifespan.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from fastapi import FastAPI
from slack_bolt.adapter.fastapi.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from channels.slack.agent import SlackAgent
from channels.slack.bolt_app import build_bolt_app
from channels.slack.deliver import Deliverer
from channels.slack.handoff import CustomerMessageNotice, HandoffOpenedNotice, SlackHandoffs
from channels.slack.notices import KindHandler, RuleNotice
from channels.slack.settings import SlackSettings
from crm_store.queries.handoffs import KIND_CUSTOMER_MESSAGE, KIND_OPENED

log = logging.getLogger(__name__)


def make_client(settings: SlackSettings) -> AsyncWebClient:
    """A Web API client for the bot token and `api_url`.

    The SDK's default retry handler re-sends after a dropped connection, which could post a
    notification twice; retries are the deliverer's decision (channels/slack/outcomes.py).
    """
    assert settings.bot_token is not None
    return AsyncWebClient(
        token=settings.bot_token.get_secret_value(),
        base_url=settings.api_url,
        timeout=settings.request_timeout_s,
        retry_handlers=[],
    )


def notice_kinds(settings: SlackSettings) -> dict[str, KindHandler]:
    """The notification kinds the deliverer knows, by `kind`."""
    return {
        "rule": RuleNotice(),
        KIND_OPENED: HandoffOpenedNotice(settings.support_channel),
        KIND_CUSTOMER_MESSAGE: CustomerMessageNotice(),
    }


@dataclass
class SlackRuntime:
    """Everything Slack needs while the API runs."""

    settings: SlackSettings
    client: AsyncWebClient
    bolt: AsyncApp
    handler: AsyncSlackRequestHandler
    deliverer: Deliverer
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start the deliverer in the background."""
        self._stop = asyncio.Event()  # of this loop: an app may be started more than once
        self._task = asyncio.create_task(self.deliverer.run_forever(self._stop))

    async def stop(self) -> None:
        """Let the current delivery pass finish (a cancelled post has an unknown outcome)."""
        if self._task is None:
            return
        self._stop.set()
        try:
            await asyncio.wait_for(self._task, self.settings.request_timeout_s + 5)
        except TimeoutError:
            log.warning("Slack deliverer did not stop in time; cancelled")
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None


def build_runtime(app: FastAPI) -> SlackRuntime | None:
    """The Slack runtime for the API `app`, or None (logged with the reason) when Slack is not
    configured. The handoff relay pushes through `app` (its settings and open chat sockets)."""
    settings, database_url = app.state.settings.slack, app.state.settings.database_url
    missing = settings.missing()
    if missing:
        log.info("Slack routes disabled: %s not set", " and ".join(missing))
        return None
    client = make_client(settings)
    handoffs = SlackHandoffs(app=app, client=client, database_url=database_url)
    agent = SlackAgent(database_url, handoffs=handoffs)
    bolt = build_bolt_app(settings=settings, client=client, agent=agent, relay=handoffs,
                          interactions=handoffs)  # fmt: skip
    deliverer = Deliverer(client=client, settings=settings, database_url=database_url,
                          kinds=notice_kinds(settings))  # fmt: skip
    return SlackRuntime(settings, client, bolt, AsyncSlackRequestHandler(bolt), deliverer)
