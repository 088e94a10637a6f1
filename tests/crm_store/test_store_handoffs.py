"""The handoff state machine on SQLite and PostgreSQL: open, claim, reply, resolve, CSAT."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_store.db import session_scope
from crm_store.demo import DEMO_CREDENTIALS as DEMO
from crm_store.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from crm_store.models import (
    Conversation,
    ConversationStatus,
    CrmEvent,
    Handoff,
    HandoffStatus,
    MessageSender,
    Notification,
    Ticket,
)
from crm_store.queries import handoffs as h
from crm_store.queries.conversations import append_message, get_or_create_conversation
from crm_store.queries.users import get_user_by_email

# A Wednesday at noon and a Saturday, in London (GMT in November).
WEEKDAY_NOON = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
SATURDAY = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
HOURS = "mon-fri 09:00-17:00 Europe/London"


def _user_id(session: Session, email: str) -> int:
    user = get_user_by_email(session=session, email=email)
    assert user is not None
    return user.id


def _agents(session: Session) -> tuple[int, int]:
    return (
        _user_id(session, DEMO.agent_email),
        _user_id(session, "jonas.weber@crm-demo.example"),
    )


def _conversation(session: Session, key: str = "visitor-1") -> Conversation:
    conv = get_or_create_conversation(session=session, channel="web", external_id=key)
    append_message(session=session, conversation_id=conv.id, sender="user", text="hi")
    append_message(session=session, conversation_id=conv.id, sender="bot", text="Hello!")
    return conv


def _notifications(session: Session, kind: str) -> list[Notification]:
    return list(session.scalars(select(Notification).where(Notification.kind == kind)))


def test_open_is_idempotent_and_notifies_once(seeded_session: Session) -> None:
    conv = _conversation(seeded_session)
    first = h.open_handoff(session=seeded_session, conversation_id=conv.id,
                           reason="customer_request")  # fmt: skip
    again = h.open_handoff(session=seeded_session, conversation_id=conv.id,
                           reason="negative_sentiment")  # fmt: skip
    seeded_session.commit()
    assert first.id == again.id and again.reason.value == "customer_request"
    assert first.status is HandoffStatus.pending
    assert conv.status is ConversationStatus.handoff_pending
    [note] = _notifications(seeded_session, "handoff_opened")
    assert note.channel == "slack" and note.dedupe_key == f"handoff_opened:{first.id}"
    assert note.payload == {"handoff_id": first.id, "conversation_id": conv.id}
    events = seeded_session.scalars(
        select(CrmEvent).where(CrmEvent.type == "conversation_handed_over")
    ).all()
    assert [e.subject_id for e in events] == [conv.id]
    assert h.open_handoff_for_conversation(session=seeded_session, conversation_id=conv.id) == first
    assert conv.messages[-1].sender is MessageSender.system


def test_open_rejects_bad_input(seeded_session: Session) -> None:
    conv = _conversation(seeded_session)
    with pytest.raises(InvalidInputError, match="reason"):
        h.open_handoff(session=seeded_session, conversation_id=conv.id, reason="bored")
    with pytest.raises(NotFoundError):
        h.open_handoff(session=seeded_session, conversation_id=999_999, reason="bot_abstained")
    with pytest.raises(InvalidInputError):
        h.open_handoff(session=seeded_session, conversation_id=conv.id,
                       reason="bot_abstained", email="not-an-email")  # fmt: skip


def test_database_refuses_two_open_handoffs(seeded_session: Session) -> None:
    """The partial unique index, not only the Python check, keeps one open per conversation."""
    conv = _conversation(seeded_session)
    h.open_handoff(session=seeded_session, conversation_id=conv.id, reason="customer_request")
    seeded_session.commit()
    assert h._insert_open(seeded_session, conv.id, h.HandoffReason.bot_abstained, False,
                          WEEKDAY_NOON, None) is None  # fmt: skip


def test_full_cycle_claim_reply_resolve_csat(seeded_session: Session) -> None:
    agent, other = _agents(seeded_session)
    conv = _conversation(seeded_session)
    handoff = h.open_handoff(session=seeded_session, conversation_id=conv.id,
                             reason="customer_request")  # fmt: skip
    claimed = h.claim_handoff(session=seeded_session, handoff_id=handoff.id, agent_user_id=agent)
    assert claimed.status is HandoffStatus.claimed and claimed.claimed_by_user_id == agent
    assert conv.status is ConversationStatus.human and claimed.claimed_at is not None
    # Same agent again (a Slack retry): unchanged. Another agent: a clear conflict.
    assert h.claim_handoff(session=seeded_session, handoff_id=handoff.id, agent_user_id=agent)
    with pytest.raises(ConflictError, match="already claimed by Ines Costa"):
        h.claim_handoff(session=seeded_session, handoff_id=handoff.id, agent_user_id=other)
    with pytest.raises(ConflictError):
        h.record_agent_reply(session=seeded_session, handoff_id=handoff.id,
                             agent_user_id=other, text="me too")  # fmt: skip
    reply = h.record_agent_reply(session=seeded_session, handoff_id=handoff.id,
                                 agent_user_id=agent, text="Hi, I'm Ines.")  # fmt: skip
    h.record_agent_reply(session=seeded_session, handoff_id=handoff.id,
                         agent_user_id=agent, text="Looking now.")  # fmt: skip
    assert reply.sender is MessageSender.agent
    assert reply.meta == {"handoff_id": handoff.id, "agent_user_id": agent,
                          "agent_name": "Ines Costa", "delivered": False}  # fmt: skip
    assert handoff.first_agent_reply_at == reply.created_at
    pending = h.undelivered_messages(session=seeded_session, conversation_id=conv.id)
    assert [m.text for m in pending] == ["Hi, I'm Ines.", "Looking now."]
    h.mark_delivered(session=seeded_session, message_ids=[pending[0].id])
    assert [m.text for m in h.undelivered_messages(
        session=seeded_session, conversation_id=conv.id)] == ["Looking now."]  # fmt: skip
    with pytest.raises(ConflictError):
        h.resolve_handoff(session=seeded_session, handoff_id=handoff.id, agent_user_id=other)
    done = h.resolve_handoff(session=seeded_session, handoff_id=handoff.id, agent_user_id=agent)
    assert done.status is HandoffStatus.resolved and done.resolved_at is not None
    assert conv.status is ConversationStatus.bot and conv.csat_requested_at is not None
    assert h.resolve_handoff(session=seeded_session, handoff_id=handoff.id,
                             agent_user_id=agent).resolved_at == done.resolved_at  # fmt: skip
    with pytest.raises(ConflictError, match="resolved"):
        h.claim_handoff(session=seeded_session, handoff_id=handoff.id, agent_user_id=agent)
    h.record_csat(session=seeded_session, conversation_id=conv.id, rating=4)
    seeded_session.commit()
    assert conv.csat == 4 and done.csat == 4 and conv.csat_requested_at is None
    senders = [m.sender.value for m in conv.messages]
    assert senders == ["user", "bot", "system", "system", "agent", "agent", "system"]


def test_reply_claims_an_unclaimed_handoff(seeded_session: Session) -> None:
    agent, _ = _agents(seeded_session)
    conv = _conversation(seeded_session)
    handoff = h.open_handoff(session=seeded_session, conversation_id=conv.id,
                             reason="bot_abstained")  # fmt: skip
    h.record_agent_reply(session=seeded_session, handoff_id=handoff.id, agent_user_id=agent,
                         text="Hello")  # fmt: skip
    assert handoff.status is HandoffStatus.claimed and conv.status is ConversationStatus.human


def test_agents_must_be_staff(seeded_session: Session) -> None:
    conv = _conversation(seeded_session)
    handoff = h.open_handoff(session=seeded_session, conversation_id=conv.id,
                             reason="customer_request")  # fmt: skip
    customer = _user_id(seeded_session, DEMO.customer_email)
    with pytest.raises(PermissionDeniedError):
        h.claim_handoff(session=seeded_session, handoff_id=handoff.id, agent_user_id=customer)
    with pytest.raises(NotFoundError):
        h.claim_handoff(session=seeded_session, handoff_id=handoff.id, agent_user_id=999_999)
    with pytest.raises(NotFoundError):
        h.claim_handoff(session=seeded_session, handoff_id=999_999, agent_user_id=customer)
    agent, _ = _agents(seeded_session)
    with pytest.raises(InvalidInputError):
        h.record_agent_reply(session=seeded_session, handoff_id=handoff.id,
                             agent_user_id=agent, text="   ")  # fmt: skip


def test_manager_may_resolve_a_claimed_handoff(seeded_session: Session) -> None:
    agent, _ = _agents(seeded_session)
    manager = _user_id(seeded_session, DEMO.manager_email)
    conv = _conversation(seeded_session)
    handoff = h.open_handoff(session=seeded_session, conversation_id=conv.id,
                             reason="customer_request")  # fmt: skip
    h.claim_handoff(session=seeded_session, handoff_id=handoff.id, agent_user_id=agent)
    assert h.resolve_handoff(session=seeded_session, handoff_id=handoff.id,
                             agent_user_id=manager).status is HandoffStatus.resolved  # fmt: skip


def test_a_new_handoff_after_resolution(seeded_session: Session) -> None:
    agent, _ = _agents(seeded_session)
    conv = _conversation(seeded_session)
    first = h.open_handoff(session=seeded_session, conversation_id=conv.id,
                           reason="customer_request")  # fmt: skip
    h.resolve_handoff(session=seeded_session, handoff_id=first.id, agent_user_id=agent)
    second = h.open_handoff(session=seeded_session, conversation_id=conv.id,
                            reason="customer_request")  # fmt: skip
    seeded_session.commit()
    assert second.id != first.id and second.status is HandoffStatus.pending
    assert len(_notifications(seeded_session, "handoff_opened")) == 2


@pytest.mark.parametrize("rating", [0, 6, -1, 3.5, "4", True, None])
def test_csat_bounds(session: Session, rating: object) -> None:
    conv = get_or_create_conversation(session=session, channel="web", external_id="csat-1")
    with pytest.raises(InvalidInputError, match="1 to 5"):
        h.record_csat(session=session, conversation_id=conv.id, rating=rating)  # type: ignore[arg-type]


def test_csat_accepts_one_and_five(session: Session) -> None:
    conv = get_or_create_conversation(session=session, channel="web", external_id="csat-2")
    assert h.record_csat(session=session, conversation_id=conv.id, rating=1).csat == 1
    assert h.record_csat(session=session, conversation_id=conv.id, rating=5).csat == 5
    with pytest.raises(NotFoundError):
        h.record_csat(session=session, conversation_id=999_999, rating=3)


def test_away_opens_a_ticket_and_still_notifies(
    seeded_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRM_BUSINESS_HOURS", HOURS)
    conv = _conversation(seeded_session)
    handoff = h.open_handoff(session=seeded_session, conversation_id=conv.id,
                             reason="customer_request", email=DEMO.customer_email.upper(),
                             now=SATURDAY)  # fmt: skip
    seeded_session.commit()
    assert handoff.status is HandoffStatus.away and handoff.customer_email == DEMO.customer_email
    assert conv.status is ConversationStatus.bot  # the bot keeps talking while nobody is in
    ticket = seeded_session.get(Ticket, handoff.ticket_id)
    assert ticket is not None and ticket.email == DEMO.customer_email
    assert ticket.contact_id is not None and "Hello!" in ticket.description
    [note] = _notifications(seeded_session, "handoff_opened")
    assert note.payload == {"handoff_id": handoff.id, "conversation_id": conv.id, "away": True}
    # An agent may still pick it up later; that makes the conversation human.
    agent, _ = _agents(seeded_session)
    h.claim_handoff(session=seeded_session, handoff_id=handoff.id, agent_user_id=agent)
    assert conv.status is ConversationStatus.human


def test_away_without_a_known_customer_opens_no_ticket(
    seeded_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRM_BUSINESS_HOURS", HOURS)
    conv = _conversation(seeded_session)
    handoff = h.open_handoff(session=seeded_session, conversation_id=conv.id,
                             reason="bot_abstained", now=SATURDAY)  # fmt: skip
    assert handoff.status is HandoffStatus.away and handoff.ticket_id is None


def test_inside_business_hours_is_pending(
    seeded_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRM_BUSINESS_HOURS", HOURS)
    conv = _conversation(seeded_session)
    handoff = h.open_handoff(session=seeded_session, conversation_id=conv.id,
                             reason="customer_request", now=WEEKDAY_NOON)  # fmt: skip
    assert handoff.status is HandoffStatus.pending and handoff.ticket_id is None


def test_customer_messages_are_queued_once(seeded_session: Session) -> None:
    conv = _conversation(seeded_session)
    handoff = h.open_handoff(session=seeded_session, conversation_id=conv.id,
                             reason="customer_request")  # fmt: skip
    msg = append_message(session=seeded_session, conversation_id=conv.id, sender="user",
                         text="are you there?")  # fmt: skip
    assert h.record_customer_message_for_agent(
        session=seeded_session, handoff_id=handoff.id, message_id=msg.id) is True  # fmt: skip
    assert h.record_customer_message_for_agent(
        session=seeded_session, handoff_id=handoff.id, message_id=msg.id) is False  # fmt: skip
    [note] = _notifications(seeded_session, "handoff_customer_message")
    assert note.payload == {"handoff_id": handoff.id, "message_id": msg.id}
    bot_line = conv.messages[1]
    with pytest.raises(InvalidInputError):
        h.record_customer_message_for_agent(session=seeded_session, handoff_id=handoff.id,
                                            message_id=bot_line.id)  # fmt: skip


def test_slack_thread_is_unique(seeded_session: Session) -> None:
    one = h.open_handoff(session=seeded_session, conversation_id=_conversation(
        seeded_session, "v-1").id, reason="customer_request")  # fmt: skip
    two = h.open_handoff(session=seeded_session, conversation_id=_conversation(
        seeded_session, "v-2").id, reason="customer_request")  # fmt: skip
    h.set_slack_thread(session=seeded_session, handoff_id=one.id, channel="C1", thread_ts="1.1")
    h.set_slack_thread(session=seeded_session, handoff_id=one.id, channel="C1", thread_ts="1.1")
    assert h.find_handoff_by_thread(session=seeded_session, channel="C1", thread_ts="1.1") == one
    assert h.find_handoff_by_thread(session=seeded_session, channel="C1", thread_ts="9.9") is None
    with pytest.raises(ConflictError):
        h.set_slack_thread(session=seeded_session, handoff_id=two.id, channel="C1",
                           thread_ts="1.1")  # fmt: skip
    with pytest.raises(ConflictError):
        h.set_slack_thread(session=seeded_session, handoff_id=one.id, channel="C1",
                           thread_ts="2.2")  # fmt: skip
    assert h.get_handoff(session=seeded_session, handoff_id=999_999) is None


def test_context_shows_the_customer_and_account(seeded_session: Session) -> None:
    conv = _conversation(seeded_session)
    handoff = h.open_handoff(session=seeded_session, conversation_id=conv.id,
                             reason="negative_sentiment", email=DEMO.customer_email)  # fmt: skip
    ctx = h.handoff_context(session=seeded_session, handoff_id=handoff.id)
    assert [(line.sender, line.text) for line in ctx.transcript][:2] == [
        ("user", "hi"), ("bot", "Hello!")]  # fmt: skip
    assert ctx.reason == "negative_sentiment" and ctx.status == "pending"
    assert ctx.customer_email == DEMO.customer_email and ctx.email_verified is False
    assert ctx.customer_name and ctx.account_name
    assert any(o.number == DEMO.customer_order_number for o in ctx.open_orders) or ctx.open_orders
    with pytest.raises(NotFoundError):
        h.handoff_context(session=seeded_session, handoff_id=999_999)


def test_context_of_an_anonymous_visitor(seeded_session: Session) -> None:
    conv = _conversation(seeded_session)
    handoff = h.open_handoff(session=seeded_session, conversation_id=conv.id,
                             reason="customer_request")  # fmt: skip
    ctx = h.handoff_context(session=seeded_session, handoff_id=handoff.id)
    assert ctx.customer_email is None and ctx.account_name is None and ctx.open_orders == []


def test_two_abstentions_in_a_row(session: Session) -> None:
    conv = get_or_create_conversation(session=session, channel="web", external_id="abst")

    def turn(text: str) -> None:
        append_message(session=session, conversation_id=conv.id, sender="user", text=text)

    turn("what is the meaning of life?")
    assert h.record_bot_abstention(session=session, conversation_id=conv.id) == 1
    assert h.record_bot_abstention(session=session, conversation_id=conv.id) == 1  # same turn
    turn("and the colour of the sky?")
    assert h.record_bot_abstention(session=session, conversation_id=conv.id) == 2
    turn("where is my order?")  # answered: no abstention recorded for it
    turn("the moon?")
    assert h.record_bot_abstention(session=session, conversation_id=conv.id) == 1


def test_handoff_rows_keep_their_fields(seeded_session: Session) -> None:
    conv = _conversation(seeded_session)
    handoff = h.open_handoff(session=seeded_session, conversation_id=conv.id,
                             reason="customer_request")  # fmt: skip
    seeded_session.commit()
    seeded_session.expire_all()
    row = seeded_session.get(Handoff, handoff.id)
    assert row is not None and row.requested_at.tzinfo is not None and row.is_open


def test_two_agents_claiming_at_once_one_wins(seeded_db_url: str) -> None:
    """Real concurrency: two threads, two sessions, one conditional UPDATE wins."""
    with session_scope(seeded_db_url) as session:
        handoff_id = h.open_handoff(
            session=session, conversation_id=_conversation(session, "race").id,
            reason="customer_request",
        ).id  # fmt: skip
        agents = _agents(session)
    barrier = threading.Barrier(2)
    outcomes: dict[int, str] = {}

    def claim(agent_id: int) -> None:
        barrier.wait()
        try:
            with session_scope(seeded_db_url) as session:
                h.claim_handoff(session=session, handoff_id=handoff_id, agent_user_id=agent_id)
            outcomes[agent_id] = "won"
        except ConflictError:
            outcomes[agent_id] = "conflict"

    threads = [threading.Thread(target=claim, args=(a,)) for a in agents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes.values()) == ["conflict", "won"]
    winner = next(a for a, o in outcomes.items() if o == "won")
    with session_scope(seeded_db_url) as session:
        assert h.get_handoff(session=session, handoff_id=handoff_id).claimed_by_user_id == winner


def test_many_handoffs_on_one_connection(session: Session) -> None:
    """psycopg prepares a statement after 5 runs; the ON CONFLICT must still find its index."""
    ids = set()
    for i in range(12):
        conv = get_or_create_conversation(session=session, channel="web", external_id=f"many-{i}")
        ids.add(h.open_handoff(session=session, conversation_id=conv.id,
                               reason="customer_request").id)  # fmt: skip
        assert h._insert_open(session, conv.id, h.HandoffReason.bot_abstained, False,
                              WEEKDAY_NOON, None) is None  # fmt: skip
    assert len(ids) == 12


def test_asking_again_once_the_team_is_in_reaches_them(
    seeded_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Asked on Saturday (away), asked again on a weekday: a fresh pending handoff, notified."""
    monkeypatch.setenv("CRM_BUSINESS_HOURS", HOURS)
    conv = _conversation(seeded_session)
    away = h.open_handoff(session=seeded_session, conversation_id=conv.id,
                          reason="customer_request", email=DEMO.customer_email,
                          now=SATURDAY)  # fmt: skip
    still_away = h.open_handoff(session=seeded_session, conversation_id=conv.id,
                                reason="customer_request", now=SATURDAY)  # fmt: skip
    assert still_away.id == away.id
    fresh = h.open_handoff(session=seeded_session, conversation_id=conv.id,
                           reason="customer_request", now=WEEKDAY_NOON)  # fmt: skip
    seeded_session.commit()
    assert fresh.id != away.id and fresh.status is HandoffStatus.pending
    assert away.status is HandoffStatus.resolved and away.ticket_id is not None
    assert fresh.customer_email == DEMO.customer_email and fresh.ticket_id is None
    assert conv.status is ConversationStatus.handoff_pending and conv.csat_requested_at is None
    notes = _notifications(seeded_session, "handoff_opened")
    assert [n.payload["handoff_id"] for n in notes] == [away.id, fresh.id]
