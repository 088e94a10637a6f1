"""The automation questions against a real seeded database (SQLite and PostgreSQL): what the
rules did for an account (firings made by the real worker), and which deals are stalled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from bot_support import (
    customer_identity,
    entity,
    identity,
    make_tracker,
    rep_identity,
    responses,
    run,
    slot_events,
)
from sqlalchemy import select, update

from bot.actions.automations import ActionAutomationActivity, ActionStalledDeals
from bot.actions.leads import ActionCreateLead
from bot.actions.resume import ActionResumeAccountRequest
from bot.actions.windows import parse_lookback, span_days
from crm_store import db
from crm_store.db import session_scope
from crm_store.demo import DEMO_CREDENTIALS as CREDS
from crm_store.models import (
    OPEN_DEAL_STAGES,
    Account,
    CrmEvent,
    Deal,
    Lead,
    RuleFiring,
    Team,
    User,
    utcnow,
)
from crm_store.queries.deals import list_stalled_deals
from crm_store.queries.events import record_score_crossed
from crm_store.scope import Scope
from predict.leads import score_lead
from rules.engine import drain
from rules.loader import load_rules

ACME = CREDS.rep_account_name


def ask(text: str, intent: str, account: str | None = None, **kwargs: object):  # noqa: ANN201
    entities = [entity(text, "account", account)] if account else []
    return make_tracker(text, intent, entities=entities, **kwargs)


def scope_of(email: str) -> Scope:
    with session_scope() as session:
        return Scope.for_user(session.scalars(select(User).where(User.email == email)).one())


def stall_a_deal(account: str = ACME, days: int = 20) -> str:
    """Make one open deal of `account` idle for `days`; returns its name."""
    with session_scope() as session:
        deal = session.scalars(
            select(Deal).join(Account).where(Account.name == account,
                                             Deal.stage.in_(OPEN_DEAL_STAGES))
            .order_by(Deal.id)).first()  # fmt: skip
        deal.last_activity_at = utcnow() - timedelta(days=days)
        return deal.name


def fire_churn_rule(crm_db: str) -> None:
    """A churn score crossing on Acme Corp (worth 2M), acted on by the shipped rules' worker."""
    with session_scope() as session:
        account = session.scalars(select(Account).where(Account.name == ACME)).one()
        account.annual_revenue = Decimal("2000000")
        record_score_crossed(
            session=session, account_id=account.id, kind="churn", previous=0.4, score=0.82
        )
    drain(db.make_session_factory(db.get_engine(crm_db)), load_rules())


# ------------------------------------------------------------------ "which deals are stalled?"


async def test_stalled_deals_use_the_rules_threshold_and_the_reps_scope(
    crm_db: str, domain: dict
) -> None:
    name = stall_a_deal()
    crm = rep_identity()
    events, messages = await run(
        ActionStalledDeals(),
        ask("which of my deals are stalled?", "stalled_deals", crm=crm),
        domain,
    )
    with session_scope() as session:
        truth = list_stalled_deals(session=session, scope=scope_of(CREDS.rep_email), idle_days=14)
    assert messages[0]["response"] == "utter_stalled_deals"
    assert messages[0]["count"] == len(truth) and messages[0]["days"] == 14
    lines = [m for m in messages if m["response"] == "utter_stalled_deal_line"]
    assert [m["deal"] for m in lines] == [d.name for d in truth][: len(lines)]
    assert name in {m["deal"] for m in lines}
    assert all(m["idle_days"] >= 14 for m in lines)
    assert messages[-1] == {
        **messages[-1],
        "response": "utter_stalled_threshold_rule",
        "days": 14,
        "rule": "stalled-deal-follow-up",
    }
    assert slot_events(events) == {
        "period": None,
        "amount": None,
        "due": None,
        "pending_intent": None,
        "pending_text": None,
    }


async def test_another_rep_does_not_see_them_and_the_manager_does(
    crm_db: str, domain: dict
) -> None:
    name = stall_a_deal(days=900)  # the oldest, so it heads the manager's list
    other = ask("stalled deals", "stalled_deals", crm=identity(CREDS.other_rep_email))
    _, theirs = await run(ActionStalledDeals(), other, domain)
    manager = ask(
        "which of my team's deals are stalled", "stalled_deals", crm=identity(CREDS.manager_email)
    )
    _, team = await run(ActionStalledDeals(), manager, domain)
    assert name not in {m.get("deal") for m in theirs}
    with session_scope() as session:
        truth = list_stalled_deals(
            session=session, scope=scope_of(CREDS.manager_email), idle_days=14
        )
    assert team[0]["count"] == len(truth) and team[1]["deal"] == name


async def test_a_span_in_the_question_overrides_and_the_rule_is_still_named(
    crm_db: str, domain: dict
) -> None:
    stall_a_deal(days=40)
    text = f"deals at {ACME} with no activity for 30 days"
    _, messages = await run(
        ActionStalledDeals(), ask(text, "stalled_deals", ACME, crm=rep_identity()), domain
    )
    with session_scope() as session:
        acme = session.scalars(select(Account.id).where(Account.name == ACME)).one()
        truth = list_stalled_deals(
            session=session, scope=scope_of(CREDS.rep_email), idle_days=30, account_id=acme
        )
    assert messages[0]["days"] == 30 and messages[0]["count"] == len(truth) >= 1
    assert messages[0]["scope_text"] == f" at {ACME}"
    assert {m["account"] for m in messages if m["response"] == "utter_stalled_deal_line"} == {ACME}
    assert messages[-1]["response"] == "utter_stalled_threshold_asked"
    assert messages[-1]["rule_days"] == 14


async def test_the_threshold_follows_the_rule_files(
    crm_db: str, domain: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rules = tmp_path / "rules.yml"
    rules.write_text(
        "rules:\n  - name: stalled-deal-follow-up\n    owner: ops@example.com\n"
        "    trigger: {event: deal_idle, days: 45}\n    actions:\n"
        "      - create_task: {title: 'Revive {deal.name}'}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("CRM_RULES_PATH", str(rules))
    _, messages = await run(
        ActionStalledDeals(), ask("stuck deals", "stalled_deals", crm=rep_identity()), domain
    )
    assert messages[0]["days"] == 45 and messages[-1]["days"] == 45
    rules.write_text("rules: []\n", encoding="utf-8")
    _, messages = await run(
        ActionStalledDeals(), ask("stuck deals", "stalled_deals", crm=rep_identity()), domain
    )
    assert messages[-1] == {
        **messages[-1],
        "response": "utter_stalled_threshold_default",
        "days": 14,
    }


async def test_customers_may_not_ask(crm_db: str, domain: dict) -> None:
    for action, intent in (
        (ActionStalledDeals(), "stalled_deals"),
        (ActionAutomationActivity(), "automation_activity"),
    ):
        _, messages = await run(
            action, ask("stalled deals", intent, crm=customer_identity()), domain
        )
        assert responses(messages) == ["utter_rep_only"]


# ------------------------------------------------------------------ "what did the automations do?"


async def test_automation_activity_tells_what_the_worker_did(crm_db: str, domain: dict) -> None:
    fire_churn_rule(crm_db)
    text = f"what did the automations do for {ACME} this week?"
    events, messages = await run(
        ActionAutomationActivity(),
        ask(text, "automation_activity", ACME, crm=rep_identity()),
        domain,
    )
    with session_scope() as session:
        owner = session.scalars(
            select(User).join(Account, Account.owner_id == User.id).where(Account.name == ACME)
        ).one()
    assert messages[0]["response"] == "utter_automation_activity"
    assert messages[0]["count"] == 1 and messages[0]["where"] == f" for {ACME}"
    assert messages[0]["period"].startswith("this week (since Monday")
    line = messages[1]
    assert line["response"] == "utter_automation_line" and line["rule"] == "churn-risk-save-call"
    assert line["about"] == ACME
    assert line["did"] == (
        f"notified {owner.email}; created the task “Save call with {ACME}” "
        f"for {owner.name}, due " + line["did"].split(", due ")[1]
    )
    assert line["purpose"].startswith("High churn risk on a valuable account")
    assert slot_events(events)["account"] == ACME


async def test_activity_is_scoped_and_windowed(crm_db: str, domain: dict) -> None:
    fire_churn_rule(crm_db)
    other = ask(
        "what did the automations do this week",
        "automation_activity",
        crm=identity(CREDS.other_rep_email),
    )
    _, theirs = await run(ActionAutomationActivity(), other, domain)
    assert responses(theirs) == ["utter_no_automation_activity"]
    assert theirs[0]["where"] == " on your accounts"
    with session_scope() as session:  # the firing happened three weeks ago
        session.execute(update(RuleFiring).values(fired_at=utcnow() - timedelta(days=21)))
    mine = rep_identity()
    _, week = await run(
        ActionAutomationActivity(),
        ask("automations this week", "automation_activity", crm=mine),
        domain,
    )
    _, month = await run(
        ActionAutomationActivity(),
        ask(f"automations for {ACME} in the last 30 days", "automation_activity", ACME, crm=mine),
        domain,
    )
    assert responses(week) == ["utter_no_automation_activity"]
    assert responses(month)[:2] == ["utter_automation_activity", "utter_automation_line"]
    assert month[0]["period"] == "in the last 30 days"


async def test_an_ambiguous_account_waits_then_resumes_with_the_same_window(
    crm_db: str, domain: dict
) -> None:
    fire_churn_rule(crm_db)
    text = "what did the automations do for Acme in the last 30 days"
    events, messages = await run(
        ActionAutomationActivity(),
        ask(text, "automation_activity", "Acme", crm=rep_identity()),
        domain,
    )
    assert responses(messages) == ["utter_which_account"]
    slots = slot_events(events)
    assert slots["pending_intent"] == "automation_activity" and slots["pending_text"] == text
    chosen = make_tracker(
        f'/inform{{"account": "{ACME}"}}',
        "inform",
        entities=[{"entity": "account", "value": ACME}],
        slots=slots,
        crm=rep_identity(),
    )
    _, resumed = await run(ActionResumeAccountRequest(), chosen, domain)
    assert resumed[0]["response"] == "utter_automation_activity"
    assert resumed[0]["period"] == "in the last 30 days" and resumed[0]["count"] == 1


# ------------------------------------------------------------------ hot leads from the chat


async def test_a_hot_lead_from_the_chat_is_scored_and_routed_by_the_starter_rule(
    crm_db: str, domain: dict
) -> None:
    hot = {
        "name": "Hana Ito",
        "email": "hana@bigco.example",
        "company": "BigCo",
        "need": "We need 200 seats for our sales team this quarter, budget approved",
    }
    cold = {"name": "Joe Bloggs", "email": "joe@gmail.com", "company": None, "need": "hi"}
    for slots in (hot, cold):
        await run(ActionCreateLead(), make_tracker("x", slots=slots), domain)
    drain(db.make_session_factory(db.get_engine(crm_db)), load_rules())
    with session_scope() as session:
        leads = {
            lead.email: lead
            for lead in session.scalars(
                select(Lead).where(Lead.email.in_([hot["email"], cold["email"]]))
            )
        }
        expected = score_lead(hot["email"], hot["company"], hot["need"]).probability
        assert leads[hot["email"]].score == pytest.approx(round(expected, 4)) and expected >= 0.7
        assert leads[cold["email"]].score < 0.7
        enterprise = set(
            session.scalars(
                select(User.id).join(Team, Team.id == User.team_id).where(Team.name == "Enterprise")
            )
        )
        assert leads[hot["email"]].owner_id in enterprise
        assert leads[cold["email"]].owner_id is None
        routed = session.scalars(
            select(CrmEvent.subject_id).join(RuleFiring, RuleFiring.event_id == CrmEvent.id)
            .where(RuleFiring.rule_name == "hot-lead-to-senior-rep")).all()  # fmt: skip
        assert routed == [leads[hot["email"]].id]


# ------------------------------------------------------------------ spans of time, as said


NOW = datetime(2026, 11, 26, 15, 30, tzinfo=UTC)  # a Thursday


@pytest.mark.parametrize(
    ("text", "since", "label"),
    [
        (
            "what did the automations do this week",
            datetime(2026, 11, 23, tzinfo=UTC),
            "this week (since Monday 23 Nov)",
        ),
        ("automations today", datetime(2026, 11, 26, tzinfo=UTC), "today"),
        (
            "automations for Acme in the last 30 days",
            NOW - timedelta(days=30),
            "in the last 30 days",
        ),
        ("rules that fired in the past two weeks", NOW - timedelta(days=14), "in the last 14 days"),
        ("anything over the past week?", NOW - timedelta(days=7), "in the last 7 days"),
        ("what did the automations do", NOW - timedelta(days=7), "in the last 7 days"),
    ],
)
def test_parse_lookback(text: str, since: datetime, label: str) -> None:
    assert parse_lookback(text, NOW) == (parse_lookback(text, NOW).__class__(since, label))


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("deals with no activity for two weeks", 14),
        ("no touches in 10 days", 10),
        ("inactive for a month", 30),
        ("which of my deals are stalled?", None),
        ("deals with weekly calls", None),
        ("quiet for a fortnight", 14),
        ("for 0 days", None),
    ],
)
def test_span_days(text: str, days: int | None) -> None:
    assert span_days(text) == days
