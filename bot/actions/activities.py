"""Rep write actions: log a call, log a note, create a task. Each writes a real row."""

from __future__ import annotations

from rasa_sdk.events import SlotSet

from bot.actions.accounts import AccountRequest, AccountTurn, latest_entity_text
from bot.actions.base import Events
from bot.actions.parsing import note_body, parse_due, task_title
from crm_store.models import utcnow
from crm_store.queries.activities import create_task, log_activity

SUBJECT_CHARS = 120


def _subject(body: str) -> str:
    """The first line of the note, cut at a word boundary when long."""
    first = body.splitlines()[0] if body else ""
    if len(first) <= SUBJECT_CHARS:
        return first
    return first[:SUBJECT_CHARS].rsplit(" ", 1)[0] + "…"


class ActionLogCall(AccountRequest):
    """Logs a call on the account; the text after ":" becomes the call notes."""

    intent = "log_call"

    def name(self) -> str:
        """Name used in domain.yml."""
        return "action_log_call"

    def act(self, turn: AccountTurn) -> Events:
        """Write the activity row and confirm what was logged."""
        assert turn.account is not None
        body = note_body(turn.text, latest_entity_text(turn.tracker, "account"))
        subject = _subject(body) or f"Call with {turn.account.name}"
        log_activity(
            session=turn.session, scope=turn.scope, account_id=turn.account.account_id,
            kind="call", subject=subject, body=body,
        )  # fmt: skip
        turn.dispatcher.utter_message(
            response="utter_activity_logged",
            kind="call",
            account=turn.account.name,
            subject=subject,
        )
        return []


class ActionLogNote(AccountRequest):
    """Adds a note to the account; asks for the text when the message had none."""

    intent = "log_note"

    def name(self) -> str:
        """Name used in domain.yml."""
        return "action_log_note"

    def act(self, turn: AccountTurn) -> Events:
        """Write the note, or explain how to give its text."""
        assert turn.account is not None
        body = note_body(turn.text, latest_entity_text(turn.tracker, "account"))
        if not body:
            turn.dispatcher.utter_message(response="utter_ask_note_text", account=turn.account.name)
            return []
        subject = _subject(body)
        log_activity(
            session=turn.session, scope=turn.scope, account_id=turn.account.account_id,
            kind="note", subject=subject, body=body,
        )  # fmt: skip
        turn.dispatcher.utter_message(
            response="utter_activity_logged",
            kind="note",
            account=turn.account.name,
            subject=subject,
        )
        return []


class ActionCreateTask(AccountRequest):
    """Creates a task for the rep, on an account when one is named."""

    intent = "create_task"
    account_optional = True

    def name(self) -> str:
        """Name used in domain.yml."""
        return "action_create_task"

    def act(self, turn: AccountTurn) -> Events:
        """Work out the title and due date, write the task and confirm both."""
        due_at = parse_due(turn.tracker.get_slot("due"), utcnow())
        title = task_title(
            turn.text,
            latest_entity_text(turn.tracker, "due"),
            turn.account.name if turn.account else None,
        )
        create_task(
            session=turn.session, scope=turn.scope, title=title, due_at=due_at,
            account_id=turn.account.account_id if turn.account else None,
        )  # fmt: skip
        turn.dispatcher.utter_message(
            response="utter_task_created", title=title, due_on=f"{due_at:%a %d %b %Y, %H:%M} UTC"
        )
        return [SlotSet("due", None)]
