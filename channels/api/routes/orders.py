"""Orders by public number, as the bearer token's user may see them."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path
from pydantic import AfterValidator

from channels.api.deps import CurrentUser, SessionDep
from channels.schemas import ORDER_NUMBER_PATTERN, OrderLinePublic, OrderPublic
from crm_store.models import Order
from crm_store.queries.orders import get_order

router = APIRouter(prefix="/orders", tags=["orders"])

_ORDER_NUMBER_RE = re.compile(ORDER_NUMBER_PATTERN)


def _order_number(value: str) -> str:
    """A pattern error would quote the regex; say it in words instead."""
    if not _ORDER_NUMBER_RE.fullmatch(value):
        raise ValueError("must look like ORD-<digits>, e.g. ORD-536365")
    return value


OrderNumber = Annotated[
    str,
    Path(description="ORD-<digits>, any letter case.", examples=["ORD-536365"]),
    AfterValidator(_order_number),
]


@router.get("/{number}", response_model=OrderPublic, responses={404: {}})
def read_order(session: SessionDep, scope: CurrentUser, number: OrderNumber) -> OrderPublic:
    """One order you may see."""
    order = get_order(session=session, scope=scope, number=number)
    if order is None:
        raise HTTPException(status_code=404, detail="Order not found.")
    return to_order_public(order)


def to_order_public(order: Order) -> OrderPublic:
    """The API's view of an order: lines with product names, no customer email."""
    return OrderPublic(
        number=order.number,
        status=str(order.status),
        account_id=order.account_id,
        account_name=order.account.name,
        placed_at=order.placed_at,
        shipped_at=order.shipped_at,
        delivered_at=order.delivered_at,
        total=order.total,
        currency=order.currency,
        tracking_number=order.tracking_number,
        lines=[
            OrderLinePublic(
                sku=line.product.sku,
                product_name=line.product.name,
                quantity=line.quantity,
                unit_price=line.unit_price,
            )
            for line in order.lines
        ],
    )
