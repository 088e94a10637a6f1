"""Helpers for the bot tests: real `Tracker`s, demo identities, result accessors.

Imported by the test modules as `bot_support` (pytest puts this folder on `sys.path`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from crm_store.db import session_scope
from crm_store.demo import DEMO_CREDENTIALS
from crm_store.queries.users import get_user_by_email

BOT_DIR = Path(__file__).resolve().parents[2] / "bot"


def load_yaml(path: Path) -> Any:
    """Parse one YAML file (safe loader: the files hold no tags)."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def identity(email: str, channel: str = "rep", conversation_id: int | None = None) -> dict:
    """The `metadata["crm"]` the channels would send for the demo user with `email`."""
    with session_scope() as session:
        user = get_user_by_email(session=session, email=email)
        assert user is not None, email
        return {
            "role": str(user.role),
            "user_id": user.id,
            "team_id": user.team_id,
            "contact_id": user.contact_id,
            "email": user.email,
            "channel": channel,
            "conversation_id": conversation_id,
        }


def rep_identity() -> dict:
    """Alice: owns Acme Corp, Acme Logistics and Northwind Traders."""
    return identity(DEMO_CREDENTIALS.rep_email)


def customer_identity() -> dict:
    """The signed-in demo customer who placed `DEMO_CREDENTIALS.customer_order_number`."""
    return identity(DEMO_CREDENTIALS.customer_email, channel="web")


def entity(text: str, name: str, value: str) -> dict[str, Any]:
    """An extracted entity as Rasa reports it, located in `text` when it occurs there."""
    start = text.lower().find(value.lower())
    if start < 0:
        return {"entity": name, "value": value}
    return {"entity": name, "value": value, "start": start, "end": start + len(value)}


def make_tracker(
    text: str = "",
    intent: str = "greet",
    *,
    entities: list[dict[str, Any]] | None = None,
    slots: dict[str, Any] | None = None,
    crm: dict[str, Any] | None = None,
    active_loop: str | None = None,
    events: list[dict[str, Any]] | None = None,
    sender_id: str = "web-1",
) -> Tracker:
    """A tracker whose latest user message is `text` with the given NLU result and identity."""
    metadata = {"crm": crm} if crm is not None else {}
    return Tracker(
        sender_id=sender_id,
        slots=dict(slots or {}),
        latest_message={
            "text": text,
            "intent": {"name": intent, "confidence": 0.9},
            "entities": entities or [],
            "metadata": metadata,
        },
        events=list(events or []),
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )


async def run(
    action: Action, tracker: Tracker, domain: dict[str, Any]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Run `action` and return (events, messages sent)."""
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, domain)
    return events, dispatcher.messages


def slot_events(events: list[dict[str, Any]]) -> dict[str, Any]:
    """The `SlotSet` events as {slot: value} (last one wins)."""
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def responses(messages: list[dict[str, Any]]) -> list[str]:
    """The response names the action asked for, in order."""
    return [m.get("response") for m in messages]
