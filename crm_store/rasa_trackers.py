"""Rasa's SQL tracker store, seen from the CRM: a person's dialogue events, for GDPR.

Rasa keeps every turn's raw text in its tracker store (in production a SQL database,
`bot/endpoints.production.yml`); the CRM's transcript is redacted but Rasa's copy is not.
Rasa owns the schema (`rasa.core.tracker_store.SQLTrackerStore.SQLEvent`, table `events`);
only the columns used here are declared. A conversation's events have sender id
`<channel>-<conversation.rasa_sender_id>` (docs/spine.md).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    func,
    inspect,
    or_,
    select,
    update,
)

from crm_store.models import Conversation
from crm_store.redaction import EMAIL

EVENTS = Table(
    "events",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255), nullable=False),
    Column("type_name", String(255), nullable=False),
    Column("data", Text),
)


def tracker_url() -> str | None:
    """`CRM_RASA_TRACKER_URL`: SQLAlchemy URL of Rasa's SQL tracker store, if any."""
    return os.environ.get("CRM_RASA_TRACKER_URL") or None


def sender_ids(conversations: Iterable[Conversation]) -> list[str]:
    """The Rasa sender ids of these conversations."""
    return sorted(f"{c.channel}-{c.rasa_sender_id}" for c in conversations)


def export_events(*, url: str, senders: list[str], email: str) -> list[dict[str, Any]]:
    """The tracker events of the senders, and any other event whose data quotes the email."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table("events"):
                return []
            rows = conn.execute(
                select(EVENTS).where(_condition(senders, email)).order_by(EVENTS.c.id)
            )
            return [_event(dict(r._mapping)) for r in rows]
    finally:
        engine.dispose()


def erase_events(*, url: str, senders: list[str], email: str) -> tuple[int, int]:
    """Delete the senders' events; mask the email in other senders' events (one transaction).

    Other conversations only quote the person (a rep asking about them): their dialogue
    state stays intact, without the address.

    Returns:
        (events deleted, events masked).
    """
    engine = create_engine(url)
    pattern = re.compile(re.escape(email), re.IGNORECASE)
    try:
        with engine.begin() as conn:
            if not inspect(conn).has_table("events"):
                return 0, 0
            deleted = 0
            if senders:
                deleted = conn.execute(
                    delete(EVENTS).where(EVENTS.c.sender_id.in_(senders))
                ).rowcount
            quoting = conn.execute(select(EVENTS.c.id, EVENTS.c.data).where(_condition([], email)))
            masked = 0
            for event_id, data in list(quoting):
                conn.execute(
                    update(EVENTS)
                    .where(EVENTS.c.id == event_id)
                    .values(data=pattern.sub(EMAIL, data))
                )
                masked += 1
            return deleted or 0, masked
    finally:
        engine.dispose()


def _condition(senders: list[str], email: str) -> Any:
    clauses = [func.lower(EVENTS.c.data).contains(email.lower())]
    if senders:
        clauses.append(EVENTS.c.sender_id.in_(senders))
    return or_(*clauses)


def _event(row: dict[str, Any]) -> dict[str, Any]:
    with contextlib.suppress(ValueError):  # else keep Rasa's text as it is
        row["data"] = json.loads(row["data"]) if row["data"] else None
    return row
