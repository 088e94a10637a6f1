"""GDPR export and erasure on the seeded demo company, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from crm_cli.main import app
from crm_store import db
from crm_store.demo import DEMO_CREDENTIALS as CREDS
from crm_store.errors import InvalidInputError
from crm_store.gdpr import erase_person, export_counts, export_person, mentions
from crm_store.models import (
    Activity,
    Base,
    Contact,
    Conversation,
    Lead,
    Message,
    Notification,
    Order,
    Task,
    Ticket,
    User,
)
from crm_store.queries.conversations import get_or_create_conversation
from crm_store.queries.events import emit_event
from crm_store.queries.handoffs import open_handoff
from crm_store.queries.users import authenticate_token, get_user_by_email, link_slack

EMAIL = CREDS.customer_email  # nora.fields@northwind.example
OTHER = "quinn.harper@initech.example"  # another demo customer, who must stay untouched
runner = CliRunner()


def _add_personal_traces(session: Session) -> None:
    """What a real store accumulates: a chat, a lead, a notification, a legacy message."""
    user = get_user_by_email(session=session, email=EMAIL)
    assert user is not None
    link_slack(session=session, user_id=user.id, slack_user_id="U0NORA")
    chat = get_or_create_conversation(
        session=session, channel="web", external_id="gdpr-chat-1", user_id=user.id
    )
    # written directly, as rows stored before transcripts were redacted would be
    session.add(Message(conversation_id=chat.id, sender="user", text=f"I am {EMAIL}"))
    stranger = get_or_create_conversation(session=session, channel="web", external_id="gdpr-2")
    session.add(Message(conversation_id=stranger.id, sender="user", text=f"ask {EMAIL.upper()}"))
    lead = Lead(name="Nora Fields", email=EMAIL, company="Northwind", need="call +1 415 555 0134")
    session.add(lead)
    session.flush()
    emit_event(session=session, type="lead_created", subject_type="lead", subject_id=lead.id)
    session.add(Notification(channel="slack", kind="digest", payload={"text": f"from {EMAIL}"}))
    # staff notes that name her without linking her contact
    contact = session.get(Contact, user.contact_id)
    assert contact is not None
    session.add(Task(title="Call NORA FIELDS back", account_id=contact.account_id))
    session.add(Activity(kind="note", account_id=contact.account_id, subject="Renewal",
                         body="Nora Fields wants a quote"))  # fmt: skip
    # an anonymous visitor who gave her address when asking for a person
    anonymous = get_or_create_conversation(session=session, channel="web", external_id="gdpr-3")
    session.add(Message(conversation_id=anonymous.id, sender="user", text="a human please"))
    session.flush()
    open_handoff(session=session, conversation_id=anonymous.id, reason="customer_request",
                 email=EMAIL.upper())  # fmt: skip
    session.commit()


def _text_holding(session: Session, needle: str) -> dict[str, int]:
    """Rows per table whose text or JSON columns hold `needle`, scanned independently."""
    found = {}
    for table in Base.metadata.sorted_tables:
        for row in session.execute(select(table)):
            text = json.dumps([str(v) for v in row], ensure_ascii=False).lower()
            if needle.lower() in text:
                found[table.name] = found.get(table.name, 0) + 1
    return found


def _others(session: Session) -> list[tuple]:
    """The other customers' rows, to prove an erasure leaves them alone."""
    rows = session.execute(
        select(Contact.first_name, Contact.last_name, Contact.email, Contact.phone)
        .where(Contact.email != EMAIL)
        .order_by(Contact.id)
    )
    return [tuple(r) for r in rows]


def test_export_holds_the_persons_order_ticket_and_chat(seeded_session: Session) -> None:
    _add_personal_traces(seeded_session)
    data = export_person(session=seeded_session, email=EMAIL.upper())
    json.dumps(data)  # JSON-ready as it is
    assert [u["email"] for u in data["users"]] == [EMAIL]
    assert "token_hash" not in data["users"][0]["tokens"][0]
    assert data["contacts"][0]["account"]["name"] == CREDS.customer_account_name
    assert CREDS.customer_order_number in [o["number"] for o in data["orders"]]
    order = next(o for o in data["orders"] if o["number"] == CREDS.customer_order_number)
    assert order["lines"] and {"sku", "product", "quantity"} <= set(order["lines"][0])
    assert CREDS.customer_ticket_number in [t["number"] for t in data["tickets"]]
    assert [lead["email"] for lead in data["leads"]] == [EMAIL]
    assert [t["title"] for t in data["tasks"]] == ["Call NORA FIELDS back"]
    assert "Nora Fields wants a quote" in [a["body"] for a in data["activities"]]
    assert any(e["type"] == "lead_created" for e in data["events"])
    chat = next(c for c in data["conversations"] if c["external_id"] == "gdpr-chat-1")
    assert [m["text"] for m in chat["messages"]] == [f"I am {EMAIL}"]
    handed = next(c for c in data["conversations"] if c["external_id"] == "gdpr-3")
    assert "a human please" in [m["text"] for m in handed["messages"]]
    assert [h["customer_email"] for h in data["handoffs"]] == [EMAIL]
    # found by the scan of every table: the stranger's chat and the notification
    assert {"messages", "notifications"} <= set(data["other_mentions"])
    assert [m["text"] for m in data["other_mentions"]["messages"]] == [f"ask {EMAIL.upper()}"]
    counts = export_counts(data)
    assert counts["orders"] >= 1 and counts["messages"] >= 2 and counts["handoffs"] == 1
    assert OTHER not in json.dumps(data)


def test_delete_leaves_no_trace_and_keeps_totals(seeded_session: Session) -> None:
    _add_personal_traces(seeded_session)
    orders_before = seeded_session.execute(
        select(func.count(Order.id), func.sum(Order.total))
    ).one()
    others_before = _others(seeded_session)
    assert _text_holding(seeded_session, EMAIL)

    report = erase_person(session=seeded_session, email=EMAIL)
    seeded_session.commit()

    assert _text_holding(seeded_session, EMAIL) == {}
    assert not mentions(session=seeded_session, needle=EMAIL)
    assert _text_holding(seeded_session, "Nora Fields") == {}
    assert seeded_session.execute(select(func.count(Order.id), func.sum(Order.total))).one() == (
        orders_before[0], Decimal(orders_before[1])
    )  # fmt: skip
    assert _others(seeded_session) == others_before
    assert authenticate_token(session=seeded_session, token=CREDS.customer_token) is None
    assert seeded_session.scalar(select(User).where(User.slack_user_id == "U0NORA")) is None
    chat = seeded_session.scalar(
        select(Conversation).where(Conversation.external_id == "gdpr-chat-1")
    )
    assert chat is not None and not chat.messages
    ticket = seeded_session.scalar(
        select(Ticket).where(Ticket.number == CREDS.customer_ticket_number)
    )
    assert ticket is not None and ticket.email is None  # the ticket itself stays, unlinked
    assert report.changed["contacts anonymised"] == 1 and report.changed["tokens revoked"] >= 1
    assert report.changed["messages deleted"] >= 2 and report.changed["other rows masked"] >= 2
    assert report.changed["handoffs unlinked from the email"] == 1
    # idempotent: a second run finds nothing and changes nothing
    again = erase_person(session=seeded_session, email=EMAIL)
    assert again.nothing_found and dict(again.changed) == {}


def test_bad_email_is_refused(seeded_session: Session) -> None:
    with pytest.raises(InvalidInputError):
        export_person(session=seeded_session, email="not-an-email")


def test_cli_export_and_delete(seeded_db_url: str, tmp_path: Path) -> None:
    with db.session_scope(seeded_db_url) as session:
        _add_personal_traces(session)
    out = tmp_path / "nora.json"
    result = runner.invoke(app, ["gdpr", "export", EMAIL, "--out", str(out),
                                 "--database-url", seeded_db_url])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert str(out) in result.stdout and "orders: " in result.stdout
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    assert CREDS.customer_order_number in out.read_text()

    result = runner.invoke(app, ["gdpr", "delete", EMAIL, "--yes", "--database-url", seeded_db_url])
    assert result.exit_code == 0, result.output
    assert "contacts anonymised: 1" in result.stdout and "messages deleted: " in result.stdout
    again = runner.invoke(app, ["gdpr", "delete", EMAIL, "--yes", "--database-url", seeded_db_url])
    assert again.exit_code == 0 and "nothing changed" in again.stdout
    with db.session_scope(seeded_db_url) as session:
        assert _text_holding(session, EMAIL) == {}

    refused = runner.invoke(
        app, ["gdpr", "delete", "nope", "--yes", "--database-url", seeded_db_url]
    )
    assert refused.exit_code == 1 and "not an email address" in refused.stderr
    aborted = runner.invoke(
        app, ["gdpr", "delete", OTHER, "--database-url", seeded_db_url], input="n\n"
    )
    assert aborted.exit_code == 1
    with db.session_scope(seeded_db_url) as session:
        assert session.scalar(select(Contact).where(Contact.email == OTHER)) is not None


def _rasa_tracker_store(path: Path) -> str:
    """A SQLite tracker store with Rasa 3.6's `events` table (SQLTrackerStore.SQLEvent)."""
    import sqlalchemy as sa

    url = f"sqlite:///{path}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(
            "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL, "
            "type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255), "
            "action_name VARCHAR(255), data TEXT)"
        ))  # fmt: skip
    engine.dispose()
    return url


def _tracker_rows(url: str) -> list[tuple[str, str]]:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT sender_id, data FROM events ORDER BY id")).all()
    engine.dispose()
    return [tuple(r) for r in rows]


def test_rasa_tracker_events_are_exported_and_erased(seeded_db_url: str, tmp_path: Path) -> None:
    import sqlalchemy as sa

    with db.session_scope(seeded_db_url) as session:
        _add_personal_traces(session)
        chat = session.scalar(select(Conversation).where(Conversation.external_id == "gdpr-chat-1"))
        assert chat is not None
        hers = f"web-{chat.rasa_sender_id}"
    tracker = _rasa_tracker_store(tmp_path / "tracker.db")
    events = [
        (hers, "user", json.dumps({"event": "user", "text": f"I am {EMAIL}"})),
        (hers, "bot", json.dumps({"event": "bot", "text": "Thanks!"})),
        ("rep-abc", "user", json.dumps({"event": "user", "text": f"who is {EMAIL.upper()}?"})),
        ("web-zzz", "user", json.dumps({"event": "user", "text": "hello"})),
    ]
    engine = sa.create_engine(tracker)
    with engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO events (sender_id, type_name, data) VALUES (:s, :t, :d)"),
            [{"s": s, "t": t, "d": d} for s, t, d in events],
        )
    engine.dispose()

    with db.session_scope(seeded_db_url) as session:
        exported = export_person(session=session, email=EMAIL, tracker_url=tracker)
    assert [e["sender_id"] for e in exported["rasa_tracker_events"]] == [hers, hers, "rep-abc"]
    assert exported["rasa_tracker_events"][0]["data"]["text"] == f"I am {EMAIL}"

    result = runner.invoke(app, ["gdpr", "delete", EMAIL, "--yes", "--database-url",
                                 seeded_db_url, "--rasa-tracker-url", tracker])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Rasa tracker events deleted: 2" in result.stdout
    assert "Rasa tracker events masked: 1" in result.stdout
    rows = _tracker_rows(tracker)
    assert [sender for sender, _ in rows] == ["rep-abc", "web-zzz"]  # the rep's dialogue stays
    assert json.loads(rows[0][1])["text"] == "who is [email]?"
    assert EMAIL not in json.dumps(rows).lower()
