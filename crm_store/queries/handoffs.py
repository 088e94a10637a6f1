"""Human handoff: the state machine behind "let me get you a person" (docs/handoff.md).

States: `pending` (waiting for an agent) → `claimed` (an agent has it) → `resolved` (the bot
has the conversation back). `away` is `pending` outside business hours: a ticket is opened,
the bot keeps talking, and an agent may still claim it later. Every change here also moves
the conversation's status, writes a system line into the one transcript, and (where Slack
must hear of it) adds a row to the notification outbox in the same transaction.

Callers: the bot's handoff action and the channels (open, CSAT), the Slack adapter and the
relay (claim, reply, resolve, thread). Agent functions take the agent's CRM user id, which
must be staff; a customer can never claim or answer a handoff.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from crm_store.business_hours import team_is_in
from crm_store.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from crm_store.models import (
    Conversation,
    ConversationStatus,
    Handoff,
    HandoffReason,
    HandoffStatus,
    Message,
    MessageSender,
    Notification,
    Role,
    User,
    utcnow,
)
from crm_store.models.enums import OPEN_HANDOFF_STATUSES
from crm_store.models.handoffs import OPEN_STATUSES_SQL
from crm_store.queries._common import normalize_email, require_text
from crm_store.queries.conversations import append_message
from crm_store.queries.events import record_conversation_handed_over
from crm_store.queries.handoff_context import (  # noqa: F401 - part of this module's API
    HandoffContext,
    OrderBrief,
    TicketBrief,
    TranscriptLine,
    handoff_context,
)
from crm_store.queries.handoff_tickets import open_away_ticket

SLACK = "slack"
KIND_OPENED = "handoff_opened"
KIND_CUSTOMER_MESSAGE = "handoff_customer_message"
MAX_AGENT_TEXT = 4000
# Managers and admins may resolve a handoff another agent claimed (stale claims happen).
_OVERRIDE_ROLES = (Role.manager, Role.admin)


def _insert(session: Session) -> Any:
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def _conversation(session: Session, conversation_id: int) -> Conversation:
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise NotFoundError(f"conversation {conversation_id} not found")
    return conversation


def _handoff(session: Session, handoff_id: int) -> Handoff:
    handoff = session.get(Handoff, handoff_id)
    if handoff is None:
        raise NotFoundError(f"handoff {handoff_id} not found")
    return handoff


def _agent(session: Session, agent_user_id: int) -> User:
    """The staff user acting on a handoff; customers and unknown ids are refused."""
    user = session.get(User, agent_user_id)
    if user is None or not user.is_active:
        raise NotFoundError(f"user {agent_user_id} not found")
    if Role(user.role) is Role.customer:
        raise PermissionDeniedError("handoffs are answered by staff only")
    return user


def _system_note(session: Session, conversation_id: int, text: str, **meta: Any) -> None:
    append_message(
        session=session, conversation_id=conversation_id, sender=MessageSender.system,
        text=text, metadata=meta or None,
    )  # fmt: skip


def _enqueue(session: Session, kind: str, payload: dict[str, Any], dedupe_key: str) -> bool:
    """Add one Slack notification unless one with `dedupe_key` exists; True when added."""
    stmt = (
        _insert(session)(Notification.__table__)
        .values(
            channel=SLACK,
            kind=kind,
            payload=payload,
            dedupe_key=dedupe_key,
            status="pending",
            attempts=0,
            next_attempt_at=utcnow(),
            created_at=utcnow(),
        )  # fmt: skip
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(Notification.id)
    )
    return session.execute(stmt).first() is not None


def get_handoff(*, session: Session, handoff_id: int) -> Handoff | None:
    """The handoff with this id, or None."""
    return session.get(Handoff, handoff_id)


def open_handoff_for_conversation(*, session: Session, conversation_id: int) -> Handoff | None:
    """The conversation's open handoff (pending, claimed or away), or None."""
    stmt = select(Handoff).where(
        Handoff.conversation_id == conversation_id, Handoff.status.in_(OPEN_HANDOFF_STATUSES)
    )
    return session.scalars(stmt).first()


def latest_handoff_for_conversation(*, session: Session, conversation_id: int) -> Handoff | None:
    """The conversation's most recent handoff in any state, or None."""
    stmt = (
        select(Handoff)
        .where(Handoff.conversation_id == conversation_id)
        .order_by(Handoff.id.desc())
        .limit(1)
    )
    return session.scalars(stmt).first()


def list_handoffs(*, session: Session, state: str = "open", limit: int = 50) -> list[Handoff]:
    """Handoffs in `state` (a status, or `open` for pending|claimed|away), oldest first.

    Raises:
        InvalidInputError: an unknown state.
    """
    if state == "open":
        statuses = list(OPEN_HANDOFF_STATUSES)
    else:
        try:
            statuses = [HandoffStatus(state)]
        except ValueError:
            raise InvalidInputError(f"unknown handoff state {state!r}") from None
    stmt = (
        select(Handoff)
        .where(Handoff.status.in_(statuses))
        .order_by(Handoff.requested_at, Handoff.id)
        .limit(max(1, min(limit, 500)))
    )
    return list(session.scalars(stmt))


def find_handoff_by_thread(*, session: Session, channel: str, thread_ts: str) -> Handoff | None:
    """The handoff posted as this Slack thread, or None."""
    stmt = select(Handoff).where(
        Handoff.slack_channel == channel, Handoff.slack_thread_ts == thread_ts
    )
    return session.scalars(stmt).first()


def _reason(reason: HandoffReason | str) -> HandoffReason:
    try:
        return HandoffReason(reason)
    except ValueError:
        raise InvalidInputError(
            f"unknown handoff reason {reason!r}: use one of {', '.join(HandoffReason)}"
        ) from None


def _insert_open(
    session: Session,
    conversation_id: int,
    reason: HandoffReason,
    away: bool,
    now: datetime,
    email: str | None,
) -> int | None:
    """INSERT ... ON CONFLICT DO NOTHING on the one-open-handoff index; the new id or None."""
    stmt = (
        _insert(session)(Handoff.__table__)
        .values(
            conversation_id=conversation_id, reason=reason.value, requested_at=now,
            status=(HandoffStatus.away if away else HandoffStatus.pending).value,
            customer_email=email,
        )
        # The predicate must be literal SQL: PostgreSQL infers the partial index from it when
        # the statement is parsed, and a prepared statement (psycopg prepares a statement
        # after 5 runs on a connection) would only have parameters there, and fail.
        .on_conflict_do_nothing(
            index_elements=["conversation_id"], index_where=text(OPEN_STATUSES_SQL)
        )
        .returning(Handoff.id)
    )  # fmt: skip
    row = session.execute(stmt).first()
    return None if row is None else int(row[0])


def open_handoff(
    *,
    session: Session,
    conversation_id: int,
    reason: HandoffReason | str,
    email: str | None = None,
    now: datetime | None = None,
) -> Handoff:
    """Hand the conversation to a person, once: idempotent while a handoff is open.

    Inside business hours the handoff is `pending` and the conversation `handoff_pending`
    (customer messages now go to the agent, not the bot). Outside them (`CRM_BUSINESS_HOURS`)
    it is `away`: the conversation stays with the bot, and a ticket is opened when the
    customer is known (signed in, or `email` given). Either way Slack gets one
    `handoff_opened` notification (payload `away: true` when away) and the rules engine one
    `conversation_handed_over` event.

    Args:
        reason: `customer_request`, `bot_abstained` or `negative_sentiment`.
        email: the address the customer gave the bot, if any (kept for the agent).
        now: the time of the request; default now (tests pass their own).

    Returns:
        The new handoff, or the one already open (its reason and state unchanged).

    Raises:
        NotFoundError: no such conversation.
        InvalidInputError: an unknown reason or a malformed email.
    """
    reason = _reason(reason)
    conversation = _conversation(session, conversation_id)
    address = normalize_email(email) if email else None
    now = now or utcnow()
    away = not team_is_in(now)
    existing = open_handoff_for_conversation(session=session, conversation_id=conversation_id)
    if existing is not None and not (existing.status is HandoffStatus.away and not away):
        if address and not existing.customer_email:
            existing.customer_email = address
        return existing
    if existing is not None:  # asked while away, asking again now that the team is in
        _supersede(session, existing, now)
        address = address or existing.customer_email
    new_id = _insert_open(session, conversation_id, reason, away, now, address)
    if new_id is None:  # a concurrent trigger won the race: theirs is the open one
        found = open_handoff_for_conversation(session=session, conversation_id=conversation_id)
        if found is None:
            raise ConflictError("handoff was opened and closed concurrently; try again")
        return found
    handoff = _handoff(session, new_id)
    _start(session, conversation, handoff, away)
    return handoff


def _supersede(session: Session, handoff: Handoff, now: datetime) -> None:
    """Close an unclaimed `away` handoff so a fresh one can reach the team that is now in.

    Its ticket stays open; no rating is asked (nobody talked to the customer).
    """
    handoff.status = HandoffStatus.resolved
    handoff.resolved_at = now
    _system_note(
        session, handoff.conversation_id,
        "Handoff requested outside business hours closed: asked again while the team is in",
        handoff_id=handoff.id,
    )  # fmt: skip
    session.flush()


def _start(session: Session, conversation: Conversation, handoff: Handoff, away: bool) -> None:
    """The side effects of a new handoff: status, transcript, event, ticket, notification."""
    conversation.abstain_streak = 0
    if not away:
        conversation.status = ConversationStatus.handoff_pending
    _system_note(
        session, conversation.id, f"Handoff requested ({handoff.reason.value})"
        + (", outside business hours" if away else ""), handoff_id=handoff.id,
    )  # fmt: skip
    record_conversation_handed_over(
        session=session, conversation_id=conversation.id, reason=handoff.reason.value
    )
    if away:
        ticket = open_away_ticket(session=session, conversation=conversation, handoff=handoff)
        handoff.ticket_id = ticket.id if ticket else None
    payload: dict[str, Any] = {"handoff_id": handoff.id, "conversation_id": conversation.id}
    if away:
        payload["away"] = True
    _enqueue(session, KIND_OPENED, payload, f"{KIND_OPENED}:{handoff.id}")
    session.flush()


def _claim_row(session: Session, handoff_id: int, agent_id: int, now: datetime) -> bool:
    """Atomically move pending/away → claimed; False when the row was not claimable."""
    stmt = (
        update(Handoff)
        .where(Handoff.id == handoff_id, Handoff.status.in_(
            [HandoffStatus.pending, HandoffStatus.away]
        ))
        .values(status=HandoffStatus.claimed, claimed_at=now, claimed_by_user_id=agent_id)
        .returning(Handoff.id)
        .execution_options(synchronize_session=False)
    )  # fmt: skip
    return session.execute(stmt).first() is not None


def claim_handoff(*, session: Session, handoff_id: int, agent_user_id: int) -> Handoff:
    """Give the handoff to one agent; the conversation becomes `human`.

    Safe when two agents press "claim" at once: the update is conditional, so exactly one
    wins. Claiming again by the same agent returns the handoff unchanged (Slack retries).

    Raises:
        NotFoundError: no such handoff or user.
        PermissionDeniedError: the user is not staff.
        ConflictError: another agent claimed it, or it is resolved.
    """
    handoff = _handoff(session, handoff_id)
    agent = _agent(session, agent_user_id)
    if not _claim_row(session, handoff_id, agent.id, utcnow()):
        session.refresh(handoff)
        if handoff.status is HandoffStatus.claimed and handoff.claimed_by_user_id == agent.id:
            return handoff
        raise _not_claimable(session, handoff)
    session.refresh(handoff)
    conversation = _conversation(session, handoff.conversation_id)
    conversation.status = ConversationStatus.human
    _system_note(
        session, conversation.id, f"{agent.name} joined the conversation.",
        handoff_id=handoff.id, agent_user_id=agent.id,
    )  # fmt: skip
    session.flush()
    return handoff


def _not_claimable(session: Session, handoff: Handoff) -> ConflictError:
    if handoff.status is HandoffStatus.resolved:
        return ConflictError(f"handoff {handoff.id} is already resolved")
    holder = session.get(User, handoff.claimed_by_user_id) if handoff.claimed_by_user_id else None
    name = holder.name if holder else "another agent"
    return ConflictError(f"handoff {handoff.id} is already claimed by {name}")


def resolve_handoff(*, session: Session, handoff_id: int, agent_user_id: int) -> Handoff:
    """Close the handoff: the bot takes the conversation back and asks for a CSAT rating.

    The claiming agent resolves; an unclaimed handoff may be resolved by any agent, and a
    manager or admin may resolve anyone's. Resolving twice returns the handoff unchanged.

    Raises:
        NotFoundError: no such handoff or user.
        PermissionDeniedError: the user is not staff.
        ConflictError: another agent holds the claim.
    """
    handoff = _handoff(session, handoff_id)
    agent = _agent(session, agent_user_id)
    if handoff.status is HandoffStatus.resolved:
        return handoff
    held_by_other = handoff.claimed_by_user_id not in (None, agent.id)
    if held_by_other and Role(agent.role) not in _OVERRIDE_ROLES:
        raise _not_claimable(session, handoff)
    now = utcnow()
    handoff.status = HandoffStatus.resolved
    handoff.resolved_at = now
    conversation = _conversation(session, handoff.conversation_id)
    conversation.status = ConversationStatus.bot
    conversation.csat_requested_at = now
    _system_note(
        session, conversation.id, f"{agent.name} handed the conversation back to the bot.",
        handoff_id=handoff.id, agent_user_id=agent.id,
    )  # fmt: skip
    session.flush()
    return handoff


def record_agent_reply(
    *, session: Session, handoff_id: int, agent_user_id: int, text: str
) -> Message:
    """Store an agent's message to the customer (not yet delivered: the relay pushes it).

    An agent who answers a handoff nobody claimed claims it by answering.

    Returns:
        The message (sender `agent`; meta: `handoff_id`, `agent_user_id`, `agent_name`,
        `delivered: false`).

    Raises:
        InvalidInputError: empty or over-long text.
        NotFoundError / PermissionDeniedError: as for `claim_handoff`.
        ConflictError: another agent holds the claim, or the handoff is resolved.
    """
    text = require_text(text, "reply", MAX_AGENT_TEXT)
    handoff = _handoff(session, handoff_id)
    agent = _agent(session, agent_user_id)
    if handoff.status is not HandoffStatus.claimed or handoff.claimed_by_user_id != agent.id:
        handoff = claim_handoff(session=session, handoff_id=handoff_id, agent_user_id=agent.id)
    message = append_message(
        session=session, conversation_id=handoff.conversation_id, sender=MessageSender.agent,
        text=text, metadata={
            "handoff_id": handoff.id, "agent_user_id": agent.id, "agent_name": agent.name,
            "delivered": False,
        },
    )  # fmt: skip
    if handoff.first_agent_reply_at is None:
        handoff.first_agent_reply_at = message.created_at
    session.flush()
    return message


def record_customer_message_for_agent(
    *, session: Session, handoff_id: int, message_id: int
) -> bool:
    """Queue a customer's message for the agent's Slack thread (once per message).

    Returns:
        True when this call queued it; False when it was queued before.

    Raises:
        NotFoundError: no such handoff or message.
        InvalidInputError: the message is not the customer's, in this handoff's conversation.
    """
    handoff = _handoff(session, handoff_id)
    message = session.get(Message, message_id)
    if message is None:
        raise NotFoundError(f"message {message_id} not found")
    if message.conversation_id != handoff.conversation_id or message.sender != MessageSender.user:
        raise InvalidInputError("only the customer's messages in this conversation are forwarded")
    return _enqueue(
        session, KIND_CUSTOMER_MESSAGE, {"handoff_id": handoff.id, "message_id": message.id},
        f"{KIND_CUSTOMER_MESSAGE}:{message.id}",
    )  # fmt: skip


def set_slack_thread(*, session: Session, handoff_id: int, channel: str, thread_ts: str) -> Handoff:
    """Remember the Slack thread the handoff was posted as (setting the same one is a no-op).

    Raises:
        NotFoundError: no such handoff.
        InvalidInputError: empty channel or timestamp.
        ConflictError: the handoff already has another thread, or the thread another handoff.
    """
    channel = require_text(channel, "channel", 40)
    thread_ts = require_text(thread_ts, "thread_ts", 40)
    handoff = _handoff(session, handoff_id)
    if (handoff.slack_channel, handoff.slack_thread_ts) == (channel, thread_ts):
        return handoff
    if handoff.slack_thread_ts is not None:
        raise ConflictError(f"handoff {handoff_id} is already posted as another thread")
    other = find_handoff_by_thread(session=session, channel=channel, thread_ts=thread_ts)
    if other is not None:
        raise ConflictError(f"thread {thread_ts} already belongs to handoff {other.id}")
    handoff.slack_channel, handoff.slack_thread_ts = channel, thread_ts
    session.flush()
    return handoff


def record_csat(*, session: Session, conversation_id: int, rating: int) -> Conversation:
    """Store the customer's satisfaction rating (1-5) on the conversation and its handoff.

    Raises:
        InvalidInputError: not an integer from 1 to 5.
        NotFoundError: no such conversation.
    """
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise InvalidInputError(f"a CSAT rating is a whole number from 1 to 5, not {rating!r}")
    conversation = _conversation(session, conversation_id)
    conversation.csat = rating
    conversation.csat_requested_at = None
    latest = latest_handoff_for_conversation(session=session, conversation_id=conversation_id)
    if latest is not None and latest.status is HandoffStatus.resolved:
        latest.csat = rating
    session.flush()
    return conversation


def clear_csat_request(*, session: Session, conversation_id: int) -> None:
    """Forget a pending CSAT question (the customer wrote something else instead)."""
    _conversation(session, conversation_id).csat_requested_at = None


def record_bot_abstention(*, session: Session, conversation_id: int) -> int:
    """Count a bot turn that answered "I don't know"; returns the consecutive count.

    Consecutive means the previous customer message was answered with "I don't know" too:
    any other turn in between breaks the streak, so two abstentions a day apart with an
    order lookup between them do not summon a person.

    Raises:
        NotFoundError: no such conversation.
    """
    conversation = _conversation(session, conversation_id)
    stmt = (
        select(Message.id)
        .where(Message.conversation_id == conversation_id, Message.sender == MessageSender.user)
        .order_by(Message.id.desc())
        .limit(2)
    )
    latest, *previous = list(session.scalars(stmt)) or [None]
    if latest is not None and conversation.last_abstained_message_id == latest:
        return conversation.abstain_streak  # the same turn counted twice (action retried)
    chained = bool(previous) and conversation.last_abstained_message_id == previous[0]
    conversation.abstain_streak = (conversation.abstain_streak or 0) + 1 if chained else 1
    conversation.last_abstained_message_id = latest
    session.flush()
    return conversation.abstain_streak


def _undelivered() -> Any:
    """SQL for "a line for the customer that no socket has shown yet" (meta delivered=false)."""
    return and_(
        Message.sender.in_([MessageSender.agent, MessageSender.bot]),
        Message.meta["delivered"].as_boolean().is_(False),
    )


def undelivered_messages(*, session: Session, conversation_id: int) -> list[Message]:
    """Messages for the customer that no open socket has shown yet, oldest first.

    These are agent replies and the bot's hand-back lines (meta `delivered: false`); the web
    chat shows them when the customer reconnects or sends the next message.
    """
    stmt = (
        select(Message)
        .where(Message.conversation_id == conversation_id, _undelivered())
        .order_by(Message.id)
        .limit(500)
    )
    return list(session.scalars(stmt))


def conversations_with_undelivered(*, session: Session, conversation_ids: list[int]) -> list[int]:
    """Which of these conversations have lines waiting for the customer (for the push sweep)."""
    if not conversation_ids:
        return []
    stmt = (
        select(Message.conversation_id)
        .where(Message.conversation_id.in_(conversation_ids), _undelivered())
        .distinct()
    )
    return list(session.scalars(stmt))


def mark_delivered(*, session: Session, message_ids: list[int]) -> None:
    """Record that these messages reached the customer's screen."""
    if not message_ids:
        return
    for message in session.scalars(select(Message).where(Message.id.in_(message_ids))):
        # A new dict: SQLAlchemy tracks JSON columns by assignment, not by mutation.
        message.meta = {**(message.meta or {}), "delivered": True}
    session.flush()


def queue_bot_message(
    *, session: Session, conversation_id: int, text: str, buttons: list[dict[str, str]] | None
) -> Message:
    """Store a bot line sent outside a chat turn (hand-back, CSAT question), to be pushed."""
    meta: dict[str, Any] = {"delivered": False}
    if buttons:
        meta["buttons"] = buttons
    return append_message(
        session=session, conversation_id=conversation_id, sender=MessageSender.bot, text=text,
        metadata=meta,
    )  # fmt: skip


__all__ = [
    "OPEN_STATUSES_SQL",
    "HandoffContext",
    "OrderBrief",
    "TicketBrief",
    "TranscriptLine",
    "claim_handoff",
    "clear_csat_request",
    "conversations_with_undelivered",
    "find_handoff_by_thread",
    "get_handoff",
    "handoff_context",
    "latest_handoff_for_conversation",
    "list_handoffs",
    "mark_delivered",
    "open_handoff",
    "open_handoff_for_conversation",
    "queue_bot_message",
    "record_agent_reply",
    "record_bot_abstention",
    "record_csat",
    "record_customer_message_for_agent",
    "resolve_handoff",
    "set_slack_thread",
    "undelivered_messages",
]
