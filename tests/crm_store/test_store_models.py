"""Model constraints that the queries and importers rely on."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm_store.models import (
    Account,
    DealStage,
    Notification,
    Order,
    OrderLine,
    OrderStatus,
    Product,
    Role,
    User,
    utcnow,
)


def _account(session: Session) -> Account:
    account = Account(name="Test Co")
    session.add(account)
    session.flush()
    return account


def test_unique_email_and_sku(session: Session) -> None:
    session.add_all([User(email="a@x.example", name="A", role=Role.rep),
                     User(email="a@x.example", name="B", role=Role.rep)])  # fmt: skip
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()
    session.add_all([Product(sku="S1", name="a", unit_price=Decimal(1)),
                     Product(sku="S1", name="b", unit_price=Decimal(2))])  # fmt: skip
    with pytest.raises(IntegrityError):
        session.flush()


def test_enums_are_stored_as_their_values(session: Session) -> None:
    session.add(User(email="m@x.example", name="M", role=Role.support_agent))
    session.flush()
    raw = session.execute(text("select role from users")).scalar()
    assert raw == "support_agent"
    assert DealStage.negotiation.is_open and not DealStage.closed_won.is_open


def test_money_is_exact(session: Session) -> None:
    account = _account(session)
    product = Product(sku="P", name="p", unit_price=Decimal("0.10"))
    order = Order(number="ORD-1", account_id=account.id, status=OrderStatus.paid,
                  placed_at=utcnow(), total=Decimal("0.30"))  # fmt: skip
    session.add_all([product, order])
    session.flush()
    order.lines.append(OrderLine(product_id=product.id, quantity=3, unit_price=product.unit_price))
    session.commit()
    session.expire_all()
    stored = session.scalars(select(Order)).one()
    assert stored.total == Decimal("0.30")
    assert sum(line.unit_price * line.quantity for line in stored.lines) == stored.total


def test_notification_dedupe_key_is_unique_but_optional(session: Session) -> None:
    session.add_all([Notification(channel="slack", kind="k", payload={"a": 1}) for _ in range(2)])
    session.flush()  # two NULL keys are fine
    session.add_all([Notification(channel="slack", kind="k", dedupe_key="same") for _ in range(2)])
    with pytest.raises(IntegrityError):
        session.flush()


def test_json_round_trip(session: Session) -> None:
    session.add(Notification(channel="slack", kind="k", payload={"deal": 7, "tags": ["x"]}))
    session.commit()
    session.expire_all()
    assert session.scalars(select(Notification.payload)).one() == {"deal": 7, "tags": ["x"]}
