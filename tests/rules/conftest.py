"""Helpers for the rules tests: rule files from text, a fresh session factory, demo records."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_store import db
from crm_store.models import Account, Contact, Conversation, Deal, Ticket, User
from rules.engine import BatchResult, drain
from rules.loader import RuleSet, load_rules


@pytest.fixture
def rules_from(tmp_path: Path) -> Callable[[str], RuleSet]:
    """Write `text` to a rule file and load it, failing on any problem."""

    def load(text: str, strict: bool = True) -> RuleSet:
        path = tmp_path / f"rules_{len(list(tmp_path.glob('*.yml')))}.yml"
        path.write_text(text, encoding="utf-8")
        ruleset = load_rules(path)
        if strict:
            assert not ruleset.problems, [str(p) for p in ruleset.problems]
        return ruleset

    return load


@pytest.fixture
def run_rules(seeded_db_url: str) -> Callable[[RuleSet], BatchResult]:
    """Drain the pending events of the test database with a fresh session per batch."""
    factory = db.make_session_factory(db.get_engine(seeded_db_url))

    def run(ruleset: RuleSet) -> BatchResult:
        return drain(factory, ruleset)

    return run


def owned_account(session: Session) -> Account:
    """A demo account with an owner, a country and a contact."""
    stmt = (
        select(Account)
        .join(Contact, Contact.account_id == Account.id)
        .where(Account.owner_id.is_not(None))
        .order_by(Account.id)
    )
    return session.scalars(stmt).first()


def open_deal(session: Session) -> Deal:
    """A demo deal in an open stage with an owner."""
    stmt = select(Deal).where(Deal.stage == "proposal", Deal.owner_id.is_not(None))
    return session.scalars(stmt.order_by(Deal.id)).first()


def chat_with_contact(session: Session) -> Conversation:
    """A new web conversation of a demo contact (the demo has none)."""
    contact = session.scalars(select(Contact).order_by(Contact.id)).first()
    conversation = Conversation(channel="web", external_id=f"t-{contact.id}", contact_id=contact.id)
    session.add(conversation)
    session.flush()
    return conversation


def user_by_email(session: Session, email: str) -> User:
    """The demo user with this email."""
    return session.scalars(select(User).where(User.email == email)).one()


def any_ticket(session: Session) -> Ticket:
    """An open demo ticket."""
    stmt = select(Ticket).where(Ticket.status == "open").order_by(Ticket.id)
    return session.scalars(stmt).first()
