"""Scopes of the demo company's people, looked up by their fixed emails."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_store import Scope
from crm_store.demo import DEMO_CREDENTIALS as DEMO
from crm_store.models import Account
from crm_store.queries.users import get_user_by_email

EMAILS = {
    "rep": DEMO.rep_email,
    "other_rep": DEMO.other_rep_email,
    "manager": DEMO.manager_email,
    "agent": DEMO.agent_email,
    "admin": DEMO.admin_email,
    "customer": DEMO.customer_email,
}


def scope_of(session: Session, who: str) -> Scope:
    """The Scope of a demo person ("rep", "other_rep", "manager", ...) or "anonymous"."""
    if who == "anonymous":
        return Scope.anonymous()
    user = get_user_by_email(session=session, email=EMAILS[who])
    assert user is not None, who
    return Scope.for_user(user)


def account_id(session: Session, name: str) -> int:
    """The id of the demo account with this exact name."""
    return session.scalars(select(Account.id).where(Account.name == name)).one()
