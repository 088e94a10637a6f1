"""The demo company: deterministic, idempotent, and rich enough for every demo question."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session
from store_helpers import scope_of

from crm_store import migrate
from crm_store.db import dispose_engine, session_scope
from crm_store.demo import DEMO_CREDENTIALS, DEMO_SEED, credentials_for, demo_token, seed
from crm_store.models import (
    Account,
    Activity,
    ApiToken,
    Contact,
    Deal,
    DealStage,
    Order,
    OrderStatus,
    Task,
    Ticket,
    User,
)
from crm_store.queries.deals import Period, list_open_deals

TODAY = date(2026, 6, 15)


def _snapshot(session: Session) -> dict[str, list[tuple]]:
    def rows(stmt: Select) -> list[tuple]:
        return [tuple(r) for r in session.execute(stmt)]

    return {
        "users": rows(select(User.id, User.email, User.role, User.team_id, User.contact_id)
                      .order_by(User.id)),
        "tokens": rows(select(ApiToken.user_id, ApiToken.token_hash).order_by(ApiToken.id)),
        "accounts": rows(select(Account.id, Account.name, Account.owner_id, Account.industry,
                                Account.country, Account.annual_revenue, Account.status,
                                Account.created_at).order_by(Account.id)),
        "contacts": rows(select(Contact.id, Contact.account_id, Contact.email)
                         .order_by(Contact.id)),
        "deals": rows(select(Deal.id, Deal.account_id, Deal.name, Deal.amount, Deal.stage,
                             Deal.close_date, Deal.last_activity_at).order_by(Deal.id)),
        "orders": rows(select(Order.number, Order.account_id, Order.status, Order.total,
                              Order.placed_at, Order.tracking_number).order_by(Order.id)),
        "tickets": rows(select(Ticket.number, Ticket.subject, Ticket.status, Ticket.priority,
                               Ticket.sla_due_at).order_by(Ticket.id)),
        "activities": rows(select(Activity.account_id, Activity.kind, Activity.subject,
                                  Activity.occurred_at).order_by(Activity.id)),
        "tasks": rows(select(Task.title, Task.due_at, Task.status).order_by(Task.id)),
    }  # fmt: skip


def _seeded_snapshot(path: Path, seed_value: int) -> dict[str, list[tuple]]:
    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    with session_scope(url) as session:
        assert seed(session, seed=seed_value, today=TODAY) is True
    with session_scope(url) as session:
        snap = _snapshot(session)
    dispose_engine(url)
    return snap


def test_same_seed_same_company(tmp_path: Path) -> None:
    first = _seeded_snapshot(tmp_path / "a.sqlite3", DEMO_SEED)
    second = _seeded_snapshot(tmp_path / "b.sqlite3", DEMO_SEED)
    assert first == second
    other = _seeded_snapshot(tmp_path / "c.sqlite3", DEMO_SEED + 1)
    assert [a[1] for a in other["accounts"]] != [a[1] for a in first["accounts"]]
    assert other["tokens"] != first["tokens"]  # tokens derive from the seed


def test_credentials_are_fixed_strings_from_the_seed() -> None:
    assert DEMO_CREDENTIALS.rep_token == demo_token("rep1") == credentials_for().rep_token
    assert credentials_for(DEMO_SEED + 1).rep_token != DEMO_CREDENTIALS.rep_token
    tokens = [DEMO_CREDENTIALS.rep_token, DEMO_CREDENTIALS.other_rep_token,
              DEMO_CREDENTIALS.manager_token, DEMO_CREDENTIALS.admin_token,
              DEMO_CREDENTIALS.customer_token]  # fmt: skip
    assert len(set(tokens)) == len(tokens)
    assert DEMO_CREDENTIALS.customer_order == DEMO_CREDENTIALS.customer_order_number


def test_seed_twice_is_a_no_op(seeded_session: Session) -> None:
    before = _snapshot(seeded_session)
    assert seed(seeded_session) is False
    seeded_session.flush()
    assert _snapshot(seeded_session) == before


def test_demo_company_covers_the_demo_questions(seeded_session: Session) -> None:
    s = seeded_session
    roles = dict(s.execute(select(User.role, func.count()).group_by(User.role)).tuples().all())
    assert (roles["rep"], roles["manager"], roles["support_agent"], roles["admin"]) == (6, 2, 2, 1)
    assert roles["customer"] >= 3
    assert s.scalar(select(func.count(Account.id))) >= 60
    assert set(s.scalars(select(Order.status).distinct())) == set(OrderStatus)
    assert set(s.scalars(select(Deal.stage).distinct())) == set(DealStage)
    no_contacts = select(Account.id).where(~Account.contacts.any())
    assert s.scalars(no_contacts).first() is None
    for deal in s.scalars(select(Deal)):
        assert deal.stage_changes and deal.stage_changes[-1].to_stage is deal.stage
        assert deal.stage_changes[0].from_stage is None
    rep = scope_of(s, "rep")
    assert list_open_deals(session=s, scope=rep, period=Period.this_month)
    assert list_open_deals(session=s, scope=rep, period=Period.this_quarter)
    names = set(s.scalars(select(Account.name)))
    assert {"Acme Corp", "Acme Logistics"} <= names
    order = s.scalars(
        select(Order).where(Order.number == DEMO_CREDENTIALS.customer_order_number)
    ).one()
    assert order.email == DEMO_CREDENTIALS.customer_email
