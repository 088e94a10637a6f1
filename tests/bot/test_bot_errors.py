"""A broken database never escapes an action: the person gets a polite retry message."""

from __future__ import annotations

from pathlib import Path

import pytest
from bot_support import entity, make_tracker, responses, run, slot_events
from rasa_sdk import Action

from bot.actions.accounts import ActionAccountSummary
from bot.actions.activities import ActionCreateTask, ActionLogCall
from bot.actions.handoff import ActionHumanHandoff
from bot.actions.leads import ActionCreateLead
from bot.actions.orders import ActionOrderStatus, ValidateOrderStatusForm
from bot.actions.predictions import ActionAtRiskAccounts
from bot.actions.tickets import ActionOpenTicket, ActionTicketStatus

REP = {"role": "rep", "user_id": 1, "team_id": 1, "contact_id": None,
       "email": "alice@crm-demo.example", "channel": "rep", "conversation_id": 5}  # fmt: skip
SLOTS = {"order_id": "ORD-100001", "ticket_id": "TCK-1001", "email": "a@b.example",
         "ticket_subject": "Broken", "ticket_description": "It broke.", "name": "Jane",
         "company": "Initech", "need": "A CRM"}  # fmt: skip


@pytest.fixture
def broken_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An empty SQLite file: every query fails with "no such table"."""
    monkeypatch.setenv("CRM_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.sqlite3'}")


@pytest.mark.parametrize(
    "action",
    [ActionAccountSummary(), ActionLogCall(), ActionCreateTask(), ActionAtRiskAccounts(),
     ActionOrderStatus(), ActionTicketStatus(), ActionOpenTicket(), ActionCreateLead(),
     ActionHumanHandoff()],
    ids=lambda a: a.name(),
)  # fmt: skip
async def test_database_errors_become_a_polite_message(
    broken_db: None, domain: dict, action: Action
) -> None:
    text = "log a call with Acme Corp: hello"
    tracker = make_tracker(
        text, "log_call", crm=REP, slots=SLOTS, entities=[entity(text, "account", "Acme Corp")]
    )
    events, messages = await run(action, tracker, domain)
    assert responses(messages) == ["utter_something_went_wrong"]
    assert events == []


async def test_form_validation_survives_a_database_error(broken_db: None, domain: dict) -> None:
    tracker = make_tracker(
        "ORD-100001", "inform", crm=REP, active_loop="order_status_form",
        slots={"order_id": "ORD-100001", "requested_slot": "order_id"},
        events=[{"event": "slot", "name": "order_id", "value": "ORD-100001"}],
    )  # fmt: skip
    events, messages = await run(ValidateOrderStatusForm(), tracker, domain)
    # The visibility check failed, so the form simply goes on to ask for the email.
    assert slot_events(events) == {"order_id": "ORD-100001"}
    assert messages == []
