"""Order lookups: scoped for signed-in people, number + email for anonymous visitors."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from crm_store.errors import InvalidInputError
from crm_store.models import Order, OrderLine
from crm_store.queries._common import normalize_email, normalize_public_id
from crm_store.queries.visibility import order_filter
from crm_store.scope import Scope

_LOAD = (selectinload(Order.lines).selectinload(OrderLine.product), selectinload(Order.account))


def normalize_order_number(text: str | None) -> str | None:
    """ "ord-536365", "ORD 536365" or "536365" → "ORD-536365"; None when not an order number."""
    return normalize_public_id("ORD", text)


def get_order(*, session: Session, scope: Scope, number: str) -> Order | None:
    """The order with this public number if `scope` may see it, lines and products loaded."""
    normalized = normalize_order_number(number)
    if normalized is None:
        return None
    stmt = select(Order).where(Order.number == normalized, order_filter(scope))
    return session.scalars(stmt.options(*_LOAD)).first()


def find_order_for_customer(*, session: Session, number: str, email: str) -> Order | None:
    """The order when `email` matches the one on it (case-insensitive), else None.

    This is the anonymous check: knowing both the number and the email proves enough to
    see the order's status. A wrong email and a missing order look the same.
    """
    normalized = normalize_order_number(number)
    try:
        address = normalize_email(email)
    except InvalidInputError:
        return None
    if normalized is None:
        return None
    stmt = select(Order).where(Order.number == normalized, func.lower(Order.email) == address)
    return session.scalars(stmt.options(*_LOAD)).first()


def lookup_order(
    *, session: Session, scope: Scope, number: str, email: str | None = None
) -> Order | None:
    """The order as this person may see it: through their scope, or by proving its email.

    Signed-in people see what their scope allows; anyone (a visitor included) who gives the
    email on the order sees that order. Everything else looks like a missing order.
    """
    order = None if scope.is_anonymous else get_order(session=session, scope=scope, number=number)
    if order is None and email:
        order = find_order_for_customer(session=session, number=number, email=email)
    return order


def list_orders(
    *, session: Session, scope: Scope, account_id: int | None = None, limit: int = 20
) -> list[Order]:
    """Recent orders visible to `scope`, newest first."""
    stmt = select(Order).where(order_filter(scope))
    if account_id is not None:
        stmt = stmt.where(Order.account_id == account_id)
    stmt = stmt.order_by(Order.placed_at.desc(), Order.id.desc()).limit(max(1, min(limit, 500)))
    return list(session.scalars(stmt.options(*_LOAD)))
