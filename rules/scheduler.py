"""Time events: deal idle for N days, renewal in N days, ticket SLA due in N hours, task overdue.

The scheduler looks at the records on every tick and writes one event per occurrence; the
dedupe key (record, threshold, the timestamp that started the clock) makes repeated ticks and
concurrent schedulers harmless. The thresholds come from the rules that listen to them.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_store.models import (
    OPEN_DEAL_STAGES,
    OPEN_TICKET_STATUSES,
    Deal,
    Task,
    TaskStatus,
    Ticket,
    utcnow,
)
from crm_store.queries.events import emit_event_once
from rules.loader import RuleSet


def thresholds(ruleset: RuleSet) -> dict[str, set[float]]:
    """The trigger parameters the enabled rules use, per time trigger."""
    found: dict[str, set[float]] = {}
    for rule in ruleset.rules:
        if rule.enabled and rule.trigger.param and rule.trigger_value is not None:
            found.setdefault(rule.trigger.name, set()).add(rule.trigger_value)
    if any(rule.enabled and rule.trigger.name == "task_overdue" for rule in ruleset.rules):
        found["task_overdue"] = {0.0}
    return found


def _deal_idle(session: Session, days: float, now: datetime) -> int:
    last = func.coalesce(Deal.last_activity_at, Deal.created_at)
    stmt = select(Deal.id, Deal.account_id, last).where(
        Deal.stage.in_(OPEN_DEAL_STAGES), last < now - timedelta(days=days)
    )
    count = 0
    for deal_id, account_id, since in session.execute(stmt):
        since_text = since.isoformat() if isinstance(since, datetime) else str(since)
        count += emit_event_once(
            session=session,
            dedupe_key=f"deal_idle:{days:g}:{deal_id}:{since_text}",
            type="deal_idle",
            subject_type="deal",
            subject_id=deal_id,
            account_id=account_id,
            payload={"days": days},
            occurred_at=now,
        )
    return count


def _renewal_due(session: Session, days: float, now: datetime) -> int:
    today = now.date()
    stmt = select(Deal.id, Deal.account_id, Deal.close_date).where(
        Deal.stage.in_(OPEN_DEAL_STAGES),
        Deal.close_date >= today,
        Deal.close_date <= today + timedelta(days=days),
    )
    count = 0
    for deal_id, account_id, close in session.execute(stmt):
        count += emit_event_once(
            session=session,
            dedupe_key=f"renewal_due:{days:g}:{deal_id}:{close}",
            type="renewal_due",
            subject_type="deal",
            subject_id=deal_id,
            account_id=account_id,
            payload={"days": days},
            occurred_at=now,
        )
    return count


def _ticket_sla_due(session: Session, hours: float, now: datetime) -> int:
    stmt = select(Ticket.id, Ticket.account_id, Ticket.sla_due_at).where(
        Ticket.status.in_(OPEN_TICKET_STATUSES),
        Ticket.sla_due_at.is_not(None),
        Ticket.sla_due_at <= now + timedelta(hours=hours),
    )
    count = 0
    for ticket_id, account_id, due in session.execute(stmt):
        count += emit_event_once(
            session=session,
            dedupe_key=f"ticket_sla_due:{hours:g}:{ticket_id}:{due.isoformat()}",
            type="ticket_sla_due",
            subject_type="ticket",
            subject_id=ticket_id,
            account_id=account_id,
            payload={"hours": hours},
            occurred_at=now,
        )
    return count


def _task_overdue(session: Session, _: float, now: datetime) -> int:
    stmt = select(Task.id, Task.account_id, Task.due_at).where(
        Task.status == TaskStatus.open, Task.due_at.is_not(None), Task.due_at < now
    )
    count = 0
    for task_id, account_id, due in session.execute(stmt):
        count += emit_event_once(
            session=session,
            dedupe_key=f"task_overdue:{task_id}:{due.isoformat()}",
            type="task_overdue",
            subject_type="task",
            subject_id=task_id,
            account_id=account_id,
            payload={},
            occurred_at=now,
        )
    return count


_EMITTERS = {
    "deal_idle": _deal_idle,
    "renewal_due": _renewal_due,
    "ticket_sla_due": _ticket_sla_due,
    "task_overdue": _task_overdue,
}


def emit_time_events(
    session: Session, ruleset: RuleSet, now: datetime | None = None
) -> Counter[str]:
    """Write the time events due at `now` for the thresholds the rules use (no commit).

    Returns:
        How many new events of each type were written.
    """
    now = now or utcnow()
    written: Counter[str] = Counter()
    for trigger, values in sorted(thresholds(ruleset).items()):
        for value in sorted(values):
            written[trigger] += _EMITTERS[trigger](session, value, now)
    return written
