"""Scoped pipeline queries."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from crm_store.errors import InvalidInputError, NotFoundError
from crm_store.models import OPEN_DEAL_STAGES, Deal, DealStage, DealStageChange, utcnow
from crm_store.queries.events import emit_event
from crm_store.queries.visibility import deal_filter
from crm_store.scope import Scope


class Period(StrEnum):
    """A calendar window for expected close dates."""

    this_month = "this_month"
    next_month = "next_month"
    this_quarter = "this_quarter"
    next_quarter = "next_quarter"
    this_year = "this_year"


def _month_start(year: int, month: int) -> date:
    # Months beyond December roll into the next year.
    return date(year + (month - 1) // 12, (month - 1) % 12 + 1, 1)


def period_bounds(period: Period | str, today: date | None = None) -> tuple[date, date]:
    """First day and last day (inclusive) of `period` around `today` (UTC today by default)."""
    period = Period(period)
    today = today or datetime.now(UTC).date()
    y, m = today.year, today.month
    quarter_month = 3 * ((m - 1) // 3) + 1
    start, months = {
        Period.this_month: (_month_start(y, m), 1),
        Period.next_month: (_month_start(y, m + 1), 1),
        Period.this_quarter: (_month_start(y, quarter_month), 3),
        Period.next_quarter: (_month_start(y, quarter_month + 3), 3),
        Period.this_year: (date(y, 1, 1), 12),
    }[period]
    end = _month_start(start.year, start.month + months) - timedelta(days=1)
    return start, end


def list_open_deals(
    *,
    session: Session,
    scope: Scope,
    period: Period | str | None = None,
    account_id: int | None = None,
    today: date | None = None,
) -> list[Deal]:
    """Open deals visible to `scope`, soonest expected close first.

    Args:
        period: keep deals whose close date falls in this window; None keeps all.
        account_id: keep one account's deals.
        today: the reference date for `period` (tests); UTC today by default.

    Returns:
        Deals with `account` and `owner` loaded; empty for roles that see no pipeline.
    """
    stmt = select(Deal).where(Deal.stage.in_(OPEN_DEAL_STAGES), deal_filter(scope))
    if account_id is not None:
        stmt = stmt.where(Deal.account_id == account_id)
    if period is not None:
        start, end = period_bounds(period, today)
        stmt = stmt.where(Deal.close_date >= start, Deal.close_date <= end)
    stmt = stmt.options(selectinload(Deal.account), selectinload(Deal.owner))
    return list(session.scalars(stmt.order_by(Deal.close_date, Deal.amount.desc(), Deal.id)))


def list_stalled_deals(
    *,
    session: Session,
    scope: Scope,
    idle_days: int,
    now: datetime | None = None,
    account_id: int | None = None,
) -> list[Deal]:
    """Open deals visible to `scope` with no activity for `idle_days` or more, oldest first.

    "No activity" reads the deal's last activity, or its creation when it never had one: the
    same clock the rules scheduler uses for `deal_idle` events.

    Args:
        account_id: keep one account's deals.

    Raises:
        InvalidInputError: `idle_days` is below 1.

    Returns:
        Deals with `account` and `owner` loaded; empty for roles that see no pipeline.
    """
    if idle_days < 1:
        raise InvalidInputError("idle_days must be 1 or more")
    last = func.coalesce(Deal.last_activity_at, Deal.created_at)
    cutoff = (now or utcnow()) - timedelta(days=idle_days)
    stmt = select(Deal).where(Deal.stage.in_(OPEN_DEAL_STAGES), deal_filter(scope), last < cutoff)
    if account_id is not None:
        stmt = stmt.where(Deal.account_id == account_id)
    stmt = stmt.options(selectinload(Deal.account), selectinload(Deal.owner))
    return list(session.scalars(stmt.order_by(last, Deal.amount.desc(), Deal.id)))


def get_deal(*, session: Session, scope: Scope, deal_id: int) -> Deal | None:
    """The deal, or None when it does not exist or `scope` may not see it."""
    stmt = select(Deal).where(Deal.id == deal_id, deal_filter(scope))
    return session.scalars(stmt.options(selectinload(Deal.account))).first()


def change_deal_stage(
    *, session: Session, scope: Scope, deal_id: int, stage: DealStage | str
) -> Deal:
    """Move a visible deal to `stage`, recording the history row and a rules event.

    Moving a deal to the stage it is already in changes nothing and emits nothing.

    Raises:
        NotFoundError: the deal does not exist or `scope` may not see it.
        InvalidInputError: an unknown stage.
    """
    try:
        stage = DealStage(stage)
    except ValueError as exc:
        raise InvalidInputError(f"unknown deal stage {stage!r}") from exc
    deal = session.scalars(select(Deal).where(Deal.id == deal_id, deal_filter(scope))).first()
    if deal is None:
        raise NotFoundError(f"deal {deal_id} not found")
    return move_deal_stage(session=session, deal=deal, stage=stage, changed_by_id=scope.user_id)


def move_deal_stage(
    *, session: Session, deal: Deal, stage: DealStage, changed_by_id: int | None
) -> Deal:
    """Move `deal` to `stage` without an access check (rules and imports act for the system).

    Writes the stage history row and the `deal_stage_changed` event in the caller's
    transaction; a move to the current stage is a no-op.
    """
    if deal.stage == stage:
        return deal
    now = utcnow()
    previous = deal.stage_changes[-1].changed_at if deal.stage_changes else deal.created_at
    session.add(DealStageChange(
        deal_id=deal.id, from_stage=deal.stage, to_stage=stage, changed_at=now,
        changed_by_id=changed_by_id, days_in_previous=max(0, (now - previous).days),
    ))  # fmt: skip
    emit_event(
        session=session,
        type="deal_stage_changed",
        subject_type="deal",
        subject_id=deal.id,
        account_id=deal.account_id,
        payload={"from_stage": str(deal.stage), "to_stage": str(stage)},
        occurred_at=now,
    )
    deal.stage = stage
    deal.last_activity_at = now
    session.flush()
    return deal
