"""One agent request from Slack, whatever the surface (DM, mention, `/crm`): who is asking,
what they asked, and the answer as mrkdwn.

The Slack user must be linked to a CRM user (`crm users link-slack`); every look-up then runs
with that user's scope. Blocking work (the database, the knowledge index) runs in a worker
thread so the event loop keeps acknowledging Slack within its 3 seconds.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.orm import Session

from channels.slack import lookups
from channels.slack.commands import HELP_TEXT, Action, Command, parse
from channels.slack.knowledge import search_knowledge
from channels.slack.mrkdwn import escape
from crm_store import Scope
from crm_store.db import session_scope
from crm_store.errors import CrmError
from crm_store.queries.users import get_user_by_slack_id

log = logging.getLogger(__name__)

FAILED = "Sorry, something went wrong on my side; it has been logged. Please try again."
NO_HANDOFFS = "Handoffs are not available here."


def unlinked_text(slack_user_id: str) -> str:
    """The polite reply to a Slack user who has no CRM user yet."""
    return (
        "I don't know who you are in the CRM yet, so I can't look anything up for you. "
        "Please ask an admin to link your Slack account:\n"
        f"`crm users link-slack --email <your CRM email> --slack-user {escape(slack_user_id)}`"
    )


@dataclass(frozen=True, slots=True)
class Thread:
    """Where a request was made: a channel and the thread (None for `/crm`, which has none)."""

    channel: str
    thread_ts: str | None = None


class HandoffCommands(Protocol):
    """Claiming and resolving handoffs from Slack (channels/slack/handoff.py)."""

    async def claim(self, *, agent: Scope, handoff_id: int | None, where: Thread) -> str:
        """Claim the handoff (by id, or the one whose thread this is); the reply."""
        ...

    async def resolve(self, *, agent: Scope, handoff_id: int | None, where: Thread) -> str:
        """Resolve the handoff; the reply."""
        ...


def linked_scope(session: Session, slack_user_id: str) -> Scope | None:
    """The scope of the active CRM user linked to this Slack member id, else None."""
    user = get_user_by_slack_id(session=session, slack_user_id=slack_user_id)
    return Scope.for_user(user) if user is not None else None


_LOOKUPS: dict[Action, Callable[[Session, Scope, str], str]] = {
    Action.who_is: lookups.who_is,
    Action.account: lookups.account,
    Action.open_tickets: lookups.open_tickets,
    Action.open_deals: lookups.open_deals,
    Action.order: lookups.order,
    Action.ticket: lookups.ticket,
}


class SlackAgent:
    """Answers agents' requests; shared by the event and command listeners.

    Args:
        database_url: the CRM store (None: crm_store's default).
        handoffs: claim/resolve support; None when no support channel is configured.
    """

    def __init__(self, database_url: str | None, handoffs: HandoffCommands | None = None):
        self.database_url = database_url
        self.handoffs = handoffs

    async def respond(self, *, slack_user_id: str, text: str, where: Thread) -> str:
        """The reply to one request; never raises (a failure is logged and apologised for)."""
        command = parse(text)
        if command.action is Action.help:
            return HELP_TEXT
        try:
            scope = await asyncio.to_thread(self._scope, slack_user_id)
            if scope is None:
                return unlinked_text(slack_user_id)
            return await self._run(command, scope, where)
        except Exception:
            log.exception("Slack request %s failed", command.action)
            return FAILED

    def _scope(self, slack_user_id: str) -> Scope | None:
        with session_scope(self.database_url) as session:
            return linked_scope(session, slack_user_id)

    async def _run(self, command: Command, scope: Scope, where: Thread) -> str:
        if command.action in (Action.claim, Action.resolve):
            return await self._handoff(command, scope, where)
        if command.action is Action.search:
            return await asyncio.to_thread(
                search_knowledge, command.arg, scope=scope, database_url=self.database_url
            )
        return await asyncio.to_thread(self._lookup, command, scope)

    def _lookup(self, command: Command, scope: Scope) -> str:
        with session_scope(self.database_url) as session:
            try:
                return _LOOKUPS[command.action](session, scope, command.arg)
            except lookups.AccountChoice as exc:  # already mrkdwn
                return str(exc)
            except CrmError as exc:
                return escape(str(exc))

    async def _handoff(self, command: Command, scope: Scope, where: Thread) -> str:
        if self.handoffs is None:
            return NO_HANDOFFS
        handoff_id = int(command.arg) if command.arg else None
        if command.action is Action.claim:
            return await self.handoffs.claim(agent=scope, handoff_id=handoff_id, where=where)
        return await self.handoffs.resolve(agent=scope, handoff_id=handoff_id, where=where)
