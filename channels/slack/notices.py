"""How each kind of outbox notification becomes a Slack post.

A kind handler has two steps: `render` (read what it needs, decide where the post goes) and
`after_post` (record what Slack answered, e.g. the thread a handoff now lives in). Both run
inside a database transaction; `after_post` shares the one that marks the row sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.orm import Session

from channels.slack.mrkdwn import escape
from crm_store.models import User
from crm_store.queries.notifications import ClaimedNotification


class NotReadyError(Exception):
    """The post depends on something not there yet (a thread not posted); retry later."""


class UndeliverableError(Exception):
    """The notification can never be posted as it is (no destination, unknown kind)."""


@dataclass(frozen=True, slots=True)
class Post:
    """One `chat.postMessage`: where, the fallback text, and optional Block Kit blocks."""

    channel: str
    text: str
    blocks: list[dict[str, Any]] | None = None
    thread_ts: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Posted:
    """What Slack answered: the channel id (even when posted by `#name`) and the `ts`."""

    channel: str
    ts: str


class KindHandler(Protocol):
    """Turns one kind of notification into a post."""

    def render(self, session: Session, note: ClaimedNotification) -> Post:
        """The post for `note`.

        Raises:
            NotReadyError: try again later.
            UndeliverableError: give up now.
        """
        ...

    def after_post(self, session: Session, note: ClaimedNotification, posted: Posted) -> None:
        """Record what the post created."""
        ...


class RuleNotice:
    """`kind = "rule"` (docs/rules.md, Actions): a note to a room or to one person.

    The payload is `{"text", "room", "user_id", "slack_user_id", "email", "rule",
    "event_id"}`. A room ("#sales") gets the post in the channel; a person gets it in the
    app's DM, by the Slack id captured when the rule fired, else the one linked since.
    """

    def render(self, session: Session, note: ClaimedNotification) -> Post:
        """The note, with the rule's name as a small footer."""
        payload = note.payload
        text = str(payload.get("text") or "").strip()
        if not text:
            raise UndeliverableError("empty notification text")
        rule = payload.get("rule")
        body = escape(text) + (f"\n_rule: {escape(rule)}_" if rule else "")
        return Post(channel=self._destination(session, payload), text=body)

    def after_post(self, session: Session, note: ClaimedNotification, posted: Posted) -> None:
        """Nothing to record for a plain note."""

    @staticmethod
    def _destination(session: Session, payload: dict[str, Any]) -> str:
        room = payload.get("room")
        if isinstance(room, str) and room.strip():
            return room.strip()
        if payload.get("slack_user_id"):
            return str(payload["slack_user_id"])
        user = session.get(User, payload["user_id"]) if payload.get("user_id") else None
        if user is not None and user.slack_user_id:
            return user.slack_user_id
        who = payload.get("email") or payload.get("user_id") or "nobody"
        raise UndeliverableError(
            f"no Slack destination: no room, and {who} is not linked to Slack "
            "(crm users link-slack), then requeue"
        )
