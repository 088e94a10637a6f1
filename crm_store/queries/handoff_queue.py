"""Which handoffs an agent can act on without naming one (`/crm claim`, `/crm resolve`)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_store.models import Handoff, HandoffStatus


def waiting_handoffs(*, session: Session, limit: int = 10) -> list[Handoff]:
    """Handoffs nobody has claimed yet (pending, or away), oldest request first."""
    stmt = (
        select(Handoff)
        .where(Handoff.status.in_((HandoffStatus.pending, HandoffStatus.away)))
        .order_by(Handoff.requested_at, Handoff.id)
        .limit(max(1, limit))
    )
    return list(session.scalars(stmt))


def handoffs_claimed_by(*, session: Session, user_id: int, limit: int = 10) -> list[Handoff]:
    """The open handoffs this agent holds, oldest claim first."""
    stmt = (
        select(Handoff)
        .where(Handoff.status == HandoffStatus.claimed, Handoff.claimed_by_user_id == user_id)
        .order_by(Handoff.claimed_at, Handoff.id)
        .limit(max(1, limit))
    )
    return list(session.scalars(stmt))
