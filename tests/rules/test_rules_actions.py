"""Each action, run by the worker on real events, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from conftest import chat_with_contact, open_deal, owned_account, user_by_email
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_store import Scope
from crm_store.models import (
    CrmEvent,
    Deal,
    Lead,
    Message,
    Notification,
    RuleFiring,
    Task,
    Ticket,
    utcnow,
)
from crm_store.queries.deals import change_deal_stage
from crm_store.queries.events import emit_event, record_negative_sentiment
from crm_store.queries.leads import create_lead
from crm_store.queries.tickets import open_ticket
from rules.engine import BatchResult
from rules.loader import RuleSet

Loader = Callable[[str], RuleSet]
Runner = Callable[[RuleSet], BatchResult]


def admin(session: Session) -> Scope:
    return Scope.for_user(user_by_email(session, "admin@crm-demo.example"))


def rule(trigger: str, actions: str, conditions: str = "") -> str:
    """One rule, named `r`, as YAML text."""
    cond = f"    conditions:\n      - {conditions}\n" if conditions else ""
    return (
        f"rules:\n  - name: r\n    owner: ops@example.com\n    trigger: {trigger}\n{cond}"
        f"    actions:\n{actions}"
    )


def new_tasks(session: Session, after: int) -> list[Task]:
    """Tasks created after id `after` (the demo company has tasks of its own)."""
    return list(session.scalars(select(Task).where(Task.id > after).order_by(Task.id)))


def last_task_id(session: Session) -> int:
    return session.scalar(select(func.coalesce(func.max(Task.id), 0)))


def firing(session: Session) -> RuleFiring:
    return session.scalars(select(RuleFiring).where(RuleFiring.rule_name == "r")).one()


def test_create_task_on_a_stage_change(
    seeded_session: Session, rules_from: Loader, run_rules: Runner
) -> None:
    first = last_task_id(seeded_session)
    deal = open_deal(seeded_session)
    change_deal_stage(
        session=seeded_session, scope=admin(seeded_session), deal_id=deal.id, stage="negotiation"
    )
    seeded_session.commit()
    ruleset = rules_from(
        rule(
            "deal_stage_changed",
            (
                "      - create_task:\n          title: 'Prepare contract for {deal.name}'\n"
                "          due_in: 2d\n          owner: deal.owner_id\n"
            ),
            "event.to_stage == 'negotiation' and deal.amount > 0",
        )
    )
    before = utcnow()
    assert run_rules(ruleset).fired == 1
    seeded_session.expire_all()
    (task,) = new_tasks(seeded_session, first)
    assert task.title == f"Prepare contract for {deal.name}"
    assert task.owner_id == deal.owner_id and task.deal_id == deal.id
    assert before + timedelta(days=2) <= task.due_at <= utcnow() + timedelta(days=2)
    audit = firing(seeded_session)
    assert audit.status == "fired" and audit.rule_version == ruleset.rules[0].version
    assert audit.matched == {"event.to_stage": "negotiation", "deal.amount": float(deal.amount)}
    assert audit.actions[0]["task_id"] == task.id
    # Exactly once: a second run finds nothing to do.
    assert run_rules(ruleset).events == 0


def test_round_robin_assignment_cycles_through_the_team(
    seeded_session: Session, rules_from: Loader, run_rules: Runner
) -> None:
    first = last_task_id(seeded_session)
    ids = []
    for i in range(4):
        lead = create_lead(
            session=seeded_session,
            name=f"Lead {i}",
            email=f"l{i}@x.example",
            company="X",
            need="CRM",
        )
        lead.score = 0.9
        ids.append(lead.id)
    seeded_session.commit()
    ruleset = rules_from(
        rule(
            "lead_created",
            (
                "      - assign_owner: {strategy: round_robin, team: Enterprise}\n"
                "      - create_task: {title: 'Call {lead.name}', due_in: 15m,"
                " owner: lead.owner_id}\n"
            ),
            "lead.score >= 0.8",
        )
    )
    assert run_rules(ruleset).fired == 4
    seeded_session.expire_all()
    owners = [seeded_session.get(Lead, i).owner_id for i in ids]
    team = [
        user_by_email(seeded_session, e).id
        for e in (
            "alice.moreno@crm-demo.example",
            "chloe.dubois@crm-demo.example",
            "emma.schulz@crm-demo.example",
        )
    ]
    assert owners == [team[0], team[1], team[2], team[0]]
    tasks = new_tasks(seeded_session, first)
    assert [t.owner_id for t in tasks] == owners


def test_territory_assignment(
    seeded_session: Session, rules_from: Loader, run_rules: Runner
) -> None:
    deal = open_deal(seeded_session)
    country = deal.account.country
    change_deal_stage(
        session=seeded_session, scope=admin(seeded_session), deal_id=deal.id, stage="negotiation"
    )
    seeded_session.commit()
    ruleset = rules_from(
        rule(
            "deal_stage_changed",
            (
                "      - assign_owner:\n          strategy: territory\n"
                f"          territories: {{'{country}': ben.okafor@crm-demo.example}}\n"
            ),
        )
    )
    assert run_rules(ruleset).fired == 1
    seeded_session.expire_all()
    ben = user_by_email(seeded_session, "ben.okafor@crm-demo.example")
    assert seeded_session.get(Deal, deal.id).owner_id == ben.id


def test_set_field_goes_through_the_store(
    seeded_session: Session, rules_from: Loader, run_rules: Runner
) -> None:
    deal = open_deal(seeded_session)
    change_deal_stage(
        session=seeded_session, scope=admin(seeded_session), deal_id=deal.id, stage="negotiation"
    )
    seeded_session.commit()
    ruleset = rules_from(
        rule(
            "deal_stage_changed",
            ("      - set_field: {field: deal.stage, value: closed_won}\n"),
            "event.to_stage == 'negotiation'",
        )
    )
    result = run_rules(ruleset)
    # The rule's own change is an event too; the rule does not match it (to_stage differs).
    assert (result.fired, result.events) == (1, 2)
    seeded_session.expire_all()
    assert seeded_session.get(Deal, deal.id).stage == "closed_won"
    assert firing(seeded_session).actions[0] == {
        "action": "set_field",
        "record": f"deal:{deal.id}",
        "field": "stage",
        "from": "negotiation",
        "to": "closed_won",
    }


def test_escalate_ticket_and_notify(
    seeded_session: Session, rules_from: Loader, run_rules: Runner
) -> None:
    agent = user_by_email(seeded_session, "ines.costa@crm-demo.example")
    ticket = open_ticket(
        session=seeded_session,
        scope=Scope.for_user(agent),
        subject="Broken",
        description="It broke",
        email="someone@x.example",
    )
    seeded_session.commit()
    ruleset = rules_from(
        rule(
            "ticket_created",
            (
                "      - escalate_ticket: {assignee: ines.costa@crm-demo.example}\n"
                "      - notify: {to: ines.costa@crm-demo.example,\n"
                "                 message: '{ticket.number} escalated'}\n"
            ),
            "ticket.priority == 'normal'",
        )
    )
    assert run_rules(ruleset).fired == 1
    seeded_session.expire_all()
    ticket = seeded_session.get(Ticket, ticket.id)
    assert ticket.priority == "high" and ticket.assignee_id == agent.id
    assert ticket.sla_due_at <= utcnow() + timedelta(hours=8)
    note = seeded_session.scalars(select(Notification).where(Notification.kind == "rule")).one()
    assert note.payload["text"] == f"{ticket.number} escalated"
    assert note.payload["email"] == agent.email and note.status == "pending"


def test_upset_chat_escalates_and_answers(
    seeded_session: Session, rules_from: Loader, run_rules: Runner
) -> None:
    chat = chat_with_contact(seeded_session)
    record_negative_sentiment(
        session=seeded_session, conversation_id=chat.id, message_id=None, score=-0.8
    )
    seeded_session.commit()
    ruleset = rules_from(
        rule(
            "negative_sentiment",
            (
                "      - escalate_ticket: {priority: urgent}\n"
                "      - send_message: {text: 'Sorry about that. A colleague will join shortly.'}\n"
                "      - set_field: {field: conversation.status, value: handoff_pending}\n"
            ),
            "event.score <= -0.5",
        )
    )
    assert run_rules(ruleset).fired == 1
    seeded_session.expire_all()
    ticket = seeded_session.scalars(select(Ticket).where(Ticket.subject.like("Escalated%"))).one()
    assert ticket.priority == "urgent" and ticket.contact_id == chat.contact_id
    stmt = select(Message).where(Message.conversation_id == chat.id)
    message = seeded_session.scalars(stmt).one()
    assert message.text.startswith("Sorry about that") and message.sender == "bot"


def test_start_sequence_creates_one_task_per_step(
    seeded_session: Session, rules_from: Loader, run_rules: Runner
) -> None:
    first = last_task_id(seeded_session)
    account = owned_account(seeded_session)
    emit_event(
        session=seeded_session,
        type="score_crossed",
        subject_type="account",
        subject_id=account.id,
        account_id=account.id,
        payload={"kind": "churn", "score": 0.8, "bound": 0.7, "direction": "up"},
    )
    seeded_session.commit()
    ruleset = rules_from(
        rule(
            "score_crossed",
            (
                "      - start_sequence:\n          name: save\n          steps:\n"
                "            - {after: 0d, title: 'Call {account.name}'}\n"
                "            - {after: 3d, title: 'Offer for {account.name}'}\n"
            ),
            "event.kind == 'churn' and event.score >= 0.7",
        )
    )
    assert run_rules(ruleset).fired == 1
    tasks = new_tasks(seeded_session, first)
    assert [t.title for t in tasks] == [f"Call {account.name}", f"Offer for {account.name}"]
    assert {t.owner_id for t in tasks} == {account.owner_id}


def test_a_vanished_record_fails_the_firing_whole(
    seeded_session: Session, rules_from: Loader, run_rules: Runner
) -> None:
    emit_event(
        session=seeded_session,
        type="ticket_created",
        subject_type="ticket",
        subject_id=999_999,
        payload={"priority": "normal"},
    )
    seeded_session.commit()
    notes_before = seeded_session.scalar(select(func.count()).select_from(Notification))
    ruleset = rules_from(
        rule(
            "ticket_created",
            (
                "      - notify: {to: '#support', message: 'ticket {ticket.id}'}\n"
                "      - set_field: {field: ticket.priority, value: urgent}\n"
            ),
        )
    )
    result = run_rules(ruleset)
    assert (result.fired, result.failed) == (0, 1)
    seeded_session.expire_all()
    audit = firing(seeded_session)
    assert audit.status == "failed" and audit.actions == []
    assert audit.error == "set_field: ticket 999999 no longer exists"
    # The notification written before the failure was rolled back with it.
    assert seeded_session.scalar(select(func.count()).select_from(Notification)) == notes_before
    assert seeded_session.scalars(select(CrmEvent.status)).all() == ["done"]
