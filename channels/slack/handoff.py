"""The Slack side of human handoff (docs/handoff.md, docs/slack.md "Handoffs").

- `handoff_opened` notifications become a thread in the support channel (transcript, the
  customer's context, Claim / Resolve buttons); the thread is recorded on the handoff.
- `handoff_customer_message` notifications are posted into that thread.
- Claim / Resolve buttons, `claim` / `resolve` (mention or `/crm`) and people's replies in a
  handoff thread go to `channels.handoff.relay`, which stores them and pushes them to the
  customer's web chat. Only linked support agents, managers and admins may act.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from channels.handoff.relay import relay_agent_reply, relay_claim, relay_resolve
from channels.slack.agent import Thread, linked_scope, unlinked_text
from channels.slack.handoff_blocks import CLAIM_ACTION, RESOLVE_ACTION, handoff_blocks, title
from channels.slack.mrkdwn import escape, to_plain
from channels.slack.notices import NotReadyError, Post, Posted, UndeliverableError
from crm_store import Role, Scope
from crm_store.db import session_scope
from crm_store.errors import CrmError, NotFoundError
from crm_store.models import Handoff, HandoffStatus, Message, User
from crm_store.queries.handoff_context import handoff_context
from crm_store.queries.handoff_queue import handoffs_claimed_by, waiting_handoffs
from crm_store.queries.handoffs import find_handoff_by_thread, get_handoff, set_slack_thread
from crm_store.queries.notifications import ClaimedNotification

log = logging.getLogger(__name__)

HANDOFF_ROLES = frozenset({Role.support_agent, Role.manager, Role.admin})
NOT_ALLOWED = "Only support agents, managers and admins can take customer handoffs."
FAILED = "Sorry, that did not work; it has been logged. Please try again."


class HandoffOpenedNotice:
    """`handoff_opened` (payload `handoff_id`, `conversation_id`, `away`?): the thread root."""

    def __init__(self, support_channel: str | None) -> None:
        self.support_channel = support_channel

    def render(self, session: Session, note: ClaimedNotification) -> Post:
        """The Block Kit message for the support channel."""
        if not self.support_channel:
            raise UndeliverableError("CRM_SLACK_SUPPORT_CHANNEL is not set: nowhere to post "
                                     "handoffs (set it, restart, then requeue)")  # fmt: skip
        try:
            ctx = handoff_context(session=session, handoff_id=int(note.payload["handoff_id"]))
        except (KeyError, ValueError, NotFoundError) as exc:
            raise UndeliverableError(f"no such handoff in the payload ({exc})") from None
        return Post(channel=self.support_channel, text=title(ctx), blocks=handoff_blocks(ctx))

    def after_post(self, session: Session, note: ClaimedNotification, posted: Posted) -> None:
        """Remember the thread, so customer messages and agent replies can find it."""
        set_slack_thread(session=session, handoff_id=int(note.payload["handoff_id"]),
                         channel=posted.channel, thread_ts=posted.ts)  # fmt: skip


class CustomerMessageNotice:
    """`handoff_customer_message` (payload `handoff_id`, `message_id`): into the thread."""

    def render(self, session: Session, note: ClaimedNotification) -> Post:
        """The customer's line, in the handoff's thread (retried until the thread exists)."""
        handoff = get_handoff(session=session, handoff_id=int(note.payload.get("handoff_id", 0)))
        message = session.get(Message, int(note.payload.get("message_id", 0)))
        if handoff is None or message is None:
            raise UndeliverableError("the handoff or the message no longer exists")
        if not handoff.slack_channel or not handoff.slack_thread_ts:
            raise NotReadyError("the handoff's Slack thread is not posted yet")
        return Post(channel=handoff.slack_channel, thread_ts=handoff.slack_thread_ts,
                    text=f"*Customer:* {escape(message.text)}")  # fmt: skip

    def after_post(self, session: Session, note: ClaimedNotification, posted: Posted) -> None:
        """Nothing to record."""


@dataclass(frozen=True, slots=True)
class HandoffRef:
    """A handoff's id, thread and state, safe to keep after its session closed."""

    id: int
    thread: Thread | None
    status: HandoffStatus = HandoffStatus.pending
    claimed_by_user_id: int | None = None

    def already(self, verb: str, user_id: int) -> bool:
        """True when `verb` would change nothing (a second click, a Slack retry)."""
        if verb == "claim":
            return self.status is HandoffStatus.claimed and self.claimed_by_user_id == user_id
        return self.status is HandoffStatus.resolved

    @classmethod
    def of(cls, handoff: Handoff) -> HandoffRef:
        """The reference of a loaded handoff."""
        thread = None
        if handoff.slack_channel and handoff.slack_thread_ts:
            thread = Thread(handoff.slack_channel, handoff.slack_thread_ts)
        return cls(handoff.id, thread, handoff.status, handoff.claimed_by_user_id)


class SlackHandoffs:
    """Claim, reply and resolve from Slack, for the handoffs of one API process.

    Args:
        app: the FastAPI app (the relay pushes to its open web-chat sockets).
        client: posts the thread notes and the private error notes.
        database_url: the CRM store.
    """

    def __init__(self, *, app: FastAPI, client: AsyncWebClient, database_url: str | None):
        self.app = app
        self.client = client
        self.database_url = database_url

    # --- claim / resolve (commands and buttons) -------------------------------------------

    async def claim(self, *, agent: Scope, handoff_id: int | None, where: Thread) -> str:
        """Claim a handoff: by id, else the one whose thread this is, else the only one waiting."""
        return await self._act("claim", agent, handoff_id, where)

    async def resolve(self, *, agent: Scope, handoff_id: int | None, where: Thread) -> str:
        """Resolve a handoff: by id, else this thread's, else the only one the agent holds."""
        return await self._act("resolve", agent, handoff_id, where)

    async def _act(self, verb: str, agent: Scope, handoff_id: int | None, where: Thread) -> str:
        if agent.role not in HANDOFF_ROLES or agent.user_id is None:
            return NOT_ALLOWED
        found = await run_in_threadpool(self._pick, verb, agent.user_id, handoff_id, where)
        if isinstance(found, str):
            return found
        relay = relay_claim if verb == "claim" else relay_resolve
        try:
            await relay(app=self.app, handoff_id=found.id, agent_user_id=agent.user_id)
        except CrmError as exc:
            return f"Could not {verb} handoff #{found.id}: {escape(exc)}"
        if not found.already(verb, agent.user_id):
            await self._thread_note(found, verb, agent)
            await self._refresh_root(found)
        if verb == "claim":
            return (f"You have handoff #{found.id}. Reply in its thread: your replies reach "
                    "the customer's chat.")  # fmt: skip
        return f"Handoff #{found.id} is resolved; the customer was asked for a rating."

    def _pick(self, verb: str, user_id: int, handoff_id: int | None, where: Thread
              ) -> HandoffRef | str:  # fmt: skip
        """The handoff meant, or the reply that explains why none could be picked."""
        with session_scope(self.database_url) as session:
            found = self._find(session, verb, user_id, handoff_id, where)
            return HandoffRef.of(found) if isinstance(found, Handoff) else found

    @staticmethod
    def _find(session: Session, verb: str, user_id: int, handoff_id: int | None, where: Thread
              ) -> Handoff | str:  # fmt: skip
        """The handoff by id, by thread, or the only candidate; else why not."""
        if handoff_id is not None:
            handoff = get_handoff(session=session, handoff_id=handoff_id)
            return handoff or f"There is no handoff #{handoff_id}."
        if where.thread_ts:
            handoff = find_handoff_by_thread(
                session=session, channel=where.channel, thread_ts=where.thread_ts
            )
            if handoff is not None:
                return handoff
        if verb == "claim":
            choices = waiting_handoffs(session=session)
            empty = "No handoff is waiting for an agent."
        else:
            choices = handoffs_claimed_by(session=session, user_id=user_id)
            empty = "You hold no open handoff."
        if len(choices) == 1:
            return choices[0]
        if not choices:
            return empty
        ids = ", ".join(f"#{h.id}" for h in choices)
        return f"Which one? Use `/crm {verb} <id>` (open: {ids}), or {verb} in its thread."

    async def _thread_note(self, handoff: HandoffRef, verb: str, agent: Scope) -> None:
        """Tell the team in the handoff's thread who took or closed it."""
        thread = handoff.thread
        if thread is None:
            return
        who = await run_in_threadpool(self._slack_id, agent.user_id)
        name = f"<@{who}>" if who else "An agent"
        text = (f"{name} claimed this handoff; their replies here reach the customer."
                if verb == "claim" else
                f"{name} resolved this handoff; the customer was asked for a rating.")  # fmt: skip
        try:
            await self.client.chat_postMessage(
                channel=thread.channel, thread_ts=thread.thread_ts, text=text
            )
        except Exception:  # the claim stands; the note is a courtesy
            log.exception("could not post the %s note for handoff %d", verb, handoff.id)

    async def _refresh_root(self, handoff: HandoffRef) -> None:
        """Show the new state on the thread's first message (no buttons once resolved)."""
        if handoff.thread is None:
            return

        def render() -> list[dict[str, Any]]:
            with session_scope(self.database_url) as session:
                return handoff_blocks(handoff_context(session=session, handoff_id=handoff.id))

        try:
            blocks = await run_in_threadpool(render)
            await self.client.chat_update(channel=handoff.thread.channel, blocks=blocks,
                                          ts=str(handoff.thread.thread_ts),
                                          text=f"Handoff #{handoff.id}")  # fmt: skip
        except Exception:  # the state is in the store; the message is a view of it
            log.exception("could not update the root message of handoff %d", handoff.id)

    def _slack_id(self, user_id: int | None) -> str | None:
        with session_scope(self.database_url) as session:
            user = session.get(User, user_id) if user_id else None
            return user.slack_user_id if user else None

    # --- buttons ----------------------------------------------------------------------------

    def register(self, app: AsyncApp) -> None:
        """Listen to the Claim and Resolve buttons of handoff threads."""

        async def on_button(ack: AsyncAck, body: dict[str, Any]) -> None:
            await ack()
            await self._button(body)

        app.action(CLAIM_ACTION)(on_button)
        app.action(RESOLVE_ACTION)(on_button)

    async def _button(self, body: dict[str, Any]) -> None:
        action = (body.get("actions") or [{}])[0]
        user = str((body.get("user") or {}).get("id") or "")
        channel = str((body.get("channel") or {}).get("id") or "")
        root_ts = str((body.get("message") or {}).get("ts") or "")
        verb = "claim" if action.get("action_id") == CLAIM_ACTION else "resolve"
        try:
            handoff_id = int(action.get("value") or "")
        except ValueError:
            return
        where = Thread(channel, root_ts or None)
        scope = await run_in_threadpool(self._scope, user)
        if scope is None:
            reply = unlinked_text(user)
        else:
            reply = await self._act(verb, scope, handoff_id, where)
        await self._private(channel, user, root_ts, reply)

    async def _private(self, channel: str, user: str, thread_ts: str | None, text: str) -> None:
        try:
            await self.client.chat_postEphemeral(channel=channel, user=user, text=text,
                                                 thread_ts=thread_ts or None)  # fmt: skip
        except Exception:
            log.exception("could not send a private note in Slack")

    def _scope(self, slack_user_id: str) -> Scope | None:
        with session_scope(self.database_url) as session:
            return linked_scope(session, slack_user_id)

    # --- replies in a handoff thread ----------------------------------------------------------

    async def on_thread_message(self, *, event: dict[str, Any]) -> None:
        """A person's reply in a thread: relayed to the customer when it is a handoff thread."""
        channel, thread_ts = str(event["channel"]), str(event["thread_ts"])
        handoff = await run_in_threadpool(self._by_thread, channel, thread_ts)
        if handoff is None:
            return  # an ordinary thread
        user = str(event.get("user") or "")
        scope = await run_in_threadpool(self._scope, user)
        problem = (unlinked_text(user) if scope is None
                   else NOT_ALLOWED if scope.role not in HANDOFF_ROLES else None)  # fmt: skip
        text = to_plain(str(event.get("text") or ""))
        if problem is None and scope is not None and scope.user_id is not None and text:
            problem = await self._relay_reply(handoff.id, scope.user_id, text)
        if problem:
            await self._private(channel, user, thread_ts,
                                f"Not sent to the customer. {problem}")  # fmt: skip

    async def _relay_reply(self, handoff_id: int, user_id: int, text: str) -> str | None:
        try:
            await relay_agent_reply(app=self.app, handoff_id=handoff_id,
                                    agent_user_id=user_id, text=text)  # fmt: skip
        except CrmError as exc:
            return escape(exc)
        except Exception:
            log.exception("relaying a Slack reply to handoff %d failed", handoff_id)
            return FAILED
        return None

    def _by_thread(self, channel: str, thread_ts: str) -> HandoffRef | None:
        with session_scope(self.database_url) as session:
            handoff = find_handoff_by_thread(session=session, channel=channel, thread_ts=thread_ts)
            return HandoffRef.of(handoff) if handoff is not None else None
