"""De-duplicating Slack's Events API retries: insert the event id first, then work.

Insert-first means a second delivery of the same event (Slack's retry, or the same request
reaching two API workers) loses the race on the primary key and is acknowledged without being
processed. The price is at-most-once processing: if the worker dies after the insert, Slack's
retry is not processed either. For chat replies that is the right trade (a lost answer can be
asked again; a doubled claim or a doubled relay to a customer cannot be taken back).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from crm_store.errors import InvalidInputError
from crm_store.models import SlackEventReceipt, utcnow

MAX_EVENT_ID_CHARS = 64


def record_slack_event(*, session: Session, event_id: str, now: datetime | None = None) -> bool:
    """Claim an Events API `event_id` for processing; commit before doing the work.

    Args:
        event_id: Slack's id of the event (`Ev...`), the same on every retry.
        now: receipt time (tests pass their own).

    Returns:
        True the first time this id is seen; False for a retry or a duplicate delivery.

    Raises:
        InvalidInputError: an empty or over-long id (not a real Slack event).
    """
    key = (event_id or "").strip()
    if not key or len(key) > MAX_EVENT_ID_CHARS:
        raise InvalidInputError("a Slack event_id is 1 to 64 characters")
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = (
        dialect.insert(SlackEventReceipt.__table__)
        .values(event_id=key, received_at=now or utcnow())
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(SlackEventReceipt.event_id)
    )
    # RETURNING tells "inserted" from "already there" on both databases.
    return session.execute(stmt).first() is not None


def prune_slack_events(*, session: Session, older_than: datetime) -> int:
    """Forget receipts older than `older_than` (Slack stops retrying after about an hour).

    Returns:
        How many receipts were deleted.
    """
    result = session.execute(
        delete(SlackEventReceipt).where(SlackEventReceipt.received_at < older_than)
    )
    return int(result.rowcount or 0)
