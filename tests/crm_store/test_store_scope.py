"""Who sees what: the visibility rules, checked on the demo company for every role."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from store_helpers import account_id, scope_of

from crm_store import Role, Scope
from crm_store.demo import DEMO_CREDENTIALS as DEMO
from crm_store.models import Account, Deal, Order, Ticket, User
from crm_store.queries.accounts import get_account, search_accounts
from crm_store.queries.deals import list_open_deals
from crm_store.queries.orders import get_order, list_orders
from crm_store.queries.tickets import get_ticket, list_tickets
from crm_store.queries.visibility import account_filter, deal_filter


def test_scope_constructors() -> None:
    anon = Scope.anonymous()
    assert anon.role is Role.customer and anon.user_id is None and anon.is_anonymous
    user = SimpleNamespace(id=7, role="manager", team_id=2, contact_id=None, email="m@x.example")
    scope = Scope.for_user(user)
    assert scope == Scope(role=Role.manager, user_id=7, team_id=2, email="m@x.example")
    assert scope.is_staff and not scope.is_anonymous
    with pytest.raises(ValueError):
        Scope(role="superuser")  # type: ignore[arg-type]
    with pytest.raises(AttributeError):
        scope.role = Role.admin  # type: ignore[misc]  # frozen


def _visible_names(session: Session, scope: Scope) -> set[str]:
    return set(session.scalars(select(Account.name).where(account_filter(scope))))


def test_account_visibility_by_role(seeded_session: Session) -> None:
    s = seeded_session
    total = s.scalar(select(func.count(Account.id)))
    rep, other, manager = (scope_of(s, w) for w in ("rep", "other_rep", "manager"))
    rep_names, other_names = _visible_names(s, rep), _visible_names(s, other)
    assert {DEMO.rep_account_name, DEMO.similar_account_name} <= rep_names
    assert DEMO.rep_account_name not in other_names
    assert DEMO.other_rep_account_name in other_names - rep_names
    owned = set(s.scalars(select(Account.name).where(Account.owner_id == rep.user_id)))
    assert rep_names == owned
    team_owners = select(User.id).where(User.team_id == manager.team_id)
    team_names = set(s.scalars(select(Account.name).where(Account.owner_id.in_(team_owners))))
    assert _visible_names(s, manager) == team_names
    assert rep_names < team_names and DEMO.other_rep_account_name not in team_names
    for who in ("agent", "admin"):
        assert len(_visible_names(s, scope_of(s, who))) == total
    assert _visible_names(s, scope_of(s, "customer")) == {DEMO.customer_account_name}
    assert _visible_names(s, Scope.anonymous()) == set()


def test_pipeline_visibility(seeded_session: Session) -> None:
    s = seeded_session
    counts = {
        who: s.scalar(select(func.count(Deal.id)).where(deal_filter(scope_of(s, who))))
        for who in ("rep", "manager", "admin", "agent", "customer", "anonymous")
    }
    assert counts["agent"] == counts["customer"] == counts["anonymous"] == 0
    assert 0 < counts["rep"] < counts["manager"] < counts["admin"]
    assert counts["admin"] == s.scalar(select(func.count(Deal.id)))
    assert list_open_deals(session=s, scope=scope_of(s, "agent")) == []


@pytest.mark.parametrize("who", ["other_rep", "anonymous"])
def test_hidden_records_look_missing(seeded_session: Session, who: str) -> None:
    s = seeded_session
    scope = scope_of(s, who)
    acme = account_id(s, DEMO.rep_account_name)
    assert get_account(session=s, scope=scope, account_id=acme) is None
    assert search_accounts(session=s, scope=scope, q="acme") == []
    assert get_order(session=s, scope=scope, number=DEMO.customer_order_number) is None
    assert get_ticket(session=s, scope=scope, number=DEMO.customer_ticket_number) is None


def test_customer_sees_only_their_account_orders_and_tickets(seeded_session: Session) -> None:
    s = seeded_session
    scope = scope_of(s, "customer")
    own = account_id(s, DEMO.customer_account_name)
    orders = list_orders(session=s, scope=scope, limit=500)
    tickets = list_tickets(session=s, scope=scope, limit=500)
    assert orders and {o.account_id for o in orders} == {own}
    assert tickets and {t.account_id for t in tickets} == {own}
    assert len(orders) == s.scalar(select(func.count(Order.id)).where(Order.account_id == own))
    assert get_order(session=s, scope=scope, number=DEMO.customer_order_number) is not None
    other = s.scalars(select(Order.number).where(Order.account_id != own).limit(1)).one()
    assert get_order(session=s, scope=scope, number=other) is None


def test_agent_sees_all_orders_and_tickets(seeded_session: Session) -> None:
    s = seeded_session
    scope = scope_of(s, "agent")
    assert len(list_orders(session=s, scope=scope, limit=500)) == s.scalar(
        select(func.count(Order.id))
    )
    assert len(list_tickets(session=s, scope=scope, limit=500)) == s.scalar(
        select(func.count(Ticket.id))
    )
