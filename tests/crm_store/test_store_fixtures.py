"""The shared database fixtures: migrated, isolated per test, seeded on request."""

from __future__ import annotations

from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from crm_store.db import session_scope
from crm_store.demo import DEMO_CREDENTIALS
from crm_store.migrate import current_revision
from crm_store.models import Account, Team, User


def test_db_url_is_migrated_and_empty(db_url: str, session: Session) -> None:
    assert current_revision(db_url) is not None
    assert session.scalar(select(func.count(User.id))) == 0


def test_rows_written_by_one_test(db_url: str) -> None:
    with session_scope(db_url) as session:
        session.add(Team(name="leaky"))


def test_do_not_leak_into_the_next(session: Session) -> None:
    assert session.scalar(select(func.count(Team.id))) == 0


def test_seeded_session_sees_the_demo_company(seeded_session: Session, db_url: str) -> None:
    emails = set(seeded_session.scalars(select(User.email)))
    assert DEMO_CREDENTIALS.rep_email in emails
    # Committed: other sessions on the same URL see it too.
    with session_scope(db_url) as other:
        assert other.scalar(select(func.count(Account.id))) >= 60


def test_backend_matches_parameter(db_kind: str, engine: Engine) -> None:
    assert engine.dialect.name == db_kind
    with engine.connect() as conn:
        assert conn.execute(text("select 1")).scalar() == 1
