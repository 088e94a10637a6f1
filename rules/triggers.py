"""What each trigger offers a rule: the records it touches, their fields and their types.

The condition checker and the template checker read this, so `deal.amout` in a rule about
deals is reported when the file loads, not when the first deal goes stale.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, Enum, Float, Integer, Numeric, String, Text
from sqlalchemy.orm import DeclarativeBase

from crm_store.models import Account, Conversation, Deal, Lead, Task, Ticket
from crm_store.queries.events import EVENT_TYPES
from rules.expr import ANY, BOOL, DATETIME, NUMBER, STRING

RECORD_MODELS: dict[str, type[DeclarativeBase]] = {
    "lead": Lead, "deal": Deal, "ticket": Ticket, "task": Task,
    "conversation": Conversation, "account": Account,
}  # fmt: skip


@dataclass(frozen=True)
class Trigger:
    """An event type as rules see it.

    Attributes:
        name: the event type (`crm_events.type`).
        subject: the record the event is about ("deal", "ticket", ...).
        payload: the event's own fields (`event.<name>`) and their types.
        param: the scheduler parameter a time trigger takes ("days", "hours"), else None.
        summary: one line for the docs and `crm rules validate`.
    """

    name: str
    subject: str
    payload: dict[str, str]
    summary: str
    param: str | None = None

    @property
    def roots(self) -> tuple[str, ...]:
        """The records a condition may read: the event, the subject and its account."""
        return tuple(dict.fromkeys(("event", self.subject, "account")))


_TRIGGERS = (
    Trigger("lead_created", "lead", {"source": STRING}, "a lead was captured"),
    Trigger("deal_stage_changed", "deal", {"from_stage": STRING, "to_stage": STRING},
            "a deal moved to another stage"),
    Trigger("ticket_created", "ticket", {"priority": STRING}, "a support ticket was opened"),
    Trigger("task_created", "task", {"source": STRING},
            "a task was created by a person or the bot"),
    Trigger("score_crossed", "account",
            {"kind": STRING, "score": NUMBER, "previous": NUMBER, "bound": NUMBER,
             "direction": STRING},
            "a prediction score (churn, lead_score...) crossed a bound"),
    Trigger("negative_sentiment", "conversation", {"message_id": NUMBER, "score": NUMBER},
            "a customer message in chat read as upset"),
    Trigger("conversation_handed_over", "conversation", {"reason": STRING, "channel": STRING},
            "a conversation was handed to a human"),
    Trigger("deal_idle", "deal", {"days": NUMBER}, "an open deal had no activity for N days",
            param="days"),
    Trigger("renewal_due", "deal", {"days": NUMBER},
            "an open deal's close (renewal) date is N days away or less", param="days"),
    Trigger("ticket_sla_due", "ticket", {"hours": NUMBER},
            "an open ticket's SLA deadline is N hours away or less", param="hours"),
    Trigger("task_overdue", "task", {}, "an open task passed its due date"),
)  # fmt: skip
TRIGGERS: dict[str, Trigger] = {t.name: t for t in _TRIGGERS}
assert set(TRIGGERS) == set(EVENT_TYPES), "every stored event type needs a trigger"


def _column_type(column_type: Any) -> str:
    if isinstance(column_type, Boolean):
        return BOOL
    if isinstance(column_type, Integer | Numeric | Float):
        return NUMBER
    if isinstance(column_type, Date | DateTime) or "DateTime" in type(column_type).__name__:
        return DATETIME
    if isinstance(column_type, Enum | String | Text):
        return STRING
    if isinstance(column_type, JSON):
        return ANY
    return ANY


def record_fields(record: str) -> dict[str, str]:
    """Field name → static type for one record kind, read from its SQLAlchemy model."""
    table = RECORD_MODELS[record].__table__  # type: ignore[attr-defined]
    return {column.key: _column_type(column.type) for column in table.columns}


_RECORD_FIELDS = {name: record_fields(name) for name in RECORD_MODELS}


def schema_for(trigger: Trigger) -> dict[str, dict[str, str]]:
    """The roots and fields a condition on `trigger` may read."""
    event = {"id": NUMBER, "type": STRING, "occurred_at": DATETIME, **trigger.payload}
    schema = {"event": event}
    for root in trigger.roots[1:]:
        schema[root] = _RECORD_FIELDS[root]
    return schema


def row_values(obj: Any) -> dict[str, Any]:
    """A model row as a plain dict of comparable values (Decimal → float, date → datetime)."""
    table = type(obj).__table__
    return {c.key: plain(getattr(obj, c.key)) for c in table.columns}


def plain(value: Any) -> Any:
    """Normalise one stored value for conditions: numbers as float, dates as UTC midnight."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if hasattr(value, "value") and isinstance(getattr(value, "value", None), str):
        return value.value
    return value
