"""The Bolt app: which Slack request goes to which handler. Handlers stay thin.

- `app_mention` in a channel, `message` in a DM, `/crm`: an agent request (channels/slack/
  agent.py); the answer goes into the thread the request came from.
- `message` in a channel thread: handed to the thread relay (handoff threads), if any.
- anything else (other events, buttons, commands, shortcuts): acknowledged and ignored, so
  Slack does not retry it and Bolt does not log the unhandled payload.

Request signatures are verified before Bolt sees a request (channels/api/routes/slack.py),
so Bolt's own check is off: it would verify again, and on failure log the whole payload.
Retries are filtered by `skip_seen_events` before any listener runs.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from slack_bolt import BoltResponse
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient
from starlette.concurrency import run_in_threadpool

from channels.slack.agent import SlackAgent, Thread
from channels.slack.settings import SlackSettings
from crm_store.db import session_scope
from crm_store.errors import InvalidInputError
from crm_store.queries.slack_events import record_slack_event

log = logging.getLogger(__name__)

Event = dict[str, Any]


class ThreadRelay(Protocol):
    """Receives people's messages posted in channel threads (handoff threads)."""

    async def on_thread_message(self, *, event: Event) -> None:
        """Handle one human message that was posted inside a thread."""
        ...


class InteractionHandler(Protocol):
    """Registers button (Block Kit action) listeners on the app."""

    def register(self, app: AsyncApp) -> None:
        """Add this handler's `app.action(...)` listeners."""
        ...


def reply_thread(event: Event) -> str | None:
    """The thread to answer in: the event's thread, else its own message (in channels).

    A top-level DM is answered in the DM itself: a thread there would only hide the answer.
    """
    if event.get("thread_ts"):
        return str(event["thread_ts"])
    if event.get("channel_type") == "im":
        return None
    return str(event["ts"]) if event.get("ts") else None


# A thread reply also sent to the channel is still a person's message.
_PERSON_SUBTYPES = frozenset({None, "thread_broadcast"})


def from_a_person(event: Event) -> bool:
    """True for a message typed by a person (no bot, no edit, join or file notice)."""
    return (not event.get("bot_id") and event.get("subtype") in _PERSON_SUBTYPES
            and bool(event.get("user")))  # fmt: skip


def mentions(event: Event, bot_user_id: str | None) -> bool:
    """True when the message mentions the bot (the `app_mention` listener handles those)."""
    return bool(bot_user_id) and f"<@{bot_user_id}" in str(event.get("text") or "")


def make_dedupe(database_url: str | None) -> Callable[..., Awaitable[BoltResponse | None]]:
    """Bolt middleware: acknowledge an Events API request already seen, without processing.

    The event id is committed before any listener runs (insert-first), in the database
    rather than in memory, so a retry reaching another API worker is caught as well.
    """

    def first_time(event_id: str) -> bool:
        try:
            with session_scope(database_url) as session:
                return record_slack_event(session=session, event_id=event_id)
        except InvalidInputError:  # not an id Slack would send; nothing to de-duplicate on
            return True

    async def skip_seen_events(
        body: dict[str, Any],
        next: Callable[[], Awaitable[None]],  # noqa: A002 - Bolt's name
    ) -> BoltResponse | None:
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if isinstance(event_id, str) and not await run_in_threadpool(first_time, event_id):
            log.info("Slack event %s already received; acknowledged, not processed", event_id)
            return BoltResponse(status=200, body="")
        await next()
        return None

    return skip_seen_events


def build_bolt_app(
    *,
    settings: SlackSettings,
    client: AsyncWebClient,
    agent: SlackAgent,
    relay: ThreadRelay | None = None,
    interactions: InteractionHandler | None = None,
) -> AsyncApp:
    """The Bolt app with every listener registered.

    Args:
        settings: must be `enabled` (both secrets set).
        client: the Web API client (its `base_url` is Slack's, or a fake one in tests).
        agent: answers agent requests.
        relay: receives thread messages (handoff threads); None ignores them.
        interactions: registers button listeners (handoff Claim / Resolve); None for none.
    """
    assert settings.signing_secret is not None
    app = AsyncApp(
        client=client,
        signing_secret=settings.signing_secret.get_secret_value(),
        request_verification_enabled=False,  # done before Bolt, without logging payloads
        # Acknowledge first, then work: listeners run after the 200 is on its way.
        process_before_response=False,
        name="crm-assistant",
    )
    app.use(make_dedupe(agent.database_url))

    async def answer(event: Event, text: str, client: AsyncWebClient) -> None:
        where = Thread(channel=str(event["channel"]), thread_ts=reply_thread(event))
        reply = await agent.respond(slack_user_id=str(event["user"]), text=text, where=where)
        await client.chat_postMessage(
            channel=where.channel, thread_ts=where.thread_ts, text=reply, unfurl_links=False
        )

    @app.event("app_mention")
    async def on_mention(event: Event, client: AsyncWebClient) -> None:
        if from_a_person(event):
            await answer(event, str(event.get("text") or ""), client)

    @app.event("message")
    async def on_message(event: Event, client: AsyncWebClient, context: dict[str, Any]) -> None:
        if not from_a_person(event):
            return
        if event.get("channel_type") == "im":
            await answer(event, str(event.get("text") or ""), client)
        elif (
            event.get("thread_ts")
            and relay is not None
            and not mentions(event, context.get("bot_user_id"))
        ):
            await relay.on_thread_message(event=event)

    @app.command("/crm")
    async def on_crm(ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        where = Thread(channel=str(command.get("channel_id") or ""))
        reply = await agent.respond(
            slack_user_id=str(command["user_id"]), text=str(command.get("text") or ""),
            where=where,
        )  # fmt: skip
        await respond(text=reply, response_type="ephemeral")

    if interactions is not None:
        interactions.register(app)

    register_fallbacks(app)
    return app


def register_fallbacks(app: AsyncApp) -> None:
    """Answer every request no listener took (registered last, so they only catch the rest).

    Unanswered, an event would get a 404 and be retried by Slack, and Bolt would log the
    unhandled payload, which in a CRM is customer data.
    """
    anything = re.compile(".*")

    async def just_ack(ack: AsyncAck) -> None:
        await ack()

    async def unknown_command(ack: AsyncAck) -> None:
        await ack(text="I only know `/crm` (try `/crm help`).")

    async def other_event() -> None:
        """Events we are subscribed to but do not use still get their 200."""

    app.event(anything)(other_event)
    app.action(anything)(just_ack)
    app.command(anything)(unknown_command)
    app.shortcut(anything)(just_ack)
    app.view(anything)(just_ack)
    app.options(anything)(just_ack)
