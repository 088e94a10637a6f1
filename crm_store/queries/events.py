"""Writing CRM events: call these inside the transaction of the change they describe.

The rules worker (`rules/`) reads the `crm_events` table; an event written here commits or
rolls back together with its change, so rules never act on something that did not happen.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from crm_store.errors import InvalidInputError
from crm_store.models import Account, Contact, Conversation, CrmEvent, utcnow

# Every event type the store or the scheduler writes; rules/ documents and triggers on these.
EVENT_TYPES = (
    "lead_created",
    "deal_stage_changed",
    "ticket_created",
    "task_created",
    "score_crossed",
    "negative_sentiment",
    "conversation_handed_over",
    "deal_idle",
    "renewal_due",
    "ticket_sla_due",
    "task_overdue",
)


def emit_event(
    *,
    session: Session,
    type: str,  # noqa: A002 - the event's own vocabulary
    subject_type: str,
    subject_id: int | None,
    account_id: int | None = None,
    payload: dict[str, Any] | None = None,
    occurred_at: datetime | None = None,
) -> CrmEvent:
    """Add one event to the session (no commit: it rides on the caller's transaction).

    Raises:
        InvalidInputError: an unknown event type.
    """
    if type not in EVENT_TYPES:
        raise InvalidInputError(f"unknown event type {type!r}")
    event = CrmEvent(
        type=type, subject_type=subject_type, subject_id=subject_id, account_id=account_id,
        payload=dict(payload or {}), occurred_at=occurred_at or utcnow(),
    )  # fmt: skip
    session.add(event)
    return event


def emit_event_once(
    *,
    session: Session,
    dedupe_key: str,
    type: str,  # noqa: A002
    subject_type: str,
    subject_id: int | None,
    account_id: int | None = None,
    payload: dict[str, Any] | None = None,
    occurred_at: datetime | None = None,
) -> bool:
    """Insert an event unless one with `dedupe_key` exists (scheduler ticks may repeat).

    Returns:
        True when this call wrote the event.
    """
    if type not in EVENT_TYPES:
        raise InvalidInputError(f"unknown event type {type!r}")
    values = {
        "type": type, "subject_type": subject_type, "subject_id": subject_id,
        "account_id": account_id, "payload": dict(payload or {}), "dedupe_key": dedupe_key,
        "status": "pending", "occurred_at": occurred_at or utcnow(),
    }  # fmt: skip
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = (
        dialect.insert(CrmEvent.__table__)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
    )
    # RETURNING tells the two cases apart on both databases (rowcount is -1 on psycopg here).
    return session.execute(stmt.returning(CrmEvent.id)).first() is not None


def _conversation_account(session: Session, conversation: Conversation) -> int | None:
    if conversation.contact_id is not None:
        contact = session.get(Contact, conversation.contact_id)
        return contact.account_id if contact else None
    return None


def record_conversation_handed_over(
    *, session: Session, conversation_id: int, reason: str = ""
) -> CrmEvent:
    """Record that a conversation was handed to a human (the handoff code calls this).

    Raises:
        InvalidInputError: the conversation does not exist.
    """
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise InvalidInputError(f"conversation {conversation_id} does not exist")
    return emit_event(
        session=session, type="conversation_handed_over", subject_type="conversation",
        subject_id=conversation_id, account_id=_conversation_account(session, conversation),
        payload={"reason": reason[:200], "channel": str(conversation.channel)},
    )  # fmt: skip


def record_negative_sentiment(
    *, session: Session, conversation_id: int, message_id: int | None, score: float
) -> CrmEvent:
    """Record a customer message that read as upset (`score` is the sentiment, below 0).

    Raises:
        InvalidInputError: the conversation does not exist.
    """
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise InvalidInputError(f"conversation {conversation_id} does not exist")
    return emit_event(
        session=session, type="negative_sentiment", subject_type="conversation",
        subject_id=conversation_id, account_id=_conversation_account(session, conversation),
        payload={"message_id": message_id, "score": float(score)},
    )  # fmt: skip


def crossed_bounds(
    previous: float | None, score: float, bounds: tuple[float, ...]
) -> list[tuple[float, str]]:
    """The bounds a score moved across, with the direction ("up" or "down")."""
    if previous is None:
        return [(b, "up") for b in bounds if score >= b]
    crossed = [(b, "up") for b in bounds if previous < b <= score]
    return crossed + [(b, "down") for b in bounds if score < b <= previous]


def record_score_crossed(
    *,
    session: Session,
    account_id: int,
    kind: str,
    previous: float | None,
    score: float,
    bounds: tuple[float, ...] = (0.5, 0.7, 0.9),
) -> list[CrmEvent]:
    """Record one event per bound the new score crossed (the scorer calls this on write).

    Args:
        kind: the model kind, e.g. "churn" or "lead_score".
        previous: the account's previous score of this kind, None for the first score.
        bounds: thresholds worth an event; crossing upwards and downwards both count.

    Raises:
        InvalidInputError: the account does not exist.
    """
    if session.scalars(select(Account.id).where(Account.id == account_id)).first() is None:
        raise InvalidInputError(f"account {account_id} does not exist")
    return [
        emit_event(
            session=session,
            type="score_crossed",
            subject_type="account",
            subject_id=account_id,
            account_id=account_id,
            payload={
                "kind": kind,
                "score": float(score),
                "previous": previous,
                "bound": bound,
                "direction": direction,
            },
        )  # fmt: skip
        for bound, direction in crossed_bounds(previous, score, bounds)
    ]


@dataclass(frozen=True, slots=True)
class ScoreChange:
    """An account's new score next to the score it replaces (for `record_score_crossings`).

    Attributes:
        previous: the score it replaces, None for the account's first score of this kind.
        previous_id: the `prediction_scores` row `previous` came from (None for the first).
    """

    account_id: int
    score: float
    previous: float | None = None
    previous_id: int | None = None


_CROSSINGS_CHUNK = 5_000


def record_score_crossings(
    *, session: Session, kind: str, changes: Iterable[ScoreChange], bounds: tuple[float, ...]
) -> int:
    """Record one event per bound each new score crossed, in bulk (for batch scorers).

    Each event's dedupe key names the account, the bound, the direction and the score row the
    crossing starts from, so one crossing is one event even when two scoring runs start from
    the same scores; a re-score at the same level crosses nothing and writes nothing.

    Returns:
        How many events this call wrote.
    """
    now = utcnow()
    rows = [
        {"type": "score_crossed", "subject_type": "account", "subject_id": change.account_id,
         "account_id": change.account_id, "status": "pending", "occurred_at": now,
         "payload": {"kind": kind, "score": float(change.score), "previous": change.previous,
                     "bound": bound, "direction": direction},
         "dedupe_key": f"score_crossed:{kind}:{change.account_id}:{bound:g}:{direction}:"
                       f"{change.previous_id if change.previous_id is not None else 'first'}"}
        for change in changes
        for bound, direction in crossed_bounds(change.previous, change.score, bounds)
    ]  # fmt: skip
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    written = 0
    for start in range(0, len(rows), _CROSSINGS_CHUNK):
        stmt = (
            dialect.insert(CrmEvent.__table__)
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(CrmEvent.id)
        )
        written += len(session.execute(stmt, rows[start : start + _CROSSINGS_CHUNK]).all())
    return written
