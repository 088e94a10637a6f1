"""Logging activities, creating tasks, capturing leads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from store_helpers import account_id, scope_of

from crm_store import Scope
from crm_store.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from crm_store.models import ActivityKind, Deal, LeadStatus, TaskSource, TaskStatus, utcnow
from crm_store.queries.activities import create_task, list_activities, log_activity
from crm_store.queries.leads import create_lead


def test_rep_logs_a_call_and_open_deals_see_it(seeded_session: Session) -> None:
    s = seeded_session
    rep = scope_of(s, "rep")
    acme = account_id(s, "Acme Corp")
    activity = log_activity(session=s, scope=rep, account_id=acme, kind="call",
                            subject="Talked pricing", body="Wants 10 % off")  # fmt: skip
    assert activity.id and activity.kind is ActivityKind.call and activity.user_id == rep.user_id
    assert list_activities(session=s, scope=rep, account_id=acme)[0].id == activity.id
    for deal in s.scalars(select(Deal).where(Deal.account_id == acme)):
        if deal.stage.is_open:
            assert deal.last_activity_at == activity.occurred_at


def test_activity_rules(seeded_session: Session) -> None:
    s = seeded_session
    acme = account_id(s, "Acme Corp")
    with pytest.raises(NotFoundError):
        log_activity(session=s, scope=scope_of(s, "other_rep"), account_id=acme, kind="note",
                     subject="x")  # fmt: skip
    for who in ("customer", "anonymous"):
        with pytest.raises(PermissionDeniedError):
            log_activity(session=s, scope=scope_of(s, who), account_id=acme, kind="note",
                         subject="x")  # fmt: skip
    with pytest.raises(InvalidInputError, match="kind"):
        log_activity(session=s, scope=scope_of(s, "rep"), account_id=acme, kind="fax", subject="x")
    with pytest.raises(InvalidInputError, match="subject"):
        log_activity(session=s, scope=scope_of(s, "rep"), account_id=acme, kind="note", subject="")
    assert list_activities(session=s, scope=scope_of(s, "customer"), account_id=acme) == []


def test_create_task(seeded_session: Session) -> None:
    s = seeded_session
    rep = scope_of(s, "rep")
    due = utcnow() + timedelta(days=2)
    task = create_task(session=s, scope=rep, title="Send quote", due_at=due,
                       account_id=account_id(s, "Acme Corp"))  # fmt: skip
    assert (task.owner_id, task.status, task.source) == (
        rep.user_id,
        TaskStatus.open,
        TaskSource.bot,
    )
    assert task.due_at == due
    assert create_task(session=s, scope=rep, title="No account", due_at=None).account_id is None
    with pytest.raises(NotFoundError):
        create_task(session=s, scope=rep, title="x", due_at=due,
                    account_id=account_id(s, "Globex Corporation"))  # fmt: skip
    with pytest.raises(InvalidInputError, match="timezone"):
        create_task(session=s, scope=rep, title="x", due_at=datetime(2030, 1, 1))
    with pytest.raises(PermissionDeniedError):
        create_task(session=s, scope=Scope.anonymous(), title="x", due_at=due)
    assert due.tzinfo is UTC


def test_create_lead_validates(session: Session) -> None:
    lead = create_lead(session=session, name=" Paula ", email=" Paula@Bakery.Example ",
                       company="Bakery", need="tablets")  # fmt: skip
    assert (lead.name, lead.email, lead.source, lead.status) == (
        "Paula", "paula@bakery.example", "web_chat", LeadStatus.new)  # fmt: skip
    assert lead.owner_id is None and lead.score is None
    for bad in ("", "paula", "paula@", "@bakery.example", "a b@c.example"):
        with pytest.raises(InvalidInputError):
            create_lead(session=session, name="P", email=bad, company=None, need=None)
    with pytest.raises(InvalidInputError):
        create_lead(session=session, name=" ", email="p@b.example", company=None, need=None)
