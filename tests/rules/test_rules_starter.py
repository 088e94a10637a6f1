"""The starter rules in config/rules/ load cleanly and each one fires on an event it is for.

Each test writes the store change (or time) the rule is about, lets the scheduler and one
worker drain run with the shipped rule files, and checks the firing and what it left behind.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from conftest import any_ticket, chat_with_contact, open_deal, owned_account
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_store.models import CrmEvent, Lead, Notification, RuleFiring, Task, Ticket, utcnow
from crm_store.queries.events import record_negative_sentiment, record_score_crossed
from crm_store.queries.leads import create_lead
from rules.engine import BatchResult
from rules.loader import DEFAULT_RULES_DIR, RuleSet, load_rules
from rules.scheduler import emit_time_events

Runner = Callable[[RuleSet], BatchResult]
STARTERS = (
    "stalled-deal-follow-up",
    "hot-lead-to-senior-rep",
    "churn-risk-save-call",
    "upset-chat-escalation",
    "ticket-near-sla",
)


@pytest.fixture(scope="module")
def starter() -> RuleSet:
    """The shipped rule files, as `crm rules run` loads them."""
    return load_rules(DEFAULT_RULES_DIR)


def fired(session: Session, rule: str, subject_id: int) -> RuleFiring:
    """The one successful firing of `rule` on an event about record `subject_id` (the demo
    data holds other stalled deals and tickets near their SLA, which fire too)."""
    session.expire_all()
    stmt = (
        select(RuleFiring)
        .join(CrmEvent, CrmEvent.id == RuleFiring.event_id)
        .where(
            RuleFiring.rule_name == rule,
            RuleFiring.status == "fired",
            CrmEvent.subject_id == subject_id,
        )
    )
    return session.scalars(stmt).one()


def test_the_five_starter_rules_load_enabled_and_without_problems(starter: RuleSet) -> None:
    assert [str(p) for p in starter.problems] == []
    for name in STARTERS:
        rule = starter.get(name)
        assert rule is not None and rule.enabled, name


def test_stalled_deal_gets_a_follow_up_task(
    seeded_session: Session, starter: RuleSet, run_rules: Runner
) -> None:
    deal = open_deal(seeded_session)
    deal.amount, deal.last_activity_at = Decimal("5000"), utcnow() - timedelta(days=20)
    seeded_session.commit()
    emit_time_events(seeded_session, starter)
    seeded_session.commit()
    run_rules(starter)
    firing = fired(seeded_session, "stalled-deal-follow-up", deal.id)
    task = seeded_session.get(Task, firing.actions[0]["task_id"])
    assert task.title == f"Follow up on stalled deal {deal.name}"
    assert task.owner_id == deal.owner_id and task.deal_id == deal.id


def test_hot_lead_goes_to_the_enterprise_team_with_a_call_task(
    seeded_session: Session, starter: RuleSet, run_rules: Runner
) -> None:
    lead = create_lead(
        session=seeded_session,
        name="Hana Ito",
        email="hana@bigco.example",
        company="BigCo",
        need="200 seats",
    )
    lead.score = 0.91
    seeded_session.commit()
    run_rules(starter)
    firing = fired(seeded_session, "hot-lead-to-senior-rep", lead.id)
    owner_id = seeded_session.get(Lead, lead.id).owner_id
    assert owner_id is not None
    task = seeded_session.get(Task, firing.actions[1]["task_id"])
    assert task.title == "Call hot lead Hana Ito (BigCo)" and task.owner_id == owner_id
    assert task.due_at <= utcnow() + timedelta(minutes=15)
    key = firing.actions[2]["dedupe_key"]
    note = seeded_session.scalars(select(Notification).where(Notification.dedupe_key == key)).one()
    assert note.payload["room"] == "#sales-hot-leads"


def test_churn_risk_on_a_valuable_account_alerts_the_owner_and_books_a_save_call(
    seeded_session: Session, starter: RuleSet, run_rules: Runner
) -> None:
    account = owned_account(seeded_session)
    account.annual_revenue = Decimal("2500000")
    record_score_crossed(
        session=seeded_session, account_id=account.id, kind="churn", previous=0.55, score=0.81
    )
    seeded_session.commit()
    run_rules(starter)
    firing = fired(seeded_session, "churn-risk-save-call", account.id)
    key = firing.actions[0]["dedupe_key"]
    note = seeded_session.scalars(select(Notification).where(Notification.dedupe_key == key)).one()
    assert note.payload["user_id"] == account.owner_id
    assert note.payload["text"] == f"{account.name}: churn risk 0.81 crossed 0.7."
    task = seeded_session.get(Task, firing.actions[1]["task_id"])
    assert task.title == f"Save call with {account.name}" and task.owner_id == account.owner_id


def test_negative_sentiment_in_chat_is_escalated(
    seeded_session: Session, starter: RuleSet, run_rules: Runner
) -> None:
    chat = chat_with_contact(seeded_session)
    record_negative_sentiment(
        session=seeded_session, conversation_id=chat.id, message_id=None, score=-0.7
    )
    seeded_session.commit()
    run_rules(starter)
    fired(seeded_session, "upset-chat-escalation", chat.id)
    ticket = seeded_session.scalars(select(Ticket).where(Ticket.subject.like("Escalated%"))).one()
    assert ticket.priority == "high" and ticket.contact_id == chat.contact_id
    seeded_session.refresh(chat)
    assert chat.status == "handoff_pending"


def test_ticket_near_its_sla_is_escalated(
    seeded_session: Session, starter: RuleSet, run_rules: Runner
) -> None:
    ticket = any_ticket(seeded_session)
    ticket.priority, ticket.sla_due_at = "normal", utcnow() + timedelta(hours=1)
    seeded_session.commit()
    emit_time_events(seeded_session, starter)
    seeded_session.commit()
    run_rules(starter)
    firing = fired(seeded_session, "ticket-near-sla", ticket.id)
    assert firing.actions[0] == {
        "action": "escalate_ticket",
        "ticket": ticket.number,
        "from": "normal",
        "to": "high",
        "assignee_id": firing.actions[0]["assignee_id"],
    }
    assert seeded_session.get(Ticket, ticket.id).priority == "high"
