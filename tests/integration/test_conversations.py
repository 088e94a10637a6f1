"""End to end: a customer and a sales rep hold real conversations through API → Rasa → actions.

Each test runs against SQLite and PostgreSQL (the `running` fixture's parameter). Expected
values are read from the database the stack uses, never written into the test.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import httpx
import pytest

from crm_store import Scope, db
from crm_store.demo import DEMO_CREDENTIALS as CREDS
from crm_store.models import (
    OPEN_DEAL_STAGES,
    Account,
    Conversation,
    Deal,
    Message,
    Order,
    User,
    utcnow,
)
from crm_store.queries.accounts import account_summary, resolve_account
from crm_store.queries.events import record_score_crossed
from rules.engine import drain
from rules.loader import RuleSet, load_rules

pytestmark = pytest.mark.integration


def _session_id() -> str:
    return f"it-{uuid.uuid4().hex[:12]}"


def _say(client: httpx.Client, path: str, session_id: str, text: str, **kw) -> str:
    response = client.post(path, json={"session_id": session_id, "text": text}, **kw)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["session_id"] == session_id
    return " ".join(m["text"] for m in body["messages"] if m.get("text"))


def _rep_headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _transcript(url: str, external_id_suffix: str) -> list[tuple[str, str]]:
    with db.session_scope(url) as session:
        conversation = (
            session.query(Conversation)
            .filter(Conversation.external_id.like(f"%{external_id_suffix}"))
            .one()
        )
        rows = (
            session.query(Message)
            .filter_by(conversation_id=conversation.id)
            .order_by(Message.id)
            .all()
        )
        return [(m.sender, m.text) for m in rows]


def test_customer_order_status_answers_from_the_database(running) -> None:
    with db.session_scope(running.database_url) as session:
        order = session.query(Order).filter_by(number=CREDS.customer_order_number).one()
        status = str(order.status.value if hasattr(order.status, "value") else order.status)
    sid = _session_id()
    with running.client() as client:
        _say(client, "/v1/chat/web", sid, "hi")
        asked = _say(client, "/v1/chat/web", sid, f"where is my order {order.number}?")
        assert "email" in asked.lower()
        answer = _say(client, "/v1/chat/web", sid, CREDS.customer_email)
    assert order.number in answer
    assert status in answer.lower()
    transcript = _transcript(running.database_url, sid)
    # Rasa got the raw email (the order was found); the stored transcript holds a placeholder.
    assert ("user", "[email]") in transcript
    assert not any(CREDS.customer_email in text for _sender, text in transcript)
    assert any(sender == "bot" and status in text.lower() for sender, text in transcript)
    for process in running.processes:  # nor do the API's and action server's logs hold it
        assert CREDS.customer_email not in process.log_path.read_text(errors="replace")


def test_customer_with_wrong_email_learns_nothing(running) -> None:
    sid = _session_id()
    with running.client() as client:
        _say(client, "/v1/chat/web", sid, f"status of order {CREDS.customer_order_number}")
        answer = _say(client, "/v1/chat/web", sid, "mallory@evil.example")
    with db.session_scope(running.database_url) as session:
        order = session.query(Order).filter_by(number=CREDS.customer_order_number).one()
        status = str(order.status.value if hasattr(order.status, "value") else order.status)
    assert status not in answer.lower() or "couldn't" in answer.lower()
    assert "placed on" not in answer.lower()


def test_rep_account_summary_carries_owner_and_open_deals(running) -> None:
    with db.session_scope(running.database_url) as session:
        rep = session.query(User).filter_by(email=CREDS.rep_email).one()
        scope = Scope.for_user(rep)
        match = resolve_account(session=session, scope=scope, name=CREDS.rep_account_name)[0]
        summary = account_summary(session=session, scope=scope, account_id=match.account_id)
        assert summary is not None
    sid = _session_id()
    with running.client() as client:
        answer = _say(
            client,
            "/v1/chat/rep",
            sid,
            f"give me a summary of {CREDS.rep_account_name}",
            headers=_rep_headers(CREDS.rep_token),
        )
    assert summary.name in answer
    assert summary.owner_name in answer
    assert f"{summary.open_deal_count} open deal" in answer


def test_rep_cannot_see_another_reps_account_over_chat_or_rest(running) -> None:
    with db.session_scope(running.database_url) as session:
        rep = session.query(User).filter_by(email=CREDS.rep_email).one()
        match = resolve_account(
            session=session, scope=Scope.for_user(rep), name=CREDS.rep_account_name
        )[0]
    sid = _session_id()
    with running.client() as client:
        answer = _say(
            client,
            "/v1/chat/rep",
            sid,
            f"give me a summary of {CREDS.rep_account_name}",
            headers=_rep_headers(CREDS.other_rep_token),
        )
        own = client.get(f"/v1/accounts/{match.account_id}", headers=_rep_headers(CREDS.rep_token))
        theirs = client.get(
            f"/v1/accounts/{match.account_id}", headers=_rep_headers(CREDS.other_rep_token)
        )
    assert "owned by" not in answer
    assert "couldn't find" in answer.lower() or "not" in answer.lower()
    assert own.status_code == 200
    assert theirs.status_code == 404


def test_rep_asks_which_deals_are_stalled(running) -> None:
    with db.session_scope(running.database_url) as session:
        deal = (
            session.query(Deal).join(Account)
            .filter(Account.name == CREDS.rep_account_name, Deal.stage.in_(OPEN_DEAL_STAGES))
            .order_by(Deal.id).first()
        )  # fmt: skip
        deal.last_activity_at = utcnow() - timedelta(days=900)  # the oldest: listed first
        name = deal.name
    with running.client() as client:
        answer = _say(
            client,
            "/v1/chat/rep",
            _session_id(),
            "which of my deals are stalled?",
            headers=_rep_headers(CREDS.rep_token),
        )
    assert "no activity for 14 days or more" in answer
    assert name in answer and "900 days ago" in answer
    assert "stalled-deal-follow-up" in answer


def test_rep_asks_what_the_automations_did_for_an_account(running) -> None:
    with db.session_scope(running.database_url) as session:
        account = session.query(Account).filter_by(name=CREDS.rep_account_name).one()
        account.annual_revenue = Decimal("2000000")
        record_score_crossed(
            session=session, account_id=account.id, kind="churn", previous=0.3, score=0.85
        )
    starter = load_rules()
    only = RuleSet(rules=[starter.get("churn-risk-save-call")]).index()
    drain(db.make_session_factory(db.get_engine(running.database_url)), only)
    with running.client() as client:
        answer = _say(
            client,
            "/v1/chat/rep",
            _session_id(),
            f"what did the automations do for {CREDS.rep_account_name} this week?",
            headers=_rep_headers(CREDS.rep_token),
        )
    assert f"for {CREDS.rep_account_name} this week" in answer
    assert f"created the task “Save call with {CREDS.rep_account_name}”" in answer
    assert "churn-risk-save-call" in answer


def test_unknown_order_gets_a_polite_answer(running) -> None:
    sid = _session_id()
    with running.client() as client:
        _say(client, "/v1/chat/web", sid, "where is my order ORD-999999999?")
        answer = _say(client, "/v1/chat/web", sid, CREDS.customer_email)
    assert "couldn't find" in answer.lower() or "could not find" in answer.lower()


def test_action_server_down_gives_503_and_keeps_the_message(running) -> None:
    """Runs last in this module: it stops the action server and starts it again."""
    actions = next(p for p in running.processes if p.name == "actions")
    sid = _session_id()
    actions.stop()
    try:
        with running.client() as client:
            response = client.post(
                "/v1/chat/rep",
                json={"session_id": sid, "text": f"summary of {CREDS.rep_account_name}"},
                headers=_rep_headers(CREDS.rep_token),
            )
        assert response.status_code == 503
        assert "unavailable" in response.json()["detail"].lower()
        assert any(
            sender == "user" and CREDS.rep_account_name in text
            for sender, text in _transcript(running.database_url, sid)
        )
    finally:
        actions.start()
        actions.wait_ready()
