"""Customer-facing actions against a real seeded database (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

from bot_support import customer_identity, make_tracker, responses, run, slot_events
from sqlalchemy import select

from bot.actions.handoff import ActionHumanHandoff
from bot.actions.leads import ActionCreateLead, ValidateLeadForm
from bot.actions.orders import ActionOrderStatus, ValidateOrderStatusForm
from bot.actions.tickets import (
    ActionOpenTicket,
    ActionTicketStatus,
    ValidateOpenTicketForm,
    ValidateTicketStatusForm,
)
from crm_store.db import session_scope
from crm_store.demo import DEMO_CREDENTIALS
from crm_store.models import Conversation, Lead, Message
from crm_store.queries.orders import find_order_for_customer
from crm_store.queries.tickets import find_ticket_for_customer

ORDER = DEMO_CREDENTIALS.customer_order_number
TICKET = DEMO_CREDENTIALS.customer_ticket_number
EMAIL = DEMO_CREDENTIALS.customer_email


def form_tracker(
    form: str, slot: str, value: Any, *, crm: dict | None = None, slots: dict | None = None
) -> Any:
    """The tracker a form validator sees right after `slot` was extracted from a reply."""
    return make_tracker(
        str(value),
        "inform",
        crm=crm,
        active_loop=form,
        slots={**(slots or {}), slot: value, "requested_slot": slot},
        events=[{"event": "slot", "name": slot, "value": value}],
    )


async def test_anonymous_order_status_reports_the_real_status(crm_db: str, domain: dict) -> None:
    tracker = make_tracker("done", slots={"order_id": ORDER, "email": EMAIL.upper()})
    events, messages = await run(ActionOrderStatus(), tracker, domain)
    with session_scope() as session:
        order = find_order_for_customer(session=session, number=ORDER, email=EMAIL)
        assert order is not None
        expected = order.status.value
        tracking = order.tracking_number
    assert messages[0]["response"] == "utter_order_status"
    assert messages[0]["status"] == expected and messages[0]["order_id"] == ORDER
    if tracking:
        assert {"response": "utter_order_tracking", "tracking_number": tracking}.items() <= next(
            m for m in messages if m["response"] == "utter_order_tracking"
        ).items()
    assert slot_events(events) == {"order_id": None}


async def test_wrong_email_looks_like_a_missing_order(crm_db: str, domain: dict) -> None:
    tracker = make_tracker("x", slots={"order_id": ORDER, "email": "someone@else.example"})
    events, messages = await run(ActionOrderStatus(), tracker, domain)
    assert responses(messages) == ["utter_order_not_found"]
    assert slot_events(events) == {"order_id": None, "email": None}


async def test_signed_in_owner_is_not_asked_for_the_email(crm_db: str, domain: dict) -> None:
    crm = customer_identity()
    tracker = form_tracker(
        "order_status_form", "order_id", ORDER.lower().replace("-", " "), crm=crm
    )
    events, messages = await run(ValidateOrderStatusForm(), tracker, domain)
    assert slot_events(events) == {"order_id": ORDER, "requested_slot": None}
    assert messages == []
    status_events, replies = await run(
        ActionOrderStatus(), make_tracker("ok", crm=crm, slots={"order_id": ORDER}), domain
    )
    assert replies[0]["response"] == "utter_order_status"


async def test_anonymous_visitor_is_asked_for_the_email(crm_db: str, domain: dict) -> None:
    tracker = form_tracker("order_status_form", "order_id", ORDER)
    events, _ = await run(ValidateOrderStatusForm(), tracker, domain)
    # No requested_slot event: Rasa's form goes on to ask the next domain slot, the email.
    assert slot_events(events) == {"order_id": ORDER}


async def test_bad_order_id_and_bad_email_are_re_asked(crm_db: str, domain: dict) -> None:
    events, messages = await run(
        ValidateOrderStatusForm(),
        form_tracker("order_status_form", "order_id", "my order"),
        domain,
    )
    assert slot_events(events)["order_id"] is None
    assert responses(messages) == ["utter_invalid_order_id"]
    events, messages = await run(
        ValidateOrderStatusForm(),
        form_tracker("order_status_form", "email", "jane at acme", slots={"order_id": ORDER}),
        domain,
    )
    assert slot_events(events)["email"] is None
    assert responses(messages) == ["utter_invalid_email"]


async def test_ticket_status_by_number_and_email(crm_db: str, domain: dict) -> None:
    events, _ = await run(
        ValidateTicketStatusForm(),
        form_tracker("ticket_status_form", "ticket_id", "tck 1001"),
        domain,
    )
    assert slot_events(events) == {"ticket_id": TICKET}
    tracker = make_tracker("x", slots={"ticket_id": TICKET, "email": EMAIL})
    events, messages = await run(ActionTicketStatus(), tracker, domain)
    with session_scope() as session:
        ticket = find_ticket_for_customer(session=session, number=TICKET, email=EMAIL)
        assert ticket is not None
        status, subject = ticket.status.value, ticket.subject
    assert messages[0]["response"] == "utter_ticket_status"
    assert (messages[0]["status"], messages[0]["subject"]) == (status, subject)
    _, messages = await run(
        ActionTicketStatus(),
        make_tracker("x", slots={"ticket_id": TICKET, "email": "a@b.example"}),
        domain,
    )
    assert responses(messages) == ["utter_ticket_not_found"]


async def test_open_ticket_writes_a_ticket_visitors_can_find(crm_db: str, domain: dict) -> None:
    events, messages = await run(
        ValidateOpenTicketForm(), form_tracker("open_ticket_form", "ticket_subject", "ok"), domain
    )
    assert slot_events(events)["ticket_subject"] is None
    assert responses(messages) == ["utter_invalid_ticket_text"]
    slots = {
        "ticket_subject": "Scanner broken",
        "ticket_description": "It beeps and stops.",
        "email": "visitor@example.org",
    }
    events, messages = await run(ActionOpenTicket(), make_tracker("x", slots=slots), domain)
    assert messages[0]["response"] == "utter_ticket_opened"
    number = messages[0]["ticket_id"]
    with session_scope() as session:
        ticket = find_ticket_for_customer(
            session=session, number=number, email="visitor@example.org"
        )
        assert ticket is not None and ticket.subject == "Scanner broken"
    assert slot_events(events) == {"ticket_subject": None, "ticket_description": None}


async def test_signed_in_customer_opens_a_ticket_without_giving_an_email(
    crm_db: str, domain: dict
) -> None:
    crm = customer_identity()
    tracker = form_tracker(
        "open_ticket_form",
        "ticket_description",
        "The app crashes on start",
        crm=crm,
        slots={"ticket_subject": "Crash"},
    )
    events, _ = await run(ValidateOpenTicketForm(), tracker, domain)
    assert slot_events(events)["requested_slot"] is None


async def test_lead_form_validates_and_creates_a_lead(crm_db: str, domain: dict) -> None:
    tracker = form_tracker("lead_form", "name", "my name is Priya Patel")
    events, _ = await run(ValidateLeadForm(), tracker, domain)
    assert slot_events(events)["name"] == "Priya Patel"
    events, messages = await run(
        ValidateLeadForm(), form_tracker("lead_form", "name", "123"), domain
    )
    assert slot_events(events)["name"] is None and responses(messages) == ["utter_invalid_name"]
    events, _ = await run(
        ValidateLeadForm(), form_tracker("lead_form", "company", "I work at Pinecrest Labs"), domain
    )
    assert slot_events(events)["company"] == "Pinecrest Labs"
    slots = {
        "name": "Priya Patel",
        "email": "priya@pinecrest.example",
        "company": "Pinecrest Labs",
        "need": "A CRM for 30 sales people",
    }
    events, messages = await run(ActionCreateLead(), make_tracker("x", slots=slots), domain)
    assert messages[0]["response"] == "utter_lead_created"
    with session_scope() as session:
        lead = session.scalars(select(Lead).where(Lead.email == "priya@pinecrest.example")).one()
        assert (lead.company, lead.need, lead.source) == (
            "Pinecrest Labs",
            "A CRM for 30 sales people",
            "web_chat",
        )
    assert slot_events(events) == {"name": None, "company": None, "need": None, "product": None}


async def test_a_product_named_earlier_goes_into_the_leads_need(crm_db: str, domain: dict) -> None:
    slots = {
        "name": "Ana Silva",
        "email": "ana@contoso.example",
        "company": "Contoso",
        "need": "Six of them for our warehouse",
        "product": "label printer LP-4",
    }
    await run(ActionCreateLead(), make_tracker("x", slots=slots), domain)
    repeated = {**slots, "email": "ana2@contoso.example", "need": "A Label Printer LP-4 please"}
    await run(ActionCreateLead(), make_tracker("x", slots=repeated), domain)
    with session_scope() as session:
        rows = session.execute(select(Lead.email, Lead.need).where(Lead.company == "Contoso"))
        needs = dict(rows.tuples().all())
    assert needs == {
        "ana@contoso.example": "Six of them for our warehouse (product: label printer LP-4)",
        "ana2@contoso.example": "A Label Printer LP-4 please",
    }


async def test_handoff_records_a_system_message(crm_db: str, domain: dict) -> None:
    tracker = make_tracker("I want a human", "human_handoff", sender_id="web-handoff-1")
    _, messages = await run(ActionHumanHandoff(), tracker, domain)
    assert responses(messages) == ["utter_handoff"]
    with session_scope() as session:
        conversation = session.scalars(
            select(Conversation).where(Conversation.external_id == "web-handoff-1")
        ).one()
        texts = session.scalars(
            select(Message.text).where(Message.conversation_id == conversation.id)
        ).all()
    assert texts == ["Handoff requested (customer_request)"]
