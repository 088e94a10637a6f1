"""Rep actions against a real seeded database: resolution, role gating and real writes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from bot_support import (
    customer_identity,
    entity,
    make_tracker,
    rep_identity,
    responses,
    run,
    slot_events,
)
from sqlalchemy import delete, select

from bot.actions.accounts import ActionAccountSummary
from bot.actions.activities import ActionCreateTask, ActionLogCall, ActionLogNote
from bot.actions.deals import ActionOpenDeals
from bot.actions.predictions import ActionAtRiskAccounts, ActionChurnRisk, ActionNextBestAction
from bot.actions.resume import ActionResumeAccountRequest
from crm_store.db import session_scope
from crm_store.demo import DEMO_CREDENTIALS
from crm_store.models import Account, Activity, PredictionScore, Task
from crm_store.queries.accounts import account_summary
from crm_store.queries.deals import list_open_deals
from crm_store.scope import Role, Scope


def rep_scope(crm: dict) -> Scope:
    return Scope(role=Role(crm["role"]), user_id=crm["user_id"], team_id=crm["team_id"])


def account_id(name: str) -> int:
    with session_scope() as session:
        return session.scalars(select(Account.id).where(Account.name == name)).one()


def ask(text: str, intent: str, account: str | None = None, **kwargs: object):  # noqa: ANN201
    entities = [entity(text, "account", account)] if account else []
    return make_tracker(text, intent, entities=entities, **kwargs)


async def test_summary_carries_the_real_owner_and_open_deals(crm_db: str, domain: dict) -> None:
    crm = rep_identity()
    name = DEMO_CREDENTIALS.rep_account_name
    tracker = ask(f"give me a summary of {name}", "account_summary", name, crm=crm)
    events, messages = await run(ActionAccountSummary(), tracker, domain)
    with session_scope() as session:
        truth = account_summary(session=session, scope=rep_scope(crm), account_id=account_id(name))
    assert truth is not None
    assert messages[0]["response"] == "utter_account_summary"
    assert messages[0]["name"] == name
    assert messages[0]["owner"].startswith(truth.owner_name)
    assert messages[0]["open_deal_count"] == truth.open_deal_count
    assert slot_events(events)["account"] == name


async def test_a_vague_name_offers_the_candidates_as_buttons(crm_db: str, domain: dict) -> None:
    tracker = ask("summarise acme", "account_summary", "acme", crm=rep_identity())
    events, messages = await run(ActionAccountSummary(), tracker, domain)
    assert responses(messages) == ["utter_which_account"]
    titles = [button["title"] for button in messages[0]["buttons"]]
    assert {DEMO_CREDENTIALS.rep_account_name, DEMO_CREDENTIALS.similar_account_name} <= set(titles)
    payload = messages[0]["buttons"][0]["payload"]
    assert payload.startswith("/inform{")
    assert json.loads(payload[len("/inform") :])["account"].startswith("#")
    assert slot_events(events)["pending_intent"] == "account_summary"


async def test_choosing_a_button_resumes_the_waiting_request(crm_db: str, domain: dict) -> None:
    crm = rep_identity()
    target = account_id(DEMO_CREDENTIALS.similar_account_name)
    payload_entity = {"entity": "account", "value": f"#{target}"}
    tracker = make_tracker(
        f'/inform{{"account": "#{target}"}}', "inform",
        entities=[payload_entity], crm=crm,
        slots={"pending_intent": "log_note", "pending_text": "note for acme: prefers email"},
    )  # fmt: skip
    events, messages = await run(ActionResumeAccountRequest(), tracker, domain)
    assert responses(messages) == ["utter_activity_logged"]
    assert slot_events(events)["pending_intent"] is None
    with session_scope() as session:
        note = session.scalars(
            select(Activity).where(Activity.account_id == target, Activity.kind == "note")
            .order_by(Activity.id.desc())
        ).first()  # fmt: skip
        assert note is not None and note.body == "prefers email"


async def test_a_bare_account_name_from_a_rep_shows_its_summary(crm_db: str, domain: dict) -> None:
    name = DEMO_CREDENTIALS.rep_account_name
    tracker = ask(name, "inform", name, crm=rep_identity())
    _, messages = await run(ActionResumeAccountRequest(), tracker, domain)
    assert responses(messages) == ["utter_account_summary"]


async def test_another_reps_account_is_not_shown(crm_db: str, domain: dict) -> None:
    name = DEMO_CREDENTIALS.other_rep_account_name
    tracker = ask(f"summary of {name}", "account_summary", name, crm=rep_identity())
    _, messages = await run(ActionAccountSummary(), tracker, domain)
    assert "utter_account_summary" not in responses(messages)
    offered = [b["title"] for m in messages for b in m.get("buttons", [])]
    assert name not in offered


async def test_an_unknown_name_is_reported_as_not_found(crm_db: str, domain: dict) -> None:
    tracker = ask("summary of Zyxwvut Qqq", "account_summary", "Zyxwvut Qqq", crm=rep_identity())
    events, messages = await run(ActionAccountSummary(), tracker, domain)
    assert messages == [
        {**messages[0], "response": "utter_account_not_found", "query": "Zyxwvut Qqq"}
    ]
    assert slot_events(events)["account"] is None


@pytest.mark.parametrize(
    "action",
    [ActionAccountSummary(), ActionChurnRisk(), ActionNextBestAction(), ActionLogCall(),
     ActionLogNote(), ActionCreateTask(), ActionOpenDeals(), ActionAtRiskAccounts()],
    ids=lambda a: a.name(),
)  # fmt: skip
@pytest.mark.parametrize("who", ["customer", "anonymous"])
async def test_customers_get_a_polite_refusal(
    crm_db: str, domain: dict, action: object, who: str
) -> None:
    crm = customer_identity() if who == "customer" else None
    name = DEMO_CREDENTIALS.customer_account_name
    tracker = ask(f"log a call with {name}: hello", "log_call", name, crm=crm)
    _, messages = await run(action, tracker, domain)  # type: ignore[arg-type]
    assert responses(messages) == ["utter_rep_only"]


async def test_a_missing_account_is_asked_for(crm_db: str, domain: dict) -> None:
    events, messages = await run(
        ActionChurnRisk(), ask("churn risk", "churn_risk", crm=rep_identity()), domain
    )
    assert responses(messages) == ["utter_ask_account"]
    assert slot_events(events) == {"pending_intent": "churn_risk", "pending_text": "churn risk"}


async def test_open_deals_match_the_store_for_the_period(crm_db: str, domain: dict) -> None:
    crm = rep_identity()
    tracker = ask("open deals this quarter", "open_deals", crm=crm,
                  slots={"period": "this_quarter"})  # fmt: skip
    events, messages = await run(ActionOpenDeals(), tracker, domain)
    with session_scope() as session:
        expected = list_open_deals(session=session, scope=rep_scope(crm), period="this_quarter")
    if expected:
        assert messages[0]["response"] == "utter_open_deals"
        assert messages[0]["count"] == len(expected)
        lines = [m for m in messages if m["response"] == "utter_open_deal_line"]
        assert [m["deal"] for m in lines] == [d.name for d in expected[:10]]
    else:
        assert responses(messages) == ["utter_no_open_deals"]
    assert {"period": None, "amount": None}.items() <= slot_events(events).items()


async def test_open_deals_amount_filter(crm_db: str, domain: dict) -> None:
    crm = rep_identity()
    tracker = ask("deals over 1m", "open_deals", crm=crm, slots={"amount": "1000000000"})
    _, messages = await run(ActionOpenDeals(), tracker, domain)
    assert responses(messages) == ["utter_no_open_deals"]
    assert "at least $1,000,000,000" in messages[0]["scope_text"]


async def test_churn_is_unavailable_until_a_score_exists(
    crm_db: str, domain: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No trained model (an empty registry): the actions fall back to stored scores only.
    monkeypatch.setenv("CRM_MODELS_DIR", str(tmp_path / "no-models"))
    crm = rep_identity()
    name = DEMO_CREDENTIALS.rep_account_name
    target = account_id(name)
    with session_scope() as session:
        session.execute(delete(PredictionScore).where(PredictionScore.kind == "churn"))
    tracker = ask(f"is {name} at risk?", "churn_risk", name, crm=crm)
    _, messages = await run(ActionChurnRisk(), tracker, domain)
    assert responses(messages) == ["utter_churn_unavailable"]
    _, messages = await run(ActionAtRiskAccounts(), ask("at risk?", "at_risk_accounts", crm=crm),
                            domain)  # fmt: skip
    assert responses(messages) == ["utter_at_risk_unavailable"]

    scored_at = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
    with session_scope() as session:
        session.add(PredictionScore(
            account_id=target, kind="churn", score=0.72, label="high",
            model_version="churn-lr-test-1", scored_at=scored_at,
            reasons=[{"feature": "open_tickets", "effect": 0.3}],
        ))  # fmt: skip
    _, messages = await run(ActionChurnRisk(), tracker, domain)
    assert responses(messages) == ["utter_churn_score", "utter_churn_reasons"]
    assert (messages[0]["score"], messages[0]["model_version"], messages[0]["scored_on"]) == (
        "72%",
        "churn-lr-test-1",
        "20 Nov 2026",
    )
    _, messages = await run(ActionAtRiskAccounts(), ask("at risk?", "at_risk_accounts", crm=crm),
                            domain)  # fmt: skip
    assert responses(messages) == ["utter_at_risk_header", "utter_at_risk_line"]
    assert messages[1]["account"] == name
    _, messages = await run(ActionNextBestAction(), tracker, domain)
    assert responses(messages) == ["utter_nba_unavailable", "utter_churn_score"]


async def test_log_call_writes_a_call_with_the_notes(crm_db: str, domain: dict) -> None:
    name = DEMO_CREDENTIALS.rep_account_name
    text = f"log a call with {name}: discussed renewal pricing"
    _, messages = await run(
        ActionLogCall(), ask(text, "log_call", name, crm=rep_identity()), domain
    )
    assert responses(messages) == ["utter_activity_logged"]
    with session_scope() as session:
        call = session.scalars(
            select(Activity).where(Activity.account_id == account_id(name), Activity.kind == "call")
            .order_by(Activity.id.desc())
        ).first()  # fmt: skip
        assert call is not None
        assert (call.subject, call.body) == (
            "discussed renewal pricing",
            "discussed renewal pricing",
        )


async def test_log_note_without_text_asks_for_it(crm_db: str, domain: dict) -> None:
    name = DEMO_CREDENTIALS.rep_account_name
    tracker = ask(f"add a note to {name}", "log_note", name, crm=rep_identity())
    _, messages = await run(ActionLogNote(), tracker, domain)
    assert responses(messages) == ["utter_ask_note_text"]


async def test_create_task_writes_a_task_due_tomorrow_morning(crm_db: str, domain: dict) -> None:
    crm = rep_identity()
    name = DEMO_CREDENTIALS.rep_account_name
    text = f"remind me to call {name} tomorrow"
    tracker = make_tracker(
        text, "create_task", crm=crm, slots={"due": "tomorrow"},
        entities=[entity(text, "account", name), entity(text, "due", "tomorrow")],
    )  # fmt: skip
    events, messages = await run(ActionCreateTask(), tracker, domain)
    assert responses(messages) == ["utter_task_created"]
    assert slot_events(events)["due"] is None
    with session_scope() as session:
        task = session.scalars(select(Task).order_by(Task.id.desc())).first()
        assert task is not None
        assert (task.title, task.owner_id, task.account_id) == (
            f"call {name}",
            crm["user_id"],
            account_id(name),
        )
        due = task.due_at.astimezone(UTC)
    tomorrow = datetime.now(UTC).date() + timedelta(days=1)
    assert (due.date(), due.hour) == (tomorrow, 9)
