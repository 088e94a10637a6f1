"""The notification outbox, seen from a deliverer: claim due rows, then record the outcome.

A row moves `pending` → `sending` (claimed, post in flight) → `sent`, or back to `pending`
with a later `next_attempt_at` after a failed attempt, or to `failed` when the deliverer gives
up. Claims are short transactions of their own, so no lock is held while Slack is called; on
PostgreSQL concurrent deliverers skip each other's rows (`FOR UPDATE SKIP LOCKED`), and on
both databases the claim is a compare-and-set on `status`, so a row is claimed once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from crm_store.errors import InvalidInputError, NotFoundError
from crm_store.models import Notification, NotificationStatus

MAX_ERROR_CHARS = 1000
UNKNOWN_OUTCOME = (
    "outcome unknown: the deliverer stopped while posting, so it may or may not have reached "
    "Slack; not re-sent automatically (check the channel, then `crm slack requeue ID`)"
)


@dataclass(frozen=True, slots=True)
class ClaimedNotification:
    """A notification this deliverer now owns until it records the outcome.

    Attributes:
        attempts: this attempt's number (1 for the first try).
    """

    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int


def claim_due_notifications(
    *, session: Session, channel: str, now: datetime, lease: timedelta, limit: int = 20
) -> list[ClaimedNotification]:
    """Claim up to `limit` pending rows of `channel` that are due, oldest first.

    Args:
        lease: how long the claim lasts; a row still `sending` after it belonged to a
            deliverer that died mid-post (see `fail_stale_notifications`).

    Returns:
        The rows claimed by this call (status `sending`, attempts counted), in id order.
    """
    due = (
        select(Notification.id)
        .where(
            Notification.channel == channel,
            Notification.status == NotificationStatus.pending,
            Notification.next_attempt_at <= now,
        )
        .order_by(Notification.id)
        .limit(max(1, limit))
        .with_for_update(skip_locked=True)  # PostgreSQL; SQLite has one writer anyway
    )
    claimed = []
    for row_id in session.scalars(due).all():
        stmt = (
            update(Notification)
            .where(Notification.id == row_id, Notification.status == NotificationStatus.pending)
            .values(
                status=NotificationStatus.sending,
                attempts=Notification.attempts + 1,
                next_attempt_at=now + lease,
            )
            .returning(Notification.id, Notification.kind, Notification.payload,
                       Notification.attempts)
        )  # fmt: skip
        got = session.execute(stmt).first()
        if got is not None:
            claimed.append(ClaimedNotification(got.id, got.kind, dict(got.payload or {}),
                                               int(got.attempts)))  # fmt: skip
    return claimed


def mark_notification_sent(*, session: Session, notification_id: int, now: datetime) -> bool:
    """Record a successful post; True when the row was still this deliverer's claim."""
    stmt = (
        update(Notification)
        .where(Notification.id == notification_id,
               Notification.status == NotificationStatus.sending)
        .values(status=NotificationStatus.sent, sent_at=now, last_error=None)
    )  # fmt: skip
    return bool(session.execute(stmt).rowcount)


def reschedule_notification(
    *, session: Session, notification_id: int, error: str, retry_at: datetime | None
) -> NotificationStatus:
    """Record a failed attempt: try again at `retry_at`, or give up when it is None.

    Returns:
        The row's new status (`pending` or `failed`).
    """
    status = NotificationStatus.failed if retry_at is None else NotificationStatus.pending
    values: dict[str, Any] = {"status": status, "last_error": error[:MAX_ERROR_CHARS]}
    if retry_at is not None:
        values["next_attempt_at"] = retry_at
    session.execute(
        update(Notification)
        .where(Notification.id == notification_id,
               Notification.status == NotificationStatus.sending)
        .values(**values)
    )  # fmt: skip
    return status


def fail_stale_notifications(*, session: Session, channel: str, now: datetime) -> int:
    """Mark `failed` the rows whose deliverer died mid-post (claim older than its lease).

    Such a post may have reached Slack; re-sending it could post twice, so a person decides
    (`UNKNOWN_OUTCOME` says how). This is the one window where delivery is at-most-once.

    Returns:
        How many rows were marked.
    """
    stmt = (
        update(Notification)
        .where(Notification.channel == channel,
               Notification.status == NotificationStatus.sending,
               Notification.next_attempt_at < now)
        .values(status=NotificationStatus.failed, last_error=UNKNOWN_OUTCOME)
    )  # fmt: skip
    return int(session.execute(stmt).rowcount or 0)


def requeue_notification(*, session: Session, notification_id: int, now: datetime) -> None:
    """Send a `failed` notification again from scratch (attempts reset).

    Raises:
        NotFoundError: no such notification.
        InvalidInputError: it is not `failed` (pending, in flight or already sent).
    """
    row = session.get(Notification, notification_id)
    if row is None:
        raise NotFoundError(f"notification {notification_id} not found")
    if row.status is not NotificationStatus.failed:
        raise InvalidInputError(f"notification {notification_id} is {row.status}, not failed")
    row.status, row.attempts, row.next_attempt_at = NotificationStatus.pending, 0, now
    session.flush()


def count_notifications(*, session: Session, channel: str) -> dict[str, int]:
    """How many rows of `channel` are in each status (every status listed, zeros included)."""
    stmt = (
        select(Notification.status, func.count(Notification.id))
        .where(Notification.channel == channel)
        .group_by(Notification.status)
    )
    counts = {status.value: 0 for status in NotificationStatus}
    counts.update({str(status): int(n) for status, n in session.execute(stmt).all()})
    return counts


def list_failed_notifications(
    *, session: Session, channel: str, limit: int = 20
) -> list[Notification]:
    """The most recent `failed` rows of `channel`, newest first, with their last error."""
    stmt = (
        select(Notification)
        .where(Notification.channel == channel, Notification.status == NotificationStatus.failed)
        .order_by(Notification.id.desc())
        .limit(max(1, limit))
    )
    return list(session.scalars(stmt))
