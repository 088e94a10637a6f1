"""Store events, the scheduler, simulation, statistics and the `crm rules` commands."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import any_ticket, chat_with_contact, open_deal, owned_account, user_by_email
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from crm_cli.main import app
from crm_store import Scope
from crm_store.errors import InvalidInputError
from crm_store.models import CrmEvent, Deal, RuleFiring, Task, utcnow
from crm_store.queries.activities import create_task
from crm_store.queries.deals import change_deal_stage
from crm_store.queries.events import (
    crossed_bounds,
    record_conversation_handed_over,
    record_score_crossed,
)
from crm_store.queries.leads import create_lead
from rules.audit import simulate, stats
from rules.engine import BatchResult
from rules.loader import DEFAULT_RULES_DIR, RuleSet, load_rules
from rules.scheduler import emit_time_events

Loader = Callable[[str], RuleSet]
Runner = Callable[[RuleSet], BatchResult]
IDLE_RULE = """\
rules:
  - name: idle
    owner: ops@example.com
    trigger: {event: deal_idle, days: 14}
    actions:
      - create_task: {title: "Revive {deal.name}", owner: deal.owner_id}
"""


def _events(session: Session) -> list[tuple[str, str, int | None]]:
    stmt = select(CrmEvent.type, CrmEvent.subject_type, CrmEvent.subject_id).order_by(CrmEvent.id)
    return [tuple(row) for row in session.execute(stmt)]


def test_store_changes_write_their_events_in_the_same_transaction(seeded_session: Session) -> None:
    rep = user_by_email(seeded_session, "alice.moreno@crm-demo.example")
    deal = seeded_session.scalars(
        select(Deal).where(Deal.owner_id == rep.id, Deal.stage == "proposal")
    ).first()
    lead = create_lead(
        session=seeded_session, name="Ann", email="ann@x.example", company=None, need=None
    )
    task = create_task(session=seeded_session, scope=Scope.for_user(rep), title="Call", due_at=None)
    change_deal_stage(
        session=seeded_session, scope=Scope.for_user(rep), deal_id=deal.id, stage="negotiation"
    )
    chat = chat_with_contact(seeded_session)
    record_conversation_handed_over(session=seeded_session, conversation_id=chat.id, reason="asked")
    assert _events(seeded_session) == [
        ("lead_created", "lead", lead.id),
        ("task_created", "task", task.id),
        ("deal_stage_changed", "deal", deal.id),
        ("conversation_handed_over", "conversation", chat.id),
    ]
    seeded_session.rollback()  # the changes and their events go together
    assert _events(seeded_session) == []


def test_score_crossings(seeded_session: Session) -> None:
    assert crossed_bounds(0.4, 0.75, (0.5, 0.7, 0.9)) == [(0.5, "up"), (0.7, "up")]
    assert crossed_bounds(0.95, 0.6, (0.5, 0.7, 0.9)) == [(0.7, "down"), (0.9, "down")]
    assert crossed_bounds(0.6, 0.65, (0.5, 0.7)) == []
    account = owned_account(seeded_session)
    events = record_score_crossed(
        session=seeded_session, account_id=account.id, kind="churn", previous=0.6, score=0.72
    )
    assert [e.payload["bound"] for e in events] == [0.7]
    with pytest.raises(InvalidInputError, match="account 999999 does not exist"):
        record_score_crossed(
            session=seeded_session, account_id=999_999, kind="churn", previous=None, score=0.9
        )


def test_the_scheduler_emits_each_idle_period_once(
    seeded_session: Session, rules_from: Loader, run_rules: Runner
) -> None:
    ruleset = rules_from(IDLE_RULE)
    deal = open_deal(seeded_session)
    deal.last_activity_at = utcnow() - timedelta(days=20)
    seeded_session.commit()
    first = emit_time_events(seeded_session, ruleset)
    seeded_session.commit()
    assert first["deal_idle"] >= 1
    assert emit_time_events(seeded_session, ruleset)["deal_idle"] == 0  # a tick again: nothing
    seeded_session.commit()
    result = run_rules(ruleset)
    assert result.fired == first["deal_idle"]
    titles = seeded_session.scalars(select(Task.title).where(Task.deal_id == deal.id)).all()
    assert f"Revive {deal.name}" in titles


def test_simulate_has_no_side_effects(
    seeded_session: Session, rules_from: Loader, run_rules: Runner
) -> None:
    ruleset = rules_from(IDLE_RULE)
    emit_time_events(seeded_session, ruleset)
    seeded_session.commit()
    tasks = seeded_session.scalar(select(func.count()).select_from(Task))
    report = simulate(seeded_session, ruleset, utcnow() - timedelta(days=1))
    replay = report.rules["idle"]
    assert replay.would_fire == report.events > 0 and replay.already_fired == 0
    assert replay.samples[0]["actions"][0]["action"] == "create_task"
    assert seeded_session.scalar(select(func.count()).select_from(Task)) == tasks
    assert seeded_session.scalar(select(func.count()).select_from(RuleFiring)) == 0
    assert seeded_session.scalar(select(func.count()).where(CrmEvent.status == "pending")) == (
        report.events
    )
    run_rules(ruleset)
    again = simulate(seeded_session, ruleset, utcnow() - timedelta(days=1))
    assert again.rules["idle"].already_fired == replay.would_fire


def test_stats_count_firings_and_time_saved(
    seeded_session: Session, rules_from: Loader, run_rules: Runner
) -> None:
    ruleset = rules_from(IDLE_RULE)
    emit_time_events(seeded_session, ruleset)
    seeded_session.commit()
    fired = run_rules(ruleset).fired
    (row,) = stats(seeded_session, ruleset)
    assert (row.name, row.fired, row.failed, row.versions) == ("idle", fired, 0, 1)
    assert row.minutes_saved == pytest.approx(fired * 2.0)  # create_task's estimate


def test_cli_validate_run_simulate_stats(
    seeded_db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRM_DATABASE_URL", seeded_db_url)
    runner = CliRunner()
    result = runner.invoke(app, ["rules", "validate"])
    assert result.exit_code == 0, result.output
    assert f"{len(load_rules(DEFAULT_RULES_DIR).rules)} rules loaded, 0 problems" in result.output
    bad = tmp_path / "bad.yml"
    bad.write_text(
        (DEFAULT_RULES_DIR / "sales.yml")
        .read_text()
        .replace("deal.amount >= 1000", "deal.amount >= 'lots'")
    )
    result = runner.invoke(app, ["rules", "validate", "--rules", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:11: rule 'stalled-deal-follow-up'" in result.output
    result = runner.invoke(app, ["rules", "run", "--once"])
    assert result.exit_code == 0, result.output
    assert "fired" in result.output
    result = runner.invoke(app, ["rules", "simulate", "--since", "30d"])
    assert result.exit_code == 0 and "stalled-deal-follow-up: would fire" in result.output
    result = runner.invoke(app, ["rules", "simulate", "--since", "a month"])
    assert result.exit_code == 2 and "use a span such as" in result.output
    result = runner.invoke(app, ["rules", "stats"])
    assert result.exit_code == 0 and "stalled-deal-follow-up" in result.output


TIME_RULES = """\
rules:
  - name: sla
    owner: ops@example.com
    trigger: {event: ticket_sla_due, hours: 2}
    actions:
      - notify: {to: "#support", message: "{ticket.number} is due"}
  - name: overdue
    owner: ops@example.com
    trigger: task_overdue
    actions:
      - notify: {to: "#tasks", message: "{task.title} is overdue"}
  - name: renewal
    owner: ops@example.com
    trigger: {event: renewal_due, days: 30}
    actions:
      - notify: {to: "#renewals", message: "{deal.name} renews {deal.close_date}"}
"""


def test_every_time_trigger_is_emitted_once(
    seeded_session: Session, rules_from: Loader, run_rules: Runner
) -> None:
    ruleset = rules_from(TIME_RULES)
    now = utcnow()
    ticket = any_ticket(seeded_session)
    ticket.sla_due_at = now + timedelta(hours=1)
    rep = user_by_email(seeded_session, "alice.moreno@crm-demo.example")
    task = create_task(
        session=seeded_session,
        scope=Scope.for_user(rep),
        title="Send quote",
        due_at=now - timedelta(hours=3),
    )
    deal = open_deal(seeded_session)
    deal.close_date = (now + timedelta(days=10)).date()
    seeded_session.commit()
    written = emit_time_events(seeded_session, ruleset, now)
    seeded_session.commit()
    assert min(written["ticket_sla_due"], written["task_overdue"], written["renewal_due"]) >= 1
    assert sum(emit_time_events(seeded_session, ruleset, now).values()) == 0
    seeded_session.commit()
    subjects = {(t, s) for t, _, s in _events(seeded_session)}
    assert {
        ("ticket_sla_due", ticket.id),
        ("task_overdue", task.id),
        ("renewal_due", deal.id),
    } <= subjects
    result = run_rules(ruleset)
    assert result.fired == sum(written.values()) and result.failed == 0


def test_run_without_a_database_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_DATABASE_URL", "postgresql://postgres@127.0.0.1:1/none")
    result = CliRunner().invoke(app, ["rules", "run", "--once"])
    assert result.exit_code == 1
    assert "database unavailable, nothing lost" in result.output
