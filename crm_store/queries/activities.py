"""Logging activities and creating tasks, on accounts the caller may see."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_store.errors import InvalidInputError, NotFoundError
from crm_store.models import Account, Activity, ActivityKind, Deal, Task, TaskSource, utcnow
from crm_store.queries._common import require_staff, require_text
from crm_store.queries.events import emit_event
from crm_store.queries.visibility import account_filter, activity_filter
from crm_store.scope import Scope


def _visible_account(session: Session, scope: Scope, account_id: int) -> Account:
    stmt = select(Account).where(Account.id == account_id, account_filter(scope))
    account = session.scalars(stmt).first()
    if account is None:
        raise NotFoundError(f"account {account_id} not found")
    return account


def _touch_open_deals(session: Session, account_id: int, when: datetime) -> None:
    """Record the activity on the account's open deals (rules watch for stale deals)."""
    for deal in session.scalars(select(Deal).where(Deal.account_id == account_id)):
        if deal.stage.is_open and (deal.last_activity_at is None or deal.last_activity_at < when):
            deal.last_activity_at = when


def log_activity(
    *,
    session: Session,
    scope: Scope,
    account_id: int,
    kind: ActivityKind | str,
    subject: str,
    body: str = "",
    occurred_at: datetime | None = None,
) -> Activity:
    """Log a call, email, meeting or note on an account, as the scope's user.

    Raises:
        PermissionDeniedError: customers and anonymous visitors.
        NotFoundError: the account does not exist or is not visible to `scope`.
        InvalidInputError: unknown kind or empty subject.
    """
    user_id = require_staff(scope, "logging an activity")
    try:
        kind = ActivityKind(kind)
    except ValueError as exc:
        raise InvalidInputError(f"unknown activity kind {kind!r}") from exc
    subject = require_text(subject, "subject", 200)
    _visible_account(session, scope, account_id)
    when = occurred_at or utcnow()
    activity = Activity(
        kind=kind, account_id=account_id, user_id=user_id, subject=subject,
        body=(body or "").strip(), occurred_at=when,
    )  # fmt: skip
    session.add(activity)
    _touch_open_deals(session, account_id, when)
    session.flush()
    return activity


def create_task(
    *,
    session: Session,
    scope: Scope,
    title: str,
    due_at: datetime | None,
    account_id: int | None = None,
    description: str = "",
    source: TaskSource | str = TaskSource.bot,
) -> Task:
    """Create a task owned by the scope's user, optionally on a visible account.

    Raises:
        PermissionDeniedError: customers and anonymous visitors.
        NotFoundError: `account_id` is not visible to `scope`.
        InvalidInputError: empty title or a naive `due_at`.
    """
    user_id = require_staff(scope, "creating a task")
    title = require_text(title, "title", 200)
    if due_at is not None and due_at.tzinfo is None:
        raise InvalidInputError("due_at must be timezone-aware")
    if account_id is not None:
        _visible_account(session, scope, account_id)
    task = Task(
        title=title, description=(description or "").strip(), due_at=due_at, owner_id=user_id,
        account_id=account_id, source=TaskSource(source),
    )  # fmt: skip
    session.add(task)
    session.flush()
    emit_event(
        session=session,
        type="task_created",
        subject_type="task",
        subject_id=task.id,
        account_id=account_id,
        payload={"source": str(task.source)},
    )
    session.flush()
    return task


def list_activities(
    *, session: Session, scope: Scope, account_id: int, limit: int = 20
) -> list[Activity]:
    """An account's activities visible to `scope`, newest first."""
    stmt = (
        select(Activity)
        .where(Activity.account_id == account_id, activity_filter(scope))
        .order_by(Activity.occurred_at.desc(), Activity.id.desc())
        .limit(max(1, min(limit, 500)))
    )
    return list(session.scalars(stmt))
