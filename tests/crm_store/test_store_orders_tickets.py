"""Orders and tickets: scoped look-ups, the anonymous number + email check, new tickets."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session
from store_helpers import scope_of

from crm_store import Scope
from crm_store.demo import DEMO_CREDENTIALS as DEMO
from crm_store.errors import InvalidInputError
from crm_store.models import OrderStatus, TicketPriority, TicketStatus
from crm_store.queries.orders import (
    find_order_for_customer,
    get_order,
    lookup_order,
    normalize_order_number,
)
from crm_store.queries.tickets import (
    find_ticket_for_customer,
    get_ticket,
    list_tickets,
    lookup_ticket,
    normalize_ticket_number,
    open_ticket,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("ORD-100001", "ORD-100001"), ("ord-100001", "ORD-100001"), (" ord 42 ", "ORD-42"),
     ("#536365", "ORD-536365"), ("TCK-1", None), ("ORD-", None), ("", None), ("12ab", None)],
)  # fmt: skip
def test_order_number_normalisation(text: str, expected: str | None) -> None:
    assert normalize_order_number(text) == expected


def test_get_order_with_lines(seeded_session: Session) -> None:
    s = seeded_session
    order = get_order(session=s, scope=scope_of(s, "customer"), number="ord-100001")
    assert order is not None and order.number == DEMO.customer_order_number
    assert order.status is OrderStatus.shipped and order.tracking_number
    assert order.lines and sum(x.unit_price * x.quantity for x in order.lines) == order.total
    assert all(line.product.name for line in order.lines)


def test_anonymous_order_check_needs_the_right_email(seeded_session: Session) -> None:
    s = seeded_session
    number = DEMO.customer_order_number
    found = find_order_for_customer(session=s, number=number.lower(),
                                    email=DEMO.customer_email.upper())  # fmt: skip
    assert found is not None and found.number == number
    assert find_order_for_customer(session=s, number=number, email="someone@else.example") is None
    assert find_order_for_customer(session=s, number=number, email="not an email") is None
    assert (
        find_order_for_customer(session=s, number="ORD-999999999", email=DEMO.customer_email)
        is None
    )
    assert get_order(session=s, scope=Scope.anonymous(), number=number) is None


def test_ticket_lookups(seeded_session: Session) -> None:
    s = seeded_session
    number = DEMO.customer_ticket_number
    assert normalize_ticket_number("tck-1001") == number
    assert get_ticket(session=s, scope=scope_of(s, "customer"), number=number) is not None
    assert get_ticket(session=s, scope=scope_of(s, "agent"), number=number) is not None
    assert find_ticket_for_customer(session=s, number=number, email=DEMO.customer_email) is not None
    assert find_ticket_for_customer(session=s, number=number, email="x@y.example") is None


def test_customer_opens_a_ticket_on_their_account(seeded_session: Session) -> None:
    s = seeded_session
    customer = scope_of(s, "customer")
    ticket = open_ticket(session=s, scope=customer, subject="  Printer jams  ",
                         description="Since Monday.", priority="high")  # fmt: skip
    assert ticket.number == f"TCK-{100_000 + ticket.id}"
    assert (ticket.subject, ticket.status, ticket.priority) == (
        "Printer jams", TicketStatus.open, TicketPriority.high)  # fmt: skip
    assert ticket.email == DEMO.customer_email and ticket.account_id is not None
    assert ticket.sla_due_at - ticket.created_at == timedelta(hours=8)
    assert get_ticket(session=s, scope=customer, number=ticket.number) is not None
    assert ticket in list_tickets(session=s, scope=customer, open_only=True, limit=500)


def test_anonymous_ticket_needs_an_email(seeded_session: Session) -> None:
    s = seeded_session
    anon = Scope.anonymous()
    with pytest.raises(InvalidInputError, match="email"):
        open_ticket(session=s, scope=anon, subject="Help", description="")
    with pytest.raises(InvalidInputError, match="valid email"):
        open_ticket(session=s, scope=anon, subject="Help", description="", email="nope")
    with pytest.raises(InvalidInputError, match="subject"):
        open_ticket(session=s, scope=anon, subject="  ", description="", email="a@b.example")
    ticket = open_ticket(session=s, scope=anon, subject="Help", description="",
                         email="Visitor@Example.com")  # fmt: skip
    assert ticket.email == "visitor@example.com" and ticket.account_id is None
    again = find_ticket_for_customer(session=s, number=ticket.number, email="visitor@example.com")
    assert again is not None and again.id == ticket.id
    assert get_ticket(session=s, scope=anon, number=ticket.number) is None


def test_lookup_order_by_scope_or_by_proving_the_email(seeded_session: Session) -> None:
    s, number = seeded_session, DEMO.customer_order_number
    anonymous = Scope.anonymous()
    assert lookup_order(session=s, scope=anonymous, number=number) is None
    assert lookup_order(session=s, scope=anonymous, number=number, email="x@evil.example") is None
    found = lookup_order(session=s, scope=anonymous, number=number, email=DEMO.customer_email)
    assert found is not None and found.number == number
    own = lookup_order(session=s, scope=scope_of(s, "customer"), number=number)
    assert own is not None and own.number == number


def test_lookup_ticket_by_scope_or_by_proving_the_email(seeded_session: Session) -> None:
    s, number = seeded_session, DEMO.customer_ticket_number
    anonymous = Scope.anonymous()
    assert lookup_ticket(session=s, scope=anonymous, number=number) is None
    assert lookup_ticket(session=s, scope=anonymous, number=number, email="x@evil.example") is None
    found = lookup_ticket(session=s, scope=anonymous, number=number, email=DEMO.customer_email)
    assert found is not None and found.number == number
    own = lookup_ticket(session=s, scope=scope_of(s, "customer"), number=number)
    assert own is not None and own.number == number
