"""Rep write actions: log a call, log a note, create a task. Each writes a real row."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from bot.actions.accounts import AccountRequest, ChosenAccount, latest_entity_text
from bot.actions.base import Events
from bot.actions.parsing import note_body, parse_due, task_title
from crm_store.models import utcnow
from crm_store.queries.activities import create_task, log_activity
from crm_store.scope import Scope

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

    def act(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        session: Session,
        scope: Scope,
        account: ChosenAccount | None,
        text: str,
    ) -> Events:
        """Write the activity row and confirm what was logged."""
        assert account is not None
        body = note_body(text, latest_entity_text(tracker, "account"))
        subject = _subject(body) or f"Call with {account.name}"
        log_activity(
            session=session, scope=scope, account_id=account.account_id,
            kind="call", subject=subject, body=body,
        )  # fmt: skip
        dispatcher.utter_message(
            response="utter_activity_logged", kind="call", account=account.name, subject=subject
        )
        return []


class ActionLogNote(AccountRequest):
    """Adds a note to the account; asks for the text when the message had none."""

    intent = "log_note"

    def name(self) -> str:
        """Name used in domain.yml."""
        return "action_log_note"

    def act(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        session: Session,
        scope: Scope,
        account: ChosenAccount | None,
        text: str,
    ) -> Events:
        """Write the note, or explain how to give its text."""
        assert account is not None
        body = note_body(text, latest_entity_text(tracker, "account"))
        if not body:
            dispatcher.utter_message(response="utter_ask_note_text", account=account.name)
            return []
        subject = _subject(body)
        log_activity(
            session=session, scope=scope, account_id=account.account_id,
            kind="note", subject=subject, body=body,
        )  # fmt: skip
        dispatcher.utter_message(
            response="utter_activity_logged", kind="note", account=account.name, subject=subject
        )
        return []


class ActionCreateTask(AccountRequest):
    """Creates a task for the rep, on an account when one is named."""

    intent = "create_task"
    account_optional = True

    def name(self) -> str:
        """Name used in domain.yml."""
        return "action_create_task"

    def act(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        session: Session,
        scope: Scope,
        account: ChosenAccount | None,
        text: str,
    ) -> Events:
        """Work out the title and due date, write the task and confirm both."""
        due_at = parse_due(tracker.get_slot("due"), utcnow())
        title = task_title(
            text, latest_entity_text(tracker, "due"), account.name if account else None
        )
        create_task(
            session=session, scope=scope, title=title, due_at=due_at,
            account_id=account.account_id if account else None,
        )  # fmt: skip
        dispatcher.utter_message(
            response="utter_task_created", title=title, due_on=f"{due_at:%a %d %b %Y, %H:%M} UTC"
        )
        return [SlotSet("due", None)]
