"""The bot's side of the handoff: asking for a person, two "I don't know"s, nobody in."""

from __future__ import annotations

from pathlib import Path

import pytest
from bot_support import make_tracker, rep_identity, responses, run
from sqlalchemy import select

from bot.actions.handoff import ActionHumanHandoff
from bot.actions.knowledge import ActionAnswerQuestion, ActionKnowledgeFallback
from crm_store.db import session_scope
from crm_store.demo import DEMO_CREDENTIALS
from crm_store.models import Conversation, ConversationStatus, Handoff, Notification, Ticket
from crm_store.queries.conversations import append_message, get_or_create_conversation
from retrieval.config import RetrievalSettings
from retrieval.service import reset_service
from retrieval.sync import index_paths

SATURDAY_ONLY = "sat 00:00-00:01 UTC"  # practically never open
NEVER_CLOSED = "mon-sun 00:00-23:59 UTC"


def _conversation_id(key: str) -> int:
    with session_scope() as session:
        return get_or_create_conversation(session=session, channel="web", external_id=key).id


def _user_turn(conversation_id: int, text: str) -> None:
    """The customer's message as the API stores it before asking Rasa."""
    with session_scope() as session:
        append_message(session=session, conversation_id=conversation_id, sender="user", text=text)


def _web(conversation_id: int) -> dict:
    return {"role": "customer", "user_id": None, "team_id": None, "contact_id": None,
            "email": None, "channel": "web", "conversation_id": conversation_id}  # fmt: skip


def _handoffs() -> list[Handoff]:
    """The handoffs these tests opened (not the demo company's own, resolved ones)."""
    with session_scope() as session:
        demo = Conversation.external_id.startswith("demo-")
        rows = list(session.scalars(select(Handoff).join(Handoff.conversation).where(~demo)))
        session.expunge_all()
        return rows


async def test_asking_twice_opens_one_handoff(crm_db: str, domain: dict) -> None:
    cid = _conversation_id("hand-1")
    tracker = make_tracker("I want a human", "human_handoff", crm=_web(cid))
    for _ in range(2):
        _, messages = await run(ActionHumanHandoff(), tracker, domain)
        assert responses(messages) == ["utter_handoff"]
    [handoff] = _handoffs()
    assert handoff.reason.value == "customer_request" and handoff.status.value == "pending"
    with session_scope() as session:
        assert session.get(Conversation, cid).status is ConversationStatus.handoff_pending
        kinds = session.scalars(select(Notification.kind)).all()
    assert kinds == ["handoff_opened"]


async def test_away_with_an_email_opens_a_ticket(
    crm_db: str, domain: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRM_BUSINESS_HOURS", SATURDAY_ONLY)
    cid = _conversation_id("hand-2")
    tracker = make_tracker("a person please", "human_handoff", crm=_web(cid),
                           slots={"email": DEMO_CREDENTIALS.customer_email})  # fmt: skip
    _, messages = await run(ActionHumanHandoff(), tracker, domain)
    assert responses(messages) == ["utter_handoff_away_ticket"]
    with session_scope() as session:
        ticket = session.scalars(select(Ticket).order_by(Ticket.id.desc())).first()
        assert ticket is not None and messages[0]["ticket"] == ticket.number
        assert ticket.email == DEMO_CREDENTIALS.customer_email
    assert _handoffs()[0].status.value == "away"


async def test_away_without_an_email_says_so(
    crm_db: str, domain: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRM_BUSINESS_HOURS", SATURDAY_ONLY)
    cid = _conversation_id("hand-3")
    tracker = make_tracker("a person please", "human_handoff", crm=_web(cid),
                           slots={"email": "not an email"})  # fmt: skip
    _, messages = await run(ActionHumanHandoff(), tracker, domain)
    assert responses(messages) == ["utter_handoff_away"]


async def test_business_hours_open_is_pending(
    crm_db: str, domain: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRM_BUSINESS_HOURS", NEVER_CLOSED)
    cid = _conversation_id("hand-4")
    _, messages = await run(ActionHumanHandoff(), make_tracker("human", "human_handoff",
                                                               crm=_web(cid)), domain)  # fmt: skip
    assert responses(messages) == ["utter_handoff"]


@pytest.fixture
def empty_kb(crm_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    """A knowledge base with one article, so off-topic questions abstain."""
    monkeypatch.setenv("CRM_RETRIEVAL_INDEX_DIR", str(tmp_path / "index"))
    folder = tmp_path / "kb"
    folder.mkdir()
    (folder / "refunds.md").write_text(
        "---\ntitle: Refund policy\nurl: https://help.example/refunds\naudience: public\n---\n"
        "# Refund policy\n\nAnnual subscriptions can be refunded in full within 30 days.\n",
        encoding="utf-8",
    )
    reset_service()
    index_paths([folder], crm_db, RetrievalSettings())
    yield crm_db
    reset_service()


async def test_two_dont_knows_in_a_row_fetch_a_person(empty_kb: str, domain: dict) -> None:
    cid = _conversation_id("abst-1")
    questions = ["what is the airspeed of a swallow?", "who painted the mona lisa?"]
    replies = []
    for question in questions:
        _user_turn(cid, question)
        tracker = make_tracker(question, "ask_question", crm=_web(cid))
        _, messages = await run(ActionAnswerQuestion(), tracker, domain)
        replies.append(responses(messages))
    assert replies == [["utter_kb_dont_know"], ["utter_kb_dont_know_again", "utter_handoff"]]
    [handoff] = _handoffs()
    assert handoff.reason.value == "bot_abstained"


async def test_an_answered_turn_breaks_the_streak(empty_kb: str, domain: dict) -> None:
    cid = _conversation_id("abst-2")
    _user_turn(cid, "what is the airspeed of a swallow?")
    tracker = make_tracker("what is the airspeed of a swallow?", "ask_question", crm=_web(cid))
    await run(ActionAnswerQuestion(), tracker, domain)
    _user_turn(cid, "where is my order?")  # answered by another action: not an abstention
    _user_turn(cid, "who painted the mona lisa?")
    tracker = make_tracker("who painted the mona lisa?", "ask_question", crm=_web(cid))
    _, messages = await run(ActionAnswerQuestion(), tracker, domain)
    assert responses(messages) == ["utter_kb_dont_know"] and _handoffs() == []


async def test_fallbacks_count_too(empty_kb: str, domain: dict) -> None:
    cid = _conversation_id("abst-3")
    replies = []
    for text in ("asdf qwerty", "blorp zing"):
        _user_turn(cid, text)
        _, messages = await run(
            ActionKnowledgeFallback(), make_tracker(text, "nlu_fallback", crm=_web(cid)), domain
        )
        replies.append(responses(messages))
    assert replies == [["utter_default"], ["utter_kb_dont_know_again", "utter_handoff"]]


async def test_staff_are_never_handed_over(empty_kb: str, domain: dict) -> None:
    rep = rep_identity()
    with session_scope() as session:
        cid = get_or_create_conversation(session=session, channel="rep", external_id="r-1").id
    rep["conversation_id"] = cid
    for question in ("what is the airspeed of a swallow?", "who painted the mona lisa?"):
        _user_turn(cid, question)
        _, messages = await run(
            ActionAnswerQuestion(), make_tracker(question, "ask_question", crm=rep), domain
        )
        assert responses(messages) == ["utter_kb_dont_know"]
    assert _handoffs() == []
